"""The target list from 1 to 1,000,000: import time, index build time and memory per
target, pre-screen latency, LLM calls and tokens per query, and the time a change takes
to reach a second replica, on an in-memory list, SQLite or PostgreSQL.

Targets: TOFU's 200 authors (evidence: their QA answers) plus generated people (a name,
an alias, a sentence of evidence) and hazards (a name, a description). Queries: 20
questions about a TOFU author in the list and 20 unrelated ones (TOFU world_facts), each
screened together with its gold answer standing in for the draft, as the pipeline screens
query + draft. LLM calls and tokens come from running the whole pipeline on the scripted
model (tokens = its whitespace word count), so they count what the agents are sent.

With ``--enriched`` every target also carries a synthetic enrichment, as ``alu targets
enrich`` would leave it: 6 generated names (a Latin variant, Cyrillic, Greek, Chinese,
Japanese, Korean) and 8 associated terms, 5 of its own and 3 drawn from a shared pool with
Zipf-like weights (a few terms are shared by many targets, most by few), so the pre-screen's
p95 can be measured over enriched lists.

Each size runs in two processes, as a deployment would:

* this one generates the targets, writes them to one JSON Lines file (streamed) and
  imports it through the store's own import path, as ``alu targets import FILE.jsonl``
  would (``import_s``), then makes the changes whose propagation is timed;
* a replica (``--as-replica``, a child process) opens the store and builds its index
  (``build_s``: reading every target and indexing it), reports its resident memory
  before and after (``rss_per_target_b``, Target records included) and the index
  structures alone (``index_per_target_b``, with ``--breakdown``), times the pre-screen
  (``p50_ms``, ``p95_ms``), the screening one request costs (``request_p50_ms``,
  ``request_p95_ms``: every scan the default mode makes for it, of the question, of the
  question with its draft and of the draft, summed) and the pipeline's cost, then follows
  the store. Each change
  made here is timed from the write call (``write_ms``: until it returns) to the moment the
  replica's index has it (``propagate_ms``, median of ``--changes``; the write's own time
  included): pushed by LISTEN/NOTIFY on PostgreSQL; on
  SQLite, which cannot push, the replica checks the revision every millisecond as each
  request does.

    .venv/bin/python benchmarks/scale.py --sizes 1,100,10000            # in memory, as before
    .venv/bin/python benchmarks/scale.py --store sqlite --sizes 10000,1000000
    .venv/bin/python benchmarks/scale.py --store postgres --db postgresql://127.0.0.1/test --sizes 1000000
    .venv/bin/python benchmarks/scale.py --store sqlite --sizes 1000,100000 --enriched

With ``--index-file`` (SQLite or PostgreSQL) each size also measures the index file that
``alu serve --workers N`` and replicas on one host share (``alu/scan/indexfile.py``), with
replicas started as a server's workers start (``--as-file-replica``): the pipeline over the
store, the index kept in the store's index file in a cache folder of this run
(``$ALU_CACHE_DIR``), then a first request's sync and screen (a question about the author
every list holds, with its answer). Each start is timed from just before the process is
spawned (Python's imports, the store opened, the index loaded) to the end of that first
screen; a replica whose screen did not run over the whole list mapped from the file ends
the run (it must not answer before the file is there: fail closed).

* ``start_store_s``: the first replica, with an empty cache folder and a store that keeps
  no copy of the file: it reads every target from the store, builds the tables and writes
  the file, then answers; from 20,000 targets it then sends the store a copy
  (``alu/scan/sharedindex.py``), and ``copy_sent_s`` is how long after its first answer the
  store keeps it;
* ``start_copy_s``: a replica on another host (an empty cache folder of its own) once the
  store keeps that copy: it takes the copy instead of building a file, checked to be the
  same file;
* ``start_file_s``: a second replica, the file already on the host (and in the page
  cache: it was just written) and checked: it maps it and reads the targets from the store;
* ``file_per_target_b``: the file's size on disk per target;
* ``index_pss_per_target_b``: the PSS the index adds to that replica, alone on the host
  (the file's pages it maps and its own Target records and structures), per target: its
  PSS after the first screen less before the index was loaded (and after what any replica
  loads by its first screen, wordfreq's English list among it);
* ``pss_1_mb``: that replica's whole PSS (proportional set size: a page shared by several
  processes is divided among them, so that processes' figures add up), read from
  /proc/PID/smaps_rollup; ``pss_4_mb``: four workers on one host as ``alu serve --workers
  4`` starts them (``--as-forked-replicas``): one process loads what every worker reads
  (``alu.server.workers.preload``) and forks four replicas, which map the same file; the
  sum of the five processes' PSS once each replica has served its first request;
  ``pss_4_x``: its ratio to one replica's (4 would mean nothing shared).

    .venv/bin/python benchmarks/scale.py --store sqlite --sizes 10000,1000000 --index-file
    .venv/bin/python benchmarks/scale.py --store postgres --sizes 1000000 --index-file --enriched

With ``--baseline REV`` each size is measured a second time on another commit, in the same
run: REV is checked out as a temporary ``git worktree`` and a replica is started with
``PYTHONPATH`` pointing at it, so it imports REV's ``alu`` while running this script's
replica code (the same targets and query set; REV must offer what that code calls: ``ALU``,
``index.scan``, ``open_store``). The pre-screen latency is compared, in ``--rounds``
alternating rounds of a fresh replica per side (this tree, REV; REV, this tree; ...), so
that a busy machine's drift falls on both: ``p50_ms`` and ``p95_ms`` become this tree's
medians over the rounds, the table gains REV's ``base_p50_ms`` and ``base_p95_ms`` and the
ratios ``p50_x`` and ``p95_x`` (this tree / baseline; below 1 is faster), and the same
for a request's screening (``request_p50_x``, ``request_p95_x``; not on 5d67b8e, from
before the index). With
``--index-file`` too, a replica's start from the store alone (building and writing the
index file, each from an empty cache folder; this tree's replicas told not to take the
store's copy) is compared the same way: ``base_start_store_s``
and ``start_store_x`` (medians), with every run's time. A store (``--store sqlite``) is
written by this tree and opened by both.

    .venv/bin/python benchmarks/scale.py --sizes 1000 --baseline HEAD~1 --out /tmp/scale

The query set repeats (``--repeat`` passes over 40 texts), so after the first pass a text
meets targets the scan met before; code that kept facts of the targets met lately (from
aca1cb7 up to the commit that filed them with the index: ``alu.scan.lexical.forget_recent``,
before it the name-token cache) answered those from memory. ``--cold`` drops what such code
kept before each timed text, as in traffic where every text meets new targets, so that a
``--baseline`` of that time is timed as traffic would find it.

Run it on a quiet machine for figures; the goals (p95 < 20 ms, import < 5 min, index
under 2 GB at 1,000,000 targets) are checked and printed at the end, at the largest size
run. So are, with ``--index-file``, the index file's: a first request within 10 s of a
replica's start with the file on the host and within 120 s from the store alone (building
the file, and taking the store's copy of it), four
replicas' PSS under 1.5 times one's, and at most 1 KB per plain target and 2 KB per
enriched one (checked against both the file on disk and the PSS the index adds); these are
stated for 1,000,000 targets and judged met or not only there ("measured" otherwise).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from _table import print_rows
from rich.console import Console

from alu import ALU, Target
from alu.backends.scripted import ScriptedModel
from alu.datasets import data_dir
from alu.datasets.tofu import authors, split

SIZES = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]
PAPER_MAX = 100_000  # the paper mode sends the whole list to the agents: linear, shown up to here
SYLLABLES = (
    "ba be bi bo ka ke ki ko la le li lo ma me mi mo na ne ni no ra re ri ro sa se si so ta te ti to"
    " va ve vi vo za ze zi zo dra gor lin mar tes vel quin"
).split()
TOPIC_WORDS = (
    "synthesis protocol enrichment culture strain exploit payload precursor reactor toxin vector"
    " aerosol cipher botnet centrifuge isotope pathogen rootkit"
).split()
REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")
GOALS = {"p95_ms": 20.0, "import_s": 300.0, "index_gb": 2.0}
# --index-file: the goals at a million targets (per target: plain, enriched).
FILE_GOALS = {
    "at": 1_000_000,
    "start_file_s": 10.0,
    "start_store_s": 120.0,
    "pss_4_x": 1.5,
    "per_target_b": (1000, 2000),
}


def generated(n: int, rng: random.Random) -> list[Target]:
    """``n`` made-up targets: 9 in 10 people (name, alias, one sentence), 1 in 10 hazards."""
    return list(generate(n, rng))


def generate(n: int, rng: random.Random) -> Iterator[Target]:
    """``generated``'s targets one at a time (a million need not be held at once)."""
    for i in range(n):
        word = lambda k: "".join(rng.choice(SYLLABLES) for _ in range(k)).title()  # noqa: E731
        if i % 10 == 9:
            name = f"{word(2)} {rng.choice(TOPIC_WORDS)} {i}"
            yield Target(name=name, kind="hazard", description=f"{rng.choice(TOPIC_WORDS)} of {word(3)}")
        else:
            first, last = word(2), f"{word(3)}{i}"
            yield Target(
                name=f"{first} {last}",
                kind="person",
                aliases=[f"{first[0]}. {last}"],
                evidence=[f"Born in {word(2)}ville in {1900 + i % 120}, wrote The {word(3)} {word(2)}."],
            )


