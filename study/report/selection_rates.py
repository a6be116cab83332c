"""The simulated error rates of a grid's two-phase protocol, as the report states them (numbers only, no words).

``benchmarks/selection_rates.py`` simulates grid experiments under the null (every level's best cell equally
accurate) and writes ``data/selection_rates.json`` next to this module: per scenario and protocol, the
family-wise rate of a false better/worse verdict. Two protocols matter to the report: ``SEPARATE`` (the
choice on selection seeds, the verdicts on fresh seeds: what ``study`` does) and ``SAME`` (the same seeds
choose and judge). This reads the file into frozen records, and tolerates its absence.

    rates = load_selection_rates()              # None without the file
    rates.scenarios[0].familywise[SEPARATE].rate
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from study.report.error_rates import Estimate

SEPARATE = "a"  # the benchmark's protocol: choose on selection seeds, decide on fresh seeds
SAME = "b"  # the benchmark's naive protocol: choose and decide on the same selection seeds


@dataclass(frozen=True)
class SelectionScenario:
    """One simulated world: its title, whether its seeds are paired, and per protocol key the family-wise
    rate of any false better/worse verdict among the block's comparisons."""

    key: str
    title: str
    reps: int
    paired: bool
    familywise: dict[str, Estimate]


@dataclass(frozen=True)
class SelectionRates:
    """One run of ``benchmarks/selection_rates.py``: its provenance, level and scenarios."""

    date: str
    command: str
    reps: int
    alpha: float  # NaN when the file does not say
    protocols: dict[str, str]  # key -> the benchmark's description of the protocol
    scenarios: tuple[SelectionScenario, ...]


def _estimate(raw: dict) -> Estimate:
    rate, se = raw.get("rate"), raw.get("se")
    return Estimate(
        math.nan if rate is None else float(rate), math.nan if se is None else float(se)
    )


def parse_selection_rates(raw: dict) -> SelectionRates:
    """The records of one decoded ``selection_rates.json``; a KeyError, TypeError or ValueError where it
    lacks what the report states."""
    design = raw.get("design") or {}
    scenarios = []
    for s in raw["scenarios"]:
        familywise = {
            key: _estimate(protocol["familywise_false_better_or_worse"])
            for key, protocol in s["protocols"].items()
            if "familywise_false_better_or_worse" in protocol
        }
        scenarios.append(
            SelectionScenario(
                str(s["key"]), str(s["title"]), int(s["reps"]), bool(s.get("paired")), familywise
            )
        )
    alpha = design.get("alpha")
    return SelectionRates(
        date=str(raw.get("date", "")),
        command=str(raw.get("command", "")),
        reps=int(raw["reps"]),
        alpha=math.nan if alpha is None else float(alpha),
        protocols={str(k): str(v) for k, v in (design.get("protocols") or {}).items()},
        scenarios=tuple(scenarios),
    )


def load_selection_rates(path: Path | None = None) -> SelectionRates | None:
    """The simulated rates from ``path`` (default: the package's ``data/selection_rates.json``); None when
    the file is missing, unreadable or lacks what the report states."""
    try:
        text = (
            path.read_text()
            if path is not None
            else resources.files("study.report").joinpath("data/selection_rates.json").read_text()
        )
        return parse_selection_rates(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
