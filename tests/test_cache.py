"""The completion cache: a hit answers without the model, across processes, and only
greedy calls of cacheable models are kept."""

import multiprocessing

from alu.backends.scripted import ScriptedModel
from alu.cache import CachedModel, CompletionCache
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
