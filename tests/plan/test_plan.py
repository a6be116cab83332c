"""Cost before the run: the time model, its list schedule, `study plan` and the estimate a run records."""

import json

import pytest
from click.testing import CliRunner
from stores import TINY_STUDY, calibrated, fill_store

from study.cli.main import cli
from study.declare.spec import Profile, get_profile
from study.declare.studyfile import load_study_file
from study.plan.estimate import Calibration, TrialCost, duration, estimate_run, makespan, quantity
from study.plan.trials import TrialSpec
from study.results.store import Store
from study.run.execution import Execution
from study.run.runner import run_study


def _rows(store, sql: str, params: tuple = ()) -> list:
    """Inspect the store file directly (the package reads it only through Store's typed methods)."""
    return list(store.db.execute(sql, params))


# One second per trial-second of work: MACs at 1 per second, no per-step cost, no fixed costs.
UNIT = Calibration(
    macs_per_second=1.0,
    step_seconds=0.0,
    trial_seconds=0.0,
    trace_seconds=0.0,
    startup_seconds=0.0,
)


def cost(seconds: float, graph: str = "g", dataset: str = "mnist") -> TrialCost:
    """A trial of ``seconds`` under UNIT: one epoch, one training image of seconds/3 MACs, no validation."""
    return TrialCost(
        key=f"{graph}-{seconds}",
        dataset=dataset,
        graph=graph,
        epochs=1,
        train_images=1,
        test_images=0,
        macs=seconds / 3,
        batch_size=32,
        val_batch_size=16,
    )


def test_list_schedule_gives_each_trial_to_the_first_free_worker():
    costs = [cost(s) for s in (7, 5, 4, 3, 1)]
    # worker A: 7, then 3 (free at 7 before B at 9) -> 10; worker B: 5, 4, then 1 -> 10
    assert makespan(costs, 2, UNIT) == 10
    assert makespan(costs, 1, UNIT) == 20
    assert makespan(costs, 5, UNIT) == 7
    assert makespan(costs, 0, UNIT) == 20  # in-process: one at a time


def test_list_schedule_traces_each_graph_once_per_worker_and_loads_each_dataset_once():
    traced = Calibration(
        macs_per_second=1.0,
        step_seconds=0.0,
        trial_seconds=0.5,
        trace_seconds=2.0,
        startup_seconds=0.0,
    )
    costs = [cost(3, "a"), cost(3, "a"), cost(3, "b", "cifar10"), cost(3, "a")]
    # one worker: 4 x (3 + 0.5) + traces of a and b + loads of mnist (1) and cifar10 (4)
    assert makespan(costs, 1, traced, {"mnist": 1.0, "cifar10": 4.0}) == pytest.approx(14 + 4 + 5)
    # two workers: A gets a, a(+trace +load) -> 3.5+2+1, then 3.5 -> 10; B gets a, b -> 3.5+2+1 + 3.5+2+4 = 16
    assert makespan(costs, 2, traced, {"mnist": 1.0, "cifar10": 4.0}) == pytest.approx(16)


def test_estimate_counts_images_and_macs_and_adds_startup():
    calibration = Calibration(
        macs_per_second=1e6,
        step_seconds=0.01,
        trial_seconds=0.2,
        trace_seconds=1.0,
        startup_seconds=5.0,
    )
    one = TrialCost(
        "k",
        "mnist",
        "g",
        epochs=2,
        train_images=100,
        test_images=50,
        macs=1000,
        batch_size=32,
        val_batch_size=16,
    )
    estimate = estimate_run([one, one], 2, calibration)
    assert (estimate.trials, estimate.images, estimate.macs, estimate.workers) == (
        2,
        600,
        2 * 2 * 350 * 1000,
        2,
    )
    per_trial = 0.2 + 2 * (350 * 1000 / 1e6 + (4 + 4) * 0.01)  # 0.2 + 2 x (0.35 + 0.08) = 1.06
    assert estimate.seconds == pytest.approx(5.0 + 1.0 + per_trial)
    assert estimate_run([], 2, calibration).seconds == 0


def test_duration_is_short_and_readable():
    assert [duration(s) for s in (42, 210, 7 * 3600, 5 * 86400)] == [
        "42 s",
        "3.5 min",
        "7.0 h",
        "5.0 days",
    ]
    assert [quantity(n) for n in (950, 12_345_678, 4.56e9, 1.234e12, 7.89e15)] == [
        "950",
        "12.3 M",
        "4.56 G",
        "1.23 T",
        "7.89 P",
    ]


