"""The admin API of ``alu serve`` (targets): a target added or removed applies to the next
request, names that can never match are refused, any name accepted can be deleted by the same
name, the list comes a page at a time."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from conftest import ADMIN, ask, one_line_error, scripted

from alu import Target

UNKNOWN = {"pipeline": {"refusal_policy": "unknown"}}  # the library's default refusal policy


@pytest.mark.serve_defaults(**UNKNOWN)
def test_target_added_through_the_admin_api_applies_to_the_next_request(serve):
    server = serve(scripted(draft="Ron Weasley plays chess.", leaked=("Ron Weasley",)), targets=())
    assert "Ron" in ask(server, "Who plays chess?").choices[0].message.content
    base = server.url
    headers = ADMIN
    r = httpx.post(f"{base}/targets", json={"name": "Ron Weasley", "kind": "person"}, headers=headers)
    assert r.status_code == 201
    assert "Ron" not in ask(server, "Who plays chess?").choices[0].message.content
    listed = httpx.get(f"{base}/targets", headers=headers).json()["data"]
    assert [t["name"] for t in listed] == ["Ron Weasley"]
    r = httpx.post(f"{base}/targets/import", json={"format": "txt", "content": "Ada\nBob\n"}, headers=headers)
    assert r.json() == {"imported": 2}
    assert httpx.delete(f"{base}/targets/Ron%20Weasley", headers=headers).status_code == 200
    assert "Ron" in ask(server, "Who plays chess?").choices[0].message.content


@pytest.mark.parametrize("name", ["!!!", "@#$%", "Ba\x00sil Mahfouz", "\x1b[31mRed"])
def test_targets_that_cannot_be_matched_or_hold_control_characters_are_refused(serve, name):
    server = serve(scripted(), targets=())
    r = httpx.post(f"{server.url}/targets", json={"name": name}, headers=ADMIN)
    message = one_line_error(r, 400)
    assert "no letter or digit" in message or "control character" in message
    assert httpx.get(f"{server.url}/targets", headers=ADMIN).json()["data"] == []


@pytest.mark.parametrize("how", ["path", "query"])
@pytest.mark.parametrize("name", ["AC/DC Band", "100% Pure Orange", "Zoë Ñandú", "a/b/../c", "What? #1 Fan"])
def test_any_name_accepted_can_be_deleted_by_the_same_name(serve, name, how):
    server = serve(scripted(), targets=())
    assert httpx.post(f"{server.url}/targets", json={"name": name}, headers=ADMIN).status_code == 201
    if how == "path":
        r = httpx.delete(f"{server.url}/targets/{quote(name, safe='')}", headers=ADMIN)
    else:
        r = httpx.delete(f"{server.url}/targets", params={"name": name}, headers=ADMIN)
    assert r.status_code == 200 and r.json() == {"removed": name}
    assert httpx.get(f"{server.url}/targets", headers=ADMIN).json()["data"] == []
    r = httpx.delete(f"{server.url}/targets/{quote(name, safe='')}", headers=ADMIN)
    one_line_error(r, 404)


def test_the_target_list_comes_a_page_at_a_time(serve):
    server = serve(scripted(), targets=[Target(name=f"Person Number{i}") for i in range(250)], page_size=100)
    names, after, pages = [], 0, 0
    while True:
        page = httpx.get(f"{server.url}/targets", params={"after": after}, headers=ADMIN).json()
        names += [t["name"] for t in page["data"]]
        pages += 1
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert pages == 3 and names == [f"Person Number{i}" for i in range(250)]
    small = httpx.get(f"{server.url}/targets", params={"limit": 7}, headers=ADMIN).json()
    assert len(small["data"]) == 7 and small["has_more"]
    one_line_error(httpx.get(f"{server.url}/targets", params={"limit": 5000}, headers=ADMIN), 400)
    one_line_error(httpx.get(f"{server.url}/targets", params={"limit": "many"}, headers=ADMIN), 400)
    one_line_error(
        httpx.get(f"{server.url}/targets", params={"after": 2**70}, headers=ADMIN), 400
    )  # found by fuzzing
