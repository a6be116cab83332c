"""Read a user's study from TOML, validated completely before anything is trained.

    name = "kernels on fashion"
    seeds = [1, 2, 3]                 # optional, default 1, 2, 3, 4
    baseline_seeds = 9                # optional, default three times the seeds a profile uses
    datasets = ["fashion_mnist"]      # default datasets of every experiment

    [margins]                         # optional: equivalence margin per dataset, percentage points (default 1)
    fashion_mnist = 0.5

    [baseline]                        # optional: changes to the original Table 1
    learning_rate = 0.1
    schedule = "linear"               # constant (Table 1), linear, cosine or step, over each trial's own steps
    input_scaling = "standardize"     # unit (Table 1: pixels / 255), center or standardize (training statistics)

    [[experiments]]
    name = "kernel"
    parameter = "kernel_size"
    values = [3, 5, {label = "7 same", kernel_size = 7, padding = "same"}]

    [[experiments]]                   # optional: a budget check, named by a top-level budget_check = "epochs"
    name = "epochs"                   # (above the first table): claims about final accuracy are judged only where
    parameter = "epochs"              # this longer run's interval stays inside the margin
    values = [{label = "1x", epochs = 100}, {label = "3x", epochs = 300}]   # the baseline's epochs, and 3x

    [[claims]]                        # optional: what the report should check (tests: study.declare.claims)
    text = "Kernel 3 is as good as 5."
    test = "no_effect"
    experiment = "kernel"
    datasets = ["fashion_mnist"]
    values = ["3"]

    [profile]                         # optional: a budget over --profile's (study.declare.budget); flags override it
    name = "overnight"
    epochs = 10

Every mistake ends in one ``ConfigError`` line naming the key or value and what is accepted. Every integer
is range-checked here, before anything is loaded or trained: seeds and ``data_seed`` from 0 to 2**32 - 1
(what NumPy and TensorFlow accept as a seed), sizes and counts up to 2**31 - 1 (TensorFlow's int32).
Names (of the study, experiments, values) may hold any text: they never become a path unchanged
(``study.names``) and the report escapes them.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from study.declare.claims import CLAIM_KINDS, claim_from_dict, claim_kind
from study.declare.config import PARAMETERS, SETTING_FIELDS, Settings, check_int
from study.declare.grid import SELECTION_SEEDS, VALIDATION, Grid, GridRow
from study.declare.spec import BUILTIN_DATASETS as KNOWN
from study.declare.spec import (
    DEFAULT_SEEDS,
    Claim,
    Experiment,
    Study,
    Value,
    grid_experiment,
    label_of,
)
from study.errors import ConfigError

STUDY_KEYS = (
    "name",
    "description",
    "datasets",
    "seeds",
    "baseline_seeds",
    "data_seed",
    "baseline",
    "experiments",
    "profile",
    "claims",
    "notes",
    "margins",
    "budget_check",
)
EXPERIMENT_KEYS = ("name", "parameter", "values", "datasets", "epochs_factor", "description")
GRID_KEYS = (
    "name",
    "grid",
    "tune",
    "selection_seeds",
    "validation",
    "datasets",
    "epochs_factor",
    "description",
)
VALUE_KEYS = ("label", "note", "adapt")
TABLE1 = Settings()  # what a setting a study file leaves out trains at
SEED_MAX = (
    2**32 - 1
)  # numpy.random.seed and keras.utils.set_random_seed reject anything larger, or negative


def check_seed(where: str, value: Any) -> int:
    """``value`` if it is an integer seed NumPy and TensorFlow accept (0 to 2**32 - 1); else one ConfigError line."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise ConfigError(
            f"{where} must be an integer from 0 to {SEED_MAX} (2**32 - 1, what NumPy and TensorFlow "
            f"accept as a seed), got {value!r}"
        )
    return value


