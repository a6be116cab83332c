"""Measure this machine for the time model of ``study.plan.estimate`` (imports TensorFlow).

    python -m study.train.calibration   # one JSON line: a Calibration (about 15 s on 2 cores)

``study.plan.estimate.calibrate`` runs this module in a subprocess, so planning itself stays
TensorFlow-free; the result is cached per machine (``~/.cache/study``) and beside each store.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from study.plan.estimate import CLUSTER_SECONDS, Calibration, machine_key


def measure_calibration(images: int = 512, validation: int = 256, epochs: int = 2) -> Calibration:
    """Train the baseline LeNet on random data of both input shapes with one thread, as a worker does.

    Per shape: trial 1 (batch 32) traces the graph, trial 2 (batch 32) and trial 3 (batch 128) reuse it.
    Steady epochs give macs_per_second and step_seconds (least squares over the two batch sizes);
    trial 2's time beyond its epochs gives trial_seconds; trial 1 minus trial 2 gives trace_seconds.
    """
    started = time.perf_counter()
    from study.train.worker import init_tensorflow

    init_tensorflow(threads=1)
    from study.train.fastfit import fit

    import_seconds = time.perf_counter() - started
    import numpy as np

    from study.declare.config import Settings
    from study.plan.shapes import summarize

    rng = np.random.default_rng(0)
    rows, traces, overheads = [], [], []
    for shape in ((28, 28, 1), (32, 32, 3)):
        data = _RandomData(
            rng.random((images, *shape), dtype=np.float32),
            rng.integers(0, 10, images, dtype=np.int32),
            rng.random((validation, *shape), dtype=np.float32),
            rng.integers(0, 10, validation, dtype=np.int32),
        )
        base = Settings(epochs=epochs, learning_rate=0.01)
        config = base.model_config(shape)
        macs = summarize(config).macs
        walls = []
        for seed, batch in ((1, 32), (2, 32), (3, 128)):
            settings = base.with_values(batch_size=batch)
            epochs_seen: list[dict] = []
            begin = time.perf_counter()
            fit(config, settings, seed, data, lambda row: epochs_seen.append(row) or True)  # noqa: B023
            walls.append(time.perf_counter() - begin)
            if seed > 1:
                steps = math.ceil(images / batch) + math.ceil(validation / settings.val_batch_size)
                rows += [
                    ((3 * images + validation) * macs, steps, e["epoch_seconds"])
                    for e in epochs_seen
                ]
            if seed == 2:
                overheads.append(walls[-1] - sum(e["epoch_seconds"] for e in epochs_seen))
        traces.append(walls[0] - walls[1])
    work, steps, seconds = (np.array(column, dtype=float) for column in zip(*rows))
    (per_mac, per_step), *_ = np.linalg.lstsq(np.column_stack([work, steps]), seconds, rcond=None)
    if per_step < 0:  # noise: all of it is compute
        per_mac, per_step = float(work @ seconds / (work @ work)), 0.0
    return Calibration(
        macs_per_second=1 / per_mac,
        step_seconds=float(per_step),
        trial_seconds=max(0.0, float(np.mean(overheads))),
        trace_seconds=max(0.0, float(np.mean(traces))),
        startup_seconds=CLUSTER_SECONDS + import_seconds,
        machine=machine_key(),
        source="measured",
    )


@dataclass(frozen=True)
class _RandomData:
    x_train: object
    y_train: object
    x_test: object
    y_test: object


if __name__ == "__main__":  # the calibration subprocess: one JSON line on stdout
    print(json.dumps(measure_calibration().to_dict()))
