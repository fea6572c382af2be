"""Shared fixtures: a scripted model that plays the four agents, stores in tmp folders."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from alu import ALU, KnowledgeBase, PipelineConfig, Target, TargetStore
from alu.backends.scripted import ScriptedModel
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
