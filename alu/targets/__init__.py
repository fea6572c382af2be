"""Targets: what they are and how they are read from and written to files.

``target`` (the record) and ``files`` (import and export formats). Where targets are kept
is ``alu.stores``; how text is checked against them is ``alu.scan``.
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
from .target import (
    Enrichment,
    Examples,
    FingerprintItem,
    HazardClassifier,
    Kind,
    ModelKnowledge,
    ProbeAnswer,
    Target,
    Verification,
    VerifiedProbe,
)

__all__ = [
    "FORMATS",
    "MAX_FILE_BYTES",
    "Enrichment",
    "Examples",
    "FingerprintItem",
    "HazardClassifier",
    "Kind",
    "ModelKnowledge",
    "ProbeAnswer",
    "Target",
    "TargetError",
    "Verification",
    "VerifiedProbe",
    "dump_targets",
    "from_records",
    "iter_targets",
    "parse_targets",
    "read_targets",
    "stream_targets",
]
