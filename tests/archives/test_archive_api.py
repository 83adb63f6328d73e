"""The archive API (8.1.2): contract of every endpoint, and the scope matrix (DESIGN habits 4 and 10).

Contract tests call as the province civil-affairs admin (sees the whole fixture world) unless a test is
about who may do something. The scope matrix of every endpoint (role x inside/outside: 404 outside and
nothing changed, 403 for a view-only write) is generated from the routes in tests/access/test_route_matrix.py;
here are the lists that span the scope. Attachments are stored under the tmp UPLOAD_ROOT set in conftest.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shegong.access import system_actor
from shegong.accounts.models import User
from shegong.archives import services
from shegong.archives.models import ArchiveRecord, Attachment, CorrectionRequest
from shegong.archives.rules import archive_rules
from shegong.archives.storage import root
from shegong.common.models import AccessLog
from shegong.org.services import division_create
from shegong.people.models import Worker
from shegong.people.services import worker_update
from tests import factories
from tests.files import EXE, PDF, png

BASE = "/api/v1"
HAN = re.compile(r"[\u4e00-\u9fff]")
NOT_FOUND = "未找到,或不在您的管辖范围内"


PNG = png()


# --- helpers -------------------------------------------------------------------------------------------------


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None):
    url = BASE + path
    if method == "get":
        return client.get(url, body or {})
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def upload(client: Client, record_id: int, name: str, data: bytes, content_type: str = "application/octet-stream"):
    return client.post(f"{BASE}/archive/records/{record_id}/attachments",
                       {"file": SimpleUploadedFile(name, data, content_type=content_type)})


def assert_error(resp, status: int, field: str | None = ...) -> dict[str, Any]:  # type: ignore[assignment]
    assert resp.status_code == status, resp.content.decode()
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert isinstance(body.get("message"), str) and HAN.search(body["message"]), body
    assert "field" in body
    if field is not ...:
        assert body["field"] == field, body
    return body


def document(worker: Worker, title: str = "居民身份证复印件", archive_class: int = 10, **extra: Any) -> ArchiveRecord:
    """A record made by the system (actor None), as a data import would."""
    return services.record_create(actor=system_actor("command"), worker=worker, archive_class=archive_class, title=title,
                                  date="2021-06-01", **extra)


def state() -> tuple[int, ...]:
    return (ArchiveRecord.objects.count(), ArchiveRecord.history.count(),
            ArchiveRecord.objects.filter(voided_at__isnull=False).count(), Attachment.objects.count(),
            CorrectionRequest.objects.count(), CorrectionRequest.objects.exclude(status="pending").count(),
            AccessLog.objects.count(), Worker.history.count())


@pytest.fixture(autouse=True)
def upload_root(settings, tmp_path):
    """Each test stores its attachments in its own directory (conftest's session-wide one is shared)."""
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    return settings.UPLOAD_ROOT


@pytest.fixture
def prov(world, api) -> Client:
    return api(world.users["province"])


@pytest.fixture
def rec(world) -> ArchiveRecord:
    return document(world.w1)


# --- authentication -------------------------------------------------------------------------------------------


def _paths(world, rec) -> list[tuple[str, str]]:
    att = services.attachment_add(actor=system_actor("command"), record=rec, name="a.pdf", data=PDF)
    cr = CorrectionRequest.objects.create(worker=world.w1, text="出生日期有误")
    w = world.w1.pk
    return [("get", f"/workers/{w}/archive"), ("get", f"/workers/{w}/archive/records"),
            ("post", f"/workers/{w}/archive/records"), ("get", f"/archive/records/{rec.pk}"),
            ("patch", f"/archive/records/{rec.pk}"), ("post", f"/archive/records/{rec.pk}/void"),
            ("post", f"/archive/records/{rec.pk}/attachments"), ("get", f"/archive/attachments/{att.pk}"),
            ("get", f"/workers/{w}/archive/access-log"), ("get", "/archive/access-log"),
            ("get", "/archive/corrections"), ("get", f"/workers/{w}/archive/corrections"),
            ("post", f"/workers/{w}/archive/corrections"), ("post", f"/archive/corrections/{cr.pk}/decide")]


def test_every_archive_endpoint_needs_a_token(world, rec):
    paths = _paths(world, rec)
    assert len(paths) == 14
    before = state()
    for method, path in paths:
        resp = call(Client(), method, path, {"reason": "x", "text": "x", "accept": True, "title": "x"})
        assert_error(resp, 401)
        assert "令牌" in resp.json()["message"]
    assert state() == before


def test_openapi_lists_the_archive_endpoints_under_their_tag(db):
    spec = Client().get(BASE + "/openapi.json").json()
    archive_paths = {p for p, ops in spec["paths"].items() for op in ops.values() if "人事档案" in op.get("tags", [])}
    assert archive_paths == {
        "/api/v1/workers/{worker_id}/archive", "/api/v1/workers/{worker_id}/archive/records",
        "/api/v1/archive/records/{record_id}", "/api/v1/archive/records/{record_id}/void",
        "/api/v1/archive/records/{record_id}/attachments", "/api/v1/archive/attachments/{attachment_id}",
        "/api/v1/workers/{worker_id}/archive/access-log", "/api/v1/archive/access-log",
        "/api/v1/archive/corrections", "/api/v1/workers/{worker_id}/archive/corrections",
        "/api/v1/archive/corrections/{request_id}/decide",
    }


# --- GET /workers/{id}/archive --------------------------------------------------------------------------------


def test_archive_shape_catalogue_completeness_and_log(world, prov):
    w1 = world.w1
    factories.appoint(w1, "书记")                                         # joins class 9 from staffing
    idc = document(w1, "居民身份证复印件", 10, required_item="id_card")
    services.attachment_add(actor=system_actor("command"), record=idc, name="身份证.pdf", data=PDF)
    services.record_create(actor=system_actor("command"), worker=w1, kind="education", issuer="吉林大学",
                           details={"school": "吉林大学", "major": "社会工作", "level": "本科",
                                    "start_date": "2004-09-01", "end_date": "2008-07-01"})
    wrong = document(w1, "错放的材料", 3)
    services.record_void(actor=system_actor("command"), record=wrong, reason="重复录入")
    services.record_create(actor=system_actor("command"), worker=w1, kind="qualification",
                           details={"level": "社会工作师", "certificate_no": "ZS2019001",
                                    "obtained_on": "2019-06-15", "registered_on": "2019-09-01"})

    resp = call(prov, "get", f"/workers/{w1.pk}/archive", {})
    assert resp.status_code == 200, resp.content.decode()
    body = resp.json()
    assert set(body) == {"worker", "catalogue", "completeness", "qualifications"}

    worker = body["worker"]
    assert worker == {"id": w1.pk, "name": "张三", "id_number": w1.id_number_masked,
                      "community_code": "220102001001", "community_name": "东风社区", "status": "在岗",
                      "read_only": False, "can_change": True}
    assert "********" in worker["id_number"]

    cat = body["catalogue"]
    assert [e["archive_class"] for e in cat] == sorted(e["archive_class"] for e in cat)
    assert [(e["archive_class"], e["source"]) for e in cat] == [
        (3, "record"), (4, "record"), (4, "record"), (9, "appointment"), (10, "record")]
    assert set(cat[0]) == {"archive_class", "class_name", "number", "title", "date", "issuer", "notes", "source",
                           "record_id", "kind", "voided", "void_reason", "attachments", "details"}
    voided = cat[0]
    assert (voided["voided"], voided["void_reason"], voided["number"]) == (True, "重复录入", 0)
    education, qualification = cat[1], cat[2]
    assert education["class_name"] == "学历学位、职业资格、职称、培训"
    assert (education["kind"], education["number"], education["date"]) == ("education", 1, "2008-07-01")
    assert education["details"]["level"] == "21" and education["details"]["level_name"] == "大学本科"
    assert (qualification["kind"], qualification["number"]) == ("qualification", 2)
    appointment = cat[3]
    assert appointment["record_id"] is None and appointment["kind"] is None and appointment["details"] is None
    assert "党组织书记" in appointment["title"] and appointment["number"] == 1
    id_card = cat[4]
    assert id_card["record_id"] == idc.pk and id_card["voided"] is False
    [att] = id_card["attachments"]
    assert set(att) == {"id", "record_id", "original_name", "content_type", "size", "sha256", "uploaded_at"}
    assert (att["original_name"], att["content_type"], att["size"]) == ("身份证.pdf", "application/pdf", len(PDF))
    assert att["sha256"] == hashlib.sha256(PDF).hexdigest()

    comp = body["completeness"]
    assert set(comp) == {"items", "missing", "rate", "complete"}
    codes = [i["code"] for i in comp["items"]]
    assert codes == [r.code for r in archive_rules().required]
    held = {i["code"]: i for i in comp["items"]}
    assert held["id_card"] == {"code": "id_card", "name": "居民身份证复印件", "archive_class": 10, "present": True,
                               "record_id": idc.pk}
    assert held["photo"]["present"] is False and held["photo"]["record_id"] is None
    assert comp["missing"] == [c for c in codes if c != "id_card"]
    assert comp["rate"] == pytest.approx(1 / len(codes))
    assert comp["complete"] is False

    [q] = body["qualifications"]
    assert q["record_id"] == qualification["record_id"]
    assert (q["level"], q["hours_owed"], q["hours_done"]) == ("社会工作师", 90, 0)
    assert q["registered_on"] == "2019-09-01" and q["expires_on"] == "2022-09-01"
    assert q["days_left"] < 0 and "到期" in q["warning"]

    log = AccessLog.objects.get()
    assert (log.action, log.worker_id, log.user_id) == ("archive_open", w1.pk, world.users["province"].pk)
    assert (log.object_type, log.object_id, log.ip) == ("people.worker", str(w1.pk), "127.0.0.1")


def test_archive_loads_in_a_fixed_number_of_queries(world, prov):
    w1 = world.w1
    r = document(w1, "登记表", 1)
    services.attachment_add(actor=system_actor("command"), record=r, name="a.pdf", data=PDF)
    url = f"{BASE}/workers/{w1.pk}/archive"
    assert prov.get(url).status_code == 200            # the token's first use stamps last_used_at
    with CaptureQueriesContext(connection) as few:
        assert prov.get(url).status_code == 200
    for i in range(4):
        more = document(w1, f"材料{i}", i + 1)
        services.attachment_add(actor=system_actor("command"), record=more, name=f"{i}.png", data=png(i + 1, 1))
    services.record_create(actor=system_actor("command"), worker=w1, kind="reward", details={"name": "优秀社区工作者", "level": "市级"})
    services.record_create(actor=system_actor("command"), worker=w1, kind="sanction",
                           details={"sanction_type": "警告", "start_date": "2020-01-10"})
    factories.appoint(w1, "书记")
    with CaptureQueriesContext(connection) as many:
        resp = prov.get(url)
    assert resp.status_code == 200 and len(resp.json()["catalogue"]) == 8
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_archive_of_a_worker_who_left_is_read_only(world, prov, rec):
    worker_update(actor=system_actor("command"), worker=world.w1, status="辞职")
    body = call(prov, "get", f"/workers/{world.w1.pk}/archive").json()
    assert (body["worker"]["status"], body["worker"]["read_only"], body["worker"]["can_change"]) == (
        "辞职", True, False)
    before = state()
    writes = [
        call(prov, "post", f"/workers/{world.w1.pk}/archive/records", {"archive_class": 10, "title": "照片"}),
        call(prov, "patch", f"/archive/records/{rec.pk}", {"title": "新名称"}),
        call(prov, "post", f"/archive/records/{rec.pk}/void", {"reason": "错了"}),
        upload(prov, rec.pk, "a.pdf", PDF),
    ]
    for resp in writes:
        body = assert_error(resp, 400, "worker")
        assert "只读" in body["message"] and "辞职" in body["message"]
    assert state() == before


def test_archive_of_unknown_worker_is_404(world, prov):
    assert assert_error(call(prov, "get", "/workers/999999/archive"), 404)["message"] == NOT_FOUND
    assert not AccessLog.objects.exists()


# --- records ---------------------------------------------------------------------------------------------------


RECORD_KEYS = {"id", "worker_id", "archive_class", "class_name", "kind", "kind_name", "title", "date", "issuer",
               "notes", "required_item", "voided", "voided_at", "void_reason", "created_by", "created_at",
               "attachments", "details"}


def test_create_document_then_get_patch_and_void(world, prov):
    user = world.users["province"]
    url = f"/workers/{world.w1.pk}/archive/records"
    resp = call(prov, "post", url, {"archive_class": 10, "title": " 居民身份证复印件 ", "date": "2021-05-04",
                                    "issuer": "长春市公安局", "notes": "正反面", "required_item": "id_card"})
    assert resp.status_code == 201, resp.content.decode()
    out = resp.json()
    assert set(out) == RECORD_KEYS
    assert (out["worker_id"], out["archive_class"], out["class_name"], out["kind"], out["kind_name"]) == (
        world.w1.pk, 10, "其他", "document", "材料")
    assert (out["title"], out["date"], out["issuer"], out["notes"], out["required_item"]) == (
        "居民身份证复印件", "2021-05-04", "长春市公安局", "正反面", "id_card")
    assert (out["voided"], out["voided_at"], out["void_reason"], out["details"], out["attachments"]) == (
        False, None, "", None, [])
    assert out["created_by"] == str(user)
    record = ArchiveRecord.objects.get(pk=out["id"])
    assert record.history.get().history_user_id == user.pk

    assert call(prov, "get", f"/archive/records/{out['id']}").json() == out

    patched = call(prov, "patch", f"/archive/records/{out['id']}", {"title": "身份证复印件", "archive_class": "其他"})
    assert patched.status_code == 200, patched.content.decode()
    assert patched.json() == {**out, "title": "身份证复印件"}
    assert record.history.count() == 2
    assert record.history.order_by("-history_id").first().history_user_id == user.pk

    assert_error(call(prov, "post", f"/archive/records/{out['id']}/void", {}), 400, "reason")
    assert_error(call(prov, "post", f"/archive/records/{out['id']}/void", {"reason": "  "}), 400, "reason")
    voided = call(prov, "post", f"/archive/records/{out['id']}/void", {"reason": "扫描件不清晰,重新录入"})
    assert voided.status_code == 200, voided.content.decode()
    v = voided.json()
    assert (v["voided"], v["void_reason"]) == (True, "扫描件不清晰,重新录入") and v["voided_at"]
    assert ArchiveRecord.objects.filter(pk=out["id"]).exists()               # kept, never deleted

    again = call(prov, "post", f"/archive/records/{out['id']}/void", {"reason": "再作废"})
    assert "已经作废" in assert_error(again, 400, "record")["message"]
    assert "不能修改" in assert_error(call(prov, "patch", f"/archive/records/{out['id']}", {"title": "x"}),
                                    400, "record")["message"]
    assert_error(upload(prov, out["id"], "a.pdf", PDF), 400, "record")


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"title": "没有类别"}, "archive_class", "类别"),
    ({"archive_class": 11, "title": "x"}, "archive_class", "1–10"),
    ({"archive_class": "没有这类", "title": "x"}, "archive_class", "没有这类"),
    ({"archive_class": 10, "title": "   "}, "title", "材料名称"),
    ({"archive_class": 10, "title": "x", "date": "2999-01-01"}, "date", "晚于今天"),
    ({"archive_class": 10, "title": "x", "required_item": "passport"}, "required_item", "passport"),
    ({"kind": "diary", "archive_class": 10, "title": "x"}, "kind", "diary"),
    ({"archive_class": 10, "title": "x", "details": {"school": "x"}}, "details", "明细"),
    ({"kind": "education", "details": {"school": "吉林大学", "level": "本科", "gpa": 4}}, "details", "gpa"),
    ({"kind": "education", "details": {"school": "吉林大学", "level": "幼儿园"}}, "level", "GB/T 4658"),
    ({"kind": "education", "details": {"school": "吉林大学", "level": "本科", "start_date": "2008-09-01",
                                       "end_date": "2004-07-01"}}, "end_date", "早于"),
    ({"kind": "education", "details": {"school": "吉林大学", "level": "本科", "start_date": "九月"}}, "start_date",
     "YYYY"),
    ({"kind": "qualification", "details": {"level": "社工大师", "certificate_no": "1", "obtained_on": "2020-01-01"}},
     "level", "社会工作师"),
    ({"kind": "sanction", "details": {"sanction_type": "罚站", "start_date": "2020-01-01"}}, "sanction_type", "警告"),
    ({"kind": "sanction", "details": {"sanction_type": ["警告"], "start_date": "2020-01-01"}}, "sanction_type",
     "单个值"),
    ({"kind": "qualification", "details": {"level": {"a": 1}, "certificate_no": "1", "obtained_on": "2020-01-01"}},
     "level", "单个值"),
    ({"archive_class": 10, "title": "x", "notes": "注" * 2001}, "notes", "2000"),
])
def test_create_record_invalid_is_400_naming_the_field(world, prov, body, field, words):
    before = state()
    resp = call(prov, "post", f"/workers/{world.w1.pk}/archive/records", body)
    out = assert_error(resp, 400, field)
    assert words in out["message"], out
    assert state() == before


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/workers/{w}/archive/records", {"archive_class": 10, "title": "x", "bogus": 1}),
    ("patch", "/archive/records/{r}", {"titel": "拼错的字段"}),
    ("post", "/archive/records/{r}/void", {"reason": "重复", "force": True}),
])
def test_unknown_fields_are_refused_not_ignored(world, prov, rec, method, path, body):
    before = state()
    resp = call(prov, method, path.format(w=world.w1.pk, r=rec.pk), body)
    out = assert_error(resp, 422)
    assert "不允许的字段" in out["message"] and state() == before


