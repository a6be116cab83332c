"""What ``study run`` tells its user: one line per finished trial, a closing summary, the rest to a log file.

    trial_line("kernel = 3", "mnist", 1, result, "collapsed", done=3, total=10, eta_seconds=90)  # a TrialResult
    # '[3/10, eta 90 s] kernel = 3, mnist, seed 1: accuracy 0.1000 (collapsed), 4.2 s'

TensorFlow's C++ start-up lines, absl and retracing warnings, and Dask's own logging (the worker
heartbeat tracebacks at shutdown among them) go to ``study-run.log`` beside the store, which the
summary names. A failed trial, a bad input or a crash of the driver still reaches the console.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from study.plan.estimate import duration
from study.records import RunCounts, TrialResult, TrialStatus
from study.results.outcomes import COLLAPSED, ConstantAnswer, Outcome, outcome
from study.words import counted

LOG_NAME = "study-run.log"
LOGGERS = ("distributed", "tornado", "tensorflow", "absl", "h5py", "py.warnings")
# Read by TensorFlow's C++ runtime, gRPC and absl at start-up, so they must be in a worker's environment
# before it imports TensorFlow. Level 3 also hides TF 2.21's spurious NodeDef errors.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR", "GLOG_minloglevel": "3"}
LOG_ENV = (
    "STUDY_WORKER_LOG"  # a local worker sends its stdout/stderr to this file (see redirect_output)
)


def log_path(store_path: str | Path) -> Path:
    return Path(store_path).parent / LOG_NAME


def final_outcome(result: TrialResult, answer: ConstantAnswer) -> Outcome | None:
    """learned / collapsed / diverged for a finished trial, None if it failed (``study.results.outcomes``);
    ``answer`` is the best constant answer on the trial's test set."""
    return outcome(result.status, result.last.get("val_accuracy"), answer)


def describe_uses(uses: Iterable[tuple[str, str, bool]]) -> str:
    """``experiment = value`` of a trial; a trial shared by several experiments (the baseline) lists them.

    >>> describe_uses([("kernel", "3", False)])
    'kernel = 3'
    >>> describe_uses([("kernel", "5", True), ("lr", "0.1", True), ("stride", "1", True)])
    'baseline (kernel = 5, lr = 0.1, stride = 1)'
    """
    uses = list(dict.fromkeys(uses))
    names = [f"{experiment} = {value}" for experiment, value, _ in uses]
    if len(names) == 1:
        return names[0]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"baseline ({shown})" if all(base for _, _, base in uses) else shown


def short_uses(uses: str, shown: int = 2) -> str:
    """A trial's uses as ``study list`` shows them: the first two, then how many more.

    >>> short_uses("kernel=5, lr=0.1, stride=1, solver=sgd")
    'kernel=5, lr=0.1 +2 more'
    """
    parts = [part for part in uses.split(", ") if part]
    return ", ".join(parts[:shown]) + (
        f" +{len(parts) - shown} more" if len(parts) > shown else ""
    )


def trial_line(
    label: str,
    dataset: str,
    seed: int,
    result: TrialResult,
    outcome: str | None,
    done: int,
    total: int,
    eta_seconds: float,
) -> str:
    accuracy = result.last.get("val_accuracy")
    if result.status == TrialStatus.FAILED:
        detail = f"FAILED: {result.error}"
    elif result.status == TrialStatus.DIVERGED:
        detail = f"diverged at epoch {result.diverged_epoch}"
    else:
        detail = f"accuracy {accuracy:.4f}" if accuracy is not None else "no accuracy"
        detail += " (collapsed)" if outcome == COLLAPSED else ""
    seconds = result.train_seconds or result.wall_seconds or 0.0
    eta = f"eta {duration(eta_seconds)}" if done < total else "done"
    return f"[{done}/{total}, {eta}] {label}, {dataset}, seed {seed}: {detail}, {seconds:.1f} s"


def summary_line(counts: RunCounts, store: str | Path) -> str:
    """The closing line of a run: what was trained, what became of it, how fast, where the logs are."""
    outcomes = ", ".join(
        f"{getattr(counts, k)} {k}"
        for k in (Outcome.LEARNED, Outcome.COLLAPSED, TrialStatus.DIVERGED, TrialStatus.FAILED)
    )
    line = f"{counted(counts.planned, 'trial')}: {counts.stored} already stored, {counts.trained} trained ({outcomes})"
    if counts.trained and counts.seconds:
        line += f" in {_duration(counts.seconds)}, {counts.images / counts.seconds:,.0f} images/s"
    line += f" -> {store}"
    if counts.log:
        line += f"; worker and TensorFlow logs: {counts.log}"
    return line


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


class RunLog:
    """Route the driver's library loggers to the run's log file while it trains (restored afterwards).

    with RunLog("output/study-run.log"):
        ...  # Dask and TensorFlow log here, not on the console
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.saved: list[tuple[logging.Logger, list, bool]] = []
        self.env: dict[str, str | None] = {}

    def __enter__(self) -> RunLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handler = logging.FileHandler(self.path, mode="w")
        self.handler.setFormatter(
            logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
        )
        for name in LOGGERS:
            logger = logging.getLogger(name)
            self.saved.append((logger, list(logger.handlers), logger.propagate))
            for handler in list(logger.handlers):
                if isinstance(handler, logging.StreamHandler) and not isinstance(
                    handler, logging.FileHandler
                ):
                    logger.removeHandler(handler)
            logger.addHandler(self.handler)
            logger.propagate = False
        self.handler.setLevel(logging.INFO)
        logging.captureWarnings(
            True
        )  # e.g. Dask's "Port 8787 is already in use" -> py.warnings -> the file
        for key, value in QUIET_ENV.items():  # for TensorFlow in this process (``--workers 0``)
            self.env[key] = os.environ.get(key)
            os.environ.setdefault(key, value)
        return self

    def __exit__(self, *exc) -> None:
        logging.captureWarnings(False)
        for logger, handlers, propagate in self.saved:
            logger.removeHandler(self.handler)
            for handler in handlers:
                if handler not in logger.handlers:
                    logger.addHandler(handler)
            logger.propagate = propagate
        for key, value in self.env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self.handler.close()


def redirect_output(path: str | None = None) -> None:
    """In a local Dask worker: send file descriptors 1 and 2 (C++ and Python output alike) to the log.

    Called once per worker process before TensorFlow is imported; a no-op without ``STUDY_WORKER_LOG``,
    which only the local cluster's worker environment carries (never the driver's: that is the console).
    """
    path = path or os.environ.get(LOG_ENV)
    if not path or os.environ.get("STUDY_WORKER_REDIRECTED"):
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ["STUDY_WORKER_REDIRECTED"] = "1"


def dask_setup(worker=None) -> None:
    """Dask preload hook (``distributed.worker.preload: [study.run.console]``): quiet a local worker at start."""
    redirect_output()
