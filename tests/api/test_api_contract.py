"""Contract tests for /api/v1: authentication, JSON error shape, pagination, masking, filters and writes.

The scope matrix (who sees what) is in test_api_scope.py; here the province civil-affairs admin, who
sees the whole fixture world, is the usual caller.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from shegong.access import system_actor
from shegong.accounts.models import ApiToken
from shegong.accounts.services import token_create
from shegong.common.crypto import decrypt
from shegong.common.models import AccessLog
from shegong.people.models import Worker
from shegong.people.services import worker_update
from shegong.staffing.models import Appointment
from tests import factories

BASE = "/api/v1"
HAN = re.compile(r"[\u4e00-\u9fff]")
NOT_FOUND = "未找到,或不在您的管辖范围内"


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None):
    url = BASE + path
    if method == "get":
        return client.get(url, body or {})
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def ids(resp) -> list[int]:
    return [item["id"] for item in resp.json()["items"]]


def assert_chinese_error(resp, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.content.decode()
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert isinstance(body.get("message"), str) and HAN.search(body["message"]), body
    assert "field" in body
    return body


def plain_id(worker: Worker) -> str:
    return decrypt(worker.id_number_encrypted)


def plain_phone(worker: Worker) -> str:
    return decrypt(worker.phone_encrypted)


@pytest.fixture
def appts(world) -> dict[str, Appointment]:
    """One current appointment per worker: w1 书记 of c1, w2 主任 of c2, w3 社工 of c3, w_other 书记 of other."""
    return {
        "a1": factories.appoint(world.w1, "书记"),
        "a2": factories.appoint(world.w2, "主任"),
        "a3": factories.appoint(world.w3, "社工"),
        "a_other": factories.appoint(world.w_other, "书记"),
    }


@pytest.fixture
def prov(world, api) -> Client:
    return api(world.users["province"])


def new_worker_body(**overrides: Any) -> dict[str, Any]:
    body = {"name": "孙七", "id_number": factories.id_number("220102", dt.date(1990, 6, 1), "女"),
            "community": "220102001002", "phone": "13912345678",
            "ethnicity": "汉", "political_status": "党员", "education": "本科"}
    body.update(overrides)
    return body


# --- authentication --------------------------------------------------------------------------------

# (method, path, body); {w1} and {a1} are filled in at run time.
AUTHENTICATED = [
    ("get", "/divisions", None),
    ("get", "/divisions/220102001", None),
    ("get", "/communities", None),
    ("get", "/communities/220102001001", None),
    ("get", "/workers", None),
    ("post", "/workers", "new_worker"),
    ("get", "/workers/{w1}", None),
    ("patch", "/workers/{w1}", {"name": "张三丰"}),
    ("post", "/workers/{w1}/reveal", {"field": "id_number"}),
    ("get", "/appointments", None),
    ("post", "/appointments", "new_appointment"),
    ("get", "/appointments/{a1}", None),
    ("post", "/appointments/{a1}/end", {"end_date": "2024-01-05"}),
    ("get", "/post-types", None),
]

BAD_AUTH = {
    "missing": None,
    "wrong_token": "Bearer sg_this-token-was-never-issued",
    "empty_bearer": "Bearer ",
    "basic_scheme": "Basic cHJvdmluY2U6VGVzdC1wYXNzLTIwMjE=",
    "revoked": "revoked",
    "inactive_user": "inactive",
}


def _bad_client(kind: str, world) -> Client:
    header = BAD_AUTH[kind]
    if header is None:
        return Client()
    if header == "revoked":
        token = token_create(actor=system_actor("command"), user=world.users["province"])
        ApiToken.objects.filter(prefix=token[:10]).update(revoked_at=timezone.now())
        header = f"Bearer {token}"
    elif header == "inactive":
        user = world.users["province"]
        token = token_create(actor=system_actor("command"), user=user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        header = f"Bearer {token}"
    return Client(HTTP_AUTHORIZATION=header)


def _fill(world, appts, method, path, body):
    path = path.format(w1=world.w1.pk, a1=appts["a1"].pk)
    if body == "new_worker":
        body = new_worker_body()
    elif body == "new_appointment":
        body = {"worker_id": world.w2.pk, "community": "220102001002", "post_type": "书记",
                "method": "选举", "start_date": "2021-02-01"}
    return method, path, body


def _state() -> tuple:
    return (Worker.objects.count(), Worker.history.count(), Appointment.objects.count(),
            Appointment.history.count(), Appointment.objects.filter(end_date__isnull=False).count(),
            AccessLog.objects.count())


@pytest.mark.parametrize("kind", list(BAD_AUTH))
@pytest.mark.parametrize(("method", "path", "body"), AUTHENTICATED, ids=[f"{m} {p}" for m, p, _ in AUTHENTICATED])
def test_401_without_a_valid_token(world, appts, kind, method, path, body):
    client = _bad_client(kind, world)
    before = _state()
    resp = call(client, *_fill(world, appts, method, path, body))
    body_json = assert_chinese_error(resp, 401)
    assert "令牌" in body_json["message"]
    assert _state() == before, "an unauthenticated request changed data"
    world.w1.refresh_from_db()
    assert world.w1.name == "张三"


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_public_endpoints_need_no_token(db, path):
    resp = Client().get(BASE + path)
    assert resp.status_code == 200, resp.content[:300]


def test_valid_token_is_accepted(world, prov):
    resp = call(prov, "get", "/workers")
    assert resp.status_code == 200


# --- lists: shape, pagination, detail round trip ------------------------------------------------------

LISTS = {
    # list path -> detail path built from one item
    "/divisions": lambda item: f"/divisions/{item['code']}",
    "/communities": lambda item: f"/communities/{item['code']}",
    "/workers": lambda item: f"/workers/{item['id']}",
    "/appointments": lambda item: f"/appointments/{item['id']}",
}


@pytest.mark.parametrize("path", list(LISTS))
def test_list_shape_and_detail_round_trip(world, appts, prov, path):
    resp = call(prov, "get", path)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"items", "count"}
    assert isinstance(body["items"], list)
    assert body["count"] == len(body["items"]) >= 4
    for item in body["items"]:
        assert isinstance(item["id"], int)
        detail = call(prov, "get", LISTS[path](item))
        assert detail.status_code == 200, (item, detail.content.decode())
        assert detail.json()["id"] == item["id"]
        assert detail.json() == item


@pytest.mark.parametrize("path", list(LISTS))
def test_list_honours_limit_and_offset(world, appts, prov, path):
    full = call(prov, "get", path, {"limit": 500}).json()
    assert full["count"] >= 4
    page = call(prov, "get", path, {"limit": 2, "offset": 1}).json()
    assert page["count"] == full["count"]
    assert [i["id"] for i in page["items"]] == [i["id"] for i in full["items"][1:3]]
    last = call(prov, "get", path, {"limit": 2, "offset": full["count"] - 1}).json()
    assert [i["id"] for i in last["items"]] == [full["items"][-1]["id"]]
    beyond = call(prov, "get", path, {"offset": full["count"] + 10}).json()
    assert beyond == {"items": [], "count": full["count"]}


@pytest.mark.parametrize("params", [{"limit": 0}, {"offset": -1}, {"limit": "x"}])
def test_bad_pagination_is_a_422_in_chinese(world, prov, params):
    assert_chinese_error(call(prov, "get", "/workers", params), 422)


# --- personal data: masked everywhere -----------------------------------------------------------------


def _assert_no_plain_data(resp, workers: list[Worker]) -> None:
    text = resp.content.decode()
    for w in workers:
        assert plain_id(w) not in text, f"plain ID number of {w.name} in response"
        assert plain_phone(w) not in text, f"plain phone of {w.name} in response"


def _assert_masked(item: dict, worker: Worker) -> None:
    pid, phone = plain_id(worker), plain_phone(worker)
    assert "********" in item["id_number"]
    assert item["id_number"] == pid[:6] + "********" + pid[-4:]
    assert item["phone"] != phone and "****" in item["phone"]
    assert item["phone"] == phone[:3] + "****" + phone[-4:]


def test_worker_list_masks_id_number_and_phone(world, prov):
    resp = call(prov, "get", "/workers")
    items = {i["id"]: i for i in resp.json()["items"]}
    workers = [world.w1, world.w2, world.w3, world.w_other]
    assert set(items) == {w.pk for w in workers}
    for w in workers:
        _assert_masked(items[w.pk], w)
    _assert_no_plain_data(resp, workers)


def test_worker_detail_and_writes_mask_id_number_and_phone(world, prov):
    workers = [world.w1, world.w2, world.w3, world.w_other]
    detail = call(prov, "get", f"/workers/{world.w1.pk}")
    _assert_masked(detail.json(), world.w1)
    _assert_no_plain_data(detail, workers)

    patched = call(prov, "patch", f"/workers/{world.w1.pk}", {"phone": "13812345678"})
    assert patched.status_code == 200
    assert patched.json()["phone"] == "138****5678"
    assert "13812345678" not in patched.content.decode()

    body = new_worker_body()
    created = call(prov, "post", "/workers", body)
    assert created.status_code == 201
    assert body["id_number"] not in created.content.decode()
    assert body["phone"] not in created.content.decode()
    assert created.json()["id_number"] == body["id_number"][:6] + "********" + body["id_number"][-4:]


# --- filters --------------------------------------------------------------------------------------------


def _names(resp) -> set[str]:
    assert resp.status_code == 200, resp.content.decode()
    return {i["name"] for i in resp.json()["items"]}


@pytest.mark.parametrize(("community", "expected"), [
    ("220102001001", {"张三"}),
    ("220102001", {"张三", "李四"}),            # a street: every community under it
    ("220102001000", {"张三", "李四"}),         # the same street in its 12-digit form
    ("2201", {"张三", "李四", "王五"}),
    ("220202001001", {"赵六"}),
    ("abc", set()),
])
def test_workers_filter_by_community(world, prov, community, expected):
    resp = call(prov, "get", "/workers", {"community": community})
    assert _names(resp) == expected
    assert resp.json()["count"] == len(expected)


def test_workers_filter_by_category(world, prov):
    factories.WorkerFactory(name="公益甲", community=world.c1, category="公益性岗位")
    assert _names(call(prov, "get", "/workers", {"category": "公益性岗位"})) == {"公益甲"}
    assert _names(call(prov, "get", "/workers", {"category": "专职社区工作者"})) == {"张三", "李四", "王五", "赵六"}


def test_workers_filter_by_status(world, prov):
    worker_update(actor=system_actor("command"), worker=world.w3, status="退休")
    assert _names(call(prov, "get", "/workers", {"status": "退休"})) == {"王五"}
    assert _names(call(prov, "get", "/workers", {"status": "在岗"})) == {"张三", "李四", "赵六"}


def test_workers_filter_by_current_post_type(world, appts, prov):
    assert _names(call(prov, "get", "/workers", {"post_type": "party_secretary"})) == {"张三", "赵六"}
    assert _names(call(prov, "get", "/workers", {"post_type": "rc_director"})) == {"李四"}
    # An ended post no longer counts.
    resp = call(prov, "post", f"/appointments/{appts['a1'].pk}/end", {"end_date": "2022-01-05"})
    assert resp.status_code == 200
    assert _names(call(prov, "get", "/workers", {"post_type": "party_secretary"})) == {"赵六"}


def test_workers_filter_by_post_type_accepts_canonical_name_and_variant(world, appts, prov):
    """DESIGN 'Canonical names': the API accepts the listed variants on input (POST /appointments does).
    A filter given as 党组织书记 or 书记 must not silently answer an empty list."""
    for value in ("党组织书记", "书记"):
        assert _names(call(prov, "get", "/workers", {"post_type": value})) == {"张三", "赵六"}, value


def test_workers_q_by_name(world, prov):
    assert _names(call(prov, "get", "/workers", {"q": "张三"})) == {"张三"}
    assert _names(call(prov, "get", "/workers", {"q": "李"})) == {"李四"}
    assert _names(call(prov, "get", "/workers", {"q": "没有这个人"})) == set()


def test_workers_q_by_full_id_number(world, prov):
    pid = plain_id(world.w2)
    resp = call(prov, "get", "/workers", {"q": pid})
    assert _names(resp) == {"李四"}
    assert pid not in resp.content.decode()
    # Only the full number finds a worker (it is matched through its keyed hash, never by fragment).
    assert _names(call(prov, "get", "/workers", {"q": pid[:14]})) == set()


def test_appointments_filters(world, appts, prov):
    def workers_of(params):
        resp = call(prov, "get", "/appointments", params)
        assert resp.status_code == 200
        return {i["worker_name"] for i in resp.json()["items"]}

    assert workers_of({"community": "220102001"}) == {"张三", "李四"}
    assert workers_of({"worker_id": world.w3.pk}) == {"王五"}
    assert workers_of({"post_type": "party_secretary"}) == {"张三", "赵六"}
    call(prov, "post", f"/appointments/{appts['a2'].pk}/end", {"end_date": "2022-01-05"})
    assert workers_of({"current": "true"}) == {"张三", "王五", "赵六"}
    assert workers_of({"current": "false"}) == {"李四"}


# --- POST /workers ----------------------------------------------------------------------------------------


def test_create_worker_with_short_forms(world, prov):
    user = world.users["province"]
    body = new_worker_body()
    resp = call(prov, "post", "/workers", body)
    assert resp.status_code == 201, resp.content.decode()
    out = resp.json()
    assert out["name"] == "孙七"
    assert (out["ethnicity"], out["ethnicity_name"]) == ("01", "汉族")
    assert (out["political_status"], out["political_status_name"]) == ("01", "中国共产党党员")
    assert (out["education"], out["education_name"]) == ("21", "大学本科")
    idn = body["id_number"]                                              # 性别 and 出生日期 come from it
    assert out["gender"] == "女" and out["birth_date"] == f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}"
    assert out["community_code"] == "220102001002" and out["community_name"] == "幸福社区"
    assert out["category"] == "专职社区工作者" and out["status"] == "在岗"
    worker = Worker.objects.get(pk=out["id"])
    assert plain_id(worker) == body["id_number"]
    record = worker.history.get()
    assert record.history_type == "+" and record.history_user_id == user.pk
    assert call(prov, "get", f"/workers/{out['id']}").json() == out


def test_create_worker_bad_check_digit_is_400_on_id_number(world, prov):
    good = factories.id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    before = Worker.objects.count()
    resp = call(prov, "post", "/workers", new_worker_body(id_number=bad))
    body = assert_chinese_error(resp, 400)
    assert body["field"] == "id_number"
    assert "校验码" in body["message"]
    assert Worker.objects.count() == before


def test_create_worker_duplicate_id_number_is_400(world, prov):
    resp = call(prov, "post", "/workers", new_worker_body(id_number=plain_id(world.w1)))
    body = assert_chinese_error(resp, 400)
    assert body["field"] == "id_number"
    assert plain_id(world.w1) not in resp.content.decode()


@pytest.mark.parametrize("missing", ["name", "id_number", "community"])
def test_create_worker_missing_field_is_422_naming_it(world, prov, missing):
    body = new_worker_body()
    del body[missing]
    before = Worker.objects.count()
    resp = call(prov, "post", "/workers", body)
    out = assert_chinese_error(resp, 422)
    assert out["field"] == missing
    assert missing in out["message"]
    assert Worker.objects.count() == before


def test_create_worker_invalid_json_is_chinese_error(world, prov):
    """DESIGN habit 2: error messages in Chinese (api.py even maps pydantic's json_invalid to 'JSON 格式错误')."""
    resp = prov.post(BASE + "/workers", data="{not json", content_type="application/json")
    assert resp.status_code in (400, 422)
    assert HAN.search(resp.json()["message"])


def test_create_worker_in_a_street_is_rejected(world, prov):
    resp = call(prov, "post", "/workers", new_worker_body(community="220102001"))
    body = assert_chinese_error(resp, 400)
    assert body["field"] == "community"


# --- PATCH /workers/{id} -------------------------------------------------------------------------------------


def test_patch_changes_field_and_writes_history_with_api_user(world, prov):
    user = world.users["province"]
    w1 = world.w1
    records_before = w1.history.count()
    resp = call(prov, "patch", f"/workers/{w1.pk}", {"education": "大专"})
    assert resp.status_code == 200, resp.content.decode()
    out = resp.json()
    assert (out["education"], out["education_name"]) == ("31", "大学专科")
    assert out["name"] == "张三"                       # untouched fields stay
    w1.refresh_from_db()
    assert w1.education == "31"
    assert w1.history.count() == records_before + 1
    latest = w1.history.order_by("-history_id").first()
    assert latest.history_type == "~"
    assert latest.history_user_id == user.pk
    assert latest.education == "31"
    assert latest.prev_record.education == "21"


def test_patch_bad_id_number_is_400_and_changes_nothing(world, prov):
    good = plain_id(world.w1)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    resp = call(prov, "patch", f"/workers/{world.w1.pk}", {"id_number": bad})
    assert assert_chinese_error(resp, 400)["field"] == "id_number"
    world.w1.refresh_from_db()
    assert plain_id(world.w1) == good


def test_patch_unknown_worker_is_404(world, prov):
    resp = call(prov, "patch", "/workers/999999", {"name": "无名"})
    assert assert_chinese_error(resp, 404)["message"] == NOT_FOUND


# --- reveal -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "action"), [("id_number", AccessLog.Action.REVEAL_ID),
                                               ("phone", AccessLog.Action.REVEAL_PHONE)])
