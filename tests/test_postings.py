"""The pre-screen's lean storage: what is filed comes out again, shared keys survive
the removal of one of their targets, and nothing is left behind."""

from alu.scan import PreScreen
from alu.scan.postings import Postings
from alu.targets import Target


def test_postings_hold_one_item_bare_and_several_in_a_set():
    p = Postings()
    p.add(("ada", "lovelace"), 1)
    assert p.get(("ada", "lovelace")) == (1,) and ("ada", "lovelace") in p
    p.add(("ada", "lovelace"), 2)
    p.add(("ada", "lovelace"), 2)
    assert set(p[("ada", "lovelace")]) == {1, 2}
    p.discard(("ada", "lovelace"), 1)
    assert p.get(("ada", "lovelace")) == (2,)
    p.discard(("ada", "lovelace"), 7)
    p.discard(("ada", "lovelace"), 2)
    assert len(p) == 0 and p.get(("ada", "lovelace"), ()) == ()


def people(n: int) -> list[Target]:
    return [
        Target(
            id=i,
            name=f"Marigold Quenby{i % 3}",
            aliases=[f"Mari Q{i}"],
            kind="person",
            evidence=[f"Born in Thistlewick in {1950 + i % 2}, wrote The Saffron Ledger."],
        )
        for i in range(1, n + 1)
    ]


def test_removing_targets_keeps_the_others_and_leaves_nothing_behind():
    screen = PreScreen()
    targets = people(12)
    for t in targets:
        screen.add(t)
    for t in targets[:6]:
        screen.remove(t.id)
    found = {c.target.id for c in screen.scan("Did Marigold Quenby1 visit Thistlewick?")}
    assert found and found <= {t.id for t in targets[6:]}
    assert {c.target.id for c in screen.scan("Mari Q9 and Marigold Quenbyl")} >= {9}  # fuzzy too
    for t in targets[6:]:
        screen.remove(t.id)
    indexes = (screen._names, screen._partials, screen._phrases, screen._terms, screen._fuzzy_index)
    assert [len(index) for index in indexes] == [0] * 5  # names, partials, phrases, terms, fuzzy
    assert not screen._vocab and not screen.targets


def test_replacing_a_target_refiles_it():
    screen = PreScreen()
    screen.add(Target(id=1, name="Old Name", kind="person"))
    screen.add(Target(id=1, name="Fresh Name", kind="person"))
    assert screen.named("Old Name") == [] and [c.target.id for c in screen.named("Fresh Name")] == [1]


def test_the_delete_index_finds_one_edit_neighbours_across_merges(monkeypatch):
    from alu.scan import fuzzy

    monkeypatch.setattr(fuzzy, "MERGE_EVERY", 20)  # merge every few tokens
    index = fuzzy.DeleteIndex()
    words = [f"quenby{i}" for i in range(30)] + ["lovelace", "thistlewick"]
    for w in words:
        index.add(w)
    assert len(index._keys) > 0  # some were merged into the arrays, some may still wait
    assert "lovelace" in index.lookup(fuzzy.deletes("lovelage") | {"lovelage"})
    assert "quenby7" in index.lookup(fuzzy.deletes("quenby7") | {"quenby7"})
    for w in words[:25]:
        index.discard(w)
    found = index.lookup(fuzzy.deletes("quenby3") | {"quenby3"})
    assert not found & set(words[:25]) and "quenby27" in index.lookup(["quenby27"])
    for w in words[25:]:
        index.discard(w)
    assert len(index) == 0 and len(index._keys) == 0 and index.lookup(["lovelace"]) == set()
