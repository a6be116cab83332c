"""Run a study: plan, skip what the store has, train the rest on Dask, write each trial as it lands.

    run_study(builtin_study(), get_profile("smoke"), "output/study.sqlite", Execution.build())

Where the trials train is one ``study.run.execution.Execution``: by default a local Dask cluster sized to
the machine (one single-threaded worker process per core: small LeNets train faster as independent
processes than as one multi-threaded one); ``Execution.build(scheduler="tcp://HOST:PORT")`` sends the
trials to an existing cluster, ``Execution.build(workers=0)`` trains in this process, one trial after
another (for debugging). Only this driver writes the store.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from study.declare.budget import check_budget
from study.declare.grid import label_of
from study.declare.spec import Profile, Study
from study.environment import environment
from study.errors import ConfigError, StudyError
from study.plan.data import Dataset, load_dataset
from study.plan.estimate import (
    DEFAULT,
    Calibration,
    Estimate,
    duration,
    estimate_run,
    longest_first,
    startup_seconds,
    trial_cost,
)
from study.plan.trials import DatasetInfo, PlanRow, SeedCounts, Trial, plan_study
from study.records import RunCounts, TrialResult
from study.results.outcomes import ConstantAnswer
from study.results.store import Store, inspect
from study.results.stored import Stage
from study.run.console import (
    LOG_ENV,
    QUIET_ENV,
    RunLog,
    describe_uses,
    final_outcome,
    log_path,
    trial_line,
)
from study.run.execution import (  # default_workers: also read here by tests/train
    Execution,
    Where,
    default_workers,  # noqa: F401
)
from study.run.lock import StoreLock
from study.words import counted


def dataset_info(data: Dataset, profile: Profile, data_seed: int) -> DatasetInfo:
    """What planning needs of ``data``, loaded with ``profile``'s subset sizes and ``data_seed``."""
    # A subset as large as the dataset is all of it: keyed as "all", so budgets that give the same data
    # give the same trial keys (study.declare.budget).
    profile = profile.for_dataset(data.name)
    train_size, test_size = (
        None if size is None or size >= full else size
        for size, full in zip((profile.train_size, profile.test_size), data.full_sizes)
    )
    return DatasetInfo(
        data.name,
        data.input_shape,
        len(data.classes),
        data.fingerprint,
        train_size,
        test_size,
        data_seed,
    )


def load_datasets(study: Study, profile: Profile) -> dict[str, Dataset]:
    """Every dataset of the study with the profile's subsets (per dataset), by name. Raises DataError for
    one not found."""
    return {
        name: load_dataset(
            name,
            profile.for_dataset(name).train_size,
            profile.for_dataset(name).test_size,
            study.data_seed,
        )
        for name in study.datasets
    }


def dataset_infos(
    study: Study, profile: Profile
) -> tuple[dict[str, DatasetInfo], dict[str, dict]]:
    """Load every dataset of the study (the profile's subsets) once: what planning needs of each
    (``DatasetInfo``) and its description (``Dataset.describe()``), both by dataset name."""
    loaded = load_datasets(study, profile)
    return (
        {name: dataset_info(data, profile, study.data_seed) for name, data in loaded.items()},
        {name: data.describe() for name, data in loaded.items()},
    )


def study_spec(study: Study, profile: Profile, datasets: dict[str, dict]) -> dict:
    """What the report needs to know of the study, stored beside the results."""
    return {**study.to_dict(), "profile": asdict(profile), "datasets": datasets}


