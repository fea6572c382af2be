"""Screenshots of every console page at laptop (1280x800) and phone (390x844) width, for
the README: docs/console/PAGE-laptop.png and PAGE-phone.png.

The server is the real console on a scripted model (no LLM runs) with a small store of
illustrative data: a few requests in each state (one backdated to show the overdue mark),
targets (one with an enrichment written by hand, labelled as such), and decisions spread
over the last day so the plot has something to show. Needs Debian's chromium and the dev
extra (Playwright).

    .venv/bin/python scripts/console_screenshots.py [--out docs/console]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import LiveServer, scripted  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from alu import ALU, PipelineConfig, Target  # noqa: E402
from alu.console.store import ConsoleStore, Decision  # noqa: E402
from alu.server import create_app  # noqa: E402
from alu.settings import ServeSettings  # noqa: E402
from alu.stores import open_store  # noqa: E402
from alu.targets import Enrichment  # noqa: E402

PASSWORD = "screenshots only"
SIZES = {"laptop": (1280, 800), "phone": (390, 844)}


def seed(db: str) -> None:
    store = open_store(db)
    store.add_many(
        [
            Target(
                name="Ginny Weasley",
                kind="person",
                aliases=["Ginevra Weasley"],
                evidence=["She played Chaser for the Holyhead Harpies."],
            ),
            Target(name="Dolores Umbridge", kind="person", aliases=["Professor Umbridge"]),
            Target(name="Polyjuice Potion", kind="hazard", description="Brewing instructions."),
            *(Target(name=f"Example Person {i}", kind="person") for i in range(1, 60)),
        ]
    )
    store.set_enrichment(
        "Ginny Weasley",
        Enrichment(
            names=["Ginevra Molly Weasley"],
            terms=["Holyhead Harpies", "Chaser"],
            description="(Illustration written by hand for this screenshot, not by a model.)",
            model="illustration",
        ),
    )
    console = ConsoleStore.beside(store)
    console.add_operator("alice", PASSWORD)
    first = console.file_request(
        kind="erasure", requester="Ginny Weasley", reference="DPO-2026-014",
        targets=["Ginny Weasley"], notes="Asked by letter.", operator="alice",
    )  # fmt: skip
    console.move_request(first, "applied", operator="alice")
    console.move_request(first, "verified", operator="alice", note="Try it: no longer named.")
    late = console.file_request(
        kind="erasure", requester="D. Umbridge", reference="", targets=["Dolores Umbridge"], notes="",
        operator="alice",
    )  # fmt: skip
    console.age_request(late, 34)
    rejected = console.file_request(
        kind="safety", requester="Trust & Safety", reference="TS-88", targets=["Polyjuice Potion"],
        notes="", operator="alice",
    )  # fmt: skip
    console.move_request(rejected, "rejected", operator="alice", note="Already a target.")
    console.file_request(
        kind="erasure", requester="Neville L.", reference="", targets=["Neville Longbottom"], notes="",
        operator="alice",
    )  # fmt: skip
    rng = random.Random(3)
    now = time.time()
    verdicts = ["passed"] * 12 + ["rewritten"] * 3 + ["redacted", "refused"]
    console.add_decisions(
        [
            Decision(
                at=now - rng.uniform(0, 86400),
                endpoint="/v1/chat/completions",
                verdict=(verdict := rng.choice(verdicts)),
                matched=[] if verdict == "passed" else ["Ginny Weasley"],
                latency_s=rng.uniform(0.4, 1.5) * (1 if verdict == "passed" else 3),
                llm_calls=1 if verdict == "passed" else 5,
            )
            for _ in range(300)
        ]
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    parser.add_argument("--chromium", default=os.environ.get("ALU_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "targets.db")
        seed(db)
        store = open_store(db)
        model = scripted(
            draft="Ginny Weasley plays Quidditch for the Holyhead Harpies.", leaked=("Ginny Weasley",)
        )
        alu = ALU(model, store, config=PipelineConfig(timeout=30))
        app = create_app(alu, ServeSettings(log=Path(tmp) / "log.jsonl"), admin_token="screenshots")
        with LiveServer(app) as live, sync_playwright() as playwright:
            base = live.url.removesuffix("/v1")
            sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
            browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=sandbox)
            ginny = store.get("Ginny Weasley").id
            for size, (width, height) in SIZES.items():
                context = browser.new_context(base_url=base, viewport={"width": width, "height": height})
                page = context.new_page()

                def shot(name: str, path: str | None = None, *, page=page, size=size) -> None:
                    if path:
                        page.goto(path)
                    full = name != "decisions"  # its table runs long: the plot and the top of it
                    page.screenshot(path=args.out / f"{name}-{size}.png", full_page=full)

                shot("login", "/console/login")
                page.get_by_label("Name").fill("alice")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/console/requests")
                shot("requests")
                shot("request-new", "/console/requests/new")
                shot("request", "/console/requests/1")
                shot("targets", "/console/targets")
                shot("target", f"/console/targets/{ginny}")
                shot("target-edit", f"/console/targets/{ginny}/edit")
                shot("import", "/console/targets/import")
                page.goto("/console/try?q=Who+plays+Chaser+for+the+Holyhead+Harpies%3F")
                page.get_by_role("button", name="Ask").click()
                page.wait_for_selector("#with")
                shot("try")
                shot("decisions", "/console/decisions")
                context.close()
            browser.close()
        store.close()
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
