"""Language identification on short texts: is this question (or answer) English?

ALU makes one extra call, a translation for the screen, when the question or the draft is
not English, so the decision must be fast and right on short texts. Measured side by side
in one run: alu.language.is_english (script share + py3langid), py3langid alone, lingua
(if installed; not a dependency) and a script-only rule, on
  - English: TOFU questions and answers (200 each), WMDP/MMLU question stems (100);
  - other languages: the parametric probe set's questions in 13 languages and the language
    attack's translations of TOFU questions (French, German, Spanish, Chinese, Russian,
    Arabic) when results/eval*/attacks/language.jsonl exists.

    .venv/bin/python benchmarks/language_id.py          # table on stdout, JSON in results/language-id/
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from _table import print_rows
from rich.console import Console

from alu import language
from alu.datasets import data_dir, load_benchmark

ATTACK_LANGS = {
    "French": "fr",
    "German": "de",
    "Spanish": "es",
    "Chinese": "zh",
    "Russian": "ru",
    "Arabic": "ar",
}


def samples(root: Path) -> list[tuple[str, str]]:
    """(language code, text) pairs."""
    out: list[tuple[str, str]] = []
    tofu = load_benchmark("tofu", root, forget="forget05")
    for item in tofu.split("retain").items[:200]:
        out += [("en", item.question), ("en", item.answer)]
    out += [("en", i.question) for i in load_benchmark("mmlu", root).split("mmlu").items[:100]]
    probes = Path(language.__file__).parent / "datasets" / "parametric"
    for file in sorted(probes.glob("*.json")):
        out += [(row["lang"], row["q"]) for row in json.loads(file.read_text())["languages"]]
    for path in Path("results").glob("eval*/attacks/language.jsonl"):
        from alu.datasets import Item
        from alu.evaluation.attacks.language import language_for
        from alu.evaluation.records import read_attack_file

        for row in read_attack_file(path).values():  # an item once (a later line adds its gold)
            lang = ATTACK_LANGS[language_for(Item(row["item_id"], row["question"]))]
            out.append((lang, row["turns"][-1]))
        break
    return out


def deciders() -> dict:
    found = {
        "alu.language.is_english": language.is_english,
        "py3langid alone": lambda t: language.language_of(t)[0] == "en",
        "script share only": lambda t: language.non_latin_share(t) < 0.2,
    }
    try:
        from lingua import LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_all_languages().build()

        def lingua_english(text: str) -> bool:
            found_lang = detector.detect_language_of(text)
            return found_lang is None or found_lang.iso_code_639_1.name.lower() == "en"

        found["lingua"] = lingua_english
    except ImportError:
        pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="results/language-id")
    args = parser.parse_args()
    console = Console(width=150)
    data = samples(data_dir(args.data_dir))
    english = [t for lang, t in data if lang == "en"]
    other = [(lang, t) for lang, t in data if lang != "en"]
    rows = []
    for name, english_p in deciders().items():
        english_p(english[0])  # load its model before timing
        times, right_en, right_other = [], 0, 0
        missed: dict[str, int] = {}
        for lang, text in data:
            t0 = time.perf_counter()
            said = english_p(text)
            times.append((time.perf_counter() - t0) * 1000)
            if lang == "en":
                right_en += said
            elif not said:
                right_other += 1
            else:
                missed[lang] = missed.get(lang, 0) + 1
        rows.append(
            {
                "decider": name,
                f"english kept (of {len(english)})": right_en,
                f"other caught (of {len(other)})": right_other,
                "balanced accuracy": round((right_en / len(english) + right_other / len(other)) / 2, 3),
                "median ms": round(statistics.median(times), 3),
                "p95 ms": round(sorted(times)[int(0.95 * len(times))], 3),
                "missed languages": ", ".join(f"{k}:{v}" for k, v in sorted(missed.items())) or "-",
            }
        )
    print_rows(console, f"is it English? {len(english)} English and {len(other)} other short texts", rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "language_id.json").write_text(json.dumps(rows, indent=2))
    console.print(f"wrote {out / 'language_id.json'}")


if __name__ == "__main__":
    main()