def test_create_record_bad_types_are_422(world, prov):
    resp = call(prov, "post", f"/workers/{world.w1.pk}/archive/records",
                {"archive_class": 10, "title": "x", "date": "昨天"})
    assert assert_error(resp, 422)["field"] == "date"
    resp = call(prov, "post", f"/workers/{world.w1.pk}/archive/records",
                {"archive_class": 10, "title": "x", "details": ["not", "an", "object"]})
    assert assert_error(resp, 422)["field"].startswith("details")


# Every structured kind through the API: (kind, details, implied class, expected details subset, default title)
KINDS = [
    ("education", {"school": "吉林大学", "major": "社会工作", "level": "本科", "degree": "法学学士",
                   "full_time": True, "start_date": "2004-09-01", "end_date": "2008-07-01"},
     4, {"level": "21", "level_name": "大学本科", "degree": "法学学士", "full_time": True,
         "end_date": "2008-07-01"}, "吉林大学 社会工作 学历证书"),
    ("work", {"organisation": "长春市南关区东风社区", "position": "网格员", "start_date": "2010-03-01",
              "end_date": "2014-12-31"},
     1, {"organisation": "长春市南关区东风社区", "position": "网格员", "start_date": "2010-03-01"},
     "长春市南关区东风社区 网格员 工作经历"),
    ("qualification", {"level": "社会工作师", "certificate_no": "ZS2020123", "obtained_on": "2020-06-20",
                       "registered_on": "2020-10-01", "hours_done": "30"},
     4, {"level": "社会工作师", "certificate_no": "ZS2020123", "hours_done": 30, "registered_on": "2020-10-01"},
     "社会工作师职业水平证书"),
    ("reward", {"name": "优秀社区工作者", "level": "市级"}, 7, {"name": "优秀社区工作者", "level": "市级"}, "优秀社区工作者"),
    ("sanction", {"sanction_type": "警告", "start_date": "2024-03-15"},
     8, {"sanction_type": "警告", "start_date": "2024-03-15", "end_date": "2024-09-14", "lifted_on": None,
         "in_force": False}, "警告处分决定"),
]


