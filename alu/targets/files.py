"""Target files: JSON, YAML, CSV and one name per line; read all or nothing.

Text and CSV files are read line by line (memory stays flat whatever their size); JSON and
YAML are trees and are read whole, after their size is checked. Every problem is a
one-line :class:`TargetError` naming the file and the row. CSV cells that a spreadsheet
would run as a formula are written with a leading quote, which reading takes off again.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import yaml
from pydantic import ValidationError

from ..errors import TargetError
from .target import Target

FORMATS = ("json", "jsonl", "yaml", "csv", "txt")
MIB = 1024 * 1024
# The largest target file accepted, per format. Text, CSV and JSON Lines are streamed, a
# record at a time, so they may hold a million targets (some 300 MiB plain, 700 MiB
# enriched) in one file; JSON and YAML are parsed whole (YAML an order of magnitude
# slower, hence its lower limit).
MAX_FILE_BYTES = {
    "txt": 4096 * MIB,
    "csv": 4096 * MIB,
    "jsonl": 4096 * MIB,
    "json": 64 * MIB,
    "yaml": 16 * MIB,
}
STREAMED = ("txt", "csv", "jsonl")
# The longest line of a JSON Lines file: one record, as large as a JSON file may be.
MAX_LINE_CHARS = 64 * MIB
# aliases and evidence: JSON lists, or separated by ";"; enrichment, knowledge, examples: JSON
# objects, or empty
CSV_COLUMNS = ["name", "kind", "aliases", "description", "evidence", "enrichment", "knowledge", "examples"]
# objects of their own: what a model wrote about a target, a hazard's examples and classifier;
# written when there is some
GENERATED = ("enrichment", "knowledge", "examples")
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: fast, bounded nesting


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"yml": "yaml", "text": "txt", "ndjson": "jsonl"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise TargetError(f"cannot tell the format of {path}: use one of {', '.join(FORMATS)}")
    return fmt


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise TargetError(f"unknown target format {fmt!r}: use one of {', '.join(FORMATS)}")


def _split(value: str) -> list[str]:
    value = (value or "").strip()
    if value.startswith("["):
        try:
            items = json.loads(value)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            raise TargetError(f"bad JSON list {value[:40]!r}: {reason}") from exc
        if not isinstance(items, list):
            raise TargetError(f"bad JSON list {value[:40]!r}: not a list")
        return [str(v) for v in items]
    return [v.strip() for v in value.split(";") if v.strip()]


def _object(value: str) -> dict:
    """A JSON object written in one cell (a CSV file's enrichment or knowledge)."""
    try:
        item = json.loads(value)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise TargetError(f"bad JSON object {value[:40]!r}: not valid JSON") from exc
    if not isinstance(item, dict):
        raise TargetError(f"bad JSON object {value[:40]!r}: not an object")
    return item


def _unguard(cell: str) -> str:
    """A cell as written before the formula guard quoted it."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_START:
        return cell[1:]
    return cell


def formula_safe(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


# -- reading ------------------------------------------------------------------------------
def _records_txt(lines: Iterable[str]) -> Iterator[tuple[str, dict]]:
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield f"line {number}", {"name": line}


def _records_csv(lines: Iterable[str], source: str) -> Iterator[tuple[str, dict]]:
    reader = csv.DictReader(lines, strict=True)
    if not reader.fieldnames or "name" not in reader.fieldnames:
        raise TargetError(f"{source}: a CSV file needs a 'name' column")
    for row in reader:
        if None in row:
            raise TargetError(f"{source}: line {reader.line_num} has extra fields")
        record = {k: _unguard(v) for k, v in row.items() if v not in (None, "")}
        try:
            for field in ("aliases", "evidence"):
                if field in record:
                    record[field] = _split(record[field])
            for field in GENERATED:
                if field in record:
                    record[field] = _object(record[field])
        except TargetError as exc:
            raise TargetError(f"{source}: line {reader.line_num}: {exc}") from exc
        yield f"line {reader.line_num}", record


def _records_jsonl(lines: TextIO) -> Iterator[tuple[str, dict]]:
    """One JSON value a line (an object, or a bare name); blank lines skipped. A line is read
    up to ``MAX_LINE_CHARS`` at most, so a file without line breaks cannot fill memory."""
    number = 0
    while line := lines.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise TargetError(f"line {number} is longer than {MAX_LINE_CHARS // MIB} MiB")
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TargetError(f"line {number}: not valid JSON: {str(exc).splitlines()[0]}") from exc
            yield f"line {number}", record if isinstance(record, dict) else {"name": record}


def _records_tree(text: str, fmt: str, source: str) -> Iterator[tuple[str, dict]]:
    data = json.loads(text) if fmt == "json" else yaml.load(text, Loader=_YAML_LOADER)
    if isinstance(data, dict) and "targets" in data:
        data = data["targets"]
    if data is None:
        data = []
    if not isinstance(data, list):
        raise TargetError(f"{source}: expected a list of targets")
    for record in data:
        yield "", record if isinstance(record, dict) else {"name": record}


def _target(record: dict, number: int, where: str, source: str) -> Target:
    record = {k: v for k, v in record.items() if k != "id"}
    if isinstance(record.get("aliases"), str):
        record["aliases"] = _split(record["aliases"])
    if isinstance(record.get("evidence"), str):
        record["evidence"] = [record["evidence"]]
    try:
        return Target(**{str(k): v for k, v in record.items()})
    except (ValidationError, TypeError) as exc:
        reason = exc.errors()[0] if isinstance(exc, ValidationError) else {"msg": str(exc)}
        field = ".".join(str(p) for p in reason.get("loc", ())) or "record"
        message = str(reason["msg"]).removeprefix("Value error, ")
        at = f"{where}: " if where else ""
        raise TargetError(f"{source}: {at}target {number}: {field}: {message}") from exc


def iter_targets(source_text: str | TextIO, fmt: str, source: str = "<input>") -> Iterator[Target]:
    """Targets of ``source_text`` (a string or an open text file) one at a time; raises
    TargetError naming the bad row, after which nothing should be kept."""
    _check_format(fmt)
    try:
        if fmt in STREAMED:
            lines = io.StringIO(source_text, newline="") if isinstance(source_text, str) else source_text
            if fmt == "jsonl":
                records = _records_jsonl(lines)
            else:
                records = _records_txt(lines) if fmt == "txt" else _records_csv(lines, source)
        else:
            text = source_text if isinstance(source_text, str) else source_text.read()
            records = _records_tree(text, fmt, source)
        for number, (where, record) in enumerate(records, 1):
            yield _target(record, number, where, source)
    except TargetError as exc:
        message = str(exc)
        raise TargetError(message if message.startswith(source) else f"{source}: {message}") from exc
    except (json.JSONDecodeError, yaml.YAMLError, csv.Error) as exc:
        first = str(exc).splitlines()[0]
        raise TargetError(f"{source}: not valid {fmt}: {first}") from exc
    except RecursionError as exc:
        raise TargetError(f"{source}: not valid {fmt}: nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise TargetError(f"cannot read {source}: not UTF-8 text") from exc
    except MemoryError as exc:
        raise TargetError(f"{source}: too large to read in this process's memory") from exc


def from_records(records: list, source: str = "<input>") -> list[Target]:
    """Targets from already parsed records (objects, or bare names); raises TargetError."""
    return [
        _target(r if isinstance(r, dict) else {"name": r}, number, "", source)
        for number, r in enumerate(records, 1)
    ]


def parse_targets(text: str, fmt: str, source: str = "<input>") -> list[Target]:
    """Parse targets from text in one of FORMATS; raises TargetError naming the bad row."""
    return list(iter_targets(text, fmt, source))


def stream_targets(path: str | Path, fmt: str | None = None) -> Iterator[Target]:
    """The targets of a file, read as they are used (text, CSV and JSON Lines line by line);
    refuses a file beyond ``MAX_FILE_BYTES`` before reading it."""
    path = Path(path)
    fmt = fmt or format_of(path)
    _check_format(fmt)
    try:
        size = path.stat().st_size
        handle = open(path, encoding="utf-8-sig", newline="" if fmt == "csv" else None)
    except OSError as exc:
        raise TargetError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if fmt == "jsonl" and handle.read(1) == "[":  # a JSON array named .jsonl, as ALU wrote them before
        fmt = "json"
    handle.seek(0)
    limit = MAX_FILE_BYTES[fmt]
    with handle:
        if size > limit:
            raise TargetError(
                f"{path} is {size / MIB:.1f} MiB: {fmt} target files are limited to {limit // MIB} MiB"
            )
        yield from iter_targets(handle, fmt, source=str(path))


def read_targets(path: str | Path, fmt: str | None = None) -> list[Target]:
    return list(stream_targets(path, fmt))


# -- writing ------------------------------------------------------------------------------
def dump_targets(targets: Iterable[Target], fmt: str) -> str:
    out = io.StringIO()
    write_targets(out, targets, fmt)
    return out.getvalue()


def write_targets(out: TextIO, targets: Iterable[Target], fmt: str) -> int:
    """Write ``targets`` to ``out`` in ``fmt``; returns how many."""
    _check_format(fmt)
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, CSV_COLUMNS)
        writer.writeheader()
    elif fmt == "json":
        out.write("[")
    for target in targets:
        record = target.model_dump(exclude={"id", *(f for f in GENERATED if getattr(target, f) is None)})
        if fmt == "json":
            out.write(("," if count else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        elif fmt == "jsonl":
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif fmt == "yaml":
            out.write(yaml.safe_dump([record], allow_unicode=True, sort_keys=False))
        elif fmt == "txt":
            out.write(target.name + "\n")
        else:
            record["aliases"] = json.dumps(record["aliases"], ensure_ascii=False)
            record["evidence"] = json.dumps(record["evidence"], ensure_ascii=False)
            for field in GENERATED:
                if field in record:
                    record[field] = json.dumps(record[field], ensure_ascii=False)
            writer.writerow({k: formula_safe(v) for k, v in record.items()})
        count += 1
    if fmt == "json":
        out.write("\n]\n" if count else "]\n")
    elif fmt == "yaml" and not count:
        out.write("[]\n")
    return count


def export_to(path: str | Path, targets: Iterable[Target], fmt: str | None = None) -> int:
    """Write ``targets`` to a new file readable by its owner only (0600), replacing ``path``
    at once when complete: a failed export leaves any earlier file as it was."""
    path = Path(path)
    fmt = fmt or format_of(path)
    _check_format(fmt)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="" if fmt == "csv" else None) as out:
            count = write_targets(out, targets, fmt)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
