"""The console in a real headless Chromium (Debian's ``chromium``, driven by Playwright's
Python API; no browser download): an operator's whole round, the XSS name, a forged
post, no console errors, and axe-core on every page (no serious or critical violation).

Select with ``-m browser``; skipped where Chromium or Playwright is missing."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import threading

import pytest
from conftest import HERMIONE, LiveServer, scripted

from alu import ALU, PipelineConfig
from alu.console.store import ConsoleStore
from alu.server import create_app
from alu.settings import ServeSettings
from alu.stores import open_store

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the dev extra)")
CHROMIUM = os.environ.get("ALU_CHROMIUM", "/usr/bin/chromium")
if not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

TOKEN = "admin-token-for-browser-tests"
PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"


def launch(playwright):
    """Chromium as the suite runs it: headless, and without its sandbox as root (CI)."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def serve(tmp_path):
    """Start the console on ``model`` (default: one that leaks Ginny Weasley); its base URL."""
    started = []

    def start(model=None) -> str:
        store = open_store(str(tmp_path / "targets.db"))
        store.add(HERMIONE, replace=True)
        with ConsoleStore.beside(store) as records:
            records.add_operator("alice", PASSWORD)
        model = model or scripted(
            draft="Ginny Weasley plays Quidditch for the Holyhead Harpies.", leaked=("Ginny Weasley",)
        )
        alu = ALU(model, store, config=PipelineConfig(timeout=30))
        app = create_app(alu, ServeSettings(log=tmp_path / "log.jsonl"), admin_token=TOKEN)
        live = LiveServer(app).__enter__()
        started.append((live, store))
        return live.url.removesuffix("/v1")

    yield start
    for live, store in started:
        live.__exit__()
        store.close()


@pytest.fixture
def server(serve) -> str:
    return serve()