# Settings.validation is the share a grid's selection phase holds out: set by the grid (its own ``validation``
# key), never as a parameter of a study file (a trial scored on it would be compared with test-scored ones).
FILE_PARAMETERS = tuple(p for p in PARAMETERS if p != "validation")


def _not_internal(where: str, names) -> None:
    if "validation" in names:
        raise ConfigError(
            f"{where}: 'validation' is not a parameter a study file sets; a grid experiment's own "
            "validation = <share> holds that share of the training images out to score its selection cells"
        )


def _unknown(where: str, keys, accepted) -> None:
    for key in keys:
        if key not in accepted:
            raise ConfigError(f"{where}: unknown key {key!r}; accepted: {', '.join(accepted)}")


def _table(where: str, raw: Any, accepted: tuple[str, ...], required: tuple[str, ...]) -> None:
    """A TOML table with only ``accepted`` keys and every ``required`` one."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table with keys {', '.join(accepted)}")
    _unknown(where, raw, accepted)
    for key in required:
        if key not in raw:
            raise ConfigError(f"{where}: missing key {key!r}")


def _datasets(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: datasets must be a non-empty list of names, got {value!r}")
    for name in value:
        if name not in KNOWN and not Path(name).expanduser().is_dir():
            raise ConfigError(
                f"{where}: unknown dataset {name!r}; accepted: {', '.join(KNOWN)} "
                "or the path of an image folder with train/<class>/ and test/<class>/"
            )
    return tuple(value)


def _value(where: str, parameter: str, raw: Any, baseline: Settings) -> Value:
    if isinstance(raw, dict):
        _not_internal(where, raw)
        _unknown(where, raw, VALUE_KEYS + PARAMETERS)
        params = {k: v for k, v in raw.items() if k not in VALUE_KEYS}
        if not params:
            raise ConfigError(
                f"{where}: a value table must set at least one parameter ({', '.join(PARAMETERS)})"
            )
        adapt = raw.get("adapt", {})
        if not isinstance(adapt, dict) or not all(
            isinstance(extra, dict) for extra in adapt.values()
        ):
            raise ConfigError(
                f"{where}: adapt must be a table of dataset = {{parameter = value}}, got {adapt!r}"
            )
        label = raw.get("label", label_of(params.get(parameter, next(iter(params.values())))))
        value = Value(str(label), params, adapt=adapt, note=str(raw.get("note", "")))
    else:
        value = Value(label_of(raw), {parameter: raw})
    try:  # type and name checks of every parameter, before any data is read
        baseline.with_values(**value.params)
        for extra in value.adapt.values():
            baseline.with_values(**value.params, **extra)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    return value


def _check_adapt(where: str, values: tuple[Value, ...], datasets: tuple[str, ...]) -> None:
    """An adaptation must name a dataset this experiment trains on; anything else would be ignored."""
    for index, value in enumerate(values):
        for name in value.adapt:
            if name not in datasets:
                raise ConfigError(
                    f"{where} value {index}: adapt names dataset {name!r}, which this experiment "
                    f"does not use; accepted: {', '.join(datasets)}"
                )


def parse_study(data: dict[str, Any], source: str = "study file") -> Study:
    _unknown(source, data, STUDY_KEYS)
    if (
        "profile" in data
    ):  # a budget: read by study.declare.budget.profile_table, checked here before anything runs
        from study.declare.budget import check_profile_table

        check_profile_table(data["profile"], source)
    raw_baseline = data.get("baseline", {})
    if isinstance(raw_baseline, dict):
        _not_internal(f"{source} [baseline]", raw_baseline)
    try:
        baseline = Settings.from_dict(raw_baseline)
    except ConfigError as err:
        raise ConfigError(f"{source} [baseline]: {err}") from None
    default_datasets = (
        _datasets(source, data["datasets"]) if "datasets" in data else ("mnist", "cifar10")
    )
    seeds = data.get("seeds", list(DEFAULT_SEEDS))
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        raise ConfigError(f"{source}: seeds must be a non-empty list of integers, got {seeds!r}")
    for index, seed in enumerate(seeds):
        check_seed(f"{source}: seeds[{index}]", seed)
    raw_experiments = data.get("experiments")
    if not isinstance(raw_experiments, list) or not raw_experiments:
        raise ConfigError(
            f"{source}: needs at least one [[experiments]] table with name, parameter and values"
        )
    experiments = []
    for index, raw in enumerate(raw_experiments):
        if isinstance(raw, dict) and "grid" in raw:
            experiments.append(
                _grid_experiment(f"{source} experiments[{index}]", raw, baseline, default_datasets)
            )
            continue
        if isinstance(raw, dict) and any(key not in EXPERIMENT_KEYS for key in raw):
            extra = next(key for key in raw if key not in EXPERIMENT_KEYS)
            raise ConfigError(
                f"{source} experiments[{index}]: unknown key {extra!r}; accepted: "
                f"{', '.join(EXPERIMENT_KEYS)}, or for a two-factor experiment {', '.join(GRID_KEYS)}"
            )
        _table(
            f"{source} experiments[{index}]", raw, EXPERIMENT_KEYS, ("name", "parameter", "values")
        )
        where = f"{source} experiment {raw['name']!r}"
        parameter = raw["parameter"]
        _not_internal(where, [parameter])
        if parameter not in PARAMETERS:
            raise ConfigError(
                f"{where}: unknown parameter {parameter!r}; accepted: {', '.join(PARAMETERS)}"
            )
        if not isinstance(raw["values"], list) or not raw["values"]:
            raise ConfigError(f"{where}: values must be a non-empty list")
        values = tuple(
            _value(f"{where} value {i}", parameter, v, baseline)
            for i, v in enumerate(raw["values"])
        )
        datasets = _datasets(where, raw["datasets"]) if "datasets" in raw else default_datasets
        _check_adapt(where, values, datasets)
        experiments.append(
            Experiment(
                name=str(raw["name"]),
                parameter=parameter,
                values=values,
                datasets=datasets,
                epochs_factor=raw.get("epochs_factor", 1.0),
                description=str(raw.get("description", "")),
            )
        )
    data_seed = check_seed(f"{source}: data_seed", data.get("data_seed", 0))
    baseline_seeds = data.get("baseline_seeds")
    if baseline_seeds is not None:
        check_int(f"{source}: baseline_seeds", baseline_seeds, 1, 10_000)
        if max(seeds) + baseline_seeds > SEED_MAX:
            raise ConfigError(
                f"{source}: baseline_seeds = {baseline_seeds} continues the seeds past {SEED_MAX}; "
                "use smaller seeds"
            )
    margins = _margins(
        source, data.get("margins", {}), {d for e in experiments for d in e.datasets}
    )
    return Study(
        name=str(data.get("name", Path(source).stem)),
        baseline=baseline,
        experiments=tuple(experiments),
        seeds=tuple(seeds),
        data_seed=data_seed,
        description=str(data.get("description", "")),
        claims=_claims(source, data.get("claims", [])),
        notes=tuple(str(n) for n in data.get("notes", [])),
        baseline_seeds=baseline_seeds,
        margins=margins,
        budget_check=str(data.get("budget_check", "")),
        inherited=tuple(
            f
            for f in SETTING_FIELDS
            if f not in raw_baseline and getattr(baseline, f) == getattr(TABLE1, f)
        ),
    )


def _grid_rows(where: str, raw: Any, tune: str | None) -> tuple[str, str, tuple[GridRow, ...]]:
    """(compared, tuned, rows) of a ``grid``: a table of two parameters with lists of values (every level
    with every tuned value), or a list of rows, each one level with its own list of tuned values."""
    accepted = f"accepted: {', '.join(FILE_PARAMETERS)}"
    form = (
        "grid must be a table of two parameters with lists of values, e.g. grid = { optimizer = "
        '["sgd", "adam"], learning_rate = [0.001, 0.01] }, or a list of rows, e.g. grid = [{ optimizer = '
        '"sgd", learning_rate = [0.01, 0.1] }, ...]'
    )
    if isinstance(raw, dict):
        names = list(raw)
        if len(names) != 2:
            raise ConfigError(f"{where}: {form}; got {len(names)} parameter(s): {names}")
        for name in names:
            _not_internal(f"{where}: grid", [name])
            if name not in PARAMETERS:
                raise ConfigError(f"{where}: grid: unknown parameter {name!r}; {accepted}")
            if not isinstance(raw[name], list) or not raw[name]:
                raise ConfigError(
                    f"{where}: grid: {name} must be a non-empty list of values, got {raw[name]!r}"
                )
        tuned = tune or names[1]
        if tuned not in names:
            raise ConfigError(
                f"{where}: tune = {tuned!r} is not a parameter of the grid; accepted: {', '.join(names)}"
            )
        compared = names[0] if tuned == names[1] else names[1]
        return compared, tuned, tuple(GridRow(level, tuple(raw[tuned])) for level in raw[compared])
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: {form}; got {raw!r}")
    rows, pair = [], None
    for index, row in enumerate(raw):
        here = f"{where}: grid[{index}]"
        if not isinstance(row, dict):
            raise ConfigError(f"{here}: {form}; got {row!r}")
        names = [k for k in row if k != "label"]
        for name in names:
            _not_internal(here, [name])
            if name not in PARAMETERS:
                raise ConfigError(f"{here}: unknown parameter {name!r}; {accepted}")
        lists = [n for n in names if isinstance(row[n], list)]
        if len(names) != 2 or len(lists) != 1:
            raise ConfigError(
                f"{here}: a row sets one level of the compared parameter and a list of the tuned one "
                f"(optional label), got {row!r}"
            )
        tuned = lists[0]
        compared = next(n for n in names if n != tuned)
        if pair is not None and (compared, tuned) != pair:
            raise ConfigError(
                f"{here}: every row must set the same two parameters as the first "
                f"({pair[0]} and a list of {pair[1]}), got {compared} and {tuned}"
            )
        if tune is not None and tune != tuned:
            raise ConfigError(f"{here}: tune = {tune!r} but the row's list is {tuned!r}")
        pair = (compared, tuned)
        if not row[tuned]:
            raise ConfigError(f"{here}: {tuned} must be a non-empty list of values")
        rows.append(GridRow(row[compared], tuple(row[tuned]), str(row.get("label", ""))))
    assert pair is not None
    return pair[0], pair[1], tuple(rows)


def _grid_experiment(
    where: str, raw: dict[str, Any], baseline: Settings, default_datasets: tuple[str, ...]
) -> Experiment:
    """An ``[[experiments]]`` table with a ``grid`` (``study.declare.grid``), every cell checked as a value."""
    _table(where, raw, GRID_KEYS, ("name", "grid"))
    where = f"{where.rsplit(' ', 1)[0]} experiment {raw['name']!r}"
    tune = raw.get("tune")
    if tune is not None and not isinstance(tune, str):
        raise ConfigError(f"{where}: tune must be a parameter name, got {tune!r}")
    compared, tuned, rows = _grid_rows(where, raw["grid"], tune)
    try:
        grid = Grid(
            compared,
            tuned,
            rows,
            selection_seeds=raw.get("selection_seeds", SELECTION_SEEDS),
            validation=raw.get("validation", VALIDATION),
        )
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    for row, column in grid.cells():  # type and name checks of every cell, before any data is read
        try:
            baseline.with_values(**grid.cell_params(row, column))
        except ConfigError as err:
            raise ConfigError(f"{where}: cell {grid.cell_label(row, column)!r}: {err}") from None
    datasets = _datasets(where, raw["datasets"]) if "datasets" in raw else default_datasets
    return grid_experiment(
        str(raw["name"]),
        grid,
        datasets=datasets,
        epochs_factor=raw.get("epochs_factor", 1.0),
        description=str(raw.get("description", "")),
    )


def _margins(source: str, raw: Any, datasets: set[str]) -> dict[str, float]:
    """``[margins]``: dataset = equivalence margin in percentage points, fixed before the run (default 1)."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{source}: [margins] must be a table of dataset = percentage points, got {raw!r}"
        )
    margins = {}
    for dataset, value in raw.items():
        if dataset not in datasets:
            raise ConfigError(
                f"{source} [margins]: {dataset!r} is not a dataset of this study; accepted: "
                f"{', '.join(sorted(datasets))}"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 100:
            raise ConfigError(
                f"{source} [margins]: {dataset} must be a number of percentage points between 0 and "
                f"100 (exclusive), got {value!r}"
            )
        margins[dataset] = float(value)
    return margins


def _claims(source: str, raw_claims: Any) -> tuple[Claim, ...]:
    """``[[claims]]`` tables: a claim in words and one test of ``CLAIM_KINDS``, with only the keys that test
    accepts (checked against the experiments by ``Study`` itself)."""
    if not isinstance(raw_claims, list):
        raise ConfigError(
            f"{source}: claims must be [[claims]] tables with keys text, test, experiment, datasets "
            f"(tests: {', '.join(CLAIM_KINDS)})"
        )
    claims = []
    for index, raw in enumerate(raw_claims):
        where = f"{source} claims[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(
                f"{where}: must be a table with keys text, test, experiment, datasets"
            )
        try:
            kind = claim_kind(raw.get("test"))
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
        _table(
            f"{where} (test {kind.kind!r})",
            raw,
            kind.keys(),
            ("text", "test", "experiment", "datasets"),
        )
        for key in ("values", "equal"):  # lists of value labels: "35" is not the values 3 and 5
            if key in raw and not isinstance(raw[key], list):
                raise ConfigError(
                    f'{where}: {key} must be a list of value labels, e.g. {key} = ["3"]; '
                    f"got {raw[key]!r}"
                )
        fields = {
            k: (tuple(str(x) for x in v) if isinstance(v, list) else str(v))
            for k, v in raw.items()
        }
        if isinstance(fields["datasets"], str):
            fields["datasets"] = (fields["datasets"],)
        try:
            claims.append(claim_from_dict(fields))
        except (ConfigError, TypeError) as err:
            raise ConfigError(f"{where}: {err}") from None
    return tuple(claims)


