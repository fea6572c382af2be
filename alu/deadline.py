"""Wall-clock deadlines: one per request (set by ``ALU.ask``) and one per agent call.

A backend's own timeout is not enough: the ``openai`` client's is per socket read, so an
upstream that trickles a byte now and then never trips it. ``call_within`` runs the call
on a worker thread and stops waiting at the deadline, whatever the backend does; the
request's deadline travels in a context variable, so every agent call inside ``ALU.ask``
sees how much of it is left without it being passed through every layer.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_REQUEST_DEADLINE: ContextVar[float | None] = ContextVar("alu_request_deadline", default=None)


class DeadlineExceeded(TimeoutError):
    """The call did not return within its time."""


@contextlib.contextmanager
def request_deadline(seconds: float | None) -> Iterator[None]:
    """Every agent call inside the block ends by ``seconds`` from now (None: no limit)."""
    token = _REQUEST_DEADLINE.set(time.monotonic() + seconds if seconds is not None else None)
    try:
        yield
    finally:
        _REQUEST_DEADLINE.reset(token)


def request_remaining() -> float | None:
    """Seconds left of the current request's deadline (None: there is none)."""
    deadline = _REQUEST_DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


def call_within(fn: Callable[[], T], seconds: float | None) -> T:
    """``fn()``, or DeadlineExceeded once ``seconds`` have passed. The call goes on in its
    (daemon) thread until the backend returns; its result is then dropped."""
    if seconds is None:
        return fn()
    if seconds <= 0:
        raise DeadlineExceeded("no time left")
    done = threading.Event()
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, fn()))
        except BaseException as exc:  # handed to the waiting thread
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, name="alu-call", daemon=True).start()
    if not done.wait(seconds):
        raise DeadlineExceeded(f"no answer within {seconds:.1f} s")
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