CYRILLIC = dict(zip("abcdefghijklmnopqrstuvwyz", "абцдефгхийклмнопкрстуввиз", strict=True)) | {"x": "кс"}
GREEK = dict(zip("abcdefghijklmnopqrstuvwxyz", "αβκδεφγηιζκλμνοπκρστυβωξυζ", strict=True))
HAN = "阿巴卡达埃法加哈伊贾卡拉马纳奥帕基拉萨塔乌瓦沙扎尔斯特诺维"
KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモラリルレロ"
HANGUL = "가나다라마바사아자차카타파하르스트노비"
SHARED_TERMS = (
    5_000  # the pool the shared terms come from (before the checks drop shared ones: a harder case)
)


def _mapped(name: str, table: dict[str, str]) -> str:
    return "".join(table.get(ch, ch) for ch in name.lower()).title()


def synthetic_enrichment(target: Target, rng: random.Random):
    """6 names in several scripts, 8 terms: 5 of the target's own, 3 from a shared pool."""
    from alu.targets import Enrichment  # here: a --baseline commit without enrichment runs plain lists

    words = target.name.split()
    first, last = words[0], words[-1]

    def cjk(pool: str, sep: str) -> str:
        return "".join(rng.choice(pool) for _ in range(3)) + sep + "".join(rng.choice(pool) for _ in range(3))

    word = lambda k: "".join(rng.choice(SYLLABLES) for _ in range(k)).title()  # noqa: E731
    names = [
        f"{last}, {first}" if len(words) > 1 else f"{first} {word(2)}",
        _mapped(target.name, CYRILLIC),
        _mapped(target.name, GREEK),
        cjk(HAN, "·"),
        cjk(KANA, "・"),
        cjk(HANGUL, " "),
    ]
    own = [
        f"The {word(3)} {word(2)}",
        f"{word(2)}ville",
        f"{word(3)} Prize",
        f"{word(3)}",
        f"{word(2)} Affair",
    ]
    shared = sorted(set(rng.choices(_POOL, cum_weights=_POOL_WEIGHTS, k=3)))
    return Enrichment(
        names=names, terms=own + shared, description=f"{target.name}, made up.", model="synthetic"
    )


