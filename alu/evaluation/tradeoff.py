"""Whether one system dominates another on the whole trade-off, not on leak alone.

A baseline can tie at a floor (``filter`` refuses whenever a target is named, so it leaks
0%) while paying for it in what it still answers. So a system *dominates* a baseline when
it is no worse on any axis and better on at least one, each judged by a test:

- leak rate on the forget questions (or under an attack): the paired exact McNemar verdict,
  one axis per forget split (``leak`` for the first, ``leak on NAME`` for each other);
- forget quality (unattacked only, where the reference exists): better when the system's
  KS p-value is at least 0.05 and the baseline's is below, i.e. the KS test tells the
  baseline's forget answers from the reference's but not the system's;
- each retain split of the benchmark (its ROUGE-L recall or accuracy): the paired verdict.

Under an attack the axes are the leak rate under that attack plus the benchmark's retain
splits (the answers a user without an attack still gets).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .paired import BETTER, SAME, WORSE

FORGET_QUALITY_LEVEL = 0.05


@dataclass
class Dominance:
    system: str
    baseline: str
    axes: dict[str, str] = field(default_factory=dict)  # axis -> better / worse / no detectable difference

    @property
    def dominates(self) -> bool | None:
        """None when the leak axis (the one every trade-off has) could not be compared."""
        if not any(axis.startswith("leak") for axis in self.axes):
            return None
        values = self.axes.values()
        return WORSE not in values and BETTER in values

    def describe(self) -> str:
        better = [a for a, v in self.axes.items() if v == BETTER]
        worse = [a for a, v in self.axes.items() if v == WORSE]
        same = [a for a, v in self.axes.items() if v == SAME]
        if self.dominates is None:
            return f"{self.baseline}: not compared (no paired leak figures)"
        head = "dominated" if self.dominates else "not dominated"
        parts = [f"better on {', '.join(better)}" if better else "better on nothing"]
        if worse:
            parts.append(f"worse on {', '.join(worse)}")
        if same:
            parts.append(f"no detectable difference on {', '.join(same)}")
        return f"{self.baseline}: {head} ({'; '.join(parts)})"


def _forget_quality_verdict(mine: float | None, theirs: float | None) -> str | None:
    if mine is None or theirs is None or mine != mine or theirs != theirs:
        return None
    if mine >= FORGET_QUALITY_LEVEL > theirs:
        return BETTER
    if theirs >= FORGET_QUALITY_LEVEL > mine:
        return WORSE
    return SAME


def dominance(
    summary: dict, system: str, baseline: str, benchmark: str, attack: str | None = None
) -> Dominance:
    """``system`` against ``baseline`` on ``benchmark``'s trade-off (under ``attack`` if given)."""
    out = Dominance(system, baseline)
    result = summary["benchmarks"].get(benchmark, {"splits": {}})
    label = f"vs_{baseline}"
    if attack is not None:
        leak = summary["attacks"].get(attack, {}).get(system, {}).get("paired", {}).get(label)
        if leak:
            out.axes[f"leak under {attack}"] = leak["verdict"]
    first_forget = True
    for name, split in result["splits"].items():
        mine = split.get("paired", {}).get(label, {}).get(system, {})
        if split["role"] == "forget" and attack is None:
            if "leak_rate" in mine:  # each forget split its own axis: "leak", then "leak on NAME"
                out.axes["leak" if first_forget else f"leak on {name}"] = mine["leak_rate"]["verdict"]
            first_forget = False
            per = split["systems"]
            verdict = _forget_quality_verdict(
                per.get(system, {}).get("forget_quality"), per.get(baseline, {}).get("forget_quality")
            )
            if verdict:
                out.axes["forget quality"] = verdict
        elif split["role"] == "retain":
            metric = "rouge_l_recall" if split["scoring"] == "rouge" else "accuracy"
            if metric in mine:
                out.axes[f"{name} {'ROUGE-L' if metric == 'rouge_l_recall' else 'accuracy'}"] = mine[metric][
                    "verdict"
                ]
    return out