@pytest.fixture
def tiny_store(tmp_path, data_dir):
    """The tiny study with the first two of its four trials stored, and a calibration beside the store."""
    study_file = tmp_path / "tiny.toml"
    study_file.write_text(TINY_STUDY)
    store = tmp_path / "s.sqlite"
    fill_store(
        store,
        load_study_file(study_file),
        Profile("test", seeds=None, epochs=None, train_size=None, test_size=None),
        keep=lambda index: index < 2,
    )
    calibrated(store)
    return study_file, store


def test_plan_json_counts_stored_trials_and_estimates(tiny_store):
    study_file, store = tiny_store
    # the whole tiny data as a custom budget: the same trial keys as the stored ones (planned with "all")
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--study",
            str(study_file),
            "--store",
            str(store),
            "--json",
            "--workers",
            "3",
            "--epochs",
            "2",
            "--seeds",
            "2",
            "--train-size",
            "60",
            "--test-size",
            "30",
        ],
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    # kernel 3 and 5 (the baseline) x seeds 1, 2 = 4 trials, 2 stored; 2 to train, 2 epochs of 60 + 30 images
    assert {
        k: plan[k]
        for k in ("study", "profile", "trials", "stored", "to_train", "workers", "images")
    } == {
        "study": "tiny",
        "profile": "custom-e2-tr60-te30-s2",
        "trials": 4,
        "stored": 2,
        "to_train": 2,
        "workers": 3,
        "images": 2 * 2 * (60 + 30),
    }
    assert plan["macs"] == sum(2 * (3 * 60 + 30) * macs for macs in plan_macs(study_file, store))
    assert plan["estimated_seconds"] > 5.0 and plan["this_machine"]["workers"] >= 1
    assert plan["calibration"]["macs_per_second"] == 1e10
    assert not (store.parent / "s.sqlite-plan").exists()


def test_plan_with_a_budget_loads_each_dataset_once(tiny_store, monkeypatch):
    import study.plan.data
    import study.run.runner

    loads = []
    real = study.plan.data.load_dataset

    def counted(name, *args, **kwargs):
        loads.append(name)
        return real(name, *args, **kwargs)

    for module in (study.plan.data, study.run.runner):
        monkeypatch.setattr(module, "load_dataset", counted)
    study_file, store = tiny_store
    result = CliRunner().invoke(
        cli, ["plan", "--study", str(study_file), "--store", str(store), "--train-size", "60"]
    )
    assert result.exit_code == 0, result.output
    assert loads == ["mnist"]


def test_plan_run_orders_what_the_store_lacks_longest_first_and_estimates_it(tiny_store):
    from study.run.runner import plan_run, stored_keys

    study_file, store = tiny_store
    study = load_study_file(study_file)
    everything = Profile("test", seeds=None, epochs=None, train_size=None, test_size=None)
    planned = plan_run(study, everything, stored_keys(store), workers=2, calibration=UNIT)
    assert (len(planned.trials), planned.stored, len(planned.pending)) == (4, 2, 2)
    assert planned.sizes == {"mnist": (60, 30)} and len(planned.rows) == 4
    assert [t.macs for t in planned.pending] == sorted(
        (t.macs for t in planned.pending), reverse=True
    )
    assert planned.estimate == planned.estimate_for(2) and planned.estimate.trials == 2
    assert (
        plan_run(study, everything, planned.trials).estimate is None
    )  # no calibration, no estimate
    # nothing to train: the calibration is never measured
    assert plan_run(study, everything, planned.trials, calibration=lambda: 1 / 0).pending == ()


def plan_macs(study_file, store):
    """Forward MACs per image of the trials the store does not have yet."""
    with Store(store) as db:
        rows = _rows(
            db,
            "SELECT p.config FROM planned p LEFT JOIN trials t USING (trial_key) WHERE t.trial_key IS NULL",
        )
    return [TrialSpec.from_dict(json.loads(row["config"])).macs for row in rows]


def test_plan_text_names_counts_cost_and_time(tiny_store):
    study_file, store = tiny_store
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--study",
            str(study_file),
            "--store",
            str(store),
            "--workers",
            "16",
            "--train-size",
            "60",
            "--test-size",
            "30",
            "--epochs",
            "2",
            "--seeds",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "tiny [custom-e2-tr60-te30-s2]: 4 trials, 2 stored, 2 to train"
    # the baseline's budget and recipe, per dataset: 60 images in batches of 32 = 2 steps an epoch
    assert lines.pop(1) == (
        "baseline on mnist: 60 images x 2 epochs at batch 32 = 4 SGD steps; learning rate 0.5, "
        "constant schedule over those steps; unit inputs"
    )
    macs = sum(2 * (3 * 60 + 30) * m for m in plan_macs(study_file, store))
    assert lines[1] == (
        f"to train: 360 images (training and validation, all epochs), "
        f"{quantity(macs)} multiply-accumulates"
    )
    assert lines[2].startswith("estimated wall time: ") and lines[2].endswith(
        " on 16 workers as fast as one core here"
    )
    assert lines[3].startswith("first look's cost by experiment")  # --seeds alone: one look
    assert [line.split()[:3] for line in lines[4:-1]] == [
        ["kernel", "mnist", "2"]
    ]  # the lr values are stored
    assert lines[-1].startswith(
        "calibration: 10.0 G MACs/s per worker, 1.0 ms per step, 0.10 s per trial, "
        "1.00 s per graph trace, 5.0 s startup ("
    )