def _pool() -> tuple[list[str], list[float]]:
    """Terms many targets may share (places, institutions, prizes), with Zipf weights: the
    term of rank r is drawn in proportion to 1/r."""
    rng = random.Random(2)
    kinds = ("Basin", "Institute", "Award", "Festival", "Dynasty", "Society", "Protocol", "Valley")
    word = lambda: "".join(rng.choice(SYLLABLES) for _ in range(3)).title()  # noqa: E731
    terms = [f"{word()} {rng.choice(kinds)}" for _ in range(SHARED_TERMS)]
    cumulative, total = [], 0.0
    for rank in range(1, SHARED_TERMS + 1):
        total += 1 / rank
        cumulative.append(total)
    return terms, cumulative


_POOL, _POOL_WEIGHTS = _pool()


def tofu_targets(root: Path) -> list[Target]:
    return [Target(name=a.name, kind="person", evidence=[r["answer"] for r in a.rows]) for a in authors(root)]


def target_pool(root: Path, n: int, enriched: bool = False) -> list[Target]:
    """The first ``n`` targets of the same list in every process (TOFU first, then generated),
    each with a synthetic enrichment when ``enriched``."""
    return list(iter_pool(root, n, enriched))


def iter_pool(root: Path, n: int, enriched: bool = False) -> Iterator[Target]:
    """``target_pool``'s targets, the same ones, made one at a time."""
    tofu = tofu_targets(root)
    pool = itertools.islice(itertools.chain(tofu, generate(max(0, n - len(tofu)), random.Random(0))), n)
    if not enriched:
        yield from pool
        return
    rng = random.Random(1)
    for t in pool:
        yield t.model_copy(update={"enrichment": synthetic_enrichment(t, rng)})


def write_import_file(targets: Iterable[Target], folder: Path, stem: str) -> Path:
    """``targets`` written as one JSON Lines import file, streamed (none is held after it is
    written): the format ``alu targets import`` reads a line at a time, a million targets
    in one file."""
    path = folder / f"{stem}.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for target in targets:
            out.write(json.dumps(target.model_dump(exclude={"id"}), ensure_ascii=False) + "\n")
    return path


def query_set(root: Path) -> tuple[str, list[tuple[str, str]]]:
    about = authors(root)[0]  # the author every list contains
    forget_q = [(r["question"], r["answer"]) for r in about.rows]
    unrelated = [(r["question"], r["answer"]) for r in split(root, "world_facts")[:20]]
    return about.name, forget_q + unrelated


