"""Datasets: find them on disk, read the official formats, draw stratified subsets, fingerprint.

Search order for ``mnist``, ``fashion_mnist`` and ``cifar10``: every folder in ``STUDY_DATA_DIR``
(``:``-separated), then the Keras cache (``~/.keras/datasets``), then the Keras download. Any other
name is taken as an image folder (``train/<class>/*``, ``test/<class>/*``). Formats read:

- ``idx``: gzipped (or plain) IDX files, ``train-images-idx3-ubyte.gz`` and friends;
- ``keras-npz``: the Keras cache's ``mnist.npz``;
- ``cifar-pickle``: the official ``cifar-10-batches-py`` batches;
- ``image-folder``: JPEG/PNG files in one folder per class.

Every file is checked against its role before it is used (IDX images against labels by magic number,
rank and size; CIFAR-10 batches and ``.npz`` files by keys, shapes, dtypes and counts; every label
inside the class range), and each mismatch is one ``DataError`` line naming the file, what was found
and what was expected. Image folders skip hidden and system entries (``HIDDEN``), turn photos upright
by their EXIF orientation, decode every PIL mode to 8-bit values by its true range or refuse it by name
(``decode_image``), and unify channels by one rule (``unify_channels``), which ``Dataset.describe``
reports. Links are followed; a broken one is an error, like an unreadable file, never skipped. A copy
in a form that is not read (the Kaggle CSV, the unextracted CIFAR-10 archive: ``UnreadForm``) is named
with the way to turn it into one that is.

    data = load_dataset("cifar10", train_size=2000, test_size=500, data_seed=0)
    data.x_train.shape  # (2000, 32, 32, 3), float32 in [0, 1]
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import pickle
import shlex
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from study.declare.config import INPUT_SCALINGS, check_choice
from study.errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_NAMES = ", ".join(f"{name}.gz" for name in IDX_FILES.values())
IDX_LAYOUT = "a folder with " + IDX_NAMES
CIFAR_LAYOUT = (
    "cifar-10-batches-py/ (data_batch_1..5, test_batch) or an image folder "
    "cifar10/train/<class>/*.jpg and cifar10/test/<class>/*.jpg"
)
CIFAR_FILES = (*tuple(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
IMAGE_FOLDER_LAYOUT = "train/<class>/*.jpg|png and test/<class>/*.jpg|png"
# Entries of an image folder that are never a class or an image: names starting with "." (.DS_Store,
# .ipynb_checkpoints, AppleDouble ._files) and the folders and files operating systems leave behind.
HIDDEN = (
    "__MACOSX",
    "Thumbs.db",
    "desktop.ini",
    "Desktop.ini",
    "$RECYCLE.BIN",
    "System Volume Information",
    "__pycache__",
    "@eaDir",
)
IDX_MAGIC = {
    "images": 2051,
    "labels": 2049,
}  # uint8 data (0x08), then rank 3 (count, rows, cols) or 1 (count)
IDX_ROLE = {key: key.split("_")[1] for key in IDX_FILES}  # train_images -> images


@dataclass(frozen=True)
class UnreadForm:
    """A form a dataset is often downloaded in that is not read: when nothing readable is found, the
    error names it and says how to make an accepted copy from it, instead of only "not found"."""

    files: tuple[str, ...]  # names that show it, any one of them
    what: str  # what it is, for the error line
    fix: str  # how to turn it into an accepted format; {folder} and {path} are filled in (quoted)


@dataclass(frozen=True)
class KnownDataset:
    name: str
    folders: tuple[str, ...]  # sub-folders of a search root that may hold it
    layout: str  # what a user must put there, for error messages
    keras_loader: str  # keras.datasets module name for the download fallback
    classes: tuple[str, ...]
    unread: tuple[UnreadForm, ...] = ()  # forms it is found in that are not read


def _kaggle_csv(prefix: str) -> UnreadForm:
    """The Kaggle CSV copies of MNIST and Fashion-MNIST: one row per image (label, then 784 pixels)."""
    return UnreadForm(
        (f"{prefix}_train.csv", f"{prefix}_test.csv"),
        "the Kaggle CSV form, which is not read",
        f"put the official IDX files there instead ({IDX_NAMES}, from the dataset's own site) "
        f"or an image folder {{folder}}/{IMAGE_FOLDER_LAYOUT}",
    )


CIFAR_ARCHIVE = UnreadForm(
    ("cifar-10-python.tar.gz", "cifar-10-batches-py.tar.gz"),  # the official name, Keras 2's name
    "the official archive, not extracted",
    "run tar xzf {path} -C {folder} (it gives {folder}/cifar-10-batches-py, which is read)",
)
DIGITS = tuple(str(i) for i in range(10))
KNOWN = {
    "mnist": KnownDataset(
        "mnist",
        ("mnist", "MNIST", "mnist.npz"),
        IDX_LAYOUT + " (or mnist.npz)",
        "mnist",
        DIGITS,
        (_kaggle_csv("mnist"),),
    ),
    "fashion_mnist": KnownDataset(
        "fashion_mnist",
        ("fashion-mnist", "fashion_mnist", "FashionMNIST"),
        IDX_LAYOUT,
        "fashion_mnist",
        (
            "t-shirt/top",
            "trouser",
            "pullover",
            "dress",
            "coat",
            "sandal",
            "shirt",
            "sneaker",
            "bag",
            "ankle boot",
        ),
        (_kaggle_csv("fashion-mnist"),),
    ),
    "cifar10": KnownDataset(
        "cifar10",
        ("cifar-10-batches-py", "cifar10/cifar-10-batches-py", "cifar10", "cifar-10", "CIFAR10"),
        CIFAR_LAYOUT,
        "cifar10",
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        (CIFAR_ARCHIVE,),
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
    conversions: tuple[
        tuple[str, int], ...
    ] = ()  # image folders: (what was converted, how many images)
    # each test image's index in the full test split (a prediction maps back to its file); empty where the
    # test images are a held-out part of the training split (``hold_out``)
    test_indices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.x_train.shape[1:])

    def describe(self) -> dict:
        """The facts the results store and ``study data`` record."""
        mean, std = input_statistics(self.x_train)
        return {
            "name": self.name,
            "path": self.location.path,
            "format": self.location.format,
            "train_size": int(len(self.y_train)),
            "test_size": int(len(self.y_test)),
            "full_train_size": self.full_sizes[0],
            "full_test_size": self.full_sizes[1],
            "input_shape": list(self.input_shape),
            "classes": list(self.classes),
            "train_class_counts": np.bincount(self.y_train, minlength=len(self.classes)).tolist(),
            "test_class_counts": np.bincount(self.y_test, minlength=len(self.classes)).tolist(),
            "fingerprint": self.fingerprint,
            "channel_mean": [round(float(v), 4) for v in mean],
            "channel_std": [round(float(v), 4) for v in std],
            **({"conversions": dict(self.conversions)} if self.conversions else {}),
        }


def search_roots() -> list[Path]:
    """``STUDY_DATA_DIR`` folders in order, then the Keras cache."""
    roots = [Path(p).expanduser() for p in os.environ.get("STUDY_DATA_DIR", "").split(":") if p]
    roots.append(
        Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "datasets"
    )
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


def refuse_broken_link(path: Path) -> None:
    """A link whose target is gone ends in one DataError, as an unreadable file does, so that it is never
    skipped (a class one image short) nor taken for a missing file; a link that resolves is followed."""
    if path.is_symlink() and not path.exists():
        raise DataError(
            f"{path}: broken link (its target {os.readlink(path)} does not exist); restore the "
            "target or remove the link"
        )


def _refuse_broken_links(folder: Path) -> None:
    """``folder`` and the entries of every accepted layout inside it (IDX, CIFAR-10 batches, train/test)."""
    refuse_broken_link(folder)
    if folder.is_dir():
        names = [f"{stem}{gz}" for stem in IDX_FILES.values() for gz in (".gz", "")]
        for name in (*names, *CIFAR_FILES, "train", "test"):
            refuse_broken_link(folder / name)


def _unread_copy(name: str, folders: list[Path]) -> str:
    """The first of ``folders`` that holds ``name`` in an ``UnreadForm``: what it holds and how to turn it
    into an accepted format ("" if none does)."""
    for folder in folders:
        for form in KNOWN[name].unread:
            found = [f for f in form.files if (folder / f).is_file()]
            if found:
                fix = form.fix.format(
                    folder=shlex.quote(str(folder)), path=shlex.quote(str(folder / found[0]))
                )
                return f"dataset {name!r}: {folder} holds {', '.join(found)}, {form.what}; {fix}"
    return ""


def _missing_files(folder: Path) -> list[str]:
    """The files a folder lacks when it holds part of a known layout ([] if none or all of it)."""
    if not folder.is_dir():
        return []
    idx = {
        stem: (folder / f"{stem}.gz").is_file() or (folder / stem).is_file()
        for stem in IDX_FILES.values()
    }
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
    """Where ``name`` will be read from; raises DataError naming every path searched, a broken link, or
    a copy in a form that is not read (``UnreadForm``) and how to convert it."""
    if name not in KNOWN:
        folder = Path(name).expanduser()
        _refuse_broken_links(folder)
        if folder.is_dir() and _is_image_folder(folder):
            return Location(name, str(folder.resolve()), "image-folder")
        raise DataError(
            f"unknown dataset {name!r}: not one of {', '.join(KNOWN)} and not an image folder "
            f"with {IMAGE_FOLDER_LAYOUT}"
        )
    known = KNOWN[name]
    searched, looked_in = [], []
    for root in search_roots():
        refuse_broken_link(root)
        looked_in.append(root)
        # a STUDY_DATA_DIR that is this dataset's own folder (.../fashion-mnist holding the IDX files) is
        # recognised by its name; a folder of another name is never read as this dataset
        own = [Path()] if root.name in known.folders else []
        for sub in (*own, *known.folders):
            candidate = root / sub
            searched.append(str(candidate))
            _refuse_broken_links(candidate)
            if candidate.is_dir():
                looked_in.append(candidate)
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
    unread = _unread_copy(name, list(dict.fromkeys(looked_in)))
    if unread:
        raise DataError(unread)
    raise DataError(
        f"dataset {name!r} not found; searched {', '.join(searched) or '(no folders)'}; "
        f"expected {known.layout} (set STUDY_DATA_DIR to the folder that holds it)"
        + _own_folder_hint()
    )


def _own_folder_hint() -> str:
    """Where a ``STUDY_DATA_DIR`` folder holds one dataset's files itself (``.../fashion-mnist``): the
    parent folder to name instead, so that every dataset is found in its sub-folder ("" if none)."""
    for root in search_roots()[:-1]:  # STUDY_DATA_DIR's folders, not the Keras cache
        if _format_of(root) in ("idx", "cifar-pickle"):
            return (
                f"; STUDY_DATA_DIR folder {root} holds one dataset's files itself: set "
                f"STUDY_DATA_DIR={root.resolve().parent} instead, the folder that holds mnist/, "
                "fashion-mnist/ and cifar-10-batches-py/"
            )
    return ""


# ---------------------------------------------------------------- readers of the official formats


def read_idx(path: Path, role: str | None = None) -> np.ndarray:
    """An IDX file (gzipped or not) as a uint8 array: (count, rows, cols) images or (count,) labels.

    ``role`` ("images" or "labels") is what the file must hold, checked by its magic number (2051 or
    2049); DataError names the file and the fault (found and expected) in one line.
    """
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read IDX file ({err})") from None
    if len(raw) < 8:
        raise DataError(f"{path}: truncated IDX file ({len(raw)} bytes, header needs at least 8)")
    magic = int.from_bytes(raw[:4], "big")
    if role is not None and magic != IDX_MAGIC[role]:
        other = {2051: "images", 2049: "labels"}.get(magic)
        found, hint = (
            (f" (IDX {other})", f"; is it a renamed copy of an {other} file?")
            if other
            else ("", "")
        )
        raise DataError(
            f"{path}: bad magic number {magic}{found}, expected {IDX_MAGIC[role]} (IDX {role}){hint}"
        )
    if magic not in (2049, 2051):
        raise DataError(
            f"{path}: bad magic number {magic}, expected 2051 (images) or 2049 (labels)"
        )
    ndim = 1 if magic == 2049 else 3
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, expected {header})")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    actual = len(raw) - header
    if actual != expected:
        raise DataError(
            f"{path}: wrong count: header says {' x '.join(map(str, dims))} = {expected} bytes of data, "
            f"file has {actual}"
        )
    if ndim == 3 and 0 in dims:
        raise DataError(
            f"{path}: empty IDX images file ({' x '.join(map(str, dims))}); expected at least one "
            "image of at least 1 x 1 pixels"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def check_labels(path: Path | str, labels: np.ndarray, classes: int) -> np.ndarray:
    """``labels`` as a 1-D int64 array if it holds integers in 0..classes-1; else one DataError line."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:  # Keras' CIFAR-10 keeps labels as (N, 1)
        labels = labels[:, 0]
    if labels.ndim != 1 or not (np.issubdtype(labels.dtype, np.integer) or labels.size == 0):
        raise DataError(
            f"{path}: labels have shape {labels.shape} and dtype {labels.dtype}, expected one integer "
            "class index per image"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = int(np.flatnonzero((labels < 0) | (labels >= classes))[0])
        raise DataError(
            f"{path}: label {int(labels[bad])} at index {bad} is outside 0..{classes - 1} "
            f"(the dataset has {classes} classes)"
        )
    return labels.astype(np.int64)


def _check_splits(
    where: Path | str, x_train: np.ndarray, x_test: np.ndarray, what: str = "images"
) -> None:
    """Train and test images must have one shape (height, width, channels) between them."""
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(
            f"{where}: test {what} are {'x'.join(map(str, x_test.shape[1:]))}, training {what} are "
            f"{'x'.join(map(str, x_train.shape[1:]))}; expected one size for both splits"
        )


def _read_idx_folder(folder: Path, classes: int = 10):
    paths = _idx_paths(folder)
    arrays = {key: read_idx(path, IDX_ROLE[key]) for key, path in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise DataError(
                f"{paths[split + '_images']}: wrong count: {len(images)} images but "
                f"{paths[split + '_labels']} has {len(labels)} labels"
            )
        check_labels(paths[f"{split}_labels"], labels, classes)
    _check_splits(paths["test_images"], arrays["train_images"], arrays["test_images"])
    return (
        arrays["train_images"][..., None],
        arrays["train_labels"],
        arrays["test_images"][..., None],
        arrays["test_labels"],
    )


NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _read_npz(path: Path, classes: int = 10):
    """A Keras dataset .npz: uint8 images (N, H, W) or (N, H, W, 1|3) and integer labels, checked."""
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in NPZ_KEYS if k not in data.files]
            if missing:
                raise DataError(
                    f"{path}: .npz lacks {', '.join(missing)} (it has {', '.join(data.files) or 'nothing'})"
                    f"; expected a Keras dataset .npz with {', '.join(NPZ_KEYS)}"
                )
            x_train, y_train, x_test, y_test = (data[k] for k in NPZ_KEYS)
    except (OSError, ValueError, EOFError) as err:
        raise DataError(
            f"{path}: not a Keras dataset .npz with {', '.join(NPZ_KEYS)} ({err})"
        ) from None
    images = []
    for key, x, y in (("x_train", x_train, y_train), ("x_test", x_test, y_test)):
        where = f"{path} {key}"
        if x.dtype != np.uint8:
            raise DataError(f"{where}: dtype {x.dtype}, expected uint8 pixels 0..255")
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or x.shape[3] not in (1, 3) or 0 in x.shape:
            raise DataError(
                f"{where}: shape {x.shape}, expected (count, height, width) or (count, height, width, "
                "1 or 3) with at least one image"
            )
        if len(check_labels(f"{path} y_{key[2:]}", y, classes)) != len(x):
            count = len(np.asarray(y).reshape(-1))
            raise DataError(
                f"{where}: wrong count: {len(x)} images but y_{key[2:]} has {count} labels"
            )
        images.append(x)
    _check_splits(path, *images)
    return images[0], y_train, images[1], y_test


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One official CIFAR-10 python batch: (N, 32, 32, 3) uint8 images and labels."""
    try:
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
    except Exception as err:  # a truncated pickle raises EOFError, UnpicklingError, ...
        raise DataError(
            f"{path}: cannot read CIFAR-10 batch ({type(err).__name__}: {err})"
        ) from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataError(
            f"{path}: not a CIFAR-10 batch: expected a dict with b'data' and b'labels'"
        )
    data = np.asarray(batch[b"data"])
    if data.ndim != 2 or data.shape[1] != 3072 or not len(data):
        raise DataError(
            f"{path}: b'data' has shape {data.shape}, expected (N, 3072) uint8 rows (R, G, B planes)"
        )
    if data.dtype != np.uint8:
        if not np.issubdtype(data.dtype, np.integer) or data.min() < 0 or data.max() > 255:
            found = (
                f"values {data.min()}..{data.max()}"
                if np.issubdtype(data.dtype, np.number)
                else "non-numbers"
            )
            raise DataError(
                f"{path}: b'data' has dtype {data.dtype} ({found}), expected uint8 pixels 0..255"
            )
        data = data.astype(np.uint8)  # integers within 0..255: exact
    labels = np.asarray(batch[b"labels"])
    if labels.ndim != 1 or len(labels) != len(data):
        raise DataError(f"{path}: wrong count: {len(data)} images but {labels.size} labels")
    labels = check_labels(path, labels, len(KNOWN["cifar10"].classes))
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _read_cifar_folder(folder: Path):
    train = [
        read_cifar_batch(folder / f"data_batch_{i}")
        for i in range(1, 6)
        if (folder / f"data_batch_{i}").is_file()
    ]
    x_test, y_test = read_cifar_batch(folder / "test_batch")
    return (
        np.concatenate([x for x, _ in train]),
        np.concatenate([y for _, y in train]),
        x_test,
        y_test,
    )


def is_hidden(name: str) -> bool:
    """Hidden and system entries (``.ipynb_checkpoints``, ``.DS_Store``, ``__MACOSX``, ``Thumbs.db``, ...)
    are never a class or an image."""
    return name.startswith(".") or name in HIDDEN


def _visible(folder: Path) -> list[Path]:
    """The entries of ``folder`` that are not hidden; one DataError for a folder this user cannot list."""
    try:
        return [p for p in folder.iterdir() if not is_hidden(p.name)]
    except OSError as err:
        raise DataError(
            f"{folder}: cannot be read ({err.strerror}); accepted: a data folder whose folders this user "
            "can read and list"
        ) from None


def _list_image_folder(folder: Path, split: str, classes: tuple[str, ...] | None):
    root = folder / split
    entries = _visible(root)
    for entry in entries:
        refuse_broken_link(entry)
    found = tuple(sorted(p.name for p in entries if p.is_dir()))
    if not found:
        raise DataError(f"{root}: no class folders; expected {IMAGE_FOLDER_LAYOUT}")
    if classes is not None and found != classes:
        missing, extra = sorted(set(classes) - set(found)), sorted(set(found) - set(classes))
        raise DataError(
            f"{root}: class folders {list(found)} differ from train's {list(classes)} (missing "
            f"{missing or 'none'}, extra {extra or 'none'}); train/ and test/ need the same class folders"
        )
    files, labels = [], []
    for index, name in enumerate(found):
        images = [p for p in _visible(root / name) if p.suffix.lower() in IMAGE_EXTENSIONS]
        for image in images:
            refuse_broken_link(image)
        names = sorted(p for p in images if p.is_file())
        if not names:
            raise DataError(
                f"{root / name}: no images ({', '.join(IMAGE_EXTENSIONS)}) in this class folder; "
                "expected at least one (or remove the folder)"
            )
        files += names
        labels += [index] * len(names)
    return files, np.asarray(labels, dtype=np.int64), found


# How each PIL mode becomes 8-bit values: (conversion to a mode numpy reads, range of its values, what
# to report). Grey stays one channel, colour becomes three; an alpha channel is dropped, not blended.
EIGHT_BIT = {
    "1": ("L", None),
    "L": ("L", None),
    "P": ("RGB", None),
    "RGB": ("RGB", None),
    "RGBX": ("RGB", None),
    "YCbCr": ("RGB", None),
    "CMYK": ("RGB", "CMYK converted to RGB"),
    "LA": ("L", "alpha dropped"),
    "PA": ("RGB", "alpha dropped"),
    "RGBA": ("RGB", "alpha dropped"),
    "RGBa": ("RGB", "alpha dropped"),
}
SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")  # 0..65535 grey
ACCEPTED_MODES = tuple(EIGHT_BIT) + SIXTEEN_BIT + ("I (16-bit PNG or PGM)",)
# A photo whose EXIF orientation (tag 0x0112) is 2..8 is stored turned or mirrored; every viewer shows it
# upright, and so does decode_image (1 is upright already; other values are not orientations).
EXIF_ORIENTATION = 0x0112
UPRIGHT = "rotated upright by EXIF orientation"


def decode_image(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """One image file as uint8 (H, W, 1) grey or (H, W, 3) colour, and what was converted (``()`` if nothing).

    A photo is first turned upright by its EXIF orientation (``PIL.ImageOps.exif_transpose``), so a
    portrait stored as 32x24 is the 24x32 image viewers show. 8-bit modes keep their values (P through its
    palette, CMYK by PIL's conversion, alpha dropped); 16-bit grey (I;16, and I from a 16-bit PNG or PGM) is
    scaled by its true range, round(v * 255 / 65535), so v = 257 * p gives back p exactly; 16-bit RGB PNGs
    arrive from PIL as 8-bit RGB. Any other mode (F, I;16S, 32-bit I, LAB, HSV) is refused by name.
    DataError names the file.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    refuse_broken_link(path)
    try:
        with Image.open(path) as opened:
            image, notes = opened, []
            with warnings.catch_warnings():  # corrupt EXIF: PIL warns and reads no orientation
                warnings.simplefilter("ignore")
                orientation = opened.getexif().get(EXIF_ORIENTATION)
            if orientation in range(2, 9):
                image = ImageOps.exif_transpose(opened)
                notes.append(UPRIGHT)
            mode, note = opened.mode, None
            if mode in EIGHT_BIT:
                target, note = EIGHT_BIT[mode]
                if mode == "P" and "transparency" in opened.info:
                    note = (
                        "alpha dropped"  # the palette's colours are kept, its transparency is not
                    )
                array = np.asarray(
                    image.convert(target) if mode != target else image, dtype=np.uint8
                )
            elif mode in SIXTEEN_BIT or (mode == "I" and opened.format in ("PNG", "PPM")):
                wide = np.asarray(image).astype(np.int64)
                if wide.min(initial=0) < 0 or wide.max(initial=0) > 65535:
                    raise DataError(
                        f"{path}: mode {mode} pixels {wide.min()}..{wide.max()} are not 16-bit; "
                        f"accepted modes: {', '.join(ACCEPTED_MODES)}"
                    )
                array, note = (
                    ((wide * 255 + 32767) // 65535).astype(np.uint8),
                    "16-bit scaled to 8-bit",
                )
            else:
                raise DataError(
                    f"{path}: unsupported image mode {mode} ({opened.format}); accepted modes: "
                    f"{', '.join(ACCEPTED_MODES)}; save it as 8-bit grey or RGB"
                )
    except DataError:
        raise
    except (
        OSError,
        UnidentifiedImageError,
        ValueError,
    ) as err:  # PIL: truncated, unknown, undecodable
        raise DataError(f"{path}: cannot decode image ({err})") from None
    notes += [note] if note else []
    return (array[..., None] if array.ndim == 2 else array), tuple(notes)


@dataclass(frozen=True)
class Decoded:
    pixels: np.ndarray  # uint8 NHWC, one size, one channel count
    conversions: dict[str, int]  # what was converted -> how many images


def unify_channels(decoded: Decoded, channels: int) -> Decoded:
    """The rule for mixed channel counts: grey images are repeated into R = G = B when any image of the
    dataset is colour (``channels`` 3); colour images are never made grey."""
    if decoded.pixels.shape[3] == channels:
        return decoded
    return Decoded(
        np.repeat(decoded.pixels, channels, axis=3),
        {**decoded.conversions, "grey to RGB": len(decoded.pixels)},
    )


def decode_images(files: list[Path]) -> Decoded:
    """Decode image files into one uint8 NHWC array (``decode_image`` each, then ``unify_channels``);
    DataError names a bad file or one of another size."""
    arrays, conversions = [], {}
    for path in files:
        array, notes = decode_image(path)
        for note in notes:
            conversions[note] = conversions.get(note, 0) + 1
        if arrays and array.shape[:2] != arrays[0].shape[:2]:
            raise DataError(
                f"{path}: image is {array.shape[1]}x{array.shape[0]} pixels, the others are "
                f"{arrays[0].shape[1]}x{arrays[0].shape[0]}; resize them to one size"
            )
        arrays.append(array)
    channels = max(a.shape[2] for a in arrays)
    grey = sum(a.shape[2] < channels for a in arrays)
    if grey:
        conversions["grey to RGB"] = grey
        arrays = [np.repeat(a, channels, axis=2) if a.shape[2] < channels else a for a in arrays]
    return Decoded(np.stack(arrays), conversions)


def stratified_indices(
    labels: np.ndarray, size: int | None, rng: np.random.Generator
) -> np.ndarray:
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
        (x_train, y_train), (x_test, y_test) = getattr(
            keras.datasets, KNOWN[name].keras_loader
        ).load_data()
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
def load_dataset(
    name: str, train_size: int | None = None, test_size: int | None = None, data_seed: int = 0
) -> Dataset:
    """Load ``name``, draw stratified subsets with ``data_seed`` before decoding, scale to [0, 1]."""
    location = locate(name)
    rng = np.random.default_rng(data_seed)
    conversions: dict[str, int] = {}
    path = Path(location.path)
    if location.format == "image-folder":
        train_files, y_train, classes = _list_image_folder(path, "train", None)
        test_files, y_test, _ = _list_image_folder(path, "test", classes)
        full = (len(y_train), len(y_test))
        train_idx = stratified_indices(y_train, train_size, rng)
        test_idx = stratified_indices(y_test, test_size, rng)
        train = decode_images([train_files[i] for i in train_idx])
        test = decode_images([test_files[i] for i in test_idx])
        channels = max(train.pixels.shape[3], test.pixels.shape[3])
        train, test = unify_channels(train, channels), unify_channels(test, channels)
        if train.pixels.shape[1:3] != test.pixels.shape[1:3]:
            _check_splits(path / "test", train.pixels, test.pixels)
        x_train, x_test = train.pixels, test.pixels
        conversions = {
            k: train.conversions.get(k, 0) + test.conversions.get(k, 0)
            for k in {**train.conversions, **test.conversions}
        }
        y_train, y_test = y_train[train_idx], y_test[test_idx]
    else:
        reader = {
            "idx": _read_idx_folder,
            "keras-npz": _read_npz,
            "cifar-pickle": _read_cifar_folder,
            "keras-download": lambda _: _keras_download(name),
        }[location.format]
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
        raise DataError(
            f"{location.path}: label {max(y_train.max(), y_test.max())} outside 0..{len(classes) - 1}"
        )
    print_ = fingerprint(x_train, y_train, x_test, y_test)
    scale = np.float32(1 / 255)
    return Dataset(
        name=name,
        location=location,
        x_train=x_train.astype(np.float32) * scale,
        y_train=y_train,
        x_test=x_test.astype(np.float32) * scale,
        y_test=y_test,
        classes=tuple(classes),
        full_sizes=full,
        fingerprint=print_,
        conversions=tuple(sorted(conversions.items())),
        test_indices=np.asarray(test_idx, dtype=np.int64),
    )


def input_statistics(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and SD (float64, in [0, 1] pixel units) of the training images only: what ``center``
    and ``standardize`` subtract and divide by, for the training and the test images alike. A channel with
    no spread keeps SD 1 (it is only centred)."""
    pixels = np.asarray(x_train, dtype=np.float64).reshape(-1, x_train.shape[-1])
    mean = pixels.mean(axis=0) if len(pixels) else np.zeros(x_train.shape[-1])
    std = pixels.std(axis=0) if len(pixels) else np.ones(x_train.shape[-1])
    return mean, np.where(std > 0, std, 1.0)


def scale_inputs(data: Dataset, scaling: str) -> Dataset:
    """``data`` with its images scaled as ``scaling`` says (``study.declare.config.INPUT_SCALINGS``), using the
    statistics of its training images only (``input_statistics``): ``unit`` returns ``data`` itself."""
    check_choice("input_scaling", scaling, INPUT_SCALINGS)
    if scaling == "unit":
        return data
    mean, std = input_statistics(data.x_train)
    divide = std if scaling == "standardize" else np.ones_like(std)
    shift, factor = mean.astype(np.float32), (1 / divide).astype(np.float32)
    return replace(
        data, x_train=(data.x_train - shift) * factor, x_test=(data.x_test - shift) * factor
    )


def hold_out(data: Dataset, share: float, data_seed: int) -> Dataset:
    """``data`` with a stratified ``share`` of its training images moved into the place of its test images, which
    are dropped: a trial trained on the result is scored on the held-out validation split and never sees a
    test image (a grid's selection phase, ``study.declare.grid``). The split is drawn from ``data_seed``
    alone (its own stream), so every trial of a study holds out the same images; ``share`` 0 returns ``data``."""
    if not share:
        return data
    rng = np.random.default_rng(
        [data_seed, 1]
    )  # a stream apart from the subsets' (default_rng(data_seed))
    held = stratified_indices(data.y_train, max(1, round(share * len(data.y_train))), rng)
    kept = np.setdiff1d(np.arange(len(data.y_train)), held)
    return replace(
        data,
        x_train=data.x_train[kept],
        y_train=data.y_train[kept],
        x_test=data.x_train[held],
        y_test=data.y_train[held],
        test_indices=np.zeros(0, np.int64),
    )


@functools.lru_cache(maxsize=4)
def load_scaled(
    name: str,
    train_size: int | None,
    test_size: int | None,
    data_seed: int,
    scaling: str,
    validation: float = 0.0,
) -> Dataset:
    """``load_dataset``, then ``hold_out`` (a ``validation`` share scored instead of the test images), then
    ``scale_inputs`` with the statistics of the images that train; kept for the next trial of this worker."""
    data = load_dataset(name, train_size, test_size, data_seed)
    return scale_inputs(hold_out(data, validation, data_seed), scaling)
