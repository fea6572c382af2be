"""A small fictional knowledge base for ``alu demo`` (written for this project)."""

from pathlib import Path

KNOWLEDGE = Path(__file__).with_name("knowledge.jsonl")