def agents_script(name: str) -> ScriptedModel:
    """Agents that find the author leaked, rewrite, score 5 and compose: the full chain."""
    model = ScriptedModel(default="The answer.")
    model.on("audit_erase:audit", json.dumps({"leaked": [name]}))
    model.on("audit_erase:erase", json.dumps({"variants": ["A rewrite."] * 3}))
    model.on("critic", lambda m: json.dumps({"scores": [5] * (m[0]["content"].count("<<<\n") - 1)}))
    model.on("composer", "A composed answer.")
    model.on("audit_erase:audit+erase", json.dumps({"leaked": [name], "variants": ["A rewrite."] * 5}))
    return model


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def pss_bytes(pid: int | str = "self") -> int | None:
    """Proportional set size: resident pages, those shared with other processes (a mapped
    index file, say) divided among them, so that workers' figures add up (RSS counts a
    shared page in each). None where the kernel does not report it."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def deep_size(obj: object, seen: set[int]) -> int:
    """Bytes of ``obj`` and everything it holds that was not counted yet."""
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, set | frozenset | tuple | list):
        size += sum(deep_size(x, seen) for x in obj)
    elif hasattr(obj, "_map"):  # Postings
        size += deep_size(obj._map, seen)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):  # DeleteIndex (numpy arrays: getsizeof)
        size += deep_size(vars(obj), seen)
    return size


# -- the replica (a child process) -----------------------------------------------------
def tell_parent(event: dict) -> None:
    """One JSON line to the parent in one write: forked replicas share one pipe, where a
    write under PIPE_BUF is never interleaved with another (``print`` writes the text and
    its newline apart when Python runs unbuffered, as with PYTHONUNBUFFERED)."""
    os.write(sys.stdout.fileno(), (json.dumps(event) + "\n").encode())


def recent_forgetter() -> Callable[[], None]:
    """What drops the scan's memory of the targets it met lately (``--cold``), on a tree
    that kept one: ``forget_recent`` (2901728 up to the commit that filed the name facts
    with the index), before it the name-token cache alone. Nothing on a tree that keeps
    none."""
    from alu.scan import lexical

    forget = getattr(lexical, "forget_recent", None)
    if forget is not None:
        return forget
    cached = getattr(lexical, "_name_tokens", None)
    return cached.cache_clear if cached is not None else (lambda: None)


def replica(args: argparse.Namespace) -> None:
    """Build, measure, report one JSON line, then follow the store and report each change."""
    root = data_dir(args.data_dir)
    name, queries = query_set(root)
    model = agents_script(name)
    say = lambda **kw: tell_parent(kw)  # noqa: E731
    store = None
    ALU(model, [Target(name="Warm Up", kind="person", evidence=["Born in Paris in 1900."])]).ask("Warm up?")
    if args.db:
        from alu.stores import open_store

        store = open_store(args.db)
        alu = ALU(model, store)
        rss0 = rss_bytes()
        started = time.perf_counter()
        alu.index.sync()
    else:
        targets = target_pool(root, args.n, args.enriched)
        rss0 = rss_bytes()
        started = time.perf_counter()
        alu = ALU(model, targets)
    build_s = time.perf_counter() - started
    rss1 = rss_bytes()
    if hasattr(alu, "index"):
        index = alu.index
        screen = lambda text: index.scan(text).above(limit=5)  # noqa: E731
    else:  # a --baseline commit from before the index (5d67b8e): one PreScreen, same threshold
        index = alu.screen
        screen = lambda text: index.screen(text, limit=5)  # noqa: E731
    forget = recent_forgetter() if args.cold else None
    latencies, hits = [], 0
    for _ in range(args.repeat):
        for q, a in queries:
            if forget is not None:
                forget()
            t0 = time.perf_counter()
            found = screen(f"{q}\n{a}")
            latencies.append((time.perf_counter() - t0) * 1000)
            hits += bool(found)
    per_request = request_screen_ms(alu, model, queries, args.repeat)
    cost = {}
    for mode in ("default", "paper"):
        if args.latency_only or (mode == "paper" and len(index) > args.paper_max):
            cost[mode] = (None, None)
            continue
        calls = tokens = 0
        for q, a in queries:
            model.default = a  # the draft the vanilla agent returns
            answer = alu.ask(q, mode=mode)
            calls += answer.trace.llm_calls
            tokens += answer.trace.prompt_tokens + answer.trace.completion_tokens
        cost[mode] = (round(calls / len(queries), 2), round(tokens / len(queries), 1))
    structures = None
    if args.breakdown:
        lexical = next(s for s in index._snapshot.scanners if s.name == "lexical")
        seen: set[int] = {id(t) for t in lexical.targets.values()}  # the records are counted apart
        parts = ("_names", "_partials", "_phrases", "_terms", "_vocab", "_fuzzy_index")
        structures = sum(deep_size(getattr(lexical, p), seen) for p in parts)
    n = max(1, len(index))
    import alu as package

    say(
        event="built",
        alu_from=str(Path(package.__file__).resolve().parents[1]),
        targets=len(index),
        build_s=round(build_s, 2),
        rss_per_target_b=round((rss1 - rss0) / n),
        rss_mb=round(rss1 / 2**20),
        pss_mb=round(pss / 2**20) if (pss := pss_bytes()) is not None else None,
        index_per_target_b=round(structures / n) if structures is not None else None,
        p50_ms=round(statistics.median(latencies), 3),
        p95_ms=round(pct(latencies, 0.95), 3),
        flagged_share=round(hits / (args.repeat * len(queries)), 3),
        request_p50_ms=round(statistics.median(per_request), 3) if per_request else None,
        request_p95_ms=round(pct(per_request, 0.95), 3) if per_request else None,
        default_calls=cost["default"][0],
        default_tokens=cost["default"][1],
        paper_calls=cost["paper"][0],
        paper_tokens=cost["paper"][1],
    )
    if store is None:
        return
    index.follow()
    if index._watch is not None:
        index._watch.connected.wait(30)
    say(event="ready", revision=index.revision)
    pushed = index._watch is not None
    last = index.revision
    while True:  # until the parent closes our stdin (then we are terminated)
        if not pushed:
            index.sync()  # what each request does first
        if index.revision != last:
            last = index.revision
            say(event="seen", revision=last, at=time.monotonic())
        time.sleep(0.001 if not pushed else 0.0002)


def request_screen_ms(
    alu: ALU, model: ScriptedModel, queries: list[tuple[str, str]], repeat: int
) -> list[float]:
    """The screening one request costs, in ms: every scan the default mode makes of the
    question, the question with the draft and the draft (the gold answer standing in for
    it), summed, per request, ``repeat`` passes over the queries. Empty on a tree from
    before the index (5d67b8e), which screens otherwise."""
    if not hasattr(alu, "index"):
        return []
    cls = type(alu.index)
    scan = cls.scan
    spent = [0.0]

    def timed(self, text: str, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return scan(self, text, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t0

    found = []
    cls.scan = timed
    try:
        for _ in range(repeat):
            for q, a in queries:
                model.default = a
                spent[0] = 0.0
                answer = alu.ask(q)
                if getattr(answer.trace, "error", None):  # failed closed: not a request's cost
                    raise RuntimeError(f"a request failed: {answer.trace.error}")
                found.append(spent[0] * 1000)
    finally:
        cls.scan = scan
    return found


def file_replica(args: argparse.Namespace) -> None:
    """A replica as ``alu serve --workers N`` starts one (``--index-file``): the pipeline over
    the store, the index kept in the store's index file in the cache folder
    (``$ALU_CACHE_DIR``, set by the parent), then a first request's sync and screen. It
    reports when that screen is done, then holds its index (the file mapped) until the
    parent closes its stdin. Nothing is loaded first: its start is what is timed."""
    from alu.scan import TargetIndex
    from alu.scan.mapped import MappedScreen
    from alu.server.workers import default_index_file
    from alu.stores import open_store

    store = open_store(args.db)
    alu = ALU(ScriptedModel(default="The answer."), store)
    path = default_index_file(store.location)
    existed = path.exists()
    # What any replica loads by its first screen, whatever its list (wordfreq's English
    # list, some 40 MB): loaded here, inside the timed start, so that ``before`` leaves it
    # out of what the index adds.
    TargetIndex.of([Target(name="Warm Up", kind="person")]).scan(args.query)
    before = pss_bytes()
    if args.no_share:  # builds from the store even where it keeps a copy, and sends none
        alu.index.use_file(path, share=False)
    else:  # as a server starts one (a baseline tree without the store's copy too)
        alu.index.use_file(path)
    # A request: the sync it makes first (which maps the file, or writes it from the store
    # while the index is not ready: nothing is screened against a partial list), its screen.
    alu.index.sync()
    found = alu.index.scan(args.query).above(limit=5)
    at = time.monotonic()
    lexical = next(s for s in alu.index._snapshot.scanners if s.name == "lexical")
    tell_parent(
        {
            "event": "served",
            "at": at,
            "file": str(path),
            "existed": existed,
            "mapped": isinstance(lexical, MappedScreen) and lexical.file.path == path,
            "delta": lexical.delta_size if isinstance(lexical, MappedScreen) else None,
            "targets": len(alu.index),
            "found": bool(found),
            "pss_before": before,
            "pss": pss_bytes(),
        }
    )
    sys.stdin.read()  # until the parent closes it


def forked_replicas(args: argparse.Namespace) -> None:
    """Four replicas (``--forks``) as ``alu serve --workers N`` starts its workers: this
    process loads what every worker reads (``preload``), then forks each replica, which
    reports as ``file_replica`` does; this process reports their pids and holds them until
    the parent closes its stdin."""
    from alu.server.workers import preload

    preload()
    children = []
    for _ in range(args.forks):
        pid = os.fork()
        if pid == 0:  # a replica: it ends when the parent closes the stdin it shares
            try:
                file_replica(args)
            finally:
                os._exit(0)
        children.append(pid)
    tell_parent({"event": "forked", "pids": children})
    sys.stdin.read()
    for pid in children:
        os.waitpid(pid, 0)


# -- the driver ------------------------------------------------------------------------
class Replica:
    def __init__(
        self,
        args: argparse.Namespace,
        n: int,
        db: str | None,
        code: Path | None = None,
        latency_only: bool = False,
    ):
        """A replica process; ``code``: the source tree whose ``alu`` it imports (a baseline)."""
        env = os.environ | {"PYTHONPATH": str(code)} if code is not None else None
        command = [sys.executable, __file__, "--as-replica", "--n", str(n), "--repeat", str(args.repeat)]
        command += ["--paper-max", str(args.paper_max)]
        command += ["--db", db] if db else []
        command += ["--data-dir", args.data_dir] if args.data_dir else []
        command += ["--breakdown"] if args.breakdown else []
        command += ["--enriched"] if args.enriched else []
        command += ["--latency-only"] if latency_only else []
        command += ["--cold"] if args.cold else []
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, env=env
        )

    def next(self, event: str) -> dict:
        for line in self.process.stdout:
            message = json.loads(line)
            if message.get("event") == event:
                return message
        raise RuntimeError(f"the replica ended before {event!r} (exit {self.process.wait()})")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def file_query(args: argparse.Namespace) -> str:
    """What a file replica's first request screens: a question about the author every list
    holds, and its answer."""
    _, queries = query_set(data_dir(args.data_dir))
    return "\n".join(queries[0])


class FileReplica:
    """A ``file_replica`` process, timed from just before it is spawned."""

    def __init__(
        self,
        setting: str,
        cache: Path,
        query: str,
        forks: int = 0,
        code: Path | None = None,
        share: bool = True,
    ):
        """``forks``: that many replicas forked from one process that loaded what they all
        read (``forked_replicas``), instead of one; ``code``: the source tree whose ``alu``
        it imports (a baseline); ``share``: off, it neither takes the store's copy of the
        index file nor sends one (this tree only)."""
        mode = ["--as-forked-replicas", "--forks", str(forks)] if forks else ["--as-file-replica"]
        command = [sys.executable, __file__, *mode, "--db", setting, "--query", query]
        command += [] if share else ["--no-share"]
        env = os.environ | {"ALU_CACHE_DIR": str(cache)}
        if code is not None:
            env["PYTHONPATH"] = str(code)
        self.spawned = time.monotonic()
        self.forked: list[int] = []  # the replicas' pids, when forked
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, env=env
        )

    def served(self, targets: int) -> dict:
        """Its report once its first request is screened, checked: the file mapped, every
        target in the index, the query's author found."""
        for line in self.process.stdout:
            report = json.loads(line)
            if report.get("event") == "served":
                break
            if report.get("event") == "forked":
                self.forked = report["pids"]
        else:
            raise RuntimeError(f"a replica ended before its first request (exit {self.process.wait()})")
        report["start_s"] = report["at"] - self.spawned
        if not (
            report["mapped"] and report["delta"] == 0 and report["targets"] == targets and report["found"]
        ):
            raise RuntimeError(f"a replica served its first request without its whole index: {report}")
        return report

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.terminate()
        self.process.wait(30)


