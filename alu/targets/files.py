"""Target files: JSON, YAML, CSV and one name per line; read all or nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import TargetError
from .target import Target

FORMATS = ("json", "yaml", "csv", "txt")


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"yml": "yaml", "text": "txt", "jsonl": "json"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise TargetError(f"cannot tell the format of {path}: use one of {', '.join(FORMATS)}")
    return fmt


def _split(value: str) -> list[str]:
    value = (value or "").strip()
    if value.startswith("["):
        try:
            return [str(v) for v in json.loads(value)]
        except json.JSONDecodeError as exc:
            raise TargetError(f"bad JSON list {value[:40]!r}: {exc.msg}") from exc
    return [v.strip() for v in value.split(";") if v.strip()]


def parse_targets(text: str, fmt: str, source: str = "<input>") -> list[Target]:
    """Parse targets from text in one of FORMATS; raises TargetError naming the bad row."""
    records: list[dict]
    try:
        if fmt == "txt":
            records = [
                {"name": line.strip()}
                for line in text.splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ]
        elif fmt in ("json", "yaml"):
            data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
            if isinstance(data, dict) and "targets" in data:
                data = data["targets"]
            if data is None:
                data = []
            if not isinstance(data, list):
                raise TargetError(f"{source}: expected a list of targets")
            records = [r if isinstance(r, dict) else {"name": r} for r in data]
        elif fmt == "csv":
            reader = csv.DictReader(io.StringIO(text))
            if not reader.fieldnames or "name" not in reader.fieldnames:
                raise TargetError(f"{source}: a CSV file needs a 'name' column")
            records = []
            for row in reader:
                if None in row:
                    raise TargetError(f"{source}: line {reader.line_num} has extra fields")
                record = {k: v for k, v in row.items() if v not in (None, "")}
                for field in ("aliases", "evidence"):
                    if field in record:
                        record[field] = _split(record[field])
                records.append(record)
        else:
            raise TargetError(f"unknown target format {fmt!r}: use one of {', '.join(FORMATS)}")
    except (json.JSONDecodeError, yaml.YAMLError, csv.Error) as exc:
        first = str(exc).splitlines()[0]
        raise TargetError(f"{source}: not valid {fmt}: {first}") from exc
    targets = []
    for number, record in enumerate(records, 1):
        record = {k: v for k, v in record.items() if k != "id"}
        if isinstance(record.get("aliases"), str):
            record["aliases"] = _split(record["aliases"])
        if isinstance(record.get("evidence"), str):
            record["evidence"] = [record["evidence"]]
        try:
            targets.append(Target(**record))
        except (ValidationError, TypeError) as exc:
            reason = exc.errors()[0] if isinstance(exc, ValidationError) else {"msg": str(exc)}
            where = ".".join(str(p) for p in reason.get("loc", ())) or "record"
            raise TargetError(f"{source}: target {number}: {where}: {reason['msg']}") from exc
    return targets


def read_targets(path: str | Path, fmt: str | None = None) -> list[Target]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"cannot read {path}: {exc}") from exc
    return parse_targets(text, fmt or format_of(path), source=str(path))


def dump_targets(targets: list[Target], fmt: str) -> str:
    records = [t.model_dump(exclude={"id"}) for t in targets]
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(records, allow_unicode=True, sort_keys=False)
    if fmt == "txt":
        return "".join(t.name + "\n" for t in targets)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, ["name", "kind", "aliases", "description", "evidence"])
        writer.writeheader()
        for r in records:
            r["aliases"] = json.dumps(r["aliases"], ensure_ascii=False)
            r["evidence"] = json.dumps(r["evidence"], ensure_ascii=False)
            writer.writerow(r)
        return out.getvalue()
    raise TargetError(f"unknown target format {fmt!r}: use one of {', '.join(FORMATS)}")
