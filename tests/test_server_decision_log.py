"""The decision log and the metrics of ``alu serve``: every request, good or bad, logged and
counted under its status; query, answer, upstream error text and a caller's own targets kept
only with ``log_text``; the log file private and rotated by size."""

from __future__ import annotations

import json
import os
import threading

import httpx
import pytest
from conftest import ADMIN, LEAKY, REFUSAL, ask, chat, log_entries, one_line_error, scripted, user

from alu.backends.scripted import ScriptedModel
from alu.errors import ModelError

UNKNOWN = {"pipeline": {"refusal_policy": "unknown"}}  # the library's default refusal policy


@pytest.mark.serve_defaults(**UNKNOWN)
def test_health_metrics_and_decision_log(serve, tmp_path):
    server = serve(scripted(draft=LEAKY), log_text=True)
    ask(server, "Yule Ball?")
    root = server.url.removesuffix("/v1")
    assert httpx.get(f"{root}/healthz").json()["status"] == "ok"
    metrics = httpx.get(f"{root}/metrics", headers=ADMIN).text
    assert (
        'alu_requests_total{status="200"} 1.0' in metrics
        and 'alu_verdicts_total{verdict="refused"}' in metrics
    )
    entry = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[-1])
    assert entry["verdict"] == "refused" and entry["matched"] == ["Hermione Granger"]
    assert (
        entry["query"] == "Yule Ball?"
        and entry["llm_calls"] == 2  # the draft and the model's own "I don't know"
        and entry["request_id"].startswith("chatcmpl-")
    )


def test_every_request_good_or_bad_is_logged_and_counted_under_its_status(serve, tmp_path):
    server = serve(ScriptedModel(default="ok"), max_body_bytes=2048)
    assert chat(server, user("hello")).status_code == 200
    one_line_error(chat(server, {"messages": []}), 400)
    one_line_error(chat(server, user("hi", alu_explain=True)), 401)
    one_line_error(httpx.get(f"{server.url}/nowhere"), 404)
    one_line_error(chat(server, user("x" * 4000)), 413)
    one_line_error(httpx.get(f"{server.url}/targets"), 401)
    statuses = [(e["endpoint"], e["status"]) for e in log_entries(tmp_path)]
    assert statuses == [
        ("/v1/chat/completions", 200),
        ("/v1/chat/completions", 400),
        ("/v1/chat/completions", 401),
        ("other", 404),
        ("/v1/chat/completions", 413),
        ("/v1/targets", 401),
    ]
    assert all(e["request_id"] for e in log_entries(tmp_path))
    metrics = httpx.get(server.url.removesuffix("/v1") + "/metrics", headers=ADMIN).text
    uncounted = [s for s in (200, 400, 401, 413) if f'alu_requests_total{{status="{s}"}} 1.0' not in metrics]
    assert uncounted == []
    assert 'alu_http_requests_total{endpoint="other",status="404"} 1.0' in metrics


def test_429_is_logged_and_counted(serve, tmp_path):
    release = threading.Event()
    model = ScriptedModel(default=lambda _: release.wait(20) and "ok")
    server = serve(model, max_in_flight=1)
    first = threading.Thread(target=lambda: chat(server, user("first")))
    first.start()
    try:
        for _ in range(200):  # until the first request holds the only slot
            if httpx.get(server.url.removesuffix("/v1") + "/healthz").json()["in_flight"]:
                break
            threading.Event().wait(0.02)
        one_line_error(chat(server, user("second")), 429)
    finally:
        release.set()
        first.join(30)
    assert sorted(e["status"] for e in log_entries(tmp_path)) == [200, 429]


def test_upstream_error_text_is_not_logged_without_log_text(serve, tmp_path):
    model = ScriptedModel(default=ModelError("upstream: cannot discuss Hermione Granger"))
    server = serve(model)
    assert ask(server, "Yule Ball?").choices[0].message.content == REFUSAL
    entry = log_entries(tmp_path)[-1]
    assert entry["error"] == "vanilla: failed" and "Hermione" not in json.dumps(entry)


def test_upstream_error_text_is_logged_with_log_text(serve, tmp_path):
    model = ScriptedModel(default=ModelError("upstream: cannot discuss Hermione Granger"))
    texty = serve(model, log_text=True, log=tmp_path / "text.jsonl")
    ask(texty, "Yule Ball?")
    entry = json.loads((tmp_path / "text.jsonl").read_text().splitlines()[-1])
    assert "Hermione Granger" in entry["error"] and entry["query"] == "Yule Ball?"


@pytest.mark.parametrize(("text", "path"), [(False, "plain.jsonl"), (True, "text.jsonl")])
def test_the_decision_log_matches_stored_targets_only_without_log_text(serve, tmp_path, text, path):
    draft = "Zelda Quux met Hermione Granger at the Yule Ball."
    model = scripted(draft=draft, leaked=("Hermione Granger", "Zelda Quux"))
    server = serve(model, log=tmp_path / path, log_text=text)
    assert chat(server, user("Who went to the Yule Ball?", alu_targets=["Zelda Quux"])).status_code == 200
    # a caller's target that is also stored is a stored match
    also_stored = user("Who went to the Ball?", alu_targets=["Hermione Granger"])
    assert chat(server, also_stored).status_code == 200
    entries = log_entries(tmp_path, path)
    first, second = entries[-2]["matched"], entries[-1]["matched"]
    assert "Hermione Granger" in first and "Hermione Granger" in second
    assert ("Zelda Quux" in first) is text and ("Zelda Quux" in entries[-2]["leaked"]) is text
    if not text:
        assert "Zelda" not in json.dumps(entries)


def test_the_decision_log_is_private_and_rotates_by_size(serve, tmp_path):
    server = serve(ScriptedModel(default="ok"), log_max_bytes=1024, log_backups=2)
    for i in range(20):
        ask(server, f"question {i}")
    log = tmp_path / "log.jsonl"
    files = [log, log.with_name("log.jsonl.1"), log.with_name("log.jsonl.2")]
    assert all(f.exists() for f in files) and not log.with_name("log.jsonl.3").exists()
    assert all(os.stat(f).st_mode & 0o777 == 0o600 for f in files)
    assert all(f.stat().st_size <= 1024 + 400 for f in files)
