"""Run: train what the store lacks, locally or on a Dask cluster, and store each trial as it lands.

Owns the driver (``runner``: ``plan_run``, ``run_study``), where and how it trains (``execution``: one
``Execution`` record, built once from ``study run``'s flags), the store lock (``lock``) and what the user
sees while it runs (``console``). May import ``study.results`` (to write), ``study.train`` (submitted to
workers, imported lazily), ``study.plan`` and ``study.declare``; never the analysis or the report.
"""
