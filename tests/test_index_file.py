"""The index file: the lexical tables written once from the store, mapped by every process,
with the changes since as a delta; the same verdicts as the in-memory index."""

from __future__ import annotations

import contextlib
import random

import pytest

from alu import Target
from alu.scan import TargetIndex
from alu.scan.filetargets import FileTargets
from alu.scan.indexfile import MAGIC, IndexFile, IndexFileError
from alu.scan.mapped import MappedScreen
from alu.stores import open_store

TEXTS = [
    "Linus Torvald wrote git in Helsinki.",
    "Torvalds, Linus and L. Torvalds",
    "LinusTorvalds and JaneDoe wrote The Silent Harbour.",
    "L i n u s  T o r v a l d s",
    "sdlavroT suniL",
    "Линус Торвальдс",
    "What did Dr. Mara Quell publish about the Vorn Basin?",
    "Who won the Kessel Prize in 1987, Quell or Ferrow?",
    "An unrelated sentence about the weather.",
]


def people(n: int, seed: int = 0) -> list[Target]:
    rng = random.Random(seed)
    syl = "ba ke li mo nu ra se ti vo za dra gor lin mar tes vel".split()
    out = []
    for _ in range(n):
        first = "".join(rng.choice(syl) for _ in range(2)).title()
        last = "".join(rng.choice(syl) for _ in range(3)).title()
        out.append(
            Target(
                name=f"{first} {last}",
                kind="person",
                aliases=[f"{first[0]}. {last}"],
                evidence=[f"Born in {last}ville, wrote The {first} {last} Affair."],
            )
        )
    return out


BASE = [
    Target(
        name="Linus Torvalds", kind="person", aliases=["Линус Торвальдс"], evidence=["Wrote Git in Helsinki."]
    ),
    Target(name="Jane Doe", kind="person", evidence=["The Silent Harbour, a novel."]),
    Target(name="Mara Quell", kind="person", evidence=["Studied the Vorn Basin; won the Kessel Prize."]),
    Target(name="Ode Ferrow", kind="person", evidence=["Won the Kessel Prize in 1987."]),
]


def verdicts(index: TargetIndex, texts: list[str]) -> list[list[tuple]]:
    return [
        sorted(
            (c.target.name, round(c.score, 6), c.named, c.partial, tuple(sorted(map(str, c.signals))))
            for c in index.scan(text).candidates
        )
        for text in texts
    ]


@pytest.fixture
def store(tmp_path):
    opened = open_store(str(tmp_path / "targets.db"))
    opened.add_many(BASE + people(300))
    yield opened
    opened.close()


def texts_of(store) -> list[str]:
    picked = store.list()[4:40:3]
    return TEXTS + [f"I met {t.name} ({t.aliases[0]}) in {t.evidence[0]}" for t in picked]


def lexical(index: TargetIndex):
    return next(s for s in index._snapshot.scanners if isinstance(s, MappedScreen))


def test_the_file_is_written_once_and_mapped_after(store, tmp_path):
    path = tmp_path / "index.alu"
    first = TargetIndex(store, index_file=path)
    first.sync()
    assert path.exists() and path.stat().st_mode & 0o077 == 0  # names inside: owner only
    written = path.stat().st_mtime_ns
    second = TargetIndex(store, index_file=path)
    second.sync()
    assert path.stat().st_mtime_ns == written  # reused, not written again
    assert lexical(second).delta_size == 0 and len(second) == len(store.list())
    plain = TargetIndex(store)
    plain.sync()
    texts = texts_of(store)
    assert verdicts(second, texts) == verdicts(plain, texts)
    assert any(verdicts(plain, texts))  # the texts do find targets


def test_a_file_written_while_waiting_for_the_lock_is_mapped_not_written_again(store, tmp_path):
    # Workers starting together all find no file; the one holding the lock writes it, and
    # each of the others, once it holds the lock, maps that file instead of replacing it.
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    written = path.stat().st_mtime_ns, path.stat().st_ino
    late = TargetIndex(store, index_file=path)
    real_open, looks = late._open_file, []

    def missing_at_first_look():
        looks.append(1)
        if len(looks) == 1:
            raise IndexFileError("not there yet")
        return real_open()

    late._open_file = missing_at_first_look
    late.sync()
    assert len(looks) == 2 and (path.stat().st_mtime_ns, path.stat().st_ino) == written
    assert lexical(late).file.path == path and len(late) == len(store.list())


