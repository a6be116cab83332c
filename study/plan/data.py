"""Datasets: find them on disk, read the official formats, draw stratified subsets, fingerprint.

Search order for ``mnist``, ``fashion_mnist`` and ``cifar10``: every folder in ``STUDY_DATA_DIR``
(``:``-separated), then the Keras cache (``~/.keras/datasets``), then the Keras download. Any other
name is taken as an image folder (``train/<class>/*``, ``test/<class>/*``). Formats read:

- ``idx``: gzipped (or plain) IDX files, ``train-images-idx3-ubyte.gz`` and friends;
- ``keras-npz``: the Keras cache's ``mnist.npz``;
- ``cifar-pickle``: the official ``cifar-10-batches-py`` batches;
- ``image-folder``: JPEG/PNG files in one folder per class.

    data = load_dataset("cifar10", train_size=2000, test_size=500, data_seed=0)
    data.x_train.shape  # (2000, 32, 32, 3), float32 in [0, 1]
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from study.errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_LAYOUT = "a folder with " + ", ".join(f"{name}.gz" for name in IDX_FILES.values())
CIFAR_LAYOUT = ("cifar-10-batches-py/ (data_batch_1..5, test_batch) or an image folder "
                "cifar10/train/<class>/*.jpg and cifar10/test/<class>/*.jpg")
CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
IMAGE_FOLDER_LAYOUT = "train/<class>/*.jpg|png and test/<class>/*.jpg|png"


@dataclass(frozen=True)
class KnownDataset:
    name: str
    folders: tuple[str, ...]  # sub-folders of a search root that may hold it
    layout: str  # what a user must put there, for error messages
    keras_loader: str  # keras.datasets module name for the download fallback
    classes: tuple[str, ...]


DIGITS = tuple(str(i) for i in range(10))
KNOWN = {
    "mnist": KnownDataset("mnist", ("mnist", "MNIST", "mnist.npz"), IDX_LAYOUT + " (or mnist.npz)", "mnist", DIGITS),
    "fashion_mnist": KnownDataset(
        "fashion_mnist", ("fashion-mnist", "fashion_mnist", "FashionMNIST"), IDX_LAYOUT, "fashion_mnist",
        ("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"),
    ),
    "cifar10": KnownDataset(
        "cifar10", ("cifar-10-batches-py", "cifar10/cifar-10-batches-py", "cifar10", "cifar-10", "CIFAR10"),
        CIFAR_LAYOUT, "cifar10",
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    ),
}


@dataclass(frozen=True)
class Location:
    name: str
    path: str  # "" when it would be downloaded
    format: str  # idx, keras-npz, cifar-pickle, image-folder, keras-download


@dataclass(frozen=True)
class Dataset:
    name: str
    location: Location
    x_train: np.ndarray = field(repr=False)  # float32 NHWC in [0, 1]
    y_train: np.ndarray = field(repr=False)  # int32 class indices
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    classes: tuple[str, ...]
    full_sizes: tuple[int, int]  # train/test sizes before subsetting
    fingerprint: str  # sha256 (16 hex) of the arrays actually used

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.x_train.shape[1:])

    def describe(self) -> dict:
        """The facts the results store and ``study data`` record."""
        return {
            "name": self.name, "path": self.location.path, "format": self.location.format,
            "train_size": int(len(self.y_train)), "test_size": int(len(self.y_test)),
            "full_train_size": self.full_sizes[0], "full_test_size": self.full_sizes[1],
            "input_shape": list(self.input_shape), "classes": list(self.classes),
            "train_class_counts": np.bincount(self.y_train, minlength=len(self.classes)).tolist(),
            "test_class_counts": np.bincount(self.y_test, minlength=len(self.classes)).tolist(),
            "fingerprint": self.fingerprint,
        }


def search_roots() -> list[Path]:
    """``STUDY_DATA_DIR`` folders in order, then the Keras cache."""
    roots = [Path(p).expanduser() for p in os.environ.get("STUDY_DATA_DIR", "").split(":") if p]
    roots.append(Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "datasets")
    return roots


def _idx_paths(folder: Path) -> dict[str, Path] | None:
    found = {}
    for key, stem in IDX_FILES.items():
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            return None
    return found


def _is_image_folder(folder: Path) -> bool:
    return (folder / "train").is_dir() and (folder / "test").is_dir()


def _format_of(folder: Path) -> str | None:
    if folder.is_file() and folder.suffix == ".npz":
        return "keras-npz"
    if not folder.is_dir():
        return None
    if _idx_paths(folder):
        return "idx"
    if all((folder / name).is_file() for name in CIFAR_FILES):
        return "cifar-pickle"
    if _is_image_folder(folder):
        return "image-folder"
    return None


def _missing_files(folder: Path) -> list[str]:
    """The files a folder lacks when it holds part of a known layout ([] if none or all of it)."""
    if not folder.is_dir():
        return []
    idx = {stem: (folder / f"{stem}.gz").is_file() or (folder / stem).is_file() for stem in IDX_FILES.values()}
    if any(idx.values()):
        return [f"{stem}.gz" for stem, found in idx.items() if not found]
    cifar = {name: (folder / name).is_file() for name in CIFAR_FILES}
    if any(cifar.values()):
        return [name for name, found in cifar.items() if not found]
    splits = {split: (folder / split).is_dir() for split in ("train", "test")}
    if any(splits.values()):
        return [f"{split}/" for split, found in splits.items() if not found]
    return []


def locate(name: str, allow_download: bool = True) -> Location:
    """Where ``name`` will be read from; raises DataError naming every path searched."""
    if name not in KNOWN:
        folder = Path(name).expanduser()
        if folder.is_dir() and _is_image_folder(folder):
            return Location(name, str(folder.resolve()), "image-folder")
        raise DataError(
            f"unknown dataset {name!r}: not one of {', '.join(KNOWN)} and not an image folder "
            f"with {IMAGE_FOLDER_LAYOUT}"
        )
    known = KNOWN[name]
    searched = []
    for root in search_roots():
        for sub in known.folders:
            candidate = root / sub
            searched.append(str(candidate))
            fmt = _format_of(candidate)
            if fmt:
                return Location(name, str(candidate.resolve()), fmt)
            missing = _missing_files(candidate)
            if missing:  # never download over (or beside) a user's partial copy
                raise DataError(
                    f"dataset {name!r}: {candidate} is incomplete: missing {', '.join(missing)}; "
                    f"expected {known.layout} (complete the folder, or remove it to use the next location)"
                )
    if allow_download and os.environ.get("STUDY_NO_DOWNLOAD", "") in ("", "0"):
        return Location(name, "", "keras-download")
    raise DataError(
        f"dataset {name!r} not found; searched {', '.join(searched) or '(no folders)'}; "
        f"expected {known.layout} (set STUDY_DATA_DIR to the folder that holds it)"
    )


# ---------------------------------------------------------------- readers of the official formats

def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped or not) as a uint8 array; DataError names the file and the fault."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read IDX file ({err})") from None
    if len(raw) < 8:
        raise DataError(f"{path}: truncated IDX file ({len(raw)} bytes, header needs at least 8)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (2049, 2051):
        raise DataError(f"{path}: bad magic number {magic}, expected 2051 (images) or 2049 (labels)")
    ndim = 1 if magic == 2049 else 3
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, expected {header})")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    actual = len(raw) - header
    if actual != expected:
        raise DataError(
            f"{path}: wrong count: header says {' x '.join(map(str, dims))} = {expected} bytes of data, "
            f"file has {actual}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _read_idx_folder(folder: Path):
    paths = _idx_paths(folder)
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise DataError(
                f"{paths[split + '_images']}: wrong count: {len(images)} images but "
                f"{paths[split + '_labels']} has {len(labels)} labels"
            )
    return (arrays["train_images"][..., None], arrays["train_labels"],
            arrays["test_images"][..., None], arrays["test_labels"])


def _read_npz(path: Path):
    try:
        with np.load(path) as data:
            x_train, y_train, x_test, y_test = (data[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"{path}: not a Keras dataset .npz with x_train, y_train, x_test, y_test ({err})") from None
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., None], x_test[..., None]
    return x_train.astype(np.uint8), y_train, x_test.astype(np.uint8), y_test


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One official CIFAR-10 python batch: (N, 32, 32, 3) uint8 images and labels."""
    try:
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
    except Exception as err:  # a truncated pickle raises EOFError, UnpicklingError, ...
        raise DataError(f"{path}: cannot read CIFAR-10 batch ({type(err).__name__}: {err})") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataError(f"{path}: not a CIFAR-10 batch: expected a dict with b'data' and b'labels'")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"])
    if data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path}: b'data' has shape {data.shape}, expected (N, 3072) uint8 rows (R, G, B planes)")
    if len(labels) != len(data):
        raise DataError(f"{path}: wrong count: {len(data)} images but {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _read_cifar_folder(folder: Path):
    train = [read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6) if (folder / f"data_batch_{i}").is_file()]
    x_test, y_test = read_cifar_batch(folder / "test_batch")
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test)


