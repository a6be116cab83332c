"""Throughput, side by side in one process: plain ``model.fit`` vs the project's trainer vs numpy sgemm.

    STUDY_DATA_DIR=../shared/datasets .venv/bin/python benchmarks/throughput.py [--images 2048] [--epochs 3]

(a) the baseline LeNet trained with plain ``model.fit`` as a Keras user writes it; (b) the same trial
through ``study.train.worker.train_trial`` (``study.train.fastfit``); (c) the machine's float32 matrix-multiply
rate measured with numpy. Prints images/s of (a) and (b), their ratio, and (b) as a fraction of the
peak implied by (c), and writes the numbers as JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def sgemm_gflops(size: int = 1024, repeats: int = 10) -> float:
    import numpy as np

    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((size, size), dtype=np.float32)
    a @ b  # warm up
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


def plain_fit(data, settings, config, seed: int) -> tuple[float, float, float]:
    """(a): images/s of the timed epochs, first-epoch seconds (build and trace), final val accuracy."""
    import keras

    from study.train.model import build_model, make_optimizer

    keras.utils.set_random_seed(seed)
    model = build_model(config)
    model.compile(
        optimizer=make_optimizer(settings.optimizer, settings.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.started)

    started = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        validation_data=(data.x_test, data.y_test),
        validation_batch_size=settings.val_batch_size,
        verbose=0,
        callbacks=[Timer()],
    )
    total = time.perf_counter() - started
    steady = times[1:] or times
    images = len(data.y_train) * len(steady)
    return images / sum(steady), total, history.history["val_accuracy"][-1]


def project_trainer(spec) -> tuple[float, float, float, str]:
    """Images per second of the project's trainer on the trial ``spec`` (a study.plan.trials.TrialSpec)."""
    from study.train.worker import train_trial

    started = time.perf_counter()
    result = train_trial(spec)
    total = time.perf_counter() - started
    steady = [e["epoch_seconds"] for e in result.epochs][1:] or [result.epochs[0]["epoch_seconds"]]
    images = spec.train_size * len(steady)
    return images / sum(steady), total, result.last["val_accuracy"], result.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--learning-rate", type=float, default=0.5, help="Table 1: 0.5 (unstable on small subsets)"
    )
    parser.add_argument("--json", default="output/throughput.json")
    args = parser.parse_args()

    from study.declare.config import Settings
    from study.declare.spec import Profile, Study, experiment
    from study.plan.data import load_dataset
    from study.plan.trials import DatasetInfo, plan_study
    from study.train.worker import init_tensorflow

    init_tensorflow(None)  # TensorFlow's default threads, as a plain Keras user gets them
    data = load_dataset(args.dataset, args.images, args.images // 4, 0)
    settings = Settings(epochs=args.epochs, learning_rate=args.learning_rate)
    config = settings.model_config(data.input_shape)
    info = DatasetInfo(
        args.dataset,
        data.input_shape,
        len(data.classes),
        data.fingerprint,
        args.images,
        args.images // 4,
        0,
    )
    study = Study(
        "throughput",
        settings,
        (experiment("base", "learning_rate", [args.learning_rate], datasets=(args.dataset,)),),
        seeds=tuple(args.seeds),
    )
    trials, _ = plan_study(
        study, Profile("bench", None, None, args.images, args.images // 4), {args.dataset: info}
    )

    from study.plan.shapes import summarize

    flop_per_image = 3 * 2 * summarize(config).macs  # forward + backward, 2 FLOP per MAC
    rows = {"plain": [], "project": []}
    for trial in trials.values():  # alternate, so drift on a noisy machine hits both alike
        rows["plain"].append(plain_fit(data, settings, config, trial.seed))
        rows["project"].append(project_trainer(trial.spec))
    peak = sgemm_gflops()
    plain = sum(r[0] for r in rows["plain"]) / len(rows["plain"])
    ours = sum(r[0] for r in rows["project"]) / len(rows["project"])
    report = {
        "dataset": args.dataset,
        "images": args.images,
        "learning_rate": args.learning_rate,
        "epochs": args.epochs,
        "batch_size": settings.batch_size,
        "seeds": args.seeds,
        "plain_images_per_s": plain,
        "project_images_per_s": ours,
        "ratio": ours / plain,
        "plain_trial_seconds": [r[1] for r in rows["plain"]],
        "project_trial_seconds": [r[1] for r in rows["project"]],
        "plain_val_accuracy": [r[2] for r in rows["plain"]],
        "project_val_accuracy": [r[2] for r in rows["project"]],
        "sgemm_gflops": peak,
        "flop_per_image": flop_per_image,
        "project_fraction_of_sgemm_peak": ours * flop_per_image / (peak * 1e9),
    }
    print(
        f"(a) plain model.fit      {plain:8.0f} images/s  (trial {report['plain_trial_seconds']} s, "
        f"val acc {report['plain_val_accuracy']})"
    )
    print(
        f"(b) project trainer      {ours:8.0f} images/s  (trial {report['project_trial_seconds']} s, "
        f"val acc {report['project_val_accuracy']})"
    )
    print(f"(b)/(a) = {ours / plain:.2f}x")
    print(
        f"(c) numpy sgemm          {peak:8.1f} GFLOP/s -> (b) uses {report['project_fraction_of_sgemm_peak']:.1%} "
        f"of it at {flop_per_image / 1e6:.1f} MFLOP per training image"
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