@pytest.mark.parametrize(("kind", "details", "archive_class", "expected", "title"), KINDS, ids=[k[0] for k in KINDS])
def test_create_every_structured_kind(world, prov, kind, details, archive_class, expected, title):
    resp = call(prov, "post", f"/workers/{world.w1.pk}/archive/records", {"kind": kind, "details": details})
    assert resp.status_code == 201, resp.content.decode()
    out = resp.json()
    assert (out["kind"], out["archive_class"], out["title"]) == (kind, archive_class, title)
    assert expected.items() <= out["details"].items(), out["details"]
    record = ArchiveRecord.objects.get(pk=out["id"])
    detail = getattr(record, kind)
    assert detail.history.get().history_user_id == world.users["province"].pk
    assert call(prov, "get", f"/archive/records/{out['id']}").json() == out


def test_education_level_short_form_is_stored_as_its_code(world, prov):
    out = call(prov, "post", f"/workers/{world.w1.pk}/archive/records",
               {"kind": "education", "details": {"school": "长春大学", "level": "本科"}}).json()
    assert ArchiveRecord.objects.get(pk=out["id"]).education.level == "21"


def test_qualification_hours_come_from_the_rules(world, prov):
    call(prov, "post", f"/workers/{world.w1.pk}/archive/records",
         {"kind": "qualification", "details": {"level": "社会工作师", "certificate_no": "A1",
                                               "obtained_on": "2023-05-01", "registered_on": "2023-08-01",
                                               "hours_done": 12}})
    call(prov, "post", f"/workers/{world.w1.pk}/archive/records",
         {"kind": "qualification", "details": {"level": "助理社会工作师", "certificate_no": "A0",
                                               "obtained_on": "2021-05-01"}})
    quals = {q["level"]: q for q in call(prov, "get", f"/workers/{world.w1.pk}/archive").json()["qualifications"]}
    assert (quals["社会工作师"]["hours_owed"], quals["社会工作师"]["hours_done"]) == (90, 12)
    assert quals["社会工作师"]["expires_on"] == "2026-08-01"
    assert quals["助理社会工作师"]["hours_owed"] == 72
    assert quals["助理社会工作师"]["expires_on"] is None and "尚未登记" in quals["助理社会工作师"]["warning"]