def measure_file(args: argparse.Namespace, n: int, setting: str, store, tmp: Path, row: dict) -> None:
    """The index file (``--index-file``): a replica's start to its first request from the
    store alone (it writes the file) and with the file there, the file's size, and the
    memory (PSS) of one replica and of four mapping the file together."""
    # Here, not at the top: a replica runs this script over a baseline tree that may lack them.
    from alu.scan.indexfile import read_header
    from alu.scan.sharedindex import SEND_FROM

    cache = tmp / f"cache-{n}"  # empty: no index file yet
    targets = store.count()
    query = file_query(args)

    def started(count: int) -> list[tuple[FileReplica, dict]]:
        replicas = []
        try:
            for _ in range(count):
                replicas.append(FileReplica(setting, cache, query))
            return [(r, r.served(targets)) for r in replicas]
        except BaseException:
            for r in replicas:
                r.stop()
            raise

    ((cold, first),) = started(1)
    try:
        if first["existed"]:
            raise RuntimeError(f"{first['file']} was there before the first replica started")
        file = Path(first["file"])
        written = file.stat()
        # Read, not mapped: a page this process mapped would halve the replicas' PSS below.
        built = read_header(file)
        sent = wait_for_copy(store, built["revision"]) if targets >= SEND_FROM else None
    finally:
        cold.stop()
    if sent is not None:
        # Another host: an empty cache folder, the store keeping the first replica's copy.
        host = tmp / f"cache-{n}-another-host"
        other = FileReplica(setting, host, query)
        try:
            took = other.served(targets)
        finally:
            other.stop()
        taken = read_header(took["file"])
        if took["existed"] or (taken["revision"], taken["checksum"]) != (
            built["revision"],
            built["checksum"],
        ):
            raise RuntimeError(f"the replica on another host did not take the store's copy: {took}")
        shutil.rmtree(host, ignore_errors=True)
        row["copy_sent_s"] = round(sent - first["at"], 2)
        row["start_copy_s"] = round(took["start_s"], 2)
    ((warm, mapped),) = started(1)
    pss_1 = pss_bytes(warm.process.pid)
    warm.stop()
    group = FileReplica(setting, cache, query, forks=4)  # as alu serve --workers 4 starts them
    try:
        for _ in range(4):
            group.served(targets)
        while not group.forked:  # the forking process's own report, should it come last
            report = json.loads(group.process.stdout.readline() or "{}")
            group.forked = report.get("pids", []) if report else ["ended"]
        pss_4 = [pss_bytes(pid) for pid in [group.process.pid, *group.forked]]
    finally:
        group.stop()
    now = file.stat()
    if not mapped["existed"] or (now.st_ino, now.st_mtime_ns) != (written.st_ino, written.st_mtime_ns):
        raise RuntimeError(f"{file} was written again by a replica that should have mapped it")
    row["start_store_s"] = round(first["start_s"], 2)
    row["start_file_s"] = round(mapped["start_s"], 2)
    row["file_per_target_b"] = round(written.st_size / max(1, targets))
    row["index_pss_per_target_b"] = round((mapped["pss"] - mapped["pss_before"]) / max(1, targets))
    if pss_1 is not None and None not in pss_4:
        row["pss_1_mb"] = round(pss_1 / 2**20)
        row["pss_4_mb"] = round(sum(pss_4) / 2**20)
        row["pss_4_x"] = round(sum(pss_4) / pss_1, 2)


