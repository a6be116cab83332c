"""What the report's pages say about their figures and tables: panel titles, axis scales and captions, failure
colours, the per-seed axis, Equation 4, the settings a value brings, the seeds used, the datasets' copies and
the adaptation note's failed seeds, each checked on the records and figures it is written from."""

import dataclasses
import re

import matplotlib.pyplot as plt
import pytest
from drawing import drawn
from jinja2 import Environment, FileSystemLoader, select_autoescape
from synthetic import PROFILE, make_store, synthetic_study

from study.analyse.answer import effects
from study.analyse.comparisons import analyse
from study.analyse.overview import SeedFailure, deviations
from study.declare.builtin import BUILTIN_STUDIES
from study.declare.config import PARAMETER_TABLE
from study.report import figures, grid_words, render, wording

GROUPS = {
    "kernel_size": "Architecture (MNIST and CIFAR-10)",
    "pooling": "Architecture (MNIST and CIFAR-10)",
}


def _grouped_study():
    study = synthetic_study()
    experiments = tuple(
        dataclasses.replace(e, group=GROUPS.get(e.name, "Rates (MNIST and CIFAR-10)"))
        for e in study.experiments
    )
    return dataclasses.replace(study, experiments=experiments)


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    with make_store(tmp_path_factory.mktemp("pages") / "s.sqlite", _grouped_study()) as store:
        return analyse(store)


def _forest(analysis, dataset, tmp_path, monkeypatch, margin=None):
    rows = effects(analysis)[dataset]
    margin = analysis.stored.study.margin(dataset) if margin is None else margin
    parts = wording.forest_part_titles(
        list(dict.fromkeys(r.group for r in rows)), dataset, analysis.datasets
    )
    return drawn(
        monkeypatch,
        figures.forest_figure,
        rows,
        margin,
        {},
        wording.STANDING_LABELS,
        f"{dataset}: each value against its baseline",
        tmp_path / f"forest_{dataset}.png",
        0.95,
        parts,
    )


def test_a_forest_panel_of_one_dataset_names_that_dataset_only(analysis, tmp_path, monkeypatch):
    forest, fig = _forest(analysis, "mnist", tmp_path, monkeypatch)
    assert forest.panel_titles == ("Architecture (MNIST)", "Rates (MNIST)")
    assert [ax.get_title() for ax in fig.axes] == list(forest.panel_titles)
    plt.close(fig)
    titles = wording.forest_part_titles(
        [
            "Hyperparameters (MNIST)",
            "Budget and inputs (MNIST and CIFAR-10)",
            "Table 1 as written",
            "Trained on MNIST, then tuned",
            "",
        ],
        "cifar10",
        ["mnist", "cifar10"],
    )
    assert titles == {
        "Hyperparameters (MNIST)": "Hyperparameters (CIFAR-10)",
        "Budget and inputs (MNIST and CIFAR-10)": "Budget and inputs (CIFAR-10)",
        "Table 1 as written": "Table 1 as written",
        "Trained on MNIST, then tuned": "Trained on MNIST, then tuned: CIFAR-10 only",
        "": "",
    }


def test_the_forest_caption_states_the_scale_the_figure_used(analysis, tmp_path, monkeypatch):
    # the record decides; the drawn axes follow it, on a linear case and on a symmetric-log one
    for dataset, margin in (("mnist", None), ("cifar10", None), ("mnist", 0.002)):
        forest, fig = _forest(analysis, dataset, tmp_path, monkeypatch, margin)
        scale = forest.scale
        assert scale == figures.forest_scale(
            effects(analysis)[dataset], margin or analysis.stored.study.margin(dataset)
        )
        assert {ax.get_xscale() for ax in fig.axes} == {"symlog" if scale.symlog else "linear"}
        plt.close(fig)
    assert not figures.forest_scale(
        effects(analysis)["cifar10"], 0.05
    ).symlog  # 5 pp margin: linear
    assert figures.forest_scale(effects(analysis)["mnist"], 0.002).symlog
    assert wording.forest_scale_text(False, float("nan")) == "The axis is linear."
    assert "linear within ±0.4 pp" in wording.forest_scale_text(True, 0.4)


