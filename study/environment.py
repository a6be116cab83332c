"""The facts of the machine a run happened on, for the reproducibility appendix (no TensorFlow import)."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

PACKAGES = (
    "study",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "numpy",
    "pandas",
    "scipy",
    "matplotlib",
    "jinja2",
    "dask",
    "distributed",
    "weasyprint",
    "pillow",
)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(**extra) -> dict:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "packages": package_versions(),
        **extra,
    }
