"""filter: the vanilla answer, refused when it names a target or an alias."""

from dataclasses import dataclass

from ...models import Messages
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
            answer.trace.verdict = "refused"
            return Answer(text=self.refusal, trace=answer.trace)
        return answer


@register("filter")
def build(ctx: SystemContext) -> OutputFilter:
    return OutputFilter(ctx.baseline(), TargetIndex.of(ctx.benchmark.targets), ctx.config.refusal)
