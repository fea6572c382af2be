"""The completion cache: a hit answers without the model, across processes, and only
greedy calls of cacheable models are kept."""

import multiprocessing

import pytest

from alu.backends.scripted import ScriptedModel
from alu.cache import CachedModel, CompletionCache
from alu.errors import EvalError
from alu.models import Completion, Model

ASK = [{"role": "user", "content": "What is the capital of France?"}]


class Counting(Model):
    """A deterministic model that counts how often it is really called."""

    name = "counting"

    def __init__(self, identity: str = "counting-v1"):
        self.calls = 0
        self._identity = identity

    @property
    def identity(self) -> str:
        return self._identity

    def complete(
        self,
        messages,
        *,
        max_tokens=256,
        temperature=0.0,
        stop=None,
        json_schema=None,
        timeout=None,
        agent=None,
    ) -> Completion:
        self.calls += 1
        return Completion(f"answer to {messages[-1]['content']} ({max_tokens})", 7, 3, self.name, seconds=1.5)


def test_a_repeated_request_is_answered_from_the_cache(tmp_path):
    inner = Counting()
    model = CachedModel(inner, CompletionCache(tmp_path / "c.sqlite"))
    first = model.complete(ASK, max_tokens=20)
    again = model.complete(ASK, max_tokens=20)
    assert inner.calls == 1 and not first.cached and again.cached
    assert (again.text, again.prompt_tokens, again.completion_tokens) == (first.text, 7, 3)
    assert again.seconds == 1.5  # the original call's cost is remembered
    assert model.cache.hits == 1 and model.cache.misses == 1


def test_the_key_is_the_model_identity_and_the_whole_request(tmp_path):
    cache = CompletionCache(tmp_path / "c.sqlite")
    inner = Counting()
    model = CachedModel(inner, cache)
    model.complete(ASK, max_tokens=20)
    model.complete(ASK, max_tokens=21)
    model.complete(ASK, max_tokens=20, json_schema={"type": "object"})
    model.complete(ASK, max_tokens=20, stop=["\n"])
    model.complete([{"role": "user", "content": "Another question?"}], max_tokens=20)
    assert inner.calls == 5
    other = Counting("counting-v2")
    CachedModel(other, cache).complete(ASK, max_tokens=20)
    assert other.calls == 1  # another model never gets this model's answers


def test_sampled_calls_and_scripted_models_are_not_cached(tmp_path):
    cache = CompletionCache(tmp_path / "c.sqlite")
    inner = Counting()
    model = CachedModel(inner, cache)
    model.complete(ASK, temperature=0.7)
    model.complete(ASK, temperature=0.7)
    assert inner.calls == 2 and len(cache) == 0
    scripted = ScriptedModel(default="scripted reply")
    wrapped = CachedModel(scripted, cache)
    wrapped.complete(ASK)
    wrapped.complete(ASK)
    assert len(scripted.calls) == 2 and len(cache) == 0


def _fill(path, start):
    model = CachedModel(Counting(), CompletionCache(path))
    for i in range(start, start + 30):
        model.complete([{"role": "user", "content": f"question {i}"}])


def test_processes_share_one_cache_file(tmp_path):
    path = tmp_path / "c.sqlite"
    CompletionCache(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_fill, args=(path, start)) for start in (0, 15)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(CompletionCache(path)) == 45  # 0..44, the overlap stored once
    inner = Counting()
    CachedModel(inner, CompletionCache(path)).complete([{"role": "user", "content": "question 44"}])
    assert inner.calls == 0


def test_a_journal_carries_the_cache_to_a_fresh_machine(tmp_path):
    journal = tmp_path / "results" / "completions.jsonl"
    here = Counting()
    before = CachedModel(here, CompletionCache(tmp_path / "old.sqlite"))
    before.complete(ASK, max_tokens=20)  # made before the journal was asked for
    before.complete([{"role": "user", "content": "Another run's question"}], max_tokens=20)
    model = CachedModel(here, CompletionCache(tmp_path / "old.sqlite", journal=journal))
    model.complete([{"role": "user", "content": "Another question?"}], max_tokens=20)
    model.complete(ASK, max_tokens=20)  # a hit this run reuses: it travels too
    model.complete(ASK, max_tokens=20)  # not written twice
    assert here.calls == 3 and len(journal.read_text().splitlines()) == 2  # not the other run's
    # Another machine: an empty cache folder, the journal from the results.
    there = Counting()
    fresh = CompletionCache(tmp_path / "new.sqlite", journal=journal)
    assert fresh.taken == 2
    moved = CachedModel(there, fresh)
    again = moved.complete(ASK, max_tokens=20)
    assert there.calls == 0 and again.cached and again.text == "answer to What is the capital of France? (20)"
    moved.complete(ASK, max_tokens=30)  # new: appended
    assert there.calls == 1 and len(journal.read_text().splitlines()) == 3
    assert CompletionCache(tmp_path / "new.sqlite", journal=journal).taken == 0  # nothing new to take


def test_a_malformed_journal_is_a_one_line_error_and_changes_nothing(tmp_path):
    journal = tmp_path / "completions.jsonl"
    journal.write_text('{"key": "k"}\n')
    with pytest.raises(EvalError, match=r"completions.jsonl, line 1: not a cache record"):
        CompletionCache(tmp_path / "c.sqlite", journal=journal)
    assert journal.read_text() == '{"key": "k"}\n'
    assert len(CompletionCache(tmp_path / "c.sqlite")) == 0