def test_sanction_period_comes_from_the_rules(world, prov):
    out = call(prov, "post", f"/workers/{world.w1.pk}/archive/records",
               {"kind": "sanction", "details": {"sanction_type": "警告", "start_date": "2024-03-15"}}).json()
    assert (out["date"], out["details"]["end_date"]) == ("2024-03-15", "2024-09-14")
    sanction = ArchiveRecord.objects.get(pk=out["id"]).sanction
    assert (str(sanction.start_date), str(sanction.end_date)) == ("2024-03-15", "2024-09-14")


def test_patch_details_of_a_structured_record(world, prov):
    out = call(prov, "post", f"/workers/{world.w1.pk}/archive/records",
               {"kind": "reward", "details": {"name": "优秀社区工作者", "level": "区级"}}).json()
    resp = call(prov, "patch", f"/archive/records/{out['id']}", {"details": {"level": "市级"}})
    assert resp.status_code == 200, resp.content.decode()
    assert resp.json()["details"] == {"name": "优秀社区工作者", "level": "市级"}
    assert_error(call(prov, "patch", f"/archive/records/{out['id']}", {"details": {"school": "x"}}), 400, "details")
    assert_error(call(prov, "patch", f"/archive/records/{out['id']}", {"date": "2999-01-01"}), 400, "date")