@dataclass(frozen=True)
class RunPlan:
    """A study under a profile made concrete: its trials, what a store lacks of them, and the cost of those."""

    study: Study
    profile: Profile
    trials: dict[
        str, Trial
    ]  # every trial, by key (a trial shared by several plan rows is here once)
    rows: tuple[PlanRow, ...]  # one per (experiment, value, dataset, seed)
    datasets: dict[str, DatasetInfo]  # by dataset name
    described: dict[str, dict]  # Dataset.describe() of each, as stored in the study spec
    sizes: dict[
        str, tuple[int, int]
    ]  # (training, validation) images per epoch of each, after subsetting
    load_seconds: float  # loading every dataset once, in this process
    pending: tuple[Trial, ...]  # the trials not done yet, longest first (the submission order)
    calibration: (
        Calibration | None
    )  # None: no estimate (pending is then ordered by the built-in constants)
    estimate: Estimate | None  # the cost of ``pending`` on ``estimate.workers`` workers
    loaded: dict[str, Dataset] = field(
        default_factory=dict, repr=False
    )  # the datasets, as planned

    @property
    def stored(self) -> int:
        """Trials of the plan that need no training."""
        return len(self.trials) - len(self.pending)

    @property
    def spec(self) -> dict:
        """The study spec the store keeps beside the results (``study_spec``)."""
        return study_spec(self.study, self.profile, self.described)

    def estimate_for(self, workers: int, calibration: Calibration | None = None) -> Estimate:
        """The estimate of ``pending`` on ``workers`` workers (0: in-process) with ``calibration`` (default:
        the plan's). Raises ValueError when neither is given."""
        calibration = calibration or self.calibration
        if calibration is None:
            raise ValueError("no calibration: pass one, or plan_run(..., calibration=...)")
        data_seconds = {name: self.load_seconds / len(self.sizes) for name in self.sizes}
        return estimate_run(
            [trial_cost(t, self.sizes) for t in self.pending], workers, calibration, data_seconds
        )


def check_compares_something(study: Study, rows: Iterable[PlanRow]) -> None:
    """Refuse an experiment whose every value trains the baseline's settings on every dataset: it would
    compare the baseline with itself (a grid experiment never counts as baseline-only)."""
    baseline_only: dict[str, bool] = {}
    for row in rows:
        if not row.phase:
            baseline_only[row.experiment] = (
                baseline_only.get(row.experiment, True) and row.is_baseline
            )
    for exp in study.experiments:
        if exp.grid is None and baseline_only.get(exp.name):
            labels = ", ".join(v.label for v in exp.values)
            current = getattr(study.baseline.with_values(**exp.base), exp.parameter, None)
            raise ConfigError(
                f"experiment {exp.name!r} compares nothing: every value ({labels}) trains the baseline's "
                f"settings ({exp.parameter} = {label_of(current) if current is not None else 'as the baseline'}) "
                f"on every dataset; accepted: at least one value that differs from the baseline"
            )


def plan_run(
    study: Study,
    profile: Profile,
    done: Iterable[str] = (),
    workers: int = 1,
    calibration: Calibration | Callable[[], Calibration | None] | None = None,
    origins: dict[str, str] | None = None,
    seeds: SeedCounts | None = None,
    loaded: dict[str, Dataset] | None = None,
    selection_only: bool = False,
) -> RunPlan:
    """Load the datasets once, plan every trial, and order and cost those not in ``done`` (trial keys).

    ``calibration``: a callable is called only when something is to train (None: no estimate).
    ``origins``: what set each budget field (``study.declare.budget.resolve_budget``); those are checked
    against the loaded datasets' full sizes and the study's seeds. Raises ConfigError for a budget
    beyond the study or an impossible configuration, DataError for a dataset not found. ``seeds``: values
    with more seeds than the first look (``study.plan.trials.plan_study``); ``loaded``: the datasets, when
    the caller has loaded them already (``load_datasets``); ``selection_only``: the grids' selection phase
    without their confirmation (``study.plan.trials.plan_study``)."""
    started = time.perf_counter()
    loaded = loaded if loaded is not None else load_datasets(study, profile)
    load_seconds = time.perf_counter() - started
    if origins:
        check_budget(
            profile,
            origins,
            {name: data.full_sizes for name, data in loaded.items()},
            len(study.seeds),
        )
    infos = {name: dataset_info(data, profile, study.data_seed) for name, data in loaded.items()}
    sizes = {name: (len(data.y_train), len(data.y_test)) for name, data in loaded.items()}
    # validates every configuration
    trials, rows = plan_study(study, profile, infos, seeds, selection_only)
    check_compares_something(study, rows)
    done = set(done)
    pending = [trial for key, trial in trials.items() if key not in done]
    if callable(
        calibration
    ):  # measured (or read from its cache) only when there is something to train
        calibration = calibration() if pending else None
    plan = RunPlan(
        study,
        profile,
        trials,
        tuple(rows),
        infos,
        {name: data.describe() for name, data in loaded.items()},
        sizes,
        load_seconds,
        tuple(longest_first(pending, sizes, calibration or DEFAULT)),
        calibration,
        None,
        loaded,
    )
    if calibration is None:
        return plan
    return dataclasses.replace(plan, estimate=plan.estimate_for(workers))


