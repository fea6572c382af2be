"""What every route shares: the pipeline, the settings, the records, and who is admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from fastapi import Request

from ..pipeline import ALU
from ..settings import ServeSettings
from .observability import DecisionLog, InFlight, Metrics


class ApiError(Exception):
    """Answered as an OpenAI-style JSON error with this status."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


@dataclass
class ServerState:
    alu: ALU
    settings: ServeSettings
    admin_token: str | None = None
    metrics: Metrics = field(default_factory=Metrics)
    log: DecisionLog = field(init=False)
    in_flight: InFlight = field(init=False)

    def __post_init__(self) -> None:
        self.log = DecisionLog(self.settings.log)
        self.in_flight = InFlight(self.settings.max_in_flight)

    def is_admin(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        return bool(self.admin_token) and secrets.compare_digest(token, self.admin_token)

    def require_admin(self, request: Request) -> None:
        if not self.admin_token:
            raise ApiError(404, "the admin API is off: start the server with an admin token", "not_found")
        if not self.is_admin(request):
            raise ApiError(401, "admin token required (Authorization: Bearer ...)", "authentication_error")


def state_of(request: Request) -> ServerState:
    return request.app.state.alu_server
