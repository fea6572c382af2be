"""What every target store offers, and ``open_store``, which picks one by the ``db`` setting:
a file path is SQLite (the embedded default, one machine), a ``postgresql://`` URL is
PostgreSQL (several replicas on several machines).

Both keep the same contract: writes are all or nothing; every write bumps a revision and
records the ids it touched, so an index that last looked at revision r catches up by
reading ``changes_since(r)``; ``revision()`` raises when the store cannot be read, so a
request that cannot see its targets fails closed instead of running unguarded.

A target's ``enrichment`` (what a model generated about it, ``alu targets enrich``) is
stored with it and written on its own by ``set_enrichment``. Replacing a target keeps its
stored enrichment when the new record brings none and its name, kind and aliases are
unchanged (re-importing the same file costs no new enrichment); otherwise the record as
given, enrichment or none, replaces the old one.

A target's ``knowledge`` (what the serving model knows of it, ``alu targets probe``) is
kept the same way: written on its own by ``set_knowledge``, kept on a replace by the same
rule as the enrichment. So are a hazard's ``examples`` (with the classifier trained from
them): a record that brings none keeps those stored when its name, kind and aliases are
unchanged.

Adding a store is adding one module to this package: a ``Store`` subclass decorated with
``@register_store("scheme")``; ``open_store`` finds it by the setting's URL scheme.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from ..errors import ConfigError, StoreError
from ..registry import Registry
from ..targets.files import export_to, stream_targets
from ..targets.target import (
    Enrichment,
    Examples,
    FingerprintItem,
    HazardClassifier,
    ModelKnowledge,
    ProbeAnswer,
    Target,
    Verification,
)
from ..text import fold

PATH = ""
"""The scheme a store registers to be opened by a plain file path (a setting without one)."""

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
Opener = TypeVar("Opener", bound=Callable[[str], "Store"])

# scheme -> what opens a store from the ``db`` setting (a Store class, or a function of it);
# the first lookup of a scheme not yet registered imports every module of this package.
STORES: Registry[Callable[[str], Store]] = Registry("store", "alu.stores", ConfigError)


def register_store(*schemes: str) -> Callable[[Opener], Opener]:
    """Make ``open_store`` open a setting of these URL schemes (``PATH``: a file path) with
    the decorated store class, which is given the setting as a string."""

    def wrap(opener: Opener) -> Opener:
        for scheme in schemes:
            STORES.add(scheme.lower(), opener)
        return opener

    return wrap


def name_key(name: str) -> str:
    """What a name is looked up and kept unique by: case, accents and spacing folded."""
    return " ".join(fold(name).split())


def dump_enrichment(enrichment: Enrichment | None) -> str | None:
    """An enrichment as stores keep it: JSON text, None for none."""
    return enrichment.model_dump_json() if enrichment is not None else None


def load_enrichment(value: str | dict | None) -> Enrichment | None:
    """A stored enrichment as written (validated on the way in, not again)."""
    if value is None:
        return None
    data = json.loads(value) if isinstance(value, str) else value
    return Enrichment.model_construct(**data)


def dump_knowledge(knowledge: ModelKnowledge | None) -> str | None:
    """What a model knows of a target as stores keep it: JSON text, None for none."""
    return knowledge.model_dump_json() if knowledge is not None else None


def load_knowledge(value: str | dict | None) -> ModelKnowledge | None:
    """Stored knowledge as written (validated on the way in, not again: an index of many
    probed targets reads them all)."""
    if value is None:
        return None
    data = dict(json.loads(value) if isinstance(value, str) else value)
    data["items"] = [FingerprintItem.model_construct(**i) for i in data.get("items", ())]
    data["answers"] = [ProbeAnswer.model_construct(**a) for a in data.get("answers", ())]
    data["checks"] = [ProbeAnswer.model_construct(**a) for a in data.get("checks", ())]
    data["written"] = [ProbeAnswer.model_construct(**a) for a in data.get("written", ())]
    if data.get("verification") is not None:
        data["verification"] = Verification.model_validate(data["verification"])
    return ModelKnowledge.model_construct(**data)


def dump_examples(examples: Examples | None) -> str | None:
    """A hazard's examples and classifier as stores keep them: JSON text, None for none."""
    return examples.model_dump_json() if examples is not None else None


def load_examples(value: str | dict | None) -> Examples | None:
    """Stored examples as written (validated on the way in, not again)."""
    if value is None:
        return None
    data = dict(json.loads(value) if isinstance(value, str) else value)
    if data.get("classifier") is not None:
        data["classifier"] = HazardClassifier.model_construct(**data["classifier"])
    return Examples.model_construct(**data)


def stored_target(
    target_id: int,
    name: str,
    kind: str,
    aliases: list[str],
    description: str,
    evidence: list[str],
    enrichment: str | dict | None,
    knowledge: str | dict | None,
    examples: str | dict | None,
) -> Target:
    """A stored target as it was written (a store's row, an index file's record): validated
    on the way in, not again on the way out (faster, and a row an older version accepted
    still loads)."""
    return Target.trusted(
        id=target_id,
        name=name,
        kind=kind,
        aliases=aliases,
        description=description,
        evidence=evidence,
        enrichment=load_enrichment(enrichment),
        knowledge=load_knowledge(knowledge),
        examples=load_examples(examples),
    )


@dataclass(frozen=True)
class IndexCopy:
    """The copy of an index file a store keeps for replicas that start on a host without one
    (``alu.scan.sharedindex``): which upload it is, the store revision its tables reflect, the
    file's header (JSON, as written) and how many chunks its body was sent in."""

    id: int
    revision: int
    header: bytes
    chunks: int


