"""benchmarks/scale.py: its import files stay within what the store's import accepts (a
million targets take several), and ``--index-file``'s replicas, timed from spawn to a first
screen over the whole list mapped from the shared file, from the store and with the file."""

import argparse
import sys
from pathlib import Path

import pytest
from conftest import DATA_DIR

import alu.targets.files as files
from alu.stores import open_store
from alu.targets.files import read_targets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scale

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data is not here")


@needs_data
def test_import_files_are_split_within_the_import_limit_and_keep_the_list(tmp_path, monkeypatch):
    pool = scale.target_pool(DATA_DIR, 300, enriched=True)
    assert [t.model_dump() for t in scale.iter_pool(DATA_DIR, 300, enriched=True)] == [
        t.model_dump() for t in pool
    ]
    monkeypatch.setattr(files, "MAX_FILE_BYTES", files.MAX_FILE_BYTES | {"json": 20_000})
    paths = scale.write_import_files(iter(pool), tmp_path, "targets")
    assert len(paths) > 1 and all(p.stat().st_size <= 20_000 for p in paths)
    back = [t for p in paths for t in read_targets(p)]
    assert [t.model_dump(exclude={"id"}) for t in back] == [t.model_dump(exclude={"id"}) for t in pool]


@needs_data
def test_index_file_replicas_start_from_the_store_then_map_the_file(tmp_path):
    store = open_store(str(tmp_path / "targets.db"))
    store.add_many(scale.target_pool(DATA_DIR, 30))
    args = argparse.Namespace(data_dir=str(DATA_DIR))
    row: dict = {}
    try:
        scale.measure_file(args, 30, str(tmp_path / "targets.db"), store, tmp_path, row)
    finally:
        store.close()
    assert 0 < row["start_file_s"] and 0 < row["start_store_s"]
    assert row["file_per_target_b"] > 0 and row["index_pss_per_target_b"] is not None
    assert row["pss_1_mb"] > 0 and row["pss_4_mb"] > row["pss_1_mb"] and row["pss_4_x"] > 1
    assert len(list((tmp_path / "cache-30" / "index").glob("*.alu"))) == 1  # one file, shared
