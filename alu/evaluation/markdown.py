"""The summary as a Markdown report: the headline figures with their paired verdicts and
the goals first, then one table per benchmark (with its paired comparisons), attacks and
cost."""

from __future__ import annotations

from .bites import RULE as BITES_RULE
from .goals import GoalRow, fmt
from .headline import headline, verdicts
from .paired import SAME
from .summary import CHANCE_RULE

PERCENT = (
    "leak_rate",
    "leak_rate_scanner",
    "accuracy",
    "refusal_rate",
    "guess_adjusted_accuracy",
    "kept_rate",
)
METRIC_NAMES = {
    "leak_rate": "leak rate",
    "rouge_l_recall": "ROUGE-L recall",
    "accuracy": "accuracy",
    "guess_adjusted_accuracy": "guess-adjusted accuracy",
    "kept_rate": "answered as drafted",
}


def _goal_section(rows: list[GoalRow], profile: str, note: str) -> list[str]:
    if not rows:
        return []
    title = f"## Goals ({profile} profile)" if profile else "## Goals"
    met = sum(r.ok is True for r in rows)
    missed = sum(r.ok is False for r in rows)
    unknown = sum(r.ok is None for r in rows)
    lines = [
        title,
        "",
        f"{met} met, {missed} missed, {unknown} not measurable.",
        "",
        "| goal | status | measured | why not |",
        "|---|---|---|---|",
    ]
    lines += [row.markdown() for row in rows]
    lines.append("")
    if note:
        lines += [f"_{note}_", ""]
    return lines