def stored_keys(store_path: str | Path) -> frozenset[str]:
    """Keys of the trials the store at ``store_path`` needs not train again (none when there is no store
    yet: nothing is created). Raises StudyError for a store this version cannot read."""
    if not Path(store_path).is_file():
        return frozenset()
    with Store(store_path, create=False) as store:
        return frozenset(store.done_keys())


def run_study(
    study: Study,
    profile: Profile,
    store_path: str | Path,
    execution: Execution | None = None,
    log: Callable[[str], None] | None = None,
    calibration: Calibration | Callable[[], Calibration | None] | None = None,
    origins: dict[str, str] | None = None,
    seeds: SeedCounts | None = None,
    loaded: dict[str, Dataset] | None = None,
    stages: Sequence[Stage] = (),
    selection_only: bool = False,
) -> RunCounts:
    """Train every missing trial of ``study`` under ``profile`` where ``execution`` says (default:
    ``Execution.build()``, a local Dask cluster); returns what it did (``RunCounts``).

    With a ``calibration`` (study.plan.estimate; a callable is called only if something is to train) the
    first line and the run record carry the estimated wall time. ``origins`` (see ``plan_run``) checks a
    custom budget; ``seeds`` and ``loaded`` as for ``plan_run`` (``study.sequential`` runs one look at a time and
    passes ``stages``, the seeds its looks added and why, to be stored with the study spec; and
    ``selection_only`` to train the grids' selection phase before their confirmation).
    Raises StudyError (ConfigError, DataError) before anything is written."""
    started = time.perf_counter()
    execution = execution or Execution.build()
    workers = execution.workers
    if Path(
        store_path
    ).is_file():  # another program's file or a damaged store: refused, no lock beside it
        inspect(Path(store_path))
    lock = StoreLock(
        store_path
    ).acquire()  # a second run on this store refuses here, before reading or writing
    try:
        plan = plan_run(
            study,
            profile,
            stored_keys(store_path),
            workers,
            calibration,
            origins,
            seeds,
            loaded,
            selection_only,
        )
        store = Store(store_path)
    except BaseException:
        lock.release()
        raise
    try:
        store.save_plan(
            study.name,
            profile.name,
            {**plan.spec, "stages": [stage.to_dict() for stage in stages]},
            plan.rows,
            {key: trial.spec for key, trial in plan.trials.items()},
        )
        for data in plan.loaded.values():  # what the trials' predictions are of
            store.save_test_set(data.fingerprint, data.name, data.test_indices, data.y_test)
        missing, estimate = list(plan.pending), plan.estimate
        env = environment(
            profile=profile.name,
            scheduler=execution.scheduler or str(execution.where),
            workers=workers,
            threads_per_worker=execution.threads,
            **(
                {}
                if estimate is None
                else {
                    "estimated_seconds": round(time.perf_counter() - started + estimate.seconds, 1)
                }
            ),
        )
        say = log or (lambda line: print(line, file=sys.stderr))
        say(
            f"{study.name} [{profile.name}]: {counted(len(plan.trials), 'trial')}, {plan.stored} stored, "
            f"{len(missing)} to train"
            + (
                f", estimated {duration(estimate.seconds)} on {estimate.workers} "
                f"worker{'s' * (estimate.workers > 1)}"
                if estimate and missing
                else ""
            )
        )
        state = _RunState(
            RunCounts(len(plan.trials), plan.stored),
            time.perf_counter(),
            set(),
            _labels(plan.rows),
            {name: train for name, (train, _) in plan.sizes.items()},
            {
                name: ConstantAnswer.from_counts(facts["test_class_counts"])
                for name, facts in plan.described.items()
            },
            {
                name: ConstantAnswer.from_counts(facts["train_class_counts"])
                for name, facts in plan.described.items()
            },
            {trial.key: trial_cost(trial, plan.sizes).seconds(DEFAULT) for trial in missing},
        )
        if estimate is not None and plan.calibration is not None and missing:
            state.startup = startup_seconds(plan.calibration, workers)
            state.planned = max(0.0, estimate.seconds - state.startup)
        counts = state.counts
        if missing:  # a run record describes where and how trials were trained
            run_id = store.start_run(study.name, profile.name, env, len(plan.trials))
            try:
                with RunLog(log_path(store_path)) as run_log:
                    counts.log = str(run_log.path)
                    _execute(missing, store, state, execution, say)
            finally:
                store.finish_run(
                    run_id,
                    counts.trained,
                    counts.failed,
                    time.perf_counter() - started,
                    {"worker_tensorflow": sorted(state.devices)},
                )
        counts.seconds = time.perf_counter() - state.started
        return counts
    finally:
        store.close()
        lock.release()


