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
        fig, axes = plt.subplots(1, len(forget), figsize=(6 * len(forget), 4.5), squeeze=False)
        for ax, (name, r) in zip(axes[0], forget.items(), strict=True):
            sp = next(s for s in r["splits"].values() if s["role"] == "forget")
            for system, entry in sp["systems"].items():
                u = r["systems"].get(system, {}).get("model_utility")
                if u is None or "rouge_l_recall" not in entry:
                    continue
                y = entry["rouge_l_recall"]["value"]
                ax.scatter(u, y, s=60)
                ax.annotate(system, (u, y), textcoords="offset points", xytext=(5, 5))
            ax.set(
                xlabel="model utility (harmonic mean of retain ratios to vanilla)",
                ylabel="forget ROUGE-L recall (lower forgets more)",
                title=f"{name}: forgetting vs utility",
            )
            ax.grid(alpha=0.3)
        fig.tight_layout()
        written.append(out / "tradeoff.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    if summary["attacks"]:
        attacks = list(summary["attacks"])
        systems = sorted({s for a in summary["attacks"].values() for s in a})
        fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(attacks)), 4.5))
        width = 0.8 / len(systems)
        for i, system in enumerate(systems):
            values = [summary["attacks"][a].get(system, {}).get("value", 0) for a in attacks]
            ax.bar([x + i * width for x in range(len(attacks))], values, width, label=system)
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(attacks))], attacks)
        ax.set(ylabel="leak rate", title="leak rate per attack per system", ylim=(0, 1.05))
        ax.legend(ncol=4, fontsize=8)
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
