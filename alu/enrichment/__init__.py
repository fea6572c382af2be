"""Enrichment: what a model writes about each target beyond what the operator gave (its
name in other scripts, associated terms, a one-line description), checked before use and
stored with the target, apart from the operator's fields.

``checks`` (the rules a draft must pass), ``batch`` (many targets: progress, resumable,
cost), ``edit`` (the operator's own edits and removal).
"""

from .batch import Cost, enrich_one, enrich_targets, serving_enricher
from .checks import Context, checked
from .edit import edit_enrichment, remove_enrichment

__all__ = [
    "Context",
    "Cost",
    "checked",
    "edit_enrichment",
    "enrich_one",
    "enrich_targets",
    "remove_enrichment",
    "serving_enricher",
]
