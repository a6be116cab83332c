"""Fixtures: tiny datasets written in the official formats, an isolated data search path, made-up trial specs."""

from __future__ import annotations

import gzip
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from study.declare.config import Settings
from study.plan.data import load_dataset
from study.plan.trials import TrialSpec

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


def write_idx(path: Path, array: np.ndarray, magic: int | None = None) -> Path:
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else (2051 if array.ndim == 3 else 2049)
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:
        handle.write(header + array.tobytes())
    return path


def tiny_images(count: int, shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose mean brightness encodes the class, so a model can learn something."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 10
    rng.shuffle(labels)
    base = (labels * 25).reshape(-1, *([1] * len(shape)))
    images = np.clip(base + rng.integers(0, 20, size=(count, *shape)), 0, 255).astype(np.uint8)
    return images, labels.astype(np.uint8)


def write_idx_dataset(folder: Path, train: int = 60, test: int = 30) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    x_train, y_train = tiny_images(train, (28, 28), 0)
    x_test, y_test = tiny_images(test, (28, 28), 1)
    write_idx(folder / "train-images-idx3-ubyte.gz", x_train)
    write_idx(folder / "train-labels-idx1-ubyte.gz", y_train)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", x_test)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", y_test)
    return folder


def write_cifar_batches(folder: Path, per_batch: int = 20, test: int = 20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(1, 6):
        images, labels = tiny_images(per_batch, (32, 32, 3), index)
        rows = images.transpose(0, 3, 1, 2).reshape(per_batch, 3072)  # R, G, B planes
        with open(folder / f"data_batch_{index}", "wb") as handle:
            pickle.dump({b"data": rows, b"labels": labels.tolist()}, handle)
    images, labels = tiny_images(test, (32, 32, 3), 9)
    with open(folder / "test_batch", "wb") as handle:
        pickle.dump(
            {
                b"data": images.transpose(0, 3, 1, 2).reshape(test, 3072),
                b"labels": labels.tolist(),
            },
            handle,
        )
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({b"label_names": [b"c%d" % i for i in range(10)]}, handle)
    return folder


def write_image_folder(
    folder: Path,
    classes=("cat", "dog", "frog"),
    train: int = 4,
    test: int = 2,
    suffix: str = ".png",
    size=(32, 32),
) -> Path:
    from PIL import Image

    for split, count in (("train", train), ("test", test)):
        for c, name in enumerate(classes):
            (folder / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(count):
                pixels = np.full((*size, 3), 40 * c + i, dtype=np.uint8)
                Image.fromarray(pixels).save(folder / split / name / f"{i:04d}{suffix}")
    return folder


def made_up_spec(
    key: str, dataset: str = "mnist", seed: int = 1, train_size: int | None = None, **settings
) -> TrialSpec:
    """A TrialSpec for a store without training: ``Settings(**settings)`` on 28x28x1 input, no real data."""
    resolved = Settings(**settings)
    return TrialSpec(
        key,
        resolved,
        resolved.model_config((28, 28, 1), 10),
        dataset,
        "f" * 16,
        train_size,
        None,
        0,
        seed,
        macs=0,
        params=0,
    )


@pytest.fixture(autouse=True)
def isolated_data(tmp_path_factory, monkeypatch):
    """No test sees ~/.keras or downloads; each starts with an empty dataset cache."""
    empty = tmp_path_factory.mktemp("empty-home")
    monkeypatch.setenv("KERAS_HOME", str(empty))
    monkeypatch.setenv("STUDY_NO_DOWNLOAD", "1")
    monkeypatch.delenv("STUDY_DATA_DIR", raising=False)
    load_dataset.cache_clear()
    yield
    load_dataset.cache_clear()


@pytest.fixture(autouse=True)
def fast_lane_stays_without_tensorflow(request):
    """A test that imports TensorFlow must be marked ``train``: the fast lane (``-m "not train and not slow"``)
    never pays for the import. Caught in the test that imports it first."""
    before = "tensorflow" in sys.modules
    yield
    if (
        not before
        and "tensorflow" in sys.modules
        and request.node.get_closest_marker("train") is None
    ):
        pytest.fail(
            f"{request.node.nodeid} imported TensorFlow; mark it @pytest.mark.train", pytrace=False
        )


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A STUDY_DATA_DIR with tiny mnist (IDX), fashion-mnist (IDX) and cifar10 (pickled batches)."""
    root = tmp_path / "datasets"
    write_idx_dataset(root / "mnist")
    write_idx_dataset(root / "fashion-mnist")
    write_cifar_batches(root / "cifar-10-batches-py")
    monkeypatch.setenv("STUDY_DATA_DIR", str(root))
    # a dataset loaded by an earlier test (from its own folder, or with files it rewrote) is cached by name
    # and sizes, not by path: this test reads its own files
    from study.plan.data import load_dataset, load_scaled

    load_dataset.cache_clear()
    load_scaled.cache_clear()
    return root


@pytest.fixture(autouse=True)
def _tensorflow_at_one_thread(request):
    """The first TensorFlow use of a test process fixes its thread counts. Tests that train in this process
    compare numbers with workers and fresh processes at one thread, so the first test of the train lane
    initialises TensorFlow at one thread, whatever test (an export, a shape check) happens to come first."""
    if request.node.get_closest_marker("train"):
        from study.train.worker import init_tensorflow

        init_tensorflow(1)
    yield
