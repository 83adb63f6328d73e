"""Every /api/v1 error is JSON of the documented shape, and bad input is a 4xx, never a 500 (issue 9.8, 9.16).

The cases are the ones the issue found answering 500 (or an HTML page): an offset of 2^63 on every
list, an id of 2^63, a 50,000-character search, NUL characters in a query or a JSON body, a JSON body
sent as text/plain; and the API's own edges: an unknown path, a wrong method, an unexpected exception.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from django.test import Client

from shegong.common.pagination import MAX_OFFSET
from shegong.people.models import Worker
from shegong.staffing.models import Appointment
from tests import factories

BASE = "/api/v1"
HAN = re.compile(r"[\u4e00-\u9fff]")
BIG = 2**63


def assert_json_error(resp, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.content.decode()[:500]
    assert resp["Content-Type"].startswith("application/json"), resp["Content-Type"]
    body = resp.json()
    assert isinstance(body["message"], str) and HAN.search(body["message"]), body
    assert "field" in body
    return body


@pytest.fixture
def prov(world, api) -> Client:
    return api(world.users["province"])


def lists(world) -> list[str]:
    w = world.w1.pk
    return ["/divisions", "/communities", "/workers", "/appointments", f"/workers/{w}/archive/records",
            f"/workers/{w}/archive/access-log", "/archive/access-log", "/archive/corrections",
            f"/workers/{w}/archive/corrections"]


# --- numbers past the database's integers ----------------------------------------------------------------------


@pytest.mark.parametrize("offset", [BIG, BIG * 10, MAX_OFFSET + 1])
def test_huge_offset_on_every_list_is_422(world, prov, offset):
    for path in lists(world):
        body = assert_json_error(prov.get(BASE + path, {"offset": offset}), 422)
        assert body["field"] == "offset", path


def test_largest_allowed_offset_is_an_empty_page(world, prov):
    for path in lists(world):
        resp = prov.get(BASE + path, {"offset": MAX_OFFSET})
        assert resp.status_code == 200, (path, resp.content)
        assert resp.json()["items"] == []


@pytest.mark.parametrize("worker_id", [BIG, BIG * 1000, 0, -1])
def test_appointments_worker_id_out_of_range_is_422(world, prov, worker_id):
    assert assert_json_error(prov.get(BASE + "/appointments", {"worker_id": worker_id}), 422)["field"] == "worker_id"


@pytest.mark.parametrize("path", ["/workers/{big}", "/appointments/{big}", "/workers/{big}/archive",
                                  "/archive/records/{big}", "/archive/attachments/{big}"])
def test_id_of_2_63_in_a_path_is_404(world, prov, path):
    assert_json_error(prov.get(BASE + path.format(big=BIG)), 404)


def test_appointment_for_worker_id_2_63_is_404(world, prov):
    resp = prov.post(BASE + "/appointments", json.dumps({
        "worker_id": BIG, "community": world.c1.code, "post_type": "社工", "method": "聘用",
        "start_date": "2022-03-01"}), content_type="application/json")
    assert_json_error(resp, 404)


# --- long and NUL-carrying strings -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/workers", "/divisions", "/communities"])
def test_a_50000_character_search_is_422(world, prov, path):
    body = assert_json_error(prov.get(BASE + path, {"q": "张" * 50_000}), 422)
    assert body["field"] == "q"
    assert "过长" in body["message"]


def test_a_200_character_search_is_fine(world, prov):
    assert prov.get(BASE + "/workers", {"q": "张" * 200}).status_code == 200


@pytest.mark.parametrize(("path", "params"), [
    ("/workers", {"q": "张\x00三"}),
    ("/divisions", {"q": "\x00"}),
    ("/communities", {"within": "2201\x00"}),
    ("/appointments", {"post_type": "书记\x00"}),
    ("/archive/access-log", {"action": "\x00"}),
])
def test_nul_in_a_query_value_is_422(world, prov, path, params):
    body = assert_json_error(prov.get(BASE + path, params), 422)
    assert body["field"] == next(iter(params))
    assert "NUL" in body["message"]


def test_nul_in_a_path_is_a_json_error(world, prov):
    resp = prov.get(BASE + "/divisions/2201%00")
    assert resp.status_code in (404, 422)
    assert_json_error(resp, resp.status_code)


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("post", "/workers", {"name": "孙\x00七", "id_number": "x", "community": "220102001001"}, "name"),
    ("patch", "/workers/{w1}", {"phone": "139\x0012345678"}, "phone"),
    ("post", "/appointments", {"worker_id": "{w1}", "community": "220102001001", "post_type": "社工",
                               "method": "聘\x00用", "start_date": "2022-03-01"}, "method"),
    ("post", "/workers/{w1}/archive/records", {"title": "x", "details": {"k\x00": 1}}, "details.k\\x00"),
])
def test_nul_in_a_json_body_is_422_and_writes_nothing(world, prov, method, path, body, field):
    w1 = world.w1.pk
    text = json.dumps(body).replace('"{w1}"', str(w1))
    before = (Worker.objects.count(), Worker.history.count(), Appointment.objects.count())
    resp = getattr(prov, method)(BASE + path.format(w1=w1), text, content_type="application/json")
    got = assert_json_error(resp, 422)
    assert got["field"] == field.replace("\\x00", "\x00")
    assert (Worker.objects.count(), Worker.history.count(), Appointment.objects.count()) == before


# --- content types -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/html",
                                          "application/xml", ""])
def test_json_sent_as_another_type_is_415(world, prov, content_type):
    resp = prov.post(BASE + f"/workers/{world.w1.pk}/reveal", json.dumps({"field": "id_number"}),
                     content_type=content_type)
    body = assert_json_error(resp, 415)
    assert "application/json" in body["message"]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/merge-patch+json"])
def test_json_media_types_are_accepted(world, prov, content_type):
    resp = prov.patch(BASE + f"/workers/{world.w1.pk}", json.dumps({"name": "张三丰"}), content_type=content_type)
    assert resp.status_code == 200, resp.content.decode()


def test_a_multipart_upload_still_works(world, prov):
    from tests.files import PDF  # a minimal valid PDF

    record = prov.post(BASE + f"/workers/{world.w1.pk}/archive/records", json.dumps({
        "archive_class": 1, "title": "身份证复印件"}), content_type="application/json")
    assert record.status_code == 201, record.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = prov.post(BASE + f"/archive/records/{record.json()['id']}/attachments",
                     {"file": SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf")})
    assert resp.status_code == 201, resp.content.decode()


def test_invalid_json_is_a_400_in_chinese(world, prov):
    assert_json_error(prov.post(BASE + "/workers", "{not json", content_type="application/json"), 400)


def test_unknown_field_is_422(world, prov):
    resp = prov.post(BASE + f"/appointments/{factories.appoint(world.w1, '书记').pk}/end",
                     json.dumps({"end_date": "2024-01-05", "colour": "red"}), content_type="application/json")
    assert assert_json_error(resp, 422)["field"] == "colour"


def test_a_body_over_the_upload_limit_is_413(world, prov, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    resp = prov.patch(BASE + f"/workers/{world.w1.pk}", json.dumps({"name": "张" * 200}),
                      content_type="application/json")
    assert_json_error(resp, 413)


# --- the API's own edges ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nothing-here", "/workers/1/nothing", "/"])
def test_unknown_api_path_is_a_json_404(world, prov, path):
    assert_json_error(prov.get(BASE + path), 404)


def test_unknown_api_path_is_json_without_a_token_too(db):
    assert_json_error(Client().get(BASE + "/nothing-here"), 404)


def test_wrong_method_is_a_json_405_with_allow(world, prov):
    resp = prov.delete(BASE + "/workers")
    body = assert_json_error(resp, 405)
    assert "GET" in resp["Allow"] and "POST" in resp["Allow"]
    assert "DELETE" in body["message"]


def test_an_unexpected_exception_is_a_logged_json_500(world, prov, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("shegong.org.api.division_list", broken)
    with caplog.at_level(logging.ERROR, logger="shegong.api"):
        resp = prov.get(BASE + "/divisions")
    body = assert_json_error(resp, 500)
    assert "服务器内部错误" in body["message"]
    assert "boom" not in resp.content.decode()  # no internals in the answer
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01"])
def test_compliance_at_the_ends_of_the_calendar_is_not_a_500(world, prov, as_of):
    for path in ("/compliance", f"/communities/{world.c1.code}/compliance"):
        resp = prov.get(BASE + path, {"as_of": as_of})
        assert resp.status_code in (200, 422), resp.content.decode()[:300]


def test_register_with_an_empty_community_is_not_a_500(world, prov):
    """`"community": ""` raised KeyError in shegong/people/api.py (_data drops the key). Until that file
    refuses it, the answer is at least a JSON error and not an HTML page."""
    resp = prov.post(BASE + "/workers", json.dumps({"name": "孙七", "id_number": factories.id_number(),
                                                    "community": ""}), content_type="application/json")
    assert resp["Content-Type"].startswith("application/json")
    assert_json_error(resp, resp.status_code)


def test_register_with_an_empty_community_is_a_4xx(world, prov):
    resp = prov.post(BASE + "/workers", json.dumps({"name": "孙七", "id_number": factories.id_number(),
                                                    "community": ""}), content_type="application/json")
    assert 400 <= resp.status_code < 500


# --- the OpenAPI document lists the errors ------------------------------------------------------------------------------


def test_every_operation_documents_its_errors(db):
    schema = Client().get(BASE + "/openapi.json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["message", "field"]
    error_ref = {"$ref": "#/components/schemas/Error"}
    seen = 0
    for path, item in schema["paths"].items():
        for method, op in item.items():
            seen += 1
            responses = op["responses"]
            expected = {"400", "404", "422", "500"}
            if op.get("security"):
                expected |= {"401", "403"}
            if method in ("post", "patch", "put", "delete"):
                expected |= {"409"}
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                expected |= {"415"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for status in expected:
                content = responses[status]["content"]["application/json"]["schema"]
                assert content == error_ref, (method, path, status)
    assert seen > 20
    # an operation's own declaration stays (the 412 of an If-Match PATCH, where it has one)
    patch = schema["paths"]["/api/v1/workers/{worker_id}"]["patch"]["responses"]
    if "412" in patch:
        assert patch["412"]["content"]["application/json"]["schema"] != error_ref
    # pagination bounds are in the document
    for path in ("/api/v1/divisions", "/api/v1/workers", "/api/v1/archive/access-log"):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert params["offset"]["schema"]["maximum"] == MAX_OFFSET, path
        assert params["limit"]["schema"]["maximum"] == 500, path
