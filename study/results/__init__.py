"""Results: the SQLite store and the typed, tidy views every later stage reads.

Owns the store (``store``: the only module with SQL), the outcome rule and one summary row per trial
(``outcomes``), the tidy tables (``tables``: plan, epochs, export, listing) and the TensorBoard export
(``tensorboard``, which writes TensorFlow event files and so imports TensorFlow lazily). May import
``study.plan`` and ``study.declare``; never the runner, the analysis or the report.
"""