def test_the_rendered_caption_follows_each_figure(analysis, tmp_path):
    sections = render.answer_sections(analysis, render.RenderCache(tmp_path / "c.json"), tmp_path)
    for section in sections:
        scale = figures.forest_scale(
            effects(analysis)[section["dataset"]], analysis.stored.study.margin(section["dataset"])
        )
        assert section["forest_scale"] == wording.forest_scale_text(
            scale.symlog, scale.linear_within
        )
    cifar = next(s for s in sections if s["dataset"] == "cifar10")
    assert cifar["forest_scale"] == "The axis is linear."


def _failure_texts(fig):
    return {
        t.get_text(): t.get_color()
        for ax in fig.axes
        for t in ax.texts
        if t.get_text().endswith("failed")
    }


def test_only_a_significant_failure_count_is_coloured(analysis, tmp_path, monkeypatch):
    rows = {(r.experiment, r.value): r for r in effects(analysis)["mnist"]}
    seven, rate = rows[("kernel_size", "7")], rows[("learning_rate", "0.2")]
    assert seven.rate_differs and not rate.rate_differs and rate.failed == 1
    assert figures.failure_colour(seven) == figures.VERDICT_COLOURS[figures.Verdict.WORSE]
    assert figures.failure_colour(rate) == figures.UNDECIDED_FAILURES
    assert figures.failure_colour(rows[("kernel_size", "3")]) == figures.NO_FAILURES
    _, fig = _forest(analysis, "mnist", tmp_path, monkeypatch)
    colours = _failure_texts(fig)
    plt.close(fig)
    assert colours["4/4 failed"] == figures.VERDICT_COLOURS[figures.Verdict.WORSE]
    assert colours["1/4 failed"] == figures.UNDECIDED_FAILURES


def test_the_per_seed_axis_follows_the_learned_seeds(analysis, tmp_path, monkeypatch):
    block = analysis.blocks[("kernel_size", "mnist")]
    axis = figures.final_accuracy_axis(block)
    learned = [a * 100 for v in block.values for a in v.learned_only().values()]
    assert axis.low <= min(learned) and max(learned) <= axis.high
    assert (
        axis.low > 60 and axis.high - axis.low < 45
    )  # kernel 1 at 75%, the rest at 95%: not 0-100
    assert sorted(axis.below) == [
        ("7", s) for s in (1, 2, 3, 4)
    ]  # diverged, drawn at chance: on the edge
    assert not axis.chance_shown and axis.chance == pytest.approx(10.0)
    three = analysis.blocks[("pooling", "mnist")]
    narrow = figures.final_accuracy_axis(three)
    assert (
        narrow.low > 85 and narrow.high - narrow.low < 12
    )  # 1.5 pp seed noise spread over the panel
    _, fig = drawn(monkeypatch, figures.final_figure, analysis, "kernel_size", tmp_path)
    panels = {ax.get_title(): ax for ax in fig.axes}
    assert panels["mnist:\neach seed; mean, 95% CI"].get_ylim() == pytest.approx(
        (axis.low, axis.high)
    )
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    plt.close(fig)
    assert "chance mnist 10.0% (off the axis)" in legend
    assert "on the edge: a seed beyond the axis" in legend


def test_every_citation_of_equation_4_names_the_original_report_and_the_appendix_shows_it():
    texts = [p.help for p in PARAMETER_TABLE]
    for make in BUILTIN_STUDIES.values():
        study = make()
        texts += [study.description, *study.notes]
        for e in study.experiments:
            texts += [e.description, *(v.note for v in e.values)]
    cited = [t for t in texts if "Equation 4" in t]
    assert cited  # the padding note cites it
    assert all(
        t.count("Equation 4") == t.count("Equation 4 of the original report") for t in cited
    )
    env = Environment(
        loader=FileSystemLoader(render.TEMPLATES), autoescape=select_autoescape(["html", "j2"])
    )
    theory = env.get_template("theory.html.j2").render(theory_rows=[], worked=24)
    formula = re.search(
        r'<p class="lead-in">(Equation 4 of the original report):[^<]*</p>\s*'
        r'<p class="formula" id="equation-4">([^<]*)</p>',
        theory,
    )
    assert formula, "the appendix labels the formula it shows as the original report's Equation 4"
    assert "⌊(in − kernel + 2·padding) / stride⌋ + 1" in formula.group(2)