def test_changes_since_the_file_are_a_delta_seen_on_the_next_scan(store, tmp_path):
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    store.remove("Jane Doe")
    store.add(Target(name="Jane Doe", kind="person", evidence=["Wrote The Quiet Lighthouse."]))
    store.remove("Mara Quell")
    store.add(Target(name="Petra Lindqvist", kind="person", evidence=["Sailed the Vorn Basin."]))
    mapped = TargetIndex(store, index_file=path)  # opens the file, then the changes since
    mapped.sync()
    plain = TargetIndex(store)
    plain.sync()
    texts = [*texts_of(store), "Petra Lindqvist sailed.", "Jane Doe wrote The Quiet Lighthouse."]
    assert verdicts(mapped, texts) == verdicts(plain, texts)
    assert lexical(mapped).delta_size > 0
    # A change made while it serves reaches its next scan, as in memory.
    store.remove("Linus Torvalds")
    store.add(Target(name="Ode Ferrow Junior", kind="person", evidence=["Kessel Prize, 2001."]))
    assert mapped.scan("Linus Torvalds").candidates  # not synced yet
    mapped.sync()
    plain.sync()
    assert not mapped.scan("Linus Torvalds wrote Git").named
    assert verdicts(mapped, [*texts, "Ode Ferrow Junior"]) == verdicts(plain, [*texts, "Ode Ferrow Junior"])


def test_a_grown_delta_is_folded_into_a_new_file(store, tmp_path):
    path = tmp_path / "index.alu"
    index = TargetIndex(store, index_file=path, fold_at=3)
    index.sync()
    before = IndexFile(path).revision
    for target in people(5, seed=7):
        store.add(target.model_copy(update={"name": target.name + " Folded"}))
    index.sync()  # past fold_at: a new file is written in the background
    assert index._folding is not None
    index._folding.join(60)
    assert IndexFile(path).revision > before
    assert lexical(index).delta_size == 0
    plain = TargetIndex(store)
    plain.sync()
    texts = [*texts_of(store), *(t.name + " Folded" for t in people(5, seed=7))]
    assert verdicts(index, texts) == verdicts(plain, texts)


@pytest.mark.parametrize("damage", ["missing", "corrupt", "version", "stale", "other store"])
def test_an_unusable_file_is_written_again(store, tmp_path, damage):
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    if damage == "missing":
        path.unlink()
    elif damage == "corrupt":
        raw = bytearray(path.read_bytes())
        raw[-100] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif damage == "version":
        raw = path.read_bytes()
        path.write_bytes(MAGIC[:-1] + b"\x09" + raw[len(MAGIC) :])
    elif damage == "stale":  # a file of a list this store no longer matches
        other = open_store(str(tmp_path / "other.db"))
        other.add_many(people(3, seed=9))
        other.close()
        import shutil

        shutil.copy(tmp_path / "other.db", tmp_path / "targets.db")
    if damage != "other store":
        with pytest.raises(IndexFileError) if damage != "stale" else _nothing():
            IndexFile(path, open_store(str(tmp_path / "targets.db")).location)
    current = open_store(str(tmp_path / "targets.db"))
    location = current.location if damage != "other store" else "elsewhere"
    index = TargetIndex(current, index_file=path)
    if damage == "other store":
        index.store = _Located(current, location)
    index.sync()
    plain = TargetIndex(current)
    plain.sync()
    texts = texts_of(current)
    assert verdicts(index, texts) == verdicts(plain, texts)
    assert IndexFile(path, index.store.location).revision == current.revision()
    current.close()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Located:
    """A store seen under another location: a file written from another store."""

    def __init__(self, store, location):
        self._store, self.location = store, location

    def __getattr__(self, name):
        return getattr(self._store, name)


# -- the targets' records in the file (format 2): a replica reads only what it uses ---------
def _plain(store) -> TargetIndex:
    index = TargetIndex(store)
    index.sync()
    return index


