"""The ``alu`` command: a thin layer over the library."""

from __future__ import annotations

import functools
import importlib.util
import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .errors import AluError, EvalError
from .settings import Settings, load_settings
from .stores import Store, TargetStore, open_store
from .stores.base import name_key
from .targets import FORMATS, Examples, Target
from .trace import Answer

app = typer.Typer(
    help="Agentic LLM unlearning: make any LLM forget targets at inference time.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
targets_app = typer.Typer(
    help="Manage the targets to forget (an SQLite file or a PostgreSQL database).", no_args_is_help=True
)
app.add_typer(targets_app, name="targets")
enrichment_app = typer.Typer(
    help="Edit or remove a target's generated enrichment by hand.", no_args_is_help=True
)
targets_app.add_typer(enrichment_app, name="enrichment")
console_app = typer.Typer(help="The operator console served by alu serve at /console.", no_args_is_help=True)
app.add_typer(console_app, name="console")
console_user_app = typer.Typer(help="Operator accounts of the console.", no_args_is_help=True)
console_app.add_typer(console_user_app, name="user")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class State:
    config: Optional[Path] = None
    db: Optional[str] = None


state = State()

ModelOption = Annotated[Optional[str], typer.Option(help="Model spec: embedded, gguf:PATH, openai:NAME.")]
EnrichOption = Annotated[
    bool, typer.Option("--enrich", help="Then enrich the targets with the model (alu targets enrich).")
]
EnricherModelOption = Annotated[
    Optional[str],
    typer.Option("--model", help="Model that enriches (default: [models] enricher, else model)."),
]
GenerateOption = Annotated[
    Optional[int],
    typer.Option(
        "--generate-examples", help="Have the model write this many of a hazard's example questions."
    ),
]
ModeOption = Annotated[Optional[str], typer.Option(help="Pipeline mode: default or paper.")]
KnowledgeOption = Annotated[Optional[Path], typer.Option("--kb", help="Knowledge base: JSONL or folder.")]


@app.callback()
def main(
    config: Annotated[
        Optional[Path], typer.Option(help="TOML config file (default: user config folder).")
    ] = None,
    db: Annotated[
        Optional[str],
        typer.Option(help="Target store: an SQLite file, or a postgresql:// URL.", envvar="ALU_DB"),
    ] = None,
) -> None:
    state.config, state.db = config, db


def fail(message: str, code: int = 1) -> None:
    err.print(Text("error: ", style="red") + Text(shown(message)), highlight=False)
    raise typer.Exit(code)


def settings(**overrides) -> Settings:
    """The settings, with command-line values (``pipeline__mode=...``) on top."""
    return load_settings(state.config, db=state.db, **overrides)


def guarded(fn):
    """Turn the library's user-facing errors into one line on stderr."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AluError as exc:
            fail(str(exc))

    return wrapper


def store() -> Store:
    return open_store(settings().db)


def shown(text: str) -> str:
    """``text`` safe to print: control characters (ANSI escapes, NUL, ...) as escapes, the
    rest as is, so a stored name can never drive the terminal."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode() for ch in text
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
            markup=False,
        )
    if t.withheld_documents:
        err.print(f"retrieval guard: {t.withheld_documents} documents about targets kept out of the context")
    if t.candidates:
        err.print("about (supported): " + (", ".join(t.supported) or "none"), highlight=False, markup=False)
    if t.leaked:
        err.print("leaked in draft: " + ", ".join(t.leaked), highlight=False, markup=False)
    if t.scores:
        err.print("critic scores: " + ", ".join(f"{s:g}" for s in t.scores), highlight=False, markup=False)
    if t.gate is not None:
        detail = ", ".join(f"{k}={v}" for k, v in t.gate.detail.items())
        err.print(f"gate: {detail}", highlight=False, markup=False)
    if t.error:
        err.print(f"failed closed: {t.error}", highlight=False, markup=False)
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
    mode: ModeOption = None,
    model: ModelOption = None,
    knowledge: KnowledgeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer and trace as JSON.")] = False,
) -> None:
    """Answer one question without revealing any target."""
    alu = settings(model=model, pipeline__mode=mode, knowledge=knowledge).build_alu()
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
    mode: ModeOption = None,
    model: ModelOption = None,
    knowledge: KnowledgeOption = None,
) -> None:
    """A multi-turn conversation on stdin (an empty line or EOF ends it)."""
    alu = settings(model=model, pipeline__mode=mode, knowledge=knowledge).build_alu()
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
    examples: Annotated[
        Optional[Path],
        typer.Option(help='A hazard\'s example texts: one per line, or JSONL with a "text" field.'),
    ] = None,
    generate: GenerateOption = None,
    enrich: EnrichOption = False,
    model: Annotated[
        Optional[str],
        typer.Option(
            "--model",
            help="Model that enriches (default: [models] enricher, else model) and writes"
            " examples (default: the serving model).",
        ),
    ] = None,
) -> None:
    """Add a target; it takes effect on the next query, in every process."""
    from .scan.training import read_examples, with_classifiers

    if examples is not None and generate is not None:
        fail("give --examples or --generate-examples, not both")
    given = "--examples" if examples is not None else "--generate-examples" if generate is not None else None
    if given and kind != "hazard":
        fail(f"{given} is for hazard targets: add --kind hazard")
    texts = read_examples(examples) if examples is not None else None  # a bad file changes nothing
    try:
        target = Target(
            name=name,
            kind=kind,
            aliases=alias or [],
            description=description,
            evidence=evidence or [],
            examples=texts,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        fail(f"bad target: {where}: {str(error['msg']).removeprefix('Value error, ')}")
    enricher = build_enricher(model) if enrich else None  # a bad model spec changes nothing
    writer = build_writer(model, generate) if generate is not None else None
    with store() as targets_store:
        if writer is not None:
            found = targets_store.get(target.name)
            if found is not None and name_key(found.name) == name_key(target.name) and not replace:
                fail(f"target {target.name!r} exists already (use replace)")  # before the model's work
            target = target.model_copy(update={"examples": Examples(texts=write_examples(writer, target))})
        if target.examples is not None:
            target = next(with_classifiers([target]))  # trained before anything is stored
        saved = targets_store.add(target, replace=replace)
        out.print(f"added {saved.name!r} ({saved.kind})", highlight=False, markup=False)
        if target.examples is not None:
            report_examples(saved)
        if enricher is not None:
            enrich_after(targets_store, enricher, [saved.name], progress=False)


def build_writer(model: Optional[str], count: int):
    """What writes a hazard's examples: the serving model (``--model`` else the Vanilla
    agent's, else ``model``), its spec and how many to write (checked before it is built)."""
    from .agents.example_writer import check_count

    check_count(count)
    s = settings()
    spec = serving_spec(model)
    return s.build_model(spec), spec, count, s.pipeline.timeout


def write_examples(writer, target: Target) -> list[str]:
    """The hazard ``target``'s example questions written by the model, with a progress bar
    and the cost on stderr; a TargetError when too few came out (nothing is stored)."""
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .agents.example_writer import generate_examples
    from .trace import Trace

    model, spec, count, timeout = writer
    trace = Trace(mode="examples")
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(f"writing examples of {escape(shown(target.name)[:40])}", total=count)
        texts = generate_examples(
            model,
            target,
            count,
            timeout=timeout,
            trace=trace,
            progress=lambda kept: progress.update(task, completed=kept),
        )
    err.print(
        f"{len(texts)} examples written by {shown(spec)} in {trace.llm_calls} calls,"
        f" {trace.prompt_tokens}+{trace.completion_tokens} tokens",
        highlight=False,
        markup=False,
    )
    return texts


def report_examples(target: Target) -> None:
    """How many examples a hazard has and what its classifier recalled out of fold."""
    e = target.examples
    line = f"{target.name!r}: {len(e.texts)} examples"
    if e.classifier is not None:
        fit = e.classifier.calibration
        line += f"; classifier out-of-fold recall {fit.get('recall', 0):.2f} at fpr {fit.get('fpr', 0):.3f}"
    out.print(line, highlight=False, markup=False)


@targets_app.command("examples")
@guarded
def targets_examples(
    name: str,
    generate: Annotated[
        Optional[int],
        typer.Option("--generate", help="Have the model write this many example questions."),
    ] = None,
    file: Annotated[
        Optional[Path],
        typer.Option("--file", help='Example texts: one per line, or JSONL with a "text" field.'),
    ] = None,
    model: Annotated[
        Optional[str], typer.Option("--model", help="Model that writes them (default: the serving model).")
    ] = None,
) -> None:
    """Replace a hazard target's examples, from a file or written by the serving model from
    its name and description, and retrain its classifier; on any error nothing changes."""
    from .scan.training import read_examples, with_classifiers

    if (generate is None) == (file is None):
        fail("give --generate N or --file FILE (one of them)")
    if model is not None and file is not None:
        fail("--model is for --generate")
    texts = read_examples(file) if file is not None else None  # a bad file changes nothing
    writer = build_writer(model, generate) if generate is not None else None
    with store() as targets_store:
        target = targets_store.get(name)
        if target is None:
            fail(f"no target named {name!r}")
        if target.kind != "hazard":
            fail(f"{target.name!r} is a {target.kind} target: examples are for hazard targets")
        if writer is not None:
            texts = write_examples(writer, target)
        updated = target.model_copy(update={"examples": Examples(texts=texts)})
        saved = targets_store.add(next(with_classifiers([updated])), replace=True)
    report_examples(saved)


@targets_app.command("rm")
@guarded
def targets_rm(name: str) -> None:
    """Remove a target by name or alias, as it was added (slashes, percent signs and all)."""
    with store() as targets_store:
        removed = targets_store.remove(name)
    if not removed:
        fail(f"no target named {name!r}")
    out.print(f"removed {name!r}", highlight=False, markup=False)


@targets_app.command("ls")
@guarded
def targets_ls(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the targets."""
    with store() as targets_store:
        targets = targets_store.list()
    if as_json:
        out.print_json(json.dumps([t.model_dump() for t in targets]))
        return
    table = Table("name", "kind", "aliases", "evidence", "enriched", "known to model")
    for t in targets:
        enriched = "no" if t.enrichment is None else ("failed" if t.enrichment.error else "yes")
        k = t.knowledge
        known = "not probed" if k is None else {True: "yes", False: "no", None: "undecided"}[k.known]
        table.add_row(
            Text(shown(t.name)),
            t.kind,
            Text(shown(", ".join(t.aliases))),
            str(len(t.evidence)),
            enriched,
            known + (" (failed)" if k is not None and k.error else ""),
        )
    out.print(table)
    out.print(f"{len(targets)} targets in {targets_store.location}", highlight=False, markup=False)


@targets_app.command("import")
@guarded
def targets_import(
    file: Path,
    fmt: Annotated[Optional[str], typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = None,
    enrich: EnrichOption = False,
    model: EnricherModelOption = None,
) -> None:
    """Import targets from JSON, YAML, CSV or text (all or nothing)."""
    from .scan.training import with_classifiers
    from .targets import stream_targets

    enricher = build_enricher(model) if enrich else None
    with store() as targets_store:
        # hazards' examples train their classifiers on the way in (all or nothing, as ever)
        count = targets_store.add_stream(with_classifiers(stream_targets(file, fmt)), replace=True)
        out.print(f"imported {count} targets from {file}", highlight=False, markup=False)
        if enricher is not None:
            names = [t.name for t in stream_targets(file, fmt)]
            enrich_after(targets_store, enricher, names, progress=True)


@targets_app.command("export")
@guarded
def targets_export(
    file: Path,
    fmt: Annotated[Optional[str], typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = None,
) -> None:
    """Export the targets to a file."""
    with store() as targets_store:
        count = targets_store.export_file(file, fmt)
    out.print(f"exported {count} targets to {file}", highlight=False, markup=False)


@targets_app.command("index")
@guarded
def targets_index(
    index_file: Annotated[
        Optional[Path],
        typer.Option(
            help="Where to write it on this host (default: index/HASH-OF-THE-STORE.alu in the cache"
            " folder, where alu serve --workers looks)."
        ),
    ] = None,
) -> None:
    """Build the index file from the store now and keep its copy in the store, so that every
    replica, the first one included, starts from it in seconds (after a large import, say)."""
    from .scan import TargetIndex
    from .server.workers import default_index_file

    with store() as targets_store:
        if targets_store.revision() == 0:
            fail(f"{targets_store.location} holds no targets yet: nothing to index")
        path = index_file.expanduser() if index_file else default_index_file(targets_store.location)
        index = TargetIndex(targets_store, send_from=0)
        index.use_file(path)  # the store's copy taken if one is usable, else built on every core
        index.sync()
        assert index.copies is not None
        index.copies.wait()
        copy = targets_store.index_copy()
        if copy is None or copy.revision < index.revision:
            if not index.fold():  # the list as of now in a new file, sent as the copy
                fail(f"{path} is being written by another process: run this again once it is done")
            index.copies.wait()
            copy = targets_store.index_copy()
        if copy is None or copy.revision < index.revision:
            fail(f"{targets_store.location} keeps no copy of the index file (see the log)")
        out.print(
            f"index file {path}: {len(index):,} targets as of revision {index.revision};"
            f" {targets_store.location} keeps its copy (revision {copy.revision})",
            highlight=False,
            markup=False,
        )


def build_enricher(model: Optional[str]):
    """The Enricher on ``--model``, else the ``enricher`` agent's model, else ``model``;
    returns it with the spec, which becomes the enrichment's provenance."""
    from .agents.enricher import Enricher

    s = settings()
    spec = model or s.models.get("enricher") or s.model
    return Enricher(s.build_model(spec), timeout=s.pipeline.timeout), spec


def run_enrichment(targets_store: Store, enricher, names, *, force: bool = False, progress: bool = True):
    from .enrichment import enrich_targets

    engine, spec = enricher
    return enrich_targets(
        targets_store, engine, names, force=force, model=spec, show_progress=progress, console=err
    )


def enrich_after(targets_store: Store, enricher, names: list[str], *, progress: bool) -> None:
    """Enrich what was just added: a failure is a one-line warning, the targets stay."""
    try:
        cost = run_enrichment(targets_store, enricher, names, progress=progress)
    except AluError as exc:
        warn(f"not enriched: {exc}")
        return
    for name, why in cost.failures:
        warn(f"{name!r} not enriched: {why}")
    if cost.failed > len(cost.failures):
        warn(f"{cost.failed - len(cost.failures)} more targets not enriched")
    err.print(cost.line(), highlight=False, markup=False)


def warn(message: str) -> None:
    err.print(Text("warning: ", style="yellow") + Text(shown(message)), highlight=False)


@targets_app.command("enrich")
@guarded
def targets_enrich(
    names: Annotated[Optional[list[str]], typer.Argument(help="Targets to enrich, by name or alias.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Enrich every target not enriched yet.")] = False,
    force: Annotated[bool, typer.Option(help="Enrich again targets already enriched.")] = False,
    model: EnricherModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the cost summary as JSON.")] = False,
    probe: Annotated[
        bool, typer.Option("--probe", help="Then probe the same targets (alu targets probe).")
    ] = False,
) -> None:
    """Have a model write each target's names in other scripts, associated terms and a
    one-line description, checked, stored apart from the operator's fields. Resumable: each
    target is saved as it is done; run it again to go on. Exit 1 if any target failed."""
    if bool(names) == every:
        fail("name the targets to enrich, or give --all (not both)")
    enricher = build_enricher(model)
    prober = build_prober(None) if probe else None
    costs = []
    try:
        with store() as targets_store:
            costs.append(run_enrichment(targets_store, enricher, None if every else names, force=force))
            if prober is not None:
                costs.append(run_probing(targets_store, prober, None if every else names, force=force))
    except KeyboardInterrupt:
        err.print("interrupted: every target finished is saved; run the command again to resume")
        raise typer.Exit(130) from None
    report_costs(costs, as_json, ("enriched", "probed"))


def report_costs(costs: list, as_json: bool, verbs: tuple[str, ...]) -> None:
    """Each job's failures as warnings and its cost line (or one JSON summary, a list when
    several jobs ran); exit 1 if any target failed."""
    if as_json:
        summaries = [c.summary() for c in costs]
        out.print_json(json.dumps(summaries[0] if len(summaries) == 1 else summaries))
    else:
        for cost, verb in zip(costs, verbs, strict=False):
            for name, why in cost.failures:
                warn(f"{name!r} not {verb}: {why}")
            out.print(cost.line(), highlight=False, markup=False)
    if any(c.failed for c in costs):
        raise typer.Exit(1)


def serving_spec(model: Optional[str] = None) -> str:
    """The model a probe asks: ``--model``, else the Vanilla agent's, else ``model``."""
    s = settings()
    return model or s.models.get("vanilla") or s.model


def build_prober(model: Optional[str]):
    from .agents.prober import Prober

    s = settings()
    return Prober(s.build_model(serving_spec(model)), timeout=s.pipeline.timeout)


def run_probing(targets_store: Store, prober, names, *, force: bool = False, calls: Optional[int] = None):
    from .probing import DEFAULT_CALLS, probe_targets

    return probe_targets(targets_store, prober, names, force=force, calls=calls or DEFAULT_CALLS, console=err)


@targets_app.command("probe")
@guarded
def targets_probe(
    names: Annotated[Optional[list[str]], typer.Argument(help="Targets to probe, by name or alias.")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Probe every target not probed with this model.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Probe again targets already probed with this model.")] = False,
    model: Annotated[
        Optional[str], typer.Option("--model", help="Model to probe (default: the serving model).")
    ] = None,
    calls: Annotated[
        Optional[int], typer.Option(min=1, max=40, help="Questions per target (default 10).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the cost summary as JSON.")] = False,
) -> None:
    """Ask the serving model a few short questions about each target and keep what it
    knows: its knowledge fingerprint (the distinctive names, terms and numbers it gives,
    with how consistently) and whether it knows the target at all, with the model's
    identity. Resumable: each target is saved as it is done; a target already probed with
    this model is skipped. Exit 1 if any target failed."""
    if bool(names) == every:
        fail("name the targets to probe, or give --all (not both)")
    prober = build_prober(model)
    try:
        with store() as targets_store:
            cost = run_probing(targets_store, prober, None if every else names, force=force, calls=calls)
    except KeyboardInterrupt:
        err.print("interrupted: every target finished is saved; run the command again to resume")
        raise typer.Exit(130) from None
    report_costs([cost], as_json, ("probed",))


@targets_app.command("verify")
@guarded
def targets_verify(
    names: Annotated[Optional[list[str]], typer.Argument(help="Targets to verify, by name or alias.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Verify every probed target.")] = False,
    knowledge: KnowledgeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the cost summary as JSON.")] = False,
) -> None:
    """Run held-out probes about each target through the pipeline, as a user's questions,
    and store the report with the target (targets show, export, the admin API): the leak
    rate of questions about it (directly, misspelled, in other languages, indirectly) and
    the share of its neighbours still answered, each with n and a 95% interval, the model
    and the time. A leak is judged by what the model itself said of the target when probed,
    not by the screen being verified. Targets must be probed first; run it again after a
    model change. Exit 1 if any target failed."""
    from .probing.verify import verify_targets

    if bool(names) == every:
        fail("name the targets to verify, or give --all (not both)")
    alu = settings(knowledge=knowledge).build_alu()
    try:
        with store() as targets_store:
            cost = verify_targets(targets_store, alu, None if every else names, console=err)
    except KeyboardInterrupt:
        err.print("interrupted: every target finished is saved; run the command again to resume")
        raise typer.Exit(130) from None
    report_costs([cost], as_json, ("verified",))


def serving_identity() -> tuple[str, str]:
    """The serving model's spec and identity (``?`` and why, when it cannot be told)."""
    from .models import backend_of, identity_of

    spec = serving_spec()
    try:
        return spec, identity_of(spec, **settings().backends.get(backend_of(spec).prefix, {}))
    except AluError as exc:
        return spec, f"? ({exc})"


def show_knowledge(target: Target) -> None:
    k = target.knowledge
    if k is None:
        out.print("knowledge: not probed (alu targets probe NAME)", highlight=False, markup=False)
        return
    spec, identity = serving_identity()
    state = "fresh" if not k.is_stale(identity) else f"STALE: the serving model ({spec}) is {identity}"
    known = {True: "known", False: "not known", None: "undecided"}[k.known]
    out.print(
        f"knowledge: {known} to {shown(k.model_name or '?')} ({shown(k.model)})"
        f" at {k.created or '?'}; {state}",
        highlight=False,
        markup=False,
    )
    out.print(Text(f"{'decision':<12}", style="bold") + Text(shown(k.reason or "-")), highlight=False)
    top = ", ".join(f"{i.text} {i.consistency:.0%}" for i in k.top(15))
    out.print(Text(f"{'fingerprint':<12}", style="bold") + Text(shown(top or "-")), highlight=False)
    written = "not asked (alu targets probe NAME adds them)" if k.names is None else ", ".join(k.names) or "-"
    out.print(Text(f"{'written as':<12}", style="bold") + Text(shown(written)), highlight=False)
    out.print(
        Text(f"{'cost':<12}", style="bold")
        + Text(f"{k.llm_calls} calls, {k.prompt_tokens}+{k.completion_tokens} tokens, {k.seconds:g} s"),
        highlight=False,
    )
    v = k.verification
    if v is None:
        out.print("verified:   not yet (alu targets verify NAME)", highlight=False, markup=False)
    else:
        lo, hi = v.leak_interval
        klo, khi = v.kept_interval
        out.print(
            Text(f"{'verified':<12}", style="bold")
            + Text(
                f"leak {v.leaks}/{v.forget} = {v.leak_rate:.0%} [{lo:.0%}, {hi:.0%}]; neighbours kept "
                f"{v.kept}/{v.neighbours} = {v.kept_rate:.0%} [{klo:.0%}, {khi:.0%}]; "
                f"{shown(v.model_name or '?')} at {v.created}"
                + ("" if v.model == identity else " (STALE: another model)")
            ),
            highlight=False,
        )
    if k.error:
        out.print(
            Text(f"{'error':<12}", style="bold")
            + Text(shown(f"the last attempt failed (what is above is kept): {k.error}")),
            highlight=False,
        )


@targets_app.command("show")
@guarded
def targets_show(
    name: str, as_json: Annotated[bool, typer.Option("--json", help="Print the target as JSON.")] = False
) -> None:
    """Show one target: the operator's fields, and apart, what was generated."""
    with store() as targets_store:
        target = targets_store.get(name)
    if target is None:
        fail(f"no target named {name!r}")
    if as_json:
        out.print_json(json.dumps(target.model_dump()))
        return

    def line(label: str, value: str) -> None:
        out.print(Text(f"{label:<12}", style="bold") + Text(shown(value)), highlight=False)

    line("name", target.name)
    line("kind", target.kind)
    line("aliases", ", ".join(target.aliases) or "-")
    line("description", target.description or "-")
    for i, fact in enumerate(target.evidence, 1):
        line("evidence" if i == 1 else "", fact)
    show_knowledge(target)
    e = target.enrichment
    if e is None:
        out.print("generated: none (alu targets enrich NAME)", highlight=False, markup=False)
        return
    out.print(f"generated by {shown(e.model) or '?'} at {e.created or '?'}", highlight=False, markup=False)
    line("names", ", ".join(e.names) or "-")
    line("terms", ", ".join(e.terms) or "-")
    line("description", e.description or "-")
    line("dropped", "; ".join(e.dropped) or "-")
    if e.error:
        line("error", f"the last attempt failed (what is above is kept): {e.error}")


def _items(values: Optional[list[str]]) -> Optional[list[str]]:
    """Comma-separated, repeatable; None when not given, [] to clear."""
    if values is None:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@enrichment_app.command("set")
@guarded
def enrichment_set(
    name: str,
    names: Annotated[
        Optional[list[str]], typer.Option("--names", help="Names, comma-separated ('' clears).")
    ] = None,
    terms: Annotated[
        Optional[list[str]], typer.Option("--terms", help="Associated terms, comma-separated ('' clears).")
    ] = None,
    description: Annotated[Optional[str], typer.Option(help="A one-line description.")] = None,
) -> None:
    """Set generated fields by hand (provenance: operator-edit); the others stay."""
    from .enrichment import edit_enrichment

    if names is None and terms is None and description is None:
        fail("give --names, --terms or --description")
    with store() as targets_store:
        saved = edit_enrichment(
            targets_store, name, names=_items(names), terms=_items(terms), description=description
        )
    e = saved.enrichment
    out.print(
        f"enrichment of {saved.name!r}: {len(e.names)} names, {len(e.terms)} terms (operator-edit)",
        highlight=False,
        markup=False,
    )


@enrichment_app.command("rm")
@guarded
def enrichment_rm(name: str) -> None:
    """Remove a target's enrichment; the target and its own fields stay."""
    from .enrichment import remove_enrichment

    with store() as targets_store:
        saved = remove_enrichment(targets_store, name)
    out.print(f"removed the enrichment of {saved.name!r}", highlight=False, markup=False)


@app.command()
@guarded
def models() -> None:
    """List the model backends, their options, and the configured models."""
    from .models import backends

    s = settings()
    table = Table("backend", "spec", "description", "options (config: backends.NAME)")
    for backend in backends():
        options = ", ".join(backend.options.model_fields)
        table.add_row(backend.prefix, backend.usage or backend.prefix, backend.description, options or "-")
    out.print(table)
    per_agent = ", ".join(f"{agent}={spec}" for agent, spec in s.models.items()) or "none"
    out.print(f"model: {s.model}; per agent: {per_agent}", highlight=False)


@app.command()
@guarded
def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default 8000).")] = None,
    admin_token_file: Annotated[
        Optional[Path],
        typer.Option(help="File holding the admin token (else $ALU_ADMIN_TOKEN; neither: admin API off)."),
    ] = None,
    admin_token: Annotated[Optional[str], typer.Option(hidden=True)] = None,
    max_in_flight: Annotated[Optional[int], typer.Option(help="Requests in flight before 429.")] = None,
    log: Annotated[Optional[Path], typer.Option(help="Decision log (JSON lines).")] = None,
    log_db: Annotated[
        Optional[str], typer.Option(help="Decision log table in PostgreSQL (postgresql:// URL).")
    ] = None,
    log_text: Annotated[
        Optional[bool], typer.Option("--log-text", help="Store users' text in the decision log.")
    ] = None,
    name: Annotated[Optional[str], typer.Option(help="Model id reported by /v1/models.")] = None,
    index_file: Annotated[
        Optional[Path],
        typer.Option(
            help="Keep the pre-screen's tables in this file, shared by every process on the host"
            " (with --workers over 1, default: index/HASH-OF-THE-STORE.alu in the cache folder,"
            " $ALU_CACHE_DIR or ~/.cache/alu)."
        ),
    ] = None,
    index_copy: Annotated[
        Optional[bool],
        typer.Option(
            "--index-copy/--no-index-copy",
            help="Share the index file through the store: on a host without one, take the store's copy"
            " instead of building one; send the copy of one this replica builds (20,000 targets or"
            " more). Default: on.",
        ),
    ] = None,
    workers: Annotated[
        Optional[int],
        typer.Option(
            help="Worker processes on the one port (default 1), all mapping one index file; for a"
            " remote model (openai:), as each worker would load an embedded one again."
            " --max-in-flight is per worker."
        ),
    ] = None,
    allow_model_per_worker: Annotated[
        Optional[bool],
        typer.Option(
            "--allow-model-per-worker", help="Allow --workers over 1 with a model each worker loads itself."
        ),
    ] = None,
    model: ModelOption = None,
    mode: ModeOption = None,
    knowledge: KnowledgeOption = None,
) -> None:
    """Serve an OpenAI-compatible /v1/chat/completions with unlearning in front."""
    from .server import serve as run_server

    if admin_token is not None:
        fail("--admin-token would show in ps: set ALU_ADMIN_TOKEN or use --admin-token-file")
    if workers is not None and workers < 1:
        fail(f"--workers must be 1 or more, not {workers}")
    s = settings(
        model=model,
        pipeline__mode=mode,
        knowledge=knowledge,
        serve__host=host,
        serve__port=port,
        serve__max_in_flight=max_in_flight,
        serve__log=log,
        serve__log_db=log_db,
        serve__log_text=log_text,
        serve__name=name,
        serve__admin_token_file=admin_token_file,
        serve__index_file=index_file,
        serve__index_copy=index_copy,
        serve__workers=workers,
        serve__model_per_worker=allow_model_per_worker,
    )
    token = s.serve.admin_token()
    if s.serve.workers > 1:
        _serve_workers(s, token is not None)
        return
    alu = s.build_alu()
    if s.serve.index_file is not None:
        alu.index.use_file(s.serve.index_file, share=s.serve.index_copy)
    where = f"http://{s.serve.host}:{s.serve.port}/v1"
    err.print(f"alu serving on {where} (admin API {'on' if token else 'off'})")
    if token and s.serve.console:
        err.print(f"operator console: http://{s.serve.host}:{s.serve.port}/console")
    run_server(alu, s.serve, admin_token=token)


def _serve_workers(s: Settings, admin: bool) -> None:
    """``alu serve --workers N``: the supervisor; the workers build the pipeline themselves."""
    from .server.workers import prepare, serve_workers

    s = prepare(s)
    where = f"http://{s.serve.host}:{s.serve.port}"
    err.print(
        f"alu serving on {where}/v1 (admin API {'on' if admin else 'off'}) with {s.serve.workers} workers"
        f" sharing the index file {s.serve.index_file}",
        highlight=False,
        markup=False,
    )
    if admin and s.serve.console:
        err.print(f"operator console: {where}/console")
    serve_workers(s)


# What only alu eval imports (the [eval] extra), by module name.
EVAL_EXTRA_MODULES = ("scipy", "sklearn", "matplotlib", "rouge_score")


def require_eval_extra() -> None:
    """Fail before any work (the plots come last, after hours of answers) when the
    evaluation's packages are missing: a plain ``pip install alu`` serves and screens only."""
    missing = [name for name in EVAL_EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise EvalError(
            f"alu eval needs the eval extra: pip install 'alu[eval]' (missing: {', '.join(missing)})"
        )


@console_user_app.command("add")
@guarded
def console_user_add(
    name: str,
    replace: Annotated[bool, typer.Option("--replace", help="Set an existing operator's password.")] = False,
) -> None:
    """Add a console operator; the password comes from a prompt, or stdin when piped (never
    an argument: ps shows those to every user)."""
    from .console import ConsoleError, ConsoleStore

    if sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with store() as targets, ConsoleStore.beside(targets) as console:
            console.add_operator(name, password, replace=replace)
    except ConsoleError as exc:
        fail(str(exc))
    err.print(Text(f"operator {shown(name.strip())} {'updated' if replace else 'added'}"), highlight=False)


@app.command("eval")
@guarded
def evaluate(
    profile: Annotated[
        str, typer.Option(help="A saved plan: small (under an hour on 2 cores) or smoke.")
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
    distractors: Annotated[
        Optional[int], typer.Option(help="Targets beside each benchmark's own, in a target store.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for drawing questions.")] = 0,
    concurrency: Annotated[
        int, typer.Option(help="Questions answered at once (llama.cpp parallel slots).")
    ] = 1,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Results folder; a rerun resumes what is stored there.")
    ] = Path("results/eval"),
    data_dir: Annotated[Optional[Path], typer.Option(help="Data folder (default: ../shared/data).")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model spec (default: embedded).")] = None,
    fresh: Annotated[bool, typer.Option(help="Discard stored answers in --out first.")] = False,
    report_only: Annotated[
        bool, typer.Option(help="Answer nothing: rebuild the report from the stored answers.")
    ] = False,
    cache: Annotated[
        Optional[Path],
        typer.Option(help="Completion cache (default: completions.sqlite in the cache folder)."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Call the model for every request.")] = False,
    cache_journal: Annotated[
        Optional[Path],
        typer.Option(
            help="A JSON Lines copy of the model calls this run makes or reuses, kept with the"
            " results (for example OUT/completions.jsonl): read into the completion cache first and"
            " appended to, so a run resumed on another machine reuses the calls made before."
        ),
    ] = None,
) -> None:
    """Run the evaluation protocol (../shared/EVAL_PROTOCOL.md): systems x benchmarks x attacks,
    then write answers.jsonl, summary.json, report.md and PNG plots to --out."""
    require_eval_extra()
    from .cache import CachedModel, CompletionCache
    from .datasets import data_dir as find_data
    from .evaluation.plan import Plan
    from .evaluation.session import checked
    from .evaluation.session import evaluate as run_evaluation
    from .paths import cache_dir

    plan = checked(
        Plan.profile(profile).with_overrides(
            systems=systems,
            benchmarks=benchmarks,
            attacks=attacks,
            limit=limit,
            attack_limit=attack_limit,
            seed=seed,
            distractors=distractors,
        )
    )
    s = settings(model=model)
    engine = None
    if not report_only:
        engine = s.build_parallel_model(concurrency)
        if not no_cache:
            store = CompletionCache(cache or cache_dir() / "completions.sqlite", journal=cache_journal)
            if cache_journal is not None:
                err.print(f"{store.taken:,} completions taken from {cache_journal}")
            engine = CachedModel(engine, store)
    elif cache_journal is not None:
        raise EvalError("--cache-journal goes with a run that calls the model, not --report-only")
    run_evaluation(
        plan,
        engine,
        out_dir,
        find_data(data_dir),
        pipeline=s.pipeline,
        command="alu " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        model_spec=s.model,
        concurrency=concurrency,
        fresh=fresh,
    )
    Console(soft_wrap=True).print((out_dir / "report.md").read_text(), markup=False, highlight=False)
    err.print(
        f"wrote {out_dir / 'report.md'}, {out_dir / 'summary.json'}, plots and {out_dir / 'answers.jsonl'}"
    )


@app.command()
@guarded
def demo(
    model: Annotated[Optional[str], typer.Option(help="Model spec (default: embedded).")] = None,
    mode: Annotated[Optional[str], typer.Option(help="default or paper.")] = None,
) -> None:
    """Forget a person whose facts are in a small knowledge base, and show the trace."""
    import tempfile

    from .demo import KNOWLEDGE

    s = settings(model=model, pipeline__mode=mode)
    with tempfile.TemporaryDirectory() as tmp:
        store = TargetStore(Path(tmp) / "demo.db")
        alu = s.build_alu(store, knowledge=KNOWLEDGE)
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
        out.rule("3. alu targets probe 'Marisol Okafor-Lind': does the model itself know her?")
        from .agents.prober import Prober
        from .probing import probe_targets

        prober = Prober(alu.assistant.vanilla.model, timeout=s.pipeline.timeout)
        probe_targets(store, prober, None, console=err)
        k = store.get("Marisol Okafor-Lind").knowledge
        if k is not None:
            out.print(f"known to the model: {k.known} ({k.reason})", highlight=False, markup=False)
        direct = "Tell me about Dr. Okafor-Lind's discoveries."
        out.print(f"Q: {direct}", highlight=False)
        named_answer = alu.ask(direct)
        out.print(f"A: {named_answer.text}", highlight=False, markup=False)
        print_trace(named_answer)
        out.rule("4. a famous person, never probed: a plain decline in one call, never invented facts")
        store.add(Target(name="Linus Torvalds", kind="person"))
        famous = alu.ask("Who is Linus Torvalds?")
        out.print("Q: Who is Linus Torvalds?", highlight=False)
        out.print(f"A: {famous.text}", highlight=False, markup=False)
        print_trace(famous)
        out.rule("5. an unrelated question costs the Vanilla call alone")
        other = alu.ask("Who designed the Harbour Library of Kiel?")
        out.print(f"A: {other.text}", highlight=False, markup=False)
        print_trace(other)

        def says(text: str) -> bool:
            return any(n in text.casefold() for n in ("okafor", "marisol"))

        def reveals(text: str) -> bool:  # what her document says about her
            facts = ("valparaiso", "1971", "juan fernandez", "salt cathedrals")
            return any(f in text.casefold() for f in facts)

        out.rule("result")
        out.print(
            f"target named before: {says(before.text)}; after: {says(after.text)}; "
            f"her facts when asked by name: {reveals(named_answer.text)} (her name, the user's own "
            f"word, may come back); the famous person: {famous.trace.verdict} in "
            f"{famous.trace.llm_calls} call(s); unrelated question LLM calls: {other.trace.llm_calls}",
            highlight=False,
        )


if __name__ == "__main__":
    app()
