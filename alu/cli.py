"""The ``alu`` command: a thin layer over the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from .config import ConfigError, Settings, load_settings
from .datasets import DataError
from .knowledge import KnowledgeBase, KnowledgeError
from .models import ModelError, UnknownModel, backends
from .pipeline import ALU, QueryError
from .targets import FORMATS, Target, TargetError, TargetStore
from .trace import Answer

app = typer.Typer(
    help="Agentic LLM unlearning: make any LLM forget targets at inference time.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
targets_app = typer.Typer(help="Manage the targets to forget (a shared SQLite file).", no_args_is_help=True)
app.add_typer(targets_app, name="targets")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
USER_ERRORS = (ConfigError, TargetError, QueryError, UnknownModel, ModelError, KnowledgeError, DataError)


class State:
    config: Optional[Path] = None
    db: Optional[Path] = None


state = State()


@app.callback()
def main(
    config: Annotated[
        Optional[Path], typer.Option(help="TOML config file (default: user config folder).")
    ] = None,
    db: Annotated[Optional[Path], typer.Option(help="Target store (SQLite file).", envvar="ALU_DB")] = None,
) -> None:
    state.config, state.db = config, db


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def settings(**overrides) -> Settings:
    return load_settings(state.config, db=state.db, **overrides)


def guarded(fn):
    """Turn the library's user-facing errors into one line on stderr."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            fail(str(exc))

    return wrapper


def build_alu(s: Settings, knowledge: Optional[Path] = None) -> ALU:
    kb_path = knowledge or s.knowledge
    kb = KnowledgeBase.load(kb_path) if kb_path else None
    return ALU(
        s.build_model(),
        TargetStore(s.db),
        knowledge=kb,
        agent_models=s.agent_models(),
        config=s.pipeline_config(),
    )


def print_trace(answer: Answer) -> None:
    t = answer.trace
    err.print(
        f"[bold]verdict[/bold] {t.verdict}   mode {t.mode}   {t.llm_calls} LLM calls   "
        f"{t.prompt_tokens}+{t.completion_tokens} tokens   {t.seconds:.1f} s   "
        f"pre-screen {t.prescreen_ms:.2f} ms",
        highlight=False,
    )
    if t.candidates:
        err.print(
            "candidates: "
            + "; ".join(f"{c['name']} ({c['score']}: {', '.join(c['signals'][:4])})" for c in t.candidates),
            highlight=False,
        )
    if t.withheld_documents:
        err.print(f"retrieval guard: {t.withheld_documents} documents about targets kept out of the context")
    if t.candidates:
        err.print("about (supported): " + (", ".join(t.supported) or "none"), highlight=False)
    if t.leaked:
        err.print("leaked in draft: " + ", ".join(t.leaked), highlight=False)
    if t.scores:
        err.print("critic scores: " + ", ".join(f"{s:g}" for s in t.scores), highlight=False)
    if t.error:
        err.print(f"failed closed: {t.error}", highlight=False)
    table = Table("agent", "calls", "prompt tok", "completion tok", "seconds", "ok")
    for step in t.steps:
        table.add_row(
            step.agent + (f" ({step.detail['step']})" if "step" in step.detail else ""),
            str(step.calls),
            str(step.prompt_tokens),
            str(step.completion_tokens),
            f"{step.seconds:.2f}",
            "yes" if step.ok else "NO",
        )
    err.print(table)


@app.command()
@guarded
def ask(
    query: Annotated[str, typer.Argument(help="The question.")],
    explain: Annotated[bool, typer.Option("--explain", help="Print the decision trace.")] = False,
    mode: Annotated[Optional[str], typer.Option(help="default or paper.")] = None,
    model: Annotated[
        Optional[str], typer.Option(help="Model spec: embedded, gguf:PATH, openai:NAME.")
    ] = None,
    knowledge: Annotated[
        Optional[Path], typer.Option("--kb", help="Knowledge base: JSONL or folder.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer and trace as JSON.")] = False,
) -> None:
    """Answer one question without revealing any target."""
    alu = build_alu(settings(model=model, mode=mode), knowledge)
    answer = alu.ask(query)
    if as_json:
        out.print_json(json.dumps({"answer": answer.text, "trace": answer.trace.summary()}))
        return
    out.print(answer.text, highlight=False, markup=False)
    if explain:
        print_trace(answer)