def _list_image_folder(folder: Path, split: str, classes: tuple[str, ...] | None):
    root = folder / split
    found = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    if not found:
        raise DataError(f"{root}: no class folders; expected {IMAGE_FOLDER_LAYOUT}")
    if classes is not None and found != classes:
        raise DataError(f"{root}: class folders {list(found)} differ from train's {list(classes)}")
    files, labels = [], []
    for index, name in enumerate(found):
        names = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        files += names
        labels += [index] * len(names)
    if not files:
        raise DataError(f"{root}: no images ({', '.join(IMAGE_EXTENSIONS)}) in the class folders")
    return files, np.asarray(labels, dtype=np.int64), found


def decode_images(files: list[Path]) -> np.ndarray:
    """Decode image files into one uint8 NHWC array; DataError names a bad or odd-sized file."""
    from PIL import Image, UnidentifiedImageError

    arrays = []
    for path in files:
        try:
            with Image.open(path) as image:
                image = image.convert("L" if image.mode in ("L", "1", "I;16") else "RGB")
                array = np.asarray(image, dtype=np.uint8)
        except (OSError, UnidentifiedImageError) as err:
            raise DataError(f"{path}: cannot decode image ({err})") from None
        if array.ndim == 2:
            array = array[..., None]
        if arrays and array.shape != arrays[0].shape:
            raise DataError(f"{path}: image is {array.shape}, the others are {arrays[0].shape}; resize them to one size")
        arrays.append(array)
    return np.stack(arrays)


