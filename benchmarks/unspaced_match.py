"""Names in unspaced scripts (CJK) found in a long text: the scanner's probe per name length
against the two-character buckets it replaced and an Aho-Corasick automaton
(``pyahocorasick``), as issue 18 asked.

Names: the synthetic enrichment's Chinese, Japanese and Korean names (benchmarks/scale.py)
of ``--sizes`` targets. Texts: 20,000 characters drawn from the very characters those names
use (the worst case for buckets keyed by a name's first two characters) and from common
Chinese characters. Printed: the time to build each matcher and to scan each text (median
of ``--repeat``), and whether all three find the same names.

    .venv/bin/python benchmarks/unspaced_match.py --sizes 1000,100000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import ahocorasick
from _table import print_rows
from rich.console import Console
from scale import HAN, HANGUL, KANA, generated, synthetic_enrichment

from alu import Target
from alu.scan.unspaced import ScriptScanner, normal, unspaced_names

COMMON = "的一是不了人在有我他这中大来上个国到说们为子和地也时道出就要以会可你对生能而"


def names_of(n: int) -> list[str]:
    rng = random.Random(1)
    targets = [t.model_copy(update={"enrichment": synthetic_enrichment(t, rng)}) for t in generated(n, rng)]
    return sorted({k for t in targets for k in unspaced_names(t)})


def buckets(names: list[str]):
    by_start: dict[str, list[str]] = {}
    for key in names:
        by_start.setdefault(key[:2], []).append(key)

    def scan(t: str) -> set[str]:
        return {k for i in range(len(t) - 1) for k in by_start.get(t[i : i + 2], ()) if t.startswith(k, i)}

    return scan


def automaton(names: list[str]):
    a = ahocorasick.Automaton()
    for key in names:
        a.add_word(key, key)
    a.make_automaton()
    return lambda t: {key for _, key in a.iter(t)}


def _scanner(targets: list[Target]):
    """The scanner itself, one target per name (the targets made before the clock starts)."""
    scanner = ScriptScanner()
    for target in targets:
        scanner.add(target)
    return lambda t: {s.key for c in scanner.scan(t) for s in c.signals}


def plant(text: str, names: list[str], rng: random.Random, count: int = 20) -> str:
    """``text`` with ``count`` of the names written into it at random places."""
    chars = list(text)
    for name in rng.sample(names, count):
        at = rng.randrange(len(chars))
        chars[at : at + len(name)] = name
    return "".join(chars)


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--chars", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(7)
    texts = {
        "name characters": "".join(rng.choice(HAN + KANA + HANGUL) for _ in range(args.chars)),
        "common Chinese": "".join(rng.choice(COMMON) for _ in range(args.chars)),
    }
    rows = []
    for n in map(int, args.sizes.split(",")):
        names = names_of(n)
        planted = {label: plant(text, names, rng) for label, text in texts.items()}
        targets = [Target(id=number, name=key) for number, key in enumerate(names, 1)]
        for label, make in (("buckets", buckets), ("aho-corasick", automaton), ("length probes", _scanner)):
            start = time.perf_counter()
            scan = make(targets if make is _scanner else names)
            build_ms = (time.perf_counter() - start) * 1000
            row = {"targets": n, "names": len(names), "matcher": label, "build_ms": round(build_ms, 1)}
            for text_label, text in planted.items():
                t = normal(text)
                row[f"{text_label} ms"] = round(timed(lambda t=t, scan=scan: scan(t), args.repeat), 1)
                row[f"{text_label} found"] = len(scan(t))
            rows.append(row)
    print_rows(Console(), f"CJK names in {args.chars:,} characters", rows)


if __name__ == "__main__":
    main()
