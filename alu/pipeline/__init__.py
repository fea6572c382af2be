"""The ALU pipeline: Vanilla -> AuditErase -> Critic -> Composer around an unchanged model.

``engine`` (the ``ALU`` class: validate, pick the mode, fail closed, time), ``modes/``
(one module per mode with its own config), ``assistant`` (retrieval and the Vanilla agent,
reused by the baselines), ``judge`` (Critic and Composer), ``gate`` (the deterministic
last check), ``config`` (the settings every mode shares).
"""

from .config import AGENTS, REFUSAL, PipelineConfig
from .engine import ALU
from .modes import modes

__all__ = ["AGENTS", "ALU", "REFUSAL", "PipelineConfig", "modes"]