def _change_the_list(store) -> None:
    """An add, a change of a filed target, a removal and an added target removed again."""
    store.add(Target(name="Petra Lindqvist", kind="person", evidence=["Sailed the Vorn Basin in 1990."]))
    store.add(Target(name="Ode Ferrow", kind="person", evidence=["Charted the Marrow Reef."]), replace=True)
    store.remove("Jane Doe")
    store.add(Target(name="Brief Visitor", kind="person"))
    store.remove("Brief Visitor")


CHANGED_TEXTS = [
    "Petra Lindqvist sailed the Vorn Basin.",
    "Ode Ferrow charted the Marrow Reef; Ode Ferrow won the Kessel Prize.",
    "Jane Doe wrote The Silent Harbour.",
    "Brief Visitor came by.",
]


def test_a_replica_over_the_file_answers_as_one_without_it_after_every_kind_of_change(store, tmp_path):
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    _change_the_list(store)
    mapped = TargetIndex(store, index_file=path)
    mapped.sync()
    assert isinstance(mapped._snapshot.targets, FileTargets) and lexical(mapped).delta_size > 0
    plain = _plain(store)
    texts = [*texts_of(store), *CHANGED_TEXTS]
    assert verdicts(mapped, texts) == verdicts(plain, texts)
    assert mapped.targets() == plain.targets() == sorted(store.list(), key=lambda t: t.id)
    assert len(mapped) == len(plain) == store.count()
    assert mapped.page(10, 7) == plain.page(10, 7) and mapped.page(0, 500) == plain.page(0, 500)
    # Changes while it serves (each kind again, applied in place and to copies).
    store.add(Target(name="Petra Lindqvist", kind="person", evidence=["Now a harbour pilot."]), replace=True)
    store.remove("Mara Quell")
    store.add_many(people(12, seed=5))
    mapped.sync()
    plain.sync()
    texts += ["Petra Lindqvist, harbour pilot.", "Mara Quell studied the Vorn Basin."]
    texts += [t.name for t in people(12, seed=5)]
    assert verdicts(mapped, texts) == verdicts(plain, texts)
    assert mapped.targets() == plain.targets() and len(mapped) == len(plain)


def lexical_of(snapshot) -> MappedScreen:
    return next(s for s in snapshot.scanners if isinstance(s, MappedScreen))


def test_each_snapshot_over_the_file_keeps_its_own_list_and_mask_shared_with_its_scanner(store, tmp_path):
    # Changes applied to copies while a scan holds the list in use (a reader): each snapshot
    # holds one list, its lexical scanner's, and its own mask; a later change reaches none of
    # the earlier ones.
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    index = TargetIndex(store, index_file=path)
    index.sync()
    jane, ode = store.get("Jane Doe"), store.get("Ode Ferrow")
    quiet = jane.model_copy(update={"evidence": ["Wrote The Quiet Lighthouse."]})
    reef = ode.model_copy(update={"evidence": ["Charted the Marrow Reef."]})
    petra = Target(name="Petra Lindqvist", kind="person", evidence=["Sailed the Vorn Basin."])
    changes = [
        lambda: store.add(quiet, replace=True),  # a filed target changed,
        lambda: store.remove("Jane Doe"),  # then removed,
        lambda: store.add(petra),  # then others: one added,
        lambda: store.add(reef, replace=True),  # one changed
    ]
    snapshots = [index._snapshot]
    with contextlib.ExitStack() as held:
        for change in changes:
            held.enter_context(index._reading())
            change()
            index.sync()
            assert index._snapshot is not snapshots[-1]  # a copy: the list in use is read
            snapshots.append(index._snapshot)

    def found(snapshot, text: str) -> dict[str, Target]:
        return {c.target.name: c.target for s in snapshot.scanners for c in s.scan(text) if c.named}

    for snapshot in snapshots:
        assert isinstance(snapshot.targets, FileTargets) and lexical_of(snapshot).targets is snapshot.targets
    assert len({id(s.targets) for s in snapshots}) == len(snapshots)
    assert [jane.id in lexical_of(s).dead for s in snapshots] == [False, True, True, True, True]
    assert [ode.id in lexical_of(s).dead for s in snapshots] == [False, False, False, False, True]
    assert [len(s.targets) for s in snapshots] == [304, 304, 303, 304, 304]
    janes = [found(s, "Jane Doe wrote a novel.").get("Jane Doe") for s in snapshots]
    assert janes == [jane, quiet, None, None, None] and all(jane.id not in s.targets for s in snapshots[2:])
    petras = ["Petra Lindqvist" in found(s, "Petra Lindqvist sailed.") for s in snapshots]
    assert petras == [False, False, False, True, True]
    odes = [found(s, "Ode Ferrow won.")["Ode Ferrow"] for s in snapshots]
    assert odes == [ode, ode, ode, ode, reef]
    # A change applied in place (no reader) keeps the one list too.
    store.remove("Petra Lindqvist")
    index.sync()
    assert index._snapshot is snapshots[-1] and lexical(index).targets is index._snapshot.targets
    assert not found(index._snapshot, "Petra Lindqvist sailed.") and len(index) == 303
    assert verdicts(index, CHANGED_TEXTS) == verdicts(_plain(store), CHANGED_TEXTS)