def _labels(rows: Iterable[PlanRow]) -> dict[str, str]:
    """``experiment = value`` of each trial key, for the progress lines (the baseline lists its uses)."""
    uses: dict[str, list] = {}
    for row in rows:
        uses.setdefault(row.trial_key, []).append((row.experiment, row.value, row.is_baseline))
    return {key: describe_uses(found) for key, found in uses.items()}


@dataclass
class _RunState:
    """The counts a run returns, plus what only the driver needs while it runs."""

    counts: RunCounts
    started: float
    devices: set[str]  # the workers' TensorFlow devices and threads, as recorded with the run
    labels: dict[str, str]  # trial key -> "experiment = value" for the progress lines
    train_images: dict[str, int]  # dataset -> training images per epoch
    answers: dict[
        str, ConstantAnswer
    ]  # dataset -> the best constant answer on its test subset (the outcome rule)
    # dataset -> the same on a validation split held out of its training subset (a grid's selection cells)
    held_out: dict[str, ConstantAnswer] = field(default_factory=dict)
    # trial key -> its modelled seconds (study.plan.estimate at the built-in calibration): the ETA weighs the
    # trials still to come by these, since the longest trials run first and a count-based ETA starts far
    # too high
    costs: dict[str, float] = field(default_factory=dict)
    cost_done: float = 0.0
    # the plan's estimate of this run's training after startup, and the startup (cluster, first imports) it
    # expects before the first trial ends; None: no estimate
    planned: float | None = None
    startup: float = 0.0


def eta_seconds(
    elapsed: float,
    cost_done: float,
    cost_total: float,
    trained: int,
    left: int,
    planned: float | None = None,
    startup: float = 0.0,
) -> float:
    """Seconds still to go: the elapsed time less the startup, scaled by the modelled cost still to train
    over the cost trained so far (the longest trials run first, so counting trials would start far too
    high); by trial counts where no cost is known. With the plan's estimate of the training (``planned``
    seconds after ``startup``), the two are weighed by the share of the cost trained: the first trials'
    time says little (the startup and the workers' first graphs fall on them), the last ones' a lot."""
    if cost_done <= 0:
        return elapsed / max(1, trained) * left
    cost_left = max(0.0, cost_total - cost_done)
    observed = max(0.0, elapsed - startup) * cost_left / cost_done
    if planned is None or cost_total <= 0:
        return observed
    share = min(1.0, cost_done / cost_total)
    return share * observed + (1 - share) * planned * cost_left / cost_total


