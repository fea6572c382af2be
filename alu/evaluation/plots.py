"""The summary as PNG plots: forgetting against utility, leak rate per attack, cost."""

from __future__ import annotations

from pathlib import Path


def plots(summary: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    forget = {
        n: r
        for n, r in summary["benchmarks"].items()
        if any(s["role"] == "forget" for s in r["splits"].values()) and r["systems"]
    }
    if forget:
        written.append(_tradeoff(plt, forget, out / "tradeoff.png"))
    if summary["attacks"]:
        attacks = list(summary["attacks"])
        systems = sorted({s for a in summary["attacks"].values() for s in a})
        fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(attacks)), 4.5))
        width = 0.8 / len(systems)
        for i, system in enumerate(systems):
            figs = [summary["attacks"][a].get(system) for a in attacks]
            values = [f["value"] if f else 0 for f in figs]
            errors = _errors(figs)
            xs = [x + i * width for x in range(len(attacks))]
            ax.bar(xs, values, width, label=system, yerr=errors, capsize=2, error_kw={"elinewidth": 0.8})
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(attacks))], attacks)
        ax.set(
            ylabel="leak rate (bars: 95% interval)", title="leak rate per attack per system", ylim=(0, 1.2)
        )
        ax.legend(ncol=len(systems), fontsize=8, loc="upper center")
        fig.tight_layout()
        written.append(out / "attacks.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    cost = summary["cost"]
    if cost:
        systems = list(cost)
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
        a.bar(systems, [cost[s]["seconds"]["median"] for s in systems], label="median")
        a.scatter(systems, [cost[s]["seconds"]["p95"] for s in systems], color="black", label="p95", zorder=3)
        a.set(ylabel="seconds per query", title="wall time per query")
        a.legend()
        b.bar(systems, [cost[s]["llm_calls"]["mean"] for s in systems])
        b.set(ylabel="LLM calls per query (mean)", title="LLM calls per query")
        for ax in (a, b):
            ax.tick_params(axis="x", rotation=30)
        fig.tight_layout()
        written.append(out / "cost.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written


def _errors(figs: list[dict | None]) -> list[list[float]]:
    """Asymmetric error bars (below, above) from each figure's 95% interval; 0 where missing."""
    below = [max(0.0, f["value"] - f["ci95"][0]) if f else 0.0 for f in figs]
    above = [max(0.0, f["ci95"][1] - f["value"]) if f else 0.0 for f in figs]
    return [below, above]


def _tradeoff(plt, forget: dict, path: Path) -> Path:
    """Per benchmark: leak rate (top) and forget ROUGE-L recall (bottom) against model
    utility, every point with its 95% interval on both axes."""
    rows = [("leak_rate", "leak rate on forget questions (lower is better)", "leak rate")]
    if any(
        "rouge_l_recall" in e
        for r in forget.values()
        for s in r["splits"].values()
        if s["role"] == "forget"
        for e in s["systems"].values()
    ):
        rows.append(("rouge_l_recall", "forget ROUGE-L recall (the reference's is the floor)", "ROUGE-L"))
    fig, axes = plt.subplots(
        len(rows), len(forget), figsize=(6 * len(forget), 4.5 * len(rows)), squeeze=False
    )
    everyone = sorted({s for r in forget.values() for sp in r["splits"].values() for s in sp["systems"]})
    colour = {
        s: plt.cm.tab10(i % 10) for i, s in enumerate(everyone)
    }  # one colour per system, as in attacks.png
    for col, (name, result) in enumerate(forget.items()):
        split = next(s for s in result["splits"].values() if s["role"] == "forget")
        for row, (metric, label, short) in enumerate(rows):
            ax = axes[row][col]
            names: dict[tuple[float, float], list[str]] = {}
            for system, entry in split["systems"].items():
                utility = result["systems"].get(system)
                if (
                    utility is None
                    or metric not in entry
                    or utility["model_utility"] != utility["model_utility"]
                ):
                    continue
                u, fig_y = utility["model_utility"], entry[metric]
                u_lo, u_hi = utility.get("model_utility_ci95", [u, u])
                ax.errorbar(
                    u,
                    fig_y["value"],
                    xerr=[[max(0.0, u - u_lo)], [max(0.0, u_hi - u)]] if u_lo == u_lo else None,
                    yerr=_errors([fig_y]),
                    fmt="s" if system in ("vanilla", "reference") else "o",
                    capsize=3,
                    alpha=0.8,
                    color=colour[system],
                )
                names.setdefault((round(u, 3), round(fig_y["value"], 3)), []).append(system)
            for (u, y), together in names.items():  # systems on the same point share one label
                ax.annotate(", ".join(together), (u, y), textcoords="offset points", xytext=(5, 5))
            ref = split["systems"].get("reference", {}).get(metric)
            if ref:
                ax.axhline(ref["value"], color="grey", linestyle="--", linewidth=0.8)
            ax.set(
                xlabel="model utility (harmonic mean of retain ratios to vanilla; higher is better)",
                ylabel=label,
                title=f"{name}: {short} vs utility",
            )
            ax.grid(alpha=0.3)
            if not names:
                why = (
                    f"no {short} here"
                    if metric not in split["systems"].get("vanilla", {})
                    else "utility undefined"
                )
                ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, color="grey")
    fig.suptitle("Trade-off: every point with its 95% interval on both axes; dashed line: the reference")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