def test_reveal_returns_plain_value_and_logs(world, prov, field, action):
    user = world.users["province"]
    w = world.w2
    expected = plain_id(w) if field == "id_number" else plain_phone(w)
    resp = call(prov, "post", f"/workers/{w.pk}/reveal", {"field": field})
    assert resp.status_code == 200, resp.content.decode()
    assert resp.json() == {"field": field, "value": expected}
    log = AccessLog.objects.get()
    assert log.user_id == user.pk
    assert log.action == action
    assert (log.object_type, log.object_id, log.object_label) == ("people.worker", str(w.pk), "李四")


def test_reveal_of_other_field_is_422_and_not_logged(world, prov):
    resp = call(prov, "post", f"/workers/{world.w1.pk}/reveal", {"field": "name"})
    assert_chinese_error(resp, 422)
    assert not AccessLog.objects.exists()


# --- appointments -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("post_type", ["书记", "社区书记", "党组织书记", "party_secretary"])
def test_create_appointment_accepts_post_type_variants(world, prov, post_type):
    user = world.users["province"]
    resp = call(prov, "post", "/appointments", {
        "worker_id": world.w1.pk, "community": "220102001001", "post_type": post_type,
        "method": "选举", "start_date": "2021-01-05"})
    assert resp.status_code == 201, resp.content.decode()
    out = resp.json()
    assert out["post_type"] == "party_secretary" and out["post_name"] == "党组织书记"
    assert out["worker_id"] == world.w1.pk and out["worker_name"] == "张三"
    assert out["community_code"] == "220102001001"
    assert out["is_current"] is True and out["end_date"] is None
    row = Appointment.objects.get(pk=out["id"])
    assert row.history.get().history_user_id == user.pk
    assert call(prov, "get", f"/appointments/{out['id']}").json() == out


