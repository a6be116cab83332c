"""What a run will cost before it starts: images, multiply-accumulates and wall time on N workers.

    calibration = calibrate("output/study.sqlite")  # measured once per machine, kept beside the store
    estimate = estimate_run([trial_cost(t, sizes) for t in longest_first(missing, sizes)], 2, calibration)
    estimate.seconds, estimate.macs

The time model, per trial on one single-threaded worker:

    trial_seconds + epochs x ((3 x train images + validation images) x MACs per image / macs_per_second
                              + (train steps + validation steps) x step_seconds)

(training costs about three forward passes per image, forward and backward; validation one), plus
``trace_seconds`` when the worker has not traced that graph yet (``study.train.fastfit`` keeps 24 per worker,
oldest dropped first) and the dataset's load time the first time a worker uses it. Trials are
submitted longest first and each goes to the worker that is free first (list scheduling, as Dask
does with the runner's queue); the run adds ``startup_seconds`` (Dask cluster, TensorFlow import in
the workers, shutdown). The constants are measured by ``study.train.calibration`` in a subprocess that
trains the baseline LeNet for a few seconds on random data of both input shapes with one thread,
as a worker does. Trials that diverge stop early, so the estimate is an upper bound for them.

This module never imports TensorFlow: the measurement is ``study.train.calibration``, run as
``python -m study.train.calibration`` in a subprocess.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import math
import os
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from study.files import write_text
from study.plan.trials import TRAINER_VERSION, Trial, graph_key

GRAPH_CACHE = 24  # traced graphs kept per worker process (study.train.fastfit keeps this many)
CLUSTER_SECONDS = (
    3.0  # LocalCluster start (0.9 s) and close (2.0 s), measured on 2 cores (docs/PERFORMANCE.md)
)
CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """The measured constants of the time model for one machine (see the module docstring)."""

    macs_per_second: float  # multiply-accumulates per second of one single-threaded worker
    step_seconds: float  # fixed cost of one batch step, training or validation
    trial_seconds: (
        float  # per trial: fresh seeded weights, optimiser reset, Dask task, store write
    )
    trace_seconds: float  # build and trace a graph the worker has not traced yet
    startup_seconds: (
        float  # per run: Dask cluster start and close, TensorFlow import in the workers
    )
    machine: str = ""  # what it was measured on (CPU, cores, TensorFlow, trainer version)
    source: str = ""  # where it came from: measured now, or the cache file

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# Order-of-magnitude constants of the development machine (2 cores of an AMD EPYC): used to order trials
# longest first when no calibration is at hand; only their ratios matter there.
DEFAULT = Calibration(
    macs_per_second=1.4e10,
    step_seconds=6e-4,
    trial_seconds=0.15,
    trace_seconds=1.2,
    startup_seconds=8.0,
    machine="default",
    source="built-in constants",
)


def machine_key() -> str:
    """What a calibration is valid for: CPU model, cores, TensorFlow version and trainer version."""
    from importlib import metadata

    from study.environment import cpu_model

    try:
        tensorflow = metadata.version("tensorflow-cpu")
    except metadata.PackageNotFoundError:
        try:
            tensorflow = metadata.version("tensorflow")
        except metadata.PackageNotFoundError:
            tensorflow = "none"
    return f"{cpu_model()} x{os.cpu_count()}, tensorflow {tensorflow}, trainer {TRAINER_VERSION}"


# ------------------------------------------------------------------ calibration


def calibration_path(store_path: str | Path) -> Path:
    return Path(store_path).parent / CALIBRATION_FILE


def save_calibration(path: str | Path, calibration: Calibration) -> None:
    write_text(path, json.dumps(calibration.to_dict(), indent=1, sort_keys=True) + "\n")


def load_calibration(path: str | Path) -> Calibration | None:
    """The cached calibration at ``path`` if it was measured on this machine, else None."""
    try:
        data = json.loads(Path(path).read_text())
        fields = {f.name for f in dataclasses.fields(Calibration)}
        calibration = Calibration(**{k: v for k, v in data.items() if k in fields})
    except (OSError, ValueError, TypeError):
        return None
    if calibration.machine != machine_key():
        return None
    return dataclasses.replace(calibration, source=str(path))


def machine_cache() -> Path:
    """This machine's calibration for every store: ``$XDG_CACHE_HOME/study`` (default ``~/.cache/study``)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "study" / CALIBRATION_FILE


