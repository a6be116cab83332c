"""GPU detection without TensorFlow, and the local cluster's one worker per GPU (mocked GPUs)."""

import subprocess

import pytest

from study.run import runner
from study.train import devices


def test_no_gpu_means_one_worker_per_core(monkeypatch):
    monkeypatch.setattr(devices.shutil, "which", lambda name: None)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 6)
    assert devices.gpu_count() == 0 and runner.default_workers() == 6


def test_nvidia_smi_listing_gives_one_worker_per_gpu(monkeypatch):
    listing = (
        "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-2)\n"
        "  MIG 1g.10gb Device 0: (UUID: MIG-3)\n"
    )
    monkeypatch.setattr(devices.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(
        devices.subprocess,
        "run",
        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=listing, stderr=""),
    )
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 16)
    assert devices.gpu_count() == 2 and runner.default_workers() == 2


@pytest.mark.parametrize("visible,count", [("0,1,3", 3), ("", 0), ("-1", 0), ("2", 1)])
def test_cuda_visible_devices_decides_when_set(monkeypatch, visible, count):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert devices.gpu_count() == count


def test_each_local_worker_gets_its_own_gpu():
    assert [devices.gpu_for_worker(name, 2) for name in (0, 1, 2, "3")] == [0, 1, 0, 1]
    assert (
        devices.gpu_for_worker("tcp://10.0.0.5:4000", 2) is None
    )  # a worker of someone else's cluster
    assert devices.gpu_for_worker(0, 0) is None
