"""The original report's findings, each turned into a test on our data with a verdict.

A claim is supported, contradicted or inconclusive by the rules of ``study.stats``; its evidence is
the numbers it was judged on. A claim whose experiment is absent from the store is skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from study.analysis import Analysis, Block, ValueSummary
from study.stats import ALPHA, paired_difference


@dataclass(frozen=True)
class Finding:
    claim: str  # the original report's words
    test: str  # how we test it
    verdict: str  # supported, contradicted, inconclusive
    evidence: str


def _fmt(value: ValueSummary) -> str:
    if value.final.n == 0:
        return f"{value.label}: no finished seed"
    return f"{value.label}: {value.final.mean * 100:.1f}% (n={value.final.n})"


def _no_effect(analysis: Analysis, experiment: str, datasets: tuple[str, ...]) -> tuple[str, str]:
    """Supported when no value differs significantly and all are equivalent; contradicted when one differs."""
    verdicts, evidence = [], []
    for dataset in datasets:
        block = analysis.blocks.get((experiment, dataset))
        if block is None:
            continue
        for value in block.values:
            if value is block.baseline:
                continue
            verdicts.append(value.verdict)
            if value.paired is not None and value.paired.n:
                p_text = f"p_Holm={value.p_holm:.3g}" if math.isfinite(value.p_holm) else "untested"
                evidence.append(f"{dataset} {value.label}: {value.paired.diff.mean * 100:+.1f} pp "
                                f"({p_text}, {value.verdict})")
            else:
                evidence.append(f"{dataset} {value.label}: {value.verdict}")
    if not verdicts:
        return "inconclusive", "no data"
    if any(v in ("better", "worse") for v in verdicts):
        return "contradicted", "; ".join(evidence)
    if all(v == "equivalent" for v in verdicts):
        return "supported", "; ".join(evidence)
    return "inconclusive", "; ".join(evidence)


def _significant(analysis: Analysis, experiment: str, dataset: str, label: str, direction: str) -> tuple[str, str]:
    block = analysis.blocks.get((experiment, dataset))
    value = block.value(label) if block else None
    if value is None or value.paired is None or value.paired.n < 2:
        return "inconclusive", "too few seeds" if value else "value not in the study"
    text = (f"{dataset} {label} vs {block.baseline.label}: {value.paired.diff.mean * 100:+.1f} pp, "
            f"CI {value.paired.diff.low * 100:+.1f} to {value.paired.diff.high * 100:+.1f}, p_Holm={value.p_holm:.3g}")
    if value.verdict == direction:
        return "supported", text
    if value.verdict in ("better", "worse", "equivalent"):
        return "contradicted", text
    return "inconclusive", text


def _any_significant(analysis: Analysis, experiment: str, dataset: str) -> tuple[str, str]:
    block = analysis.blocks.get((experiment, dataset))
    if block is None:
        return "inconclusive", "no data"
    verdicts = {v.label: v.verdict for v in block.values if v is not block.baseline}
    evidence = "; ".join(f"{dataset} {k}: {v}" for k, v in verdicts.items())
    if any(v in ("better", "worse") for v in verdicts.values()):
        return "supported", evidence
    if all(v == "equivalent" for v in verdicts.values()):
        return "contradicted", evidence
    return "inconclusive", evidence


def _higher(a: dict[int, float], b: dict[int, float], what: str) -> tuple[str, str]:
    """Supported when ``a`` is significantly above ``b`` over the shared seeds (paired t-test)."""
    paired = paired_difference(a, b)
    if paired.n < 2:
        return "inconclusive", "too few seeds"
    text = (f"{what} = {paired.diff.mean * 100:+.1f} pp "
            f"(CI {paired.diff.low * 100:+.1f} to {paired.diff.high * 100:+.1f}, p={paired.p:.3g})")
    if paired.p < ALPHA:
        return ("supported" if paired.diff.mean > 0 else "contradicted"), text
    return "inconclusive", text


def _rises_faster(analysis: Analysis) -> tuple[str, str]:
    block = analysis.blocks.get(("learning_rate", "mnist"))
    if block is None:
        return "inconclusive", "no data"
    high, low = block.value("0.5"), block.value("0.001")
    if not high or not low:
        return "inconclusive", "values 0.5 and 0.001 not both in the study"
    return _higher(high.first_epoch, low.first_epoch, "mnist accuracy after epoch 1: 0.5 minus 0.001")


def _catch_up(analysis: Analysis) -> tuple[str, str]:
    short = analysis.blocks.get(("learning_rate", "mnist"))
    long = analysis.blocks.get(("learning_rate_long", "mnist"))
    if short is None or long is None:
        return "inconclusive", "no data"
    pairs = []
    for block in (short, long):
        high, low = block.value("0.5"), block.value("0.01")
        if not high or not low:
            return "inconclusive", "values 0.5 and 0.01 not in both runs"
        pairs.append(paired_difference(high.final_by_seed, low.final_by_seed))
    if any(p.n < 2 for p in pairs):
        return "inconclusive", "too few seeds"
    gap_short, gap_long = pairs[0].diff.mean, pairs[1].diff.mean
    text = (f"mnist gap 0.5 minus 0.01: {gap_short * 100:+.1f} pp after the short run, "
            f"{gap_long * 100:+.1f} pp after the run {long_factor(analysis)}x as long")
    if abs(gap_long) < abs(gap_short) - 0.005 or abs(gap_long) * 100 < 1.0:
        return "supported", text
    if abs(gap_long) > abs(gap_short) + 0.005:
        return "contradicted", text
    return "inconclusive", text


def long_factor(analysis: Analysis) -> str:
    for exp in analysis.spec["experiments"]:
        if exp["name"] == "learning_rate_long":
            return f"{exp['epochs_factor']:g}"
    return "?"


def _does_not_learn(analysis: Analysis) -> tuple[str, str]:
    results, evidence = [], []
    for dataset in analysis.datasets:
        block = analysis.blocks.get(("initializer", dataset))
        if block is None:
            continue
        for label in ("all_negative", "normal_around_1"):
            value = block.value(label)
            if value is None:
                continue
            if value.learns is None:
                if value.status.get("diverged"):
                    results.append(False)  # a diverged init learns nothing either
                    evidence.append(f"{dataset} {label}: diverged")
                else:
                    evidence.append(f"{dataset} {label}: no finished seed")
                continue
            results.append(value.learns)
            evidence.append(f"{dataset} {_fmt(value)}")
    if not results:
        return "inconclusive", "; ".join(evidence) or "no data"
    if not any(results):
        return "supported", "; ".join(evidence)
    return "contradicted", "; ".join(evidence)


def _larger_stride_lower(analysis: Analysis) -> tuple[str, str]:
    outcomes, evidence = [], []
    for dataset in analysis.datasets:
        verdict, text = _significant(analysis, "stride", dataset, "3", "worse")
        outcomes.append(verdict)
        evidence.append(text)
    if outcomes and all(v == "supported" for v in outcomes):
        return "supported", "; ".join(evidence)
    if "contradicted" in outcomes:
        return "contradicted", "; ".join(evidence)
    return "inconclusive", "; ".join(evidence)


def _spread(block: Block | None) -> float:
    if block is None:
        return math.nan
    means = [v.final.mean for v in block.values if v.final.n]
    return max(means) - min(means) if len(means) > 1 else math.nan


def _filters_matter_more_on_cifar(analysis: Analysis) -> tuple[str, str]:
    mnist, cifar = analysis.blocks.get(("filters", "mnist")), analysis.blocks.get(("filters", "cifar10"))
    spread_m, spread_c = _spread(mnist), _spread(cifar)
    if not (math.isfinite(spread_m) and math.isfinite(spread_c)):
        return "inconclusive", "no data"
    verdict_c, _ = _any_significant(analysis, "filters", "cifar10")
    verdict_m, _ = _any_significant(analysis, "filters", "mnist")
    text = (f"range of mean final accuracy over filter counts: mnist {spread_m * 100:.1f} pp, "
            f"cifar10 {spread_c * 100:.1f} pp; cifar10 effect {'significant' if verdict_c == 'supported' else 'not significant'}")
    if spread_c > spread_m and verdict_c == "supported":
        return "supported", text
    if spread_c < spread_m and verdict_m == "supported":
        return "contradicted", text
    return "inconclusive", text


def _conv_layers(analysis: Analysis) -> tuple[str, str]:
    block = analysis.blocks.get(("conv_layers", "cifar10"))
    if block is None or block.value("0") is None or block.value("2") is None:
        return "inconclusive", "no data"
    return _higher(block.value("2").final_by_seed, block.value("0").final_by_seed,
                   "cifar10 final accuracy, 2 minus 0 conv layers")


@dataclass(frozen=True)
class Claim:
    claim: str  # the original report's words
    test: str  # how we test it on our data
    experiment: str  # the experiment it needs; skipped when the store has none
    check: Callable[[Analysis], tuple[str, str]]


def _all(experiment: str):
    return lambda a: _no_effect(a, experiment, tuple(a.datasets))


CLAIMS = (
    Claim("Batch size did not have a significant impact on the final accuracy.",
          "every batch size equivalent to 32", "batch_size", _all("batch_size")),
    Claim("The solvers gave no significant difference.", "every solver equivalent to SGD", "solver", _all("solver")),
    Claim("With a higher learning rate the accuracy rises faster.",
          "accuracy after epoch 1: 0.5 above 0.001 (paired t-test, MNIST)", "learning_rate", _rises_faster),
    Claim("Lower learning rates approach the same accuracy after more epochs.",
          "the final gap between 0.5 and 0.01 shrinks in the longer run (MNIST)", "learning_rate_long", _catch_up),
    Claim("All-negative and normal-around-1 initialisations do not make the network learn.",
          "their mean final accuracy stays within 5 points of chance", "initializer", _does_not_learn),
    Claim("Activation functions gave no significant difference, even linear.",
          "every activation equivalent to ReLU", "activation", _all("activation")),
    Claim("Kernel size 1 performs worse on MNIST.", "kernel 1 significantly worse than 5 on MNIST", "kernel_size",
          lambda a: _significant(a, "kernel_size", "mnist", "1", "worse")),
    Claim("On CIFAR-10 the kernel size has an impact.", "some kernel size differs significantly from 5 on CIFAR-10",
          "kernel_size", lambda a: _any_significant(a, "kernel_size", "cifar10")),
    Claim("A larger stride leads to a lower accuracy.", "stride 3 significantly worse than 1 on every dataset",
          "stride", _larger_stride_lower),
    Claim("The number of filters has a larger impact on CIFAR-10.",
          "wider spread of accuracy over filter counts on CIFAR-10, and significant there", "filters",
          _filters_matter_more_on_cifar),
    Claim("Performance on CIFAR-10 increases with the number of conv layers.",
          "2 conv layers significantly better than 0 on CIFAR-10", "conv_layers", _conv_layers),
    Claim("Pooling variants gave no significant change on either dataset.",
          "every pooling variant equivalent to two max pools", "pooling", _all("pooling")),
)


def check_findings(analysis: Analysis) -> list[Finding]:
    present = {experiment for experiment, _ in analysis.blocks}
    findings = []
    for claim in CLAIMS:
        if claim.experiment in present:
            verdict, evidence = claim.check(analysis)
            findings.append(Finding(claim.claim, claim.test, verdict, evidence))
    return findings
