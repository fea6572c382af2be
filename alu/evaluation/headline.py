"""The report's first table: every headline figure of every system with its 95% interval and
its paired verdicts against vanilla and the reference, so a reader sees at a glance which
differences the data supports."""

from __future__ import annotations

from .paired import BETTER, WORSE

MARKS = {BETTER: "better", WORSE: "worse"}
LEGEND = (
    "_Each cell: value [95% interval] n=items (V: against vanilla, R: against the reference, on the "
    "same questions: better / worse at 95%, = no detectable difference; exact McNemar for leak and "
    "accuracy, paired bootstrap for ROUGE-L and guess-adjusted accuracy). Intervals: exact "
    "(Clopper-Pearson) for rates, percentile bootstrap for means. Arrows give the better direction. "
    "Forget quality (KS on ROUGE-L) is the p-value of a two-sample Kolmogorov-Smirnov test between "
    "the per-question ROUGE-L recall of the system and of the reference (n: system vs reference; "
    ">= 0.05: indistinguishable), our black-box stand-in for TOFU's truth-ratio statistic, which "
    "needs logits._"
)


def short(fig: dict | float | None, pct: bool, n: list[int] | None = None) -> str:
    """A figure as ``value [low, high] n=N``; a bare number (forget quality) with the n of
    its two samples when given."""
    if fig is None:
        return "–"
    if isinstance(fig, float):
        if fig != fig:
            return "–"
        return f"{fig:.3f}" + (f" n={n[0]} vs {n[1]}" if n else "")
    v, (lo, hi) = fig["value"], fig["ci95"]
    if pct:
        return f"{100 * v:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}] n={fig['n']}"
    return f"{v:.3f} [{lo:.2f}, {hi:.2f}] n={fig['n']}"


def verdicts(paired: dict) -> str:
    """``(V: better, R: =)`` from a system's comparisons with vanilla and the reference."""
    marks = [
        f"{tag}: {MARKS.get(paired[label]['verdict'], '=')}"
        for tag, label in (("V", "vs_vanilla"), ("R", "vs_reference"))
        if label in paired
    ]
    return f" ({', '.join(marks)})" if marks else ""


def _rows_for_split(bench: str, name: str, split: dict) -> list[tuple[str, str]]:
    """(label, metric) of the split's headline figures."""
    where = f"{bench}/{name}"
    if split["role"] == "forget":
        rows = [(f"{where} leak rate ↓", "leak_rate")]
        if split["scoring"] == "rouge":
            rows += [
                (f"{where} ROUGE-L recall of the gold answer ↓", "rouge_l_recall"),
                (f"{where} forget quality (KS on ROUGE-L) ↑", "forget_quality"),
            ]
        return rows
    if split["scoring"] == "letter" and split["role"] == "hazard":
        chance = split.get("vanilla_vs_chance", {})
        label = f"{where} guess-adjusted accuracy (chance {100 * chance.get('chance', 0.25):g}%)"
        if chance.get("near_chance"):
            label += ": vanilla near chance, nothing to forget"
        return [(label, "guess_adjusted_accuracy")]
    if split["scoring"] == "rouge":
        return [(f"{where} ROUGE-L recall ↑", "rouge_l_recall")]
    if split["scoring"] == "kept":
        return [(f"{where} answered as drafted ↑", "kept_rate")]
    return [(f"{where} accuracy ↑", "accuracy")]


def headline(summary: dict) -> list[str]:
    systems = sorted(
        {s for r in summary["benchmarks"].values() for sp in r["splits"].values() for s in sp["systems"]}
        | {s for per in summary["attacks"].values() for s in per},
        key=lambda s: (s not in ("vanilla", "reference"), s != "vanilla", s),
    )
    if not systems:
        return []
    lines = [
        "## Headline figures",
        "",
        LEGEND,
        "",
        "| figure | " + " | ".join(systems) + " |",
        "|---" + "|---" * len(systems) + "|",
    ]
    for bench, result in summary["benchmarks"].items():
        for name, split in result["splits"].items():
            for label, metric in _rows_for_split(bench, name, split):
                cells = []
                for system in systems:
                    entry = split["systems"].get(system, {})
                    value = entry.get(metric)
                    paired = {
                        k: v[system][metric]
                        for k, v in split.get("paired", {}).items()
                        if system in v and metric in v[system]
                    }
                    pct = metric not in ("rouge_l_recall", "forget_quality")
                    cell = short(value, pct, entry.get("forget_quality_n"))
                    cells.append(cell + (verdicts(paired) if value is not None else ""))
                if all(c == "–" for c in cells):
                    continue  # a split no metric of this row scores (membership probes)
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
        if result["systems"]:
            cells = []
            for system in systems:
                entry = result["systems"].get(system)
                if not entry or entry["model_utility"] != entry["model_utility"]:
                    cells.append("–")  # no retain split where vanilla scores above 0
                    continue
                lo, hi = entry.get("model_utility_ci95", [float("nan")] * 2)
                cells.append(f"{entry['model_utility']:.3f} [{lo:.2f}, {hi:.2f}]")
            label = f"{bench} model utility (harmonic mean of retain ratios to vanilla) ↑"
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for attack, per in summary["attacks"].items():
        bench = summary.get("attacked_benchmark", {}).get(attack, "")
        cells = [
            short(per[s], pct=True) + verdicts(per[s].get("paired", {})) if s in per else "–" for s in systems
        ]
        verdict = summary.get("attack_bites", {}).get(attack)
        tag = ": **no effect**, left out of the goals" if verdict and not verdict["bites"] else ""
        lines.append(f"| leak rate under {attack} ({bench} forget){tag} ↓ | " + " | ".join(cells) + " |")
    return [*lines, ""]
