"""The operator console over HTTP (no browser): accounts, sessions and CSRF, requests and
their record, targets, Try it, decisions; on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import time

import pytest
from conftest import HERMIONE, scripted
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from alu import ALU, PipelineConfig, Target
from alu.cli import app as cli_app
from alu.console.search import TargetList
from alu.console.store import LOCK_AFTER, ConsoleError, ConsoleStore
from alu.server import create_app
from alu.settings import ServeSettings
from alu.stores import open_store

TOKEN = "admin-token-for-tests"
PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    """The ``db`` setting: an SQLite file, or a fresh PostgreSQL schema (skipped when absent)."""
    if request.param == "sqlite":
        return str(tmp_path / "targets.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def records(db):
    """The console's tables, read and written as the tests check them."""
    with ConsoleStore(db) as store:
        yield store


@pytest.fixture
def console(db, tmp_path):
    """A server with the console on, an operator ``alice``, and a client signed in as her."""
    store = open_store(db)
    store.add(HERMIONE, replace=True)
    with ConsoleStore.beside(store) as records:
        records.add_operator("alice", PASSWORD)
    model = scripted(draft="Hermione Granger went to the Yule Ball with Viktor Krum.")
    alu = ALU(model, store, config=PipelineConfig(timeout=30))
    app = create_app(alu, ServeSettings(log=tmp_path / "log.jsonl"), admin_token=TOKEN)
    with TestClient(app, base_url="http://testserver") as client:
        sign_in(client)
        yield client
    store.close()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client: TestClient, name: str = "alice", password: str = PASSWORD):
    page = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"name": name, "password": password, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )


