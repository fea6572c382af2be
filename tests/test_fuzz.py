"""A fuzzing pass over the chat and admin endpoints: schemathesis generates requests from
the server's own OpenAPI schema, valid and invalid, and sends them over real HTTP to a live
server (scripted model); no response may be a 5xx. Kept to a few seconds per endpoint."""

from __future__ import annotations

import pytest
import schemathesis
from conftest import ADMIN, HERMIONE, TOKEN, LiveServer, scripted
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from alu import ALU, PipelineConfig, TargetStore
from alu.server import create_app
from alu.settings import ServeSettings

# The schema is the app's own (served only where [serve] docs is on; read here directly).
schema = schemathesis.openapi.from_dict(create_app(ALU(scripted(), []), ServeSettings(docs=True)).openapi())
schema.config.generation.update(max_examples=25, allow_x00=True, codec="utf-8")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    store = TargetStore(tmp_path_factory.mktemp("fuzz") / "t.db")
    store.add(HERMIONE)
    alu = ALU(
        scripted(draft="Hermione Granger went to the Yule Ball."), store, config=PipelineConfig(timeout=10)
    )
    settings = ServeSettings(max_body_bytes=64 * 1024, max_in_flight=64)
    with LiveServer(create_app(alu, settings, admin_token=TOKEN)) as server:
        yield server.url.removesuffix("/v1")


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=25, database=None)
@pytest.mark.parametrize("admin", [True, False], ids=["admin", "anyone"])
def test_no_request_gets_a_server_error(case, live, admin):
    headers = ADMIN if admin else {}
    case.call_and_validate(base_url=live, headers=headers, checks=[not_a_server_error], timeout=30)
