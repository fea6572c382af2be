"""Every error a user can cause, under one base class.

The CLI and the server catch :class:`AluError` and show its message as one line; anything
else is a bug. Subclasses keep the built-in class they refine (``ValueError``, ...) so
callers that catch those keep working.
"""

from __future__ import annotations


class AluError(Exception):
    """A problem the user can fix; the message says what and where, in one line."""


class ConfigError(AluError, ValueError):
    """A configuration that cannot be used; the message names the setting."""


class TargetError(AluError, ValueError):
    """A target or a target file that cannot be accepted; nothing was written."""


class StoreError(AluError, RuntimeError):
    """The target store cannot be reached or used (database down, bad URL, schema too new).

    Raised, never swallowed, so a request that cannot read its targets fails closed."""


class QueryError(AluError, ValueError):
    """A request the pipeline will not run (empty, too long, bad history, unknown mode)."""


class ModelError(AluError, RuntimeError):
    """The backend failed: unreachable, timed out, or answered something unusable."""


class ModelTimeout(ModelError):
    """The backend did not answer within the time it was given (it may be slow, not down)."""


class UnknownModel(AluError, ValueError):
    """A model spec no backend understands."""


class KnowledgeError(AluError, ValueError):
    """A knowledge base file or folder that cannot be read."""


class DataError(AluError, FileNotFoundError):
    """A data set that is not where it should be, or not in the expected shape."""


class EvalError(AluError, ValueError):
    """An evaluation plan that cannot run (unknown profile, system, benchmark, bad limit)."""


class AgentFailure(AluError, RuntimeError):
    """An agent could not produce usable output after its retries: the pipeline fails closed.
    ``timed_out``: its last try ran out of time (the model may be slow, not down)."""

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out
