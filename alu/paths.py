"""Where ALU keeps its files: the model cache, the target store, the config file."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Joined model files and fetched data sets (``$ALU_CACHE_DIR`` overrides)."""
    from platformdirs import user_cache_dir

    return Path(os.environ.get("ALU_CACHE_DIR") or user_cache_dir("alu"))


def data_home() -> Path:
    """The default target store lives here (``$ALU_HOME`` overrides)."""
    from platformdirs import user_data_dir

    return Path(os.environ.get("ALU_HOME") or user_data_dir("alu"))


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(os.environ.get("ALU_CONFIG") or Path(user_config_dir("alu")) / "config.toml")
