"""Printing a benchmark's rows as a table (shared by the benchmarks in this folder)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_rows(console: Console, title: str, rows: list[dict]) -> None:
    """One column per key, numbers right-aligned: ints with separators, floats to 2-3 places."""
    table = Table(title=title)
    for key in rows[0]:
        table.add_column(key, justify="right")
    for r in rows:
        table.add_row(
            *(
                f"{v:,}"
                if isinstance(v, int)
                else f"{v:.3g}"
                if isinstance(v, float) and abs(v) < 1
                else f"{v:,.2f}"
                if isinstance(v, float)
                else str(v)
                for v in r.values()
            )
        )
    console.print(table)
