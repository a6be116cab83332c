"""`study shapes` shows what `study run` trains: the same per-dataset adaptations, stride notes, errors."""

import re

import pytest
from click.testing import CliRunner

from study.cli.main import cli
from study.declare.builtin import builtin_study
from study.declare.spec import Profile
from study.plan.trials import DatasetInfo, plan_study

PROFILE = Profile("test", seeds=1, epochs=None, train_size=None, test_size=None)


def _totals(args):
    result = CliRunner().invoke(cli, ["shapes", *args], standalone_mode=False)
    assert result.exception is None, result.output
    return result.output, [
        int(n.replace(",", "")) for n in re.findall(r"total ([\d,]+) params", result.output)
    ]


@pytest.mark.parametrize(
    "args,dataset",
    [
        (["--input-shape", "32,32,3"], "cifar10"),
        (["--dataset", "cifar10"], "cifar10"),
        ([], "mnist"),
    ],
)
def test_shapes_of_every_stride_value_match_the_trials_run_would_train(args, dataset):
    study = builtin_study()
    infos = {
        name: DatasetInfo(
            name, (32, 32, 3) if name == "cifar10" else (28, 28, 1), 10, "f", None, None, 0
        )
        for name in ("mnist", "cifar10")
    }
    trials, rows = plan_study(study, PROFILE, infos)
    per_value = {
        r.value_index: trials[r.trial_key].params
        for r in rows
        if r.experiment == "stride" and r.dataset == dataset
    }
    expected = [per_value[index] for index in sorted(per_value)]
    output, totals = _totals([*args, "--experiment", "stride"])
    assert "impossible" not in output and f"{dataset}'s adaptations applied" in output
    assert totals == expected


def test_stride_above_kernel_is_shown_as_a_note(tmp_path):
    study = tmp_path / "s.toml"
    study.write_text(
        'datasets = ["mnist"]\n[baseline]\nkernel_size = 1\n[[experiments]]\nname = "stride"\n'
        'parameter = "stride"\nvalues = [1, 2]\n'
    )
    output, totals = _totals(["--study", str(study), "--experiment", "stride"])
    assert "note: stride 2 > kernel 1" in output and len(totals) == 2


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--dataset", "imagenet"],
            "--dataset 'imagenet' is not used here; accepted: mnist, cifar10",
        ),
        (["--input-shape", "32,3"], "--input-shape '32,3' must have three numbers H,W,C"),
        (["--input-shape", "a,b,c"], "--input-shape 'a,b,c' is not H,W,C integers"),
    ],
)
def test_bad_shapes_options_are_one_line(args, message):
    result = CliRunner().invoke(cli, ["shapes", *args])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {message}")
    assert len(result.stderr.splitlines()) == 1
