"""A target's names as whole words in a text, however spaced and in any case: what the gate
and the stranger rewrite look for and replace (the screen itself reads names through
``lexical`` and ``written``)."""

from __future__ import annotations

import re

from ..targets.target import Target


def name_pattern(name: str) -> str:
    """A regex for ``name`` as whole words, however it is spaced (match it ignoring case)."""
    return r"(?<!\w)" + r"\s+".join(re.escape(w) for w in name.split()) + r"(?!\w)"


def redact(text: str, target: Target, mask: str = "[redacted]") -> str:
    """Replace the target's names and aliases in ``text`` (case-insensitively)."""
    for name in sorted(target.names(), key=len, reverse=True):
        text = re.sub(name_pattern(name) + r"(?:'s|’s)?", mask, text, flags=re.IGNORECASE)
    return text