def read_toml(path: str | Path) -> dict[str, Any]:
    """A study file's TOML as a dict; one ConfigError line for a file that is missing, a folder, not UTF-8
    text (UTF-16 named as such) or not TOML. A leading UTF-8 byte-order mark is read as the signature it is."""
    path = Path(path)
    try:
        # utf-8-sig: a Windows editor's byte-order mark (EF BB BF) is a signature, not a TOML statement
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"study file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"study file {path} is a folder; expected a TOML file") from None
    except UnicodeDecodeError as err:
        if err.object[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise ConfigError(
                f"study file {path} is UTF-16 (it starts with UTF-16's byte-order mark); accepted: "
                "UTF-8, e.g. Notepad's 'Save as' with encoding UTF-8"
            ) from None
        raise ConfigError(
            f"study file {path} is not text: byte 0x{err.object[err.start]:02x} at offset "
            f"{err.start} is not UTF-8; expected a TOML file (see README, 'Your own study')"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    except OSError as err:
        # a read, not a write: without this the CLI's line for failed writes would say "cannot write"
        raise ConfigError(
            f"study file {path} cannot be read ({err.strerror}); accepted: a TOML file this user can read"
        ) from None


def load_study_file(path: str | Path) -> Study:
    return dataclasses.replace(parse_study(read_toml(path), str(path)), source=str(path))