def wait_for_copy(store, revision: int, timeout: float = 1800.0) -> float:
    """When (``time.monotonic``) the store first keeps a copy of the index file as of
    ``revision``, which the replica that built it sends once it serves."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        copy = store.index_copy()
        if copy is not None and copy.revision >= revision:
            return time.monotonic()
        time.sleep(0.2)
    raise RuntimeError(f"the store kept no copy of the index file {timeout:.0f} s after it was built")


def open_fresh_store(kind: str, tmp: Path, n: int, db: str | None):
    """A new, empty store of ``kind``; returns it and the ``db`` setting that opens it."""
    from alu.stores import open_store

    if kind == "sqlite":
        setting = str(tmp / f"targets-{n}.db")
    else:
        schema = f"alu_scale_{uuid.uuid4().hex[:8]}"
        setting = f"{db}{'&' if '?' in db else '?'}schema={schema}&timeout=30"
    return open_store(setting), setting


def drop(kind: str, store, setting: str) -> None:
    store.close()
    if kind == "postgres":
        import psycopg

        from alu.pgsql import Database

        parsed = Database.parse(setting)
        with psycopg.connect(parsed.dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{parsed.schema}" CASCADE')


def git(*args: str, what: str) -> str:
    """A git command in this repository; its error, in one line after ``what``, ends the run."""
    done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: {what}: {(done.stderr.strip().splitlines() or ['git failed'])[-1]}")
    return done.stdout.strip()


def baseline_tree(rev: str, tmp: Path) -> tuple[Path, str]:
    """``rev`` checked out as a temporary git worktree under ``tmp``, and its short commit id."""
    commit = git("rev-parse", "--verify", "--short", f"{rev}^{{commit}}", what=f"--baseline {rev}")
    path = tmp / "baseline"
    git("worktree", "add", "--detach", str(path), commit, what=f"--baseline {rev}: git worktree add")
    return path, commit


def remove_tree(path: Path) -> None:
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)], capture_output=True)


def latency(args: argparse.Namespace, n: int, setting: str | None, code: Path | None) -> dict:
    """One replica's pre-screen latency only; ``code``: the tree whose ``alu`` it imports."""
    child = Replica(args, n, setting, code, latency_only=True)
    try:
        built = child.next("built")
    finally:
        child.stop()
    expected = (code or REPO).resolve()
    if Path(built["alu_from"]) != expected:
        raise RuntimeError(f"a replica imported alu from {built['alu_from']}, not {expected}")
    return built


