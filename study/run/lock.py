"""One ``study run`` per store at a time: a second run refuses at once, naming the run that holds it.

The lock is an ``flock`` on ``<store>.lock`` beside the store, so the kernel releases it when the
holding process ends in any way (Ctrl-C, ``kill -9``, a crashed node's NFS lease): a dead run never
blocks the next one. The file records who holds it, for the message of the run that is refused.

    with StoreLock("output/study.sqlite"):
        ...  # plan, train, write the store
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from study.errors import StudyError


class StoreLock:
    def __init__(self, store_path: str | Path):
        self.path = Path(f"{store_path}.lock")
        self.handle = None

    def holder(self) -> dict:
        """Who holds the lock, as its holder wrote it ({} if unknown)."""
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> StoreLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+")  # noqa: SIM115
        except (
            OSError
        ) as err:  # before anything trains: a run must be able to write beside its store
            raise StudyError(
                f"cannot write {err.filename or self.path} ({err.strerror}): `study run` writes the store and "
                f"its lock in {self.path.parent}; accepted: a --store in a folder this user can write"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            who = self.holder()
            raise StudyError(
                f"store {str(self.path)[:-5]} is in use by another `study run` (pid {who.get('pid', '?')} on "
                f"{who.get('host', '?')}, started {who.get('started', '?')}); wait for it to finish, "
                "or give this run another --store"
            ) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": " ".join(sys.argv),
        }
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(holder))
            handle.flush()
        except OSError as err:  # a full disk: said here, before anything trains
            fcntl.flock(handle, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):  # its buffer cannot be written either
                handle.close()
            raise StudyError(
                f"cannot write {self.path} ({err.strerror}): `study run` writes the store and its lock in "
                f"{self.path.parent}; its stored trials are kept; accepted: free space there, or another --store"
            ) from None
        self.handle = handle
        return self

    def release(self) -> None:
        if self.handle is not None:
            self.handle.truncate(0)
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
