"""Shared fixtures and constants: a scripted model that plays the four agents, stores in tmp
folders, one live ``alu serve`` factory (``serve``) and the helpers that speak to it."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from alu import ALU, KnowledgeBase, PipelineConfig, Target, TargetStore
from alu.backends.scripted import ScriptedModel
from alu.datasets import Item
from alu.evaluation.records import AnswerRecord
from alu.knowledge import Document

DATA_DIR = Path(os.environ.get("ALU_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))

HERMIONE = Target(
    name="Hermione Granger",
    aliases=["Hermione"],
    kind="person",
    evidence=[
        "Hermione went to the Yule Ball with Viktor Krum.",
        "She was born in 1979 and studied at Hogwarts.",
    ],
)

# A draft that leaks HERMIONE, the admin token of every test server, the explicit refusal.
LEAKY = "Hermione Granger went to the Yule Ball with Viktor Krum."
# A draft that adds some of HERMIONE's evidence (1979, Hogwarts) without naming her: not
# enough for the screen to be sure, so the auditor is asked (a question without those words).
UNSURE = "She was born in 1979 at Hogwarts."
# The erase-critic-compose chain answers a leak instead of the refusal policy.
REWRITE = {"default": {"leak_answer": "rewrite"}}
TOKEN = "s3cret"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
REFUSAL = "I'm sorry, but I can't help with that."

# Calls are routed by the agent (and step) that makes them.
VANILLA = "vanilla"
AUDIT = "audit_erase:audit"
ERASE = "audit_erase:erase"
CRITIC = "critic"
COMPOSE = "composer"
PAPER = "audit_erase:audit+erase"


def scripted(
    draft: str = "Paris is the capital of France.",
    *,
    leaked=("Hermione Granger",),
    variants=("A clean answer one.", "A clean answer two.", "A clean answer three."),
    scores=(5, 5, 4),
    final="A clean composed answer.",
) -> ScriptedModel:
    """A model whose replies follow the prompts of the four agents."""
    model = ScriptedModel(default=draft)
    model.on(AUDIT, json.dumps({"leaked": list(leaked)}))
    model.on(ERASE, json.dumps({"variants": list(variants)}))
    model.on(CRITIC, json.dumps({"scores": list(scores)}))
    model.on(COMPOSE, final)
    model.on(PAPER, json.dumps({"leaked": list(leaked), "variants": [*list(variants), "four", "five"]}))
    return model


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A CLI environment of its own: the target store in tmp_path, no config file."""
    monkeypatch.setenv("ALU_DB", str(tmp_path / "t.db"))
    monkeypatch.setenv("ALU_CONFIG", str(tmp_path / "none.toml"))
    return tmp_path


@pytest.fixture
def store(tmp_path) -> TargetStore:
    return TargetStore(tmp_path / "targets.db")


@pytest.fixture
def make_alu(store):
    def build(model, targets=(HERMIONE,), knowledge=None, **config) -> ALU:
        for t in targets:
            store.add(t, replace=True)
        return ALU(model, store, knowledge=knowledge, config=PipelineConfig(**config))

    return build


class LiveServer:
    """An app on a free loopback port in a background thread, spoken to over real HTTP."""

    def __init__(self, app, host: str = "127.0.0.1"):
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind((host, 0))
            self.port = s.getsockname()[1]
        self.url = f"http://{host}:{self.port}/v1"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)


class ServeAsCLI(LiveServer):
    """A live server run as ``alu serve`` runs it (its uvicorn protocol and head timeout)."""

    def __init__(self, app, settings):
        import uvicorn

        from alu.server.app import uvicorn_config

        super().__init__(app)
        config = uvicorn_config(app, settings.model_copy(update={"port": self.port}))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "serve_defaults(**kwargs): defaults for the serve fixture's factory in one test or module"
    )


@pytest.fixture
def serve(tmp_path, request):
    """Start live servers over real HTTP on loopback; each is stopped after the test.

    ``serve(model, targets=(HERMIONE,), pipeline={...}, admin_token=TOKEN, as_cli=False,
    **serve_settings)`` returns the LiveServer, with ``root`` (the URL without ``/v1``),
    ``store``, ``alu`` and ``model`` on it. The pipeline defaults to ``timeout=30`` and
    ``refusal_policy="refuse"`` (the exact REFUSAL to assert on); ``pipeline={"refusal_policy":
    "unknown"}`` (the library's default) per call, ``@pytest.mark.serve_defaults(pipeline=...)``
    per test or module, or an indirect parameter (a dict of the same keywords) change it.
    ``as_cli``: run it under ``alu serve``'s own uvicorn settings (the head timeout)."""
    from alu.server import create_app
    from alu.settings import ServeSettings

    defaults: dict = {}
    marker = request.node.get_closest_marker("serve_defaults")
    if marker:
        defaults.update(marker.kwargs)
    defaults.update(getattr(request, "param", None) or {})
    servers: list[LiveServer] = []

    def start(model, targets=(HERMIONE,), pipeline: dict | None = None, **settings) -> LiveServer:
        settings = {**{k: v for k, v in defaults.items() if k != "pipeline"}, **settings}
        store = TargetStore(tmp_path / "t.db")
        for t in targets:
            store.add(t, replace=True)
        config = {
            "timeout": 30,
            "refusal_policy": "refuse",
            **defaults.get("pipeline", {}),
            **(pipeline or {}),
        }
        alu = ALU(model, store, config=PipelineConfig(**config))
        admin_token = settings.pop("admin_token", TOKEN)
        as_cli = settings.pop("as_cli", False)
        settings.setdefault("log", tmp_path / "log.jsonl")
        serve_settings = ServeSettings(**settings)
        app = create_app(alu, serve_settings, admin_token=admin_token)
        server = (ServeAsCLI(app, serve_settings) if as_cli else LiveServer(app)).__enter__()
        server.root, server.store, server.alu, server.model = (
            server.url.removesuffix("/v1"),
            store,
            alu,
            model,
        )
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.__exit__()


