"""Roster export (issue 3): the canonical workbook, masked by default, and export → import changes nothing."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import openpyxl
import pytest

from shegong.access import system_actor
from shegong.common.crypto import decrypt
from shegong.org.models import Division
from shegong.org.services import division_update
from shegong.people.models import Worker
from shegong.roster.exporters import export_to_tempfile, write_workbook
from shegong.roster.imports import import_roster
from shegong.staffing.models import Appointment
from shegong.staffing.services import appointment_end
from tests import factories

pytestmark = pytest.mark.django_db

MODELS = (Division, Worker, Appointment)
HEADERS = {
    "社区": ["统计用区划代码", "社区名称", "街道(乡镇)名称", "户数", "常住人口", "党组织类型"],
    "人员": ["姓名", "公民身份号码", "民族", "政治面貌", "学历", "联系电话", "人员类别", "参加工作日期",
           "社工岗入职日期", "所在社区代码"],
    "任职": ["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期", "离任日期"],
}
MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")


def snapshot() -> dict[str, tuple[int, int]]:
    return {m.__name__: (m.objects.count(), m.history.count()) for m in MODELS}


def zero() -> dict[str, int]:
    return {"communities": 0, "people": 0, "appointments": 0}


def export(full: bool, *, communities: Any = None, people: Any = None, appointments: Any = None) -> bytes:
    buf = io.BytesIO()
    write_workbook(buf,
                   communities=Division.objects.filter(level="community") if communities is None else communities,
                   people=Worker.objects.all() if people is None else people,
                   appointments=Appointment.objects.all() if appointments is None else appointments,
                   full=full)
    return buf.getvalue()


def rows_of(data: bytes, sheet: str) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(io.BytesIO(data))[sheet]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


def all_cells(data: bytes) -> list[str]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]


@pytest.fixture
def staffed(world):
    """The world, with community details, posts (one of them ended) and a worker without a phone."""
    division_update(actor=system_actor("command"), division=world.c1, resident_population=7800, party_org_type="党委", address="东风路1号")
    division_update(actor=system_actor("command"), division=world.c2, party_org_type="党总支")
    quiet = factories.WorkerFactory(name="周无话", community=world.c2, phone="", education="", work_start_date=None)
    factories.appoint(world.w1, "党组织书记")
    ended = factories.appoint(world.w1, "居委会主任", start=dt.date(2018, 1, 5))
    appointment_end(actor=system_actor("command"), appointment=ended, end_date=dt.date(2020, 12, 31))
    factories.appoint(world.w2, "居委会副主任", start=dt.date(2019, 6, 1), method="组织指派")
    factories.appoint(world.w3, "普通社工", method="聘用")
    factories.appoint(world.w_other, "党组织书记")
    factories.appoint(quiet, "网格长", method="聘用")
    return world


def test_full_export_reimported_changes_nothing(staffed):
    data = export(full=True)
    before = snapshot()
    result = import_roster(data, "导出.xlsx", actor=system_actor("command"))
    assert result.ok, [(e.sheet, e.row, e.column, e.message) for e in result.errors]
    assert result.created == zero()
    assert result.updated == zero()
    assert result.unchanged == {"communities": 4, "people": 5, "appointments": 6}
    assert result.warnings == []
    assert snapshot() == before


def test_export_import_export_is_stable(staffed):
    """Export, import, export again: the second workbook holds the same rows as the first."""
    first = export(full=True)
    assert import_roster(first, "导出.xlsx", actor=system_actor("command")).ok
    second = export(full=True)
    for sheet in HEADERS:
        assert rows_of(first, sheet) == rows_of(second, sheet)


def test_round_trip_keeps_an_address_with_spaces(staffed):
    """Free text keeps its inner spaces: “人民大街 1234 号” must not come back as “人民大街1234号”."""
    division_update(actor=system_actor("command"), division=staffed.c3, address="人民大街 1234 号 A 座")
    data = export(full=True)
    before = snapshot()
    result = import_roster(data, "导出.xlsx", actor=system_actor("command"))
    assert result.ok
    staffed.c3.refresh_from_db()
    assert staffed.c3.address == "人民大街 1234 号 A 座"
    assert result.updated == zero()
    assert snapshot() == before


def test_street_admins_export_of_their_scope_reimports_as_them(staffed):
    admin = staffed.users["street"]
    data = export(full=True,
                  communities=Division.objects.restrict(admin, "view").filter(level="community"),
                  people=Worker.objects.restrict(admin, "view"),
                  appointments=Appointment.objects.restrict(admin, "view"))
    assert {r["统计用区划代码"] for r in rows_of(data, "社区")} == {"220102001001", "220102001002"}
    before = snapshot()
    result = import_roster(data, "本街道导出.xlsx", actor=admin)
    assert result.ok, [(e.sheet, e.row, e.column, e.message) for e in result.errors]
    assert (result.created, result.updated) == (zero(), zero())
    assert result.unchanged == {"communities": 2, "people": 3, "appointments": 4}
    assert snapshot() == before


def test_edited_export_updates_only_the_edited_row(staffed):
    data = export(full=True)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["人员"]
    header = [c.value for c in ws[1]]
    id_col, phone_col = header.index("公民身份号码") + 1, header.index("联系电话") + 1
    target = decrypt(staffed.w2.id_number_encrypted)
    for row in range(2, ws.max_row + 1):
        if ws.cell(row=row, column=id_col).value == target:
            ws.cell(row=row, column=phone_col, value="13011112222")
    buf = io.BytesIO()
    wb.save(buf)
    before = snapshot()
    result = import_roster(buf.getvalue(), "导出-改电话.xlsx", actor=system_actor("command"))
    assert result.ok
    assert result.updated == {"communities": 0, "people": 1, "appointments": 0}
    assert result.created == zero()
    staffed.w2.refresh_from_db()
    assert decrypt(staffed.w2.phone_encrypted) == "13011112222"
    assert snapshot()["Worker"] == (before["Worker"][0], before["Worker"][1] + 1)


def test_masked_export_reimported_is_rejected_and_changes_nothing(staffed):
    data = export(full=False)
    before = snapshot()
    result = import_roster(data, "脱敏导出.xlsx", actor=system_actor("command"))
    assert not result.ok
    people_rows = {e.row for e in result.errors if e.sheet == "人员" and e.column == "公民身份号码"}
    appointment_rows = {e.row for e in result.errors if e.sheet == "任职" and e.column == "公民身份号码"}
    assert people_rows == set(range(2, 2 + 5))          # every person: the number is masked
    assert appointment_rows == set(range(2, 2 + 6))     # every post
    assert all(re.search(r"[\u4e00-\u9fff]", e.message) for e in result.errors)
    assert (result.created, result.updated) == (zero(), zero())
    assert snapshot() == before


def test_export_masks_id_numbers_and_phones_by_default(staffed):
    data = export(full=False)
    workers = list(Worker.objects.all())
    secrets = [decrypt(w.id_number_encrypted) for w in workers] + [decrypt(w.phone_encrypted) for w in workers
                                                                   if w.phone_encrypted]
    cells = all_cells(data)
    for secret in secrets:
        assert not any(secret in cell for cell in cells), secret
    people = {r["姓名"]: r for r in rows_of(data, "人员")}
    for w in workers:
        row = people[w.name]
        assert row["公民身份号码"] == w.id_number_masked
        assert MASKED_ID.match(row["公民身份号码"])
        assert (row["联系电话"] or "") == w.phone_masked
    assert "*" in people["张三"]["联系电话"]
    for row in rows_of(data, "任职"):
        assert MASKED_ID.match(row["公民身份号码"])


def test_full_export_holds_the_plain_values(staffed):
    data = export(full=True)
    people = {r["姓名"]: r for r in rows_of(data, "人员")}
    w1 = staffed.w1
    assert people["张三"]["公民身份号码"] == decrypt(w1.id_number_encrypted)
    assert people["张三"]["联系电话"] == decrypt(w1.phone_encrypted)
    assert people["周无话"]["联系电话"] in (None, "")
    ids = {r["公民身份号码"] for r in rows_of(data, "任职")}
    assert decrypt(w1.id_number_encrypted) in ids


def test_export_is_in_the_canonical_form(staffed):
    data = export(full=False)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == list(HEADERS)
    for name, headers in HEADERS.items():
        first = [c.value for c in wb[name][1]]
        assert first[:len(headers)] == headers, name
    communities = {r["统计用区划代码"]: r for r in rows_of(data, "社区")}
    assert set(communities) == {"220102001001", "220102001002", "220102002001", "220202001001"}
    c1 = communities["220102001001"]
    assert (c1["社区名称"], c1["街道(乡镇)名称"], c1["户数"], c1["常住人口"], c1["党组织类型"]) == (
        "东风社区", staffed.c1.parent.name, 2500, 7800, "党委")
    zhang = {r["姓名"]: r for r in rows_of(data, "人员")}["张三"]
    assert (zhang["民族"], zhang["政治面貌"], zhang["学历"], zhang["人员类别"]) == (
        "汉族", "中国共产党党员", "大学本科", "专职社区工作者")
    assert zhang["所在社区代码"] == "220102001001"
    assert isinstance(zhang["社工岗入职日期"], dt.datetime)  # a real Excel date
    assert zhang["社工岗入职日期"].date() == dt.date(2015, 3, 1)
    posts = rows_of(data, "任职")
    secretary = [r for r in posts if r["岗位"] == "党组织书记" and r["社区代码"] == "220102001001"]
    assert len(secretary) == 1
    assert secretary[0]["任职方式"] == "选举"
    assert secretary[0]["任职日期"].date() == dt.date(2021, 1, 5)
    ended = [r for r in posts if r["岗位"] == "居委会主任"]
    assert [r["离任日期"].date() for r in ended] == [dt.date(2020, 12, 31)]


def test_export_to_tempfile_is_rewound_and_readable(staffed):
    tmp = export_to_tempfile(people=Worker.objects.filter(community=staffed.c1), full=False)
    data = tmp.read()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["人员"]
    assert [r["姓名"] for r in rows_of(data, "人员")] == ["张三"]


def test_text_that_looks_like_a_formula_is_exported_as_text(world):
    """A name or address typed as =HYPERLINK(...) stays text in the workbook, never a live formula."""
    formula = '=HYPERLINK("http://evil.example","点")'
    Worker.objects.filter(pk=world.w1.pk).update(name=formula)
    wb = openpyxl.load_workbook(export_to_tempfile(people=Worker.objects.filter(pk=world.w1.pk)))
    [cell] = [c for row in wb["人员"].iter_rows(min_row=2) for c in row if c.value == formula]
    assert cell.data_type == "s"
