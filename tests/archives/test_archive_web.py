"""The archive pages (人事档案, 8.1.2) through the test client, on the real database: scope per role (404
out of scope, 403 for a viewer's writes), every kind of record through the form, scans (the type read
from the content), voiding, transfer, the read-only archive of a worker who has left, the access log,
corrections, the completeness roll-up and the query count of the archive page.

The fixture world (tests/conftest.py): c1, c2 under street 220102001, c3 under street 220102002, all in
长春 (2201); `other` in 吉林市. One worker per community: w1 (c1, the `worker` user), w2, w3, w_other.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from shegong.access import system_actor
from shegong.archives import services
from shegong.archives.models import ArchiveRecord, Attachment, CorrectionRequest, Transfer, attachment_path
from shegong.archives.rules import archive_rules
from shegong.common.models import AccessLog
from shegong.people.models import Worker
from shegong.people.services import worker_update
from shegong.staffing.services import appointment_end
from tests import factories
from tests.files import EXE, PDF, png

ROLES = ["province", "city", "street", "community", "training", "worker", "nobody"]
WORKERS = ["w1", "w2", "w3", "w_other"]
CHANGCHUN = {"w1", "w2", "w3"}
VIEW = {"province": set(WORKERS), "city": CHANGCHUN, "street": {"w1", "w2"}, "community": {"w1"},
        "training": CHANGCHUN, "worker": {"w1"}, "nobody": set()}
MATRIX = [(role, target) for role in ROLES for target in WORKERS]


@pytest.fixture(autouse=True)
def upload_root(settings, tmp_path):
    """Each test stores its scans in its own directory (the session's UPLOAD_ROOT stays untouched)."""
    settings.UPLOAD_ROOT = str(tmp_path / "uploads")


def client_for(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def text_of(resp) -> str:
    return html.unescape(resp.content.decode())


def field_block(body: str, field: str) -> str:
    """The HTML of one form field as rendered by shegong/_field.html."""
    start = body.index(f'<label for="id_{field}"')
    start = body.rindex('<div class="field', 0, start)
    end = body.find('<div class="field', start + 1)
    return body[start:end if end != -1 else len(body)]


def record(worker: Worker, title: str = "测试材料", archive_class: int = 10, scan: bytes | None = None,
           **fields) -> ArchiveRecord:
    r = services.record_create(actor=system_actor("command"), worker=worker, title=title, archive_class=archive_class, **fields)
    if scan is not None:
        services.attachment_add(actor=system_actor("command"), record=r, name=f"{title}.png", data=scan)
    return r


def complete_archive(worker: Worker) -> None:
    for i, item in enumerate(archive_rules().required):
        record(worker, item.name, item.archive_class, scan=png(2 + i, 2), required_item=item.code)


def url(name: str, *args) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


# ---- scope --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "target"), MATRIX)
def test_archive_and_access_log_pages_by_scope(world, role, target):
    client = client_for(world, role)
    worker = getattr(world, target)
    expected = 200 if target in VIEW[role] else 404
    resp = client.get(url("archives:archive_detail", worker.pk))
    assert resp.status_code == expected
    assert client.get(url("archives:archive_access_log", worker.pk)).status_code == expected
    if expected == 404:
        assert worker.name not in resp.content.decode()
        assert not AccessLog.objects.filter(worker=worker).exists()  # nothing opened, nothing logged
    else:
        assert AccessLog.objects.filter(worker=worker, user=world.users[role],
                                        action=AccessLog.Action.ARCHIVE_OPEN).count() == 1


def test_anonymous_is_sent_to_login(world):
    resp = Client().get(url("archives:archive_detail", world.w1.pk))
    assert resp.status_code == 302 and resp["Location"].startswith("/login/")


def test_community_admin_manages_training_admin_reads(world):
    r = record(world.w1, "居民身份证复印件", required_item="id_card")
    body = text_of(client_for(world, "community").get(url("archives:archive_detail", world.w1.pk)))
    assert "增加材料" in body and url("archives:archive_record_upload", r.pk) in body and url("archives:archive_record_void", r.pk) in body
    assert "申请更正" not in body  # only the worker themself asks for corrections
    body = text_of(client_for(world, "training").get(url("archives:archive_detail", world.w1.pk)))
    assert "居民身份证复印件" in body and "目录 PDF" in body and "信息表 PDF" in body
    assert "增加材料" not in body and url("archives:archive_record_upload", r.pk) not in body
    assert url("archives:archive_record_void", r.pk) not in body and "转递档案" not in body


@pytest.mark.parametrize("role", ["training", "worker"])
def test_viewers_get_403_on_every_write(world, role):
    client = client_for(world, role)
    r = record(world.w1)
    w = world.w1.pk
    posts = [
        (url("archives:archive_record_new", w) + "?kind=document", {"archive_class": "10", "title": "不该存在"}),
        (url("archives:archive_record_upload", r.pk), {"scan": SimpleUploadedFile("a.png", png())}),
        (url("archives:archive_record_void", r.pk), {"reason": "不该作废"}),
        (url("archives:archive_transfer", w), {"to_community": world.c2.code, "date": "2024-01-01", "reason": "调动"}),
    ]
    for target, data in posts:
        assert client.post(target, data).status_code == 403, target
    assert client.get(url("archives:archive_record_new", w)).status_code == 403
    assert client.get(url("archives:archive_transfer", w)).status_code == 403
    assert ArchiveRecord.objects.filter(worker=world.w1).count() == 1
    assert not Attachment.objects.exists()
    r.refresh_from_db()
    assert not r.is_voided and world.w1.community_id == Worker.objects.get(pk=w).community_id


@pytest.mark.parametrize("role", ["street", "community", "nobody"])
def test_writes_out_of_scope_are_404(world, role):
    client = client_for(world, role)
    r = record(world.w3)  # c3: outside street 220102001 and c1
    a = services.attachment_add(actor=system_actor("command"), record=r, name="a.png", data=png())
    for target in (url("archives:archive_record_new", world.w3.pk), url("archives:archive_record", r.pk),
                   url("archives:archive_attachment", a.pk), url("archives:archive_transfer", world.w3.pk),
                   url("archives:archive_access_log", world.w3.pk)):
        assert client.get(target).status_code == 404, target
    assert client.post(url("archives:archive_record_upload", r.pk), {"scan": SimpleUploadedFile("a.png", png())}).status_code == 404
    assert client.post(url("archives:archive_record_void", r.pk), {"reason": "x"}).status_code == 404
    assert not AccessLog.objects.filter(worker=world.w3).exists()


# ---- the archive page ---------------------------------------------------------------------------------


def test_new_archive_shows_every_missing_item_in_red(world):
    resp = client_for(world, "community").get(url("archives:archive_detail", world.w1.pk))
    body = text_of(resp)
    assert len(resp.context["missing"]) == len(archive_rules().required) == 6
    panel = body[body.index('id="completeness"'):body.index('id="warnings"')]
    for item in archive_rules().required:
        assert f'<strong style="color:var(--accent)">{item.name}</strong>' in panel
    assert panel.count('class="tag red"') == 6 and "0%" in body
    # Every class of the catalogue is there, empty ones too.
    for number, name in archive_rules().classes.items():
        assert f"{'一二三四五六七八九十'[number - 1]}、{name}" in body


def test_catalogue_lists_records_appointments_and_scans(world):
    r = record(world.w1, "居民身份证复印件", 10, scan=png(), required_item="id_card", issuer="长春市公安局",
               date="2020-05-01")
    record(world.w1, "最高学历证书", 4, required_item="highest_diploma")  # registered, scan missing
    factories.appoint(world.w1, "普通社工")
    resp = client_for(world, "community").get(url("archives:archive_detail", world.w1.pk))
    body = text_of(resp)
    assert "居民身份证复印件" in body and "长春市公安局" in body and "2020-05-01" in body
    a = r.attachments.get()
    assert url("archives:archive_attachment", a.pk) in body and f"{a.original_name}" in body
    assert "任东风社区普通社工" in body  # class 9 from the appointment
    assert resp.context["rate"] == 17  # 1 of 6
    items = {item.code: (held, unscanned) for item, held, unscanned in resp.context["items"]}
    assert items["id_card"][0] == r
    assert items["highest_diploma"][0] is None and items["highest_diploma"][1].title == "最高学历证书"
    assert "缺扫描件" in body


def test_qualification_due_and_sanction_in_force_are_warned(world):
    today = timezone.localdate()
    services.record_create(actor=system_actor("command"), worker=world.w1, kind="qualification",
                           details={"level": "社会工作师", "certificate_no": "Z2019001",
                                    "obtained_on": today.replace(year=today.year - 4) - dt.timedelta(days=30),
                                    "registered_on": today.replace(year=today.year - 3) + dt.timedelta(days=20),
                                    "hours_done": 30})
    services.record_create(actor=system_actor("command"), worker=world.w1, kind="sanction",
                           details={"sanction_type": "警告", "start_date": today - dt.timedelta(days=10)})
    body = text_of(client_for(world, "community").get(url("archives:archive_detail", world.w1.pk)))
    assert "登记将于" in body and "还需继续教育 60 学时" in body
    assert "处分期内" in body
    index = text_of(client_for(world, "city").get(url("archives:archive_index")))
    assert "Z2019001" in index and "张三" in index


# ---- adding records through the form ------------------------------------------------------------------


KINDS = {
    "document": ({"archive_class": "2", "title": "个人自传", "date": "2019-06-01", "issuer": "本人"}, None),
    "education": ({"school": "东北师范大学", "major": "社会工作", "level": "21", "degree": "学士", "full_time": "on",
                   "start_date": "2004-09-01", "end_date": "2008-07-01", "required_item": "highest_diploma"},
                  {"school": "东北师范大学", "level": "21", "full_time": True}),
    "work": ({"organisation": "长春市南关区东风社区", "position": "网格员", "start_date": "2015-03-01"},
             {"organisation": "长春市南关区东风社区", "end_date": None}),
    "qualification": ({"level": "助理社会工作师", "certificate_no": "A2020-0001", "obtained_on": "2020-06-20",
                       "registered_on": "2020-09-01", "hours_done": "24"},
                      {"level": "助理社会工作师", "hours_done": 24}),
    "reward": ({"name": "优秀社区工作者", "level": "市级", "issuer": "长春市民政局", "date": "2022-12-01"},
               {"name": "优秀社区工作者", "level": "市级"}),
    "sanction": ({"sanction_type": "警告", "start_date": "2023-03-01"},
                 {"sanction_type": "警告", "end_date": dt.date(2023, 8, 31)}),
}
CLASS_OF = {"document": 2, "education": 4, "work": 1, "qualification": 4, "reward": 7, "sanction": 8}


@pytest.mark.parametrize("kind", list(KINDS))
def test_add_every_kind_of_record_through_the_form(world, kind):
    client = client_for(world, "community")
    form_url = url("archives:archive_record_new", world.w1.pk) + f"?kind={kind}"
    page = client.get(form_url)
    assert page.status_code == 200 and type(page.context["form"]).kind == kind
    data, details = KINDS[kind]
    resp = client.post(form_url, data)
    assert resp.status_code == 302, resp.context["form"].errors if resp.context else resp
    r = ArchiveRecord.objects.get(worker=world.w1)
    assert resp["Location"] == url("archives:archive_detail", world.w1.pk) + f"#r{r.pk}"
    assert r.kind == kind and r.archive_class == CLASS_OF[kind] and r.created_by == world.users["community"]
    if details:
        detail = getattr(r, kind)
        for name, value in details.items():
            assert getattr(detail, name) == value, name
        assert r.date is not None  # the catalogue date comes from the details
    body = text_of(client.get(url("archives:archive_detail", world.w1.pk)))
    assert f'id="r{r.pk}"' in body and r.title in body


def test_record_with_a_scan_in_one_step_and_prefilled_required_item(world):
    client = client_for(world, "community")
    form_url = url("archives:archive_record_new", world.w1.pk) + "?required_item=id_card"
    page = client.get(form_url)
    assert page.context["form"].initial == {"required_item": "id_card", "archive_class": "10", "title": "居民身份证复印件"}
    resp = client.post(form_url, {"archive_class": "10", "title": "居民身份证复印件", "required_item": "id_card",
                                  "scan": SimpleUploadedFile("身份证.png", png(), content_type="image/png")})
    assert resp.status_code == 302
    r = ArchiveRecord.objects.get(worker=world.w1)
    assert r.attachments.get().original_name == "身份证.png"
    assert client.get(url("archives:archive_detail", world.w1.pk)).context["rate"] == 17


def test_record_form_shows_the_service_errors_next_to_the_field(world):
    client = client_for(world, "community")
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    resp = client.post(url("archives:archive_record_new", world.w1.pk) + "?kind=document",
                       {"archive_class": "10", "title": "未来的材料", "date": future})
    assert resp.status_code == 200
    assert "晚于今天" in field_block(text_of(resp), "date")
    resp = client.post(url("archives:archive_record_new", world.w1.pk) + "?kind=education",
                       {"school": "某大学", "level": "21", "start_date": "2010-09-01", "end_date": "2008-07-01"})
    assert "早于入学日期" in field_block(text_of(resp), "end_date")
    resp = client.post(url("archives:archive_record_new", world.w1.pk) + "?kind=document", {"archive_class": "", "title": ""})
    assert resp.status_code == 200 and field_block(text_of(resp), "title").count('class="error"') == 1
    assert not ArchiveRecord.objects.exists()


def test_a_record_with_a_bad_scan_is_not_saved(world):
    resp = client_for(world, "community").post(
        url("archives:archive_record_new", world.w1.pk) + "?kind=document",
        {"archive_class": "10", "title": "近期免冠照片", "scan": SimpleUploadedFile("photo.jpg", EXE)})
    assert resp.status_code == 200
    assert "Windows 可执行程序" in field_block(text_of(resp), "scan")
    assert not ArchiveRecord.objects.exists() and not Attachment.objects.exists()


# ---- scans --------------------------------------------------------------------------------------------


def test_upload_of_a_renamed_executable_shows_the_chinese_error_and_stores_nothing(world):
    r = record(world.w1, "居民身份证复印件", required_item="id_card")
    files_before = sorted(Path(settings.UPLOAD_ROOT).rglob("*"))
    resp = client_for(world, "community").post(url("archives:archive_record_upload", r.pk),
                                               {"scan": SimpleUploadedFile("身份证扫描.pdf", EXE,
                                                                           content_type="application/pdf")})
    assert resp.status_code == 200
    block = field_block(text_of(resp), "scan")
    assert "文件“身份证扫描.pdf”的内容是Windows 可执行程序,不是 PDF、JPEG 或 PNG 扫描件" in block
    assert not Attachment.objects.exists()
    assert sorted(Path(settings.UPLOAD_ROOT).rglob("*")) == files_before


def test_upload_and_download_a_scan(world):
    r = record(world.w1, "劳动合同", 9, required_item="labour_contract")
    client = client_for(world, "community")
    resp = client.post(url("archives:archive_record_upload", r.pk),
                       {"scan": SimpleUploadedFile("劳动合同.pdf", PDF, content_type="application/octet-stream")})
    assert resp.status_code == 302
    a = Attachment.objects.get()
    assert (a.content_type, a.size, a.original_name, a.uploaded_by) == ("application/pdf", len(PDF), "劳动合同.pdf",
                                                                         world.users["community"])
    assert (Path(settings.UPLOAD_ROOT) / attachment_path(a.sha256)).read_bytes() == PDF
    body = text_of(client.get(url("archives:archive_detail", world.w1.pk)))
    assert "劳动合同.pdf" in body and url("archives:archive_attachment", a.pk) in body
    download = client.get(url("archives:archive_attachment", a.pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;") and "%E5%8A%B3%E5%8A%A8" in download["Content-Disposition"]
    log = AccessLog.objects.get(action=AccessLog.Action.ATTACHMENT_DOWNLOAD)
    assert (log.user, log.worker, log.object_id) == (world.users["community"], world.w1, str(a.pk))
    # The worker downloads their own scan; a community admin elsewhere cannot.
    assert client_for(world, "worker").get(url("archives:archive_attachment", a.pk)).status_code == 200
    other = factories.user("c2admin", "community_admin", world.c2.code)
    c = Client()
    c.force_login(other)
    assert c.get(url("archives:archive_attachment", a.pk)).status_code == 404


def test_a_damaged_scan_is_refused_with_a_message(world):
    r = record(world.w1, "劳动合同", 9, scan=png())
    a = r.attachments.get()
    (Path(settings.UPLOAD_ROOT) / attachment_path(a.sha256)).write_bytes(b"\x89PNG\r\n\x1a\ndamaged")
    client = client_for(world, "community")
    resp = client.get(url("archives:archive_attachment", a.pk), follow=True)
    assert "文件缺失或已损坏" in text_of(resp)
    assert not AccessLog.objects.filter(action=AccessLog.Action.ATTACHMENT_DOWNLOAD).exists()


# ---- void ---------------------------------------------------------------------------------------------


def test_void_needs_a_reason_and_keeps_the_record(world):
    r = record(world.w1, "错误的登记表", 1)
    keep = record(world.w1, "社区工作者登记表", 1)
    client = client_for(world, "community")
    resp = client.post(url("archives:archive_record_void", r.pk), {"reason": "  "})
    assert resp.status_code == 200
    assert "作废原因不能为空" in field_block(text_of(resp), "reason")
    r.refresh_from_db()
    assert not r.is_voided
    resp = client.post(url("archives:archive_record_void", r.pk), {"reason": "姓名录错,已重新登记"})
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.is_voided and r.voided_by == world.users["community"]
    page = client.get(url("archives:archive_detail", world.w1.pk))
    body = text_of(page)
    assert "<del>错误的登记表</del>" in body and "已作废:姓名录错,已重新登记" in body
    entries = {e.title: e for _, _, es in page.context["groups"] for e in es}
    assert entries["社区工作者登记表"].number == 1 and entries["错误的登记表"].voided
    assert url("archives:archive_record_void", r.pk) not in body and url("archives:archive_record_void", keep.pk) in body
    # Voided once: the record page offers no more upload or void.
    record_page = text_of(client.get(url("archives:archive_record", r.pk)))
    assert "已作废" in record_page and url("archives:archive_record_upload", r.pk) not in record_page


# ---- transfer -----------------------------------------------------------------------------------------


def test_transfer_moves_the_archive_and_its_access(world):
    record(world.w1, "居民身份证复印件", scan=png(), required_item="id_card")
    community = client_for(world, "community")
    assert "转递档案" not in text_of(community.get(url("archives:archive_detail", world.w1.pk)))  # no other community
    city = client_for(world, "city")
    form = city.get(url("archives:archive_transfer", world.w1.pk))
    # The target is chosen with the division cascader (市 → 区县 → 街道 → 社区), from the city admin's scope.
    levels = form.context["cascade"].levels
    assert levels and world.c1.code[:6] in levels[0].options and world.other.code[:4] not in levels[0].options
    cascade = [world.c3.code[:6], world.c3.code[:9], world.c3.code]  # every select of the cascade posts a value
    resp = city.post(url("archives:archive_transfer", world.w1.pk), {"to_community": cascade, "date": "2024-03-01",
                                                           "reason": ""})
    assert "转递原因不能为空" in field_block(text_of(resp), "reason")
    resp = city.post(url("archives:archive_transfer", world.w1.pk), {"to_community": cascade[:2], "date": "2024-03-01",
                                                           "reason": "工作调动"})  # a street, not a community
    assert resp.status_code == 200 and "不是社区" in text_of(resp)
    resp = city.post(url("archives:archive_transfer", world.w1.pk), {"to_community": cascade, "date": "2024-03-01",
                                                           "reason": "工作调动"})
    assert resp.status_code == 302
    assert Worker.objects.get(pk=world.w1.pk).community == world.c3
    t = Transfer.objects.get()
    assert (t.from_community, t.to_community, t.date, t.by) == (world.c1, world.c3, dt.date(2024, 3, 1),
                                                                 world.users["city"])
    assert community.get(url("archives:archive_detail", world.w1.pk)).status_code == 404
    att = Attachment.objects.get()
    assert community.get(url("archives:archive_attachment", att.pk)).status_code == 404
    new_street = Client()
    new_street.force_login(factories.user("jd2", "street_admin", "220102002"))
    page = new_street.get(url("archives:archive_detail", world.w1.pk))
    assert page.status_code == 200
    assert "档案转递:东风社区 → 春光社区" in text_of(page)
    transfer_entries = [e for _, _, es in page.context["groups"] for e in es if e.source == "transfer"]
    assert [(e.archive_class, e.date) for e in transfer_entries] == [(10, dt.date(2024, 3, 1))]


def test_transfer_refused_while_the_worker_holds_a_post(world):
    factories.appoint(world.w1, "普通社工")
    resp = client_for(world, "city").post(url("archives:archive_transfer", world.w1.pk),
                                          {"to_community": world.c3.code, "date": "2024-03-01", "reason": "调动"})
    assert resp.status_code == 200
    assert "请先办理离任" in text_of(resp)
    assert Worker.objects.get(pk=world.w1.pk).community == world.c1


# ---- a worker who has left ----------------------------------------------------------------------------


def test_archive_of_a_worker_who_left_is_read_only(world):
    r = record(world.w1, "社区工作者登记表", 1)
    worker_update(actor=system_actor("command"), worker=world.w1, status="辞职")
    client = client_for(world, "community")
    body = text_of(client.get(url("archives:archive_detail", world.w1.pk)))
    assert "只读" in body and "社区工作者登记表" in body
    assert "增加材料" not in body and url("archives:archive_record_void", r.pk) not in body
    assert client.post(url("archives:archive_record_new", world.w1.pk) + "?kind=document",
                       {"archive_class": "10", "title": "新材料"}).status_code == 403
    assert client.post(url("archives:archive_record_upload", r.pk), {"scan": SimpleUploadedFile("a.png", png())}).status_code == 403
    assert client.post(url("archives:archive_record_void", r.pk), {"reason": "x"}).status_code == 403
    assert client.get(url("archives:archive_transfer", world.w1.pk)).status_code == 403
    assert ArchiveRecord.objects.count() == 1 and not Attachment.objects.exists()


# ---- access log ---------------------------------------------------------------------------------------


def test_worker_sees_who_opened_revealed_downloaded_and_printed(world):
    r = record(world.w1, "居民身份证复印件", scan=png(), required_item="id_card")
    admin = client_for(world, "community")
    admin.get(url("archives:archive_detail", world.w1.pk))
    assert admin.post(url("people:worker_reveal", world.w1.pk, "id_number")).status_code == 200
    assert admin.get(url("archives:archive_attachment", r.attachments.get().pk)).status_code == 200
    services.archive_print(actor=world.users["street"], worker=world.w1, document="档案目录", ip="10.0.0.9")
    me = client_for(world, "worker")
    resp = me.get(url("archives:archive_access_log", world.w1.pk))
    rows = resp.context["rows"]
    assert [row.action for row in rows] == ["archive_print", "attachment_download", "reveal_id_number",
                                            "archive_open"]
    body = text_of(resp)
    for label in ("打开完整档案", "查看完整身份证号", "下载档案附件", "打印档案文书", "张三:档案目录", "10.0.0.9"):
        assert label in body
    assert body.count(str(world.users["community"])) >= 3
    # Another worker's access log is out of scope.
    assert me.get(url("archives:archive_access_log", world.w2.pk)).status_code == 404


def test_audit_lists_accesses_in_scope_with_a_filter(world):
    client_for(world, "community").get(url("archives:archive_detail", world.w1.pk))
    client_for(world, "city").get(url("archives:archive_detail", world.w3.pk))
    street = client_for(world, "street")
    resp = street.get(url("archives:archive_audit"))
    assert [(row.worker.name, row.action) for row in resp.context["page"].object_list] == [("张三", "archive_open")]
    assert street.get(url("archives:archive_audit") + "?action=attachment_download").context["page"].paginator.count == 0
    city = client_for(world, "city").get(url("archives:archive_audit") + "?action=archive_open")
    assert city.context["page"].paginator.count == 2
    assert client_for(world, "worker").get(url("archives:archive_audit"))["Location"] == url("archives:archive_access_log", world.w1.pk)
    assert client_for(world, "training").get(url("archives:archive_audit")).context["page"].paginator.count == 0


# ---- corrections --------------------------------------------------------------------------------------


def test_correction_flow(world):
    r = record(world.w1, "社区工作者登记表", 1)
    me = client_for(world, "worker")
    page = text_of(me.get(url("archives:archive_detail", world.w1.pk)))
    assert "申请更正" in page and url("archives:archive_correction_new", world.w1.pk) in page
    resp = me.post(url("archives:archive_correction_new", world.w1.pk), {"text": " ", "record": str(r.pk)})
    assert resp.status_code == 200 and "请写明需要更正的内容" in field_block(text_of(resp), "text")
    resp = me.post(url("archives:archive_correction_new", world.w1.pk), {"text": "登记表中的参加工作日期应为 2008-09-01",
                                                                "record": str(r.pk)})
    assert resp.status_code == 302
    req = CorrectionRequest.objects.get()
    assert (req.worker, req.record, req.status, req.requested_by) == (world.w1, r, "pending", world.users["worker"])
    # Only the worker themself asks; others get 403 (or 404 out of scope).
    refused = client_for(world, "community").post(url("archives:archive_correction_new", world.w1.pk),
                                                  {"text": "代为申请"})
    assert refused.status_code == 403
    assert services.NOT_SELF in refused.content.decode()  # the same words as the API's 403
    assert me.post(url("archives:archive_correction_new", world.w2.pk), {"text": "x"}).status_code == 404
    # The worker cannot decide; the training admin sees it but may not decide either.
    assert me.post(url("archives:archive_correction_decide", req.pk), {"decision": "accept", "reason": "x"}).status_code == 403
    assert client_for(world, "training").post(url("archives:archive_correction_decide", req.pk),
                                              {"decision": "accept", "reason": "x"}).status_code == 403
    elsewhere = Client()
    elsewhere.force_login(factories.user("jd2", "street_admin", "220102002"))
    assert elsewhere.get(url("archives:archive_correction_decide", req.pk)).status_code == 404
    admin = client_for(world, "community")
    body = text_of(admin.get(url("archives:archive_detail", world.w1.pk)))
    assert "登记表中的参加工作日期应为 2008-09-01" in body and url("archives:archive_correction_decide", req.pk) in body
    resp = admin.post(url("archives:archive_correction_decide", req.pk), {"decision": "accept", "reason": ""})
    assert resp.status_code == 200 and "请填写处理意见" in field_block(text_of(resp), "reason")
    resp = admin.post(url("archives:archive_correction_decide", req.pk),
                      {"decision": "accept", "reason": "已核对原始材料,予以更正",
                       "next": url("archives:archive_detail", world.w1.pk) + "#corrections"})
    # Accepted: back to the request, which now offers 按此更正 (carrying it out), not to the archive.
    assert resp.status_code == 302 and resp["Location"] == url("archives:archive_correction_decide", req.pk)
    assert "按此更正" in text_of(admin.get(resp["Location"]))
    req.refresh_from_db()
    assert (req.status, req.decided_by) == ("accepted", world.users["community"])
    body = text_of(me.get(url("archives:archive_detail", world.w1.pk)))
    assert "已采纳" in body and "已核对原始材料,予以更正" in body
    # The list, filtered by status.
    assert admin.get(url("archives:archive_corrections") + "?status=accepted").context["page"].paginator.count == 1
    assert admin.get(url("archives:archive_corrections") + "?status=pending").context["page"].paginator.count == 0
    assert me.get(url("archives:archive_corrections")).context["page"].paginator.count == 1
    assert client_for(world, "nobody").get(url("archives:archive_corrections")).context["page"].paginator.count == 0


# ---- completeness roll-up -----------------------------------------------------------------------------


def test_completeness_page_numbers(world):
    complete_archive(world.w1)
    record(world.w2, "居民身份证复印件", scan=png(), required_item="id_card")
    record(world.w2, "近期免冠照片", required_item="photo")  # no scan: not held
    city = client_for(world, "city")
    resp = city.get(url("archives:archive_index"))  # one grant (2201): its districts
    assert resp.context["parent"].code == "2201"
    [row] = resp.context["rows"]
    assert (row["division"].code, row["workers"], row["complete"]) == ("220102", 3, 1)
    assert (resp.context["total"], resp.context["complete"], resp.context["percent"]) == (3, 1, 33)
    resp = city.get(url("archives:archive_index") + "?parent=220102001")
    rows = {r["division"].code: r for r in resp.context["rows"]}
    assert (rows["220102001001"]["workers"], rows["220102001001"]["complete"], rows["220102001001"]["percent"]) == (1, 1, 100)
    assert (rows["220102001002"]["workers"], rows["220102001002"]["complete"]) == (1, 0)
    assert dict((i.code, n) for i, n in rows["220102001002"]["items"]) == {
        "id_card": 1, "photo": 0, "highest_diploma": 0, "appointment_document": 0, "labour_contract": 0,
        "resume_form": 0}
    resp = city.get(url("archives:archive_index") + "?parent=220102001002")
    [w] = resp.context["list"].objects
    assert w.worker_id == world.w2.pk and text_of(resp).count('class="tag red"') == 6  # 缺 5 项 and the five items
    assert "近期免冠照片" in text_of(resp) and "缺 5 项" in text_of(resp)
    # A community admin starts inside the one community; the province admin sees both cities.
    resp = client_for(world, "community").get(url("archives:archive_index"))
    assert resp.context["parent"] == world.c1 and [w.worker_id for w in resp.context["list"].objects] == [world.w1.pk]
    assert client_for(world, "province").get(url("archives:archive_index")).context["total"] == 4
    # Out of scope drill-down is 404; a worker is sent to their own archive.
    assert client_for(world, "street").get(url("archives:archive_index") + "?parent=220102002").status_code == 404
    assert client_for(world, "worker").get(url("archives:archive_index"))["Location"] == url("archives:archive_detail", world.w1.pk)


def test_completeness_export_is_the_scope_as_a_workbook(world, tmp_path):
    """/archives/export.xlsx: the rates sheet and one row per active worker with a column per required
    item; scoped like the page (404 outside, the worker gets none)."""
    complete_archive(world.w1)
    record(world.w2, "居民身份证复印件", scan=png(), required_item="id_card")
    resp = client_for(world, "street").get(url("archives:archive_export") + "?parent=220102001")
    assert resp.status_code == 200 and "档案完整情况_220102001_" in unquote(resp["Content-Disposition"])
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"".join(resp.streaming_content))
    wb = load_workbook(path)
    rates = [list(r) for r in wb["完整率"].iter_rows(values_only=True)]
    assert rates[0][:5] == ["区划代码", "名称", "在岗人员", "档案齐备", "完整率"]
    assert rates[1][:5] == ["220102001001", world.c1.name, 1, 1, "100.0%"]
    assert rates[2][:6] == ["220102001002", world.c2.name, 1, 0, "0.0%", 1]  # one holds the ID card copy
    assert rates[-1][2:5] == [2, 1, "50.0%"]
    sheet = [list(r) for r in wb["档案齐全情况"].iter_rows(values_only=True)]
    required = archive_rules().required
    assert sheet[0] == ["区划代码", "街道", "社区", "姓名", "齐备", "缺少项数", *[i.name for i in required], "缺少的必备材料"]
    assert [row[3] for row in sheet[1:]] == [world.w1.name, world.w2.name]
    assert sheet[1][4:6] == ["是", 0] and sheet[2][4:7] == ["否", 5, "有"]
    assert "近期免冠照片" in sheet[2][-1] and world.w3.name not in str(sheet)  # w3 is in another street
    formula = '=HYPERLINK("http://evil.example","点")'  # a name that looks like a formula stays text
    Worker.objects.filter(pk=world.w2.pk).update(name=formula)
    path.write_bytes(b"".join(client_for(world, "street").get(url("archives:archive_export") + "?parent=220102001")
                              .streaming_content))
    [cell] = [c for row in load_workbook(path)["档案齐全情况"].iter_rows() for c in row if c.value == formula]
    assert cell.data_type == "s"
    rules = [rule for cf in wb["档案齐全情况"].conditional_formatting for rule in cf.rules]
    assert sorted(rule.formula[0] for rule in rules) == ['"否"', '"缺"']  # shown in red
    assert client_for(world, "street").get(url("archives:archive_export") + "?parent=220102002").status_code == 404
    assert client_for(world, "worker").get(url("archives:archive_export")).status_code == 404
    assert 'href="/archives/export.xlsx?parent=220102001"' in text_of(
        client_for(world, "street").get(url("archives:archive_index") + "?parent=220102001"))


# ---- query count --------------------------------------------------------------------------------------


def count_queries(client: Client, target: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(target)
    assert resp.status_code == 200, (target, resp.status_code)
    return len(ctx.captured_queries), [q["sql"][:160] for q in ctx.captured_queries]


def grow_archive(world) -> None:
    """Many more records of every kind, scans, voided rows, appointments, transfers and requests."""
    w = world.w1
    for i in range(12):
        r = record(w, f"材料{i}", i % 10 + 1, scan=png(3 + i, 2) if i % 2 else None)
        if i % 3 == 0:
            services.attachment_add(actor=system_actor("command"), record=r, name=f"第二页{i}.pdf", data=PDF + str(i).encode())
        if i % 5 == 0:
            services.record_void(actor=system_actor("command"), record=r, reason="重复")
    for kind, (data, _) in KINDS.items():
        if kind == "document":
            continue
        form_data = {k: v for k, v in data.items() if k not in ("issuer", "date", "required_item")}
        if kind == "education":
            form_data["full_time"] = True
        services.record_create(actor=system_actor("command"), worker=w, kind=kind, details=form_data)
    a = factories.appoint(w, "网格长", start=dt.date(2019, 1, 1))
    appointment_end(actor=system_actor("command"), appointment=a, end_date=dt.date(2020, 12, 31), end_reason="换届")
    services.archive_transfer(actor=system_actor("command"), worker=w, to_community=world.c2, date=dt.date(2021, 1, 1), reason="调动")
    services.archive_transfer(actor=system_actor("command"), worker=Worker.objects.get(pk=w.pk), to_community=world.c1,
                              date=dt.date(2021, 6, 1), reason="调回")
    factories.appoint(w, "普通社工")
    for i in range(3):
        services.correction_request_create(actor=world.users["worker"], worker=w, text=f"更正{i}")


@pytest.mark.parametrize("role", ["city", "community", "training", "worker"])
def test_archive_page_query_count_does_not_grow_with_records(world, role):
    client = client_for(world, role)
    record(world.w1, "居民身份证复印件", scan=png(), required_item="id_card")
    target = url("archives:archive_detail", world.w1.pk)
    client.get(target)
    small, small_sql = count_queries(client, target)
    grow_archive(world)
    large, large_sql = count_queries(client, target)
    resp = client.get(target)
    assert sum(len(es) for _, _, es in resp.context["groups"]) > 20
    assert large == small, "\n".join(["small:", *small_sql, "large:", *large_sql])
    assert small <= 14, "\n".join(small_sql)


def test_record_page_lists_details_scans_and_history(world):
    r = services.record_create(actor=world.users["community"], worker=world.w1, kind="reward",
                               details={"name": "优秀社区工作者", "level": "市级"}, issuer="长春市民政局")
    services.attachment_add(actor=system_actor("command"), record=r, name="奖状.png", data=png())
    body = text_of(client_for(world, "training").get(url("archives:archive_record", r.pk)))
    assert "优秀社区工作者" in body and "市级" in body and "奖状.png" in body and "七、奖励" in body
    assert url("archives:archive_record_upload", r.pk) not in body  # read only for the training admin
    assert re.search(r"创建", body)


def test_archive_page_in_english(world):
    """The archive reads in English after the language switch, with singular and plural counts."""
    record(world.w1, "入党志愿书", 6)
    record(world.w1, "政审材料", 5)
    record(world.w1, "政审补充材料", 5)
    client = client_for(world, "community")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    try:
        body = text_of(client.get(url("archives:archive_detail", world.w1.pk)))
    finally:  # back to Chinese: the active language stays with the thread for the tests that follow
        client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
        translation.activate(settings.LANGUAGE_CODE)
    assert "Archive catalogue" in body and "Required items" in body and "Missing" in body
    assert "1 item<" in body and "2 items<" in body
    assert "档案目录" not in body
