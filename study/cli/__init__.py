"""The ``study`` command line (``main``) and its helpers (``shapes``); the top of the pipeline.

It may import every stage, lazily inside each command so that ``study report`` never loads TensorFlow.
"""

from study.cli.main import cli, main

__all__ = ["cli", "main"]
