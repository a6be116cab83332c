"""Learning-rate schedules, input scaling and the budget check (issue 22).

The fast tests check the numbers (schedules against their formulas, scaling against statistics of the training
images only, trial keys of old stores, study files); the ones marked ``train`` check that a cached graph restarts
the schedule with every trial and gives the numbers of a fresh process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

import numpy as np
import pytest
from synthetic import PROFILE, make_store

from study.analyse.budget_check import budget_checks
from study.analyse.claims import check_claims
from study.analyse.comparisons import analyse
from study.declare.claims import AnyDiffers, Differs, LargestStable
from study.declare.config import INPUT_SCALINGS, SCHEDULES, Settings
from study.declare.spec import Profile, Study, Value, experiment
from study.declare.studyfile import parse_study
from study.errors import ConfigError
from study.plan.data import Dataset, Location, input_statistics, scale_inputs
from study.plan.schedules import epoch_rates, rate_at, steps_per_epoch
from study.plan.trials import (
    TRAINER_VERSION,
    DatasetInfo,
    TrialSpec,
    graph_key,
    plan_study,
    trial_key,
)
from study.report.claim_words import reason_text

INFO = DatasetInfo("mnist", (28, 28, 1), 10, "f" * 16, 1000, 300, 0)


# --- schedules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("total", [1, 7, 375])
def test_each_schedule_follows_its_formula_over_the_trials_own_steps(total):
    t = np.arange(total)
    assert np.allclose(rate_at("constant", 0.05, t, total), 0.05)
    assert np.allclose(rate_at("linear", 0.05, t, total), 0.05 * (1 - t / total))
    assert np.allclose(
        rate_at("cosine", 0.05, t, total), 0.05 * 0.5 * (1 + np.cos(np.pi * t / total))
    )
    expected_step = np.where(t < total / 2, 0.05, np.where(t < 0.75 * total, 0.005, 0.0005))
    assert np.allclose(rate_at("step", 0.05, t, total), expected_step)
    for schedule in (
        "linear",
        "cosine",
    ):  # they start at the rate and reach zero at the end of the budget
        assert rate_at(schedule, 0.05, 0, total) == pytest.approx(0.05)
        assert rate_at(schedule, 0.05, total, total) == pytest.approx(0.0, abs=1e-12)
        assert np.all(np.diff(rate_at(schedule, 0.05, t, total)) <= 0)


def test_epoch_rates_join_into_the_whole_trials_schedule():
    steps = steps_per_epoch(1000, 32)
    assert steps == 32 and steps_per_epoch(1024, 32) == 32 and steps_per_epoch(1, 32) == 1
    whole = rate_at("linear", 0.1, np.arange(3 * steps), 3 * steps).astype(np.float32)
    joined = np.concatenate(
        [epoch_rates("linear", 0.1, 3 * steps, e * steps, steps) for e in range(3)]
    )
    assert joined.dtype == np.float32 and np.array_equal(joined, whole)
    # a batch size or an epoch count of its own gives a budget of its own: the same step, another rate
    assert rate_at("linear", 0.1, 31, 3 * steps) != rate_at(
        "linear", 0.1, 31, 3 * steps_per_epoch(1000, 16)
    )


def test_an_unknown_schedule_or_scaling_is_one_line_naming_the_accepted_ones():
    with pytest.raises(
        ConfigError, match="unknown schedule 'exp'; accepted: constant, linear, cosine, step"
    ):
        Settings(schedule="exp")
    with pytest.raises(
        ConfigError, match="unknown input_scaling 'zscore'; accepted: unit, center, standardize"
    ):
        Settings().with_values(input_scaling="zscore")


# --- input scaling ---------------------------------------------------------------------------------------


def _dataset(x_train, x_test) -> Dataset:
    n, m = len(x_train), len(x_test)
    return Dataset(
        "toy",
        Location("toy", "/nowhere", "idx"),
        x_train,
        np.zeros(n, np.int32),
        x_test,
        np.zeros(m, np.int32),
        ("a",),
        (n, m),
        "fp",
    )


def test_scaling_uses_the_training_images_statistics_only():
    rng = np.random.default_rng(0)
    x_train = rng.uniform(0, 1, (50, 4, 4, 3)).astype(np.float32) * np.array(
        [1.0, 0.5, 0.2], np.float32
    )
    x_test = rng.uniform(0, 1, (20, 4, 4, 3)).astype(np.float32)
    mean, std = input_statistics(x_train)
    assert np.allclose(mean, x_train.reshape(-1, 3).mean(axis=0)) and np.allclose(
        std, x_train.reshape(-1, 3).std(axis=0)
    )

    standardized = scale_inputs(_dataset(x_train, x_test), "standardize")
    assert np.allclose(standardized.x_train.reshape(-1, 3).mean(axis=0), 0, atol=1e-5)
    assert np.allclose(standardized.x_train.reshape(-1, 3).std(axis=0), 1, atol=1e-4)
    assert np.allclose(standardized.x_test, (x_test - mean) / std, atol=1e-5)
    # other test images change nothing of the training side: the statistics never see them
    other = scale_inputs(_dataset(x_train, x_test * 0 + 1), "standardize")
    assert np.array_equal(other.x_train, standardized.x_train)

    centred = scale_inputs(_dataset(x_train, x_test), "center")
    assert np.allclose(centred.x_train.reshape(-1, 3).mean(axis=0), 0, atol=1e-6)
    assert np.allclose(centred.x_test, x_test - mean, atol=1e-6)
    unit = _dataset(x_train, x_test)
    assert scale_inputs(unit, "unit") is unit
    assert (
        standardized.fingerprint == unit.fingerprint
    )  # the data is the same; the key holds the scaling


def test_a_constant_channel_is_centred_not_divided_by_zero():
    x = np.full((5, 2, 2, 1), 0.3, np.float32)
    scaled = scale_inputs(_dataset(x, x), "standardize")
    assert np.all(np.isfinite(scaled.x_train)) and np.allclose(scaled.x_train, 0)


# --- trial keys --------------------------------------------------------------------------------------------


def _legacy_key(settings: Settings, model, dataset: DatasetInfo, seed: int) -> str:
    """The key as stores written before the schedule and scaling existed computed it."""
    old = {
        k: v
        for k, v in settings.to_dict().items()
        if k not in ("schedule", "input_scaling", "validation")
    }
    blob = json.dumps(
        {
            "settings": old,
            "model": model.to_dict(),
            "dataset": dataset.name,
            "fingerprint": dataset.fingerprint,
            "train_size": dataset.train_size,
            "test_size": dataset.test_size,
            "data_seed": dataset.data_seed,
            "seed": seed,
            "trainer": TRAINER_VERSION,
        },
        sort_keys=True,
        default=list,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def test_old_trials_keep_their_keys_and_new_settings_get_their_own():
    settings = Settings(learning_rate=0.05, epochs=3)
    model = settings.model_config(INFO.input_shape)
    assert trial_key(settings, model, INFO, 1) == _legacy_key(settings, model, INFO, 1)
    keys = {
        trial_key(settings.with_values(schedule=s, input_scaling=i), model, INFO, 1)
        for s in SCHEDULES
        for i in INPUT_SCALINGS
    }
    assert len(keys) == len(SCHEDULES) * len(INPUT_SCALINGS)


def test_a_stored_configuration_without_the_new_settings_reads_as_constant_and_unit():
    study = Study(
        "s",
        Settings(epochs=3),
        (experiment("k", "kernel_size", [3, 5], datasets=("mnist",)),),
        seeds=(1,),
    )
    trials, _ = plan_study(study, Profile("p", None, None, None, None), {"mnist": INFO})
    spec = next(iter(trials.values())).spec
    stored = spec.to_dict()
    for name in ("schedule", "input_scaling"):
        del stored["settings"][name]
    read = TrialSpec.from_dict(stored)
    assert (read.settings.schedule, read.settings.input_scaling) == (
        "constant",
        "unit",
    ) and read == spec


# --- study files ---------------------------------------------------------------------------------------------


def test_a_study_file_sets_schedule_and_scaling_in_its_baseline_and_as_values():
    study = parse_study(
        {
            "name": "recipe",
            "datasets": ["mnist"],
            "seeds": [1, 2],
            "baseline": {
                "learning_rate": 0.05,
                "schedule": "linear",
                "input_scaling": "standardize",
                "epochs": 3,
            },
            "experiments": [
                {
                    "name": "schedule",
                    "parameter": "schedule",
                    "values": ["constant", "linear", "step"],
                },
                {
                    "name": "scaling",
                    "parameter": "input_scaling",
                    "values": ["unit", "standardize"],
                },
            ],
        }
    )
    trials, rows = plan_study(study, Profile("p", None, None, None, None), {"mnist": INFO})
    used = {(r.experiment, r.value): trials[r.trial_key].settings for r in rows}
    assert (
        used[("schedule", "step")].schedule == "step"
        and used[("schedule", "step")].input_scaling == "standardize"
    )
    assert (
        used[("scaling", "unit")].input_scaling == "unit"
        and used[("scaling", "unit")].schedule == "linear"
    )
    baseline = {r.value for r in rows if r.experiment == "schedule" and r.is_baseline}
    assert baseline == {"linear"}
    for bad, accepted in (
        ({"schedule": "warmup"}, "constant, linear, cosine, step"),
        ({"input_scaling": 255}, "unit, center, standardize"),
    ):
        with pytest.raises(ConfigError, match=f"accepted: {accepted}"):
            parse_study(
                {
                    "name": "bad",
                    "datasets": ["mnist"],
                    "baseline": bad,
                    "experiments": [{"name": "k", "parameter": "kernel_size", "values": [3]}],
                }
            )


# --- the budget check and claims about final accuracy --------------------------------------------------------


def _checked_study(margins: dict[str, float]) -> Study:
    """A study that declares 100 epochs, trains 5 (PROFILE) and checks its budget with a 3x longer run."""
    claims = (
        Differs(
            "Kernel 1 is worse on MNIST.",
            "kernel_size",
            ("mnist",),
            values=("1",),
            direction="worse",
        ),
        AnyDiffers("Kernel size matters on CIFAR-10.", "kernel_size", ("cifar10",)),
        Differs(
            "Kernel 1 is worse on both.",
            "kernel_size",
            ("mnist", "cifar10"),
            values=("1",),
            direction="worse",
        ),
        LargestStable(
            "Kernel 3 is the largest that learns.",
            "kernel_size",
            ("mnist", "cifar10"),
            values=("3",),
        ),
    )
    return Study(
        "checked",
        Settings(epochs=100),
        (
            experiment("kernel_size", "kernel_size", [1, 3, 5]),
            experiment("epochs", "epochs", [Value("1x", {}), Value("3x", {"epochs": 300})]),
        ),
        seeds=(1, 2, 3, 4),
        claims=claims,
        margins=margins,
        budget_check="epochs",
    )


def test_claims_about_final_accuracy_are_judged_only_where_the_budget_check_passes(tmp_path):
    study = _checked_study({"mnist": 6.0, "cifar10": 6.0})
    with make_store(tmp_path / "s.sqlite", study, missing=()) as store:
        analysis = analyse(store, study.name, PROFILE.name)
    checks = budget_checks(analysis)
    assert (checks["mnist"].epochs, checks["mnist"].longer_epochs) == (5, 15)
    assert (
        checks["mnist"].passed and not checks["cifar10"].passed
    )  # the longer run gains 8 pp on CIFAR-10 only
    assert checks["cifar10"].comparison.diff == pytest.approx(0.08, abs=0.03)
    findings = {f.claim.text: f for f in check_claims(analysis)}
    mnist, cifar, both, stable = (findings[c.text] for c in study.claims)
    assert mnist.testable and mnist.verdict == "supported" and mnist.judged_at == "final"
    for finding in (
        cifar,
        both,
    ):  # a CIFAR-10 dataset whose check failed: not testable, what it read kept
        assert not finding.testable and finding.verdict == "not testable at this budget"
        assert finding.at_budget == "supported" and finding.gap is not None
        assert [d for d, _ in finding.gap.checks] == ["cifar10"] and not finding.gap.no_check
        assert finding.gap.checks[0][1] == checks["cifar10"]
        reason = reason_text(finding)
        assert "budget check" in reason and "cifar10" in reason and "reads supported" in reason
    assert stable.testable and stable.judged_at == "budgets"  # about stability at its own budget


def test_without_a_budget_check_a_short_budget_tests_no_final_accuracy_claim(tmp_path):
    study = dataclasses.replace(_checked_study({"mnist": 6.0, "cifar10": 6.0}), budget_check="")
    with make_store(tmp_path / "s.sqlite", study, missing=()) as store:
        findings = check_claims(analyse(store, study.name, PROFILE.name))
    assert [f.testable for f in findings] == [False, False, False, True]
    assert findings[0].gap is not None and findings[0].gap.no_check
    assert findings[0].at_budget == "supported" and "no budget check" in reason_text(findings[0])


def test_a_study_file_declares_its_budget_check():
    raw = {
        "name": "checked",
        "datasets": ["mnist"],
        "budget_check": "epochs",
        "experiments": [
            {"name": "k", "parameter": "kernel_size", "values": [3, 5]},
            {
                "name": "epochs",
                "parameter": "epochs",
                "values": [{"label": "1x", "epochs": 100}, {"label": "3x", "epochs": 300}],
            },
        ],
    }
    study = parse_study(raw)
    assert study.budget_check == "epochs"
    _, rows = plan_study(study, Profile("p", 1, 3, None, None), {"mnist": INFO})
    assert {r.value for r in rows if r.experiment == "epochs" and r.is_baseline} == {"1x"}
    with pytest.raises(
        ConfigError, match="budget_check names no experiment: 'epoch'; accepted: k, epochs"
    ):
        parse_study({**raw, "budget_check": "epoch"})


def test_a_budget_check_must_vary_epochs_over_two_values():
    study = _checked_study({})
    with pytest.raises(ConfigError, match="budget_check names no experiment: 'epoch'"):
        dataclasses.replace(study, budget_check="epoch")
    with pytest.raises(ConfigError, match="must vary 'epochs'"):
        dataclasses.replace(study, budget_check="kernel_size")
    shorter = experiment("epochs", "epochs", [Value("1x", {}), Value("half", {"epochs": 50})])
    with pytest.raises(
        ConfigError,
        match=r"must have the baseline's 100 epochs as its first value and more as its "
        r"second, got \[100, 50\]",
    ):
        dataclasses.replace(study, experiments=(study.experiments[0], shorter))
    assert Study.from_dict(study.to_dict()).budget_check == "epochs"


# --- training: the schedule restarts with every trial ------------------------------------------------------

SMALL = Settings(
    epochs=2,
    conv_filters=(4, 6),
    dense_units=16,
    learning_rate=0.1,
    schedule="linear",
    input_scaling="standardize",
)


def _specs(baseline: Settings) -> list[TrialSpec]:
    from study.run.runner import dataset_infos

    study = Study(
        "t",
        baseline,
        (experiment("lr", "learning_rate", [baseline.learning_rate], datasets=("mnist",)),),
        seeds=(1, 2),
        baseline_seeds=2,
    )
    infos, _ = dataset_infos(study, Profile("test", None, None, None, None))
    trials, _ = plan_study(study, Profile("test", None, None, None, None), infos)
    return [t.spec for t in trials.values()]


def _numbers(result):
    return [(e["loss"], e["accuracy"], e["val_loss"], e["val_accuracy"]) for e in result.epochs]


@pytest.mark.train
def test_a_cached_graph_restarts_the_schedule_and_gives_the_numbers_of_a_fresh_process(data_dir):
    import subprocess
    import sys

    from study.train import fastfit
    from study.train.worker import train_trial

    first = _specs(SMALL)[0]
    longer = _specs(SMALL.with_values(epochs=3, batch_size=16))[
        1
    ]  # same graph, its own budget of steps
    here_first = _numbers(train_trial(first, threads=1))
    train_trial(longer, threads=1)
    compiled = fastfit._CACHE[
        graph_key(longer.settings, longer.model)
    ]  # this graph (others may be cached)
    from study.plan.data import load_dataset

    steps = steps_per_epoch(
        len(load_dataset("mnist").y_train), 16
    )  # the last step's rate is the one assigned
    assert float(compiled.optimizer.learning_rate.numpy()) == pytest.approx(
        float(epoch_rates("linear", 0.1, 3 * steps, 3 * steps - 1, 1)[0])
    )
    again = _numbers(train_trial(first, threads=1))
    assert again == here_first
    from study.train.worker import init_tensorflow

    threads = init_tensorflow(1)["intra_op_threads"] or None  # this process's (see test_train.py)
    code = (
        "import json, sys; from study.train.worker import train_trial; from study.plan.trials import TrialSpec; "
        f"r = train_trial(TrialSpec.from_dict(json.loads(sys.argv[1])), threads={threads}); "
        "print(json.dumps([(e['loss'], e['accuracy'], e['val_loss'], e['val_accuracy']) for e in r.epochs]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(first.to_dict())], capture_output=True, text=True
    )
    assert [tuple(row) for row in json.loads(out.stdout.strip().splitlines()[-1])] == here_first
    constant = _numbers(train_trial(_specs(SMALL.with_values(schedule="constant"))[0], threads=1))
    assert (
        constant[0] != here_first[0]
    )  # the schedule changes what the trial learns from its first epoch
    assert all(math.isfinite(v) for row in here_first for v in row)


def test_the_report_states_the_budget_check_the_recipe_and_testability(tmp_path):
    import html
    import re

    import pandas as pd

    from study.report.render import build_report

    study = _checked_study({"mnist": 6.0, "cifar10": 6.0})
    make_store(tmp_path / "s.sqlite", study, missing=()).close()
    paths = build_report(tmp_path / "s.sqlite", tmp_path / "out", pdf=False)
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", paths["html"].read_text())))
    assert (
        "Budget check: trained for 15 epochs instead of 5, the baseline's accuracy changes by"
        in text
    )
    assert (
        "the whole interval inside the ±6.0 pp margin: 3 times the epochs would not move MNIST's accuracy"
        in text
    )
    assert "this budget does not reach CIFAR-10's final accuracy" in text
    assert (
        "at learning rate 0.5, constant; inputs pixels / 255" in text
    )  # the synthetic baseline's recipe
    findings = pd.read_csv(paths["findings"])
    assert list(findings["testable"]) == [True, False, False, True]
    assert list(findings["judged_at"]) == ["final", "final", "final", "budgets"]
    assert findings["at_budget"].fillna("").tolist() == ["", "supported", "supported", ""]
    assert (
        "Per-channel mean 0.5 / 0.5 / 0.5 and SD 0.25 / 0.25 / 0.25 of the training images" in text
    )


def test_a_budget_check_passes_on_its_interval_not_on_its_verdict():
    """A longer run that is significantly but slightly better passes (more seeds never make it harder to pass);
    an interval reaching past the margin, a seed that did not learn or no interval fails."""
    from study.analyse.budget_check import BudgetCheck
    from study.analyse.noise import MeanComparison
    from study.analyse.stats import Verdict
    from study.report.wording import check_pairs_text

    def check(low, high, verdict=Verdict.BETTER, failures=0, test="paired t"):
        comparison = MeanComparison(6, 6, (low + high) / 2, low, high, 0.001, 0.001, 5.0, test)
        return BudgetCheck(
            "mnist", "epochs", "3x", 3, 9, verdict, comparison, 0.01, 6, 9, failures
        )

    assert check(0.001, 0.005).passed and check(-0.004, 0.006, Verdict.EQUIVALENT).passed
    assert check(
        -0.008, 0.0099, Verdict.INCONCLUSIVE
    ).passed  # inside, not significant, not yet 'equivalent'
    assert not check(0.006, 0.013).passed and not check(-0.012, 0.002, Verdict.INCONCLUSIVE).passed
    assert not check(0.001, 0.005, failures=1).passed
    assert not check(0.001, 0.005, Verdict.DOES_NOT_LEARN).passed
    assert not check(math.nan, math.nan, Verdict.UNTESTABLE).passed
    assert (
        check_pairs_text(check(0.001, 0.005)) == "6 seed pairs"
        and check_pairs_text(check(0.001, 0.005, test="Welch t")) == "6 and 6 seeds"
    )


def test_a_store_written_before_schedules_and_scaling_renders_with_its_keys(tmp_path):
    """An old store: configurations, study spec and dataset facts without the new settings and statistics. It
    renders, and its trials read as constant/unit (that their keys are today's keys is
    ``test_old_trials_keep_their_keys_and_new_settings_get_their_own``)."""
    import sqlite3

    from study.report.render import build_report
    from study.results.store import Store

    path = tmp_path / "old.sqlite"
    make_store(path).close()
    with sqlite3.connect(path) as db:
        for table in ("trials", "planned"):
            db.execute(
                f"UPDATE {table} SET config = json_remove(config, '$.settings.schedule', "
                "'$.settings.input_scaling')"
            )
        db.execute(
            "UPDATE studies SET spec = json_remove(spec, '$.baseline.schedule', '$.baseline.input_scaling', "
            "'$.datasets.mnist.channel_mean', '$.datasets.mnist.channel_std', "
            "'$.datasets.cifar10.channel_mean', '$.datasets.cifar10.channel_std')"
        )
        stored_keys = {k for (k,) in db.execute("SELECT trial_key FROM trials")}
        assert not any("schedule" in c for (c,) in db.execute("SELECT config FROM trials"))
    with Store(path, create=False) as store:
        analysis = analyse(store)
    assert {(t.settings.schedule, t.settings.input_scaling) for t in analysis.trials.values()} == {
        ("constant", "unit")
    }
    assert analysis.stored.study.baseline.schedule == "constant"
    assert not analysis.stored.datasets["mnist"].channel_mean
    paths = build_report(path, tmp_path / "out", pdf=False)
    text = paths["html"].read_text()
    assert (
        "Per-channel mean" not in text and "constant" in text
    )  # no statistics recorded; the old recipe shown
    with sqlite3.connect(path) as db:
        assert {k for (k,) in db.execute("SELECT trial_key FROM trials")} == stored_keys
