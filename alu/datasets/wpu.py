"""WPU-style benchmark (Liu et al. 2024) from the offline pieces in ``wpu_partial/``:
real people's Wikipedia passages as knowledge, forget QA, hard-retain QA (facts near a
forget person that must survive) and retain people's QA."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import DataError
from ..knowledge import Document
from ..targets import Target
from . import Benchmark, Item, Split, register


def _read(root: Path, name: str):
    path = root / "wpu_partial" / name
    if not path.is_file():
        raise DataError(f"WPU file not found: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def chunks(text: str, size: int = 600) -> list[str]:
    """Passages cut at paragraph or sentence ends into pieces of about ``size`` characters."""
    parts, current = [], ""
    for sentence in re.split(r"(?<=[.!?])\s+|\n{2,}", text):
        sentence = sentence.strip(" =\n")
        if not sentence:
            continue
        if current and len(current) + len(sentence) > size:
            parts.append(current)
            current = ""
        current = f"{current} {sentence}".strip()
    return parts + ([current] if current else [])


@register("wpu")
def load(root: Path, people: int = 10) -> Benchmark:
    people_rows = _read(root, "whpplus_whp_names.json")
    forget_qa = _read(root, "whpplus_whp_unlearn_testset_forget.json")
    hard = _read(root, "whpplus_whp_unlearn_hard_retain.json")
    retain_qa = _read(root, "whpplus_whp_unlearn_testset_retain.json")
    forgotten = list(forget_qa)[:people]
    passages = {p["name"]: p["passage"] for p in people_rows if p.get("passage")}
    docs = [
        Document(f"wpu-{p['id']}-{i}", text, p["name"], {"person": p["name"]})
        for p in people_rows
        if p.get("passage")
        for i, text in enumerate(chunks(p["passage"]))
    ]
    targets = [
        Target(
            name=n,
            kind="person",
            evidence=[passages.get(n, "")] + [f"{q['Question']} {q['Answer']}" for q in forget_qa[n]],
        )
        for n in forgotten
    ]

    def items(source: dict, names: list[str], prefix: str, target: bool) -> list[Item]:
        out = []
        for n in names:
            for i, q in enumerate(source.get(n, [])):
                out.append(
                    Item(f"{prefix}-{n}-{i}", q["Question"], str(q["Answer"]), target=n if target else None)
                )
        return out

    wrong = [str(q["Answer"]) for qs in retain_qa.values() for q in qs]
    forget_items = items(forget_qa, forgotten, "forget", True)
    for i, item in enumerate(forget_items):
        item.wrong_answer = wrong[(i * 7) % len(wrong)]
    return Benchmark(
        name="wpu",
        splits=[
            Split("forget", "forget", "rouge", forget_items),
            Split("hard_retain", "retain", "rouge", items(hard, forgotten, "hard", False)),
            Split("retain", "retain", "rouge", items(retain_qa, list(retain_qa), "retain", False)),
        ],
        targets=targets,
        documents=docs,
        forget_documents={d.id for d in docs if d.meta["person"] in set(forgotten)},
        notes=[
            f"WPU (offline pieces): forget people {', '.join(forgotten)}; knowledge base = the passages "
            f"of {len(passages)} people cut into {len(docs)} chunks (the retain people have none: the model "
            "answers them from its own knowledge); evidence = passage + forget QA."
        ],
    )