def test_create_appointment_unknown_post_is_400(world, prov):
    resp = call(prov, "post", "/appointments", {
        "worker_id": world.w1.pk, "community": "220102001001", "post_type": "宇航员",
        "method": "选举", "start_date": "2021-01-05"})
    assert assert_chinese_error(resp, 400)["field"] == "post_type"
    assert not Appointment.objects.exists()


def test_end_appointment_keeps_the_row(world, appts, prov):
    a1 = appts["a1"]
    resp = call(prov, "post", f"/appointments/{a1.pk}/end", {"end_date": "2024-01-05", "end_reason": "换届"})
    assert resp.status_code == 200, resp.content.decode()
    out = resp.json()
    assert out["id"] == a1.pk
    assert out["is_current"] is False
    assert out["end_date"] == "2024-01-05" and out["end_reason"] == "换届"
    a1.refresh_from_db()                       # the row stays
    assert a1.end_date == dt.date(2024, 1, 5)
    assert call(prov, "get", f"/appointments/{a1.pk}").json() == out
    assert a1.pk in ids(call(prov, "get", "/appointments", {"current": "false"}))
    assert a1.pk not in ids(call(prov, "get", "/appointments", {"current": "true"}))
    assert a1.history.order_by("-history_id").first().history_user_id == world.users["province"].pk


