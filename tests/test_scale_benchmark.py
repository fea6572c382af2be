"""benchmarks/scale.py: its import file (JSON Lines, read back as the store imports
it), and ``--index-file``'s replicas, timed from spawn to a first screen over the whole list
mapped from the shared file, from the store and with the file."""

import argparse
import sys
from pathlib import Path

import pytest
from conftest import DATA_DIR

from alu.stores import open_store
from alu.targets.files import read_targets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scale

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data is not here")


@needs_data
def test_the_import_file_is_one_json_lines_file_that_keeps_the_list(tmp_path):
    pool = scale.target_pool(DATA_DIR, 300, enriched=True)
    assert [t.model_dump() for t in scale.iter_pool(DATA_DIR, 300, enriched=True)] == [
        t.model_dump() for t in pool
    ]
    path = scale.write_import_file(iter(pool), tmp_path, "targets")
    back = read_targets(path)
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


@needs_data
def test_the_screen_digest_reads_disguised_names_and_changes_with_what_is_found():
    import hashlib
    import json
    import random

    import screen_digest

    from alu.datasets.tofu import authors
    from alu.scan import TargetIndex

    rng = random.Random(0)
    look_alikes = {"a": ["\u0430"], "e": ["\u0435"]}  # Cyrillic а and е
    assert [screen_digest.disguise("Vasquez", how, rng, look_alikes) for how in range(8)] == [
        "V45qu3z",
        "Vas-quez",
        "V.a.s.q.u.e.z",
        "V a s q u e z",
        "zeuqsaV",
        "V\u0430squ\u0435z",
        "VASQUEZ",
        "Vasquezz",
    ]
    repo = Path(__file__).resolve().parents[1]
    texts = screen_digest.texts(DATA_DIR, repo, ["Jaime Vasquez"])[-400:]  # the disguised rows
    pool = scale.target_pool(DATA_DIR, 300)

    def digest(targets) -> str:
        index = TargetIndex.of(targets)
        found = [json.dumps(screen_digest.brief(index.scan(t))) for t in texts]
        return hashlib.sha256("\n".join(found).encode()).hexdigest()

    last = authors(DATA_DIR)[59].name  # the last author whose rows are disguised
    assert digest(pool) == digest(pool)
    assert digest(pool) != digest([t for t in pool if t.name != last])  # the screen finds otherwise
