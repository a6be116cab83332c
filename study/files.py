"""Files written whole or not at all: each to a temporary name beside its target, flushed to disk, then
renamed over it (``os.replace`` is atomic on POSIX), so a killed process or a full disk never leaves a
half-written file; a set of files (a report) is renamed together once every one of them is written.

    write_text(out / "calibration.json", text)
    with replacing(out / "forest.png") as part:
        fig.savefig(part)
    with FileSet() as files:                       # report.html and report.pdf land together, or neither
        files.path(out / "report.html").write_text(html)
        write_pdf(files.path(out / "report.pdf"))

A temporary keeps its target's extension (``.report.a1b2.part.pdf``: writers choose the format by it) and
is removed when its write fails; one left by a killed process is removed by ``sweep``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

PART = ".part"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


MODE = 0o666 & ~_umask()  # what open() would have given the file (mkstemp gives 0600)


def _temporary(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f"{PART}{target.suffix}", dir=target.parent
    )
    os.close(handle)
    os.chmod(name, MODE)
    return Path(name)


def _flush(path: Path) -> None:
    """The file's bytes on disk before its rename (a crash of the machine then keeps the old file or the
    new one, never an empty one)."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def replacing(target: str | Path) -> Iterator[Path]:
    """A temporary path to write ``target``'s new content to; it replaces ``target`` when the block ends
    without an exception, and is removed otherwise."""
    target = Path(target)
    part = _temporary(target)
    try:
        yield part
        _flush(part)
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def write_text(target: str | Path, text: str) -> None:
    with replacing(target) as part:
        part.write_text(text)


class FileSet:
    """Files that replace their targets together: each ``path`` is a temporary, and all of them are renamed
    into place when the block ends without an exception (none of them otherwise)."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def path(self, target: str | Path) -> Path:
        part = _temporary(Path(target))
        self._staged.append((part, Path(target)))
        return part

    def __enter__(self) -> FileSet:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None:
            try:
                for part, _target in self._staged:
                    _flush(part)
                for part, target in self._staged:
                    os.replace(part, target)
                return
            except BaseException:
                self._discard()
                raise
        self._discard()

    def _discard(self) -> None:
        for part, _target in self._staged:
            part.unlink(missing_ok=True)


def sweep(folder: str | Path) -> None:
    """Remove the temporaries a killed writer left in ``folder`` (``.name.xxxx.part.ext``)."""
    folder = Path(folder)
    if folder.is_dir():
        for leftover in folder.glob(f".*{PART}*"):
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
