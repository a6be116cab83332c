"""Seeds in stages: Pocock's levels, which comparisons get more seeds, and the driver's looks."""

import math

import numpy as np
import pytest
from scipy import stats

from study.analyse.stats import POCOCK_Z, pocock_level
from study.run.execution import Execution


@pytest.mark.parametrize("looks", [2, 3, 4, 5])
def test_pocock_constants_keep_the_overall_level_at_five_percent(looks):
    """The tabled constant, checked against the multivariate normal of K equally spaced looks' z statistics
    (correlation sqrt(i/j)): P(some |z_k| > c) = 0.05 (Jennison and Turnbull 2000, Table 2.1)."""
    idx = np.arange(1, looks + 1)
    cov = np.sqrt(np.minimum.outer(idx, idx) / np.maximum.outer(idx, idx))
    c = POCOCK_Z[looks]
    inside = stats.multivariate_normal(np.zeros(looks), cov, seed=1).cdf(
        np.full(looks, c), lower_limit=np.full(looks, -c)
    )
    assert abs((1 - inside) - 0.05) < 0.0015
    assert pocock_level(looks) < pocock_level(looks - 1) <= 0.05


def test_pocock_level_refuses_what_it_has_not_tabled():
    assert pocock_level(1) == 0.05 and math.isclose(pocock_level(2), 0.0294, abs_tol=1e-4)
    with pytest.raises(ValueError, match="1 to 10 looks"):
        pocock_level(11)
    with pytest.raises(ValueError):
        pocock_level(2, alpha=0.01)


TINY = __import__("pathlib").Path(__file__).parents[1] / "tiny.toml"


@pytest.mark.train
def test_looks_add_seeds_only_where_undecided_and_a_rerun_replays_them(data_dir, tmp_path):
    from study.declare.spec import Profile
    from study.declare.studyfile import load_study_file
    from study.results.store import Store
    from study.sequential.driver import run_in_stages

    study = load_study_file(TINY)
    profile = Profile(
        "staged", seeds=2, epochs=None, train_size=None, test_size=None, max_seeds=4, seed_step=1
    )
    assert profile.looks == 3
    store_path = tmp_path / "s.sqlite"
    lines = []
    first = run_in_stages(
        study,
        profile,
        store_path,
        execution=Execution.build(workers=0, progress=False),
        log=lines.append,
    )
    with Store(store_path, create=False) as store:
        stored = store.stored_study(study.name, profile.name)
        rows = store.uses()
    looks = [line for line in lines if line.startswith("look ")]
    assert looks and looks[0].startswith("look 1 of 3:")
    added = {(s.experiment, s.value, s.dataset): s.seeds for s in stored.stages}
    for (_experiment, value, _dataset), seeds in added.items():
        assert 3 <= seeds <= 4 and value not in (
            "5",
            "0.1",
        )  # the baseline (kernel 5, lr 0.1) keeps its own
    assert first.trained == 6 + sum(seeds - 2 for seeds in added.values())
    again = run_in_stages(
        study,
        profile,
        store_path,
        execution=Execution.build(workers=0, progress=False),
        log=lambda line: None,
    )
    assert again.trained == 0  # the same results choose the same seeds: nothing new to train
    with Store(store_path, create=False) as store:
        assert store.stored_study(study.name, profile.name).stages == stored.stages
        assert store.uses() == rows


@pytest.mark.train
def test_a_trial_cap_stops_the_additions_cheapest_first(data_dir, tmp_path):
    from study.declare.spec import Profile
    from study.declare.studyfile import load_study_file
    from study.sequential.driver import run_in_stages

    study = load_study_file(TINY)
    capped = Profile(
        "capped",
        seeds=2,
        epochs=None,
        train_size=None,
        test_size=None,
        max_seeds=6,
        seed_step=2,
        max_trials=6,
    )
    counts = run_in_stages(
        study,
        capped,
        tmp_path / "c.sqlite",
        execution=Execution.build(workers=0, progress=False),
        log=lambda line: None,
    )
    assert counts.planned <= 6 and counts.trained == 6


def _value(
    label, index, diff, se, n=3, learned=None, verdict="inconclusive", dof=10.0, test="Welch t"
):
    from types import SimpleNamespace

    from study.analyse.decide import Decision
    from study.analyse.noise import MeanComparison
    from study.analyse.stats import Rates, Verdict

    learned = n if learned is None else learned
    comparison = MeanComparison(
        learned, 9, diff, diff - 2.2 * se, diff + 2.2 * se, 0.2, se, dof, test
    )
    decision = Decision(comparison, 0.2, Rates(n - learned, n, 0, 9, 1.0), 1.0, Verdict(verdict))
    return SimpleNamespace(
        label=label,
        index=index,
        seeds=list(range(1, n + 1)),
        decision=decision,
        comparison=comparison,
        learned=learned,
        finished=n,
        all_diverged=False,
    )


