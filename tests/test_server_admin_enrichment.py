"""The admin API's enrichment routes, on the scripted model over real HTTP: enrich one target,
edit or remove an enrichment by hand, ?enrich=true on add and import; admin-only."""

import json

import httpx
import pytest
from conftest import ADMIN

from alu import Target
from alu.backends.scripted import ScriptedModel

REPLY = json.dumps(
    {
        "names": {"chinese": ["林纳斯·托瓦兹"], "latin": ["Linus Benedict Torvalds"]},
        "terms": ["Transmeta", "computer"],
        "description": "A software engineer.",
    }
)


@pytest.fixture
def server(serve):
    """``server(reply=..., targets=...)``: a live server (the shared ``serve``, the library's
    refusal policy) whose enricher answers ``reply``; an httpx client on it, its store, its model."""
    clients: list[httpx.Client] = []

    def start(reply=REPLY, targets=(Target(name="Linus Torvalds", kind="person"),)):
        model = ScriptedModel(default="Paris.").on("enricher", reply)
        live = serve(model, targets=targets, pipeline={"refusal_policy": "unknown"})
        clients.append(httpx.Client(base_url=live.root, timeout=30))
        return clients[-1], live.store, model

    yield start
    for c in clients:
        c.close()


def test_enrich_one_target_returns_it_as_stored_and_the_next_request_sees_its_names(server):
    client, store, model = server()
    r = client.post("/v1/targets/linus%20torvalds/enrich", headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "Linus Torvalds" and body["enrichment"]["terms"] == ["Transmeta"]
    assert "computer (a common word)" in body["enrichment"]["dropped"]
    assert store.get("Linus Torvalds").enrichment.names == ["林纳斯·托瓦兹", "Linus Benedict Torvalds"]
    model.default = "林纳斯·托瓦兹 wrote an operating system."  # a draft naming him in Chinese only
    chat = client.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Who wrote Git?"}]}
    )
    assert chat.status_code == 200 and "林纳斯" not in chat.json()["choices"][0]["message"]["content"]


def test_a_failed_enrichment_is_a_200_with_the_error_and_the_old_fields(server):
    client, store, _ = server(reply="not json")
    from alu.targets import Enrichment

    store.set_enrichment("Linus Torvalds", Enrichment(terms=["Transmeta"], model="earlier"))
    r = client.post("/v1/targets/Linus%20Torvalds/enrich", headers=ADMIN)
    assert r.status_code == 200
    e = r.json()["enrichment"]
    assert e["terms"] == ["Transmeta"] and e["model"] == "earlier" and "malformed output" in e["error"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/targets/Nobody/enrich", None),
        ("PUT", "/v1/targets/Nobody/enrichment", {"terms": ["x"]}),
        ("DELETE", "/v1/targets/Nobody/enrichment", None),
    ],
)
def test_unknown_names_are_404_and_the_routes_are_admin_only(server, method, path, body):
    client, store, model = server()
    r = client.request(method, path, headers=ADMIN, json=body)
    assert r.status_code == 404 and "no target named 'Nobody'" in r.json()["error"]["message"]
    r = client.request(method, path.replace("Nobody", "Linus%20Torvalds"), json=body)
    assert r.status_code == 401
    assert model.calls == [] and store.get("Linus Torvalds").enrichment is None


def test_edit_and_remove_by_hand_and_the_target_delete_route_still_works(server):
    client, store, _ = server(targets=[Target(name="Linus Torvalds"), Target(name="AC/DC Band")])
    r = client.put("/v1/targets/Linus%20Torvalds/enrichment", headers=ADMIN, json={"names": ["Линус"]})
    assert r.status_code == 200 and r.json()["enrichment"]["model"] == "operator-edit"
    r = client.put("/v1/targets/AC%2FDC%20Band/enrichment", headers=ADMIN, json={"terms": ["Angus Young"]})
    assert r.status_code == 200 and store.get("AC/DC Band").enrichment.terms == ["Angus Young"]
    r = client.delete("/v1/targets/Linus%20Torvalds/enrichment", headers=ADMIN)
    assert r.status_code == 200 and r.json()["enrichment"] is None and store.get("Linus Torvalds") is not None
    assert client.delete("/v1/targets/AC%2FDC%20Band", headers=ADMIN).status_code == 200
    assert store.get("AC/DC Band") is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "give names, terms or description"),
        ({"names": "Линус"}, "names"),
        ({"colour": "red"}, "colour"),
        ({"names": ["!!!"]}, "no letter or digit"),
    ],
)
def test_a_bad_enrichment_edit_is_a_400(server, body, message):
    client, _, _ = server(targets=[Target(name="Linus Torvalds")])
    r = client.put("/v1/targets/Linus%20Torvalds/enrichment", headers=ADMIN, json=body)
    assert r.status_code == 400 and message in r.json()["error"]["message"]


def test_add_and_import_with_enrich_true(server):
    client, store, _ = server(targets=[])
    r = client.post(
        "/v1/targets?enrich=true", headers=ADMIN, json={"name": "Linus Torvalds", "kind": "person"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"][0]["enrichment"]["terms"] == ["Transmeta"] and r.json()["enrichment"]["done"] == 1
    r = client.post("/v1/targets", headers=ADMIN, json={"name": "Ada Lovelace"})
    assert r.status_code == 201 and r.json()["data"][0]["enrichment"] is None and "enrichment" not in r.json()
    body = {"format": "txt", "content": "Grace Hopper\nAlan Turing\n"}
    r = client.post("/v1/targets/import?enrich=true", headers=ADMIN, json=body)
    assert r.status_code == 201 and r.json()["imported"] == 2 and r.json()["enrichment"]["done"] == 2
    assert store.get("Alan Turing").enrichment.description == "A software engineer."
    assert store.get("Ada Lovelace").enrichment is None
