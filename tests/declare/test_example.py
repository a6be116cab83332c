"""The example study file and the README's "Your own study": every TOML a user may copy parses.

Fast: nothing is loaded or trained (``load_study_file`` and ``parse_study`` only validate).
"""

import re
import tomllib
from pathlib import Path

import pytest

from study.declare.claims import CLAIM_KINDS
from study.declare.example import EXAMPLE, write_example
from study.declare.studyfile import load_study_file, parse_study
from study.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# the kinds the example promises (its header and the README say "four claims")
PROMISED = ("no_effect", "differs", "any_differs", "trend")

# A fragment is completed by this minimal study: its top-level keys go before the fragment (a fragment's own
# top-level keys, e.g. budget_check, then still sit above every table) and its experiment after it. It has
# what the README's fragments name: the "kernel" experiment (values 3, 5, 7, "7 same") on Fashion-MNIST,
# Table 1's 100 epochs (the budget check's first value).
MINIMAL_TOP = 'name = "fragment"\ndatasets = ["fashion_mnist"]\n'
MINIMAL_TABLES = """
[[experiments]]
name = "kernel"
parameter = "kernel_size"
values = [3, 5, 7, {label = "7 same", kernel_size = 7, padding = "same"}]
"""


def your_own_study() -> str:
    """README.md from "### Your own study" to the next heading of its level or above (its #### subsections,
    the two-factor experiments among them, belong to it)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("### Your own study\n")
    rest = re.search(r"^#{1,3} ", text[start + 4 :], flags=re.MULTILINE)
    return text[start : start + 4 + rest.start()] if rest else text[start:]


def toml_blocks() -> list[str]:
    return re.findall(r"^```toml\n(.*?)^```", your_own_study(), flags=re.MULTILINE | re.DOTALL)


def is_whole_study(block: str) -> bool:
    """How a block is told from a fragment: a whole study sets the top-level ``name`` (every whole study in
    the README starts with it); anything else, e.g. a lone [[claims]] table, is a fragment."""
    return "name" in tomllib.loads(block)


def test_example_parses_with_a_claim_of_each_promised_kind():
    study = load_study_file(EXAMPLE)
    kinds = [claim.kind for claim in study.claims]
    assert sorted(kinds) == sorted(PROMISED)
    assert study.datasets == ("fashion_mnist",) and study.budget_check == "epochs"
    base = study.baseline
    assert (base.learning_rate, base.schedule, base.input_scaling) == (
        0.05,
        "linear",
        "standardize",
    )
    assert {e.parameter for e in study.experiments} == {"batch_size", "kernel_size", "epochs"}
    assert study.margins == {"fashion_mnist": 1.0}


def test_example_profile_lines_are_a_valid_profile_once_uncommented():
    """The commented-out [profile] at the end is what the README documents: uncommented, it still parses."""
    text = EXAMPLE.read_text(encoding="utf-8")
    tail = text[text.index("# [profile]") :]
    uncommented = "\n".join(line.removeprefix("# ") for line in tail.splitlines())
    parse_study(tomllib.loads(text + "\n" + uncommented), "example with its profile")


def test_readme_section_has_whole_studies_and_fragments():
    blocks = toml_blocks()
    assert len(blocks) >= 8
    assert any(is_whole_study(b) for b in blocks)
    assert any(not is_whole_study(b) for b in blocks)


@pytest.mark.parametrize("index", range(len(toml_blocks())))
def test_every_readme_toml_block_parses(index):
    block = toml_blocks()[index]
    text = block if is_whole_study(block) else MINIMAL_TOP + block + MINIMAL_TABLES
    parse_study(tomllib.loads(text), f"README block {index}")


def test_readme_claims_table_is_the_code():
    """Every test of CLAIM_KINDS has its row: its meaning and its example, as the classes state them."""
    section = your_own_study()
    for kind, cls in CLAIM_KINDS.items():
        row = next(
            (line for line in section.splitlines() if line.startswith(f"| `{kind}` |")), None
        )
        assert row is not None, f"no README row for the test {kind!r}"
        assert cls.meaning in row, kind
        assert f"`{', '.join(cls.example.splitlines())}`" in row, kind
        for key in cls.own_fields():
            assert f"`{key}`" in row, (kind, key)


def test_every_claim_kinds_example_parses():
    """Each class's ``example`` (the README's last column) in a study with the values it names."""
    for kind, cls in CLAIM_KINDS.items():
        own = "\n".join(line for line in cls.example.splitlines())
        datasets = "" if "datasets" in own else 'datasets = ["mnist"]\n'
        text = f"""
name = "claims"
datasets = ["mnist", "cifar10"]

[[experiments]]
name = "kernel"
parameter = "kernel_size"
values = [1, 3, 5, 7]

[[experiments]]
name = "kernel_long"
parameter = "kernel_size"
values = [1, 3, 5, 7]
epochs_factor = 3

[[claims]]
text = "a claim"
experiment = "kernel"
{datasets}{own}
"""
        study = parse_study(tomllib.loads(text), kind)
        assert study.claims[0].kind == kind


def test_write_example_copies_it_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "my_study.toml"
    assert write_example(target) == target
    assert target.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8")
    load_study_file(target)
    target.write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists") as err:
        write_example(target)
    assert "\n" not in str(err.value)
    assert target.read_text(encoding="utf-8") == "mine"


def test_write_example_into_a_missing_folder_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="cannot write") as err:
        write_example(tmp_path / "no" / "such" / "study.toml")
    assert "\n" not in str(err.value)
