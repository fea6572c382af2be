"""Fake OpenAI-compatible upstreams on loopback, for the server's and the ``openai:``
backend's tests of upstream faults: one that answers at once or trickles its answer a byte at
a time, one that floods past ``max_tokens``, one that trickles its body after quick headers."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Loopback:
    """A threaded HTTP server on a free loopback port, serving a handler class; ``stop`` is
    set on close, for handlers that wait between the bytes they send."""

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.stop = getattr(self, "stop", None) or threading.Event()

        class Quiet(handler):
            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeUpstream(_Loopback):
    """A real OpenAI-compatible HTTP server on loopback. ``trickle``: the answer comes one
    byte every 50 ms (each read is quick, so a per-read timeout never fires). Otherwise it
    answers ``reply`` at once. Every request body is kept in ``requests``."""

    def __init__(self, reply: str = "Paris.", trickle: bool = False):
        self.reply, self.trickle, self.requests = reply, trickle, []
        self.stop = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                upstream.requests.append(body)
                data = json.dumps(
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": upstream.reply},
                            }
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    for i in range(len(data)):
                        if upstream.trickle and upstream.stop.wait(0.05):
                            return
                        self.wfile.write(data[i : i + 1] if upstream.trickle else data[i:])
                        self.wfile.flush()
                        if not upstream.trickle:
                            return
                except OSError:
                    return

        self.serve(Handler)


class FloodUpstream(_Loopback):
    """An OpenAI-compatible server on loopback that answers ``size`` characters whatever
    ``max_tokens`` says: as one JSON completion (``mode="json"``), or as server-sent events
    of ``piece`` characters each (``mode="sse"``). ``sent`` counts the bytes it got out."""

    def __init__(self, mode: str, size: int, piece: int = 4096):
        self.mode, self.size, self.piece, self.sent = mode, size, piece, 0
        self.requests: list[dict] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                upstream.requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                try:
                    if upstream.mode == "json":
                        self._json()
                    else:
                        self._events()
                except OSError:  # the client closed the connection: what a flood should meet
                    return

            def _write(self, data: bytes) -> None:
                self.wfile.write(data)
                upstream.sent += len(data)

            def _json(self) -> None:
                head = b'{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,'
                head += b'"finish_reason":"stop","message":{"role":"assistant","content":"'
                tail = b'"}}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(head) + upstream.size + len(tail)))
                self.end_headers()
                self._write(head)
                for start in range(0, upstream.size, 64 * 1024):
                    self._write(b"x" * min(64 * 1024, upstream.size - start))
                self._write(tail)

            def _events(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for start in range(0, upstream.size, upstream.piece):
                    content = "y" * min(upstream.piece, upstream.size - start)
                    event = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m"}
                    event["choices"] = [{"index": 0, "delta": {"content": content}, "finish_reason": None}]
                    self._write(f"data: {json.dumps(event)}\n\n".encode())
                self._write(b"data: [DONE]\n\n")

        self.serve(Handler)


class TrickleUpstream(_Loopback):
    """Sends its status line and headers at once, then the body a byte every 50 ms."""

    def __init__(self):
        self.stop = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                body = b'{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[]}' * 20
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for i in range(len(body)):
                        if upstream.stop.wait(0.05):
                            return
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                except OSError:
                    return

        self.serve(Handler)