def _analysis(values, margin=0.01, baseline_learned=9, looks_seeds=(3, 6)):
    from types import SimpleNamespace

    from study.declare.spec import Profile

    profile = Profile(
        "p", seeds=looks_seeds[0], epochs=1, train_size=1, test_size=1, max_seeds=looks_seeds[1]
    )
    block = SimpleNamespace(
        comparisons=values,
        baseline=SimpleNamespace(learned=baseline_learned, finished=9),
        margin=margin,
    )
    return SimpleNamespace(
        stored=SimpleNamespace(profile=profile, stages=()),
        blocks={("exp", "mnist"): block},
        alpha=pocock_level(profile.looks),
    )


def test_more_seeds_go_only_where_they_can_still_decide_cheapest_first():
    from study.analyse.sequential import next_look

    values = [
        _value("decided", 0, -0.05, 0.005, verdict="worse"),  # decided: no more seeds
        _value("far", 1, -0.02, 0.008),  # significance within reach at 6 seeds
        _value("near zero", 2, 0.001, 0.004),  # equivalence within reach
        _value("at the margin", 3, 0.0095, 0.02),  # neither: futile
        _value("cheap", 4, -0.02, 0.008),
    ]
    costs = {
        ("exp", "far", "mnist"): 5.0,
        ("exp", "near zero", "mnist"): 9.0,
        ("exp", "cheap", "mnist"): 1.0,
        ("exp", "at the margin", "mnist"): 1.0,
        ("exp", "decided", "mnist"): 1.0,
    }
    additions = next_look(_analysis(values), costs)
    assert [(a.value, a.reason, a.seeds) for a in additions] == [
        ("cheap", "difference", 6),
        ("far", "difference", 6),
        ("near zero", "equivalence", 6),
    ]
    assert (
        next_look(_analysis(values, baseline_learned=1), costs) == []
    )  # a baseline that does not learn
    assert (
        next_look(_analysis(values, looks_seeds=(3, 3)), costs) == []
    )  # one look: nothing to add


def test_a_comparison_keeps_the_verdict_of_the_look_at_which_it_stopped(tmp_path):
    """Kernel 3 on MNIST got 2 more seeds at look 2; every other comparison stopped at look 1 and keeps look
    1's decision, however the noise model of the final look would decide it."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from synthetic import make_store

    from study.analyse.comparisons import analyse, last_look, stopping_looks
    from study.analyse.sequential import next_look
    from study.declare.spec import Profile

    profile = Profile(
        "staged", seeds=2, epochs=5, train_size=100, test_size=50, max_seeds=4, seed_step=2
    )
    extended = ("kernel_size", "3", "mnist")
    stages = (
        {
            "look": 2,
            "experiment": "kernel_size",
            "value": "3",
            "dataset": "mnist",
            "seeds": 4,
            "reason": "equivalence",
        },
    )
    with make_store(tmp_path / "look1.sqlite", profile=profile, missing=()) as store:
        first = analyse(store)
    with make_store(
        tmp_path / "final.sqlite", profile=profile, missing=(), seeds={extended: 4}, stages=stages
    ) as store:
        final = analyse(store)
    assert stopping_looks(final.stored) == {extended: 2} and last_look(final.stored) == 2
    assert final.alpha == pocock_level(2)
    kernel = final.blocks[("kernel_size", "mnist")]
    assert kernel.value("3").comparison.n_a == 4 and len(kernel.value("3").seeds) == 4
    for (experiment, dataset), block in final.blocks.items():
        for value in block.comparisons:
            if (experiment, value.label, dataset) == extended:
                continue
            then = first.blocks[(experiment, dataset)].value(value.label).decision
            assert (value.decision.verdict, value.decision.p_adjusted) == (
                then.verdict,
                then.p_adjusted,
            ) or (math.isnan(then.p_adjusted) and math.isnan(value.decision.p_adjusted)), (
                experiment,
                value.label,
                dataset,
            )
    assert all(
        a.value != "1" or a.experiment != "kernel_size" for a in next_look(final, {})
    )  # stopped at look 1


def test_every_look_gets_the_one_execution_and_the_driver_stores_stage_records(
    data_dir, tmp_path, monkeypatch
):
    """No training: a made-up trainer in this process, where kernel 3's seed 2 collapses, so look 1 gives
    kernel 3 a third seed (too few learned) and look 2 adds none. The one Execution reaches every look;
    the additions reach the store as Stage records, and as JSON objects with the same fields."""
    import json
    import random

    import study.sequential.driver
    import study.train.worker
    from study.declare.spec import Profile
    from study.declare.studyfile import load_study_file
    from study.records import TrialResult
    from study.results.store import Store
    from study.results.stored import Stage
    from study.sequential.driver import run_in_stages

    def made_up_trainer(spec, threads=None):
        collapsed = spec.settings.kernel_size == 3 and spec.seed == 2
        accuracy = 0.1 if collapsed else 0.6 + random.Random(spec.key).gauss(0, 0.02)
        epoch = {"loss": 0.5, "accuracy": accuracy, "val_loss": 0.5, "val_accuracy": accuracy}
        return TrialResult(spec.key, epochs=[{"epoch": 1, **epoch, "epoch_seconds": 0.01}])

    looks = []
    real_run_study = study.sequential.driver.run_study

    def run_study(*args, **kwargs):
        looks.append((args[3], kwargs["stages"]))
        return real_run_study(*args, **kwargs)

    monkeypatch.setattr(study.train.worker, "train_trial", made_up_trainer)
    monkeypatch.setattr(study.sequential.driver, "run_study", run_study)
    profile = Profile(
        "staged", seeds=2, epochs=None, train_size=None, test_size=None, max_seeds=4, seed_step=1
    )
    execution = Execution.build(workers=0, threads=1, progress=False)
    store_path = tmp_path / "s.sqlite"
    counts = run_in_stages(
        load_study_file(TINY), profile, store_path, execution, log=lambda line: None
    )
    added = Stage(2, "kernel", "3", "mnist", 3, "too_few_learned")
    assert looks == [(execution, ()), (execution, (added,))]
    assert looks[1][0] is execution
    assert (counts.planned, counts.trained, counts.collapsed) == (7, 7, 1)
    with Store(store_path, create=False) as store:
        assert store.stored_study("tiny", "staged").stages == (added,)
        (spec,) = store.db.execute("SELECT spec FROM studies").fetchone()
        run = json.loads(store.latest_run("tiny", "staged")["environment"])
    assert json.loads(spec)["stages"] == [
        {
            "look": 2,
            "experiment": "kernel",
            "value": "3",
            "dataset": "mnist",
            "seeds": 3,
            "reason": "too_few_learned",
        }
    ]
    assert (run["scheduler"], run["workers"], run["threads_per_worker"]) == ("in-process", 0, 1)


def _made_up_trainer(spec, threads=None):
    """No training: kernel 3's seed 2 collapses, every other trial learns about 0.6."""
    import random

    from study.records import TrialResult

    collapsed = spec.settings.kernel_size == 3 and spec.seed == 2
    accuracy = 0.1 if collapsed else 0.6 + random.Random(spec.key).gauss(0, 0.02)
    epoch = {"loss": 0.5, "accuracy": accuracy, "val_loss": 0.5, "val_accuracy": accuracy}
    return TrialResult(spec.key, epochs=[{"epoch": 1, **epoch, "epoch_seconds": 0.01}])


