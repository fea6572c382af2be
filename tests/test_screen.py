"""The screen under long texts: bounded, inside the request's deadline, and scanned from a
snapshot of the list without a lock, so one long text holds up no other request. No
timings here: slow scanners are stood in by scanners that wait on events or sleep."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import HERMIONE, scripted
from pydantic import ValidationError

from alu import PipelineConfig, QueryError, Target
from alu.deadline import DeadlineExceeded, request_deadline
from alu.scan import MAX_SCREEN_CHARS, Candidate, PreScreen, Scanner, TargetIndex, TextTooLong
from alu.scan.postings import Postings
from alu.scan.unspaced import ScriptScanner

TORVALDS = Target(name="Linus Torvalds", aliases=["林纳斯·托瓦兹"], kind="person")
CJK = "的一是不了人在有我他这中大来上个国到说们为子和地也时道出就要以会可你对生能而"


def cjk_text(chars: int) -> str:
    return (CJK * (chars // len(CJK) + 1))[:chars]


class _Held(Scanner):
    """Finds nothing; a long text waits in it until released."""

    def __init__(self, entered: threading.Event, release: threading.Event):
        self.entered, self.release = entered, release

    def copy(self) -> _Held:
        return self  # nothing of its own to change

    def add(self, target: Target) -> None: ...

    def remove(self, target_id: int) -> None: ...

    def scan(self, text: str) -> list[Candidate]:
        if len(text) > 1_000:
            self.entered.set()
            self.release.wait(20)
        return []


class _Sleepy(Scanner):
    """Finds nothing, slowly."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def add(self, target: Target) -> None: ...

    def remove(self, target_id: int) -> None: ...

    def scan(self, text: str) -> list[Candidate]:
        time.sleep(self.seconds)
        return []


def test_a_long_scan_holds_up_no_other_scan():
    entered, release = threading.Event(), threading.Event()
    index = TargetIndex(None, [TORVALDS], scanners=lambda: [PreScreen(), _Held(entered, release)])
    long_scan = threading.Thread(target=index.scan, args=(cjk_text(20_000),))
    long_scan.start()
    try:
        assert entered.wait(20)
        found: list[bool] = []
        short_scan = threading.Thread(target=lambda: found.append(bool(index.scan("Linus Torvalds").named)))
        short_scan.start()
        short_scan.join(20)
        assert found == [True] and long_scan.is_alive()  # done while the long one still runs
    finally:
        release.set()
        long_scan.join(20)


def test_a_change_swaps_in_a_new_list_and_leaves_the_one_being_scanned_alone(tmp_path):
    from alu.stores import TargetStore

    entered, release = threading.Event(), threading.Event()
    store = TargetStore(tmp_path / "t.db")
    store.add(TORVALDS)
    index = TargetIndex(store, scanners=lambda: [PreScreen(), _Held(entered, release)])
    index.sync()
    before = index._snapshot
    long_scan = threading.Thread(target=index.scan, args=(cjk_text(5_000),))
    long_scan.start()
    try:
        assert entered.wait(20)
        store.add(HERMIONE)
        index.sync()  # not held up by the scan in progress
        assert long_scan.is_alive()
        assert index.scan("Hermione Granger").named and len(index) == 2
        assert len(before.targets) == 1 and not before.scanners[0].scan("Hermione Granger")
    finally:
        release.set()
        long_scan.join(20)
    store.remove("Hermione Granger")
    index.sync()
    assert not index.scan("Hermione Granger").named and index.scan("Linus Torvalds").named


def test_a_copy_of_postings_changes_without_changing_the_original():
    original = Postings()
    original.add("key", 1)
    original.add("key", 2)
    copy = original.copy()
    copy.add("key", 3)
    copy.discard("key", 1)
    copy.add("new", 4)
    assert set(original["key"]) == {1, 2} and "new" not in original
    assert set(copy["key"]) == {2, 3} and set(copy["new"]) == {4}


@pytest.mark.parametrize("make", [PreScreen, ScriptScanner])
def test_a_copy_of_a_scanner_changes_without_changing_the_original(make):
    original = make()
    original.add(TORVALDS.model_copy(update={"id": 1}))
    copy = original.copy()
    copy.remove(1)
    copy.add(HERMIONE.model_copy(update={"id": 2, "aliases": ["赫敏·格兰杰"]}))
    both = "林纳斯托瓦兹 Linus Torvalds 赫敏格兰杰 Hermione Granger"
    assert [c.target.id for c in original.scan(both)] == [1]
    assert [c.target.id for c in copy.scan(both)] == [2]


