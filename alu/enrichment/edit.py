"""The operator's own edits: names, terms or a description written by hand (provenance
``operator-edit``), and removing an enrichment. Hand-written fields are the operator's
choice and are not checked like generated ones; they only need to be usable (a name with a
letter or digit, no control characters)."""

from __future__ import annotations

from pydantic import ValidationError

from ..errors import TargetError
from ..stores import Store
from ..targets import Enrichment, Target
from ..targets.target import check_name, check_text
from .batch import OPERATOR, now


def edit_enrichment(
    store: Store,
    name: str,
    *,
    names: list[str] | None = None,
    terms: list[str] | None = None,
    description: str | None = None,
) -> Target:
    """Set the given fields of the target's enrichment (the others stay as they are)."""
    target = store.get(name)
    if target is None:
        raise TargetError(f"no target named {name!r}")
    update: dict = {"model": OPERATOR, "created": now(), "error": None}
    try:
        if names is not None:
            update["names"] = [check_name(n) for n in names if n.strip()]
        if terms is not None:
            update["terms"] = [check_text(" ".join(t.split())) for t in terms if t.strip()]
        if description is not None:
            update["description"] = check_text(" ".join(description.split()))
        current = target.enrichment or Enrichment()
        enrichment = Enrichment.model_validate({**current.model_dump(), **update})
    except (ValueError, ValidationError) as exc:
        raise TargetError(f"bad enrichment for {target.name!r}: {exc}") from exc
    saved = store.set_enrichment(target.name, enrichment)
    if saved is None:
        raise TargetError(f"no target named {name!r}")
    return saved


def remove_enrichment(store: Store, name: str) -> Target:
    """Remove what was generated (or hand-written) for the target; its own fields stay."""
    saved = store.set_enrichment(name, None)
    if saved is None:
        raise TargetError(f"no target named {name!r}")
    return saved