def test_values_that_bring_their_own_settings_say_which():
    solver = BUILTIN_STUDIES["table1"]().experiment("solver")
    text = " ".join(wording.value_settings(solver))
    assert "sgd: learning rate 0.5" in text and "sgd+momentum: learning rate 0.05" in text
    assert "adam: learning rate 0.001" in text and "adagrad: learning rate 0.01" in text
    grid = BUILTIN_STUDIES["default"]().experiment(
        "solver"
    )  # a grid: its cells are the setup's grid line
    assert wording.value_settings(grid) == []
    line = grid_words.tuned_values_text(grid.name, grid.grid)
    assert "sgd 0.005, 0.015, 0.05, 0.15, 0.5; sgd+momentum 0.0005, 0.0015, 0.005" in line
    stride = BUILTIN_STUDIES["default"]().experiment("stride")
    assert "2 on MNIST: padding same" in " ".join(wording.value_settings(stride))
    assert wording.value_settings(BUILTIN_STUDIES["default"]().experiment("kernel_size")) == []
    rates = synthetic_study().experiment("learning_rate")  # around its own baseline, batch 64
    assert wording.value_settings(rates) == [
        "Every value of this experiment, its baseline included, also sets batch size 64."
    ]


def test_the_setup_states_the_seeds_used_beside_those_declared(tmp_path):
    three = dataclasses.replace(PROFILE, name="three", seeds=3)
    with make_store(tmp_path / "s.sqlite", profile=three) as store:
        analysis = analyse(store)
    values, baselines = render.seeds_used(analysis)
    assert set(baselines) == {tuple(range(1, 10))}  # three times a value's seeds, every baseline
    assert values[(1, 2, 3)] >= 1 and (1, 2, 3, 4) not in values
    assert values.get((1, 2)) == 2  # pooling 'none' lost seed 3 on each dataset: 2 seeds used
    row = next(r for r in render.baseline_rows(analysis) if r["label"] == "Seeds")
    assert row["study"].startswith("1, 2, 3, 4 (values: seeds 1-3; baselines: seeds 1-9")
    assert row["used"].startswith(f"values: seeds 1-3 ({values[(1, 2, 3)]} values), ")
    assert "seeds 1, 2 (2 values)" in row["used"] and row["deviates"]
    assert row["used"].endswith("; baselines: seeds 1-9")
    one = render.wording.seeds_used_text({(1, 2, 3): 1, (1, 2, 3, 4, 5, 6): 1}, {(1, 2): 1})
    assert one == "values: seeds 1-3 (1 value), seeds 1-6 (1 value); baselines: seeds 1, 2"


def test_the_datasets_table_says_when_a_copy_is_not_the_standard_split(analysis):
    local = (
        101,
        164,
        95,
        116,
        90,
        31,
        107,
        135,
        72,
        89,
    )  # the local MNIST's 1,000 test images used
    text = wording.dataset_source_text("mnist", 8_000, 2_000, local)
    assert (
        "8,000 training and 2,000 test images where the standard MNIST has 60,000 and 10,000"
        in text
    )
    assert "(a subset)" in text and "31 to 164 per class" in text and "chance" in text
    assert "16.4%" in text
    assert wording.dataset_source_text("cifar10", 50_000, 10_000, (100,) * 10) == ""
    rows = {r["name"]: r for r in render.dataset_rows(analysis)}
    assert (
        "1,000 training and 500 test images" in rows["mnist"]["source"]
    )  # the synthetic store's sizes


def test_the_adaptation_note_reads_each_failure_from_its_own_trial(tmp_path):
    study = dataclasses.replace(
        synthetic_study(),
        reference=(("Learning rate", "learning_rate", 0.2),),
        reference_title="Ref",
    )
    with make_store(tmp_path / "s.sqlite", study) as store:
        analysis = analyse(store)
    (found,) = deviations(analysis)
    (run,) = found.runs
    reference, baseline = run.datasets["mnist"]
    assert reference.failures == (SeedFailure(2, "diverged", 2),)  # its loss became NaN at epoch 2
    assert baseline.failures == (
        SeedFailure(1, "collapsed", 5),
        SeedFailure(3, "collapsed", 5),
    )  # 0.5 collapses in seeds 1 and 3, judged at its last (fifth) epoch
    assert run.schedule == "constant"
    text = wording.adaptation_text(found, "Ref")
    assert "0.2 learned in 3 of 4 seeds (seeds 1-4; seed 2 diverged (at epoch 2))" in text
    assert (
        "the baseline's 0.5 learned in 10 of 12 seeds (seeds 1-12; seeds 1, 3 at chance after 5 epochs)"
        in text
    )
