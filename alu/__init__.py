"""ALU: agentic LLM unlearning at inference time, around any unchanged model.

from alu import ALU, Target, TargetStore, get_model
store = TargetStore("targets.db")
store.add(Target(name="Hermione Granger", aliases=["Hermione"], kind="person"))
alu = ALU(get_model("embedded"), store)
answer = alu.ask("How was Viktor Krum's experience at the Yule Ball?")
print(answer.text, answer.trace.verdict)
"""

from .errors import AluError, ModelError, QueryError, TargetError
from .knowledge import Document, KnowledgeBase
from .models import Backend, Completion, Model, get_model, register_backend
from .pipeline import ALU, REFUSAL, PipelineConfig
from .scan import Candidate, PreScreen, TargetIndex
from .stores import TargetStore
from .targets import Target
from .trace import Answer, Trace

__version__ = "0.1.0"
__all__ = [
    "ALU",
    "REFUSAL",
    "AluError",
    "Answer",
    "Backend",
    "Candidate",
    "Completion",
    "Document",
    "KnowledgeBase",
    "Model",
    "ModelError",
    "PipelineConfig",
    "PreScreen",
    "QueryError",
    "Target",
    "TargetError",
    "TargetIndex",
    "TargetStore",
    "Trace",
    "get_model",
    "register_backend",
]
