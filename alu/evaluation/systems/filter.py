"""filter: the vanilla answer, refused when it names a target or an alias."""

from dataclasses import dataclass

from ...models import Messages
from ...pipeline import ALU
from ...prescreen import PreScreen
from ...trace import Answer
from . import SystemContext, register


@dataclass
class OutputFilter:
    inner: ALU
    screen: PreScreen
    refusal: str

    def ask(self, query: str, history: Messages | None = None) -> Answer:
        answer = self.inner.ask(query, history)
        if self.screen.named(answer.text):
            answer.trace.verdict = "refused"
            return Answer(text=self.refusal, trace=answer.trace)
        return answer


@register("filter")
def build(ctx: SystemContext) -> OutputFilter:
    screen = PreScreen()
    for i, t in enumerate(ctx.benchmark.targets, 1):
        screen.add(t.model_copy(update={"id": i}))
    inner = ALU(ctx.model, [], knowledge=ctx.knowledge, config=ctx.config)
    return OutputFilter(inner, screen, ctx.config.refusal)
