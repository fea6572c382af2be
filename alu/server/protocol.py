"""A request-head timeout for uvicorn's h11 protocol.

uvicorn closes an idle keep-alive connection, but its timer restarts on every byte, and a
connection that is sending a request head has none: a client that sends a head a byte at a
time holds its connection (and a file descriptor) for as long as it likes. Here every
connection must complete a request head within ``seconds`` of being opened or of the
previous response, however many bytes trickle in meanwhile; otherwise it is closed. A
request whose head has arrived is not affected (its body has ``body_timeout``), nor is
keep-alive: an idle connection still closes at uvicorn's ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def head_timeout_protocol(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing connections whose request head is late."""

    class HeadTimeoutProtocol(H11Protocol):
        head_timeout = seconds

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_timer: asyncio.TimerHandle | None = None
            self._arm_head_timer()

        def _arm_head_timer(self) -> None:
            self._cancel_head_timer()
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_overdue)

        def _cancel_head_timer(self) -> None:
            timer = getattr(self, "_head_timer", None)
            if timer is not None:
                timer.cancel()
                self._head_timer = None

        def _head_overdue(self) -> None:
            self._head_timer = None
            # Still waiting for (the rest of) a head: no request of this cycle has begun.
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # a head arrived: its request is running
                self._cancel_head_timer()

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._arm_head_timer()  # the next head has its own time, from now
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

    return HeadTimeoutProtocol