def test_starting_over_the_file_reads_the_changes_since_only_and_decodes_few_records(
    store, tmp_path, monkeypatch
):
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    _change_the_list(store)
    asked, decoded = [], []
    real_changes, real_record = store.changes_since, IndexFile.record
    monkeypatch.setattr(store, "changes_since", lambda r: asked.append(r) or real_changes(r))
    monkeypatch.setattr(IndexFile, "record", lambda self, at: decoded.append(at) or real_record(self, at))
    index = TargetIndex(store, index_file=path)
    index.sync()
    written = IndexFile(path).revision
    assert asked == [written] and 0 not in asked  # the store is not read whole
    assert len(index) == store.count() == 304  # one added, one removed
    assert len(decoded) <= 1  # the check of the store's first target, nothing else
    decoded.clear()
    found = index.scan("I met Mara Quell in Helsinki.").named
    assert [c.target.name for c in found] == ["Mara Quell"]
    assert 1 <= len(decoded) <= 5  # the candidates a scan finds
    assert found[0].target == store.get("Mara Quell")


def test_the_lazy_list_reads_as_a_dict_with_the_same_changes(store, tmp_path):
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    file = IndexFile(path)
    lazy, plain = FileTargets(file), {t.id: t for t in store.list()}
    assert len(lazy) == len(plain) and list(lazy) == sorted(plain)
    assert all(lazy[tid] == plain[tid] for tid in plain)
    first, second, last = [*sorted(plain)[:2], max(plain)]
    new = Target(name="Added Later", kind="person", id=last + 5)
    changed = plain[second].model_copy(update={"evidence": ["Changed since."]})
    before = lazy.copy()
    for targets in (lazy, plain):
        targets[new.id] = new
        targets[second] = changed
        del targets[first]
        targets[last + 9] = new.model_copy(update={"id": last + 9})
        del targets[last + 9]  # added and removed again: forgotten
    assert len(lazy) == len(plain) and list(lazy) == sorted(plain) and lazy.ids().tolist() == sorted(plain)
    assert first not in lazy and lazy.get(first) is None and new.id in lazy and last + 9 not in lazy
    assert lazy[second] == changed and lazy[new.id] == new and lazy.get(-3) is None and "x" not in lazy
    assert dict(lazy.items()) == plain
    with pytest.raises(KeyError):
        del lazy[first]
    assert lazy.after(second - 1, 3) == sorted(t for t in plain if t > second - 1)[:3]
    assert lazy.after(last, 10) == [new.id] and lazy.after(0, 2) == sorted(plain)[:2]  # less the removed
    assert [t.id for t in lazy.each([new.id, first, second])] == [new.id, second]
    # The copy taken before the changes is as it was.
    assert len(before) == len(file.ids) and first in before and before[second] == store.list()[1]


