"""Section 1 on a synthetic store: the answer table, the forest plot's rows and the facts, checked against the
``verdicts.csv`` the same report writes (no training)."""

import math
import re

import pandas as pd
import pytest
from synthetic import make_store

from study.analyse.answer import (
    Evidence,
    FactKind,
    answer_rows,
    budgets,
    effects,
    facts,
)
from study.analyse.comparisons import Standing, analyse
from study.analyse.costs import CostRatio
from study.report import wording
from study.report.figures import forest_figure
from study.report.render import build_report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("answer")
    make_store(folder / "s.sqlite").close()
    paths = build_report(folder / "s.sqlite", folder / "out", pdf=False)
    with make_store(folder / "s.sqlite") as store:  # the same store again: nothing is added
        analysis = analyse(store)
    return analysis, pd.read_csv(paths["verdicts"]), paths


def _row(table: pd.DataFrame, experiment: str, dataset: str, value: str) -> pd.Series:
    found = table[
        (table.experiment == experiment)
        & (table.dataset == dataset)
        & (table.value.astype(str) == value)
    ]
    assert len(found) == 1, (experiment, dataset, value)
    return found.iloc[0]


def _pp(x: float) -> float | None:
    return None if not math.isfinite(x) else x * 100


def _same(mine: float, theirs) -> bool:
    return (mine is None and pd.isna(theirs)) or (
        mine is not None and mine == pytest.approx(float(theirs), abs=1e-4)
    )


def test_every_forest_row_is_a_verdicts_csv_row(report):
    """One forest row per non-baseline row of verdicts.csv, none dropped: same difference, interval, verdict,
    test, df and seeds; a value that never learned is kept and marked as such."""
    analysis, table, _ = report
    rows = effects(analysis)
    values = table[~table.is_baseline]
    assert sum(len(r) for r in rows.values()) == len(values)
    for dataset, found in rows.items():
        for effect in found:
            csv = _row(table, effect.experiment, dataset, effect.value)
            assert _same(_pp(effect.diff), csv.diff_pp) and _same(_pp(effect.low), csv.diff_low_pp)
            assert _same(_pp(effect.high), csv.diff_high_pp)
            assert str(effect.verdict) == csv.verdict and effect.decisive == bool(csv.decisive)
            assert (effect.test or None) == (None if pd.isna(csv.test) else csv.test)
            assert (len(effect.seeds_value), len(effect.seeds_baseline)) == (
                csv.n_value,
                csv.n_baseline,
            )
            for seeds, listed in (
                (effect.seeds_value, csv.seeds_value),
                (effect.seeds_baseline, csv.seeds_baseline),
            ):
                assert " ".join(map(str, seeds)) == ("" if pd.isna(listed) else str(listed))
            if effect.test is not None and math.isfinite(effect.dof):
                assert effect.dof == pytest.approx(float(csv.df), abs=1e-4)
            assert effect.failed == csv.collapsed + csv.diverged
            assert effect.rate_differs == bool(csv.rate_differs)
            never = csv.learned == 0 and csv.collapsed + csv.diverged > 0
            assert (effect.standing == Standing.DID_NOT_LEARN) == (
                never and pd.isna(csv.diff_pp)
            ), effect
    seven = next(e for e in rows["mnist"] if (e.experiment, e.value) == ("kernel_size", "7"))
    assert seven.standing == Standing.DID_NOT_LEARN and (seven.failed, seven.finished) == (4, 4)


def test_each_knobs_largest_effect_is_its_largest_verdicts_csv_difference(report):
    analysis, table, _ = report
    answers = answer_rows(analysis)
    assert set(answers) == {"mnist", "cifar10"}
    for dataset, knobs in answers.items():
        assert len(knobs) == len({(e, d) for e, d in analysis.blocks if d == dataset})
        for knob in knobs:
            block = table[
                (table.experiment == knob.experiment)
                & (table.dataset == dataset)
                & ~table.is_baseline
            ]
            with_ci = block[block.diff_low_pp.notna()]
            candidates = with_ci if len(with_ci) else block[block.diff_pp.notna()]
            assert knob.failed == int((block.collapsed + block.diverged).sum())
            assert knob.finished == int((block.learned + block.collapsed + block.diverged).sum())
            if not len(candidates):
                assert knob.lead is None or knob.lead.rate_differs
                continue
            top = candidates.loc[candidates.diff_pp.abs().idxmax()]
            lead = knob.lead
            assert lead.value == str(top.value) and lead.verdict == top.verdict
            assert lead.diff * 100 == pytest.approx(top.diff_pp, abs=1e-4)
            assert _same(_pp(lead.low), top.diff_low_pp) and _same(
                _pp(lead.high), top.diff_high_pp
            )
        sizes = [
            k.size for k in knobs if k.lead is not None and k.lead.standing == Standing.INTERVAL
        ]
        assert sizes == sorted(
            sizes, reverse=True
        )  # the synthetic study has no groups: one sorted list
    kernel = next(k for k in answers["mnist"] if k.experiment == "kernel_size")
    assert (
        kernel.lead.value == "1"
        and kernel.lead.verdict == "worse"
        and kernel.lead.diff == pytest.approx(-0.2, abs=0.02)
    )
    assert kernel.failing[0] == ("7", 4, 4)
    assert answers["mnist"][0].experiment == "kernel_size"  # -20 pp: the largest effect of the run


