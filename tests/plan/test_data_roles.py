"""Real-world dataset files checked against their role: IDX magic, labels in range, npz and CIFAR keys,
dtypes and counts. Each mismatch is one DataError line naming the file, what was found and what was expected."""

import pickle

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_images, write_idx, write_idx_dataset

from study.cli.main import cli
from study.errors import DataError
from study.plan.data import load_dataset


def _one_error_line(result) -> str:
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error")]
    assert (
        len(lines) == 1
        and lines[0].startswith("error: ")
        and result.output.endswith(lines[0] + "\n")
    )
    return lines[0]


@pytest.fixture
def swapped_labels(tmp_path, monkeypatch):
    """An MNIST folder (40 train / 20 test) whose train labels file is a copy of the images file."""
    folder = write_idx_dataset(tmp_path / "data" / "mnist", train=40, test=20)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        (folder / "train-images-idx3-ubyte.gz").read_bytes()
    )
    monkeypatch.setenv("STUDY_DATA_DIR", str(tmp_path / "data"))
    return folder


def test_labels_file_that_is_a_copy_of_the_images_file_is_named_with_both_magic_numbers(
    swapped_labels,
):
    with pytest.raises(DataError) as err:
        load_dataset("mnist")
    message = str(err.value)
    assert message == (
        f"{swapped_labels / 'train-labels-idx1-ubyte.gz'}: bad magic number 2051 (IDX images), "
        "expected 2049 (IDX labels); is it a renamed copy of an images file?"
    )


def test_study_data_and_study_plan_end_in_one_error_line_for_a_swapped_labels_file(
    swapped_labels, tmp_path
):
    line = _one_error_line(CliRunner().invoke(cli, ["data", "mnist"]))
    assert "train-labels-idx1-ubyte.gz: bad magic number 2051 (IDX images), expected 2049" in line
    study = tmp_path / "s.toml"
    study.write_text(
        'datasets = ["mnist"]\n[[experiments]]\nname = "k"\nparameter = "kernel_size"\nvalues = [3, 5]\n'
    )
    result = CliRunner().invoke(
        cli,
        [
            "plan",
            "--profile",
            "smoke",
            "--study",
            str(study),
            "--store",
            str(tmp_path / "s.sqlite"),
        ],
    )
    assert "bad magic number 2051 (IDX images), expected 2049" in _one_error_line(result)


def test_idx_label_outside_the_classes_names_the_file_value_and_index(data_dir):
    labels = np.zeros(60, dtype=np.uint8)
    labels[17] = 10
    write_idx(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz", labels[:30])
    write_idx(data_dir / "mnist" / "train-labels-idx1-ubyte.gz", labels)
    with pytest.raises(
        DataError, match=r"train-labels-idx1-ubyte.gz: label 10 at index 17 is outside 0..9"
    ):
        load_dataset("mnist", train_size=10)  # checked on the whole file, not only the subset


def test_idx_images_of_another_size_in_the_test_split_are_named(data_dir):
    images, _ = tiny_images(30, (32, 32), 1)
    write_idx(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz", images)
    with pytest.raises(
        DataError,
        match=r"t10k-images-idx3-ubyte.gz: test images are 32x32, training images are "
        r"28x28; expected one size",
    ):
        load_dataset("mnist")


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.fixture
def npz_arrays():
    x_train, y_train = tiny_images(20, (28, 28), 0)
    x_test, y_test = tiny_images(10, (28, 28), 1)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


@pytest.mark.parametrize(
    "change,message",
    [
        (
            lambda a: a.pop("y_test"),
            r"mnist.npz: .npz lacks y_test \(it has x_train, y_train, x_test\); expected",
        ),
        (
            lambda a: a.update(x_train=a["x_train"] / 255),
            r"mnist.npz x_train: dtype float64, expected uint8",
        ),
        (
            lambda a: a.update(x_test=a["x_test"][:, :, :, None].repeat(2, 3)),
            r"x_test: shape \(10, 28, 28, 2\), expected",
        ),
        (
            lambda a: a.update(y_train=a["y_train"][:-1]),
            r"x_train: wrong count: 20 images but y_train has 19 labels",
        ),
        (
            lambda a: a.update(y_test=a["y_test"] + 5),
            r"mnist.npz y_test: label 1[0-4] at index \d+ is outside 0..9",
        ),
        (
            lambda a: a.update(y_train=a["y_train"].astype(np.float32)),
            r"y_train: labels have shape \(20,\) and dtype float32",
        ),
    ],
)
def test_keras_npz_is_checked_for_keys_dtypes_shapes_counts_and_label_range(
    tmp_path, monkeypatch, npz_arrays, change, message
):
    change(npz_arrays)
    _npz(tmp_path / "mnist.npz", **npz_arrays)
    monkeypatch.setenv("STUDY_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=message) as err:
        load_dataset("mnist")
    assert "\n" not in str(err.value)


def test_a_valid_keras_npz_reads_as_before(tmp_path, monkeypatch, npz_arrays):
    _npz(tmp_path / "mnist.npz", **npz_arrays)
    monkeypatch.setenv("STUDY_DATA_DIR", str(tmp_path))
    data = load_dataset("mnist")
    assert data.location.format == "keras-npz" and data.x_train.shape == (20, 28, 28, 1)
    np.testing.assert_array_equal(
        data.x_train[..., 0], npz_arrays["x_train"].astype(np.float32) * np.float32(1 / 255)
    )


@pytest.mark.parametrize(
    "batch,message",
    [
        (
            lambda b: b.update({b"labels": [10] + b[b"labels"][1:]}),
            r"data_batch_2: label 10 at index 0 is outside 0..9",
        ),
        (
            lambda b: b.update({b"data": b[b"data"].astype(np.int64) * 2}),
            r"data_batch_2: b'data' has dtype int64 " r"\(values \d+..\d+\), expected uint8",
        ),
        (
            lambda b: b.update({b"data": b[b"data"][:, :1024]}),
            r"data_batch_2: b'data' has shape \(20, 1024\), expected",
        ),
        (
            lambda b: b.update({b"labels": b[b"labels"][:-2]}),
            r"data_batch_2: wrong count: 20 images but 18 labels",
        ),
        (lambda b: b.pop(b"labels"), r"data_batch_2: not a CIFAR-10 batch"),
    ],
)
def test_cifar_batches_are_checked_for_keys_dtype_shape_counts_and_label_range(
    data_dir, batch, message
):
    path = data_dir / "cifar-10-batches-py" / "data_batch_2"
    with open(path, "rb") as handle:
        raw = pickle.load(handle, encoding="bytes")
    batch(raw)
    with open(path, "wb") as handle:
        pickle.dump(raw, handle)
    with pytest.raises(DataError, match=message):
        load_dataset("cifar10")


def test_cifar_batch_of_small_integers_in_a_wider_dtype_reads_exactly(data_dir):
    path = data_dir / "cifar-10-batches-py" / "data_batch_1"
    before = load_dataset("cifar10").fingerprint
    load_dataset.cache_clear()
    with open(path, "rb") as handle:
        raw = pickle.load(handle, encoding="bytes")
    raw[b"data"] = raw[b"data"].astype(np.int64)
    with open(path, "wb") as handle:
        pickle.dump(raw, handle)
    assert load_dataset("cifar10").fingerprint == before