def test_end_twice_is_400(world, appts, prov):
    a1 = appts["a1"]
    assert call(prov, "post", f"/appointments/{a1.pk}/end", {"end_date": "2024-01-05"}).status_code == 200
    resp = call(prov, "post", f"/appointments/{a1.pk}/end", {"end_date": "2025-01-05"})
    assert assert_chinese_error(resp, 400)["field"] == "end_date"
    a1.refresh_from_db()
    assert a1.end_date == dt.date(2024, 1, 5)


def test_end_before_start_is_400(world, appts, prov):
    resp = call(prov, "post", f"/appointments/{appts['a1'].pk}/end", {"end_date": "2020-01-01"})
    assert assert_chinese_error(resp, 400)["field"] == "end_date"
    appts["a1"].refresh_from_db()
    assert appts["a1"].end_date is None


def test_end_without_date_is_422(world, appts, prov):
    resp = call(prov, "post", f"/appointments/{appts['a1'].pk}/end", {})
    assert assert_chinese_error(resp, 422)["field"] == "end_date"


# --- divisions ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "code", "level"), [
    ("220102001000", "220102001", "street"),
    ("220102001", "220102001", "street"),
    ("220000000000", "22", "province"),
    ("220102000000", "220102", "district"),
    ("220102001001", "220102001001", "community"),
])
def test_division_accepts_natural_and_12_digit_codes(world, prov, given, code, level):
    resp = call(prov, "get", f"/divisions/{given}")
    assert resp.status_code == 200, resp.content.decode()
    out = resp.json()
    assert out["code"] == code and out["level"] == level
    assert out["full_code"] == code.ljust(12, "0")


