"""The ALU pipeline: Vanilla -> AuditErase -> Critic -> Composer around an unchanged model.

``engine`` (the ``ALU`` class: validate, pick the mode, record its decision, fail closed,
time), ``modes/`` (one module per mode, registering its class and its config class),
``decision`` (the ``Request`` a mode gets and the ``Decision`` it returns), ``assistant``
(retrieval and the Vanilla agent, reused by the baselines), ``judge`` (Critic and Composer),
``gate`` (the deterministic last check), ``fallback`` (the refusal policy), ``stranger``
(the stranger rewrite), ``config`` (the shared settings and each mode's own).
"""

from .config import AGENTS, REFUSAL, PipelineConfig
from .decision import Decision, Request
from .engine import ALU
from .modes import modes

__all__ = ["AGENTS", "ALU", "REFUSAL", "Decision", "PipelineConfig", "Request", "modes"]
