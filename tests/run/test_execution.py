"""Where a run trains, built once: each combination of scheduler, workers, threads and progress, and the
bad values refused in one line (the command line's side: tests/cli/test_cli.py)."""

import dataclasses

import pytest

import study.run.execution
from study.errors import StudyError
from study.run.execution import Execution, Where


@pytest.fixture
def eight_cores(monkeypatch):
    """A machine of 8 cores whose default is 4 local workers (as if it had 4 GPUs)."""
    monkeypatch.setattr(study.run.execution.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(study.run.execution, "default_workers", lambda: 4)


@pytest.mark.parametrize(
    "flags, expected",
    [
        (
            {},
            Execution(None, 4, 2, True),
        ),  # this machine's workers, its 8 cores split between them
        ({"workers": 3}, Execution(None, 3, 2, True)),  # 8 // 3
        ({"workers": 16}, Execution(None, 16, 1, True)),  # at least one thread each
        ({"workers": 0}, Execution(None, 0, 8, True)),  # in this process: every core
        ({"workers": 0, "threads": 1, "progress": False}, Execution(None, 0, 1, False)),
        ({"workers": 2, "threads": 3}, Execution(None, 2, 3, True)),
        ({"scheduler": "tcp://10.0.0.5:8786"}, Execution("tcp://10.0.0.5:8786", 4, None, True)),
        (
            {"scheduler": "tcp://10.0.0.5:8786", "workers": 16, "threads": 2},
            Execution("tcp://10.0.0.5:8786", 16, 2, True),
        ),
        ({"scheduler": "", "workers": 0}, Execution(None, 0, 8, True)),  # an empty address: here
    ],
)
def test_build_fills_in_what_the_flags_left_out(eight_cores, flags, expected):
    assert Execution.build(**flags) == expected


@pytest.mark.parametrize(
    "execution, where",
    [
        (Execution(None, 0, 1), Where.IN_PROCESS),
        (Execution(None, 1, 1), Where.LOCAL),
        (Execution("tcp://h:8786", 0, None), Where.CLUSTER),  # a scheduler wins over --workers 0
        (Execution("tcp://h:8786", 8, None), Where.CLUSTER),
    ],
)
def test_where_follows_the_scheduler_then_the_workers(execution, where):
    assert execution.where == where
    assert str(where) in ("in-process", "local", "cluster")  # the run record's names


@pytest.mark.parametrize(
    "flags, line",
    [
        ({"workers": -1}, "--workers must be >= 0, got -1"),
        ({"threads": 0}, "--threads must be >= 1, got 0"),
        ({"scheduler": "tcp://h:8786", "threads": -2}, "--threads must be >= 1, got -2"),
        ({"workers": -1, "threads": 0}, "--workers must be >= 0, got -1"),  # the first bad flag
    ],
)
def test_a_bad_value_is_refused_in_one_line(eight_cores, flags, line):
    with pytest.raises(StudyError) as raised:
        Execution.build(**flags)
    assert str(raised.value) == line


def test_the_record_is_frozen_and_checked_however_it_is_made():
    execution = Execution(None, 2, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        execution.workers = 3  # type: ignore[misc]
    with pytest.raises(StudyError, match="--workers must be >= 0, got -5"):
        dataclasses.replace(execution, workers=-5)
