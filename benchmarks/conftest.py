"""Benchmarks run with TensorFlow on one thread, as each local study worker does."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_configure(config):
    from study.train.worker import init_tensorflow

    init_tensorflow(1)