def stratified_indices(labels: np.ndarray, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """Indices of a stratified subset of ``size`` (all when None or too large), in file order."""
    if size is None or size >= len(labels):
        return np.arange(len(labels))
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts / counts.sum() * size
    quota = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - quota), kind="stable")[: size - quota.sum()]:
        quota[i] += 1
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:q] for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(chosen))


def fingerprint(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def _keras_download(name: str):
    import keras  # only on the download path

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, KNOWN[name].keras_loader).load_data()
    except Exception as err:
        searched = ", ".join(str(r) for r in search_roots())
        raise DataError(
            f"dataset {name!r} not found in {searched} and the Keras download failed ({type(err).__name__}); "
            f"expected {KNOWN[name].layout}"
        ) from None
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., None], x_test[..., None]
    return x_train, y_train.reshape(-1), x_test, y_test.reshape(-1)


@functools.lru_cache(maxsize=8)
def load_dataset(name: str, train_size: int | None = None, test_size: int | None = None,
                 data_seed: int = 0) -> Dataset:
    """Load ``name``, draw stratified subsets with ``data_seed`` before decoding, scale to [0, 1]."""
    location = locate(name)
    rng = np.random.default_rng(data_seed)
    path = Path(location.path)
    if location.format == "image-folder":
        train_files, y_train, classes = _list_image_folder(path, "train", None)
        test_files, y_test, _ = _list_image_folder(path, "test", classes)
        full = (len(y_train), len(y_test))
        train_idx = stratified_indices(y_train, train_size, rng)
        test_idx = stratified_indices(y_test, test_size, rng)
        x_train = decode_images([train_files[i] for i in train_idx])
        x_test = decode_images([test_files[i] for i in test_idx])
        y_train, y_test = y_train[train_idx], y_test[test_idx]
    else:
        reader = {"idx": _read_idx_folder, "keras-npz": _read_npz, "cifar-pickle": _read_cifar_folder,
                  "keras-download": lambda _: _keras_download(name)}[location.format]
        x_train, y_train, x_test, y_test = reader(path)
        y_train, y_test = np.asarray(y_train).reshape(-1), np.asarray(y_test).reshape(-1)
        full = (len(y_train), len(y_test))
        train_idx = stratified_indices(y_train, train_size, rng)
        test_idx = stratified_indices(y_test, test_size, rng)
        x_train, y_train = x_train[train_idx], y_train[train_idx]
        x_test, y_test = x_test[test_idx], y_test[test_idx]
        classes = KNOWN[name].classes
    y_train, y_test = y_train.astype(np.int32), y_test.astype(np.int32)
    if len(classes) and max(y_train.max(initial=0), y_test.max(initial=0)) >= len(classes):
        raise DataError(f"{location.path}: label {max(y_train.max(), y_test.max())} outside 0..{len(classes) - 1}")
    print_ = fingerprint(x_train, y_train, x_test, y_test)
    scale = np.float32(1 / 255)
    return Dataset(
        name=name, location=location,
        x_train=x_train.astype(np.float32) * scale, y_train=y_train,
        x_test=x_test.astype(np.float32) * scale, y_test=y_test,
        classes=tuple(classes), full_sizes=full, fingerprint=print_,
    )