def alternating(rounds: int, code: Path, run: Callable[[Path | None], T]) -> tuple[list[T], list[T]]:
    """``run`` on this tree (None) and on the baseline's ``code``, ``rounds`` times each in
    alternating order (A B, B A, A B...: a loaded machine's drift falls on both sides)."""
    ours: list[T] = []
    theirs: list[T] = []
    for i in range(rounds):
        order = [(ours, None), (theirs, code)] if i % 2 == 0 else [(theirs, code), (ours, None)]
        for sink, tree in order:
            sink.append(run(tree))
    return ours, theirs


def measure_start_baseline(
    args: argparse.Namespace, n: int, setting: str, store, tmp: Path, code: Path, row: dict
) -> None:
    """A replica's start from the store alone (it builds and writes the index file) on this
    tree and on the baseline's code, in ``--rounds`` alternating rounds, each from an empty
    cache folder; each side's median and their ratio (``start_store_x``)."""
    targets, query = store.count(), file_query(args)
    runs = iter(range(2 * args.rounds))

    def cold_start(tree: Path | None) -> float:
        cache = tmp / f"cache-start-{n}-{next(runs)}"  # empty: the replica writes the file
        # This tree's replica told not to take the store's copy; a baseline's knows of none.
        replica = FileReplica(setting, cache, query, code=tree, share=tree is not None)
        try:
            return replica.served(targets)["start_s"]
        finally:
            replica.stop()
            shutil.rmtree(cache, ignore_errors=True)

    ours, theirs = alternating(args.rounds, code, cold_start)
    mine, base = statistics.median(ours), statistics.median(theirs)
    row["start_store_runs_s"] = [round(t, 1) for t in ours]
    row["base_start_store_runs_s"] = [round(t, 1) for t in theirs]
    row["base_start_store_s"] = round(base, 2)
    row["start_store_x"] = round(mine / base, 2) if base else None


def measure_baseline(args: argparse.Namespace, n: int, setting: str | None, code: Path, row: dict) -> None:
    """The same size's pre-screen latency on this tree and on the baseline's code, in
    ``--rounds`` alternating rounds (A B, B A, A B...: a loaded machine's drift falls on
    both), each side's median over rounds, and their ratio."""
    ours, theirs = alternating(args.rounds, code, lambda tree: latency(args, n, setting, tree))
    for q in ("p50_ms", "p95_ms", "request_p50_ms", "request_p95_ms"):
        if any(r.get(q) is None for r in ours + theirs):
            continue  # a baseline from before the index, or before the figure
        mine = statistics.median(r[q] for r in ours)
        base = statistics.median(r[q] for r in theirs)
        row[q], row[f"base_{q}"] = mine, base
        row[f"{q.removesuffix('_ms')}_x"] = round(mine / base, 2) if base else None


def measure(
    args: argparse.Namespace, n: int, tmp: Path, console: Console, baseline: Path | None = None
) -> dict:
    row: dict = {"store": args.store, "targets": n, "enriched": "yes" if args.enriched else "no"}
    if args.cold:
        row["cold"] = "yes"
    setting = store = None
    if args.store != "memory":
        root = data_dir(args.data_dir)
        path = write_import_file(iter_pool(root, n, args.enriched), tmp, f"targets-{n}")
        store, setting = open_fresh_store(args.store, tmp, n, args.db)
        started = time.perf_counter()
        store.import_file(path)  # one transaction, as `alu targets import FILE.jsonl`
        row["import_s"] = round(time.perf_counter() - started, 2)
        path.unlink()
        console.print(f"{n:,} targets imported into {args.store} in {row['import_s']} s")
    child = Replica(args, n, setting)
    try:
        built = child.next("built")
        row |= {k: v for k, v in built.items() if k not in ("event", "alu_from")}
        if store is not None:
            child.next("ready")
            delays, writes = [], []
            for i in range(args.changes):
                asked = time.monotonic()
                if i % 2 == 0:
                    store.add(Target(name=f"Propagation Probe{i}", kind="person"))
                else:
                    store.remove(f"Propagation Probe{i - 1}")
                writes.append((time.monotonic() - asked) * 1000)
                seen = child.next("seen")
                delays.append((seen["at"] - asked) * 1000)  # the replica may see it before we return
            row["write_ms"] = round(statistics.median(writes), 2)
            row["propagate_ms"] = round(statistics.median(delays), 2)
        child.stop()
        if args.index_file:
            measure_file(args, n, setting, store, tmp, row)
        if baseline is not None:
            measure_baseline(args, n, setting, baseline, row)
            if args.index_file:
                measure_start_baseline(args, n, setting, store, tmp, baseline, row)
    finally:
        child.stop()
        if store is not None:
            drop(args.store, store, setting)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES[:-1])))
    parser.add_argument("--store", choices=["memory", "sqlite", "postgres"], default="memory")
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/test", help="--store postgres")
    parser.add_argument("--out", default="results/scale")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the query set")
    parser.add_argument("--changes", type=int, default=10, help="changes timed to the second replica")
    parser.add_argument("--paper-max", type=int, default=PAPER_MAX, help="largest list for the paper mode")
    parser.add_argument("--breakdown", action="store_true", help="also size the index structures alone")
    parser.add_argument("--enriched", action="store_true", help="targets carry a synthetic enrichment")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also measure each size on commit REV (a temporary git worktree, imported by a replica "
        "with PYTHONPATH pointing at it) and print the p50/p95 ratios, this tree / REV",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="--baseline: alternating latency rounds per side (medians)"
    )
    parser.add_argument(
        "--index-file",
        action="store_true",
        help="also time a replica's start to its first request over the shared index file (from the "
        "store alone, writing it; with it there) and read the PSS of one replica and of four",
    )
    parser.add_argument("--as-replica", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--as-file-replica", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--as-forked-replicas", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--forks", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--query", default="", help=argparse.SUPPRESS)
    parser.add_argument("--latency-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-share", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="drop what the scan keeps of the targets it met lately before each timed text (the query set "
        "repeats, so by default every pass after the first meets targets met before)",
    )
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_replica:
        args.db = args.db if "--db" in sys.argv else None
        replica(args)
        return
    if args.as_file_replica:
        file_replica(args)
        return
    if args.as_forked_replicas:
        forked_replicas(args)
        return
    if args.index_file and args.store == "memory":
        parser.error("--index-file needs a store the replicas share: --store sqlite or postgres")
    sizes = [int(s) for s in args.sizes.split(",")]
    console = Console(width=200)
    rows = []
    title = f"target list size on {args.store}: import, index, latency, cost, propagation"
    with tempfile.TemporaryDirectory() as tmp:
        baseline = None
        if args.baseline:
            baseline, commit = baseline_tree(args.baseline, Path(tmp))
            title += f"; baseline {args.baseline} ({commit}), x = this tree / baseline"
        try:
            for n in sizes:
                rows.append(measure(args, n, Path(tmp), console, baseline))
                console.print(f"{n:,} targets: {rows[-1]}")
        finally:
            if baseline is not None:
                remove_tree(baseline)
    print_rows(console, title, rows)
    first, last = rows[0], rows[-1]
    console.print(
        f"ratios {last['targets']:,} vs {first['targets']:,} targets: "
        f"pre-screen p95 x{last['p95_ms'] / first['p95_ms']:.1f}, "
        f"default calls/query x{last['default_calls'] / first['default_calls']:.2f}, "
        f"default tokens/query x{last['default_tokens'] / first['default_tokens']:.2f}"
    )
    check_goals(console, last)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = ("scale" if args.store == "memory" else f"scale-{args.store}") + (
        "-enriched" if args.enriched else ""
    )
    (out / f"{name}.json").write_text(json.dumps(rows, indent=2))
    plot(rows, out / f"{name}.png")
    console.print(f"wrote {out / name}.json and .png")