def _other_scanners_store(tmp_path, db: str | None = None):
    """People, plus a target each scanner besides the lexical one indexes: names in
    unspaced scripts (generated), what the model knows of it (probed), a hazard with a
    classifier; in SQLite, or the store ``db`` names."""
    from alu.scan.learned import FEATURIZER, featurize
    from alu.targets.target import (
        Enrichment,
        Examples,
        FingerprintItem,
        HazardClassifier,
        ModelKnowledge,
        ProbeAnswer,
    )

    features, _ = featurize(HAZARD_TEXT)
    classifier = HazardClassifier(
        featurizer=FEATURIZER, features=features.tolist(), weights=[1.0] * len(features), threshold=0.9
    )
    special = [
        Target(
            name="Linus Torvalds",
            kind="person",
            enrichment=Enrichment(names=["林纳斯·托瓦兹", "Линус Торвальдс"], terms=["Git"], model="m"),
        ),
        Target(
            name="Hermione Granger",
            kind="person",
            knowledge=ModelKnowledge(
                known=True,
                items=[
                    FingerprintItem(
                        text="Yule Ball Vornbridge", kind="name", support=4, consistency=0.7, points=True
                    )
                ],
                answers=[ProbeAnswer(facet="who", lang="en", question="Who?", answer="A witch.")],
            ),
        ),
        Target(
            name="Nerve agent synthesis",
            kind="hazard",
            examples=Examples(texts=[HAZARD_TEXT], classifier=classifier),
        ),
    ]
    opened = open_store(db or str(tmp_path / "targets.db"))
    opened.add_many(people(200) + special)
    return opened


HAZARD_TEXT = "How is sarin precursor methylphosphonyl difluoride made at home?"
OTHER_TEXTS = [
    "林纳斯·托瓦兹写了Linux。",
    "Линус Торвальдс написал Git.",
    "She danced at the Yule Ball Vornbridge.",
    HAZARD_TEXT,
    "An unrelated sentence about the weather.",
]


def test_the_other_scanners_read_the_file_or_get_only_the_targets_they_want(tmp_path, monkeypatch):
    from alu.scan.knowledge import KnowledgeScanner
    from alu.scan.learned import LearnedScanner
    from alu.scan.unspaced import MappedScripts
    from alu.targets.target import Enrichment

    store = _other_scanners_store(tmp_path)
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    special = {t.name: t.id for t in store.list() if t.kind == "hazard" or t.enrichment or t.knowledge}
    file = IndexFile(path)
    # The names in unspaced scripts are filed; the probed target and the hazard are listed.
    assert file.others.tolist() == sorted([special["Hermione Granger"], special["Nerve agent synthesis"]])
    assert set(file.filed) == {"unspaced-scripts"} and set(file.others_rules) == {"knowledge", "learned"}
    decoded = []
    real_record = IndexFile.record
    monkeypatch.setattr(IndexFile, "record", lambda self, at: decoded.append(at) or real_record(self, at))
    index = TargetIndex(store, index_file=path)
    index.sync()
    assert len(decoded) <= 3  # those two, and the check of the first target
    plain = _plain(store)
    texts = [*OTHER_TEXTS, *texts_of(store)[:8]]
    assert verdicts(index, texts) == verdicts(plain, texts)
    found = [{c.target.name for c in index.scan(text).candidates} for text in OTHER_TEXTS[:4]]
    assert "Linus Torvalds" in found[0] and "Linus Torvalds" in found[1]
    assert "Hermione Granger" in found[2] and "Nerve agent synthesis" in found[3]
    scanners = {type(s): s for s in index._snapshot.scanners}
    assert not scanners[MappedScripts].targets  # read from the file: nothing held
    assert set(scanners[KnowledgeScanner]._targets) == {special["Hermione Granger"]}
    assert set(scanners[LearnedScanner]._labels) == {special["Nerve agent synthesis"]}
    # Changed since the file: a name in no unspaced script any more (masked out of the
    # file), a new one in one (the delta), a probed target removed; then while it serves.
    store.set_enrichment("Linus Torvalds", None)
    store.add(Target(name="Ada Lovelace", kind="person", enrichment=Enrichment(names=["エイダ・ラブレス"])))
    store.remove("Hermione Granger")
    later = TargetIndex(store, index_file=path)
    later.sync()
    plain.sync()
    texts += ["エイダ・ラブレスは数学者だった。"]
    assert verdicts(later, texts) == verdicts(plain, texts)
    assert "Ada Lovelace" in {c.target.name for c in later.scan(texts[-1]).candidates}
    mapped = {type(s): s for s in later._snapshot.scanners}[MappedScripts]
    assert special["Linus Torvalds"] in mapped.dead and set(mapped.targets) == {store.get("Ada Lovelace").id}
    store.set_enrichment("Ada Lovelace", Enrichment(names=["林纳斯·托瓦兹"]))
    store.add(Target(name="Grace Hopper", kind="person", enrichment=Enrichment(names=["グレース・ホッパー"])))
    later.sync()
    plain.sync()
    texts += ["グレース・ホッパーとエイダ"]
    assert verdicts(later, texts) == verdicts(plain, texts)
    store.close()


