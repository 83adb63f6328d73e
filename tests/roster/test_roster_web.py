"""Roster pages: upload → dry run → confirm; another user's job is not visible; exports are scoped,
masked by default, and a full export needs the reveal right and is logged."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shegong.common.crypto import decrypt
from shegong.common.models import AccessLog
from shegong.people.models import Worker
from shegong.roster.models import ImportJob
from tests import factories

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _client(world, role: str) -> Client:
    c = Client()
    c.force_login(world.users[role])
    return c


def _people_file(rows) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["姓名", "公民身份号码", "人员类别", "所在社区代码"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("名单.xlsx", buf.getvalue(), content_type=XLSX)


def _sheet(resp, name):
    data = b"".join(resp.streaming_content) if resp.streaming else resp.content
    return openpyxl.load_workbook(io.BytesIO(data))[name]


@pytest.mark.django_db
def test_upload_validate_then_commit(world):
    c = _client(world, "street")
    new_id = factories.id_number()
    resp = c.post("/roster/", {"file": _people_file([["新人", new_id, "专职", world.c2.code]])})
    job = ImportJob.objects.get()
    assert resp.status_code == 302 and resp.url == f"/roster/jobs/{job.pk}/"
    assert job.status == ImportJob.Status.VALIDATED and job.result["created"]["people"] == 1
    assert not Worker.objects.filter(name="新人").exists()
    page = c.get(resp.url).content.decode()
    assert "确认导入" in page
    c.post(f"/roster/jobs/{job.pk}/commit/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Worker.objects.get(name="新人").community == world.c2


@pytest.mark.django_db
def test_upload_outside_scope_is_rejected_with_marked_workbook(world):
    c = _client(world, "street")
    resp = c.post("/roster/", {"file": _people_file([["外人", factories.id_number(), "专职", world.c3.code]])})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    assert "不在您可管理的范围内" in c.get(resp.url).content.decode()
    marked = c.get(f"/roster/jobs/{job.pk}/errors.xlsx")
    assert marked.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(marked.content))["人员"]
    assert ws["D2"].fill.fgColor.rgb.endswith("FFC7CE") and "范围" in ws["D2"].comment.text
    assert c.post(f"/roster/jobs/{job.pk}/commit/").status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REJECTED  # a rejected file cannot be committed


@pytest.mark.django_db
def test_jobs_are_private_and_view_only_users_cannot_upload(world):
    street = _client(world, "street")
    street.post("/roster/", {"file": _people_file([["新人", factories.id_number(), "专职", world.c1.code]])})
    job = ImportJob.objects.get()
    other = _client(world, "city")
    assert other.get(f"/roster/jobs/{job.pk}/").status_code == 404
    assert other.post(f"/roster/jobs/{job.pk}/commit/").status_code == 404
    training = _client(world, "training")
    resp = training.post("/roster/", {"file": _people_file([["x", factories.id_number(), "专职", world.c1.code]])})
    assert resp.status_code == 403 and ImportJob.objects.count() == 1


@pytest.mark.django_db
def test_bad_upload_type_is_a_clear_error(world):
    c = _client(world, "street")
    resp = c.post("/roster/", {"file": SimpleUploadedFile("名单.pdf", b"%PDF-1.4")})
    assert resp.status_code == 200 and ".xlsx" in resp.content.decode()
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_exports_are_scoped_and_masked(world):
    ws = _sheet(_client(world, "street").get("/roster/export/workers.xlsx"), "人员")
    names = {r[0] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert names == {"张三", "李四"}
    ids = [r[1] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert all("********" in i for i in ids)
    assert AccessLog.objects.count() == 0


@pytest.mark.django_db
def test_full_export_needs_reveal_and_is_logged(world):
    assert _client(world, "training").get("/roster/export/workers.xlsx?full=1").status_code == 403
    ws = _sheet(_client(world, "street").get("/roster/export/workers.xlsx?full=1"), "人员")
    ids = {r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert ids == {decrypt(world.w1.id_number_encrypted), decrypt(world.w2.id_number_encrypted)}
    log = AccessLog.objects.get()
    assert log.action == AccessLog.Action.FULL_EXPORT and log.user == world.users["street"]


@pytest.mark.django_db
def test_worker_role_exports_only_own_record(world):
    ws = _sheet(_client(world, "worker").get("/roster/export/workers.xlsx"), "人员")
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == ["张三"]