@pytest.mark.train
def test_run_prints_the_estimate_first_and_records_it(tmp_path, data_dir):
    study_file = tmp_path / "one.toml"
    study_file.write_text(
        TINY_STUDY.replace(
            "values = [3, 5]", "values = [3]"
        )  # one trial (a value, no baseline row)
        .replace("seeds = [1, 2]\nbaseline_seeds = 2", "seeds = [1]\nbaseline_seeds = 1")
        .replace("epochs = 2", "epochs = 1")
    )
    store = tmp_path / "s.sqlite"
    calibration = Calibration(
        macs_per_second=1e10,
        step_seconds=1e-3,
        trial_seconds=0.1,
        trace_seconds=1.0,
        startup_seconds=5.0,
    )
    lines = []
    run_study(
        load_study_file(study_file),
        get_profile("smoke"),
        store,
        execution=Execution.build(workers=0, threads=1, progress=False),
        log=lines.append,
        calibration=lambda: calibration,
    )
    assert lines[0].startswith("tiny [smoke]: 1 trial, 0 stored, 1 to train, estimated ")
    assert lines[0].endswith(" s on 1 worker")
    with Store(store) as db:
        run = dict(db.latest_run("tiny", "smoke"))
    assert run["estimated_seconds"] > 1.1 and run["wall_seconds"] > 0
    assert json.loads(run["environment"])["estimated_seconds"] == run["estimated_seconds"]


def test_run_goes_on_without_an_estimate_where_no_calibration_can_be_measured(
    monkeypatch, tmp_path
):
    import study.plan.estimate
    from study.cli.main import _calibration_or_none
    from study.errors import StudyError

    def fail(store, refresh=False):
        raise StudyError("calibration failed: No module named 'tensorflow'")

    monkeypatch.setattr(study.plan.estimate, "calibrate", fail)
    assert _calibration_or_none(str(tmp_path / "s.sqlite")) is None


def test_a_new_store_takes_this_machines_calibration_without_measuring(monkeypatch, tmp_path):
    from study.plan.estimate import (
        calibrate,
        calibration_path,
        machine_cache,
        machine_key,
        save_calibration,
    )

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    measured = Calibration(
        macs_per_second=2e10,
        step_seconds=1e-3,
        trial_seconds=0.1,
        trace_seconds=1.0,
        startup_seconds=5.0,
        machine=machine_key(),
    )
    save_calibration(machine_cache(), measured)
    store = tmp_path / "new" / "s.sqlite"
    assert calibrate(store).macs_per_second == 2e10
    assert calibration_path(
        store
    ).is_file()  # copied beside the store, where the next run finds it first
    save_calibration(machine_cache(), Calibration(1e9, 0, 0, 0, 0, machine="another machine"))
    assert calibrate(store).macs_per_second == 2e10


def test_time_sets_the_trial_cap_from_the_worst_case(tiny_store):
    """--time 1h fits every look of quick's design on the tiny study: no cap. A time shorter than the first
    look is one error line; so is a time that is not a duration, or --time beside --max-trials."""
    study_file, store = tiny_store
    args = [
        "plan",
        "--study",
        str(study_file),
        "--store",
        str(store),
        "--workers",
        "2",
        "--train-size",
        "60",
        "--test-size",
        "30",
        "--epochs",
        "2",
        "--seeds",
        "1",
        "--max-seeds",
        "3",
        "--max-trials",
        "99",
    ]
    roomy = CliRunner().invoke(cli, [*args[:-2], "--time", "1h"])
    assert roomy.exit_code == 0, roomy.output
    assert "that is the first of 2 looks" in roomy.output
    for extra, line in (
        (["--time", "1s"], "is shorter than the first look alone"),
        (
            ["--time", "ten"],
            "--time 'ten' is not a duration; accepted: a positive number with s, m or h",
        ),
        (["--time", "1h"], "--time and --max-trials both bound the run"),
    ):
        result = CliRunner().invoke(
            cli,
            [*args[:-2], *extra] if extra[0] == "--time" and extra[1] != "1h" else [*args, *extra],
        )
        assert result.exit_code == 2 and line in result.output, result.output