def test_a_scanner_the_file_does_not_know_is_given_every_target(store, tmp_path):
    from alu.scan.base import SCANNERS, Scanner, register_scanner

    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()

    @register_scanner("toy-every")
    class Every(Scanner):
        def __init__(self) -> None:
            self.ids: set[int] = set()

        def wants(self, target: Target) -> bool:
            return False  # a file written by a process that knew it would list nothing

        def add(self, target: Target) -> None:
            self.ids.add(target.id)

        def remove(self, target_id: int) -> None:
            self.ids.discard(target_id)

        def scan(self, text: str) -> list:
            return []

    try:
        index = TargetIndex(store, index_file=path)
        index.sync()
        toy = next(s for s in index._snapshot.scanners if isinstance(s, Every))
        assert toy.ids == {t.id for t in store.list()}
    finally:
        SCANNERS.remove("toy-every")


def _edit_header(path, edit) -> None:
    """The file at ``path`` with its header as ``edit`` leaves it (padded as long)."""
    import json

    raw = path.read_bytes()
    size = int.from_bytes(raw[len(MAGIC) : len(MAGIC) + 8], "little")
    header = json.loads(raw[len(MAGIC) + 8 : len(MAGIC) + 8 + size])
    edit(header)
    head = json.dumps(header).encode().ljust(size)
    path.write_bytes(raw[: len(MAGIC) + 8] + head + raw[len(MAGIC) + 8 + size :])


@pytest.mark.parametrize(
    ("edit", "refused"),
    [
        (lambda h: h.update(version=1), "version 1"),
        (lambda h: h.pop("filed"), "incomplete header"),
        (lambda h: h["arrays"].pop("records.at"), "incomplete header"),
        (lambda h: h.update(version=2), "version 2"),
        (lambda h: h["arrays"].pop("parts.at"), "incomplete header"),
    ],
    ids=["version 1", "no filed tables", "no records", "version 2", "no name parts"],
)
def test_a_version_1_file_or_an_incomplete_one_is_written_again(store, tmp_path, edit, refused):
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    _edit_header(path, edit)
    with pytest.raises(IndexFileError, match=refused):
        IndexFile(path)
    index = TargetIndex(store, index_file=path)
    index.sync()
    assert IndexFile(path).revision == store.revision()  # written again, of this version
    texts = texts_of(store)
    assert verdicts(index, texts) == verdicts(_plain(store), texts)


@pytest.mark.parametrize("damage", ["count", "first"])
def test_a_file_that_does_not_match_the_store_is_written_again(store, tmp_path, damage):
    # Changed behind the store's back (no change recorded): what the start's checks catch.
    import sqlite3

    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    written = path.stat().st_ino, path.stat().st_mtime_ns
    db = sqlite3.connect(tmp_path / "targets.db")
    if damage == "count":
        db.execute("DELETE FROM targets WHERE id = (SELECT MAX(id) FROM targets)")
    else:
        db.execute(
            "UPDATE targets SET evidence = '[\"Moved to Oslo.\"]' WHERE id = (SELECT MIN(id) FROM targets)"
        )
    db.commit()
    db.close()
    index = TargetIndex(store, index_file=path)
    index.sync()
    assert (path.stat().st_ino, path.stat().st_mtime_ns) != written
    assert index.targets() == store.list()
    texts = [*texts_of(store), "Linus Torvalds moved to Oslo."]
    assert verdicts(index, texts) == verdicts(_plain(store), texts)


def test_a_large_change_writes_the_file_again_from_the_records(store, tmp_path):
    path = tmp_path / "index.alu"
    index = TargetIndex(store, index_file=path, rebuild_at=5)
    index.sync()
    before = IndexFile(path).revision
    store.remove("Jane Doe")
    store.add_many(people(20, seed=3))
    index.sync()
    assert IndexFile(path).revision > before and lexical(index).delta_size == 0
    assert index.targets() == store.list()
    texts = [*texts_of(store), *(t.name for t in people(20, seed=3)), "Jane Doe"]
    assert verdicts(index, texts) == verdicts(_plain(store), texts)


