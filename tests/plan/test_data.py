"""Dataset readers on tiny files in each official format, errors, subsets and fingerprints."""

import gzip

import numpy as np
import pytest
from conftest import SHARED_DATASETS, write_idx, write_idx_dataset, write_image_folder

from study.errors import DataError
from study.plan.data import load_dataset, locate, stratified_indices


def test_idx_folder_reads_back_shapes_scale_and_labels(data_dir):
    data = load_dataset("mnist")
    assert data.location.format == "idx"
    assert data.x_train.shape == (60, 28, 28, 1) and data.x_test.shape == (30, 28, 28, 1)
    assert (
        data.x_train.dtype == np.float32
        and data.x_train.min() >= 0.0
        and data.x_train.max() <= 1.0
    )
    assert np.bincount(data.y_train).tolist() == [6] * 10


def test_cifar_python_batches_read_back_in_rgb_plane_order(data_dir):
    data = load_dataset("cifar10")
    assert data.location.format == "cifar-pickle"
    assert data.x_train.shape == (100, 32, 32, 3) and data.x_test.shape == (20, 32, 32, 3)
    import pickle

    with open(data_dir / "cifar-10-batches-py" / "data_batch_1", "rb") as handle:
        raw = pickle.load(handle, encoding="bytes")
    first = raw[b"data"][0]
    np.testing.assert_allclose(data.x_train[0, 0, 0], first[[0, 1024, 2048]] / 255, rtol=1e-6)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_image_folder_reads_classes_from_folder_names(tmp_path, suffix):
    folder = write_image_folder(tmp_path / "pets", suffix=suffix)
    data = load_dataset(str(folder))
    assert data.location.format == "image-folder"
    assert data.classes == ("cat", "dog", "frog")
    assert data.x_train.shape == (12, 32, 32, 3) and data.x_test.shape == (6, 32, 32, 3)
    assert np.bincount(data.y_test).tolist() == [2, 2, 2]


def test_keras_cache_is_searched_after_study_data_dir(tmp_path, monkeypatch):
    keras_home = tmp_path / "keras"
    write_idx_dataset(keras_home / "datasets" / "fashion-mnist")
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    assert locate("fashion_mnist").path.endswith("fashion-mnist")
    first = tmp_path / "first"
    write_idx_dataset(first / "fashion-mnist")
    monkeypatch.setenv("STUDY_DATA_DIR", f"{tmp_path / 'nothing'}:{first}")
    assert locate("fashion_mnist").path == str((first / "fashion-mnist").resolve())


def test_missing_dataset_names_paths_searched_and_layout(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError) as err:
        locate("mnist")
    message = str(err.value)
    assert "dataset 'mnist' not found" in message and str(tmp_path / "mnist") in message
    assert "train-images-idx3-ubyte.gz" in message and "\n" not in message


def test_unknown_dataset_name_lists_accepted():
    with pytest.raises(
        DataError, match="unknown dataset 'svhn': not one of mnist, fashion_mnist, cifar10"
    ):
        locate("svhn")


def test_bad_magic_number_names_file(data_dir):
    path = data_dir / "mnist" / "train-labels-idx1-ubyte.gz"
    write_idx(path, np.zeros(60), magic=1234)
    with pytest.raises(
        DataError,
        match=r"labels-idx1-ubyte.gz: bad magic number 1234, expected 2049 \(IDX labels\)$",
    ):
        load_dataset("mnist")


def test_truncated_idx_file_reports_wrong_count(data_dir):
    path = data_dir / "mnist" / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(
        DataError, match=r"t10k-images-idx3-ubyte.gz: wrong count: header says 30 x 28 x 28"
    ):
        load_dataset("mnist")


def test_corrupt_gzip_names_file(data_dir):
    path = data_dir / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: cannot read IDX file"):
        load_dataset("mnist")


def test_images_and_labels_of_different_counts(data_dir):
    write_idx(data_dir / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(59))
    with pytest.raises(DataError, match="wrong count: 60 images but .* has 59 labels"):
        load_dataset("mnist")


def test_truncated_cifar_batch_names_file(data_dir):
    path = data_dir / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match="data_batch_3: cannot read CIFAR-10 batch"):
        load_dataset("cifar10")