def test_records_list_pagination_and_filters(world, prov):
    w1 = world.w1
    a = document(w1, "登记表", 1)
    b = document(w1, "身份证", 10)
    c = services.record_create(actor=system_actor("command"), worker=w1, kind="reward", details={"name": "先进个人"})
    d = document(w1, "错件", 10)
    services.record_void(actor=system_actor("command"), record=d, reason="重复")
    document(world.w2, "别人的材料", 10)
    url = f"/workers/{w1.pk}/archive/records"

    def ids(params: dict[str, Any] | None = None) -> list[int]:
        resp = call(prov, "get", url, params)
        assert resp.status_code == 200, resp.content.decode()
        body = resp.json()
        assert set(body) == {"items", "count"}
        assert all(set(i) == RECORD_KEYS for i in body["items"])
        return [i["id"] for i in body["items"]]

    assert ids() == [a.pk, c.pk, b.pk]                                 # catalogue order, voided left out
    assert ids({"include_voided": "true"}) == [a.pk, c.pk, b.pk, d.pk]
    assert ids({"archive_class": 10}) == [b.pk]
    assert ids({"archive_class": 10, "include_voided": True}) == [b.pk, d.pk]
    assert ids({"kind": "reward"}) == [c.pk]
    assert ids({"limit": 1, "offset": 1}) == [c.pk]
    assert call(prov, "get", url, {"limit": 1}).json()["count"] == 3
    assert_error(call(prov, "get", url, {"archive_class": "x"}), 422, "archive_class")