def check_goals(console: Console, row: dict) -> None:
    """The issue's goals, at the largest size measured (they are stated for 1,000,000)."""
    n = row["targets"]
    index_gb = row["rss_per_target_b"] * 1_000_000 / 1e9
    checks = [
        (f"pre-screen p95 {row['p95_ms']} ms", row["p95_ms"] < GOALS["p95_ms"], "< 20 ms"),
        (f"replica memory {index_gb:.2f} GB per million targets", index_gb < GOALS["index_gb"], "< 2 GB"),
    ]
    if "import_s" in row:
        per_million = row["import_s"] * 1_000_000 / n
        checks.append(
            (f"import {per_million:.0f} s per million targets", per_million < GOALS["import_s"], "< 300 s")
        )
    for what, ok, goal in checks:
        console.print(f"goal {goal}: {what} at {n:,} targets -> {'met' if ok else 'NOT met'}")
    # The index file's goals (--index-file): stated for a million targets, judged only there.
    enriched = row["enriched"] == "yes"
    per_target = FILE_GOALS["per_target_b"][enriched]
    per = f"B per {'enriched' if enriched else 'plain'} target"
    file_checks = [
        ("start_file_s", FILE_GOALS["start_file_s"], "s", "first request, the index file on the host"),
        ("start_store_s", FILE_GOALS["start_store_s"], "s", "first request from the store alone, building"),
        (
            "start_copy_s",
            FILE_GOALS["start_store_s"],
            "s",
            "first request from the store alone, taking its copy of the file",
        ),
        ("pss_4_x", FILE_GOALS["pss_4_x"], "x", "PSS of four replicas on one host / one replica's"),
        ("file_per_target_b", per_target, per, "index file on disk"),
        (
            "index_pss_per_target_b",
            per_target,
            per,
            "PSS the index adds to a replica (Target records included)",
        ),
    ]
    for key, limit, unit, what in file_checks:
        if row.get(key) is None:
            continue
        value = row[key]
        goal = f"< {limit}x" if key == "pss_4_x" else f"<= {limit:,} {unit}"
        if n == FILE_GOALS["at"]:
            verdict = "met" if (value < limit if key == "pss_4_x" else value <= limit) else "NOT met"
        else:
            verdict = f"measured (the goal is for {FILE_GOALS['at']:,})"
        console.print(f"goal {goal}: {what}: {value:,} {unit} at {n:,} targets -> {verdict}")


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["targets"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot(n, [r["p50_ms"] for r in rows], "o-", label="p50")
    a.plot(n, [r["p95_ms"] for r in rows], "s-", label="p95")
    a.axhline(GOALS["p95_ms"], color="grey", ls="--", label="goal: p95 < 20 ms")
    a.set(xscale="log", xlabel="targets", ylabel="ms per query", title="pre-screen latency")
    a.legend()
    b.plot(n, [r["default_tokens"] for r in rows], "o-", label="default mode")
    paper = [(x, r["paper_tokens"]) for x, r in zip(n, rows, strict=True) if r["paper_tokens"] is not None]
    if paper:
        b.plot(*zip(*paper, strict=True), "s-", label="paper mode")
    b.set(
        xscale="log",
        yscale="log",
        xlabel="targets",
        ylabel="tokens per query (agents' prompts + outputs)",
        title="LLM tokens per query",
    )
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
