"""The ``study`` command line. Every command has ``--help``; bad input ends in one ``error:`` line."""

from __future__ import annotations

import errno
import os
import shlex
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from study.errors import StudyError
from study.files import PART
from study.records import TrialStatus
from study.results.outcomes import Outcome
from study.words import counted

if TYPE_CHECKING:
    from study.declare.spec import Profile, Study
    from study.sequential.forecast import Forecast

DEFAULT_STORE = "output/study.sqlite"
store_option = click.option(
    "--store",
    default=DEFAULT_STORE,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The SQLite results store.",
)
profile_option = click.option(
    "--profile",
    default="quick",
    show_default=True,
    help="Budget profile: smoke, quick, standard or paper.",
)
study_option = click.option(
    "--study",
    "study_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="A built-in study (default, table1) or a TOML study file; default: the "
    "built-in default study.",
)


def budget_options(command):
    """--epochs, --train-size, --test-size, --seeds, --max-seeds, --max-trials and --time: a custom budget on
    top of --profile (study.declare.budget)."""
    for flag, what in reversed(
        (
            ("--epochs", "Epochs of the baseline (other epoch counts scale by the same ratio)."),
            ("--train-size", "Training images per dataset (a stratified subset)."),
            ("--test-size", "Validation images per dataset (a stratified subset)."),
            ("--seeds", "Seeds per value at the first look."),
            (
                "--max-seeds",
                "Seeds per value after the last look (later looks add seeds where "
                "a comparison is undecided).",
            ),
            ("--max-trials", "At most this many trials in all (later looks stop at the cap)."),
        )
    ):
        command = click.option(
            flag, type=int, default=None, help=what + " Overrides the profile."
        )(command)
    command = click.option(
        "--time",
        "time_limit",
        default=None,
        help="A wall-time bound such as 30m or 2h: sets --max-trials so that the worst case of "
        "`study plan` fits on this machine's workers (the trials then depend on the "
        "machine's calibration).",
    )(command)
    return command


def study_and_budget(
    study_file: str | None, profile: str, time_limit: str | None, flags: dict[str, int | None]
) -> tuple[Study, Profile, dict[str, str], float | None]:
    """What `run` and `plan` share: the study, its budget with the flags applied, what set each field, and
    --time in seconds (None without it). One-line StudyErrors for a bad study, budget or time."""
    spec = load_study(study_file)
    note = baseline_note(spec)
    if note:
        click.echo(note, err=True)
    chosen, origins = resolve_profile(profile, study_file, flags)
    if time_limit is not None and flags.get("max_trials") is not None:
        raise StudyError("--time and --max-trials both bound the run; accepted: one of them")
    return spec, chosen, origins, parse_duration(time_limit) if time_limit is not None else None


def baseline_note(study: Study) -> str:
    """One line for a study file without a ``[baseline]`` table, which trains Table 1 as written rather than
    the built-in default study's recipe ("" for any other study)."""
    if not study.has_no_baseline_table:
        return ""
    from study.declare.builtin import builtin_study
    from study.declare.config import Settings

    table1, recipe = Settings(), builtin_study("default").baseline
    return (
        f"note: {study.source} has no [baseline]: it trains Table 1 as written (learning rate "
        f"{table1.learning_rate:g}, {table1.schedule} schedule, pixels / 255); the built-in default "
        f'study\'s recipe is learning_rate = {recipe.learning_rate:g}, schedule = "{recipe.schedule}", '
        f'input_scaling = "{recipe.input_scaling}"'
    )


def parse_duration(text: str) -> float:
    """'30m' -> 1800.0 seconds ('90s', '1.5h' too); a one-line StudyError otherwise."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh])\s*", text or "")
    if not match or float(match.group(1)) <= 0:
        raise StudyError(
            f"--time {text!r} is not a duration; accepted: a positive number with s, m or h, e.g. 30m"
        )
    return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def resolve_profile(
    profile: str, study_file: str | None, flags: dict[str, int | None]
) -> tuple[Profile, dict[str, str]]:
    """The chosen profile with the study file's [profile] table and the budget ``flags`` applied (a custom
    budget gets a name of its own), and what set each budget field. Those fields are checked against the
    study's seeds and datasets by ``study.run.runner.plan_run``, which loads the datasets anyway."""
    from study.declare.budget import profile_table, resolve_budget
    from study.declare.builtin import BUILTIN_STUDIES
    from study.declare.spec import get_profile

    if study_file in BUILTIN_STUDIES:  # a built-in study has no [profile] table
        study_file = None
    return resolve_budget(get_profile(profile), profile_table(study_file), flags, study_file or "")