# --- attachments ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("身份证 扫描件.pdf", PDF, "application/pdf"),
    ("免冠照片.png", PNG, "image/png"),
], ids=["pdf", "png"])
def test_upload_then_download_the_same_bytes_logged(world, prov, rec, name, data, content_type):
    user = world.users["province"]
    resp = upload(prov, rec.pk, name, data)
    assert resp.status_code == 201, resp.content.decode()
    out = resp.json()
    digest = hashlib.sha256(data).hexdigest()
    assert set(out) == {"id", "record_id", "original_name", "content_type", "size", "sha256", "uploaded_at"}
    assert (out["record_id"], out["original_name"], out["content_type"], out["size"], out["sha256"]) == (
        rec.pk, name, content_type, len(data), digest)
    att = Attachment.objects.get(pk=out["id"])
    assert att.uploaded_by_id == user.pk and att.history.get().history_user_id == user.pk
    stored = root() / att.path
    assert stored.is_relative_to(settings.UPLOAD_ROOT) and stored.read_bytes() == data
    assert call(prov, "get", f"/archive/records/{rec.pk}").json()["attachments"] == [out]
    assert not AccessLog.objects.exists()

    dl = prov.get(f"{BASE}/archive/attachments/{out['id']}")
    assert dl.status_code == 200
    got = b"".join(dl.streaming_content)  # the test client closes the file when the content is consumed
    assert got == data and hashlib.sha256(got).hexdigest() == out["sha256"]
    assert dl["Content-Type"] == content_type
    assert dl["Content-Length"] == str(len(data))
    assert dl["X-Content-Type-Options"] == "nosniff"
    assert dl["Content-Disposition"].startswith("attachment;")
    assert f"filename*=utf-8''{quote(name)}" in dl["Content-Disposition"]
    assert "no-store" in dl["Cache-Control"]

    log = AccessLog.objects.get()
    assert (log.action, log.worker_id, log.user_id, log.ip) == ("attachment_download", world.w1.pk, user.pk,
                                                                 "127.0.0.1")
    assert (log.object_type, log.object_id) == ("archives.attachment", str(out["id"]))
    assert name in log.object_label and "张三" in log.object_label


def test_same_bytes_twice_are_stored_once(world, prov, rec):
    a = upload(prov, rec.pk, "a.pdf", PDF).json()
    b = upload(prov, document(world.w1, "学历证明", 4).pk, "b.pdf", PDF).json()  # another record
    assert a["id"] != b["id"] and a["sha256"] == b["sha256"]
    assert [p.name for p in (root() / "archives").rglob("*") if p.is_file()] == [a["sha256"]]
    # On the same record a second upload of the same file is refused, naming the first.
    body = assert_error(upload(prov, rec.pk, "again.pdf", PDF), 400, "file")
    assert "已经上传到这份材料" in body["message"] and "a.pdf" in body["message"]
    assert rec.attachments.count() == 1


def test_renamed_executable_is_refused_by_content(world, prov, rec):
    before = state()
    resp = upload(prov, rec.pk, "scan.pdf", EXE, content_type="application/pdf")
    body = assert_error(resp, 400, "file")
    assert "scan.pdf" in body["message"]
    assert "不是 PDF、JPEG 或 PNG" in body["message"] and "可执行程序" in body["message"]
    assert state() == before
    assert not (root() / "archives").exists() or not any((root() / "archives").rglob("*"))


def test_over_the_size_limit_is_refused(world, prov, rec):
    limit = archive_rules().max_bytes
    assert limit == 20 * 2**20
    big = PDF + b"0" * (limit + 1 - len(PDF))
    before = state()
    body = assert_error(upload(prov, rec.pk, "大文件.pdf", big), 400, "file")
    assert "大文件.pdf" in body["message"] and "20 MB" in body["message"]
    assert state() == before


def test_empty_file_is_refused_and_missing_file_is_422(world, prov, rec):
    assert "空" in assert_error(upload(prov, rec.pk, "empty.pdf", b""), 400, "file")["message"]
    resp = prov.post(f"{BASE}/archive/records/{rec.pk}/attachments", {})
    # api.py strips the "body"/"query"/"path" location from a field name but not ninja's "file" one (reported).
    assert assert_error(resp, 422)["field"] in ("file", "file.file")
    assert not Attachment.objects.exists()


def test_path_in_the_file_name_is_dropped(world, prov, rec):
    out = upload(prov, rec.pk, "..\\..\\etc\\扫描.pdf", PDF).json()
    assert out["original_name"] == "扫描.pdf"


def test_damaged_file_is_not_served(world, prov, rec):
    att = services.attachment_add(actor=system_actor("command"), record=rec, name="a.pdf", data=PDF + b"damaged-test")
    (root() / att.path).write_bytes(PDF + b"tampered-test")
    body = assert_error(prov.get(f"{BASE}/archive/attachments/{att.pk}"), 400, "file")
    assert "损坏" in body["message"]
    assert not AccessLog.objects.exists()


def test_download_of_unknown_attachment_is_404(world, prov):
    assert assert_error(prov.get(f"{BASE}/archive/attachments/999999"), 404)["message"] == NOT_FOUND


# --- access log -------------------------------------------------------------------------------------------------


def test_worker_sees_who_opened_and_downloaded_their_archive(world, api, rec):
    att = services.attachment_add(actor=system_actor("command"), record=rec, name="证件.pdf", data=PDF)
    community = api(world.users["community"])
    assert community.get(f"{BASE}/workers/{world.w1.pk}/archive").status_code == 200
    assert community.get(f"{BASE}/archive/attachments/{att.pk}").status_code == 200
    assert community.post(f"{BASE}/workers/{world.w1.pk}/reveal", data=json.dumps({"field": "phone"}),
                          content_type="application/json").status_code == 200
    call(api(world.users["province"]), "get", f"/workers/{world.w2.pk}/archive")   # someone else's archive

    me = api(world.users["worker"])
    resp = call(me, "get", f"/workers/{world.w1.pk}/archive/access-log")
    assert resp.status_code == 200, resp.content.decode()
    body = resp.json()
    assert body["count"] == 3
    items = body["items"]
    assert set(items[0]) == {"id", "user", "action", "action_name", "label", "at", "ip", "worker_id", "worker_name",
                             "community_code"}
    assert [i["action"] for i in items] == ["reveal_phone", "attachment_download", "archive_open"]   # newest first
    assert {i["user"] for i in items} == {str(world.users["community"])}
    assert items[1]["action_name"] == "下载档案附件" and "证件.pdf" in items[1]["label"]
    assert items[2]["label"] == "张三的档案"
    assert {(i["ip"], i["worker_id"], i["worker_name"], i["community_code"]) for i in items} == {
        ("127.0.0.1", world.w1.pk, "张三", "220102001001")}
    # Reading the log is not itself logged; the worker's own view of their log adds nothing.
    assert call(me, "get", f"/workers/{world.w1.pk}/archive/access-log").json()["count"] == 3
    # A colleague's log is outside the worker's scope.
    assert assert_error(call(me, "get", f"/workers/{world.w2.pk}/archive/access-log"), 404)["message"] == NOT_FOUND


