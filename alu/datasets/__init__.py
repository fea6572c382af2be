"""Benchmark data sets, each a small loader registered by name.

Data is read from a folder: ``--data-dir``, else ``$ALU_DATA_DIR``, else ``../shared/data``
beside the working directory or the checkout, when it exists.
"""

from __future__ import annotations

import os
from pathlib import Path


class DataError(FileNotFoundError):
    """A data set that is not where it should be, or not in the expected shape."""


def data_dir(explicit: str | Path | None = None) -> Path:
    candidates = [
        explicit,
        os.environ.get("ALU_DATA_DIR"),
        Path.cwd().parent / "shared" / "data",
        Path(__file__).resolve().parents[3] / "shared" / "data",
    ]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    raise DataError("no data folder: pass --data-dir or set ALU_DATA_DIR (looked for ../shared/data)")