def test_the_answer_table_shows_the_verdicts_csv_numbers_and_tests(report):
    analysis, table, paths = report
    html = paths["html"].read_text()
    section = html[html.index('<section id="answer">') : html.index("What this run can tell")]
    one = _row(table, "kernel_size", "mnist", "1")
    cell = f"1: {one.diff_pp:+.1f} pp [{one.diff_low_pp:+.1f}, {one.diff_high_pp:+.1f}]"
    assert cell in section
    trace = f"{one.test}, 4 vs 12 learned seeds, {float(one.df):.1f} df"
    assert (
        trace in section and f'title="{trace}' in section
    )  # the verdict names its test, df and seeds
    assert "forest" in section and 'src="data:image/png;base64,' in section
    text = re.sub(r"<[^>]+>", " ", section)
    for name in ("kernel_size", "learning_rate"):  # prose shows display names
        assert name not in text
    assert "kernel size" in text and "learning rate" in text
    assert "decided" in text and "not decided at this budget" in text


def test_facts_carry_their_evidence(report):
    analysis, _, _ = report
    found = facts(analysis)
    mnist = {(f.kind, f.experiment): f for f in found["mnist"]}
    worse = mnist[(FactKind.ACCURACY, "kernel_size")]
    assert worse.evidence == Evidence.DECIDED and [e.value for e in worse.effects] == ["1"]
    assert [e.value for e in mnist[(FactKind.FAILURE_RATE, "kernel_size")].effects] == ["7"]
    assert all(
        f.evidence == Evidence.DECIDED
        for f in found["mnist"]
        if f.kind in (FactKind.ACCURACY, FactKind.FAILURE_RATE)
    )
    assert all(
        f.evidence == Evidence.NOT_DECIDED
        for fs in found.values()
        for f in fs
        if f.kind in (FactKind.NEVER_LEARNED, FactKind.LARGEST_UNDECIDED)
    )
    cifar = [
        f for f in found["cifar10"] if f.kind == FactKind.BASELINE_FAILS
    ]  # learning rate 0.5 never learns there
    assert [f.experiment for f in cifar] == ["learning_rate"]
    assert "learned in 0 of 12 seeds" in wording.fact_text(cifar[0], {})
    undecided = next(f for f in found["mnist"] if f.kind == FactKind.LARGEST_UNDECIDED)
    assert undecided.effects[0].verdict not in ("better", "worse", "equivalent")


def test_the_budget_is_read_from_the_stored_facts(report):
    analysis, _, _ = report
    mnist = budgets(analysis)["mnist"]
    assert (mnist.train_images, mnist.test_images, mnist.epochs, mnist.batch_size) == (
        100,
        50,
        5,
        32,
    )
    assert (mnist.steps_per_epoch, mnist.steps, mnist.value_seeds, mnist.baseline_seeds) == (
        4,
        20,
        4,
        12,
    )
    sentence = wording.budget_sentence(mnist, "mnist")
    assert (
        "100 images" in sentence
        and "5 epochs" in sentence
        and "20 in all" in sentence
        and "baseline 12" in sentence
    )


def test_a_cost_ratio_lies_inside_its_range(report):
    analysis, _, _ = report
    for (_experiment, _dataset), block in analysis.blocks.items():
        for record in block.compared:
            cost = record.cost
            if cost.defined:
                assert cost.low - 1e-9 <= cost.ratio <= cost.high + 1e-9
    assert wording.ratio_text(CostRatio(2.0712, 1.8, 2.4)) == "2.07x (1.80–2.40)"
    assert wording.ratio_text(CostRatio(math.nan, math.nan, math.nan)) == "–"


def test_the_forest_figure_draws_the_rows_it_is_given(report, tmp_path):
    analysis, _, _ = report
    rows = effects(analysis)["mnist"]
    knobs = answer_rows(analysis)["mnist"]
    path = forest_figure(
        rows,
        analysis.stored.study.margin("mnist"),
        wording.forest_headers(knobs, wording.knob_names(analysis.stored.study)),
        wording.STANDING_LABELS,
        "mnist",
        tmp_path / "forest.png",
    ).path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    from PIL import Image

    width, height = Image.open(path).size
    assert height > 0.15 * 100 * len(
        rows
    )  # a line per value (and per knob): the rows are all there


def test_knob_names_follow_the_parameter_not_the_suffix():
    import dataclasses

    from study.declare.builtin import builtin_study

    names = wording.knob_names(builtin_study("table1"))
    assert names["kernel_size"] == "kernel size"
    for name, shown in names.items():
        assert "_" not in shown, name
    assert (
        names["learning_rate_long"] == "learning rate long"
    )  # two learning-rate experiments in one part
    # a part that repeats another part's experiments under longer names reads as the ones it repeats
    table1 = builtin_study("table1")
    first = tuple(dataclasses.replace(e, group="Table 1") for e in table1.experiments)
    again = tuple(
        dataclasses.replace(e, name=e.name + "_at_lr_0.05", group="adapted")
        for e in table1.experiments
        if e.name in ("kernel_size", "filters")
    )
    names = wording.knob_names(dataclasses.replace(table1, experiments=first + again, claims=()))
    assert (
        names["kernel_size_at_lr_0.05"] == "kernel size"
        and names["filters_at_lr_0.05"] == "filters"
    )
