"""Analyse: stored results become frozen numbers: outcomes, comparisons, verdicts, power, claims.

Owns the statistics (``stats``: intervals, paired tests, power, Holm, verdict rules), the per-block
comparisons (``comparisons``) and the checks of a study's claims (``claims``). Returns numbers and enums,
never sentences or HTML. May import ``study.results``, ``study.plan`` and ``study.declare``; never
TensorFlow, the runner or the report.
"""