def test_community_detail_accepts_12_digit_code_and_refuses_a_street(world, prov):
    resp = call(prov, "get", "/communities/220102001001")
    assert resp.status_code == 200
    assert resp.json()["households"] == 2500 and resp.json()["parent_code"] == "220102001"
    assert assert_chinese_error(call(prov, "get", "/communities/220102001000"), 404)["message"] == NOT_FOUND


@pytest.mark.parametrize("code", ["abc", "2201020010", "229999", "000000000000"])
def test_division_bad_or_unknown_code_is_404(world, prov, code):
    assert assert_chinese_error(call(prov, "get", f"/divisions/{code}"), 404)["message"] == NOT_FOUND


def test_divisions_filter_by_parent_and_level(world, prov):
    resp = call(prov, "get", "/divisions", {"parent": "220102001000"})
    assert [i["code"] for i in resp.json()["items"]] == ["220102001001", "220102001002"]
    resp = call(prov, "get", "/divisions", {"level": "street"})
    assert [i["code"] for i in resp.json()["items"]] == ["220102001", "220102002", "220202001"]
    resp = call(prov, "get", "/communities", {"within": "220102"})
    assert [i["code"] for i in resp.json()["items"]] == ["220102001001", "220102001002", "220102002001"]


# --- post types, OpenAPI, encoding -------------------------------------------------------------------------------------