def test_corrupt_image_in_folder_names_file(tmp_path):
    folder = write_image_folder(tmp_path / "pets")
    (folder / "train" / "dog" / "0001.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"0001.png: cannot decode image"):
        load_dataset(str(folder))


def test_stratified_subset_keeps_class_proportions_and_is_seeded():
    labels = np.repeat(np.arange(10), [100, 100, 100, 100, 100, 50, 50, 50, 50, 50])
    first = stratified_indices(labels, 150, np.random.default_rng(0))
    again = stratified_indices(labels, 150, np.random.default_rng(0))
    other = stratified_indices(labels, 150, np.random.default_rng(1))
    assert len(first) == 150 and np.array_equal(first, again) and not np.array_equal(first, other)
    assert np.bincount(labels[first]).tolist() == [20] * 5 + [10] * 5


def test_subset_decodes_only_the_chosen_images(tmp_path, monkeypatch):
    import study.plan.data as data_module

    folder = write_image_folder(tmp_path / "pets", train=10, test=5)
    decoded = []
    original = data_module.decode_images
    monkeypatch.setattr(
        data_module, "decode_images", lambda files: decoded.append(len(files)) or original(files)
    )
    data = load_dataset(str(folder), train_size=6, test_size=3)
    assert decoded == [6, 3]
    assert np.bincount(data.y_train).tolist() == [2, 2, 2]


def test_fingerprint_changes_with_subset_and_is_stable(data_dir):
    a = load_dataset("mnist", 30, 10, 0).fingerprint
    load_dataset.cache_clear()
    assert load_dataset("mnist", 30, 10, 0).fingerprint == a
    assert load_dataset("mnist", 30, 10, 1).fingerprint != a


@pytest.mark.skipif(
    not SHARED_DATASETS.is_dir(), reason="../shared/datasets is not beside this checkout"
)
def test_shared_datasets_have_the_documented_shapes_and_class_counts(monkeypatch):
    monkeypatch.setenv("STUDY_DATA_DIR", str(SHARED_DATASETS))
    mnist = load_dataset("mnist")
    assert mnist.x_train.shape == (8000, 28, 28, 1) and mnist.x_test.shape == (2000, 28, 28, 1)
    assert np.bincount(mnist.y_train).tolist() == [800] * 10
    fashion = load_dataset("fashion_mnist", 1000, 500)
    assert (
        fashion.full_sizes == (60000, 10000)
        and np.bincount(fashion.y_train).tolist() == [100] * 10
    )
    cifar = load_dataset("cifar10", 500, 200)
    assert cifar.location.format == "image-folder" and cifar.full_sizes == (50000, 10000)
    assert (
        cifar.x_train.shape == (500, 32, 32, 3) and np.bincount(cifar.y_test).tolist() == [20] * 10
    )
    assert cifar.classes[0] == "airplane" and cifar.classes[-1] == "truck"


@pytest.mark.parametrize(
    "folder,remove,missing",
    [
        ("mnist", "t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        ("cifar-10-batches-py", "data_batch_4", "data_batch_4"),
        ("cifar-10-batches-py", "test_batch", "test_batch"),
    ],
)
def test_incomplete_dataset_folder_names_the_missing_file_and_is_never_downloaded(
    data_dir, monkeypatch, folder, remove, missing
):
    monkeypatch.delenv(
        "STUDY_NO_DOWNLOAD"
    )  # a download would be allowed, yet the partial copy is an error
    (data_dir / folder / remove).unlink()
    name = "mnist" if folder == "mnist" else "cifar10"
    with pytest.raises(
        DataError,
        match=rf"dataset '{name}': .*{folder} is incomplete: missing {missing}; expected",
    ):
        locate(name)


def test_study_data_reports_an_incomplete_folder_in_one_error_line(data_dir, monkeypatch):
    from click.testing import CliRunner

    from study.cli.main import cli

    monkeypatch.delenv("STUDY_NO_DOWNLOAD")
    (data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    done = CliRunner().invoke(cli, ["data", "mnist"])
    assert done.exit_code == 2 and "would be downloaded" not in done.stdout
    assert done.stderr.splitlines() == [
        next(line for line in done.stderr.splitlines() if line.startswith("error:"))
    ]
    assert "is incomplete: missing t10k-labels-idx1-ubyte.gz" in done.stderr
