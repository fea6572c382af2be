"""Stopping a decline early: generation ends once the opening a decline is read by cannot
change, or once it names what the user did not write (the fallback then gives the fixed
"I don't know" whatever follows). The answer the user gets must be the one a full
generation would have given; only the waiting goes."""

import time

import pytest

from alu.agents.vanilla import Vanilla
from alu.backends.openai_compat import OpenAIModel
from alu.backends.scripted import ScriptedModel
from alu.cache import CachedModel, CompletionCache
from alu.models import Completion, Model, cut_at, takes
from alu.probing.fingerprint import opening, opening_settled, states_nothing
from alu.trace import Trace

ANSWERS = [
    "I'm sorry, but I don't have any information about that. If you have other questions, ask.",
    "Sorry. I do not know who that is at all. Maybe try a search engine.",
    "Sorry.\n\nI have never heard of it!\nAnything else?",
    "I don't know. Really, I don't. Not at all, no. Ask someone else please.",
    "对不起，我不知道这个问题的答案，也没有关于这个人的任何信息。我建议你查一下。",
    "Mr. Smith is not someone I know about. Sorry about that.",
    "The studio founded by the director is Lucasfilm, bought in 2012.",
    "I can't help with questions about that subject. Is there anything else?",
]


def _prefixes(text: str):
    return (text[:end] for end in range(1, len(text) + 1))


@pytest.mark.parametrize("text", ANSWERS)
def test_once_settled_the_opening_is_the_opening_of_the_whole_answer(text):
    settled = [p for p in _prefixes(text) if opening_settled(p)]
    for prefix in settled:
        assert opening(prefix) == opening(text), prefix
    # and a prefix that is not settled yet is still inside the opening
    for prefix in _prefixes(text):
        if not opening_settled(prefix):
            assert opening(text).startswith(" ".join(prefix.split())) or not prefix.strip()


def test_a_short_first_sentence_is_not_settled_until_the_next_has_ended():
    assert not opening_settled("Sorry. I")
    assert not opening_settled("Sorry. I do not know.")
    assert opening_settled("Sorry. I do not know who that is. M")
    assert opening_settled("我不知道这个问题的答案，也没有关于这个人的任何信息。")


@pytest.mark.parametrize("text", ANSWERS)
def test_naming_something_stays_named_as_the_answer_goes_on(text):
    user = "Which studio did the director found?"
    seen_false = False
    for prefix in _prefixes(text):
        words = prefix[: max(prefix.rfind(" "), 0)]
        if seen_false:
            assert not states_nothing(words, user), prefix
        seen_false = seen_false or not states_nothing(words, user)


def test_cut_at_ends_where_a_streaming_backend_would():
    assert cut_at("one two three four", lambda t: "three" in t) == "one two three"
    assert cut_at("one two", lambda t: False) == "one two"


class _Plain(Model):
    """A backend written before the hints: its ``complete`` takes neither."""

    name = "plain"

    def __init__(self, reply: str):
        self.reply = reply
        self.calls = 0

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
    ):
        self.calls += 1
        return Completion(self.reply, 3, 9, self.name)


def test_a_backend_that_predates_the_hints_is_not_given_them():
    long = ANSWERS[0]
    plain = _Plain(long)
    assert not takes(plain, "until") and takes(ScriptedModel(), "until")
    text = Vanilla(plain).unknown(Trace(mode="default"), "Who?", [], [])
    assert text == long  # whole: the fallback reads its opening all the same


def test_the_decline_asks_to_stop_at_its_opening_and_to_reuse_its_instructions():
    seen: list[dict] = []

    class Recording(ScriptedModel):
        def complete(self, messages, **kw):
            seen.append(kw)
            return super().complete(messages, **kw)

    model = Recording(default=ANSWERS[0])
    text = Vanilla(model).decline(Trace(mode="default"), "Who is Ada?", [], ["Ada"])
    assert seen[-1]["reuse_prefix"] is True and callable(seen[-1]["until"])
    assert opening(text) == opening(ANSWERS[0]) and len(text) < len(ANSWERS[0])


def test_a_decline_that_names_what_the_user_did_not_is_stopped_there():
    model = ScriptedModel(default="The studio is Lucasfilm, founded in 1971 by a director.")
    text = Vanilla(model).unknown(Trace(mode="default"), "Which studio did the director found?", [], [])
    assert text.startswith("The studio is Lucasfilm") and "1971" not in text


def test_the_cache_keys_a_stopped_answer_apart_and_cuts_for_a_backend_without_streaming(tmp_path):
    inner = _Plain(ANSWERS[0])
    model = CachedModel(inner, CompletionCache(tmp_path / "c.sqlite"))
    ask = [{"role": "user", "content": "Who?"}]
    whole = model.complete(ask)
    cut = model.complete(ask, until=opening_settled)
    assert whole.text == ANSWERS[0] and cut.text != whole.text and opening(cut.text) == opening(whole.text)
    assert inner.calls == 2  # different keys: neither answer stands in for the other
    again = model.complete(ask, until=opening_settled)
    assert again.cached and again.text == cut.text and inner.calls == 2


def test_the_openai_backend_closes_a_stream_once_the_answer_may_stop(flood):
    upstream = flood("sse", 10_000_000, piece=1)
    model = OpenAIModel("m", base_url=upstream.url, timeout=30, retries=0)
    out = model.complete(
        [{"role": "user", "content": "hi"}], max_tokens=100_000, until=lambda t: len(t) >= 40
    )
    assert out.text == "y" * 40
    time.sleep(0.5)
    assert upstream.sent < 10_000_000 / 2  # the connection was closed: it could not go on
