"""GPUs on this machine, found without importing TensorFlow, and which one a local worker uses.

The local cluster starts one worker per GPU when there are GPUs (one per core otherwise); worker
``i`` sees only GPU ``i mod n``, so the workers never share a card or its memory.

    gpu_count()                  # 0 here; ``nvidia-smi -L`` lines (or CUDA_VISIBLE_DEVICES) elsewhere
    local_workers(gpus=2, cpus=16)  # 2
"""

from __future__ import annotations

import os
import shutil
import subprocess


def gpu_count() -> int:
    """NVIDIA GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` if set, else ``nvidia-smi -L``."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    smi = shutil.which("nvidia-smi")
    if not smi:
        return 0
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listing.splitlines() if line.startswith("GPU "))


def local_workers(gpus: int, cpus: int) -> int:
    """Worker processes of the local cluster: one per GPU if there are any, else one per core.

    >>> local_workers(gpus=0, cpus=16), local_workers(gpus=2, cpus=16)
    (16, 2)
    """
    return gpus if gpus > 0 else max(1, cpus)


def gpu_for_worker(worker_name, gpus: int) -> int | None:
    """The GPU index a local worker named ``worker_name`` (0, 1, ...) uses, None without GPUs or a name.

    >>> gpu_for_worker(3, 2)
    1
    """
    if gpus <= 0:
        return None
    try:
        return int(worker_name) % gpus
    except (TypeError, ValueError):
        return None
