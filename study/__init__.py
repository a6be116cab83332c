"""study: a static report generator for neural-network parameter studies.

Run ``study --help`` for the commands; ``make report`` runs the built-in study.
"""

__version__ = "0.1.0"
