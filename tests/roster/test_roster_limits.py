"""Import limits (issue 9 points 2, 12, 13, 16): hostile workbooks are refused with a clear Chinese message,
each read in a subprocess whose address space is limited to 1 GiB (a regression fails a test instead of
killing pytest); the limits are settings (docs/import-limits.md); stored errors are capped with the total
counted; implausible dates, the out-of-scope message and formula-looking text in the marked workbook."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import hostile_files as hostile
from shegong.access import system_actor
from shegong.common.errors import ApplicationError
from shegong.people.models import Worker
from shegong.roster.imports import OUT_OF_SCOPE_PERSON, UNKNOWN_PERSON_SCOPED, import_roster
from shegong.roster.limits import limits
from shegong.roster.marking import marked_workbook
from shegong.roster.models import ImportJob
from shegong.roster.safety import check_xlsx, column_letters, column_number
from shegong.roster.spreadsheets import read_sheets
from tests import factories

CJK = re.compile(r"[\u4e00-\u9fff]")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PEOPLE = ["姓名", "公民身份号码", "所在社区代码"]


def xlsx(rows: list[list], name: str = "人员") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = name
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


# ================================================================ hostile files, each in a limited subprocess

EXPECTED = {
    "far cell XFD1048576": ("A1:XFD1048576", "超出上限"),
    "far cell, implied position": ("XFC1048576", "超出上限"),
    "dimension A1:XFD1048576": ("声明的范围 A1:XFD1048576", "超出上限"),
    "DTD entity": ("DTD", "不予读取"),
    "zip bomb (320 MB)": ("解压后", "300 MB"),
    "zip bomb, lying sizes": ("解压后比声明的大",),
    "1,048,575 rows": ("A1:C1048576", "200,000 行"),
    "1,048,575 rows, no dimension": ("A200001", "200,000 行"),
    "100,000-character cell": ("第 2 行 A 列", "100,000 个字符", "2,000"),
    "CSV, 1,000,000 rows": ("200,000 行上限",),
    "CSV, 2,000,000 columns": ("100 列",),
    "xls, cell at IV65536": (".xls", "另存为 .xlsx"),
}


def test_every_hostile_file_has_an_expected_outcome():
    assert set(EXPECTED) == set(hostile.HOSTILE)


@pytest.mark.parametrize("label", list(hostile.HOSTILE))
def test_hostile_file_is_refused_in_a_limited_subprocess(label, tmp_path):
    filename, build = hostile.HOSTILE[label]
    path = tmp_path / filename
    path.write_bytes(build())
    out = hostile.measure(path, memory=hostile.GiB, timeout=90)
    assert not out["crashed"], f"{label}: the reader died (exit {out['code']}): {out['stderr'][-800:]}"
    assert out["ok"] is False and out["errors"] == 1
    for words in EXPECTED[label]:
        assert words in out["message"], out["message"]
    assert CJK.search(out["message"]) and out["message"].endswith("文件未导入")
    assert out["seconds"] < 60
    assert out["rss_mib"] < 1024


def test_the_far_cell_file_is_what_the_issue_describes():
    data = hostile.far_cell()
    assert len(data) < 2500
    assert b'r="XFD1048576"' in _sheet_xml(data)


def _sheet_xml(data: bytes) -> bytes:
    import zipfile

    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("rows, words", [
    # the forms in which calamine places a cell, each past the limits
    ('<row r="9"><c t="inlineStr" r="XFD9"><is><t>x</t></is></c></row>', "XFD9"),             # r not first
    ('<row r="9"><c\tr="XFD9" t="inlineStr"><is><t>x</t></is></c></row>', "XFD9"),            # a tab
    ("<row r='9'><c r='XFD9' t='inlineStr'><is><t>x</t></is></c></row>", "XFD9"),             # quotes
    ('<row r="300000"><c t="inlineStr"><is><t>x</t></is></c></row>', "A300000"),              # no r: the row's
    ('<row r="9"><c r="CV9"><v>1</v></c><c><v>2</v></c></row>', "CW9"),                      # after the previous
    ('<row r="299999"/><row><c><v>1</v></c></row>', "A300000"),                                # after an empty row
    ('<x:row xmlns:x="urn:x" r="9"><x:c r="XFD9"><x:v>1</x:v></x:c></x:row>', "XFD9"),       # a prefix
])
def test_every_way_of_placing_a_cell_past_the_limits_is_found(rows, words):
    data = hostile.workbook(hostile.HEADER + rows)
    with pytest.raises(ApplicationError) as exc:
        check_xlsx(data, limits())
    assert words in exc.value.message and "超出上限" in exc.value.message


@pytest.mark.parametrize("rows", [
    '<row r="9"><c r="XFD9"/></row>',                  # empty cells are not read
    '<row r="9"><c r="XFD9" s="3"></c></row>',
    '<row r="300000"></row>',                         # an empty row
    '<row r="2"><c r="A002"><v>1</v></c></row>',        # leading zeros: A2
])
def test_empty_cells_past_the_limits_are_harmless_and_accepted(rows):
    check_xlsx(hostile.workbook(hostile.HEADER + rows), limits())


def test_an_ordinary_workbook_passes_the_check_and_reads():
    data = xlsx([PEOPLE, ["张三", factories.id_number(), "220102001001"]])
    check_xlsx(data, limits())
    (sheet,) = read_sheets(data, "a.xlsx")
    assert [n for n, _ in sheet.rows] == [1, 2]


def test_column_letters_round_trip():
    for n in (1, 26, 27, 100, 702, 703, 16384):
        assert column_number(column_letters(n)) == n
    assert column_letters(100) == "CV" and column_letters(16384) == "XFD"


# ================================================================ the limits are settings


def test_limits_come_from_settings(settings):
    settings.ROSTER_MAX_ROWS = 5
    settings.ROSTER_MAX_COLUMNS = 4
    settings.ROSTER_MAX_CELL_CHARS = 10
    settings.ROSTER_MAX_BYTES = 100_000
    lim = limits()
    assert (lim.max_rows, lim.max_columns, lim.max_cell_chars, lim.max_bytes) == (5, 4, 10, 100_000)
    rows = [PEOPLE] + [["甲", "1", "2"]] * 4
    check_xlsx(xlsx(rows), lim)  # five rows: at the limit
    with pytest.raises(ApplicationError, match="5 行"):
        check_xlsx(xlsx(rows + [["乙", "1", "2"]]), lim)
    with pytest.raises(ApplicationError, match="4 列"):
        check_xlsx(xlsx([PEOPLE + ["a", "b"]]), lim)
    with pytest.raises(ApplicationError, match="10 个字符"):
        list(read_sheets(xlsx([PEOPLE, ["甲" * 11]]), "a.xlsx")[0].rows)
    with pytest.raises(ApplicationError, match="超过 98 KB 上限"):
        read_sheets(b"x" * 100_001, "a.csv")


@pytest.mark.django_db
def test_csv_limits_while_reading(settings):
    settings.ROSTER_MAX_ROWS = 3
    settings.ROSTER_MAX_COLUMNS = 3
    ok = csv_bytes([PEOPLE, ["甲", "1", "2"], ["乙", "1", "2"]])
    assert len(list(read_sheets(ok, "a.csv")[0].rows)) == 3
    result = import_roster(csv_bytes([PEOPLE] + [["甲", "1", "2"]] * 3), "名单.csv", dry_run=True, actor=system_actor("command"))
    assert not result.ok and "3 行上限" in result.errors[0].message and "名单" in result.errors[0].message
    result = import_roster(csv_bytes([PEOPLE + ["备注"], ["甲", "1", "2", "很长"]]), "名单.csv", dry_run=True, actor=system_actor("command"))
    assert "第 1 行超过 3 列" in result.errors[0].message
    # trailing empty columns (a CSV saved with trailing commas) are not columns
    assert len(list(read_sheets(csv_bytes([PEOPLE + ["", ""], ["甲", "1", "2", "", ""]]), "a.csv")[0].rows)) == 2


@pytest.mark.django_db
def test_a_csv_field_beyond_the_csv_modules_own_limit_is_a_clear_refusal():
    data = ("姓名,公民身份号码\n\"" + "x" * 200_000 + "\",1\n").encode()
    result = import_roster(data, "x.csv", dry_run=True, actor=system_actor("command"))
    assert not result.ok and CJK.search(result.errors[0].message)


@pytest.mark.django_db
def test_upload_beyond_the_size_limit_is_refused(world, settings):
    settings.ROSTER_MAX_BYTES = 10_000
    c = Client()
    c.force_login(world.users["street"])
    resp = c.post("/roster/", {"file": SimpleUploadedFile("大.csv", b"a,b\n" * 5000)})
    assert resp.status_code == 200 and "超过 10 KB 上限" in resp.content.decode()
    assert ImportJob.objects.count() == 0


# ================================================================ stored errors are capped, the total counted


@pytest.mark.django_db
def test_errors_are_capped_and_counted(world, settings):
    settings.ROSTER_MAX_ERRORS = 7
    rows = [PEOPLE] + [["", "不是号码", "220102001001"] for _ in range(20)]
    result = import_roster(xlsx(rows), "错.xlsx", dry_run=True, actor=system_actor("command"))
    assert not result.ok
    assert len(result.errors) == 7 and result.error_count == 40  # each row: 姓名 and 公民身份号码
    assert result.as_dict()["error_count"] == 40
    assert [e.row for e in result.errors] == sorted(e.row for e in result.errors)


@pytest.mark.django_db
def test_the_job_page_reports_the_total_and_the_list_never_loads_results(world, settings):
    settings.ROSTER_MAX_ERRORS = 5
    c = Client()
    c.force_login(world.users["street"])
    rows = [PEOPLE] + [["", "不是号码", world.c1.code] for _ in range(10)]
    c.post("/roster/", {"file": SimpleUploadedFile("错.xlsx", xlsx(rows), content_type=XLSX)})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED and job.result["error_count"] == 20
    assert len(job.result["errors"]) == 5
    page = c.get(f"/roster/jobs/{job.pk}/").content.decode()
    assert "20 处错误" in page and "只列出前 5 处" in page and "标注了前 5 处" in page
    with CaptureQueriesContext(connection) as queries:
        assert c.get("/roster/").status_code == 200
    job_queries = [q["sql"] for q in queries.captured_queries if "roster_importjob" in q["sql"]]
    assert job_queries and not any('"result"' in q for q in job_queries)


@pytest.mark.django_db
def test_a_file_refused_as_a_whole_offers_no_marked_workbook(world):
    c = Client()
    c.force_login(world.users["street"])
    c.post("/roster/", {"file": SimpleUploadedFile("远.xlsx", hostile.far_cell(), content_type=XLSX)})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    page = c.get(f"/roster/jobs/{job.pk}/").content.decode()
    assert "超出上限" in page and 'id="marked"' not in page and 'id="retry"' in page
    assert c.get(f"/roster/jobs/{job.pk}/errors.xlsx").status_code == 404


# ================================================================ dates that cannot be meant


def _appointment_file(worker_id: str, code: str, start, end=None) -> bytes:
    return xlsx([["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期", "离任日期"],
                 [worker_id, code, "社工", "聘用", start, end]], name="任职")


def _plain_id(worker: Worker) -> str:
    from shegong.common.crypto import decrypt

    return decrypt(worker.id_number_encrypted)


@pytest.mark.django_db
@pytest.mark.parametrize("start, end, column, words", [
    ("9999-12-31", None, "任职日期", "任职日期 9999-12-31 晚于"),
    (dt.datetime(9999, 12, 31), None, "任职日期", "任职日期 9999-12-31 晚于"),  # noqa: DTZ001  (a spreadsheet cell: naive)
    ("2021-01-05", "9999-12-31", "离任日期", "离任日期 9999-12-31 晚于"),
    ("1899-12-31", None, "任职日期", "早于 1900 年"),
    ("2021-01-05", "1800/1/1", "离任日期", "早于 1900 年"),
])
def test_implausible_appointment_dates_are_refused_naming_row_and_column(world, start, end, column, words):
    result = import_roster(_appointment_file(_plain_id(world.w1), world.c1.code, start, end), "期.xlsx", actor=system_actor("command"))
    assert not result.ok
    (e,) = [e for e in result.errors if e.column == column]
    assert (e.sheet, e.row) == ("任职", 2) and words in e.message


@pytest.mark.django_db
def test_a_date_within_a_year_is_accepted_for_an_appointment(world):
    soon = timezone.localdate() + dt.timedelta(days=200)
    result = import_roster(_appointment_file(_plain_id(world.w1), world.c1.code, "2021-01-05", soon.isoformat()),
                           "期.xlsx", dry_run=True, actor=system_actor("command"))
    assert result.ok, [e.message for e in result.errors]


@pytest.mark.django_db
@pytest.mark.parametrize("column, typed, words", [
    ("参加工作日期", "9999-12-31", "参加工作日期 9999-12-31 晚于今天"),
    ("社工岗入职日期", "9999-12-31", "社工岗入职日期 9999-12-31 晚于今天"),
    ("参加工作日期", "1850-01-01", "参加工作日期 1850-01-01 早于 1900 年"),
])
def test_implausible_worker_dates_are_refused(world, column, typed, words):
    rows = [PEOPLE + [column], ["新人", factories.id_number(), world.c1.code, typed]]
    result = import_roster(xlsx(rows), "人.xlsx", dry_run=True, actor=system_actor("command"))
    (e,) = result.errors
    assert (e.row, e.column) == (2, column) and words in e.message


# ================================================================ out of scope: the same words whether the person exists


@pytest.mark.django_db
def test_an_appointment_of_someone_elsewhere_reads_like_one_of_nobody(world):
    admin = world.users["street"]  # street 220102001; w3 is in 220102002001
    elsewhere = import_roster(_appointment_file(_plain_id(world.w3), world.c1.code, "2021-01-05"), "a.xlsx", actor=admin)
    nobody = import_roster(_appointment_file(factories.id_number(), world.c1.code, "2021-01-05"), "b.xlsx", actor=admin)
    (a,), (b,) = elsewhere.errors, nobody.errors
    assert a.message == b.message == UNKNOWN_PERSON_SCOPED
    assert "系统" not in a.message


@pytest.mark.django_db
def test_a_person_registered_elsewhere_is_refused_without_saying_where(world):
    admin = world.users["street"]
    rows = [PEOPLE, ["王五", _plain_id(world.w3), world.c1.code]]
    (e,) = import_roster(xlsx(rows), "a.xlsx", actor=admin).errors
    assert e.message == OUT_OF_SCOPE_PERSON
    assert "已登记" not in e.message and "以外的社区" not in e.message


# ================================================================ the marked workbook writes text as text


FORMULA = '=HYPERLINK("http://evil.example","点")'


@pytest.mark.django_db
def test_marked_workbook_of_a_csv_keeps_formula_text_as_text(world):
    data = csv_bytes([PEOPLE + ["备注"], [FORMULA, "不是号码", world.c1.code, "=1+1"]])
    result = import_roster(data, "a.csv", dry_run=True, actor=system_actor("command"))
    assert not result.ok
    marked = marked_workbook(data, "a.csv", result.as_dict(cells=True)["errors"])
    ws = openpyxl.load_workbook(io.BytesIO(marked))["a"]
    assert ws["A2"].value == FORMULA and ws["A2"].data_type == "s"
    assert ws["D2"].value == "=1+1" and ws["D2"].data_type == "s"
    assert ws["B2"].fill.fgColor.rgb.endswith("FFC7CE") and ws["B2"].comment is not None
    raw = _sheet_xml_of(marked)
    assert b"<f>" not in raw


def _sheet_xml_of(data: bytes) -> bytes:
    import zipfile

    z = zipfile.ZipFile(io.BytesIO(data))
    return b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))


@pytest.mark.django_db
@pytest.mark.parametrize("keep_format", [True, False], ids=["small: openpyxl", "large: copied by value"])
def test_marked_workbook_of_an_xlsx_keeps_formula_text_as_text(world, keep_format, monkeypatch):
    if not keep_format:
        monkeypatch.setattr("shegong.roster.marking.KEEP_FORMAT_BYTES", 0)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(PEOPLE)
    ws.append(["x", "不是号码", world.c1.code])
    ws["A2"].value = FORMULA
    ws["A2"].data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    result = import_roster(data, "a.xlsx", dry_run=True, actor=system_actor("command"))
    marked = marked_workbook(data, "a.xlsx", result.as_dict(cells=True)["errors"])
    ws = openpyxl.load_workbook(io.BytesIO(marked))["人员"]
    assert ws["A2"].value == FORMULA and ws["A2"].data_type == "s"
    assert ws["B2"].fill.fgColor.rgb.endswith("FFC7CE") and ws["B2"].comment is not None
    assert b"<f>" not in _sheet_xml_of(marked)


@pytest.mark.django_db
def test_marked_workbook_keeps_row_numbers_of_a_csv_with_blank_lines(world):
    data = csv_bytes([["花名册"], [], PEOPLE, ["甲", "不是号码", world.c1.code]])
    result = import_roster(data, "a.csv", dry_run=True, actor=system_actor("command"))
    (e,) = result.errors
    assert e.row == 4
    ws = openpyxl.load_workbook(io.BytesIO(marked_workbook(data, "a.csv", result.as_dict(cells=True)["errors"])))["a"]
    assert ws["A1"].value == "花名册" and ws["A3"].value == "姓名" and ws["B4"].comment is not None