class Watch(Protocol):
    """A running subscription to a store's change announcements."""

    def stop(self) -> None: ...


class Store(ABC):
    """Targets to forget, shared by every process that opens the same store."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the targets are, for messages (a path, or a URL without its password)."""

    @abstractmethod
    def add_many(self, targets: Iterable[Target], *, replace: bool = True) -> list[Target]:
        """Add or replace targets in one transaction: all of them or none."""

    def add(self, target: Target, *, replace: bool = False) -> Target:
        """Add one target; an existing name is an error unless ``replace``."""
        return self.add_many([target], replace=replace)[0]

    def add_stream(self, targets: Iterable[Target], *, replace: bool = True) -> int:
        """Add or replace targets as an iterable yields them, in one transaction: all or
        none. Returns how many were given."""
        return len(self.add_many(targets, replace=replace))

    @abstractmethod
    def remove(self, name: str) -> bool:
        """Remove the target called ``name`` (or having it as an alias)."""

    @abstractmethod
    def set_enrichment(self, name: str, enrichment: Enrichment | None) -> Target | None:
        """Replace what was generated for the target called ``name`` (or having it as an
        alias), None to remove it, leaving the operator's fields as they are; a write like
        any other (a new revision, a change readers pick up). Returns the target as stored
        now, or None when there is no such target."""

    def set_knowledge(self, name: str, knowledge: ModelKnowledge | None) -> Target | None:
        """Replace what the serving model is known to know of the target called ``name`` (or
        having it as an alias), None to remove it, leaving every other field as it is; a
        write like any other. Returns the target as stored now, or None when there is no
        such target. This default reads then replaces the target (two steps: a write in
        between is lost); the bundled stores override it with one update."""
        target = self.get(name)
        if target is None:
            return None
        return self.add_many([target.model_copy(update={"knowledge": knowledge})])[0]

    @abstractmethod
    def list(self) -> list[Target]: ...

    def page(self, after: int = 0, limit: int = 100) -> list[Target]:
        """At most ``limit`` targets with an id above ``after``, in id order."""
        return [t for t in self.list() if (t.id or 0) > after][:limit]

    def iterate(self, batch: int = 1000) -> Iterator[Target]:
        """Every target in id order, read a page at a time."""
        after = 0
        while page := self.page(after, batch):
            yield from page
            after = page[-1].id or 0

    @abstractmethod
    def get(self, name: str) -> Target | None:
        """The target whose name, or failing that one of whose aliases, is ``name``."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def revision(self) -> int:
        """Grows with every write; equal revisions mean an unchanged list."""

    @abstractmethod
    def changes_since(self, revision: int) -> tuple[int, dict[int, Target | None]]:
        """Targets touched after ``revision``: id -> current target, or None if removed."""

    def watch(self, on_change: Callable[[], None]) -> Watch | None:
        """Call ``on_change`` (from another thread) soon after any process changes the
        targets. None where the store cannot announce changes: readers then see them at
        their next ``revision()`` check, which stays the correctness fallback everywhere."""
        return None

    # -- the shared copy of the index file (``alu.scan.sharedindex``) --------------
    def index_copy(self) -> IndexCopy | None:
        """The newest complete copy of the index file this store keeps, None if it keeps
        none (or cannot: a store without the tables for it, like this default)."""
        return None

    def read_index_copy(self, copy: IndexCopy) -> Iterator[bytes]:
        """The body of ``copy``, chunk by chunk, read in one snapshot; StoreError when it is
        gone (a newer copy replaced it)."""
        raise StoreError(f"{self.location} keeps no copy of the index file")

    def put_index_copy(self, revision: int, header: bytes, chunks: Iterable[bytes]) -> bool:
        """Keep an index file's header and body (``chunks``) as the store's copy at
        ``revision``, replacing older copies, in writes that hold up no change to the
        targets. False when the store keeps a newer copy, or this very one (the same
        revision and header: another at that revision is replaced, as one a replica found
        not to match), or keeps none."""
        return False

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        return None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def import_file(self, path: str | Path, fmt: str | None = None) -> int:
        """Import every target of a file, or none if any of them is bad (streamed: text and
        CSV files are read line by line into one ``add_stream`` transaction)."""
        return self.add_stream(stream_targets(path, fmt), replace=True)

    def export_file(self, path: str | Path, fmt: str | None = None) -> int:
        """Write every target to a new file readable by its owner only (0600)."""
        return export_to(path, self.iterate(), fmt)


def scheme_of(db: str | Path) -> str:
    """The URL scheme of a ``db`` setting, lower case; ``PATH`` for a file path."""
    match = _SCHEME.match(db) if isinstance(db, str) else None
    return match.group(1).lower() if match else PATH


def _opener(db: str | Path) -> Callable[[str], Store]:
    scheme = scheme_of(db)
    opener = STORES.find(scheme)
    if opener is None:
        raise ConfigError(f"unsupported database {scheme!r}: use a file path (SQLite) or a postgresql:// URL")
    return opener


def is_database_url(db: str | Path) -> bool:
    """A URL of a store ALU can open, as opposed to a file path."""
    scheme = scheme_of(db)
    return scheme != PATH and STORES.find(scheme) is not None


def check_db_setting(db: str | Path) -> None:
    """A URL of a database ALU cannot use is an error, not a file of that name."""
    _opener(db)


def open_store(db: str | Path) -> Store:
    """The store the ``db`` setting names: the one registered for its URL scheme
    (``postgresql://``: PostgreSQL), else an SQLite file at that path (``~`` expanded)."""
    return _opener(db)(str(db))
