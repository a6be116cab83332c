"""Where and how a run trains its trials: one frozen record, built once from ``study run``'s flags.

    execution = Execution.build(workers=0, threads=1, progress=False)  # in this process, one thread
    execution.where, execution.workers, execution.threads               # Where.IN_PROCESS, 0, 1
    run_in_stages(study, profile, "output/study.sqlite", execution)

``build`` fills in what a flag left out (this machine's workers, its cores split between them) and refuses
a bad value in one ``StudyError`` line; the record then travels whole, from the command through
``study.sequential.run_in_stages`` and ``study.run.runner.run_study`` to the code that starts the workers.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from study.errors import StudyError
from study.train.devices import gpu_count, local_workers


class Where(enum.StrEnum):
    """Where the trials train (the run record's ``scheduler`` field names it, or the cluster's address)."""

    IN_PROCESS = "in-process"  # one after another in this process (--workers 0; for debugging)
    LOCAL = "local"  # a Dask cluster of single-threaded worker processes on this machine
    CLUSTER = "cluster"  # an existing Dask scheduler (--scheduler tcp://HOST:PORT)


def default_workers() -> int:
    """One worker process per GPU when there are GPUs, else one per core (study.train.devices)."""
    return local_workers(gpu_count(), os.cpu_count() or 1)


@dataclass(frozen=True)
class Execution:
    """How ``run_study`` trains: on this machine (in this process or a local Dask cluster) or on an existing
    Dask cluster, with how many workers and TensorFlow threads, with or without a progress bar."""

    scheduler: str | None  # tcp://HOST:PORT of a running Dask scheduler; None: this machine
    workers: int  # local worker processes (0: this process); on a cluster, the count an estimate assumes
    threads: (
        int | None
    )  # TensorFlow threads per trial; None: TensorFlow's default (a cluster's cores)
    progress: bool = True  # a bar on a terminal; one line per finished trial either way

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise StudyError(f"--workers must be >= 0, got {self.workers}")
        if self.threads is not None and self.threads < 1:
            raise StudyError(f"--threads must be >= 1, got {self.threads}")

    @property
    def where(self) -> Where:
        if self.scheduler:
            return Where.CLUSTER
        return Where.IN_PROCESS if self.workers == 0 else Where.LOCAL

    @classmethod
    def build(
        cls,
        scheduler: str | None = None,
        workers: int | None = None,
        threads: int | None = None,
        progress: bool = True,
    ) -> Execution:
        """The execution ``study run --scheduler --workers --threads [--no-progress]`` asks for. ``workers``
        None: this machine's (``default_workers``), also on a cluster, whose size is unknown here;
        ``threads`` None: this machine's cores split between its workers (at least one each), or
        TensorFlow's default on a cluster. Raises a one-line StudyError for workers < 0 or threads < 1."""
        scheduler = scheduler or None
        workers = default_workers() if workers is None else workers
        if threads is None and scheduler is None:
            threads = max(1, (os.cpu_count() or 1) // max(1, workers))
        return cls(scheduler, workers, threads, progress)
