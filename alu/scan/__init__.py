"""How text is checked against the targets: the scanner interface (``base``), the lexical
pre-screen (``lexical``, with ``written``: how a match is written; ``fuzzy``: misspellings;
``postings``: keyed lookups), names inside unspaced scripts (``unspaced``), and the live
list every request scans (``index``)."""

from .base import Candidate, Scanner, Signal
from .index import MAX_SCREEN_CHARS, Scan, TargetIndex, TargetView, TextTooLong
from .lexical import CANDIDATE_THRESHOLD, PreScreen
from .names import name_pattern, redact

__all__ = [
    "CANDIDATE_THRESHOLD",
    "MAX_SCREEN_CHARS",
    "Candidate",
    "PreScreen",
    "Scan",
    "Scanner",
    "Signal",
    "TargetIndex",
    "TargetView",
    "TextTooLong",
    "name_pattern",
    "redact",
]
