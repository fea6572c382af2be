"""``alu serve``: an OpenAI-compatible chat endpoint with the ALU pipeline in front.

``app`` (the FastAPI application), ``chat`` (the OpenAI-compatible routes), ``admin`` (the
target API), ``wire`` (the OpenAI wire format), ``state`` (what routes share, who is
admin, readiness), ``observability`` (metrics, decision log, requests in flight),
``protocol`` (uvicorn's HTTP protocol with a request-head timeout), ``workers`` (``--workers
N``: N processes on one port sharing one index file).
"""

from .app import create_app, serve

__all__ = ["create_app", "serve"]