def test_audit_log_filters(world, prov, api, rec):
    att = services.attachment_add(actor=system_actor("command"), record=rec, name="a.pdf", data=PDF)
    street = api(world.users["street"])
    for w in (world.w1, world.w2):
        assert call(street, "get", f"/workers/{w.pk}/archive").status_code == 200
    assert street.get(f"{BASE}/archive/attachments/{att.pk}").status_code == 200
    assert call(prov, "get", f"/workers/{world.w3.pk}/archive").status_code == 200
    assert call(prov, "get", f"/workers/{world.w_other.pk}/archive").status_code == 200

    def rows(client, params=None):
        resp = call(client, "get", "/archive/access-log", params)
        assert resp.status_code == 200, resp.content.decode()
        body = resp.json()
        assert body["count"] == len(body["items"])
        return [(i["worker_name"], i["action"]) for i in body["items"]]

    assert len(rows(prov)) == 5
    assert rows(prov, {"action": "attachment_download"}) == [("张三", "attachment_download")]
    assert sorted(rows(prov, {"scope": "220102001"})) == sorted(
        [("张三", "archive_open"), ("李四", "archive_open"), ("张三", "attachment_download")])
    assert rows(prov, {"scope": "220102001002"}) == [("李四", "archive_open")]
    assert rows(prov, {"scope": "220202001001"}) == [("赵六", "archive_open")]
    assert len(rows(street)) == 3
    assert assert_error(call(street, "get", "/archive/access-log", {"scope": "220102002"}), 404)["message"] == NOT_FOUND
    assert "archive_open" in assert_error(call(prov, "get", "/archive/access-log", {"action": "peek"}), 400,
                                          "action")["message"]


# --- corrections -----------------------------------------------------------------------------------------------


CORRECTION_KEYS = {"id", "worker_id", "worker_name", "record_id", "record_title", "text", "status", "status_name",
                   "decision_reason", "requested_by", "requested_at", "decided_by", "decided_at"}


def test_correction_requested_by_the_worker_decided_by_the_community_admin(world, api, rec):
    me = api(world.users["worker"])
    admin = api(world.users["community"])
    url = f"/workers/{world.w1.pk}/archive/corrections"
    resp = call(me, "post", url, {"text": " 身份证复印件是旧证,请换新证 ", "record_id": rec.pk})
    assert resp.status_code == 201, resp.content.decode()
    out = resp.json()
    assert set(out) == CORRECTION_KEYS
    assert (out["worker_id"], out["worker_name"], out["record_id"], out["record_title"]) == (
        world.w1.pk, "张三", rec.pk, "居民身份证复印件")
    assert (out["text"], out["status"], out["status_name"], out["decision_reason"]) == (
        "身份证复印件是旧证,请换新证", "pending", "待处理", "")
    assert (out["requested_by"], out["decided_by"], out["decided_at"]) == (str(world.users["worker"]), None, None)

    assert call(me, "get", url).json() == {"items": [out], "count": 1}
    assert call(admin, "get", "/archive/corrections", {"status": "pending"}).json()["items"] == [out]
    assert call(admin, "get", "/archive/corrections", {"status": "accepted"}).json()["count"] == 0
    assert_error(call(admin, "get", "/archive/corrections", {"status": "maybe"}), 400, "status")

    decide = f"/archive/corrections/{out['id']}/decide"
    assert "意见" in assert_error(call(admin, "post", decide, {"accept": True}), 400, "reason")["message"]
    assert_error(call(admin, "post", decide, {"reason": "缺 accept"}), 422, "accept")
    assert_error(call(me, "post", decide, {"accept": True, "reason": "我自己同意"}), 403)
    resp = call(admin, "post", decide, {"accept": True, "reason": "已核对新证,予以更换"})
    assert resp.status_code == 200, resp.content.decode()
    done = resp.json()
    assert (done["status"], done["status_name"], done["decision_reason"], done["decided_by"]) == (
        "accepted", "已采纳", "已核对新证,予以更换", str(world.users["community"]))
    assert done["decided_at"]
    assert call(me, "get", url, {"status": "accepted"}).json()["items"] == [done]     # the worker sees the reason
    again = call(admin, "post", decide, {"accept": False, "reason": "改主意"})
    assert "已采纳" in assert_error(again, 400, "request")["message"]
    row = CorrectionRequest.objects.get(pk=out["id"])
    assert row.history.order_by("-history_id").first().history_user_id == world.users["community"].pk


