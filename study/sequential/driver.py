"""The sequential driver: one ``run_study`` per look, the next look's seeds from the analysis of the last.

counts = run_in_stages(study, profile, "output/study.sqlite", Execution.build())   # RunCounts, every look
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from study.analyse.comparisons import analyse
from study.analyse.selection import stored_choices
from study.analyse.sequential import Addition, Reason, next_look
from study.declare.budget import budget_name
from study.declare.grid import label_of
from study.declare.spec import PROFILES, Profile, Study
from study.errors import StudyError
from study.plan.estimate import DEFAULT, Calibration, duration, trial_cost
from study.records import RunCounts
from study.report.wording import REASON_WORDS
from study.results.store import Store
from study.results.stored import Stage
from study.run.execution import Execution
from study.run.runner import RunPlan, load_datasets, plan_run, run_study


def _trial_seconds(plan: RunPlan) -> dict[tuple[str, str, str], float]:
    """(experiment, value, dataset) -> one trial's cost at the built-in calibration (the same on any machine,
    so that the order of additions never depends on the machine), for every value a look may give more
    seeds (a grid's selection cells keep theirs)."""
    return {
        (row.experiment, row.value, row.dataset): trial_cost(
            plan.trials[row.trial_key], plan.sizes
        ).seconds(DEFAULT)
        for row in plan.rows
        if not row.phase
    }


def choose(
    study: Study,
    profile: Profile,
    seeds: dict,
    additions: list[Addition],
    loaded: dict,
    skip: bool = False,
) -> tuple[dict, list[Addition], int]:
    """The additions, in their order, that fit ``profile.max_trials``, the seed counts with them, and the
    plan's trials. The first that would pass the cap ends the list (with ``skip``, it is passed over and
    the next ones are still tried)."""
    chosen: list[Addition] = []
    current = dict(seeds)
    trials = len(plan_run(study, profile, seeds=current, loaded=loaded).trials)
    for addition in additions:
        trial = {
            **current,
            (addition.experiment, addition.value, addition.dataset): addition.seeds,
        }
        count = len(plan_run(study, profile, seeds=trial, loaded=loaded).trials)
        if profile.max_trials is not None and count > profile.max_trials:
            if skip:
                continue
            break
        current, trials = trial, count
        chosen.append(addition)
    return current, chosen, trials


def worst_case(study: Study, profile: Profile, loaded: dict, done=()) -> RunPlan:
    """The costliest plan the looks can reach: every comparison at ``max_seeds`` seeds, the most expensive
    first, up to ``max_trials`` (what ``study plan`` shows beside the first look; the looks themselves add
    the cheapest first, so a run costs at most this)."""
    first = plan_run(study, profile, loaded=loaded)
    if profile.looks <= 1:
        return first
    costs = _trial_seconds(first)
    baseline = {(row.experiment, row.value, row.dataset) for row in first.rows if row.is_baseline}
    everything = sorted(
        (-cost, index, Addition(*key, profile.max_seeds, "worst case", cost))
        for index, (key, cost) in enumerate(costs.items())
        if key not in baseline
    )
    seeds, _, _ = choose(
        study, profile, {}, [addition for *_, addition in everything], loaded, skip=True
    )
    return plan_run(
        study, profile, done, seeds=seeds, loaded=loaded, calibration=first.calibration
    )


def uncapped_worst_trials(
    study: Study, profile: Profile, loaded: dict, origins: dict[str, str] | None = None
) -> int:
    """The trials of the worst case without a cap: every value of every comparison at ``max_seeds`` seeds
    (the first look's when the profile has one look). ``origins`` as for ``plan_run``."""
    first = plan_run(study, profile, loaded=loaded, origins=origins)
    if profile.looks <= 1:
        return len(first.trials)
    seeds = {
        (row.experiment, row.value, row.dataset): profile.max_seeds
        for row in first.rows
        if not row.phase and not row.is_baseline
    }
    return len(plan_run(study, profile, seeds=seeds, loaded=loaded).trials)


def without_idle_cap(
    study: Study, profile: Profile, loaded: dict, origins: dict[str, str] | None = None
) -> Profile:
    """A custom budget without its ``max_trials`` where the cap cannot bind on this study (its worst case has
    fewer trials), renamed without it when its name spells out its fields: a cap inherited from a profile
    sized for a larger study (quick's 310) is then neither in the name nor said as "at most N trials". A
    built-in profile is kept as it is. ``origins`` as for ``plan_run``."""
    if profile.max_trials is None or PROFILES.get(profile.name) == profile:
        return profile
    if uncapped_worst_trials(study, profile, loaded, origins) >= profile.max_trials:
        return profile
    uncapped = dataclasses.replace(profile, max_trials=None)
    if profile.name == budget_name(profile):
        uncapped = dataclasses.replace(uncapped, name=budget_name(uncapped))
    return uncapped


def look_line(
    look: int, looks: int, chosen: list[Addition], left: int, cap: int | None, trials: int
) -> str:
    """The line a look ends with: how many undecided comparisons get more seeds, and why."""
    if not chosen:
        head = "no undecided comparison can use more seeds"
    else:
        counts = {r: sum(a.reason == r for a in chosen) for r in Reason}
        reasons = ", ".join(
            ("" if len(chosen) == 1 else f"{n} ") + f"because {REASON_WORDS[r]}"
            for r, n in counts.items()
            if n
        )
        noun = "comparison gets" if len(chosen) == 1 else "comparisons get"
        head = f"{len(chosen)} undecided {noun} more seeds ({reasons})"
    passing = ""
    if left:
        more = " more" if chosen else ""
        passing = f"; {left}{more} would pass the cap of {cap} trials"
    return f"look {look} of {looks}: {head}{passing}; {trials} trials in all"


def fit_time(
    study: Study, profile: Profile, seconds: float, workers: int, calibration, loaded: dict
) -> Profile:
    """``profile`` with the largest ``max_trials`` whose worst case (``worst_case``) fits in ``seconds`` on
    ``workers`` workers at ``calibration`` (``study run --time``), renamed as a custom budget when that changes
    it. Raises StudyError when not even the first look fits."""

    def worst(cap: int | None) -> RunPlan:
        return worst_case(study, dataclasses.replace(profile, max_trials=cap), loaded)

    first_look = plan_run(study, profile, loaded=loaded)
    first = first_look.estimate_for(workers, calibration).seconds
    if first > seconds:
        raise StudyError(
            f"--time {duration(seconds)} is shorter than the first look alone ({duration(first)} on "
            f"{workers} workers); accepted: a longer time, or a smaller budget"
        )
    uncapped = worst(None)
    if uncapped.estimate_for(workers, calibration).seconds <= seconds:
        cap = None
    else:
        low, high = len(first_look.trials), len(uncapped.trials)
        while high - low > 1:  # the largest cap whose worst case fits
            middle = (low + high) // 2
            fits = worst(middle).estimate_for(workers, calibration).seconds <= seconds
            low, high = (middle, high) if fits else (low, middle)
        cap = low
    fitted = dataclasses.replace(profile, max_trials=cap)
    return dataclasses.replace(fitted, name=budget_name(fitted)) if fitted != profile else profile


def run_in_stages(
    study: Study,
    profile: Profile,
    store_path,
    execution: Execution | None = None,
    log: Callable[[str], None] | None = None,
    calibration: Calibration | Callable[[], Calibration | None] | None = None,
    origins: dict[str, str] | None = None,
) -> RunCounts:
    """Train ``study`` under ``profile`` look by look (one look when the profile has no stages) where
    ``execution`` says (default: ``Execution.build()``); returns the counts over every look. ``calibration``
    and ``origins`` go to each look's ``run_study``. Raises what ``run_study`` raises, before anything is
    written."""
    say = log or (lambda line: print(line, file=sys.stderr))
    execution = execution or Execution.build()
    loaded = load_datasets(study, profile)
    profile = without_idle_cap(study, profile, loaded, origins)
    seeds: dict = {}
    history: list[Stage] = []
    total: RunCounts | None = None

    def train(study: Study, **extra) -> RunCounts:
        return run_study(
            study,
            profile,
            store_path,
            execution,
            log=log,
            calibration=calibration,
            origins=origins,
            loaded=loaded,
            **extra,
        )

    if any(e.grid is not None for e in study.experiments):
        # the grids' selection phase first (with every other experiment's first look): their comparisons are
        # planned from the cells it chooses on the validation split
        total = train(study, selection_only=True)
        study = with_selection(study, profile, store_path, say)
    for look in range(1, profile.looks + 1):
        counts = train(study, seeds=seeds, stages=tuple(history))
        total = counts if total is None else _add(total, counts)
        if look == profile.looks:
            break
        seeds, chosen, left, trials = _next_look(study, profile, store_path, seeds, loaded)
        history.extend(
            Stage(look + 1, a.experiment, a.value, a.dataset, a.seeds, a.reason) for a in chosen
        )
        say(look_line(look, profile.looks, chosen, left, profile.max_trials, trials))
        if not chosen:
            break
    return total


def _next_look(
    study: Study, profile: Profile, store_path, seeds: dict, loaded: dict
) -> tuple[dict, list[Addition], int, int]:
    """After a look whose trials are all in ``store_path``: the seed counts of the next look, the additions
    that fit the cap (none: the looks end here), how many undecided comparisons the cap left out, and the
    next look's trials."""
    with Store(store_path, create=False) as store:
        analysis = analyse(store, study.name, profile.name)
    plan = plan_run(study, profile, seeds=seeds, loaded=loaded)
    undecided = next_look(analysis, _trial_seconds(plan))
    seeds, chosen, trials = choose(study, profile, seeds, undecided, loaded)
    return seeds, chosen, len(undecided) - len(chosen), trials


@dataclass(frozen=True)
class Resume:
    """Where a run of a study would start from what a store holds: the looks already stored, replayed with
    the driver's own decisions (``resume_point``)."""

    study: Study  # with the grid cells the stored selection chose
    seeds: dict  # (experiment, value, dataset) -> seeds, as the stored looks gave them
    look: int  # the look a run would train next (1: the first, or a store of something else)
    complete: bool = False  # every look the results call for is stored: a run trains nothing


def resume_point(study: Study, profile: Profile, store_path, loaded: dict) -> Resume:
    """Replay ``run_in_stages`` on ``store_path`` without training: the grids' choices from the stored
    selection, each later look's seeds from the stored looks' analysis, up to the first look that has
    something to train (``study plan`` after an interrupted or finished run). A store without this study
    and budget, or holding another declaration of it, starts at the first look."""
    start = Resume(study, {}, 1)
    path = Path(store_path)
    if not path.exists():
        return start
    with Store(path, create=False) as store:
        try:
            stored = store.stored_study(study.name, profile.name)
        except StudyError:
            return start
        chosen = study.with_choices(stored_choices(store, study, profile.name))
        done = frozenset(store.done_keys())
    if stored.study not in (study, chosen) or stored.profile != profile:
        return start
    # the looks the store's run recorded (its plan rows are the last look's, so the analysis can only
    # replay the step after it)
    seeds = {(s.experiment, s.value, s.dataset): s.seeds for s in stored.stages}
    look = max((s.look for s in stored.stages), default=1)
    while True:
        if plan_run(chosen, profile, done, seeds=seeds, loaded=loaded).pending:
            return Resume(chosen, seeds, look)
        if look >= profile.looks:
            break
        seeds, added, _, _ = _next_look(chosen, profile, path, seeds, loaded)
        if not added:
            break
        look += 1
    return Resume(chosen, seeds, look, True)


def with_selection(
    study: Study, profile: Profile, store_path, say: Callable[[str], None]
) -> Study:
    """``study`` with each grid's cells chosen on the validation split from what ``store_path`` holds
    (``study.analyse.selection.stored_choices``); one line per grid and dataset says what was chosen."""
    with Store(store_path, create=False) as store:
        choices = stored_choices(store, study, profile.name)
    study = study.with_choices(choices)
    for experiment in study.experiments:
        grid = experiment.grid
        if grid is None:
            continue
        for dataset in experiment.datasets:
            columns = grid.chosen.get(dataset)
            if columns is None:
                say(
                    f"{experiment.name} on {dataset}: no cell of some level finished its selection "
                    f"seeds; its comparison runs at each level's usual {grid.tuned}"
                )
                continue
            say(
                f"{experiment.name} on {dataset}: {grid.tuned} chosen on the validation split: "
                + ", ".join(
                    f"{row.label} {label_of(row.tuned[c])}"
                    + (
                        " (edge of its grid)"
                        if c in (0, len(row.tuned) - 1) and len(row.tuned) > 1
                        else ""
                    )
                    for row, c in zip(grid.rows, columns)
                )
            )
    return study


def _add(a: RunCounts, b: RunCounts) -> RunCounts:
    """Counts over two looks: the second look's plan and what it trained added to the first's."""
    out = dataclasses.replace(a)
    out.planned = b.planned  # stored: what the store had before the first look
    for field in dataclasses.fields(RunCounts):
        if field.name not in (
            "planned",
            "stored",
            "log",
        ):  # trained, each outcome, images, seconds
            setattr(out, field.name, getattr(a, field.name) + getattr(b, field.name))
    out.log = b.log or a.log
    return out