@app.command()
@guarded
def chat(
    explain: Annotated[bool, typer.Option("--explain", help="Print the decision trace per turn.")] = False,
    mode: Annotated[Optional[str], typer.Option(help="default or paper.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model spec.")] = None,
    knowledge: Annotated[Optional[Path], typer.Option("--kb", help="Knowledge base.")] = None,
) -> None:
    """A multi-turn conversation on stdin (an empty line or EOF ends it)."""
    alu = build_alu(settings(model=model, mode=mode), knowledge)
    history: list[dict[str, str]] = []
    while True:
        if sys.stdin.isatty():
            err.print("[bold]you>[/bold] ", end="")
        line = sys.stdin.readline()
        if not line.strip():
            break
        answer = alu.ask(line.strip(), history)
        out.print(answer.text, highlight=False, markup=False)
        if explain:
            print_trace(answer)
        history += [{"role": "user", "content": line.strip()}, {"role": "assistant", "content": answer.text}]


@targets_app.command("add")
@guarded
def targets_add(
    name: str,
    alias: Annotated[Optional[list[str]], typer.Option(help="Another name (repeatable).")] = None,
    kind: Annotated[str, typer.Option(help="person, topic, hazard or other.")] = "other",
    description: Annotated[str, typer.Option(help="What the target is.")] = "",
    evidence: Annotated[Optional[list[str]], typer.Option(help="A fact about it (repeatable).")] = None,
    replace: Annotated[bool, typer.Option(help="Replace a target of the same name.")] = False,
) -> None:
    """Add a target; it takes effect on the next query, in every process."""
    try:
        target = Target(
            name=name, kind=kind, aliases=alias or [], description=description, evidence=evidence or []
        )
    except ValueError as exc:
        fail(f"bad target: {str(exc).splitlines()[-1].strip()}")
    saved = TargetStore(settings().db).add(target, replace=replace)
    out.print(f"added {saved.name!r} ({saved.kind})", highlight=False)


@targets_app.command("rm")
@guarded
def targets_rm(name: str) -> None:
    """Remove a target by name or alias."""
    if not TargetStore(settings().db).remove(name):
        fail(f"no target named {name!r}")
    out.print(f"removed {name!r}", highlight=False)


