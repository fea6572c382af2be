"""alu/ has no import cycle, counting every import: at module level, inside functions and under
TYPE_CHECKING (grimp reads them all from the source). A cycle makes the import order decide
whether a module works, and keeps packages from being split or replaced one at a time."""

from __future__ import annotations

import itertools

import grimp
import pytest


def import_cycles(package: str) -> list[tuple[str, ...]]:
    """Every import that lies on a cycle, as the shortest cycle through it (``a, b, a``),
    each cycle once (rotated to start at its first module in sorted order)."""
    graph = grimp.build_graph(package, cache_dir=None)
    found: set[tuple[str, ...]] = set()
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported == importer:
                continue
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                loop = (importer, *back[:-1])
                start = loop.index(min(loop))
                found.add((*loop[start:], *loop[:start], min(loop)))
    return sorted(found)


def describe(package: str, cycle: tuple[str, ...]) -> str:
    """``a (line 3) -> b (line 9) -> a``: where each import of the chain is written."""
    graph = grimp.build_graph(package, cache_dir=None)
    parts = []
    for importer, imported in itertools.pairwise(cycle):
        details = graph.get_import_details(importer=importer, imported=imported)
        lines = sorted(d["line_number"] for d in details)
        parts.append(f"{importer} (line {', '.join(map(str, lines))})")
    return " -> ".join([*parts, cycle[-1]])


def test_alu_has_no_import_cycle():
    cycles = import_cycles("alu")
    assert not cycles, f"{len(cycles)} import cycles in alu/:\n" + "\n".join(
        describe("alu", cycle) for cycle in cycles
    )


def test_cycles_through_functions_and_type_checking_are_found(tmp_path, monkeypatch):
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from . import b\n    return b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import C\n"
    )
    (package / "c.py").write_text("from .a import f\nclass C: ...\n")
    (package / "d.py").write_text("from .a import f\n")  # imports into the cycle, not on it
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("cyclic") == [("cyclic.a", "cyclic.b", "cyclic.c", "cyclic.a")]
    assert describe("cyclic", import_cycles("cyclic")[0]) == (
        "cyclic.a (line 2) -> cyclic.b (line 3) -> cyclic.c (line 1) -> cyclic.a"
    )


@pytest.mark.parametrize("source", ["import cyclic2.b\n", "from cyclic2 import b\n"])
def test_absolute_imports_count_too(tmp_path, monkeypatch, source):
    package = tmp_path / "cyclic2"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(source)
    (package / "b.py").write_text("import cyclic2.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("cyclic2") == [("cyclic2.a", "cyclic2.b", "cyclic2.a")]
