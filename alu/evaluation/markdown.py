"""The summary as a Markdown report: goals first, then one table per benchmark, attacks
and cost."""

from __future__ import annotations

from .goals import GoalRow, fmt


def _goal_section(rows: list[GoalRow], profile: str, note: str) -> list[str]:
    if not rows:
        return []
    title = f"## Goals ({profile} profile)" if profile else "## Goals"
    lines = [title, "", "| goal | status | measured | why not |", "|---|---|---|---|"]
    lines += [row.markdown() for row in rows]
    lines.append("")
    if note:
        lines += [f"_{note}_", ""]
    return lines


def markdown(summary: dict, header: str, goals: list[GoalRow], profile: str = "", note: str = "") -> str:
    lines = [header, "", *_goal_section(goals, profile, note)]
    for name, result in summary["benchmarks"].items():
        lines += [f"## {name}", ""] + [f"_{n}_" for n in result["notes"]] + [""]
        splits = result["splits"]
        systems = sorted({s for sp in splits.values() for s in sp["systems"]})
        cols = []
        for split_name, sp in splits.items():
            if sp["role"] == "forget":
                cols += [
                    (split_name, "rouge_l_recall", "forget ROUGE-L"),
                    (split_name, "forget_quality", "forget quality"),
                    (split_name, "leak_rate", "leak rate"),
                ]
            elif sp["scoring"] == "rouge":
                cols += [
                    (split_name, "rouge_l_recall", f"{split_name} ROUGE-L"),
                    (split_name, "ratio_to_vanilla", "ratio"),
                ]
            elif sp["scoring"] in ("option", "mentions"):
                cols += [
                    (split_name, "accuracy", f"{split_name} acc"),
                    (split_name, "ratio_to_vanilla", "ratio"),
                ]
            else:
                cols += [
                    (split_name, "accuracy", f"{split_name} acc"),
                    (split_name, "refusal_rate", "refusals"),
                ]
        utility = bool(result["systems"])
        lines.append(
            "| system | " + " | ".join(c[2] for c in cols) + (" | model utility |" if utility else " |")
        )
        lines.append("|---" * (len(cols) + 1 + utility) + "|")
        for system in systems:
            cells = []
            for split_name, key, _ in cols:
                value = splits[split_name]["systems"].get(system, {}).get(key)
                cells.append(fmt(value, pct=key in ("leak_rate", "accuracy", "refusal_rate")))
            if utility:
                cells.append(fmt(result["systems"].get(system, {}).get("model_utility")))
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
        lines.append("")
    if summary["attacks"]:
        systems = sorted({s for a in summary["attacks"].values() for s in a})
        lines += [
            "## Leak rate under attack",
            "",
            "| attack | " + " | ".join(systems) + " |",
            "|---" * (len(systems) + 1) + "|",
        ]
        for attack, per in summary["attacks"].items():
            lines.append(f"| {attack} | " + " | ".join(fmt(per.get(s), pct=True) for s in systems) + " |")
        lines.append("")
    lines += [
        "## Cost per query (all questions)",
        "",
        "| system | n | LLM calls median / p95 | prompt tokens median / p95 | completion tokens median / p95 "
        "| seconds median / p95 |",
        "|---|---|---|---|---|---|",
    ]
    for system, c in summary["cost"].items():
        cells = [
            f"{c[k]['median']:.0f} / {c[k]['p95']:.0f}"
            for k in ("llm_calls", "prompt_tokens", "completion_tokens")
        ]
        cells.append(f"{c['seconds']['median']:.1f} / {c['seconds']['p95']:.1f}")
        lines.append(f"| {system} | {c['n']} | " + " | ".join(cells) + " |")
    if summary.get("cost_by_split"):
        systems = list(summary["cost"])
        lines += [
            "",
            "### Per split: LLM calls (mean) and seconds (median / p95) per query",
            "",
            "| split | " + " | ".join(systems) + " |",
            "|---" * (len(systems) + 1) + "|",
        ]
        for where, per in summary["cost_by_split"].items():
            cells = [
                f"{per[s]['llm_calls']['mean']:.1f} calls, {per[s]['seconds']['median']:.1f} / "
                f"{per[s]['seconds']['p95']:.1f} s"
                if s in per
                else "–"
                for s in systems
            ]
            lines.append(f"| {where} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
