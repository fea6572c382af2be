"""Liveness and readiness of ``alu serve``: ``/healthz`` stays up while ``/readyz`` is 503
until the target store can be read and the index is built; the admin's ``/healthz`` counts
the stored targets."""

from __future__ import annotations

import os
import threading
import time

import httpx
from conftest import ADMIN, REFUSAL, ask, one_line_error, scripted


def test_readyz_is_503_while_the_store_cannot_be_read_and_healthz_stays_up(serve, tmp_path):
    server = serve(scripted(draft="Paris."))
    root = server.root
    assert httpx.get(f"{root}/readyz").json() == {"status": "ready", "pid": os.getpid()}
    db = tmp_path / "t.db"
    saved = db.read_bytes()
    for extra in (tmp_path / "t.db-wal", tmp_path / "t.db-shm"):
        extra.unlink(missing_ok=True)
    db.write_bytes(b"this is no longer a database " * 200)
    try:
        r = httpx.get(f"{root}/readyz")
        assert "cannot read the target store" in one_line_error(r, 503)
        assert httpx.get(f"{root}/healthz").json()["status"] == "ok"  # alive, not ready
        assert httpx.get(f"{root}/healthz", headers=ADMIN).json()["targets"] is None
        assert ask(server, "Capital of France?").choices[0].message.content == REFUSAL  # fails closed
        one_line_error(httpx.get(f"{server.url}/targets", headers=ADMIN), 503)
    finally:
        db.write_bytes(saved)
    assert httpx.get(f"{root}/readyz").status_code == 200


def test_readyz_is_503_while_the_index_is_being_built(serve):
    server = serve(scripted(draft="Paris."), ready_wait=0.2)
    state = server._server.config.app.state.alu_server
    index = state.alu.index
    release, real_sync = threading.Event(), index.sync

    def slow_sync() -> None:
        release.wait(20)
        real_sync()

    index.sync = slow_sync
    try:
        r = httpx.get(f"{server.root}/readyz")
        assert "still being built" in one_line_error(r, 503)
        assert httpx.get(f"{server.root}/healthz").status_code == 200
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while httpx.get(f"{server.root}/readyz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    del index.sync


def test_admin_healthz_counts_the_stored_targets_after_a_large_import(serve):
    server = serve(scripted(draft="Paris."), targets=())
    names = "\n".join(f"Person Number{i}" for i in range(2500))
    r = httpx.post(f"{server.url}/targets/import", json={"format": "txt", "content": names}, headers=ADMIN)
    assert r.status_code == 201
    health = httpx.get(f"{server.root}/healthz", headers=ADMIN).json()
    assert health["targets"] == 2500  # from the store, before any chat request synced the index
    deadline = time.monotonic() + 60
    while httpx.get(f"{server.root}/readyz").status_code != 200:  # readiness brings the index up
        assert time.monotonic() < deadline
        time.sleep(0.1)
    state = server._server.config.app.state.alu_server
    assert len(state.alu.index) == 2500
