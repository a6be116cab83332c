"""Datasets as they arrive in the wild: folders and images reached through links (a broken link is one
error, as an unreadable file is), and copies in forms that are not read (the Kaggle CSV, the unextracted
CIFAR-10 archive), named with the way to turn them into one that is."""

import os
import shlex
import shutil
import subprocess
import tarfile

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write_cifar_batches, write_idx_dataset, write_image_folder

from study.cli.main import cli
from study.errors import DataError
from study.plan.data import load_dataset, locate


def _link(target, path):
    """``path`` as a symbolic link to ``target``; skips the test where the filesystem refuses links."""
    try:
        os.symlink(target, path)
    except (OSError, NotImplementedError) as err:
        pytest.skip(f"this filesystem refuses symbolic links ({err})")
    return path


def _one_error_line(args):
    """``study`` run with ``args``: its exit code 2 and the one line it writes, an ``error:`` line."""
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 2, done.output
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_a_linked_dataset_folder_class_folder_and_image_are_read_as_their_targets(
    tmp_path, monkeypatch
):
    elsewhere = write_image_folder(tmp_path / "elsewhere", classes=("bird",), train=3, test=2)
    pets = write_image_folder(tmp_path / "pets", classes=("cat", "dog"), train=2, test=2)
    for split in ("train", "test"):
        _link(elsewhere / split / "bird", pets / split / "bird")
    _link(elsewhere / "train" / "bird" / "0000.png", pets / "train" / "cat" / "0009.png")
    data = load_dataset(str(_link(pets, tmp_path / "linked")))
    assert data.classes == ("bird", "cat", "dog")
    assert np.bincount(data.y_train).tolist() == [3, 3, 2]
    assert np.bincount(data.y_test).tolist() == [2, 2, 2]
    np.testing.assert_array_equal(data.x_train[5], data.x_train[0])  # cat/0009.png is bird/0000

    root = tmp_path / "datasets"
    root.mkdir()
    _link(write_idx_dataset(tmp_path / "downloads" / "mnist-idx"), root / "mnist")
    monkeypatch.setenv("STUDY_DATA_DIR", str(root))
    assert locate("mnist").format == "idx"
    assert load_dataset("mnist").x_train.shape == (60, 28, 28, 1)


@pytest.mark.parametrize("fault", ["link to a deleted image", "unreadable image"])
def test_a_link_to_a_deleted_image_is_one_error_line_as_an_unreadable_image_is(tmp_path, fault):
    pets = write_image_folder(tmp_path / "pets")
    image = pets / "train" / "cat" / "0004.png"
    if fault == "unreadable image":
        image.write_bytes(b"not an image")
        expected = f"error: {image}: cannot decode image ("
    else:
        gone = tmp_path / "gone.png"
        gone.write_bytes(b"")
        _link(gone, image)
        gone.unlink()
        expected = (
            f"error: {image}: broken link (its target {gone} does not exist); restore the target "
            "or remove the link"
        )
    with pytest.raises(DataError, match=r"0004\.png: "):
        load_dataset(str(pets))
    assert _one_error_line(["data", str(pets)]).startswith(expected)


@pytest.mark.parametrize("broken", ["test/bird", "."])
def test_a_broken_link_for_a_class_folder_or_the_dataset_folder_is_named_not_skipped(
    tmp_path, broken
):
    pets = write_image_folder(tmp_path / "pets")
    link = _link(tmp_path / "moved", tmp_path / "linked" if broken == "." else pets / broken)
    assert _one_error_line(["data", str(link)] if broken == "." else ["data", str(pets)]) == (
        f"error: {link}: broken link (its target {tmp_path / 'moved'} does not exist); "
        "restore the target or remove the link"
    )


