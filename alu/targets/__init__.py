"""Targets: what they are, where they are kept, and how text is checked against them.

``target`` (the record), ``files`` (import and export formats), ``stores`` (the store
contract and ``open_store``), ``store`` (the SQLite file), ``postgres`` (PostgreSQL, for
several replicas; needs the postgres extra), ``scanner`` (the scanner interface),
``prescreen`` (the lexical scanner) and ``index`` (the live list and its ``scan``).
"""

from ..errors import TargetError
from .files import (
    FORMATS,
    MAX_FILE_BYTES,
    dump_targets,
    from_records,
    iter_targets,
    parse_targets,
    read_targets,
    stream_targets,
)
from .index import Scan, TargetIndex, TargetView
from .prescreen import CANDIDATE_THRESHOLD, PreScreen, name_pattern, redact
from .scanner import Candidate, Scanner
from .store import TargetStore
from .stores import Store, is_database_url, open_store
from .target import Enrichment, Kind, Target

__all__ = [
    "CANDIDATE_THRESHOLD",
    "FORMATS",
    "MAX_FILE_BYTES",
    "Candidate",
    "Enrichment",
    "Kind",
    "PreScreen",
    "Scan",
    "Scanner",
    "Store",
    "Target",
    "TargetError",
    "TargetIndex",
    "TargetStore",
    "TargetView",
    "dump_targets",
    "from_records",
    "is_database_url",
    "iter_targets",
    "name_pattern",
    "open_store",
    "parse_targets",
    "read_targets",
    "redact",
    "stream_targets",
]