def test_plan_after_a_look_replays_the_driver_and_after_the_run_trains_nothing(
    data_dir, tmp_path, monkeypatch
):
    """`study plan` between looks shows the look a run trains next with the seeds the driver then adds;
    after the run, that the store holds every look (it showed the first look's worst case again). The
    made-up trainer gives kernel 3 a third seed at look 2."""
    import study.train.worker
    from study.declare.spec import Profile
    from study.declare.studyfile import load_study_file
    from study.run.runner import load_datasets, run_study
    from study.sequential.driver import resume_point, run_in_stages

    monkeypatch.setattr(study.train.worker, "train_trial", _made_up_trainer)
    study_ = load_study_file(TINY)
    profile = Profile(
        "staged", seeds=2, epochs=None, train_size=None, test_size=None, max_seeds=4, seed_step=1
    )
    loaded = load_datasets(study_, profile)
    store_path = tmp_path / "s.sqlite"
    execution = Execution.build(workers=0, threads=1, progress=False)
    assert resume_point(study_, profile, store_path, loaded).look == 1  # no store yet
    run_study(study_, profile, store_path, execution, log=lambda line: None, loaded=loaded)
    between = resume_point(study_, profile, store_path, loaded)
    assert (between.look, between.complete) == (2, False)
    assert between.seeds == {("kernel", "3", "mnist"): 3}
    run_in_stages(study_, profile, store_path, execution, log=lambda line: None)
    after = resume_point(study_, profile, store_path, loaded)
    assert (after.look, after.complete, after.seeds) == (2, True, between.seeds)
    from stores import calibrated

    from study.cli.main import plan_lines
    from study.sequential.forecast import forecast

    calibrated(store_path)
    seen = forecast(study_, profile, store_path, 1)
    assert (seen.trials, seen.to_train, seen.look, seen.complete) == (7, 0, 2, True)
    lines = plan_lines(seen)
    assert (
        "the store holds every look the results call for (up to look 2 of 3): a run trains nothing more"
        in lines
    )
    assert not any(
        line.startswith(("worst case", "to train", "first look's cost")) for line in lines
    )
    other = Profile("other", seeds=2, epochs=None, train_size=None, test_size=None)
    assert resume_point(study_, other, store_path, loaded) == resume_point(
        study_, other, tmp_path / "none.sqlite", loaded
    )
