"""Train one trial deterministically and return its per-epoch record (runs inside a worker).

    init_tensorflow(threads=1)
    result = train_trial(trial.spec)  # a study.plan.trials.TrialSpec
    result.status, result.last["val_accuracy"]

Determinism: initial weights drawn with per-layer seeds derived from the trial seed, TensorFlow op
determinism, and a seeded NumPy shuffle (see ``study.train.fastfit``): the same trial on the same machine
gives identical numbers, in this process or a Dask worker, whether or not the worker traced its graph
for an earlier trial. A NaN or infinite loss stops the trial as ``diverged``.

Times (seconds) kept apart: ``load_seconds`` (the dataset subset, 0 when this process has it cached, plus
its copy into tensors), ``trace_seconds`` (building and tracing the graph, 0.0 when the worker had it) and
``train_seconds`` (the sum of ``epoch_seconds``: training and validation, neither of the others).
"""

from __future__ import annotations

import logging
import math
import os
import time
import traceback
from typing import Any

from study.plan.trials import TrialSpec
from study.records import TrialResult, TrialStatus

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF 2.21 logs spurious NodeDef errors

_INITIALISED: dict[str, Any] = {}


def quiet_tensorflow_logger() -> None:
    """TensorFlow adds a console handler to its logger on import; drop it while a RunLog is active."""
    logger = logging.getLogger("tensorflow")
    if any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler:
                logger.removeHandler(handler)


def init_tensorflow(threads: int | None = None) -> dict[str, Any]:
    """Set thread counts and op determinism once per process (before any TensorFlow op runs)."""
    if _INITIALISED:
        return dict(_INITIALISED)
    import tensorflow as tf

    quiet_tensorflow_logger()
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            # TensorFlow already ran an op in this process (an export, a test, a notebook): its thread
            # counts are fixed. The trial trains with them; the run record states the counts it got.
            logging.getLogger(__name__).warning(
                "TensorFlow was initialised before this trial: keeping its thread counts, not %d",
                threads,
            )
    gpus = _choose_gpu(tf)
    tf.config.experimental.enable_op_determinism()
    _INITIALISED.update(
        {
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "devices": [d.device_type for d in tf.config.list_logical_devices()],
            "gpus": [
                tf.config.experimental.get_device_details(g).get("device_name", g.name)
                for g in gpus
            ],
        }
    )
    return dict(_INITIALISED)


def _choose_gpu(tf) -> list:
    """A local cluster worker (``STUDY_ONE_GPU_PER_WORKER``) keeps one GPU, by its worker number."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus and os.environ.get("STUDY_ONE_GPU_PER_WORKER"):
        from study.train.devices import gpu_for_worker

        try:
            from distributed import get_worker

            name = get_worker().name
        except (ImportError, ValueError):
            name = None
        index = gpu_for_worker(name, len(gpus))
        if index is not None:
            tf.config.set_visible_devices(gpus[index], "GPU")
            gpus = [gpus[index]]
    for gpu in gpus:  # a worker takes the memory it needs, not the whole card
        tf.config.experimental.set_memory_growth(gpu, True)
    return gpus


def _finite(value: float) -> bool:
    return value is not None and math.isfinite(value)


def train_trial(spec: TrialSpec, threads: int | None = None) -> TrialResult:
    """Train the trial ``spec`` with ``threads`` TensorFlow threads (None: TensorFlow's default, set once per
    process); never raises: errors become a ``failed`` result."""
    start = time.perf_counter()
    result = TrialResult(spec.key, worker=f"{os.uname().nodename}:{os.getpid()}")
    try:
        _train(spec, threads, result)
    except Exception as err:  # a failed trial is recorded, the study goes on
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        result.status, result.error = TrialStatus.FAILED, last.splitlines()[0][:500]
    result.wall_seconds = time.perf_counter() - start
    return result


def _train(spec: TrialSpec, threads: int | None, result: TrialResult) -> None:
    result.device = init_tensorflow(threads)
    from study.plan.data import load_scaled
    from study.train.fastfit import fit

    started = time.perf_counter()
    data = load_scaled(
        spec.dataset,
        spec.train_size,
        spec.test_size,
        spec.data_seed,
        spec.settings.input_scaling,
        spec.settings.validation,
    )
    load_seconds = time.perf_counter() - started
    if data.fingerprint != spec.fingerprint:
        raise RuntimeError(
            f"dataset {spec.dataset} here has fingerprint {data.fingerprint}, "
            f"the planner saw {spec.fingerprint}"
        )

    def record(row: dict[str, Any]) -> bool:
        result.epochs.append(row)
        if _finite(row["loss"]) and _finite(row["val_loss"]):
            return True
        result.status, result.diverged_epoch = TrialStatus.DIVERGED, row["epoch"]
        return False

    fitted = fit(spec.model, spec.settings, spec.seed, data, record)
    result.params, result.trace_seconds = fitted.params, fitted.trace_seconds
    if fitted.predictions is not None and not spec.settings.validation:  # test images only
        result.predictions = fitted.predictions.tobytes()
    result.load_seconds = load_seconds + fitted.tensor_seconds
    result.train_seconds = sum(e["epoch_seconds"] for e in result.epochs)