@pytest.mark.parametrize("broken", ["mnist", "mnist/t10k-labels-idx1-ubyte.gz"])
def test_a_broken_link_in_the_data_folder_is_named_and_never_downloaded_over(
    data_dir, monkeypatch, broken
):
    monkeypatch.delenv(
        "STUDY_NO_DOWNLOAD"
    )  # a download would be allowed, yet the link is an error
    link = data_dir / broken
    if link.is_dir():
        shutil.rmtree(link)
    else:
        link.unlink()
    _link(data_dir / "deleted", link)
    with pytest.raises(DataError) as err:
        locate("mnist")
    assert str(err.value) == (
        f"{link}: broken link (its target {data_dir / 'deleted'} does not exist); restore the "
        "target or remove the link"
    )


@pytest.mark.parametrize(
    "name,folder,prefix",
    [("mnist", "mnist", "mnist"), ("fashion_mnist", "fashion-mnist", "fashion-mnist")],
)
def test_a_kaggle_csv_copy_is_named_with_the_formats_to_use_instead(
    tmp_path, monkeypatch, name, folder, prefix
):
    root = tmp_path / "datasets"
    (root / folder).mkdir(parents=True)
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    for split in ("train", "test"):
        rows = [f"{label}," + ",".join(["0"] * 784) for label in (5, 0)]
        (root / folder / f"{prefix}_{split}.csv").write_text("\n".join([header, *rows]) + "\n")
    monkeypatch.setenv("STUDY_DATA_DIR", str(root))
    assert _one_error_line(["data", name]) == (
        f"error: dataset '{name}': {root / folder} holds {prefix}_train.csv, {prefix}_test.csv, "
        "the Kaggle CSV form, which is not read; put the official IDX files there instead "
        "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz, from the dataset's own site) or an image folder "
        f"{root / folder}/train/<class>/*.jpg|png and test/<class>/*.jpg|png"
    )


@pytest.mark.parametrize("where", ["cifar10", "."])
def test_an_unextracted_cifar_archive_is_named_with_the_command_that_extracts_it(
    tmp_path, monkeypatch, where
):
    batches = write_cifar_batches(tmp_path / "official" / "cifar-10-batches-py")
    root = tmp_path / "datasets"
    folder = root / where
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    archive = folder / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(batches, arcname="cifar-10-batches-py")  # as the official archive holds them
    monkeypatch.setenv("STUDY_DATA_DIR", str(root))
    message = _one_error_line(["data", "cifar10"])
    assert message == (
        f"error: dataset 'cifar10': {folder} holds cifar-10-python.tar.gz, the official archive, "
        f"not extracted; run tar xzf {archive} -C {folder} (it gives "
        f"{folder}/cifar-10-batches-py, which is read)"
    )
    if shutil.which("tar") is None:
        pytest.skip("no tar command to run the line's advice")
    command = message.split("; run ", 1)[1].split(" (it gives", 1)[0]
    subprocess.run(shlex.split(command), check=True)
    load_dataset.cache_clear()
    data = load_dataset("cifar10")
    assert data.location.format == "cifar-pickle" and data.x_train.shape == (100, 32, 32, 3)


def test_a_folder_or_study_file_this_user_cannot_read_is_named_as_unreadable_not_unwritable(
    tmp_path, monkeypatch
):
    """A permission error on a read is not a failed write: the CLI's line for those ("cannot write ...;
    accepted: a folder this user can write") would send the user to the wrong fix. Raised by hand: the tests
    may run as root, whom file modes do not stop."""
    from pathlib import Path

    pets = write_image_folder(tmp_path / "pets")
    closed = pets / "train" / "dog"
    study_file = tmp_path / "mine.toml"
    study_file.write_text('name = "mine"\n')
    iterdir, read_text = Path.iterdir, Path.read_text

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "iterdir", lambda p: refuse(p) if p == closed else iterdir(p))
    monkeypatch.setattr(
        Path,
        "read_text",
        lambda p, *a, **k: refuse(p) if p == study_file else read_text(p, *a, **k),
    )
    assert _one_error_line(["data", str(pets)]) == (
        f"error: {closed}: cannot be read (Permission denied); accepted: a data folder whose folders "
        "this user can read and list"
    )
    assert _one_error_line(["plan", "--study", str(study_file)]) == (
        f"error: study file {study_file} cannot be read (Permission denied); accepted: a TOML file this "
        "user can read"
    )
