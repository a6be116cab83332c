"""Learning-rate schedules over a trial's own SGD steps (no TensorFlow: numbers only).

A schedule maps the trial's global step ``t`` (0-based, counted over every epoch) to a rate; the budget is
the trial's own ``epochs x ceil(train images / batch)`` steps, so every batch size and epoch count decays to
zero at the end of its own run. The trainer hands each epoch's rates to its traced loop as a tensor, so a
graph cached for an earlier trial restarts the schedule with every new trial.

    epoch_rates("linear", 0.05, total_steps=375, first_step=0, steps=125)[:2]   # 0.05, 0.049866...
"""

from __future__ import annotations

import math

import numpy as np

from study.declare.config import SCHEDULES, check_choice

STEP_BOUNDARIES = (
    0.5,
    0.75,
)  # "step": the rate is divided by STEP_FACTOR after each of these fractions
STEP_FACTOR = 10.0


def steps_per_epoch(train_size: int, batch_size: int) -> int:
    """SGD steps of one epoch: the last batch may be smaller."""
    return -(-train_size // batch_size)


def rate_at(schedule: str, base: float, step: np.ndarray | int, total_steps: int) -> np.ndarray:
    """The learning rate of ``schedule`` at global ``step`` (0-based) of ``total_steps`` (float64)."""
    check_choice("schedule", schedule, SCHEDULES)
    t = np.asarray(step, dtype=np.float64)
    fraction = t / max(1, total_steps)
    if schedule == "constant":
        return np.full_like(t, base)
    if schedule == "linear":
        return base * (1.0 - fraction)
    if schedule == "cosine":
        return base * 0.5 * (1.0 + np.cos(math.pi * fraction))
    drops = sum(((fraction >= b).astype(np.float64) for b in STEP_BOUNDARIES), np.zeros_like(t))
    return base / STEP_FACTOR**drops


def epoch_rates(
    schedule: str, base: float, total_steps: int, first_step: int, steps: int
) -> np.ndarray:
    """The float32 rates of the ``steps`` steps that start at global step ``first_step``."""
    return rate_at(schedule, base, np.arange(first_step, first_step + steps), total_steps).astype(
        np.float32
    )
