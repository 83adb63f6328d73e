"""The import pages (issue 11 points 9 and 5): errors named by 姓名 with a re-upload form right there; the
preview lists who is added or updated and the compliance findings the import would add and clear (found by
running the import's own writes in a savepoint: what the preview says is what the commit does); 放弃 keeps
the job as discarded; after the import, links to what was imported."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from shegong.people.models import Worker
from shegong.roster.models import ImportJob
from shegong.staffing.compliance import evaluate
from shegong.staffing.models import Appointment
from tests import factories

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _client(world, role: str = "street") -> Client:
    c = Client()
    c.force_login(world.users[role])
    return c


def _file(people=(), appointments=()) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["姓名", "公民身份号码", "人员类别", "所在社区代码"])
    for r in people:
        ws.append(r)
    if appointments:
        ws = wb.create_sheet("任职")
        ws.append(["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"])
        for r in appointments:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("名单.xlsx", buf.getvalue(), content_type=XLSX)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.django_db
def test_errors_name_the_row_by_its_name_and_offer_a_re_upload(world):
    c = _client(world)
    good = factories.id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # a wrong check digit
    wrong_category = factories.id_number()
    resp = c.post("/roster/", {"file": _file(
        people=[["错号人", bad, "专职", world.c1.code], ["对号人", good, "专职", world.c1.code],
                ["类别错", wrong_category, "临时工", world.c1.code]],
        appointments=[[good, world.c1.code, "不存在的岗位", "选举", dt.date(2021, 1, 5)],
                      [wrong_category, world.c1.code, "书记", "选举", dt.date(2021, 1, 5)]])})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    page = c.get(resp.url).content.decode()
    text = _text(page)
    assert "错号人" in text and "对号人" in text  # the 任职 row has no name column: named from the 人员 sheet
    assert bad not in page  # the ID number stays masked
    errors = {(e["sheet"], e["row"]): e for e in job.result["errors"]}
    assert errors["人员", 2]["name"] == "错号人" and errors["人员", 2]["column"] == "公民身份号码"
    assert errors["任职", 2]["name"] == "对号人" and errors["任职", 2]["column"] == "岗位"
    assert errors["人员", 4]["name"] == "类别错" and errors["人员", 4]["column"] == "人员类别"
    assert errors["任职", 3]["name"] == "类别错"  # named from its 人员 row, although that row is wrong
    # the re-upload form is on the error page, its file input labelled, posting to the upload
    assert re.search(r'<label for="reupload-file">', page) and 'id="reupload-file" name="file"' in page
    assert 'action="/roster/"' in page and 'enctype="multipart/form-data"' in page
    assert all("scope=" in th for th in re.findall(r"<th\b[^>]*>", page))
    fixed = c.post("/roster/", {"file": _file(people=[["错号人", factories.id_number(), "专职", world.c1.code]])})
    assert ImportJob.objects.get(pk=int(fixed.url.split("/")[-2])).status == ImportJob.Status.VALIDATED


@pytest.mark.django_db
def test_preview_lists_names_and_the_findings_it_adds_and_clears_exactly_as_the_commit_does(world):
    c = _client(world)
    a, b = factories.id_number(), factories.id_number()
    resp = c.post("/roster/", {"file": _file(
        people=[["新书记甲", a, "专职", world.c2.code], ["新书记乙", b, "专职", world.c2.code]],
        appointments=[[a, world.c2.code, "党组织书记", "选举", dt.date(2021, 1, 5)],
                      [b, world.c2.code, "书记", "选举", dt.date(2022, 3, 1)]])})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.VALIDATED
    # the preview wrote nothing (its writes were rolled back)
    assert not Worker.objects.filter(name__startswith="新书记").exists()
    assert not Appointment.objects.filter(community=world.c2).exists()
    result = job.result
    assert {(ch["sheet"], ch["action"], ch["name"], ch["community_name"]) for ch in result["changes"]} == {
        ("人员", "新增", "新书记甲", "幸福社区"), ("人员", "新增", "新书记乙", "幸福社区"),
        ("任职", "新增", "新书记甲", "幸福社区"), ("任职", "新增", "新书记乙", "幸福社区")}
    assert result["scope"] == world.c2.code
    added, cleared = result["findings"]["added"], result["findings"]["cleared"]
    assert any(f["clause"] == "4.2.1" and "党组织书记" in f["message"] and "2" in f["message"] for f in added)
    assert any(f["clause"] == "4.2.1" and "党组织书记" in f["message"] and "0" in f["message"] for f in cleared)
    page = c.get(resp.url).content.decode()
    text = _text(page)
    assert "新书记甲" in text and "幸福社区" in text and "对合规检查的影响" in text and "4.2.1" in text
    assert 'id="discard"' in page and 'id="commit"' in page

    before = {(f.clause, f.message) for f in evaluate(scope=world.c2.code).findings}
    c.post(f"/roster/jobs/{job.pk}/commit/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    after = {(f.clause, f.message) for f in evaluate(scope=world.c2.code).findings}
    assert {(f["clause"], f["message"]) for f in added} == after - before
    assert {(f["clause"], f["message"]) for f in cleared} == before - after

    # after the import: links to the imported communities' workers and to each person imported
    page = c.get(f"/roster/jobs/{job.pk}/").content.decode()
    assert f'href="/workers/?community={world.c2.code}"' in page
    for w in Worker.objects.filter(name__startswith="新书记"):
        assert f'href="/workers/{w.pk}/"' in page
    listed = c.get(f"/workers/?community={world.c2.code}").content.decode()
    assert "新书记甲" in listed and "新书记乙" in listed


@pytest.mark.django_db
def test_an_update_shows_what_changes(world):
    c = _client(world)
    number = factories.id_number()
    w = factories.WorkerFactory(name="老人", community=world.c1, id_number=number)
    c.post("/roster/", {"file": _file(people=[["老人", number, "公益性岗位", world.c2.code]])})
    job = ImportJob.objects.get()
    (change,) = job.result["changes"]
    assert change["action"] == "更新" and change["name"] == "老人"
    assert "所在社区:东风社区 → 幸福社区" in change["change"]
    assert f"人员类别:{w.category} → 公益性岗位" in change["change"]


@pytest.mark.django_db
def test_discard_keeps_the_job_as_discarded_and_writes_nothing(world):
    c = _client(world)
    c.post("/roster/", {"file": _file(people=[["不要了", factories.id_number(), "专职", world.c1.code]])})
    job = ImportJob.objects.get()
    other = _client(world, "city")
    assert other.post(f"/roster/jobs/{job.pk}/discard/").status_code == 404  # someone else's job
    resp = c.post(f"/roster/jobs/{job.pk}/discard/")
    assert resp.status_code == 302 and resp.url == f"/roster/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DISCARDED and "放弃" in job.message
    page = c.get(resp.url).content.decode()
    assert "已放弃" in page and 'id="commit"' not in page
    assert "已放弃" in _text(c.get("/roster/").content.decode())  # kept in the list of imports
    c.post(f"/roster/jobs/{job.pk}/commit/")  # a discarded job cannot be imported afterwards
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DISCARDED
    assert not Worker.objects.filter(name="不要了").exists()
    again = c.post(f"/roster/jobs/{job.pk}/discard/", follow=True)
    assert "只有校验通过" in again.content.decode()


@pytest.mark.django_db
def test_upload_page_labels_its_file_input_and_scopes_its_headers(world):
    page = _client(world).get("/roster/").content.decode()
    assert '<label for="roster-file">' in page and 'id="roster-file"' in page
    assert all("scope=" in th for th in re.findall(r"<th\b[^>]*>", page))
