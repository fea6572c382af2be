"""``alu eval``: the protocol of ../shared/EVAL_PROTOCOL.md, in one run.

Benchmarks (``alu.datasets``), systems (``systems/``), attacks (``attacks/``) and metrics
are each registered by name; the runner answers every question once, stores it, and the
report turns the stored answers into a summary, a Markdown report and plots.
"""