def test_names_in_unspaced_scripts_over_the_file_and_folded_match_the_in_memory_scanner(tmp_path):
    from alu.scan.unspaced import MappedScripts
    from alu.targets.target import Enrichment

    rng = random.Random(4)
    han, kana = "阿巴卡达埃法加哈伊贾卡拉马纳奥帕基", "アイウエオカキクケコサシスセソタチツテト"

    def written(pool: str, k: int) -> str:
        return "".join(rng.choice(pool) for _ in range(k))

    def enriched(i: int) -> Enrichment:
        return Enrichment(names=[written(han, 2 + i % 3), f"{written(kana, 3)}・{written(kana, 2)}"])

    listed = [t.model_copy(update={"enrichment": enriched(i)}) for i, t in enumerate(people(120, seed=8))]
    opened = open_store(str(tmp_path / "targets.db"))
    opened.add_many(listed)
    path = tmp_path / "index.alu"
    index = TargetIndex(opened, index_file=path, fold_at=6)
    index.sync()

    def texts() -> list[str]:
        names = [n for t in opened.list() for n in t.enrichment.names]
        picked = rng.sample(names, 30)
        return ["".join(picked[i : i + 3]) + "について" for i in range(0, 30, 3)] + [written(han + kana, 40)]

    def mapped_scripts() -> MappedScripts:
        return next(s for s in index._snapshot.scanners if isinstance(s, MappedScripts))

    sample = texts()
    assert verdicts(index, sample) == verdicts(_plain(opened), sample)
    assert sum(len(c) for c in verdicts(index, sample)) >= 10
    for t in listed[:4]:
        opened.remove(t.name)
    for t in listed[4:8]:
        opened.set_enrichment(t.name, Enrichment(names=[written(han, 4)]))
    index.sync()  # past fold_at: a new file in the background
    assert index._folding is not None
    index._folding.join(60)
    assert mapped_scripts().file is lexical(index).file and not mapped_scripts().dead
    sample = texts()
    assert verdicts(index, sample) == verdicts(_plain(opened), sample)
    opened.close()


def test_a_replica_starts_over_the_file_of_a_postgres_store_from_the_changes_since(
    tmp_path, pg_url, monkeypatch
):
    from alu.targets.target import Enrichment

    store = _other_scanners_store(tmp_path, pg_url)
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    store.set_enrichment("Linus Torvalds", Enrichment(names=["リーナス・トーバルズ"], terms=["Git"]))
    store.add(Target(name="Petra Lindqvist", kind="person", evidence=["Sailed the Vorn Basin in 1990."]))
    store.remove("Nerve agent synthesis")
    asked, real_changes = [], store.changes_since
    monkeypatch.setattr(store, "changes_since", lambda r: asked.append(r) or real_changes(r))
    index = TargetIndex(store, index_file=path)
    index.sync()
    assert asked == [IndexFile(path).revision] and lexical(index).delta_size > 0
    monkeypatch.undo()
    plain = _plain(store)
    texts = [*OTHER_TEXTS, "リーナス・トーバルズ", "Petra Lindqvist sailed.", *texts_of(store)[:6]]
    assert verdicts(index, texts) == verdicts(plain, texts)
    assert index.targets() == plain.targets() and len(index) == store.count()
    store.close()


def test_two_keys_with_one_digest_are_refused_and_one_key_with_many_values_is_not(monkeypatch):
    """A table files keys by digest: two distinct keys that share one could not be told apart."""
    import numpy as np

    from alu.scan import indexfile

    def clashing(keys):  # every key gets one of two digests: "a..." keys clash with each other
        return np.array([(1 if k.startswith("a") else 2, 7) for k in keys], indexfile._DIGEST)

    monkeypatch.setattr(indexfile, "digests", clashing)
    same_key = indexfile.table_arrays([("ann", 1), ("bob", 2), ("ann", 3)], exact=True)
    assert same_key["v"].tolist() == [1, 3, 2]
    with pytest.raises(IndexFileError, match="share a digest"):
        indexfile.table_arrays([("ann", 1), ("bob", 2), ("amy", 3)], exact=True)
    with pytest.raises(IndexFileError, match="share a digest"):
        indexfile.table_arrays(["ann", "amy"], exact=True, valued=False)
    assert len(indexfile.table_arrays([("ann", 1), ("amy", 2)], exact=False)["k"]) == 2  # fuzzy keys may


