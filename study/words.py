"""Counts in words, for every stage's console lines: '1 trial', '2 trials' (no stage imports the report's words).

counted(1, "trial")    # '1 trial'
counted(1200, "image") # '1,200 images'
"""

from __future__ import annotations


def counted(n: int, noun: str, plural: str = "") -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (``plural``: an irregular plural; default noun + 's')."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
