"""Things registered by name: backends, benchmarks, systems, attacks, modes, goals.

A registry tied to a package imports every module of it on first lookup, so adding a
backend, benchmark, system or attack is adding one file that registers itself; one with
no package holds what its own module registers.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, package: str | None = None, error: type[Exception] = ValueError):
        self.kind, self.package, self.error = kind, package, error
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def wrap(item: T) -> T:
            self._items[name] = item
            return item

        return wrap

    def add(self, name: str, item: T) -> None:
        self._items[name] = item

    def remove(self, name: str) -> None:
        self._items.pop(name, None)

    def names(self) -> list[str]:
        if not self._loaded and self.package:
            package = importlib.import_module(self.package)
            for module in pkgutil.iter_modules(package.__path__):
                importlib.import_module(f"{self.package}.{module.name}")
            self._loaded = True
        return list(self._items)

    def find(self, name: str) -> T | None:
        """What ``name`` names, or None; the package's modules are imported only when no
        module imported so far registered it (a lookup on a hot path stays cheap)."""
        if name in self._items or name in self.names():
            return self._items[name]
        return None

    def get(self, name: str) -> T:
        if name not in self.names():
            raise self.error(f"unknown {self.kind} {name!r}: use one of {', '.join(sorted(self._items))}")
        return self._items[name]
