"""One comparison, one record: the CSV, the tables, section 1, the summary and the words read the same
``Comparison``, and a row's numbers rest on the seeds it names (synthetic store, no training)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from synthetic import make_store

from study.analyse.answer import answer_rows, effects
from study.analyse.comparisons import Comparison, analyse, verdict_rows
from study.analyse.overview import ranking
from study.analyse.stats import Verdict
from study.report import wording
from study.report.render import _value_rows


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    path = tmp_path_factory.mktemp("record") / "s.sqlite"
    with make_store(path) as store:
        return analyse(store)


def test_a_paired_row_rests_on_the_seeds_both_sides_learned(analysis):
    """The MNIST learning-rate baseline collapses in seeds 1 and 3: a paired value is compared over the
    seeds both learned, and its row's two means are over exactly those seeds, so they subtract to Δ."""
    block = analysis.blocks[("learning_rate", "mnist")]
    for value in block.comparisons:
        r = block.records[value.label]
        if r.test is None:
            continue
        shared = sorted(value.learned_only().keys() & block.baseline.learned_only().keys())
        assert r.paired and list(r.seeds_value) == list(r.seeds_baseline) == shared
        assert 1 not in r.seeds_baseline and 3 not in r.seeds_baseline
        assert r.mean_value - r.mean_baseline == pytest.approx(r.diff, abs=1e-12)


def test_a_welch_row_rests_on_every_learned_seed_of_each_side(analysis):
    block = analysis.blocks[("kernel_size", "mnist")]
    r = block.records["1"]
    assert not r.paired and r.test.startswith("Welch")
    assert list(r.seeds_value) == sorted(block.value("1").learned_only())
    assert list(r.seeds_baseline) == sorted(block.baseline.learned_only())
    assert r.mean_value - r.mean_baseline == pytest.approx(r.diff, abs=1e-12)


def test_every_consumer_reads_the_same_record(analysis):
    """verdicts.csv, the experiment table, the forest rows, the answer table and the summary: the same
    difference, interval, seeds and verdict, for every comparison."""
    table = pd.DataFrame(verdict_rows(analysis))
    forest = {
        (r.experiment, r.dataset, r.value): r for rows in effects(analysis).values() for r in rows
    }
    leads = {
        (k.experiment, k.dataset): k.lead for rows in answer_rows(analysis).values() for k in rows
    }
    ranked = {
        (row.experiment, dataset): row.lead
        for dataset, rows in ranking(analysis).items()
        for row in rows
    }
    for (experiment, dataset), block in analysis.blocks.items():
        cells = {row["label"]: row for row in _value_rows(block)}
        for r in block.compared:
            assert forest[(experiment, dataset, r.value)] is r
            csv = table[
                (table.experiment == experiment)
                & (table.dataset == dataset)
                & (table.value == r.value)
            ].iloc[0]
            assert csv.verdict == r.verdict and bool(csv.decisive) == r.decisive
            if r.test is not None:
                assert csv.diff_pp == pytest.approx(r.diff * 100, abs=1e-6)
                assert csv.seeds_baseline == " ".join(map(str, r.seeds_baseline))
                assert csv.mean_baseline_pct == pytest.approx(r.mean_baseline * 100, abs=1e-6)
                assert cells[r.value]["tested_seeds"] == wording.tested_seeds_text(r)
                assert cells[r.value]["mean"] == f"{r.mean_value * 100:.1f}"
                assert cells[r.value]["ci"] == f"vs {r.mean_baseline * 100:.1f}"
            assert cells[r.value]["verdict"] == wording.record_verdict_text(r)
        lead = leads.get((experiment, dataset))
        assert lead is None or lead in block.compared
        if (experiment, dataset) in ranked:
            assert ranked[(experiment, dataset)] in block.compared


def test_the_direction_of_a_failure_rate_comes_from_the_rates(analysis):
    """A significantly different failure rate is worded by its direction: 0 of 6 against the baseline's
    2 of 9 fails *less* often (a copy of this sentence once said 'more' for every significant test)."""
    some = analysis.blocks[("kernel_size", "mnist")].records["1"]

    def record(**changes) -> Comparison:
        return dataclasses.replace(
            some, verdict=Verdict.INCONCLUSIVE, rate_differs=True, **changes
        )

    fewer = record(failed=0, finished=6, baseline_failed=2, baseline_finished=9)
    more = record(failed=6, finished=6, baseline_failed=2, baseline_finished=9)
    same = record(failed=1, finished=3, baseline_failed=3, baseline_finished=9)
    assert (fewer.fails_more, more.fails_more, same.fails_more) == (False, True, None)
    assert wording.record_verdict_text(fewer).endswith("fails to learn less often")
    assert wording.record_verdict_text(more).endswith("fails to learn more often")
    assert "fails" not in wording.record_verdict_text(same)


def test_seeds_are_named_as_runs():
    from study.report.cells import seeds_text

    assert seeds_text((1, 2, 3, 5, 7, 8)) == "1–3, 5, 7–8"
    assert seeds_text(()) == ""


def test_the_paired_noise_model_is_reported_beside_the_welch_one(analysis):
    """Paired rows are moderated by a noise model of their own; 'What this run can tell' states it (it was
    used but never shown)."""
    from study.analyse.overview import power_summary

    rows = {s.dataset: s for s in power_summary(analysis)}
    block = analysis.blocks[("learning_rate", "mnist")]
    assert any(block.paired) and rows["mnist"].paired is block.paired_prior
    text = wording.paired_model_text(rows["mnist"].paired)
    if block.paired_prior.usable:
        assert f"{block.paired_prior.configurations} paired comparisons" in text
    else:
        assert text.startswith("too few paired comparisons")
    assert wording.paired_model_text(None) == "no paired comparison"


def test_a_configuration_counts_once_in_the_noise_model(analysis):
    """Trials differing only in their seed are one configuration: the budget check's longer run and the
    long learning-rate run's baseline share six trials, which the MNIST noise model once counted twice."""
    import dataclasses as dc

    from study.analyse.comparisons import _configuration

    spec = next(iter(analysis.trials.values()))
    assert _configuration(spec) == _configuration(
        dc.replace(spec, seed=spec.seed + 1, key="other")
    )
    other = dc.replace(spec, settings=spec.settings.with_values(learning_rate=0.123))
    assert _configuration(other) != _configuration(spec)


def test_a_difference_that_rounds_to_zero_reads_plus_zero():
    from study.report.cells import signed_pp
    from study.report.formats import pp

    assert pp(-0.00004) == "+0.0 pp" and signed_pp(-0.00004) == "+0.0"
    assert pp(-0.0006) == "-0.1 pp" and pp(0.0123) == "+1.2 pp"