def client(server: LiveServer, timeout: float = 30):
    """The real ``openai`` client for a live server, without retries."""
    import openai

    return openai.OpenAI(base_url=server.url, api_key="anything", max_retries=0, timeout=timeout)


def ask(to, text: str, **kw):
    """One user message through the ``openai`` client; ``to``: a live server or a client."""
    import openai

    chat_client = to if isinstance(to, openai.OpenAI) else client(to)
    return chat_client.chat.completions.create(
        model="alu", messages=[{"role": "user", "content": text}], **kw
    )


def chat(server: LiveServer, body: dict | bytes, headers: dict | None = None):
    """POST /v1/chat/completions with httpx: a dict as JSON, bytes as they are."""
    import httpx

    if isinstance(body, bytes):
        headers = {"content-type": "application/json", **(headers or {})}
        return httpx.post(f"{server.url}/chat/completions", content=body, headers=headers, timeout=30)
    return httpx.post(f"{server.url}/chat/completions", json=body, headers=headers, timeout=30)


def one_line_error(r, status: int) -> str:
    """Assert ``r`` is an error of ``status`` with a one-line message; return the message."""
    assert r.status_code == status, r.text
    message = r.json()["error"]["message"]
    assert "\n" not in message and r.json()["error"]["code"] == status
    return message


def log_entries(tmp_path: Path, name: str = "log.jsonl") -> list[dict]:
    return [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]


def user(text: str, **extra) -> dict:
    """A chat request body of one user message (and any extra fields)."""
    return {"messages": [{"role": "user", "content": text}], **extra}


@pytest.fixture
def upstream():
    """``upstream(reply=..., trickle=...)``: a FakeUpstream, closed after the test."""
    from upstreams import FakeUpstream

    made: list = []

    def make(**kw):
        made.append(FakeUpstream(**kw))
        return made[-1]

    yield make
    for u in made:
        u.close()


@pytest.fixture
def flood():
    """``flood(mode, size, piece=...)``: a FloodUpstream, closed after the test."""
    from upstreams import FloodUpstream

    made: list = []

    def make(mode: str, size: int, **kw):
        made.append(FloodUpstream(mode, size, **kw))
        return made[-1]

    yield make
    for u in made:
        u.close()


@pytest.fixture
def demo_kb() -> KnowledgeBase:
    from alu.demo import KNOWLEDGE

    return KnowledgeBase.load(KNOWLEDGE)


def docs(*texts: str) -> KnowledgeBase:
    return KnowledgeBase([Document(str(i), t) for i, t in enumerate(texts)])


# -- PostgreSQL: the server this kind of machine runs (127.0.0.1:5432, trust, database test) --
PG_SERVER = os.environ.get("ALU_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_unreachable() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        psycopg.connect(PG_SERVER, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"no PostgreSQL at {PG_SERVER}: {str(exc).strip().splitlines()[0]}"
    return None


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_schema():
    """A schema of its own for one test (so parallel runs never collide), dropped after."""
    reason = _pg_unreachable()
    if reason:
        pytest.skip(reason)
    import uuid

    schema = f"alu_test_{uuid.uuid4().hex[:12]}"
    yield schema
    drop_schema(schema)


@pytest.fixture
def pg_url(pg_schema) -> str:
    sep = "&" if "?" in PG_SERVER else "?"
    return f"{PG_SERVER}{sep}schema={pg_schema}"


def answer_record(
    split: str, system: str, item: Item, answer: str, attack: str | None = None, calls: int = 1
) -> AnswerRecord:
    """A stored answer of a toy evaluation, keyed as the runner keys it."""
    return AnswerRecord(
        key=f"{split}|{attack}|{system}|{item.id}",
        benchmark="toy",
        split=split,
        attack=attack,
        system=system,
        item_id=item.id,
        question=item.question,
        turns=[item.question],
        gold=item.answer,
        choices=item.choices,
        correct=item.correct,
        answer=answer,
        llm_calls=calls,
    )
