"""Declare: what a study is, before anything is planned or trained.

Owns the typed knobs (``config``: ``Settings``, ``ModelConfig``), the declarative spec (``spec``:
``Study``, ``Experiment``, ``Value``, ``Claim``, ``Profile``), the built-in study (``builtin``), TOML
study files (``studyfile``) and custom budgets (``budget``). May import only ``study.errors`` and the
standard library (plus ``study.plan.data``'s list of known dataset names, read lazily by ``studyfile``
to check a study file): no planning, training, storage or rendering.
"""
