"""``alu serve --workers N`` as a real process tree, with an SQLite store and a fake
OpenAI-compatible upstream as the model: several workers answer on one port, all map the
one index file (built once), a target added through one guards the next request of every
one, the admin token shows in no process's command line; and the one-line refusals."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import HERMIONE, TOKEN
from typer.testing import CliRunner

from alu import Target, TargetStore
from alu.cli import app
from alu.scan.indexfile import IndexFile
from alu.server.workers import SETTINGS_ENV, check_workers
from alu.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
DRAFT = "Ron Weasley plays chess."  # what the upstream says to every question
QUESTION = "Who plays chess?"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def wait_for(condition: Callable[[], Any], seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds:g} s")


class Workers:
    """``alu serve --workers 2`` in a child process (the supervisor), the token in a file."""

    def __init__(self, tmp: Path, upstream_url: str, workers: int = 2, extra: tuple[str, ...] = ()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.root = f"http://127.0.0.1:{self.port}"
        (tmp / "token").write_text(TOKEN + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALU_")}
        env.update(
            ALU_DB=str(tmp / "t.db"),
            ALU_CONFIG=str(tmp / "none.toml"),
            ALU_CACHE_DIR=str(tmp / "cache"),
            ALU_BASE_URL=upstream_url,
            ALU_API_KEY="not-a-secret",
            ALU_RETRIES="0",
            TMPDIR=str(tmp),  # where the supervisor writes the workers' settings file
            PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        )
        self.output = open(tmp / "serve.log", "w")
        command = ["serve", "--port", str(self.port), "--model", "openai:fake", "--admin-token-file", "token"]
        command += ["--workers", str(workers), *extra]
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from alu.cli import app; app()", *command],
            cwd=tmp,
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        self.pids: set[int] = set()

    def log(self) -> str:
        return Path(self.output.name).read_text()

    def on_each_worker(self, do: Callable[[httpx.Client], Any], workers: int = 2) -> dict[int, Any]:
        """``do(client)`` on each worker till it gives something (a keep-alive connection
        stays with the worker that accepted it, whose pid ``/healthz`` tells before and after)."""
        done: dict[int, Any] = {}

        def more() -> bool:
            assert self.process.poll() is None, self.log()
            try:
                with httpx.Client(base_url=self.root, timeout=30) as c:
                    pid = c.get("/healthz").json()["pid"]
                    if pid not in done:
                        result = do(c)
                        if result and c.get("/healthz").json()["pid"] == pid:  # one connection throughout
                            done[pid] = result
            except httpx.TransportError:  # not listening yet
                pass
            return len(done) == workers

        wait_for(more)
        self.pids |= set(done)
        return done

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        finally:
            for pid in self.pids:  # a worker the supervisor left behind: ended by its id
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            self.output.close()


def readiness(c: httpx.Client) -> dict | None:
    r = c.get("/readyz")
    return r.json() if r.status_code == 200 else None


def screened(c: httpx.Client) -> tuple[str, list[str]]:
    """The answer to QUESTION through the openai client on this connection, then the
    candidates the screen found in the same exchange asked again with the trace."""
    root = str(c.base_url).rstrip("/")
    chat = openai.OpenAI(base_url=f"{root}/v1", api_key="x", http_client=c, max_retries=0)
    answer = chat.chat.completions.create(model="alu", messages=[{"role": "user", "content": QUESTION}])
    body = {"messages": [{"role": "user", "content": QUESTION}], "alu_explain": True}
    trace = c.post("/v1/chat/completions", json=body, headers=ADMIN).json()["alu"]["trace"]
    return answer.choices[0].message.content, [t["name"] for t in trace["candidates"]]


def mapped(pid: int, path: Path) -> list[str]:
    return [line for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if str(path) in line]


def test_two_workers_share_one_index_file_and_every_one_sees_a_change(tmp_path, upstream):
    fake = upstream(reply=DRAFT)
    store = TargetStore(tmp_path / "t.db")
    store.add(HERMIONE)  # a list to index at start: both workers find no file, one builds it
    server = Workers(tmp_path, fake.url)
    try:
        ready = server.on_each_worker(readiness)  # 503 until its index is in; two pids: two workers
        assert all(r == {"status": "ready", "pid": pid} for pid, r in ready.items())
        # Before the target exists, every worker passes the upstream's draft through.
        assert {a for a, _ in server.on_each_worker(screened).values()} == {DRAFT}

        # One index file, written once: each worker maps that very file (not a copy, not an
        # older one replaced under it).
        index = tmp_path / "cache" / "index"
        files = sorted(p.name for p in index.iterdir())
        assert len(files) == 2 and files[1] == files[0] + ".lock", files
        path = index / files[0]
        inode = os.stat(path).st_ino
        for pid in server.pids:
            lines = mapped(pid, path)
            assert lines and all(" (deleted)" not in line and f" {inode} " in line for line in lines), pid
        assert not mapped(server.process.pid, path)  # the supervisor builds nothing

        # One add through the admin API (whichever worker takes it) guards the next request on each.
        r = httpx.post(
            f"{server.root}/v1/targets", json={"name": "Ron Weasley", "kind": "person"}, headers=ADMIN
        )
        assert r.status_code == 201, r.text
        after = server.on_each_worker(screened)
        for pid, (answer, candidates) in after.items():
            assert "Ron" not in answer and "Ron Weasley" in candidates, (pid, answer, candidates)

        # The workers are forked from the supervisor (which loaded what they all read), not
        # spawned as fresh interpreters: their command line is the supervisor's.
        supervisor_command = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
        for pid in server.pids:
            assert Path(f"/proc/{pid}/cmdline").read_bytes() == supervisor_command, pid
            parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
            assert int(parent) == server.process.pid, pid

        # The admin token is in no command line (ps) nor environment; the settings file the
        # workers read is the owner's only and holds no token.
        for pid in [server.process.pid, *server.pids]:
            assert TOKEN.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
            assert TOKEN.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
        (settings_file,) = tmp_path.glob("alu-serve-*/settings.json")
        assert settings_file.stat().st_mode & 0o077 == 0 and settings_file.parent.stat().st_mode & 0o077 == 0
        assert TOKEN not in settings_file.read_text()
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log()
    assert not settings_file.exists()  # removed with the supervisor
    for pid in server.pids:  # the workers stopped with it
        assert not Path(f"/proc/{pid}").exists()


def test_a_worker_with_no_file_files_a_long_list_on_every_core_and_serves_it(tmp_path, upstream):
    """Past ``PARALLEL_FROM`` targets the worker that builds the file forks one filing process
    per core from inside the server (threads running): the file it writes screens the last
    target of the list, which the last slice filed, on every worker."""
    from alu.scan.filing import PARALLEL_FROM

    fake = upstream(reply=DRAFT)
    store = TargetStore(tmp_path / "t.db")
    people = [Target(name=f"Zorvan{i} Quillet{i}", kind="person") for i in range(PARALLEL_FROM + 2_000)]
    store.add_many([HERMIONE, *people, Target(name="Ron Weasley", kind="person")])
    store.close()
    server = Workers(tmp_path, fake.url)
    try:
        ready = server.on_each_worker(readiness)
        assert all(r == {"status": "ready", "pid": pid} for pid, r in ready.items())
        for pid, (answer, candidates) in server.on_each_worker(screened).items():
            assert "Ron" not in answer and "Ron Weasley" in candidates, (pid, answer, candidates)
        (path,) = (p for p in (tmp_path / "cache" / "index").iterdir() if p.suffix == ".alu")
        assert IndexFile(path).ids.size == PARALLEL_FROM + 2_002
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log()


runner = CliRunner()


@pytest.mark.parametrize(
    ("before", "args", "message"),
    [
        ((), ("--workers", "0"), "--workers must be 1 or more"),
        ((), ("--workers", "2", "--model", "embedded"), "would load the model 'embedded' in every worker"),
        ((), ("--workers", "2", "--model", "gguf:/m.gguf"), "use a remote backend, e.g. --model openai:"),
        (("--db", ":memory:"), ("--workers", "2", "--model", "scripted"), "is in memory, one per process"),
    ],
)
def test_workers_that_could_not_share_are_refused_in_one_line(env, before, args, message):
    result = runner.invoke(app, [*before, "serve", *args])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert message in result.stderr


def test_a_model_per_worker_is_allowed_when_asked_and_one_worker_is_as_before(env):
    check_workers(load_settings(model="embedded", serve__workers=2, serve__model_per_worker=True))
    check_workers(load_settings(model="embedded"))  # one worker: today's single process
    with pytest.raises(ValueError, match=r"would load the model 'gguf:/m\.gguf'"):  # an agent's model too
        check_workers(load_settings(model="scripted", models={"critic": "gguf:/m.gguf"}, serve__workers=3))


def test_a_worker_that_cannot_start_stops_the_supervisor_in_one_line(tmp_path, upstream):
    # The knowledge base is read by each worker: the supervisor is not left restarting them.
    server = Workers(tmp_path, upstream().url, extra=("--kb", str(tmp_path / "missing.jsonl")))
    try:
        assert server.process.wait(60) == 1
    finally:
        server.stop()
    log = server.log()
    assert "cannot start: knowledge base not found" in log
    assert log.splitlines()[-1] == "error: a worker could not start (its reason is above); stopped"


def test_the_index_file_is_the_one_given_else_one_per_store_in_the_cache_folder(env, monkeypatch):
    from alu.server.workers import prepare, worker_settings

    monkeypatch.setenv("ALU_CACHE_DIR", str(env / "cache"))
    given = prepare(load_settings(model="scripted", serve__workers=2, serve__index_file=env / "i.alu"))
    assert given.serve.index_file == env / "i.alu"
    one = prepare(load_settings(model="scripted", serve__workers=2)).serve.index_file
    other = prepare(
        load_settings(model="scripted", db=str(env / "other.db"), serve__workers=2)
    ).serve.index_file
    assert one.parent == other.parent == env / "cache" / "index" and one != other
    monkeypatch.delenv(SETTINGS_ENV, raising=False)
    with pytest.raises(ValueError, match="run by alu serve --workers N"):
        worker_settings()
