"""The timing benchmarks' results (``make bench``: pytest-benchmark JSON), read back for the report.

costs = parameter_costs(Path("output/benchmarks.json"))   # None when make bench has not run
costs[0].step_ms, costs[0].relative
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ParameterCost:
    """Median time of one training step (ms, at the value's batch size) and of one validation pass (ms),
    and the step time relative to the baseline value of the same experiment and input shape (NaN if unknown)."""

    experiment: str
    value: str
    input: str
    baseline: bool
    step_ms: float
    validation_ms: float
    relative: float


def parameter_costs(bench_path: Path) -> list[ParameterCost] | None:
    """The per-parameter costs of a pytest-benchmark JSON file, or None when it is absent or unreadable."""
    if not bench_path.is_file():
        return None
    try:
        data = json.loads(bench_path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    rows: dict[tuple, dict] = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        if "experiment" not in info:
            continue
        key = (info["experiment"], info["value"], info["input"])
        rows.setdefault(key, {"baseline": bool(info.get("baseline", False))})
        rows[key][info.get("kind", "step")] = bench["stats"]["median"] * 1000
    base = {(e, i): r.get("step") for (e, v, i), r in rows.items() if r["baseline"]}
    out = []
    for (experiment, value, shape), r in sorted(rows.items()):
        reference, step = base.get((experiment, shape)), r.get("step")
        out.append(
            ParameterCost(
                experiment,
                value,
                shape,
                r["baseline"],
                step or math.nan,
                r.get("validation") or math.nan,
                step / reference if reference and step else math.nan,
            )
        )
    return sorted(out, key=lambda c: (c.experiment, c.input, c.value))
