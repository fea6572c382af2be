"""Self-probing: ask the serving model what it knows about each target, with short plain
questions (``alu.agents.prober``), and keep with the target its knowledge fingerprint and
whether the model knows it at all (``fingerprint``), learned as a resumable job
(``batch``) or in a server's background (``background``)."""

from .batch import DEFAULT_CALLS, probe_one, probe_targets
from .fingerprint import decide, distil, fingerprint, verdict_of

__all__ = ["DEFAULT_CALLS", "decide", "distil", "fingerprint", "probe_one", "probe_targets", "verdict_of"]
