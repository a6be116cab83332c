"""The ``study`` command line. Every command has ``--help``; bad input ends in one ``error:`` line."""

from __future__ import annotations

import os
import sys

import click

from study.errors import StudyError

DEFAULT_STORE = "output/study.sqlite"
store_option = click.option("--store", default=DEFAULT_STORE, show_default=True, type=click.Path(dir_okay=False),
                            help="The SQLite results store.")
profile_option = click.option("--profile", default="quick", show_default=True,
                              help="Budget profile: smoke, quick or paper.")
study_option = click.option("--study", "study_file", default=None, type=click.Path(dir_okay=False),
                            help="A TOML study file; default: the built-in LeNet study.")


def load_study(study_file: str | None):
    from study.builtin import builtin_study
    from study.studyfile import load_study_file

    return load_study_file(study_file) if study_file else builtin_study()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="study")
def cli() -> None:
    """Declare a parameter study of LeNet, train it, and render the evidence as HTML and PDF.

    \b
    First check your data:   study data
    Then run and report:     study run --profile quick && study report --profile quick
    """


@cli.command()
@click.argument("names", nargs=-1)
def data(names: tuple[str, ...]) -> None:
    """Show where each dataset is found, its format, sizes, class counts and fingerprint.

    \b
    Example:  STUDY_DATA_DIR=../shared/datasets study data mnist cifar10
    Datasets: mnist, fashion_mnist, cifar10, or the path of an image folder.
    """
    from study.data import KNOWN, load_dataset, locate, search_roots

    click.echo("search path: " + ":".join(str(r) for r in search_roots()) + " (then the Keras download)")
    for name in names or tuple(KNOWN):
        location = locate(name)
        if location.format == "keras-download":
            click.echo(f"{name}: not on disk; would be downloaded by keras.datasets.{KNOWN[name].keras_loader}")
            continue
        info = load_dataset(name).describe()
        click.echo(f"{name}: {info['path']} ({info['format']})")
        click.echo(f"  train {info['train_size']}, test {info['test_size']}, input {tuple(info['input_shape'])}, "
                   f"fingerprint {info['fingerprint']}")
        counts = ", ".join(f"{c}={n}" for c, n in zip(info["classes"], info["train_class_counts"]))
        click.echo(f"  train per class: {counts}")
        counts = ", ".join(f"{c}={n}" for c, n in zip(info["classes"], info["test_class_counts"]))
        click.echo(f"  test per class: {counts}")


@cli.command()
@click.option("--input-shape", default="28,28,1", show_default=True, help="H,W,C of the input.")
@study_option
@click.option("--experiment", default=None, help="Show every value of this experiment instead of the baseline.")
def shapes(input_shape: str, study_file: str | None, experiment: str | None) -> None:
    """Print the layer-by-layer shape table (Equation 4), parameters and MACs, without TensorFlow.

    \b
    Example:  study shapes --input-shape 32,32,3 --experiment stride
    """
    from study.shapes import summarize

    try:
        shape = tuple(int(v) for v in input_shape.split(","))
    except ValueError:
        raise StudyError(f"--input-shape {input_shape!r} is not H,W,C integers, e.g. 28,28,1") from None
    if len(shape) != 3:
        raise StudyError(f"--input-shape {input_shape!r} must have three numbers H,W,C, e.g. 32,32,3")
    study = load_study(study_file)
    points = [("baseline", study.baseline)]
    if experiment:
        exp = study.experiment(experiment)
        points = [(v.label, study.baseline.with_values(**v.params)) for v in exp.values]
    for label, settings in points:
        click.echo(f"{label}:")
        try:
            summary = summarize(settings.model_config(shape))
        except StudyError as err:
            click.echo(f"  impossible: {err}")
            continue
        for row in summary.rows:
            click.echo(f"  {row.name:8} {row.kind:8} {str(row.output_shape):16} {row.params:>10,} params "
                       f"{row.macs:>12,} MACs   {row.formula}")
        click.echo(f"  total {summary.params:,} params, {summary.macs:,} MACs per image")


