"""Custom budgets: a built-in profile with some of its seeds, epochs and subset sizes overridden.

A user sets a budget without editing code, on the command line or in a study file's ``[profile]``
table; fields not set keep the chosen profile's values:

    study run --profile quick --epochs 3 --train-size 8000 --test-size 1000 --seeds 4
    # -> stored and reported as profile "custom-e3-tr8000-te1000-s4"

A budget never enters a trial key by name: keys hash the resolved settings and data (see
``study.plan.trials``), so a custom budget equal to a built-in profile reuses that profile's trials.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from study.declare.config import INT32_MAX
from study.declare.spec import PROFILES, Profile
from study.errors import ConfigError

BUDGET_FIELDS = ("epochs", "train_size", "test_size", "seeds", "max_seeds", "max_trials")
PROFILE_KEYS = ("name", *BUDGET_FIELDS, "description")
FLAGS = {
    "epochs": "--epochs",
    "train_size": "--train-size",
    "test_size": "--test-size",
    "seeds": "--seeds",
    "max_seeds": "--max-seeds",
    "max_trials": "--max-trials",
}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


def check_positive(what: str, value: Any) -> int:
    """``value`` if it is an integer from 1 to 2**31 - 1 (TensorFlow's int32); else a one-line ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{what} must be a positive integer, got {value!r}")
    if value > INT32_MAX:
        raise ConfigError(f"{what} must be a positive integer up to {INT32_MAX:,}, got {value:,}")
    return value


def budget_name(profile: Profile) -> str:
    """The stable name of a budget: every field spelled out, ``all`` for the study's own value."""

    def part(value: int | None) -> str:
        return "all" if value is None else str(value)

    short = {"epochs": "e", "train_size": "tr", "test_size": "te"}
    per_dataset = "".join(
        f"-{name}-" + "-".join(f"{short[k]}{part(v)}" for k, v in sorted(fields.items()))
        for name, fields in sorted(profile.datasets.items())
    )
    stages = "".join(
        f"-{tag}{value}"
        for tag, value in (("ms", profile.max_seeds), ("mt", profile.max_trials))
        if value is not None
    )
    return (
        f"custom-e{part(profile.epochs)}-tr{part(profile.train_size)}-te{part(profile.test_size)}"
        f"-s{part(profile.seeds)}" + per_dataset + stages
    )


def _describe(profile: Profile, base: Profile) -> str:
    def images(value: int | None) -> str:
        return "all" if value is None else f"{value:,}"

    epochs = "the study's epochs" if profile.epochs is None else f"{profile.epochs} epochs"
    seeds = "all seeds" if profile.seeds is None else f"{profile.seeds} seeds"
    return (
        f"custom budget: {seeds}, {epochs}, {images(profile.train_size)}/{images(profile.test_size)} "
        f"images (fields not set from {base.name})"
    )


def custom_profile(base: Profile, overrides: dict[str, Any], where: str = "") -> Profile:
    """``base`` with ``overrides`` (epochs, train_size, test_size, seeds, name, description) applied.

    No effective override gives ``base`` itself; otherwise the budget is named by ``overrides["name"]``
    or by its fields (``custom-e3-tr8000-te1000-s4``). ``where`` prefixes error messages.
    """
    prefix = f"{where}: " if where else ""
    for key in overrides:
        if key not in PROFILE_KEYS:
            raise ConfigError(f"{prefix}unknown key {key!r}; accepted: {', '.join(PROFILE_KEYS)}")
    changes: dict[str, Any] = {}
    for key in BUDGET_FIELDS:
        if overrides.get(key) is not None:
            what = f"{where} {key}".strip() if where else FLAGS[key]
            changes[key] = check_positive(what, overrides[key])
    name = overrides.get("name")
    if name is not None and (not isinstance(name, str) or not NAME_PATTERN.match(name)):
        raise ConfigError(
            f"{prefix}profile name must be 1-64 letters, digits or _.+- (starting with a letter "
            f"or digit), got {name!r}"
        )
    if not changes and name is None:
        return base
    if "seeds" in changes and "max_seeds" not in changes:  # seeds set alone: those seeds, one look
        changes.update(max_seeds=None, seed_step=None, max_trials=changes.get("max_trials"))
    # a field set here holds for every dataset: it replaces the profile's per-dataset values of that field
    datasets = {
        name: {k: v for k, v in fields.items() if k not in changes}
        for name, fields in base.datasets.items()
    }
    resolved = dataclasses.replace(
        base, **changes, datasets={k: v for k, v in datasets.items() if v}
    )
    if name is None and resolved == base:
        return base
    if name in PROFILES and _fields(PROFILES[name]) != _fields(resolved):
        raise ConfigError(
            f"{prefix}profile name {name!r} is a built-in profile with another budget; "
            "choose another name"
        )
    description = overrides.get("description")
    resolved = dataclasses.replace(resolved, name=name or budget_name(resolved))
    return dataclasses.replace(
        resolved, description=str(description) if description else _describe(resolved, base)
    )


def _fields(profile: Profile) -> tuple:
    return tuple(getattr(profile, key) for key in BUDGET_FIELDS)


def resolve_budget(
    base: Profile, table: dict[str, Any] | None, flags: dict[str, Any], source: str = "study file"
) -> tuple[Profile, dict[str, str]]:
    """The budget of a run: ``base``, then a study file's ``[profile]`` table, then command-line flags.

    Returns the profile and, for each size the user set, what set it (for ``check_sizes`` messages).
    A table's ``name`` names its budget unless flags change it further.
    """
    where = f"{source} [profile]"
    profile = custom_profile(base, table, where) if table else base
    origins = {
        key: f"{where} {key}" for key in BUDGET_FIELDS if (table or {}).get(key) is not None
    }
    set_flags = {key: value for key, value in flags.items() if value is not None}
    if set_flags:
        profile = custom_profile(profile, set_flags)
        origins.update({key: FLAGS[key] for key in BUDGET_FIELDS if key in set_flags})
    return profile, origins


def check_budget(
    profile: Profile, origins: dict[str, str], full_sizes: dict[str, tuple[int, int]], seeds: int
) -> None:
    """What the user set must exist: no more seeds than the study declares, and no subset larger than
    a dataset of the study (a built-in profile takes all there is instead). ``full_sizes`` maps
    dataset -> (train, test) images available."""
    if profile.seeds is not None and "seeds" in origins and profile.seeds > seeds:
        raise ConfigError(
            f"{origins['seeds']} {profile.seeds} is more than the study's {seeds} seeds; "
            f"accepted: 1 to {seeds}, or leave it unset for all"
        )
    for key, index, split in (("train_size", 0, "training"), ("test_size", 1, "test")):
        value = getattr(profile, key)
        if value is None or key not in origins:
            continue
        for dataset, sizes in full_sizes.items():
            if value > sizes[index]:
                raise ConfigError(
                    f"{origins[key]} {value} is larger than {dataset}'s {sizes[index]:,} {split} "
                    f"images; accepted: 1 to {min(s[index] for s in full_sizes.values()):,}, "
                    "or leave it unset for all"
                )


def check_profile_table(table: Any, source: str = "study file") -> dict[str, Any]:
    """A study file's ``[profile]`` table, validated (types and names) before anything is loaded."""
    if not isinstance(table, dict):
        raise ConfigError(
            f"{source}: profile must be a table [profile] with keys {', '.join(PROFILE_KEYS)}, "
            f"got {table!r}"
        )
    custom_profile(PROFILES["smoke"], table, f"{source} [profile]")
    return table


def profile_table(study_file: str | Path | None) -> dict[str, Any]:
    """The ``[profile]`` table of a study file ({} without a file or table); the file is already valid."""
    if not study_file:
        return {}
    from study.declare.studyfile import read_toml

    data = read_toml(study_file)
    return check_profile_table(data["profile"], str(study_file)) if "profile" in data else {}