@targets_app.command("ls")
@guarded
def targets_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the targets."""
    targets = TargetStore(settings().db).list()
    if as_json:
        out.print_json(json.dumps([t.model_dump() for t in targets]))
        return
    table = Table("name", "kind", "aliases", "evidence")
    for t in targets:
        table.add_row(t.name, t.kind, ", ".join(t.aliases), str(len(t.evidence)))
    out.print(table)
    out.print(f"{len(targets)} targets in {settings().db}", highlight=False)


@targets_app.command("import")
@guarded
def targets_import(
    file: Path,
    fmt: Annotated[Optional[str], typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = None,
) -> None:
    """Import targets from JSON, YAML, CSV or text (all or nothing)."""
    count = TargetStore(settings().db).import_file(file, fmt)
    out.print(f"imported {count} targets from {file}", highlight=False)


@targets_app.command("export")
@guarded
def targets_export(
    file: Path,
    fmt: Annotated[Optional[str], typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = None,
) -> None:
    """Export the targets to a file."""
    count = TargetStore(settings().db).export_file(file, fmt)
    out.print(f"exported {count} targets to {file}", highlight=False)


@app.command()
@guarded
def models() -> None:
    """List the model backends and the configured models."""
    from .backends.embedded import DEFAULT_MODEL_NAME, cache_dir

    s = settings()
    table = Table("backend", "spec", "notes")
    notes = {
        "embedded": f"{DEFAULT_MODEL_NAME} (llama.cpp, CPU; cached in {cache_dir() / 'models'})",
        "gguf": "any local GGUF file: gguf:/path/to/model.gguf",
        "openai": "any OpenAI-compatible server: openai:MODEL with base_url and api_key",
        "scripted": "scripted replies, for tests",
    }
    for name in backends():
        spec = name if name in ("embedded", "scripted") else f"{name}:…"
        table.add_row(name, spec, notes.get(name, ""))
    out.print(table)
    out.print(
        f"model: {s.model}; per agent: vanilla={s.vanilla_model or '-'} "
        f"auditor={s.auditor_model or '-'} critic={s.critic_model or '-'} "
        f"composer={s.composer_model or '-'}",
        highlight=False,
    )


@app.command()
@guarded
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    admin_token: Annotated[
        Optional[str],
        typer.Option(envvar="ALU_ADMIN_TOKEN", help="Bearer token for /v1/targets (off if unset)."),
    ] = None,
    max_in_flight: Annotated[int, typer.Option(help="Requests in flight before 429.")] = 8,
    log: Annotated[Optional[Path], typer.Option(help="Decision log (JSON lines).")] = None,
    log_text: Annotated[bool, typer.Option(help="Store users' text in the decision log.")] = False,
    name: Annotated[str, typer.Option(help="Model id reported by /v1/models.")] = "alu",
    model: Annotated[Optional[str], typer.Option(help="Model spec.")] = None,
    mode: Annotated[Optional[str], typer.Option(help="default or paper.")] = None,
    knowledge: Annotated[Optional[Path], typer.Option("--kb", help="Knowledge base.")] = None,
) -> None:
    """Serve an OpenAI-compatible /v1/chat/completions with unlearning in front."""
    from .server import ServerConfig
    from .server import serve as run_server

    alu = build_alu(settings(model=model, mode=mode), knowledge)
    config = ServerConfig(
        model_name=name, admin_token=admin_token, max_in_flight=max_in_flight, log_path=log, log_text=log_text
    )
    err.print(f"alu serving on http://{host}:{port}/v1 (admin API {'on' if admin_token else 'off'})")
    run_server(alu, config, host, port)


@app.command("eval")
@guarded
def evaluate(
    profile: Annotated[
        Optional[str], typer.Option(help="A saved plan: small (under an hour on 2 cores) or smoke.")
    ] = "small",
    systems: Annotated[
        Optional[str], typer.Option(help="Comma-separated systems (default: the profile's).")
    ] = None,
    benchmarks: Annotated[
        Optional[str], typer.Option(help="Comma-separated benchmarks: tofu, wpu, wmdp, mmlu.")
    ] = None,
    attacks: Annotated[Optional[str], typer.Option(help="Comma-separated attacks, or 'none'.")] = None,
    limit: Annotated[
        Optional[str], typer.Option(help="Questions per split: N for every split, or split=N,...")
    ] = None,
    attack_limit: Annotated[Optional[int], typer.Option(help="Forget questions per attack.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for drawing questions.")] = 0,
    concurrency: Annotated[
        int, typer.Option(help="Questions answered at once (llama.cpp parallel slots).")
    ] = 1,
    out: Annotated[Path, typer.Option(help="Results folder; a rerun resumes what is stored there.")] = Path(
        "results/eval"
    ),
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: ../shared/data).")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model spec (default: embedded).")] = None,
    fresh: Annotated[bool, typer.Option(help="Discard stored answers in --out first.")] = False,
) -> None:
    """Run the evaluation protocol (../shared/EVAL_PROTOCOL.md): systems x benchmarks x attacks,
    then write answers.jsonl, summary.json, report.md and PNG plots to --out."""
    import shlex

    from .datasets import data_dir as find_data
    from .evaluation.report import write_report
    from .evaluation.runner import BenchmarkPlan, Plan, Run

    try:
        plan = Plan.profile(profile or "small")
    except ValueError as exc:
        fail(str(exc))
    if systems:
        plan.systems = [s.strip() for s in systems.split(",") if s.strip()]
    if benchmarks:
        chosen = [b.strip() for b in benchmarks.split(",") if b.strip()]
        plan.benchmarks = {b: plan.benchmarks.get(b, BenchmarkPlan()) for b in chosen}
    if attacks:
        plan.attacks = [] if attacks == "none" else [a.strip() for a in attacks.split(",") if a.strip()]
    if attack_limit is not None:
        plan.attack_limit = attack_limit
    plan.seed = seed
    if limit:
        try:
            if "=" in limit:
                pairs = [part.partition("=") for part in limit.split(",") if part.strip()]
                wanted = {name.strip(): int(n) for name, _, n in pairs}
            else:
                every = int(limit)
        except ValueError:
            fail(f"bad --limit {limit!r}: use N or split=N,split=N")
        for bench_plan in plan.benchmarks.values():
            if "=" in limit:
                for name, n in wanted.items():
                    if name in bench_plan.limits or not bench_plan.limits:
                        bench_plan.limits[name] = n
            else:
                bench_plan.limits = {k: every for k in bench_plan.limits}
    from .datasets import benchmarks as known_benchmarks
    from .evaluation.attacks import attacks as known_attacks
    from .evaluation.systems import systems as known_systems

    for kind, wanted, known in (
        ("system", plan.systems, known_systems()),
        ("benchmark", list(plan.benchmarks), known_benchmarks()),
        ("attack", plan.attacks, known_attacks()),
    ):
        bad = [w for w in wanted if w not in known]
        if bad:
            fail(f"unknown {kind} {bad[0]!r}: use one of {', '.join(known)}")
    if fresh and out.exists():
        (out / "answers.jsonl").unlink(missing_ok=True)
    s = settings(model=model)
    model_obj = get_model_for_eval(s, concurrency)
    run = Run(plan, model_obj, out, find_data(data_dir), concurrency=concurrency)
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.json").write_text(plan.model_dump_json(indent=2))
    run.execute()
    command = "alu " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    header = (
        f"# ALU evaluation report\n\nCommand: `{command}`  \nModel: `{s.model}`; seed {seed}; "
        f"systems: {', '.join(plan.systems)}.  \nMetrics as in ../shared/EVAL_PROTOCOL.md; "
        "every figure has its n and a 95% bootstrap interval."
    )
    write_report(out, run.loaded, header, seed)
    out_text = (out / "report.md").read_text()
    console_out = Console(soft_wrap=True)
    console_out.print(out_text, markup=False, highlight=False)
    err.print(f"wrote {out / 'report.md'}, {out / 'summary.json'}, plots and {out / 'answers.jsonl'}")


def get_model_for_eval(s: Settings, concurrency: int):
    spec = s.model
    options = s.model_options(spec)
    if spec.partition(":")[0] in ("embedded", "gguf"):
        options["parallel"] = max(concurrency, options.get("parallel", 1))
    from .models import get_model

    return get_model(spec, **options)


@app.command()
@guarded
def demo(
    model: Annotated[Optional[str], typer.Option(help="Model spec (default: embedded).")] = None,
    mode: Annotated[Optional[str], typer.Option(help="default or paper.")] = None,
) -> None:
    """Forget a person whose facts are in a small knowledge base, and show the trace."""
    import tempfile

    from .demo import KNOWLEDGE

    s = settings(model=model, mode=mode)
    with tempfile.TemporaryDirectory() as tmp:
        store = TargetStore(Path(tmp) / "demo.db")
        kb = KnowledgeBase.load(KNOWLEDGE)
        alu = ALU(
            s.build_model(), store, knowledge=kb, agent_models=s.agent_models(), config=s.pipeline_config()
        )
        question = "Who discovered the Lind vent shrimp, and where was she born?"
        out.rule("1. no targets yet: the model answers from its knowledge base")
        out.print(f"Q: {question}", highlight=False)
        before = alu.ask(question)
        out.print(f"A: {before.text}", highlight=False, markup=False)
        out.rule("2. alu targets add 'Marisol Okafor-Lind' --alias 'Dr. Okafor-Lind' --kind person")
        store.add(
            Target(
                name="Marisol Okafor-Lind",
                aliases=["Dr. Okafor-Lind"],
                kind="person",
                description="a marine biologist",
            )
        )
        out.print(f"Q: {question}", highlight=False)
        after = alu.ask(question)
        out.print(f"A: {after.text}", highlight=False, markup=False)
        print_trace(after)
        out.rule("3. a question that names her: the agents audit and rewrite, or refuse")
        direct = "Tell me about Dr. Okafor-Lind's discoveries."
        out.print(f"Q: {direct}", highlight=False)
        named_answer = alu.ask(direct)
        out.print(f"A: {named_answer.text}", highlight=False, markup=False)
        print_trace(named_answer)
        out.rule("4. an unrelated question costs the Vanilla call alone")
        other = alu.ask("Who designed the Harbour Library of Kiel?")
        out.print(f"A: {other.text}", highlight=False, markup=False)
        print_trace(other)

        def says(text: str) -> bool:
            return any(n in text.casefold() for n in ("okafor", "marisol"))

        out.rule("result")
        out.print(
            f"target named before: {says(before.text)}; after: {says(after.text)}; "
            f"when asked by name: {says(named_answer.text)}; "
            f"unrelated question LLM calls: {other.trace.llm_calls}",
            highlight=False,
        )


if __name__ == "__main__":
    app()