def test_correction_rejected_with_reason(world, api):
    me = api(world.users["worker"])
    out = call(me, "post", f"/workers/{world.w1.pk}/archive/corrections", {"text": "学历应为硕士"}).json()
    resp = call(api(world.users["street"]), "post", f"/archive/corrections/{out['id']}/decide",
                {"accept": False, "reason": "未提供学历证书"})
    assert resp.status_code == 200
    assert (resp.json()["status"], resp.json()["decision_reason"]) == ("rejected", "未提供学历证书")


def test_correction_only_by_the_worker_themself(world, api, prov, rec):
    url = f"/workers/{world.w1.pk}/archive/corrections"
    # a refusal, not a bad value: 403 with the words of the page (tests/archives/test_archive_web.py::test_correction_flow)
    body = assert_error(call(prov, "post", url, {"text": "替他申请"}), 403)
    assert body["message"] == services.NOT_SELF
    me = api(world.users["worker"])
    assert_error(call(me, "post", url, {"text": "  "}), 400, "text")
    other = document(world.w2, "李四的材料")
    assert assert_error(call(me, "post", url, {"text": "x", "record_id": other.pk}), 404)["message"] == NOT_FOUND
    assert assert_error(call(me, "post", url, {"text": "x", "record_id": 999999}), 404)["message"] == NOT_FOUND
    # The province admin sees w2's record, but it is not part of w1's archive.
    assert not CorrectionRequest.objects.exists()


# --- the scope of the lists ------------------------------------------------------------------------------------
# Every archive operation x role x inside/outside (404 outside, 403 view-only, nothing changed when refused) is
# in tests/access/test_route_matrix.py, generated from the OpenAPI schema. Here: the lists that span the scope.


@dataclass
class Target:
    worker: Worker
    record: ArchiveRecord
    attachment: Attachment
    correction: CorrectionRequest


@pytest.fixture
def targets(world) -> dict[str, Target]:
    far = division_create(actor=system_actor("command"), code="210102001001", name="辽宁测试社区", households=1200,
                          parent_names={"21": "辽宁省", "2101": "沈阳市", "210102": "和平区", "210102001": "测试街道"})
    workers = {"w1": world.w1, "w_peer": factories.WorkerFactory(name="钱七", community=world.c1), "w2": world.w2,
               "w3": world.w3, "w_other": world.w_other,
               "w_far": factories.WorkerFactory(name="孙八", community=far, id_number=factories.id_number("210102"))}
    out = {}
    for key, w in workers.items():
        record = document(w, f"{w.name}的身份证", required_item="id_card")
        attachment = services.attachment_add(actor=system_actor("command"), record=record, name=f"{w.name}.pdf", data=PDF + key.encode())
        # Test data: a pending request as the worker would have filed it (no user per worker here).
        correction = CorrectionRequest.objects.create(worker=w, record=record, text="请核对出生日期")
        out[key] = Target(w, record, attachment, correction)
    return out


# Lists that span the scope: exactly the rows of workers the role may see (corrections) or change (audit).
CORRECTION_SCOPE = {
    "province": {"w1", "w_peer", "w2", "w3", "w_other"}, "city": {"w1", "w_peer", "w2", "w3"},
    "street": {"w1", "w_peer", "w2"}, "community": {"w1", "w_peer"}, "training": {"w1", "w_peer", "w2", "w3"},
    "worker": {"w1"}, "nobody": set(),
}
AUDIT_SCOPE = {**CORRECTION_SCOPE, "training": set(), "worker": set()}


@pytest.mark.parametrize("role_name", list(CORRECTION_SCOPE))
def test_corrections_list_is_exactly_the_scope(world, targets, api, role_name):
    resp = call(api(world.users[role_name]), "get", "/archive/corrections", {"limit": 500})
    assert resp.status_code == 200
    got = {i["id"] for i in resp.json()["items"]}
    assert got == {targets[k].correction.pk for k in CORRECTION_SCOPE[role_name]}


@pytest.mark.parametrize("role_name", list(CORRECTION_SCOPE))
def test_audit_log_is_exactly_the_change_scope(world, targets, api, role_name):
    superuser = User.objects.create_superuser("root", password="Test-pass-2021")
    root_client = api(superuser)
    for t in targets.values():
        assert root_client.get(f"{BASE}/archive/attachments/{t.attachment.pk}").status_code == 200
    resp = call(api(world.users[role_name]), "get", "/archive/access-log", {"limit": 500})
    assert resp.status_code == 200
    got = {i["worker_id"] for i in resp.json()["items"]}
    assert got == {targets[k].worker.pk for k in AUDIT_SCOPE[role_name]}
    assert resp.json()["count"] == len(AUDIT_SCOPE[role_name])


def test_access_log_query_count_does_not_grow_with_rows(world, prov):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            resp = call(prov, "get", f"/workers/{world.w1.pk}/archive/access-log?limit=100")
        assert resp.status_code == 200
        return len(ctx.captured_queries)

    queries()  # the first request also stamps the token's last use
    for _ in range(3):
        services.archive_open(actor=world.users["community"], worker=world.w1)
    few = queries()
    for _ in range(20):
        services.archive_open(actor=world.users["street"], worker=world.w1)
    assert queries() == few
