"""Several real ``alu serve`` processes on their own ports against one PostgreSQL schema,
spoken to over HTTP: what one replica's admin API changes guards the next request on the
others; a replica that loses its database refuses, then recovers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import ADMIN, TOKEN
from tcp_proxy import TcpProxy

from alu.pgsql import Database

psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")

DRAFT = "Ron Weasley plays chess."  # what the scripted model says to every question
QUESTION = "Who plays chess?"
ROOT = Path(__file__).resolve().parents[1]


def wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class Replica:
    """``alu serve`` in a child process, with the scripted model and the given database."""

    def __init__(self, name: str, db: str, tmp: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.name = name
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            ALU_DB=db,
            ALU_CONFIG=str(tmp / "none.toml"),
            ALU_ADMIN_TOKEN=TOKEN,
            PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        )
        command = "from alu.cli import app; app()"
        model = f"scripted:{DRAFT}"
        log = ["--log-db", db]  # the decision log goes to the same database
        self.output = open(tmp / f"{name}.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", command, "serve", "--port", str(self.port), "--model", model, *log],
            env=dict(env, ALU_SERVE__REPLICA=name),
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )

    def started(self) -> Replica:
        def up() -> bool:
            assert self.process.poll() is None, Path(self.output.name).read_text()
            try:
                return httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(up, 120), f"replica {self.name} did not start"
        return self

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.output.close()

    def chat(self, text: str = QUESTION, explain: bool = False) -> httpx.Response:
        body = {"messages": [{"role": "user", "content": text}], "alu_explain": explain}
        headers = ADMIN if explain else {}
        return httpx.post(f"{self.base}/v1/chat/completions", json=body, headers=headers, timeout=60)

    def ask(self, text: str = QUESTION) -> str:
        response = self.chat(text)
        assert response.status_code == 200, response.text
        return response.json()["choices"][0]["message"]["content"]

    def admin(self, method: str, path: str = "", **kw) -> httpx.Response:
        headers = ADMIN
        return httpx.request(method, f"{self.base}/v1/targets{path}", headers=headers, timeout=60, **kw)

    def health(self) -> dict:
        headers = ADMIN
        return httpx.get(f"{self.base}/healthz", headers=headers, timeout=5).json()


@pytest.fixture
def replicas(pg_url, tmp_path):
    started: list[Replica] = []

    def start(*names: str, db: str = pg_url) -> list[Replica]:
        new = [Replica(n, db, tmp_path) for n in names]  # start them together, then wait
        started.extend(new)
        return [r.started() for r in new]

    yield start
    for r in started:
        r.stop()


def test_a_change_on_one_replica_guards_the_next_request_on_the_other(replicas):
    a, b = replicas("a", "b")
    assert "targets" not in httpx.get(f"{a.base}/healthz").json()  # only for the admin token
    assert a.ask() == DRAFT and b.ask() == DRAFT
    assert a.admin("POST", json={"name": "Ron Weasley", "kind": "person"}).status_code == 201
    assert "Ron" not in b.ask()  # the very next request on b
    revision = a.health()["targets_revision"]
    assert b.admin("DELETE", "/Ron Weasley").status_code == 200
    assert a.ask() == DRAFT  # released on a at once
    # and announced: a's index caught up without waiting for a request of its own
    b.admin("POST", json={"name": "Ada Lovelace"})
    assert wait_for(lambda: a.health()["targets_revision"] > revision + 1 and a.health()["targets"] == 1)


def test_concurrent_admin_writes_through_both_replicas_lose_nothing(replicas):
    a, b = replicas("a", "b")

    def add(i: int) -> int:
        replica = (a, b)[i % 2]
        if i % 10 == 0:
            body = {"format": "txt", "content": f"Imported {i}\nImported {i} bis\n"}
            return replica.admin("POST", "/import", json=body).status_code
        return replica.admin("POST", json={"name": f"Person {i}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(add, range(40))) == {201}
    expected = {f"Person {i}" for i in range(40) if i % 10} | {
        f"Imported {i}{s}" for i in range(0, 40, 10) for s in ("", " bis")
    }
    for replica in (a, b):
        listed = replica.admin("GET").json()["data"]
        assert {t["name"] for t in listed} == expected and len(listed) == len(expected)


def test_both_replicas_write_one_queryable_decision_log(replicas, pg_url, pg_schema):
    a, b = replicas("a", "b")
    a.ask()
    b.ask()
    b.ask("And who else?")

    def rows():
        with psycopg.connect(Database.parse(pg_url).dsn) as conn:
            return conn.execute(
                f"SELECT replica, count(*) FROM {pg_schema}.decisions GROUP BY 1 ORDER BY 1"
            ).fetchall()

    assert wait_for(lambda: rows() == [("a", 1), ("b", 2)])


def test_a_replica_without_its_database_refuses_and_recovers(replicas, pg_url):
    proxy = TcpProxy("127.0.0.1", 5432).start()
    via_proxy = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}") + "&timeout=1"
    try:
        (a,) = replicas("a")
        (c,) = replicas("c", db=via_proxy)
        assert c.ask() == DRAFT
        proxy.stop()
        assert a.admin("POST", json={"name": "Ron Weasley", "kind": "person"}).status_code == 201
        cut_off = c.chat(explain=True).json()
        assert "Ron" not in cut_off["choices"][0]["message"]["content"]  # never the unguarded draft
        assert cut_off["alu"]["trace"]["verdict"] == "failed_closed"
        assert "StoreError" in cut_off["alu"]["trace"]["error"]
        down = c.admin("POST", json={"name": "Lost write"})
        assert down.status_code == 503 and "cannot save targets" in down.json()["error"]["message"]
        proxy.start()

        def recovered() -> bool:
            trace = c.chat(explain=True).json()["alu"]["trace"]
            return "StoreError" not in (trace["error"] or "")

        assert wait_for(recovered, 60)
        trace = c.chat(explain=True).json()["alu"]["trace"]
        assert [t["name"] for t in trace["candidates"]] == ["Ron Weasley"]  # the change made meanwhile
        assert "Ron" not in c.ask()
        assert a.admin("DELETE", "/Ron Weasley").status_code == 200
        assert c.ask() == DRAFT
        assert [t["name"] for t in a.admin("GET").json()["data"]] == []  # the lost write was not half-made
    finally:
        proxy.stop()


def test_readyz_follows_the_database_while_healthz_stays_up(replicas, pg_url):
    proxy = TcpProxy("127.0.0.1", 5432).start()
    via_proxy = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}") + "&timeout=1"
    try:
        (a,) = replicas("a")
        (c,) = replicas("c", db=via_proxy)
        assert wait_for(lambda: httpx.get(f"{c.base}/readyz", timeout=10).status_code == 200)
        names = "\n".join(f"Person Number{i}" for i in range(1500))
        assert a.admin("POST", "/import", json={"format": "txt", "content": names}).status_code == 201
        assert c.health()["targets"] == 1500  # counted in the store, whatever the index has applied
        proxy.stop()
        down = httpx.get(f"{c.base}/readyz", timeout=10)
        assert down.status_code == 503 and down.json()["error"]["message"].startswith("not ready")
        assert httpx.get(f"{c.base}/healthz", timeout=10).json()["status"] == "ok"  # alive
        assert c.health()["targets"] is None
        proxy.start()
        assert wait_for(lambda: httpx.get(f"{c.base}/readyz", timeout=10).status_code == 200, 60)
        assert c.health()["targets_revision"] == a.health()["targets_revision"]  # caught up
    finally:
        proxy.stop()