@cli.command()
@profile_option
@study_option
@store_option
@click.option("--scheduler", default=None, help="tcp://HOST:PORT of a running Dask scheduler.")
@click.option("--workers", type=int, default=None,
              help="Local worker processes (default: one per core); 0 trains in this process.")
@click.option("--threads", type=int, default=None,
              help="TensorFlow threads per trial (default: cores / workers locally, all cores on a cluster).")
@click.option("--no-progress", is_flag=True, help="No progress bar, one log line per trial only.")
def run(profile: str, study_file: str | None, store: str, scheduler: str | None, workers: int | None,
        threads: int | None, no_progress: bool) -> None:
    """Train every trial of the study that the store does not have yet.

    \b
    Example:  study run --profile smoke
              study run --study my.toml --scheduler tcp://10.0.0.5:8786
    Safe to interrupt: finished trials are kept and a rerun trains only the rest.
    """
    from study.runner import run_study
    from study.spec import get_profile

    chosen = get_profile(profile)
    spec = load_study(study_file)
    if workers is not None and workers < 0:
        raise StudyError(f"--workers must be >= 0, got {workers}")
    if threads is not None and threads < 1:
        raise StudyError(f"--threads must be >= 1, got {threads}")
    counts = run_study(spec, chosen, store, scheduler=scheduler, workers=workers, threads=threads,
                       progress=not no_progress)
    click.echo(f"{counts['planned']} trials: {counts['stored']} already stored, {counts['trained']} trained "
               f"({counts['diverged']} diverged, {counts['failed']} failed) -> {store}")
    if counts["failed"]:
        sys.exit(1)


@cli.command(name="list")
@store_option
@click.option("--status", default=None, type=click.Choice(["ok", "diverged", "failed", "missing"]),
              help="Show only trials with this status.")
def list_trials(store: str, status: str | None) -> None:
    """List every planned trial of every study in the store and its status.

    \b
    Example:  study list --status failed
    """
    from study.results import trial_listing
    from study.store import Store

    with Store(store, create=False) as db:
        rows = trial_listing(db)
    shown = [r for r in rows if status is None or r["status"] == status]
    for r in shown:
        acc = "" if r["val_accuracy"] is None else f"val_acc {r['val_accuracy']:.4f}"
        click.echo(f"{r['trial_key']}  {r['status']:8} {r['dataset']:8} seed {r['seed']:<3} "
                   f"{r['epochs_run']:>3} ep  {acc:16} {r['uses']}")
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    click.echo(f"{len(rows)} trials: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


@cli.command()
@store_option
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option("--out", default=None, help="Output file (default: output/results.csv or .parquet).")
def export(store: str, fmt: str, out: str | None) -> None:
    """Write the tidy per-epoch table (one row per study, experiment, value, dataset, seed, epoch).

    \b
    Example:  study export --format parquet --out results.parquet
    """
    from study.results import export_table
    from study.store import Store

    out = out or f"output/results.{fmt}"
    with Store(store, create=False) as db:
        table = export_table(db)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if fmt == "csv":
        table.to_csv(out, index=False)
    else:
        table.to_parquet(out, index=False)
    click.echo(f"{len(table)} rows -> {out}")


@cli.command()
@store_option
@click.option("--profile", default=None, help="Which profile's results to report (default: the latest run).")
@click.option("--study", "study_name", default=None, help="Which study of the store (default: the latest).")
@click.option("--out", default="output", show_default=True, type=click.Path(file_okay=False),
              help="Folder for report.html, report.pdf, figures/ and results.csv.")
@click.option("--no-pdf", is_flag=True, help="Write the HTML report only.")
def report(store: str, profile: str | None, study_name: str | None, out: str, no_pdf: bool) -> None:
    """Render the HTML and PDF report from the results store alone (no training, no TensorFlow).

    \b
    Example:  study report --profile quick
    An incomplete store still renders: missing trials are listed.
    """
    from study.report import build_report

    paths = build_report(store, out, study=study_name, profile=profile, pdf=not no_pdf)
    written = ", ".join(str(paths[k]) for k in ("html", "pdf", "csv") if k in paths)
    click.echo(f"report written in {paths['seconds']:.1f}s: {written}")


def main() -> None:
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