def test_post_types(prov):
    resp = call(prov, "get", "/post-types")
    assert resp.status_code == 200
    rows = {r["code"]: r for r in resp.json()}
    assert rows["party_secretary"]["name"] == "党组织书记"
    assert "书记" in rows["party_secretary"]["aliases"]
    assert rows["party_secretary"]["layer"] == "正职"


def test_openapi_is_valid_json_with_paths(db):
    resp = Client().get(BASE + "/openapi.json")
    assert resp.status_code == 200
    schema = json.loads(resp.content)
    paths = set(schema["paths"])
    for p in ("/api/v1/divisions", "/api/v1/divisions/{code}", "/api/v1/communities", "/api/v1/communities/{code}",
              "/api/v1/workers", "/api/v1/workers/{worker_id}", "/api/v1/workers/{worker_id}/reveal",
              "/api/v1/post-types", "/api/v1/appointments", "/api/v1/appointments/{appointment_id}",
              "/api/v1/appointments/{appointment_id}/end"):
        assert p in paths, p
    assert schema["info"]["title"] == "社工 Shegong API"
    assert "patch" in schema["paths"]["/api/v1/workers/{worker_id}"]


def test_docs_page(db):
    resp = Client().get(BASE + "/docs")
    assert resp.status_code == 200
    assert b"openapi.json" in resp.content


@pytest.mark.parametrize(("method", "path", "body", "status", "expected"), [
    ("get", "/communities/220102001001", None, 200, "东风社区"),
    ("get", "/workers", None, 200, "张三"),
    ("get", "/workers/999999", None, 404, "未找到"),
    ("post", "/workers", {"name": "某人"}, 422, "必填"),
    ("post", "/appointments/999999/end", {"end_date": "2024-01-01"}, 404, "未找到"),
])
def test_chinese_is_not_escaped(world, prov, method, path, body, status, expected):
    resp = call(prov, method, path, body)
    assert resp.status_code == status
    assert "charset=utf-8" in resp["Content-Type"].lower()
    assert expected.encode("utf-8") in resp.content
    assert b"\\u" not in resp.content


def test_401_chinese_is_not_escaped(db):
    resp = Client().get(BASE + "/workers")
    assert resp.status_code == 401
    assert "未认证".encode() in resp.content
    assert b"\\u" not in resp.content


def test_out_of_scope_and_nonexistent_answer_the_same(world, api):
    """No existence oracle: a worker outside scope answers exactly as one that does not exist."""
    street = api(world.users["street"])
    outside = call(street, "get", f"/workers/{world.w_other.pk}")
    missing = call(street, "get", "/workers/999999")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()