def _calibration_or_none(store: str):
    """The calibration for `study run`'s estimate, or None (no estimate) where it cannot be measured here."""
    from study.plan.estimate import calibrate

    try:
        return calibrate(store)
    except StudyError:
        return None


def load_study(study_file: str | None) -> Study:
    """The built-in study named ``study_file`` (default, table1), else the study of that TOML file, else the
    built-in default study. Raises ConfigError for a bad file."""
    from study.declare.builtin import BUILTIN_STUDIES, builtin_study
    from study.declare.studyfile import load_study_file

    if not study_file or study_file in BUILTIN_STUDIES:
        return builtin_study(study_file or "default")
    if not Path(study_file).exists():
        raise StudyError(
            f"--study {study_file!r} is neither a built-in study nor a file; accepted: "
            f"{', '.join(BUILTIN_STUDIES)}, or the path of a TOML study file"
        )
    return load_study_file(study_file)


def require_tensorflow() -> None:
    """Training here needs TensorFlow, which comes from the `cpu` or `gpu` extra (README, Set-up)."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        raise StudyError(
            "TensorFlow is not installed: pip install 'study[cpu]' (or 'study[gpu]' for NVIDIA GPUs), "
            "or `make install` / `make install GPU=1`; `study report` works without it"
        )


class StudyCommandError(click.ClickException):
    """A ``StudyError`` as click sees it: one ``error:`` line on stderr and exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True, file=file)