def post(client: TestClient, page: str, path: str, data: dict, **kw):
    """Post a form the way the browser does: with the CSRF token of the page it is on."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={**data, "csrf": token}, follow_redirects=False, **kw)


def test_pages_refuse_without_a_session_and_carry_the_security_headers(console):
    anonymous = TestClient(console.app)
    for path in ("/console", "/console/requests", "/console/targets", "/console/try", "/console/decisions"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/console/login", path
    assert (
        anonymous.post("/console/requests", data={"kind": "erasure"}, follow_redirects=False).status_code
        == 303
    )
    page = console.get("/console/requests")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "default-src 'none'" in csp
    assert re.findall(r"<script(?![^>]*\bsrc=)", page.text) == []  # no inline script
    assert re.search(r"<[^>]+\son\w+=", page.text) is None  # no event-handler attributes
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    cookie = console.cookies.jar
    session = next(c for c in cookie if c.name == "alu_console")
    assert session.path == "/console" and session.has_nonstandard_attr("HttpOnly")
    assert PASSWORD not in page.text


def test_the_session_cookie_is_secure_over_tls(db, tmp_path):
    store = open_store(db)
    with ConsoleStore.beside(store) as records:
        records.add_operator("alice", PASSWORD)
    app = create_app(ALU(scripted(), store), ServeSettings(log=tmp_path / "l.jsonl"), admin_token=TOKEN)
    with TestClient(app, base_url="https://testserver") as client:
        response = sign_in(client)
    cookie = response.headers["set-cookie"]
    assert (
        "Secure" in cookie
        and "HttpOnly" in cookie
        and "SameSite=strict" in cookie.replace("Strict", "strict")
    )
    store.close()


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(console):
    anonymous = TestClient(console.app)
    assert sign_in(anonymous, password="wrong password").status_code == 401
    assert sign_in(anonymous, name="nobody").status_code == 401
    for _ in range(LOCK_AFTER - 1):
        sign_in(anonymous, password="wrong password")
    locked = sign_in(anonymous)  # the right password, but locked now
    assert locked.status_code == 401 and "alu_console=" not in locked.headers.get("set-cookie", "")


def test_guesses_made_at_once_still_lock_the_account(console, records):
    """Parallel wrong passwords cannot all read the same failure count: after them, the
    right password is refused too (the account is locked)."""
    from concurrent.futures import ThreadPoolExecutor

    def guess(_: int) -> bool:
        try:
            records.sign_in("alice", "wrong password")
        except ConsoleError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        assert not any(pool.map(guess, range(4 * LOCK_AFTER)))
    with pytest.raises(ConsoleError):
        records.sign_in("alice", PASSWORD)


def test_a_form_posted_without_its_csrf_token_is_refused(console):
    forged = console.post(
        "/console/requests",
        data={"kind": "erasure", "requester": "Mallory", "targets": "Someone"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    wrong = console.post(
        "/console/requests",
        data={"kind": "erasure", "requester": "Mallory", "targets": "Someone", "csrf": "guessed"},
        follow_redirects=False,
    )
    assert wrong.status_code == 403
    assert "Mallory" not in console.get("/console/requests").text
    login = TestClient(console.app).post("/console/login", data={"name": "alice", "password": PASSWORD})
    assert login.status_code == 403  # sign-in without the form's own token


def test_sign_out_ends_the_session(console):
    cookie = console.cookies.get("alu_console")
    response = post(console, "/console/requests", "/console/logout", {})
    assert response.status_code == 303
    replay = TestClient(console.app, cookies={"alu_console": cookie})
    assert replay.get("/console/requests", follow_redirects=False).status_code == 303


def test_a_request_moves_received_applied_verified_and_the_export_is_the_record(console):
    filed = post(
        console,
        "/console/requests/new",
        "/console/requests",
        {
            "kind": "erasure",
            "requester": "=HYPERLINK(1)",
            "reference": "REF-1",
            "targets": "Hermione Granger",
        },
    )
    assert filed.status_code == 303
    page = console.get(filed.headers["location"])
    assert "received" in page.text and "in the store" in page.text
    where = filed.headers["location"].split("?")[0]
    wrong = post(console, where, f"{where}/move", {"status": "verified"})
    assert wrong.status_code == 400 and "cannot become verified" in wrong.text
    assert post(console, where, f"{where}/move", {"status": "applied"}).status_code == 303
    assert (
        post(console, where, f"{where}/move", {"status": "verified", "note": "asked twice"}).status_code
        == 303
    )
    page = console.get(where)
    history = re.findall(r"<li>(\d{4}-\d\d-\d\d [^<]*?): (\w+) by alice", page.text)
    assert [status for _, status in history] == ["received", "applied", "verified"]
    export = console.get("/console/requests.csv")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 1 and rows[0]["status"] == "verified"
    assert rows[0]["requester"] == "'=HYPERLINK(1)"  # a formula cell, quoted
    assert "applied by alice" in rows[0]["history"] and "asked twice" in rows[0]["history"]


def test_rejecting_needs_a_reason_and_the_filters_select(console, records):
    for who in ("Ann Asker", "Bob Asker"):
        post(
            console,
            "/console/requests/new",
            "/console/requests",
            {"kind": "safety", "requester": who, "targets": "X"},
        )
    found = records.requests()
    bob, ann = found[0], found[1]
    where = f"/console/requests/{bob.id}"
    assert post(console, where, f"{where}/move", {"status": "rejected"}).status_code == 400
    assert (
        post(console, where, f"{where}/move", {"status": "rejected", "note": "not ours"}).status_code == 303
    )
    records.age_request(ann.id, 31)
    rejected = console.get("/console/requests?status=rejected").text
    assert "Bob Asker" in rejected and "Ann Asker" not in rejected
    overdue = console.get("/console/requests?overdue=1").text
    assert "Ann Asker" in overdue and "Bob Asker" not in overdue and "overdue" in overdue
    assert "Ann Asker" not in console.get("/console/requests?newer=7").text
    assert "Bob Asker" not in console.get("/console/requests?older=7").text
    assert console.get("/console/requests?status=nonsense").status_code == 400
    rows = list(csv.DictReader(io.StringIO(console.get("/console/requests.csv?overdue=1").text)))
    assert [r["requester"] for r in rows] == ["Ann Asker"]


def test_targets_are_added_searched_shown_escaped_edited_and_deleted(console):
    added = post(
        console,
        "/console/targets/new",
        "/console/targets",
        {"name": XSS, "kind": "person", "aliases": "Zoë Åberg", "evidence": "She won in 2019."},
    )
    assert added.status_code == 303
    where = added.headers["location"].split("?")[0]
    page = console.get(where).text
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    found = console.get("/console/targets", params={"q": "ZOE ABERG"}).text  # folded as the screen folds
    assert "&lt;img" in found and "Hermione" not in found
    assert "Hermione" in console.get("/console/targets", params={"q": "hermione"}).text
    edited = post(
        console, f"{where}/edit", f"{where}/edit", {"name": "Zoe Aberg", "kind": "person", "aliases": "Zed"}
    )
    assert edited.status_code == 303
    assert "Zed" in console.get(edited.headers["location"]).text
    assert "&lt;img" not in console.get("/console/targets").text  # renamed: the old name is gone
    new_where = edited.headers["location"].split("?")[0]
    confirm = console.get(f"{new_where}/delete")
    assert "Delete Zoe Aberg?" in confirm.text
    assert post(console, f"{new_where}/delete", f"{new_where}/delete", {}).status_code == 303
    assert console.get(new_where).status_code == 404
    duplicate = post(console, "/console/targets/new", "/console/targets", {"name": "Hermione Granger"})
    assert duplicate.status_code == 400 and "exists already" in duplicate.text


def test_a_target_file_is_imported_whole_or_not_at_all(console):
    token = csrf_of(console.get("/console/targets/import").text)
    good = console.post(
        "/console/targets/import",
        data={"csrf": token, "format": ""},
        files={"file": ("people.txt", b"Ada Lovelace\nAlan Turing\n", "text/plain")},
        follow_redirects=False,
    )
    assert good.status_code == 303
    assert "3 targets" in console.get("/console/targets").text
    bad = console.post(
        "/console/targets/import",
        data={"csrf": token, "format": "json"},
        files={"file": ("bad.json", b'[{"name": "Grace Hopper"}, {"name": ""}]', "application/json")},
        follow_redirects=False,
    )
    assert bad.status_code == 400 and "target 2" in bad.text
    assert "Grace" not in console.get("/console/targets", params={"q": "grace"}).text.split("<table")[-1]


def test_try_it_shows_the_model_alone_beside_alu_with_the_trace(console):
    response = post(console, "/console/try", "/console/try", {"question": "Who went to the Yule Ball?"})
    assert response.status_code == 200
    alone, guarded = response.text.split('id="with"')
    assert "Hermione Granger went to the Yule Ball" in alone  # what the model alone says
    assert "Hermione" not in guarded.split("<h2>Trace</h2>")[0]  # what ALU lets out
    assert re.search(r"verdict <strong>(rewritten|redacted|refused)</strong>", guarded)
    assert "Candidates" in guarded and "Hermione Granger: score" in guarded


def test_decisions_are_kept_in_the_store_and_plotted(console, records):
    chat = console.post(
        "/v1/chat/completions", json={"model": "alu", "messages": [{"role": "user", "content": "Hi"}]}
    )
    assert chat.status_code == 200 and "alu_console" not in chat.headers.get("set-cookie", "")
    post(console, "/console/try", "/console/try", {"question": "Who went to the Yule Ball?"})
    store = records
    deadline = time.monotonic() + 10
    while len(store.decisions()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    decisions = store.decisions()
    assert {d.endpoint for d in decisions} == {"/v1/chat/completions", "console"}
    page = console.get("/console/decisions").text
    assert "<svg" in page and "2 decisions" in page
    assert "2 decisions" in console.get("/console/decisions", params={"target": "Hermione Granger"}).text
    assert "0 decisions" in console.get("/console/decisions", params={"target": "Hermione"}).text  # exact
    assert "0 decisions" in console.get("/console/decisions", params={"verdict": "failed_closed"}).text


def test_an_enrich_job_runs_in_the_background_and_its_state_is_kept(console, db, records):
    with open_store(db) as opened:  # closed here: a pool left to the collector warns from its thread
        target_id = opened.get("Hermione Granger").id
    where = f"/console/targets/{target_id}"
    page = console.get(where).text
    assert "Run enrich" in page and "Run probe" in page and "Run verify" not in page
    assert post(console, where, f"{where}/jobs", {"kind": "enrich"}).status_code == 303
    assert post(console, where, f"{where}/jobs", {"kind": "verify"}).status_code == 400
    store = records
    deadline = time.monotonic() + 20
    while store.jobs()[0].state in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
    job = store.jobs()[0]
    assert job.kind == "enrich" and job.operator == "alice" and job.state in ("done", "failed")
    assert "<progress" in console.get(where).text


def test_the_first_operator_is_made_with_the_admin_token(db, tmp_path):
    store = open_store(db)
    app = create_app(ALU(scripted(), store), ServeSettings(log=tmp_path / "l.jsonl"), admin_token=TOKEN)
    with TestClient(app) as client:
        assert client.get("/console/login", follow_redirects=False).headers["location"] == "/console/setup"
        form = {"name": "root", "password": PASSWORD, "password_again": PASSWORD}
        token = csrf_of(client.get("/console/setup").text)
        wrong = client.post("/console/setup", data={**form, "admin_token": "nope", "csrf": token})
        assert wrong.status_code == 401
        made = client.post(
            "/console/setup", data={**form, "admin_token": TOKEN, "csrf": token}, follow_redirects=False
        )
        assert made.status_code == 303
        assert sign_in(client, "root").status_code == 303
        assert client.get("/console/setup", follow_redirects=False).status_code == 303  # only once
    store.close()


def test_the_console_is_off_without_an_admin_token(tmp_path):
    store = open_store(str(tmp_path / "t.db"))
    app = create_app(ALU(scripted(), store), ServeSettings(log=tmp_path / "l.jsonl"), admin_token=None)
    with TestClient(app) as client:
        assert client.get("/console/login").status_code == 404


def test_operators_are_added_from_the_cli_with_the_password_on_stdin(env):
    runner = CliRunner()
    result = runner.invoke(cli_app, ["console", "user", "add", "bob"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    console = ConsoleStore(str(env / "t.db"))
    with pytest.raises(ConsoleError, match="exists already"):
        console.add_operator("bob", PASSWORD)
    token, session = console.sign_in("bob", PASSWORD)
    assert session.operator == "bob" and console.session(token) == session
    short = runner.invoke(cli_app, ["console", "user", "add", "carol"], input="short\n")
    assert short.exit_code == 1 and "too short" in short.output


def test_the_store_keeps_hashes_not_passwords_or_session_tokens(tmp_path):
    import sqlite3

    path = tmp_path / "t.db"
    console = ConsoleStore.beside(open_store(str(path)))
    console.add_operator("alice", PASSWORD)
    token, _ = console.sign_in("alice", PASSWORD)
    dump = "\n".join(sqlite3.connect(path).iterdump())
    assert PASSWORD not in dump and token not in dump and "$argon2" in dump


def test_the_target_list_pages_and_follows_changes(tmp_path):
    store = open_store(str(tmp_path / "t.db"))
    store.add_many(Target(name=f"Person {i}", aliases=[f"Alias{i}"]) for i in range(120))
    listing = TargetList(store)
    first = listing.page("", 1, 50)
    assert (first.total, first.pages, first.rows[0].name) == (120, 3, "Person 0")
    assert [r.name for r in listing.page("alias11", 1, 50).rows] == [
        f"Person {i}" for i in (11, *range(110, 120))
    ]
    assert listing.page("11", 1, 50).total == 11  # name and alias both match: each target once
    store.remove("Person 0")
    store.add(Target(name="Лев Толстой"))
    assert listing.page("", 1, 50).rows[0].name == "Person 1"
    assert [r.name for r in listing.page("LEV TOLSTOY", 1, 50).rows] == ["Лев Толстой"]
    assert listing.page("", 99, 50).page == 3  # past the end: the last page
    store.close()


def test_a_restarted_server_closes_its_own_unfinished_jobs_not_another_replicas(records):
    mine = records.add_job("enrich", "X", "alice", owner="a:8000")
    theirs = records.add_job("enrich", "Y", "alice", owner="b:8000")
    assert records.interrupt_jobs("a:8000") == 1
    states = {job.id: (job.state, job.error) for job in records.jobs()}
    assert states[mine][0] == "failed" and "interrupted" in states[mine][1]
    assert states[theirs] == ("queued", "")


def test_the_console_tables_migrate_once_and_refuse_a_newer_layout(db, records):
    from alu.console.store import LATEST
    from alu.errors import StoreError

    with ConsoleStore(db) as again, again._tx("reading") as cur:  # a second open applies nothing
        assert [r[0] for r in cur.rows("SELECT version FROM {t}migrations")] == list(range(1, LATEST + 1))
        cur.run(
            "INSERT INTO {t}migrations (version, name, applied_at) VALUES (?, 'future', 0)", (LATEST + 1,)
        )
    with pytest.raises(StoreError, match="newer than this ALU"):
        ConsoleStore(db)


def test_decisions_older_than_the_keeping_period_are_dropped(records):
    from alu.console.store import KEEP_DECISIONS_DAYS, Decision

    now = time.time()
    old = Decision(now - (KEEP_DECISIONS_DAYS + 1) * 86400, "/v1/chat/completions", "passed", [], 0.1, 1)
    new = Decision(now, "/v1/chat/completions", "refused", ["X"], 0.2, 3)
    records.add_decisions([old, new])
    assert records.prune_decisions() == 1
    assert [d.verdict for d in records.decisions()] == ["refused"]


def test_a_probe_job_stores_what_the_model_knows_and_the_target_page_shows_it(console, db, records):
    store = open_store(db)
    target_id = store.get("Hermione Granger").id
    where = f"/console/targets/{target_id}"
    assert "Not probed yet." in console.get(where).text
    assert post(console, where, f"{where}/jobs", {"kind": "probe"}).status_code == 303
    deadline = time.monotonic() + 20
    while records.jobs()[0].state in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
    job = records.jobs()[0]
    assert job.kind == "probe" and job.state == "done", job.error
    knowledge = store.get("Hermione Granger").knowledge
    assert knowledge is not None and knowledge.llm_calls > 0 and knowledge.answers
    page = console.get(where).text
    assert "Not probed yet." not in page and "Knows the target" in page and "(stale" not in page
    for item in knowledge.top(3):
        assert html.escape(item.text) in page


def test_editing_a_hazard_keeps_its_examples_and_an_import_trains_them(console, db):
    """The operator's examples (and the classifier learned from them) survive an edit of the
    other fields; a file imported through the console is trained as alu targets import does."""
    from alu.targets import Examples

    texts = [f"How would someone culture and spread dangerous pathogen strain {i}?" for i in range(12)]
    store = open_store(db)
    store.add(
        Target(name="Bio hazards", kind="hazard", examples=Examples(texts=texts, classifier=None)),
        replace=True,
    )
    target_id = store.get("Bio hazards").id
    where = f"/console/targets/{target_id}"
    form = {"name": "Bio hazards", "kind": "hazard", "aliases": "biohazards"}
    assert post(console, f"{where}/edit", f"{where}/edit", form).status_code == 303
    edited = store.get("Bio hazards")
    assert edited.aliases == ["biohazards"] and edited.examples is not None and edited.examples.texts == texts
    record = {"name": "Cyber hazards", "kind": "hazard", "examples": {"texts": texts}}
    upload = {"file": ("hazards.json", json.dumps([record]), "application/json")}
    token = csrf_of(console.get("/console/targets/import").text)
    done = console.post("/console/targets/import", data={"csrf": token}, files=upload, follow_redirects=False)
    assert done.status_code == 303, done.text[-500:]
    imported = store.get("Cyber hazards")
    assert imported.examples is not None and imported.examples.classifier is not None