@pytest.mark.parametrize(
    "filler",
    [cjk_text(19_000), "QUJD" * 4_750, "The weather was mild. " * 860],
    ids=["cjk", "base64", "prose"],
)
@pytest.mark.parametrize("name", ["林纳斯·托瓦兹", "Linus Torvalds"])
def test_a_name_is_found_at_the_end_of_a_long_text_in_any_script(filler, name):
    index = TargetIndex.of([TORVALDS])
    assert index.scan(filler + " " + name).named


def test_a_text_over_the_bound_is_not_screened():
    index = TargetIndex.of([TORVALDS])
    with pytest.raises(TextTooLong):
        index.scan("Linus Torvalds " + "x" * MAX_SCREEN_CHARS)


def test_a_question_over_the_bound_is_rejected(make_alu):
    alu = make_alu(scripted())
    with pytest.raises(QueryError, match="limit"):
        alu.ask("Who is Linus Torvalds? " + cjk_text(alu.config.max_query_chars))


def test_the_question_limit_cannot_exceed_half_the_screen_bound():
    PipelineConfig(max_query_chars=MAX_SCREEN_CHARS // 2)
    with pytest.raises(ValidationError):
        PipelineConfig(max_query_chars=MAX_SCREEN_CHARS // 2 + 1)


def test_a_draft_over_the_bound_fails_closed(make_alu):
    draft = "Hermione Granger went to the Yule Ball. " + cjk_text(MAX_SCREEN_CHARS)
    answer = make_alu(scripted(draft=draft)).ask("What happened at the Yule Ball?")
    assert answer.trace.verdict == "failed_closed" and "TextTooLong" in answer.trace.error
    assert "Hermione" not in answer.text and CJK[:10] not in answer.text


def test_a_screen_past_the_deadline_raises():
    index = TargetIndex(None, [TORVALDS], scanners=lambda: [PreScreen(), _Sleepy(0.3)])
    with request_deadline(0.05), pytest.raises(DeadlineExceeded, match="screen"):
        index.scan("Linus Torvalds")


def test_the_request_deadline_covers_the_screen(make_alu):
    alu = make_alu(scripted(draft="Paris."), deadline=0.2)
    alu.index = TargetIndex(alu.index.store, scanners=lambda: [PreScreen(), _Sleepy(0.3)])
    answer = alu.ask("What is the capital of France?")
    assert answer.trace.verdict == "failed_closed" and "screen" in answer.trace.error
    assert answer.text != "Paris."


@pytest.mark.parametrize("run", [cjk_text(5_000), "QUJDRA" * 1_000], ids=["cjk", "base64"])
def test_a_long_run_without_spaces_makes_no_misspelling_variants(monkeypatch, run):
    """A run of CJK or base64 folds to one token of thousands of letters: its one-letter
    deletes (the misspelling lookup) would be quadratic in time and memory."""
    from alu.scan import lexical

    made: list[int] = []
    real = lexical.deletes
    monkeypatch.setattr(lexical, "deletes", lambda token: (made.append(len(token)), real(token))[1])
    index = TargetIndex.of([TORVALDS])
    assert index.scan(f"Linus Torvaldz {run}").candidates  # a misspelled name still found
    assert made and max(made) <= len("torvalds") + 1


def test_a_scanner_is_one_module_that_registers_itself():
    """What a new scanner takes: a class registered by name; every new index then runs it,
    and its typed signals merge with the lexical scanner's for the same target."""
    from alu.scan.base import SCANNERS, Signal, register_scanner

    shouted = Signal("term", "shouted", 0.5)

    @register_scanner("toy-shouting")
    class Shouting(Scanner):
        def __init__(self) -> None:
            self.targets: dict[int, Target] = {}

        def add(self, target: Target) -> None:
            self.targets[target.id] = target

        def remove(self, target_id: int) -> None:
            self.targets.pop(target_id, None)

        def scan(self, text: str) -> list[Candidate]:
            if not text.isupper():
                return []
            return [Candidate(t, 0.5, signals=[shouted]) for t in self.targets.values()]

    text = "WHO WROTE THE KERNEL? TORVALDS DID."
    try:
        found = TargetIndex.of([TORVALDS]).scan(text).candidates
        assert [c.target.name for c in found] == ["Linus Torvalds"]
        assert shouted in found[0].signals and any(s.kind == "name-part" for s in found[0].signals)
        assert "term:shouted" in found[0].brief()["signals"]
    finally:
        SCANNERS.remove("toy-shouting")
    assert shouted not in TargetIndex.of([TORVALDS]).scan(text).candidates[0].signals