def test_max_trials_caps_the_looks_and_names_the_budget(tiny_store):
    study_file, store = tiny_store
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--study",
            str(study_file),
            "--store",
            str(store),
            "--workers",
            "2",
            "--train-size",
            "60",
            "--test-size",
            "30",
            "--epochs",
            "2",
            "--seeds",
            "1",
            "--max-seeds",
            "2",
            "--max-trials",
            "4",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    import json

    plan = json.loads(result.output)
    assert plan["profile"].endswith("-ms2-mt4") and plan["looks"] == 2
    assert plan["worst_case"]["trials"] <= 4


def _budget(**flags):
    from study.declare.budget import resolve_budget

    return resolve_budget(get_profile("quick"), None, flags, "")


def test_forecast_counts_costs_and_times_without_the_command_line(tiny_store, monkeypatch):
    """`study plan`'s numbers from the library alone, checked by hand: 4 trials (kernel 3 and 5 x seeds 1, 2),
    the 2 of kernel 3 to train, 2 epochs of 60 + 30 images, the calibration's constants."""
    import math

    import study.sequential.forecast
    from study.sequential.forecast import BaselineRecipe, forecast

    monkeypatch.setattr(study.sequential.forecast, "default_workers", lambda: 2)
    study_file, store = tiny_store
    profile, origins = _budget(epochs=2, seeds=2, train_size=60, test_size=30)
    seen = forecast(load_study_file(study_file), profile, store, 3, origins)
    assert (seen.study, seen.profile.name, seen.trials, seen.stored, seen.to_train) == (
        "tiny",
        "custom-e2-tr60-te30-s2",
        4,
        2,
        2,
    )
    assert (seen.workers, seen.here, seen.estimate.workers, seen.this_machine.workers) == (
        3,
        2,
        3,
        2,
    )
    assert seen.estimate.images == 2 * 2 * (60 + 30)
    # the baseline: batch 32, so 2 steps an epoch (the last batch smaller), learning rate 0.5
    assert seen.baselines == {"mnist": BaselineRecipe(60, 2, 32, 4, 0.5, "constant", "unit")}
    macs = plan_macs(study_file, store)  # the two kernel-3 trials
    assert seen.estimate.macs == sum(2 * (3 * 60 + 30) * m for m in macs)
    (kernel,) = seen.experiments
    steps = math.ceil(60 / 32) + math.ceil(30 / 16)  # training and validation batches of an epoch
    by_hand = sum(0.1 + 2 * ((3 * 60 + 30) * m / 1e10 + steps * 1e-3) for m in macs)
    assert (kernel.experiment, kernel.dataset, kernel.trials) == ("kernel", "mnist", 2)
    assert kernel.worker_seconds == pytest.approx(by_hand)
    # one trial per worker (3 or 2 workers): startup, one trace, one trial (the data is loaded already)
    assert seen.estimate.seconds == pytest.approx(5.0 + 1.0 + by_hand / 2, abs=1e-3)
    assert seen.this_machine.seconds == pytest.approx(seen.estimate.seconds, abs=1e-3)
    assert seen.profile.looks == 1 and (seen.worst.trials, seen.worst.to_train) == (4, 2)
    assert seen.worst.estimate == seen.estimate and seen.calibration.macs_per_second == 1e10


def test_forecast_is_what_plan_json_prints(tiny_store, monkeypatch):
    import study.sequential.forecast
    from study.sequential.forecast import forecast

    monkeypatch.setattr(study.sequential.forecast, "default_workers", lambda: 2)
    study_file, store = tiny_store
    flags = {"epochs": 2, "seeds": 1, "max_seeds": 3, "train_size": 60, "test_size": 30}
    profile, origins = _budget(**flags)
    seen = forecast(load_study_file(study_file), profile, store, None, origins)
    args = [f"--{k.replace('_', '-')}={v}" for k, v in flags.items()]
    result = CliRunner().invoke(
        cli, ["plan", "--study", str(study_file), "--store", str(store), "--json", *args]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == seen.to_dict()
    # two looks: kernel 3 at 1 seed beside the baseline's 2 seeds; at worst kernel 3 gets 3 seeds
    assert seen.profile.looks == 2 and (seen.trials, seen.worst.trials) == (3, 5)
    assert seen.to_train <= seen.worst.to_train <= seen.to_train + 2
    assert seen.worst.estimate.images == seen.worst.to_train * 2 * (60 + 30)
    assert (seen.workers, seen.here) == (2, 2)


def test_forecast_refuses_a_time_shorter_than_the_first_look(tiny_store):
    from study.errors import StudyError
    from study.sequential.forecast import forecast

    study_file, store = tiny_store
    profile, origins = _budget(epochs=2, seeds=1, max_seeds=3, train_size=60, test_size=30)
    with pytest.raises(StudyError, match="is shorter than the first look alone"):
        forecast(load_study_file(study_file), profile, store, 2, origins, seconds=1.0)
