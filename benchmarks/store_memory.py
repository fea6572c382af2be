"""Memory per target: importing 100,000 targets into the store, and holding them in a
server's index (the pre-screen over them), each measured in a fresh process.

Targets are generated people and topics with evidence (as in ``scale.py``), written to a
CSV file and imported by ``TargetStore.import_file`` (streamed: the file is read a line at
a time into one transaction). Beside it, the same file read whole first (``read_targets``
then ``add_many``), as imports worked before. Then ``TargetIndex.sync`` loads the store
into the index a server scans with. Memory is the process's resident set (Linux
``/proc/self/status``): the peak during each phase over what the process held before it,
and, for the index, what stays resident after.

    .venv/bin/python benchmarks/store_memory.py                 # 100,000 targets
    .venv/bin/python benchmarks/store_memory.py --targets 10000 # quicker
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _table import print_rows
from rich.console import Console

from alu.scan import TargetIndex
from alu.stores import TargetStore
from alu.targets import Target, read_targets
from alu.targets.files import export_to

MB = 1024 * 1024


def memory() -> dict[str, int]:
    """Resident (VmRSS) and peak resident (VmHWM) bytes of this process."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def reset_peak() -> None:
    """Start the peak (VmHWM) afresh from the current resident set (Linux 4.0+)."""
    Path("/proc/self/clear_refs").write_text("5")


def phase(name: str, db: Path, file: Path) -> dict:
    store = TargetStore(db)
    # What any index costs once (word frequencies, code), not per target: paid before measuring.
    TargetIndex.of([Target(name="Warm Up", evidence=["Born in Warmington in 1900."])]).scan("warm up")
    reset_peak()
    before = memory()
    started = time.perf_counter()
    if name == "import-streamed":
        count = store.import_file(file)
    elif name == "import-whole":
        targets = read_targets(file)
        store.add_many(targets)
        count = len(targets)
    else:
        index = TargetIndex(store)
        index.sync()
        count = len(index)
    seconds = time.perf_counter() - started
    after = memory()
    return {
        "phase": name,
        "targets": count,
        "seconds": seconds,
        "peak_mb": (after["VmHWM"] - before["VmRSS"]) / MB,
        "resident_mb": (after["VmRSS"] - before["VmRSS"]) / MB,
        "peak_bytes_per_target": round((after["VmHWM"] - before["VmRSS"]) / max(count, 1)),
        "resident_bytes_per_target": round((after["VmRSS"] - before["VmRSS"]) / max(count, 1)),
    }


def in_child(name: str, db: Path, file: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--db", str(db), "--file", str(file)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--out", default="results/store")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, Path(args.db), Path(args.file))))
        return
    from scale import generated

    console = Console(width=160)
    tmp = Path(tempfile.mkdtemp())
    file = tmp / "targets.csv"
    export_to(file, generated(args.targets, random.Random(0)))
    console.print(f"{args.targets:,} targets, {file.stat().st_size / MB:.1f} MB of CSV")
    rows = [
        in_child("import-streamed", tmp / "streamed.db", file),
        in_child("import-whole", tmp / "whole.db", file),
        in_child("index", tmp / "streamed.db", file),
    ]
    print_rows(console, "memory per target: import, then the server's index (fresh process each)", rows)
    streamed, whole, index = rows
    console.print(
        f"import peak: streamed {streamed['peak_bytes_per_target']:,} B/target vs read whole "
        f"{whole['peak_bytes_per_target']:,} B/target; index resident {index['resident_bytes_per_target']:,} "
        f"B/target (peak {index['peak_bytes_per_target']:,})"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "store_memory.json").write_text(json.dumps(rows, indent=2))
    console.print(f"wrote {out / 'store_memory.json'}")


if __name__ == "__main__":
    main()