class StudyGroup(click.Group):
    """Turns the project's one-line errors into click exceptions, so in-process runs (tests) see the same
    line and exit status as the console script."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StudyError as err:
            raise StudyCommandError(str(err)) from None
        except OSError as err:
            if err.errno not in WRITE_FAILURES:
                raise
            raise StudyCommandError(write_failure(err)) from None
        except (
            sqlite3.OperationalError
        ) as err:  # the store's disk filled up or became read-only mid-run
            if not any(words in str(err) for words in ("full", "readonly", "disk I/O")):
                raise
            raise StudyCommandError(
                f"the results store could not be written ({err}); the trials stored before are kept (each "
                "is written whole or not at all): free space, or rerun with a --store that can be written"
            ) from None


WRITE_FAILURES = {
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.ENOTDIR,
    errno.EISDIR,
}


def write_failure(err: OSError) -> str:
    """One line for a file or folder that cannot be written: the place (the folder of a temporary, whose
    name means nothing to the user), why, and what would do; files already there are whole, since every
    file is replaced only once written (``study.files``)."""
    place = Path(str(err.filename)) if err.filename else None
    if place is not None and PART in place.name:
        place = place.parent
    where = f"cannot write {place}" if place is not None else "a write failed"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free space on its disk, or give another --out or --store"
    else:
        fix = "a folder this user can write (--out for reports and exports, --store for the store)"
    return f"{where} ({err.strerror}); files already there are left whole; accepted: {fix}"


@click.group(cls=StudyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="study")
def cli() -> None:
    """Declare a parameter study of LeNet, train it, and render the evidence as HTML and PDF.

    \b
    First check your data:   study data
    Then run and report:     study run --profile quick && study report --profile quick
    Your own study:          study example my_study.toml && study plan --study my_study.toml
    """


@cli.command()
@click.argument("names", nargs=-1)
def data(names: tuple[str, ...]) -> None:
    """Show where each dataset is found, its format, sizes, class counts and fingerprint.

    \b
    Example:  STUDY_DATA_DIR=../shared/datasets study data mnist cifar10
    Datasets: mnist, fashion_mnist, cifar10, or the path of an image folder.
    """
    from study.plan.data import KNOWN, load_dataset, locate, search_roots

    click.echo(
        "search path: " + ":".join(str(r) for r in search_roots()) + " (then the Keras download)"
    )
    for name in names or tuple(KNOWN):
        location = locate(name)
        if location.format == "keras-download":
            click.echo(
                f"{name}: not on disk; would be downloaded by keras.datasets.{KNOWN[name].keras_loader}"
            )
            continue
        info = load_dataset(name).describe()
        click.echo(f"{name}: {info['path']} ({info['format']})")
        click.echo(
            f"  train {info['train_size']}, test {info['test_size']}, input {tuple(info['input_shape'])}, "
            f"fingerprint {info['fingerprint']}"
        )
        counts = ", ".join(f"{c}={n}" for c, n in zip(info["classes"], info["train_class_counts"]))
        click.echo(f"  train per class: {counts}")
        counts = ", ".join(f"{c}={n}" for c, n in zip(info["classes"], info["test_class_counts"]))
        click.echo(f"  test per class: {counts}")
        if info.get(
            "conversions"
        ):  # study.plan.data.decode_image and unify_channels: what was converted
            click.echo(
                "  converted: "
                + ", ".join(f"{what} ({n} images)" for what, n in info["conversions"].items())
            )


@cli.command()
@click.option(
    "--input-shape",
    default=None,
    help="H,W,C of the input (default: the dataset's, else 28,28,1).",
)
@click.option(
    "--dataset",
    default=None,
    help="Apply this dataset's adaptations, as `study run` does (default: the study's dataset "
    "with this input shape).",
)
@study_option
@click.option(
    "--experiment",
    default=None,
    help="Show every value of this experiment instead of the baseline.",
)
def shapes(
    input_shape: str | None, dataset: str | None, study_file: str | None, experiment: str | None
) -> None:
    """Print the layer-by-layer shape table (Equation 4), parameters and MACs, without TensorFlow.

    \b
    Example:  study shapes --input-shape 32,32,3 --experiment stride
              study shapes --dataset mnist --experiment kernel_size
    Each value gets the adaptations `study run` trains it with on that dataset (e.g. 'same' padding).
    """
    from study.cli.shapes import choose_dataset, parse_input_shape
    from study.plan.shapes import summarize

    study = load_study(study_file)
    exp = study.experiment(experiment) if experiment else None
    datasets = exp.datasets if exp else study.datasets
    shape = parse_input_shape(input_shape) if input_shape else None
    dataset, shape, how = choose_dataset(datasets, dataset, shape)
    click.echo(f"input {'x'.join(map(str, shape))}: {how}")
    points = [("baseline", study.baseline)]
    if exp:
        points = [
            (
                v.label,
                study.baseline.with_values(**(v.params_for(dataset) if dataset else v.params)),
            )
            for v in exp.values
        ]
    for label, settings in points:
        click.echo(f"{label}:")
        try:
            summary = summarize(settings.model_config(shape))
        except StudyError as err:
            click.echo(f"  impossible: {err}")
            continue
        for row in summary.rows:
            click.echo(
                f"  {row.name:8} {row.kind:8} {row.output_shape!s:16} {row.params:>10,} params "
                f"{row.macs:>12,} MACs   {row.formula}"
                + (f"   note: {row.note}" if row.note else "")
            )
        click.echo(f"  total {summary.params:,} params, {summary.macs:,} MACs per image")


@cli.command()
@profile_option
@study_option
@store_option
@click.option("--scheduler", default=None, help="tcp://HOST:PORT of a running Dask scheduler.")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Local worker processes (default: one per core); 0 trains in this process.",
)
@click.option(
    "--threads",
    type=int,
    default=None,
    help="TensorFlow threads per trial (default: cores / workers locally, all cores on a cluster).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar, one log line per trial only.")
@budget_options
def run(
    profile: str,
    study_file: str | None,
    store: str,
    scheduler: str | None,
    workers: int | None,
    threads: int | None,
    no_progress: bool,
    epochs: int | None,
    train_size: int | None,
    test_size: int | None,
    seeds: int | None,
    max_seeds: int | None,
    max_trials: int | None,
    time_limit: str | None,
) -> None:
    """Train every trial of the study that the store does not have yet.

    \b
    Example:  study run --profile smoke
              study run --study my.toml --scheduler tcp://10.0.0.5:8786
              study run --epochs 3 --train-size 8000 --test-size 1000 --seeds 4
    Safe to interrupt: finished trials are kept and a rerun trains only the rest.
    A custom budget is stored and reported under its own name (e.g. custom-e3-tr8000-te1000-s4).
    The first line estimates the time (see `study plan`).
    """
    from study.run.console import summary_line
    from study.run.execution import Execution, Where, default_workers
    from study.sequential.driver import fit_time, run_in_stages

    spec, chosen, origins, limit = study_and_budget(
        study_file,
        profile,
        time_limit,
        {
            "epochs": epochs,
            "train_size": train_size,
            "test_size": test_size,
            "seeds": seeds,
            "max_seeds": max_seeds,
            "max_trials": max_trials,
        },
    )
    execution = Execution.build(scheduler, workers, threads, progress=not no_progress)
    if execution.where != Where.CLUSTER:
        require_tensorflow()
    if limit is not None:
        from study.plan.estimate import calibrate
        from study.run.runner import load_datasets

        here = execution.workers or default_workers()  # --workers 0: as a local cluster would
        chosen = fit_time(spec, chosen, limit, here, calibrate(store), load_datasets(spec, chosen))
        click.echo(
            f"--time {time_limit}: at most {chosen.max_trials or 'all'} trials (budget {chosen.name})",
            err=True,
        )
    sized = workers is not None or execution.where != Where.CLUSTER  # a cluster's size: --workers
    counts = run_in_stages(
        spec,
        chosen,
        store,
        execution,
        calibration=(lambda: _calibration_or_none(store)) if sized else None,
        origins=origins,
    )
    click.echo(summary_line(counts, store))
    if counts.failed:
        sys.exit(1)


@cli.command()
@profile_option
@study_option
@store_option
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Estimate for this many workers (default: this machine's, one per core).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the plan and estimate as one JSON object."
)
@click.option(
    "--recalibrate",
    is_flag=True,
    help="Measure this machine again instead of using the cached calibration.",
)
@budget_options
def plan(
    profile: str,
    study_file: str | None,
    store: str,
    workers: int | None,
    as_json: bool,
    recalibrate: bool,
    epochs: int | None,
    train_size: int | None,
    test_size: int | None,
    seeds: int | None,
    max_seeds: int | None,
    max_trials: int | None,
    time_limit: str | None,
) -> None:
    """Show what a run would train and cost, before running it: trials, images, MACs and wall time.

    \b
    Example:  study plan --profile paper --workers 16
              study plan --epochs 3 --train-size 8000 --json
    The time comes from a calibration measured once per machine (about 15 s, kept in ~/.cache/study
    and beside the store as calibration.json) and a list schedule of the trials, longest first.
    """
    import json

    from study.sequential.forecast import forecast

    spec, chosen, origins, limit = study_and_budget(
        study_file,
        profile,
        time_limit,
        {
            "epochs": epochs,
            "train_size": train_size,
            "test_size": test_size,
            "seeds": seeds,
            "max_seeds": max_seeds,
            "max_trials": max_trials,
        },
    )
    if workers is not None and workers < 1:
        raise StudyError(f"--workers must be >= 1, got {workers}")
    seen = forecast(spec, chosen, store, workers, origins, limit, recalibrate)
    if as_json:
        click.echo(json.dumps(seen.to_dict(), sort_keys=True))
        return
    for line in plan_lines(seen):
        click.echo(line)


def plan_lines(seen: Forecast) -> list[str]:
    """`study plan`'s text: the forecast's numbers in sentences, one line each."""
    from study.plan.estimate import duration, quantity

    lines: list[str] = []
    chosen, here, worst = seen.profile, seen.here, seen.worst
    lines.append(
        f"{seen.study} [{chosen.name}]: {counted(seen.trials, 'trial')}, {seen.stored} stored, "
        f"{seen.to_train} to train"
    )
    for dataset, r in seen.baselines.items():
        span = f"{r.epochs} epoch{'s' * (r.epochs != 1)}"
        lines.append(
            f"baseline on {dataset}: {r.train_images:,} images x {span} at batch "
            f"{r.batch_size} = {r.steps:,} SGD steps; learning rate {r.learning_rate:g}, "
            f"{r.schedule} schedule over those steps; {r.input_scaling} inputs"
        )
    if seen.to_train:
        lines.append(
            f"to train: {seen.estimate.images:,} images (training and validation, all epochs), "
            f"{quantity(seen.estimate.macs)} multiply-accumulates"
        )
        line = f"estimated wall time: {duration(seen.this_machine.seconds)} on this machine ({here} workers)"
        if seen.workers != here:
            line += f", {duration(seen.estimate.seconds)} on {seen.workers} workers as fast as one core here"
        lines.append(line)
    which = "the first" if seen.look == 1 else f"look {seen.look}"
    if seen.complete:
        if chosen.looks > 1:
            lines.append(
                f"the store holds every look the results call for (up to look {seen.look} of {chosen.looks}): "
                "a run trains nothing more"
            )
    elif chosen.looks > 1 and chosen.max_trials is not None and seen.trials >= chosen.max_trials:
        lines.append(
            f"that is {which} of {chosen.looks} looks, and already at or above the cap of {chosen.max_trials} "
            "trials: no later look adds seeds (raise --max-trials to allow them)"
        )
    elif chosen.looks > 1:
        lines.append(
            f"that is {which} of {chosen.looks} looks"
            + (" (the store holds the earlier ones)" if seen.look > 1 else "")
            + f"; the later looks add {chosen.seed_step or chosen.seeds} "
            f"seeds to each comparison still undecided, up to {chosen.max_seeds} per value"
            + (f" and {chosen.max_trials} trials in all" if chosen.max_trials else "")
        )
        line = (
            f"worst case (every comparison undecided): {counted(worst.trials, 'trial')}, {worst.to_train} to train, "
            f"{duration(worst.this_machine.seconds)} on this machine"
        )
        if seen.workers != here:
            line += f", {duration(worst.estimate.seconds)} on {seen.workers} workers"
        lines.append(line)
    if seen.experiments:
        lines.append(
            f"{'first' if seen.look == 1 else 'this'} look's cost by experiment "
            "(worker time; a trial shared by experiments counts once, first):"
        )
    for cost in seen.experiments:
        # a grid's selection cells apart from its comparisons (costed at each level's usual value until chosen)
        name = f"{cost.experiment} (selection)" if cost.phase else cost.experiment
        lines.append(
            f"  {name:22} {cost.dataset:14} {cost.trials:4} trials  "
            f"{duration(cost.worker_seconds):>9}"
        )
    c = seen.calibration
    lines.append(
        f"calibration: {c.macs_per_second / 1e9:.1f} G MACs/s per worker, {c.step_seconds * 1e3:.1f} ms per "
        f"step, {c.trial_seconds:.2f} s per trial, {c.trace_seconds:.2f} s per graph trace, "
        f"{c.startup_seconds:.1f} s startup ({c.source})"
    )
    return lines


@cli.command(name="list")
@store_option
@click.option(
    "--status",
    default=None,
    type=click.Choice(  # plain strings: click would show an enum member by its name
        [str(s) for s in (*Outcome, TrialStatus.FAILED, TrialStatus.MISSING, TrialStatus.OK)]
    ),
    help="Show only trials with this outcome or status (ok = learned or collapsed).",
)
def list_trials(store: str, status: str | None) -> None:
    """List every planned trial of every study in the store and its status.

    \b
    Example:  study list --status failed
    """
    from study.results.store import Store
    from study.results.tables import trial_listing
    from study.run.console import short_uses

    with Store(store, create=False) as db:
        rows = trial_listing(db)
    shown = [r for r in rows if status is None or status in (r.status, r.shown)]
    uses = {r.key: short_uses(", ".join(r.uses)) for r in shown}
    width = max((len(u) for u in uses.values()), default=0)
    for r in shown:  # what the trial is first, its key last
        accuracy = r.summary.val_accuracy if r.summary is not None else None
        epochs_run = r.summary.epochs_run if r.summary is not None else 0
        # a grid's selection cell is scored on its validation split, not the test images
        scored = "held-out" if r.held_out else "accuracy"
        acc = "" if accuracy is None else f"{scored} {accuracy:.4f}"
        click.echo(
            f"{uses[r.key]:{width}}  {r.dataset:8} seed {r.seed:<3} {r.shown:9} "
            f"{epochs_run:>3} ep  {acc:15} {r.key}"
        )
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.shown] = counts.get(r.shown, 0) + 1
    click.echo(
        f"{counted(len(rows), 'trial')}: "
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    )


@cli.command()
@store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "predictions", "tensorboard"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--out",
    default=None,
    help="Output file (default: results.csv or results.parquet beside the store; predictions.csv, or "
    "Parquet where it ends in .parquet), or folder for tensorboard (default: tensorboard/ beside the store).",
)
def export(store: str, fmt: str, out: str | None) -> None:
    """Write the tidy per-epoch table (one row per study, experiment, value, dataset, seed, epoch), the
    predictions (one row per trial and test image: its label and the class predicted after the last epoch),
    or TensorBoard event files: per-epoch scalars of every trial and the HParams summary.

    \b
    Example:  study export --format parquet --out results.parquet
              study export --format predictions --out predictions.parquet
              study export --format tensorboard && tensorboard --logdir output/tensorboard
    Without --out, the export goes beside the store (output/ for the default store).
    """
    from study.results.store import Store
    from study.results.tables import export_table, prediction_table

    if fmt == "tensorboard":
        from study.results.tensorboard import export_tensorboard

        out = out or str(Path(store).parent / "tensorboard")
        with Store(store, create=False) as db:
            runs = export_tensorboard(db, out)
        click.echo(f"{runs} trials -> {out} (tensorboard --logdir {out})")
        return
    if fmt == "predictions":
        out = out or str(Path(store).parent / "predictions.csv")
        if Path(out).suffix not in (".csv", ".parquet"):
            raise StudyError(
                f"--out {out}: the predictions are written as CSV or Parquet by the file's extension; "
                "accepted: a name ending in .csv or .parquet"
            )
        fmt = "parquet" if out.endswith(".parquet") else "csv"
        with Store(store, create=False) as db:
            table = prediction_table(db)
    else:
        out = out or str(Path(store).parent / f"results.{fmt}")
        with Store(store, create=False) as db:
            table = export_table(db)
    from study.files import replacing

    with replacing(out) as part:  # a killed or failed export leaves the previous file whole
        if fmt == "csv":
            table.to_csv(part, index=False)
        else:
            table.to_parquet(part, index=False)
    click.echo(f"{len(table)} rows -> {out}")


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False))
def example(path: str) -> None:
    """Write a commented example study file to PATH (never over an existing file), to change and run.

    \b
    Example:  study example my_study.toml && study plan --study my_study.toml
    Every key it uses is documented in README.md, "Your own study".
    """
    try:
        from study.declare.example import write_example
    except ImportError:
        raise StudyError(
            "this installation has no example study file (study.declare.example); "
            "accepted: reinstall the project (make install)"
        ) from None
    written = write_example(Path(path))
    click.echo(f"example study written to {written}")
    click.echo(f"next: study plan --study {shlex.quote(str(written))}")


@cli.command()
@store_option
@click.option(
    "--profile", default=None, help="Which profile's results to report (default: the latest run)."
)
@click.option(
    "--study",
    "study_name",
    default=None,
    help="Which study of the store, by its name or a built-in key (default: the latest).",
)
@click.option(
    "--out",
    default="output",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for report.html, report.pdf, figures/ and results.csv.",
)
@click.option("--no-pdf", is_flag=True, help="Write the HTML report only.")
def report(
    store: str, profile: str | None, study_name: str | None, out: str, no_pdf: bool
) -> None:
    """Render the HTML and PDF report from the results store alone (no training, no TensorFlow).

    \b
    Example:  study report --profile quick
    An incomplete store still renders: missing trials are listed. --study takes the name a run stored, or
    a built-in study's key (default, table1).
    """
    from study.declare.builtin import BUILTIN_STUDIES, builtin_study
    from study.report.render import build_report

    if study_name in BUILTIN_STUDIES:
        study_name = builtin_study(study_name).name
    elif (
        study_name and study_name.endswith(".toml") and Path(study_name).is_file()
    ):  # as `make report STUDY=...`
        study_name = load_study(study_name).name
    paths = build_report(store, out, study=study_name, profile=profile, pdf=not no_pdf)
    written = ", ".join(
        str(paths[k])
        for k in ("html", "pdf", "csv", "verdicts", "findings", "choices", "per_class", "figures")
        if k in paths
    )
    click.echo(f"report written in {paths['seconds']:.1f}s: {written}")
    if paths.get("missing_glyphs"):
        shown = str(paths["missing_glyphs"])
        click.echo(
            f"warning: no installed font draws {shown[:12]}{'...' if len(shown) > 12 else ''} "
            f"({len(shown)} characters of the study's names): the figures and the PDF show boxes for them; "
            "install a CJK font (Debian/Ubuntu: apt install fonts-noto-cjk) and render again",
            err=True,
        )


def main() -> None:
    from study.run.console import QUIET_ENV

    for (
        key,
        value,
    ) in QUIET_ENV.items():  # before anything imports TensorFlow (a Keras download does)
        os.environ.setdefault(key, value)
    try:
        cli.main(standalone_mode=False)
    except StudyError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("interrupted: finished trials are stored; rerun to continue", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted: finished trials are stored; rerun to continue", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