def calibrate(store_path: str | Path, refresh: bool = False) -> Calibration:
    """The calibration cached beside the store, else this machine's cached one (copied beside the store),
    else a fresh measurement (about 15 s) saved in both places."""
    path = calibration_path(store_path)
    if not refresh:
        cached = load_calibration(path)
        if cached is not None:
            return cached
        shared = load_calibration(machine_cache())
        if shared is not None:
            try:
                save_calibration(path, shared)
            except OSError:  # a store in a read-only folder: plan reads it all the same
                return dataclasses.replace(shared, source=str(machine_cache()))
            return dataclasses.replace(shared, source=f"{machine_cache()}, copied to {path}")
    from study.errors import StudyError

    out = subprocess.run(
        [sys.executable, "-m", "study.train.calibration"],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if out.returncode != 0:
        raise StudyError(
            f"calibration failed: {(out.stderr.strip().splitlines() or ['no output'])[-1]}"
        )
    try:
        calibration = Calibration(**json.loads(out.stdout.strip().splitlines()[-1]))
    except (ValueError, TypeError, IndexError) as err:
        raise StudyError(f"calibration failed: unreadable result ({err})") from None
    saved = []
    for place in (path, machine_cache()):  # a read-only home, or a store in a read-only folder
        try:
            save_calibration(place, calibration)
            saved.append(str(place))
        except OSError:
            pass
    return dataclasses.replace(
        calibration,
        source=f"measured now, saved in {' and '.join(saved)}"
        if saved
        else "measured now, not saved",
    )


# ------------------------------------------------------------------ the model


@dataclass(frozen=True)
class TrialCost:
    """One trial as the time model sees it."""

    key: str
    dataset: str
    graph: (
        str  # study.plan.trials.graph_key: trials with the same graph share one trace on a worker
    )
    epochs: int
    train_images: int
    test_images: int
    macs: int  # forward multiply-accumulates per image
    batch_size: int
    val_batch_size: int

    @property
    def total_macs(self) -> int:
        return self.epochs * (3 * self.train_images + self.test_images) * self.macs

    @property
    def images(self) -> int:
        return self.epochs * (self.train_images + self.test_images)

    def seconds(self, calibration: Calibration) -> float:
        """Time on a worker that has traced this graph and loaded this dataset already."""
        steps = math.ceil(self.train_images / self.batch_size) + math.ceil(
            self.test_images / self.val_batch_size
        )
        return calibration.trial_seconds + self.epochs * (
            (3 * self.train_images + self.test_images) * self.macs / calibration.macs_per_second
            + steps * calibration.step_seconds
        )


def trial_cost(trial: Trial, sizes: dict[str, tuple[int, int]]) -> TrialCost:
    """``trial`` with the real image counts of its dataset (``sizes``: dataset -> (train, test) images)."""
    settings = trial.settings
    train, test = sizes[trial.dataset.name]
    return TrialCost(
        trial.key,
        trial.dataset.name,
        graph_key(settings, trial.model),
        settings.epochs,
        train,
        test,
        trial.macs,
        settings.batch_size,
        settings.val_batch_size,
    )


def longest_first(
    trials: Iterable, sizes: dict[str, tuple[int, int]], calibration: Calibration = DEFAULT
) -> list:
    """The runner's submission order of ``trials``: most expensive first (stable for equal costs)."""
    return sorted(
        trials, key=lambda trial: trial_cost(trial, sizes).seconds(calibration), reverse=True
    )


def makespan(
    costs: list[TrialCost],
    workers: int,
    calibration: Calibration,
    data_seconds: dict[str, float] | None = None,
) -> float:
    """List scheduling: each trial, in the given order, goes to the worker that is free first; a worker
    pays ``trace_seconds`` for a graph it does not hold (FIFO cache of ``GRAPH_CACHE``) and
    ``data_seconds[dataset]`` the first time it uses a dataset. Returns when the last worker is done."""
    workers = max(1, workers)
    free = [(0.0, index) for index in range(workers)]
    traced: list[OrderedDict[str, None]] = [OrderedDict() for _ in range(workers)]
    loaded: list[set[str]] = [set() for _ in range(workers)]
    finish = 0.0
    for cost in costs:
        at, index = heapq.heappop(free)
        seconds = cost.seconds(calibration)
        if cost.graph not in traced[index]:
            seconds += calibration.trace_seconds
            if len(traced[index]) >= GRAPH_CACHE:
                traced[index].popitem(last=False)
            traced[index][cost.graph] = None
        if cost.dataset not in loaded[index]:
            seconds += (data_seconds or {}).get(cost.dataset, 0.0)
            loaded[index].add(cost.dataset)
        finish = max(finish, at + seconds)
        heapq.heappush(free, (at + seconds, index))
    return finish


@dataclass(frozen=True)
class Estimate:
    trials: int
    images: int  # training and validation images over all epochs
    macs: int  # multiply-accumulates: 3 per training image and MAC, 1 per validation image and MAC
    workers: int
    seconds: float  # wall time: startup plus the list schedule (0 when nothing is to train)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def startup_seconds(calibration: Calibration, workers: int) -> float:
    """The seconds a run spends before its first trial trains: the cluster (none in-process, ``workers``
    0) and the first imports."""
    return calibration.startup_seconds - (CLUSTER_SECONDS if workers == 0 else 0.0)


def estimate_run(
    costs: list[TrialCost],
    workers: int,
    calibration: Calibration,
    data_seconds: dict[str, float] | None = None,
) -> Estimate:
    """The estimate for training ``costs`` (already in submission order) on ``workers`` workers
    (0 = in this process: no cluster, one at a time)."""
    seconds = 0.0
    if costs:
        seconds = startup_seconds(calibration, workers) + makespan(
            costs, workers, calibration, data_seconds
        )
    return Estimate(
        len(costs),
        sum(c.images for c in costs),
        sum(c.total_macs for c in costs),
        max(1, workers),
        seconds,
    )


def quantity(count: float) -> str:
    """``950``, ``12.3 M``, ``4.56 G``, ``1.23 T``, ``7.89 P``: counts of images or MACs, readable."""
    for factor, unit in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M")):
        if count >= factor:
            return f"{count / factor:.3g} {unit}"
    return f"{count:,.0f}"


def duration(seconds: float) -> str:
    """``42 s``, ``3.5 min``, ``7.2 h`` or ``3.1 days``."""
    if seconds < 100:
        return f"{seconds:.0f} s"
    if seconds < 6000:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