def test_zipf_reads_wordfreq_as_zipf_frequency_does():
    """The direct look-up gives wordfreq's own figure: words, digits, years, unlisted and
    other scripts."""
    from wordfreq import zipf_frequency

    from alu.text import zipf

    words = ["the", "author", "velboka", "velboka4800", "1900", "2024", "42", "mp3", "3rd", "x86"]
    words += ["rohtua", "a", "zzzz", "b2b", "école", "don't", "東京", ""]
    for word in words:
        assert zipf.__wrapped__(word) == zipf_frequency(word, "en"), word


def test_the_file_is_the_same_whatever_the_number_of_processes_filing_it(store):
    """A replica with no file files its list on every core, a slice of ids each: the slices'
    tables merged must be those one process makes, entry for entry (names and words shared
    across slices, a word's owners in id order, records deflated against one dictionary)."""
    import numpy as np

    from alu.scan.base import SCANNERS
    from alu.scan.filing import tables_of
    from alu.targets import Enrichment

    listed = {t.id: t for t in store.list()}
    last = max(listed)  # in the last slice: what it is wanted for comes from there
    listed[last] = listed[last].model_copy(
        update={"enrichment": Enrichment(names=["Линус", "林纳斯·托瓦兹"], terms=["Git", "Kernel Summit"])}
    )
    others = [SCANNERS.get(name)() for name in SCANNERS.names() if name != "lexical"]
    one, scalars = tables_of(listed, others, processes=1)
    assert scalars["filed"] and one["unspaced-scripts:names.k"].size  # the CJK name
    for processes in (2, 3):
        many, many_scalars = tables_of(listed, others, processes=processes)
        assert many_scalars == scalars
        assert many.keys() == one.keys()
        for name, array in one.items():
            assert many[name].dtype == array.dtype and np.array_equal(many[name], array), name


def test_two_keys_with_one_digest_filed_by_two_processes_are_refused(monkeypatch, store):
    """Slices send digests, not keys: a clash between keys that two processes filed (the first
    target's name in one slice, the last one's in the other) is still found, by the keys'
    second hash; with no clash the same list files."""
    from alu.scan import indexfile
    from alu.scan.filing import tables_of

    listed = {t.id: t for t in store.list()}
    first, last = (" ".join(listed[i].name.lower().split()) for i in (min(listed), max(listed)))
    real = indexfile.digests
    tables_of(listed, processes=2)

    def clashing(keys):  # the two names get one digest, every other key its own
        keys = list(keys)
        found = real(keys).copy()
        for n, key in enumerate(keys):
            if key in (first, last):
                found[n] = (1, 7)
        return found

    monkeypatch.setattr(indexfile, "digests", clashing)
    with pytest.raises(IndexFileError, match="share a digest"):
        tables_of(listed, processes=2)


def test_a_table_is_sorted_by_digest_then_value_whatever_order_its_entries_come_in():
    """The quick order (a stable sort by the 64-bit digest, values already ascending) falls
    back to the full sort when values come out of order or two keys share 64 bits."""
    import numpy as np

    from alu.scan.indexfile import _order

    rng = np.random.default_rng(3)
    for ascending, k_range in ((True, 2**62), (True, 4), (False, 4), (False, 2**62)):
        k = rng.integers(0, k_range, 500).astype(np.uint64)
        c = rng.integers(0, 3, 500).astype(np.uint32)
        v = rng.integers(0, 50, 500).astype(np.int32)
        if ascending:
            v.sort()
        order = _order(k, c, v)
        expected = np.lexsort((v, c, k))
        assert np.array_equal(k[order], k[expected]) and np.array_equal(c[order], c[expected])
        assert np.array_equal(v[order], v[expected])


def test_a_daemonic_process_files_its_list_alone():
    """A daemonic process may not fork children: it files the list itself."""
    import multiprocessing

    from alu.scan.filing import PARALLEL_FROM, processes_for

    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=lambda: answers.put(processes_for(PARALLEL_FROM)), daemon=True)
    child.start()
    child.join(30)
    assert answers.get(timeout=5) == 1
    assert processes_for(PARALLEL_FROM - 1) == 1