class Watched:
    """A page whose console errors, uncaught exceptions and dialogs are collected."""

    def __init__(self, browser, base: str):
        self.context = browser.new_context(base_url=base, accept_downloads=True)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page.on(
            "console", lambda m: self.problems.append(f"{m.text} {m.location}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def sign_in(self) -> None:
        page = self.page
        page.goto("/console/login")
        page.get_by_label("Name").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/console/requests")


def accessibility_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_an_operator_files_a_request_carries_it_out_checks_it_and_exports_the_record(browser, server):
    watched = Watched(browser, server)
    page = watched.page
    axe: list[str] = []
    page.goto("/console/login")
    axe += accessibility_problems(page)
    watched.sign_in()
    axe += accessibility_problems(page)

    page.get_by_role("link", name="File a request").click()
    axe += accessibility_problems(page)
    page.get_by_label("safety").check()
    page.get_by_label("Who asked").fill("Ginny's lawyer")
    page.get_by_label("Their reference").fill("=cmd|' /C calc'!A0")
    page.get_by_label("Targets it concerns").fill("Ginny Weasley")
    page.get_by_role("button", name="File the request").click()
    page.wait_for_url("**/console/requests/*")
    assert page.get_by_role("status").inner_text() == "Request filed."
    request_url = page.url.split("?")[0]
    axe += accessibility_problems(page)

    page.get_by_role("link", name="add it").click()  # its target is not in the store yet
    assert page.get_by_label("Name").input_value() == "Ginny Weasley"
    axe += accessibility_problems(page)
    page.get_by_label("Kind").select_option("person")
    page.get_by_label("Aliases").fill("Ginevra")
    page.get_by_label("Evidence").fill("She plays for the Holyhead Harpies.")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url("**/console/targets/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Ginny Weasley"
    assert "Ginevra" in page.inner_text("main")
    axe += accessibility_problems(page)

    page.goto(request_url)
    page.get_by_label("applied").check()
    page.get_by_role("button", name="Record").click()
    page.wait_for_url("**/console/requests/*")
    page.get_by_role("link", name="try a question").click()
    page.wait_for_url("**/console/try*")
    page.get_by_role("button", name="Ask").click()
    page.wait_for_selector("#with")
    alone = page.locator("section", has=page.locator("#alone")).inner_text()
    guarded = page.locator("section", has=page.locator("#with")).inner_text()
    assert "Ginny Weasley" in alone and "Ginny" not in guarded
    assert "Ginny Weasley: score" in page.inner_text("main")  # the trace's candidates
    axe += accessibility_problems(page)

    page.goto(request_url)
    page.get_by_label("verified").check()
    page.get_by_label("Note").fill("Try it: ALU no longer names her")
    page.get_by_role("button", name="Record").click()
    page.wait_for_url("**/console/requests/*")
    history = page.locator("ol.history").inner_text()
    assert [line.split(": ")[1].split(" by")[0] for line in history.splitlines()] == [
        "received",
        "applied",
        "verified",
    ]
    axe += accessibility_problems(page)

    page.get_by_role("link", name="Requests", exact=True).click()
    axe += accessibility_problems(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export these as CSV").click()
    with open(download.value.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert rows[0]["status"] == "verified" and rows[0]["reference"] == "'=cmd|' /C calc'!A0"

    for name in ("Targets", "Decisions"):
        page.get_by_role("link", name=name, exact=True).click()
        axe += accessibility_problems(page)
    page.goto("/console/targets/import")
    axe += accessibility_problems(page)
    for _ in range(50):  # decisions are written by a background thread
        if "Ginny Weasley" in page.goto("/console/decisions").text():
            break
        page.wait_for_timeout(100)
    assert "Ginny Weasley" in page.locator("table").inner_text()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login*")
    page.goto("/console/requests")
    assert page.url.endswith("/console/login")
    assert axe == []
    assert watched.problems == [] and watched.dialogs == []
    watched.context.close()


def test_a_target_named_like_markup_is_shown_as_text(browser, server):
    watched = Watched(browser, server)
    page = watched.page
    watched.sign_in()
    page.goto("/console/targets/new")
    page.get_by_label("Name").fill(XSS)
    page.get_by_label("Aliases").fill("<script>alert(2)</script>")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url("**/console/targets/*")
    assert page.get_by_role("heading", level=1).inner_text() == XSS
    assert page.locator("main img").count() == 0 and page.locator("script:not([src])").count() == 0
    page.goto("/console/targets?q=img")
    assert page.get_by_role("link", name=XSS).count() == 1
    page.goto("/console/targets?q=%3Cscript%3E")  # the query echoed in the search box, as text
    assert page.get_by_label("Name or alias contains").input_value() == "<script>"
    assert watched.dialogs == [] and watched.problems == []
    watched.context.close()


def test_a_forged_post_without_the_csrf_token_is_refused(browser, server):
    watched = Watched(browser, server)
    watched.sign_in()
    forged = watched.context.request.post(
        f"{server}/console/requests",
        form={"kind": "erasure", "requester": "Mallory", "targets": "Hermione Granger"},
        max_redirects=0,
    )
    assert forged.status == 403
    watched.page.goto("/console/requests")
    assert "Mallory" not in watched.page.inner_text("main")
    watched.context.close()


def test_every_page_passes_axe_and_logs_no_error_at_phone_width(browser, server):
    watched = Watched(browser, server)
    page = watched.page
    page.set_viewport_size({"width": 390, "height": 844})
    watched.sign_in()
    page.goto("/console/requests/new")
    page.get_by_label("Who asked").fill("A person")
    page.get_by_label("Targets it concerns").fill("Hermione Granger")
    page.get_by_role("button", name="File the request").click()
    page.wait_for_url("**/console/requests/*")
    request_url = page.url.split("?")[0]
    page.goto("/console/targets?q=hermione")
    page.get_by_role("link", name="Hermione Granger").click()
    target_url = page.url
    page.get_by_role("button", name="Run enrich").click()  # a job: the progress bar shows
    page.wait_for_url("**/console/targets/*")
    pages = [
        "/console/requests", request_url, "/console/requests/new", "/console/targets", target_url,
        f"{target_url}/edit", f"{target_url}/delete", "/console/targets/new", "/console/targets/import",
        "/console/try", "/console/decisions",
    ]  # fmt: skip
    problems = []
    for path in pages:
        page.goto(path)
        problems += accessibility_problems(page)
    assert problems == []
    assert page.locator("progress").count() == 0  # decisions: no job bar there
    page.goto(target_url)
    assert page.locator("progress").count() == 1
    assert watched.problems == [] and watched.dialogs == []
    watched.context.close()


def test_a_background_job_s_progress_survives_a_reload_and_follows_it_live(browser, serve):
    release = threading.Event()
    reply = {"names": {"latin": ["Hermione Jean Granger"]}, "terms": ["Hogwarts"], "description": "A witch."}

    def slow_enricher(_messages) -> str:
        release.wait(30)
        return json.dumps(reply)

    base = serve(scripted().on("enricher", slow_enricher))
    watched = Watched(browser, base)
    page = watched.page
    watched.sign_in()
    page.goto("/console/targets?q=hermione")
    page.get_by_role("link", name="Hermione Granger").click()
    page.get_by_role("button", name="Run enrich").click()
    page.wait_for_url("**/console/targets/*")
    assert page.get_by_role("button", name="Run enrich").is_disabled()
    page.reload()  # the job's state is in the store, not in the page
    bar = page.get_by_role("progressbar")
    assert page.locator("[id^=state-]").inner_text() in ("queued", "running")
    assert bar.get_attribute("value") == "0"
    release.set()
    page.locator("[id^=state-]").filter(has_text="done").wait_for(timeout=15_000)  # no reload: jobs.js
    assert page.get_by_role("progressbar").evaluate("bar => bar.value") == 1
    assert page.get_by_role("button", name="Run enrich").is_enabled()
    page.reload()
    assert "Hermione Jean Granger" in page.locator(".generated").inner_text()
    assert accessibility_problems(page) == []
    assert watched.problems == [] and watched.dialogs == []
    watched.context.close()
