"""Documents the Vanilla agent retrieves from (BM25), for retrieval-augmented deployments
and for the benchmarks, where the knowledge to forget lives in context."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import KnowledgeError
from .text import STOPWORDS, tokens


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str = ""
    meta: dict = field(default_factory=dict, hash=False, compare=False)


def _terms(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in STOPWORDS] or ["_"]


class KnowledgeBase:
    """An in-memory BM25 index (bm25s) over a list of documents."""

    def __init__(self, documents: list[Document]):
        import bm25s

        self.documents = list(documents)
        self._index = None
        if self.documents:
            self._index = bm25s.BM25()
            self._index.index([_terms(d.title + "\n" + d.text) for d in self.documents], show_progress=False)

    def __len__(self) -> int:
        return len(self.documents)

    def search(self, query: str, k: int = 3) -> list[Document]:
        """The ``k`` best documents sharing at least one term with ``query``."""
        if self._index is None or k <= 0:
            return []
        k = min(k, len(self.documents))
        ids, scores = self._index.retrieve([_terms(query)], k=k, show_progress=False)
        return [self.documents[i] for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def without(self, doc_ids: set[str]) -> KnowledgeBase:
        """The same knowledge base less some documents (the retrained reference)."""
        return KnowledgeBase([d for d in self.documents if d.id not in doc_ids])

    @classmethod
    def load(cls, path: str | Path) -> KnowledgeBase:
        """Read a JSONL file of {id, text, title?} or a folder of .txt/.md files."""
        path = Path(path)
        docs: list[Document] = []
        if path.is_dir():
            for file in sorted([*path.glob("*.txt"), *path.glob("*.md")]):
                docs.append(Document(file.stem, file.read_text(encoding="utf-8"), file.stem))
        elif path.is_file():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    docs.append(
                        Document(
                            str(record.get("id", number)),
                            record["text"],
                            record.get("title", ""),
                            record.get("meta", {}),
                        )
                    )
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise KnowledgeError(f"{path}:{number}: not a {{id, text}} JSON line") from exc
        else:
            raise KnowledgeError(f"knowledge base not found: {path}")
        return cls(docs)
