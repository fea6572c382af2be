"""filter: the vanilla answer, refused when it names a target or an alias."""

from dataclasses import dataclass

from ...models import Messages
from ...pipeline import Decision
from ...scan import TargetIndex
from ...trace import Answer
from . import Baseline, SystemContext, register


@dataclass
class OutputFilter:
    inner: Baseline
    targets: TargetIndex
    refusal: str

    def ask(self, query: str, history: Messages | None = None) -> Answer:
        answer = self.inner.ask(query, history)
        if self.targets.scan(answer.text).named:
            decision = Decision("refuse", self.refusal, "the answer names a target")
        else:
            decision = Decision("pass", answer.text)
        answer.trace.verdict = decision.verdict
        return Answer(text=decision.text, trace=answer.trace)


@register("filter")
def build(ctx: SystemContext) -> OutputFilter:
    return OutputFilter(ctx.baseline(), TargetIndex.of(ctx.benchmark.targets), ctx.config.refusal)
