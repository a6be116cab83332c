"""A deliberately hostile study: names with '/', '..', absolute paths, NUL, HTML, mathtext, case twins and
thousands of characters. The report is written, every file it writes lies under --out, and its HTML shows
every name escaped; the figures draw every name literally."""

import os
from pathlib import Path

import pytest
import synthetic
from click.testing import CliRunner
from markupsafe import escape

from study.cli.main import cli
from study.declare.config import Settings
from study.declare.spec import Study, Value, experiment
from study.names import path_name, safe_name
from study.report import figures

LABELS = ("Ba$$in", "_under \\frac{a}{b} ^{x}")  # kernel 3 (vs the baseline 5), baseline 5
DATASET = "../<b>data</b> $x$"


def _experiments(outside: Path) -> tuple[str, ...]:
    return (
        "lr/momentum",
        "../../escape",
        str(outside / "abs"),
        "nul\x00byte",
        "long" * 100,
        "Case",
        "case",
        "</i><script>alert(1)</script>",
        "..",
    )


def hostile_study(outside: Path) -> Study:
    return Study(
        "</title><b>hostile</b> & study",
        Settings(epochs=2),
        tuple(
            experiment(
                name,
                "kernel_size",
                [Value(LABELS[0], {"kernel_size": 3}), Value(LABELS[1], {"kernel_size": 5})],
                datasets=("mnist", DATASET),
            )
            for name in _experiments(outside)
        ),
        seeds=(1, 2),
        claims=(),
    )


@pytest.fixture
def hostile_store(tmp_path, monkeypatch):
    monkeypatch.setitem(synthetic.SHAPES, DATASET, (28, 28, 1))
    monkeypatch.setitem(synthetic.LEVEL, DATASET, 0.8)
    monkeypatch.delitem(synthetic.SHAPES, "cifar10")
    monkeypatch.chdir(tmp_path)  # a relative escape would land here
    store = tmp_path / "store" / "s.sqlite"
    store.parent.mkdir()
    synthetic.make_store(store, hostile_study(tmp_path / "outside"), missing=()).close()
    return store


def _files(root: Path) -> set[Path]:
    return {Path(folder) / name for folder, _, names in os.walk(root) for name in names}


def test_a_hostile_study_renders_with_every_file_under_out_and_every_name_escaped(
    tmp_path, hostile_store, monkeypatch
):
    drawn = []
    close = figures.plt.close
    monkeypatch.setattr(figures.plt, "close", lambda fig: drawn.append(fig) or close(fig))
    before = _files(tmp_path)
    out = tmp_path / "deep" / "out"
    result = CliRunner().invoke(
        cli, ["report", "--store", str(hostile_store), "--out", str(out), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    written = _files(tmp_path) - before
    outside = {p for p in written if out not in p.parents and p.parent != hostile_store.parent}
    assert not outside and not (tmp_path / "outside").exists()
    pngs = sorted(p.name for p in (out / "figures").glob("*.png"))
    names = _experiments(tmp_path / "outside")
    # accuracy, loss and final per experiment (case twins and '..' get figures of their own); one forest plot per
    # dataset (the hostile one included)
    assert len(pngs) == 3 * len(names) + len(("mnist", DATASET))
    assert any(p.startswith("forest_") and p != "forest_mnist.png" for p in pngs)
    assert all(len(p.encode()) < 100 for p in pngs)

    html = (out / "report.html").read_text()
    for text in names + LABELS + (DATASET, "</title><b>hostile</b> & study"):
        assert str(escape(text)) in html, text
    for raw in ("<script>", "</i><", "<b>hostile", "<b>data"):
        assert raw not in html

    texts = [
        t
        for fig in drawn
        for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "_preprocess_math"))
    ]
    shown = {
        t._preprocess_math(t.get_text())[0]
        for t in texts
        if t._preprocess_math(t.get_text())[1] is False
    }
    for label in LABELS:
        assert any(label in s for s in shown), label
    assert not any(
        t._preprocess_math(t.get_text())[1]
        for t in texts
        if "Ba" in t.get_text() or "$x" in t.get_text()
    )


def test_a_hostile_study_renders_a_pdf(tmp_path, hostile_store):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", "--store", str(hostile_store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    "name",
    [
        "..",
        ".",
        "",
        "/",
        "/etc/passwd",
        "a/../../b",
        "nul\x00",
        "x" * 5000,
        "CON",
        "com1",
        "a.",
        ".hidden",
        "-rf",
        "name-deadbeef",
        "\u00e9t\u00e9",
        "\ud800",
    ],
)
def test_a_path_name_is_one_safe_component(tmp_path, name):
    component = path_name(name)
    assert component not in ("", ".", "..") and "/" not in component and "\\" not in component
    assert "\x00" not in component and len(component.encode()) <= 70 and component.isascii()
    assert (tmp_path / component).parent == tmp_path
    (tmp_path / f"{component}_curves.png").write_bytes(b"")  # a legal file name here


def test_ordinary_names_are_kept_and_different_names_never_share_a_file():
    assert [path_name(n) for n in ("kernel_size", "stride_at_lr_0.05", "mnist", "lr=0.1")] == [
        "kernel_size",
        "stride_at_lr_0.05",
        "mnist",
        "lr=0.1",
    ]
    names = [
        "Case",
        "case",
        "CASE",
        "lr/momentum",
        "lr_momentum",
        "lr momentum",
        "a" * 300,
        "a" * 301,
        "..",
        ".",
    ]
    components = [path_name(n) for n in names]
    assert len({c.lower() for c in components}) == len(
        names
    )  # distinct even on a case-insensitive file system
    assert path_name(safe_name("x")) != safe_name("x")  # a name that looks hashed is hashed again


def test_figure_text_is_drawn_literally():
    from matplotlib.text import Text

    for label in ("Ba$$in", "\\frac{a}{b}", "_x", "^{2}", "a\\$b", "$x$", "{", "plain"):
        text = Text(text=figures.literal(label))
        shown, is_math = text._preprocess_math(text.get_text())
        assert not is_math and shown.strip() == label


@pytest.mark.train  # the export imports TensorFlow (the second lane of make test)
def test_a_hostile_study_exports_to_tensorboard_under_out_only(tmp_path, hostile_store):
    pytest.importorskip("tensorflow")
    from study.results.store import Store
    from study.results.tensorboard import export_tensorboard

    before = _files(tmp_path)
    out = tmp_path / "tb"
    with Store(hostile_store, create=False) as store:
        assert export_tensorboard(store, out) > 0
    written = _files(tmp_path) - before
    assert written and all(out in p.parents for p in written if p.parent != hostile_store.parent)
    assert not (tmp_path / "outside").exists()
    assert {p.name for p in out.iterdir() if p.is_dir()} == {"mnist", path_name(DATASET)}