def _membership_section(result: dict | None) -> list[str]:
    """Per system and comparison, the nested attacker's balanced accuracy (0.5 = a coin) with
    its permutation baseline, then each attacker's own figure."""
    if not result:
        return []
    comparisons = list(next(iter(result.values())))
    lines = [
        "## Membership inference: can the answers tell who is on the forget list?",
        "",
        "Balanced accuracy of an attacker chosen by nested cross-validation (in each outer fold, the best "
        "of five attackers on the training names only: markers or refusal phrases, answer length, "
        "named-entity count, LLM calls and latency, word features; the asked name masked in every answer), "
        "folds by name; 0.5 is a coin, the interval a bootstrap over names. The permutation baseline reruns "
        "the whole procedure with the groups shuffled across names: p is the share of shuffles scoring at "
        "least as well, and its 95th percentile is how high chance alone reaches with this many names. A "
        "forgotten person should look like one never known (targets vs invented names: the reference shows "
        "what retraining gives); telling targets from people the system still knows is what retraining "
        "gives away too.",
        "",
        "| system | comparison | names | nested balanced accuracy | permutation p | chance's 95th pct "
        "| attacker chosen (folds) |",
        "|---|---|---|---|---|---|---|",
    ]
    for system, per in result.items():
        for label in comparisons:
            entry = per[label]
            fig = entry.get("nested")
            names = " vs ".join(str(n) for n in entry.get("names", {}).values())
            if fig is None:
                lines.append(f"| {system} | {label} | {names} | – | – | – | – |")
                continue
            low, high = fig["ci95"]
            chosen = ", ".join(f"{a} ({n})" for a, n in fig["chosen"].items())
            lines.append(
                f"| {system} | {label} | {names} | {fig['balanced_accuracy']:.2f} [{low:.2f}, {high:.2f}] "
                f"| {fig['p_value']:.3f} | {fig['null_p95']:.2f} | {chosen} |"
            )
    attackers = list(
        next((e["attackers"] for per in result.values() for e in per.values() if e["attackers"]), {})
    )
    if attackers:
        lines += [
            "",
            "Each attacker alone (cross-validated by name; for reading: choosing the best of these after the "
            "fact is biased upward):",
            "",
            "| system | comparison | " + " | ".join(attackers) + " |",
            "|---" * (len(attackers) + 2) + "|",
        ]
        for system, per in result.items():
            for label in comparisons:
                found = per[label]["attackers"]
                cells = [f"{found[a]['balanced_accuracy']:.2f}" if a in found else "–" for a in attackers]
                lines.append(f"| {system} | {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def markdown(summary: dict, header: str, goals: list[GoalRow], profile: str = "", note: str = "") -> str:
    lines = [header, "", *headline(summary), *_goal_section(goals, profile, note)]
    for name, result in summary["benchmarks"].items():
        lines += [f"## {name}", ""] + [f"_{n}_" for n in result["notes"]] + [""]
        splits = result["splits"]
        systems = sorted({s for sp in splits.values() for s in sp["systems"]})
        cols = []
        for split_name, sp in splits.items():
            if sp["scoring"] == "membership":  # judged by its attackers: its own section below
                continue
            if sp["role"] == "forget" and sp["scoring"] == "mentions":  # no ROUGE: names or not
                cols += [(split_name, "leak_rate", f"{split_name} leak rate")]
            elif sp["role"] == "forget":
                cols += [
                    (split_name, "rouge_l_recall", "forget ROUGE-L recall"),
                    (split_name, "forget_quality", "forget quality (KS on ROUGE-L)"),
                    (split_name, "leak_rate", "leak rate"),
                ]
                if any("leak_rate_scanner" in e for e in sp["systems"].values()):
                    cols += [(split_name, "leak_rate_scanner", "leak (old scanner-based)")]
            elif sp["scoring"] == "rouge":
                cols += [
                    (split_name, "rouge_l_recall", f"{split_name} ROUGE-L"),
                    (split_name, "ratio_to_vanilla", "ratio"),
                ]
            elif sp["scoring"] == "kept":
                cols += [(split_name, "kept_rate", f"{split_name} answered as drafted")]
            elif sp["scoring"] in ("option", "mentions"):
                cols += [
                    (split_name, "accuracy", f"{split_name} acc"),
                    (split_name, "ratio_to_vanilla", "ratio"),
                ]
            else:
                cols += [
                    (split_name, "accuracy", f"{split_name} acc"),
                    (split_name, "refusal_rate", "refusals"),
                    (split_name, "guess_adjusted_accuracy", "guess-adj. acc"),
                ]
        if not cols:
            lines += [
                "_No per-question figures: membership is scored by its attackers, "
                "in its own section once answered._",
                "",
            ]
            continue
        utility = bool(result["systems"])
        lines.append(
            "| system | " + " | ".join(c[2] for c in cols) + (" | model utility |" if utility else " |")
        )
        lines.append("|---" * (len(cols) + 1 + utility) + "|")
        for system in systems:
            cells = []
            for split_name, key, _ in cols:
                value = splits[split_name]["systems"].get(system, {}).get(key)
                pct = key in PERCENT
                cells.append(fmt(value, pct=pct))
            if utility:
                cells.append(fmt(result["systems"].get(system, {}).get("model_utility")))
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
        lines += ["", *_chance_notes(splits), *_paired_section(name, splits), *_subject_section(name, splits)]
    lines += _membership_section(summary.get("membership"))
    if summary["attacks"]:
        systems = sorted({s for a in summary["attacks"].values() for s in a})
        bites = summary.get("attack_bites", {})
        lines += [
            "## Leak rate under attack",
            "",
            "| attack | effect | " + " | ".join(systems) + " |",
            "|---" * (len(systems) + 2) + "|",
        ]
        for attack, per in summary["attacks"].items():
            cells = [
                fmt(per[s], pct=True) + verdicts(per[s].get("paired", {})) if s in per else "–"
                for s in systems
            ]
            lines.append(f"| {attack} | {effect(bites.get(attack))} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "_V / R: paired verdict (exact McNemar on the same attacked questions) against vanilla / the "
            "reference: better, worse, or = for no detectable difference at 95%._",
            "",
        ]
        if bites:
            lines += [f"_Effect: {BITES_RULE}._", ""]
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
    lines += _no_target_cost(summary.get("cost_no_target", {}))
    return "\n".join(lines) + "\n"


def effect(verdict: dict | None) -> str:
    """``bites: vanilla leaks 15/30 (50%) >= 20%`` or ``**no effect**: ...``; – when not judged."""
    if verdict is None:
        return "–"
    return f"{'bites' if verdict['bites'] else '**no effect**'}: {verdict['reason']}"


def _chance_notes(splits: dict) -> list[str]:
    """Whether vanilla knows anything on each multiple-choice hazard subset."""
    notes = []
    for name, sp in splits.items():
        chance = sp.get("vanilla_vs_chance")
        if not chance:
            continue
        lo, hi = chance["exact_ci95"]
        figure = (
            f"vanilla {100 * chance['accuracy']:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}] "
            f"(exact, n={chance['n']})"
        )
        if chance["near_chance"]:
            notes.append(
                f"- **{name}: {figure}: near chance, nothing to forget.** A low figure for any system here "
                "is not evidence of forgetting."
            )
        else:
            notes.append(f"- {name}: {figure}: clearly above chance ({100 * chance['chance']:g}%).")
    if not notes:
        return []
    return ["Does vanilla know anything here?", "", *notes, "", f"_Rule: {CHANCE_RULE}._", ""]


def _paired_section(bench: str, splits: dict) -> list[str]:
    """Every system against vanilla and the reference (where one exists), per split and metric."""
    labels = [
        label
        for label in ("vs_vanilla", "vs_reference")
        if any(label in sp.get("paired", {}) for sp in splits.values())
    ]
    rows = []
    for name, sp in splits.items():
        paired = sp.get("paired", {})
        # vanilla against the reference is the reference against vanilla, negated: shown once
        systems = sorted({s for label in labels for s in paired.get(label, {})} - {"vanilla"})
        for system in systems:
            metrics = {m for label in labels for m in paired.get(label, {}).get(system, {})}
            for metric in [m for m in METRIC_NAMES if m in metrics]:
                cells = []
                for label in labels:
                    cmp = paired.get(label, {}).get(system, {}).get(metric)
                    cells.append(_comparison(cmp, metric) if cmp else "–")
                rows.append(f"| {name} | {METRIC_NAMES[metric]} | {system} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    heads = [label.replace("vs_", "vs ") for label in labels]
    return [
        f"### {bench}: paired comparisons (system minus baseline on the same questions)",
        "",
        "| split | metric | system | " + " | ".join(heads) + " |",
        "|---|---|---" + "|---" * len(heads) + "|",
        *rows,
        "",
    ]


def _subject_section(bench: str, splits: dict) -> list[str]:
    """Each subject of a split that pools several (``Split.by_subject``): accuracy of vanilla
    and of each other system on the subject's questions, paired, with the system's refusals."""
    lines: list[str] = []
    for name, sp in splits.items():
        subjects = sp.get("subjects")
        if not subjects:
            continue
        systems = sorted({s for found in subjects.values() for s in found["systems"]} - {"vanilla"})
        for system in systems:
            lines += [
                f"### {bench}/{name} by subject: {system} against vanilla on the same questions",
                "",
                f"| subject | n | vanilla acc | {system} acc | diff (points) | McNemar p "
                f"| refused by {system} | one question |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for subject, found in subjects.items():
                mine, theirs = found["systems"].get(system), found["systems"].get("vanilla")
                if mine is None or "accuracy" not in mine:
                    continue
                cmp = found.get("paired", {}).get("vs_vanilla", {}).get(system, {}).get("accuracy")
                n = cmp["n"] if cmp else mine["accuracy"]["n"]
                if cmp:
                    lo, hi = cmp["ci95"]
                    diff = f"{100 * cmp['diff']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"
                    test = f"{cmp['p_value']:.2g}" + (
                        "" if cmp["verdict"] == SAME else f" (**{cmp['verdict']}**)"
                    )
                else:
                    diff = test = "–"
                lines.append(
                    f"| {subject} | {n} | {_accuracy(theirs)} | {_accuracy(mine)} | {diff} | {test} "
                    f"| {mine.get('refused', 0)} of {mine['accuracy']['n']} | {100 / n:.1f} points |"
                )
            lines += [
                "",
                f"_n: questions both answered. diff: {system} minus vanilla on them, with its paired "
                "bootstrap interval; McNemar: exact, on the same questions. Refused: answers the pipeline "
                "refused. One question is 100/n points of accuracy: where that is more than a goal's "
                "margin, the goal cannot be judged on the size of the difference._",
                "",
            ]
    return lines


def _accuracy(entry: dict | None) -> str:
    """``47% [21, 73]``: a subject's accuracy with its exact interval (n in its own column)."""
    if entry is None:
        return "–"
    fig = entry["accuracy"]
    lo, hi = fig["ci95"]
    return f"{100 * fig['value']:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}]"


def _comparison(cmp: dict, metric: str) -> str:
    """``-12.0 [-20.0, -4.0] points, p=0.01, n=100: **better**`` for rates (ROUGE-L recall in its
    own units), ``=`` for no detectable difference."""
    lo, hi = cmp["ci95"]
    if metric == "rouge_l_recall":
        diff = f"{cmp['diff']:+.3f} [{lo:+.2f}, {hi:+.2f}]"
    else:
        diff = f"{100 * cmp['diff']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] points"
    test = f"McNemar p={cmp['p_value']:.2g}" if cmp["p_value"] is not None else "bootstrap"
    shown = "=" if cmp["verdict"] == "no detectable difference" else f"**{cmp['verdict']}**"
    return f"{diff}, {test}, n={cmp['n']}: {shown}"


def _no_target_cost(cost: dict) -> list[str]:
    if not cost:
        return []
    lines = [
        "",
        "### Questions that touch no target (retain and general splits, no target named, unattacked)",
        "",
        "| system | n | LLM calls mean / median / p95 | seconds median / p95 |",
        "|---|---|---|---|",
    ]
    for system, c in cost.items():
        calls = c["llm_calls"]
        lines.append(
            f"| {system} | {c['n']} | {calls['mean']:.3f} / {calls['median']:.0f} / {calls['p95']:.0f} | "
            f"{c['seconds']['median']:.1f} / {c['seconds']['p95']:.1f} |"
        )
    return lines