def _record(store: Store, trial: Trial, result: TrialResult, state: _RunState, bar, say) -> None:
    store.save_trial(trial.spec, result)
    counts = state.counts
    answers = state.held_out if trial.settings.validation else state.answers
    outcome = final_outcome(
        result, answers.get(trial.dataset.name, state.answers[trial.dataset.name])
    )
    counts.add(result.status, outcome, len(result.epochs) * state.train_images[trial.dataset.name])
    device = result.device
    if device:  # e.g. "CPU, 1 intra-op / 1 inter-op threads"
        kinds = "+".join(sorted(set(device["devices"]))) + "".join(
            f" ({g})" for g in sorted(set(device.get("gpus", [])))
        )
        state.devices.add(
            f"{kinds}, {device['intra_op_threads']} intra-op / "
            f"{device['inter_op_threads']} inter-op threads"
        )
    done, total = counts.stored + counts.trained, counts.planned
    elapsed = time.perf_counter() - state.started
    state.cost_done += state.costs.get(trial.key, 0.0)
    eta = eta_seconds(
        elapsed,
        state.cost_done,
        sum(state.costs.values()),
        counts.trained,
        total - done,
        state.planned,
        state.startup,
    )
    line = trial_line(
        state.labels.get(trial.key, trial.key),
        trial.dataset.name,
        trial.seed,
        result,
        outcome,
        done,
        total,
        eta,
    )
    if bar is not None:
        bar.set_postfix(failed=counts.failed, diverged=counts.diverged)
        bar.update(1)
        bar.write(line, file=sys.stderr)
    else:
        say(line)


def _execute(
    missing: list[Trial], store: Store, state: _RunState, execution: Execution, say
) -> None:
    from study.train.worker import train_trial

    bar = None
    if execution.progress:
        from tqdm import tqdm

        # A bar on a terminal; elsewhere (CI logs) the per-trial lines carry done/total and ETA.
        bar = tqdm(
            total=len(missing),
            unit="trial",
            desc="trials",
            file=sys.stderr,
            dynamic_ncols=True,
            disable=None,
        )
    try:
        if execution.where == Where.IN_PROCESS:
            for trial in missing:
                _record(store, trial, train_trial(trial.spec, execution.threads), state, bar, say)
            return
        _execute_dask(missing, store, state, execution, bar, say)
    finally:
        if bar is not None:
            bar.close()


# Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 before it spawns a worker. Setting it at all turns off
# glibc's dynamic mmap threshold, so every large TensorFlow buffer is mmap'ed and unmapped again: the
# baseline LeNet then trains at half speed (866 vs 1,853 images/s measured, docs/PERFORMANCE.md).
# Large thresholds for both restore the default behaviour.
MALLOC_ENV = {
    "MALLOC_TRIM_THRESHOLD_": str(256 * 1024 * 1024),
    "MALLOC_MMAP_THRESHOLD_": str(256 * 1024 * 1024),
}


def _log_of(store: Store) -> str:
    return str(log_path(store.path).resolve())


def _execute_dask(
    missing: list[Trial], store: Store, state: _RunState, execution: Execution, bar, say
) -> None:
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    from study.train.worker import train_trial

    cluster = None
    scheduler, threads = execution.scheduler, execution.threads
    # Local workers: quiet TensorFlow start-up, and their stdout/stderr (C++ lines, retracing warnings,
    # heartbeat tracebacks at shutdown) to the run's log file via the study.run.console preload.
    local = (
        {}
        if scheduler
        else {
            **QUIET_ENV,
            LOG_ENV: os.environ.get(LOG_ENV) or _log_of(store),
            "STUDY_ONE_GPU_PER_WORKER": "1",
        }
    )
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **MALLOC_ENV, **local}
    dask.config.set(
        {
            "distributed.scheduler.allowed-failures": 3,
            "logging.distributed": "error",
            "distributed.nanny.pre-spawn-environ": environ,
            "distributed.worker.preload": [] if scheduler else ["study.run.console"],
        }
    )
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as err:
                raise StudyError(
                    f"cannot reach Dask scheduler {scheduler!r} ({err}); "
                    "expected tcp://HOST:PORT of a running `dask scheduler`"
                ) from None
        else:
            cluster = LocalCluster(
                n_workers=execution.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )
            client = Client(cluster)
        by_key = {}
        futures = []
        for trial in missing:
            future = client.submit(
                train_trial, trial.spec, threads, key=f"trial-{trial.key}", pure=False
            )
            by_key[future.key] = trial
            futures.append(future)
        for future in as_completed(futures):
            trial = by_key[future.key]
            try:
                result = future.result()
            except Exception as err:  # e.g. KilledWorker after repeated worker deaths
                result = TrialResult.failed(trial.key, f"{type(err).__name__}: {err}")
            _record(store, trial, result, state, bar, say)
            future.release()
        client.close()
    finally:
        if cluster is not None:
            cluster.close()
