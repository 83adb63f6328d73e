"""Roster import (issue 3): real spreadsheets built in the tests (.xlsx with openpyxl, .xls with xlwt,
.csv in UTF-8, UTF-8 with BOM and GBK), every tolerant-parsing case, every error kind with its sheet,
Excel row, column header and Chinese message, all-or-nothing, idempotence, history, dry run, scope and
the `import` and `template` commands. Everything runs against the real database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import openpyxl
import pytest
import xlwt
from django.core.management import call_command

from shegong.access import system_actor
from shegong.common.codes import ETHNICITY
from shegong.common.crypto import decrypt, mask_id_number
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.roster.imports import ImportResult, Issue, import_roster
from shegong.staffing.models import Appointment
from tests import factories

pytestmark = pytest.mark.django_db

TITLE = "长春市南关区社区工作者花名册(2024年12月)"
D = dt.date(2019, 7, 1)
W = dt.date(2010, 7, 1)
CJK = re.compile(r"[\u4e00-\u9fff]")
MODELS = (Division, Worker, Appointment)


# ================================================================ helpers


def xlsx(*sheets: tuple[str, list[list[Any]]], title: str | None = TITLE) -> bytes:
    """A workbook; each sheet gets a title row merged across the table above its header row."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        if title is not None:
            ws.append([title])
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(2, len(rows[0])))
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls(*sheets: tuple[str, list[list[Any]]], title: str | None = TITLE) -> bytes:
    """The same in the old .xls format (xlwt); dates become date-formatted cells."""
    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for name, rows in sheets:
        ws = wb.add_sheet(name)
        offset = 0
        if title is not None:
            ws.write_merge(0, 0, 0, max(1, len(rows[0]) - 1), title)
            offset = 1
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    ws.write(r + offset, c, value, date_style)
                else:
                    ws.write(r + offset, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue().encode(encoding)


def fw(text: str) -> str:
    """Full-width digits, as typed with a Chinese input method."""
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})


def id_ending_in_x() -> str:
    for _ in range(500):
        number = factories.id_number()
        if number.endswith("X"):
            return number
    raise AssertionError("no ID number ending in X generated")


def bad_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def snapshot() -> dict[str, tuple[int, int]]:
    """Row counts of the domain tables and of their history tables."""
    return {m.__name__: (m.objects.count(), m.history.count()) for m in MODELS}


def counts(result: ImportResult) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    return result.created, result.updated, result.unchanged


def c(communities: int = 0, people: int = 0, appointments: int = 0) -> dict[str, int]:
    return {"communities": communities, "people": people, "appointments": appointments}


def describe(issues: list[Issue]) -> list[tuple[str, int, str, str, str]]:
    return [(i.sheet, i.row, i.column, i.value, i.message) for i in issues]


def issue_at(issues: list[Issue], sheet: str, row: int, column: str) -> Issue:
    found = [i for i in issues if (i.sheet, i.row, i.column) == (sheet, row, column)]
    assert found, f"no issue at {sheet}!{row} “{column}”; got {describe(issues)}"
    return found[0]


def worker_by_id(number: str) -> Worker:
    from shegong.common.crypto import search_hash

    return Worker.objects.select_related("community").get(id_number_hash=search_hash(number.upper()))


def plain_id(worker: Worker) -> str:
    return decrypt(worker.id_number_encrypted)


def last_history(model: Any, pk: int) -> Any:
    return model.history.filter(id=pk).order_by("-history_date", "-history_id").first()


# ================================================================ a workbook as a street office makes one

COMMUNITY_HEADERS = ["社区名称", " 统计用区划代码 ", "街道(乡镇)名称", "户数(户)", "常 住 人 口", "党组织类型", "备注"]
PEOPLE_HEADERS = ["序号", "所在社区代码", "姓  名", "身份证号码(18位)", "民族", "政治面貌", "学历", "联系电话",
                  "人员类别", "参加工作时间", "社工岗入职日期"]
APPOINTMENT_HEADERS = ["姓名", "身份证号", "社区代码", "职务", "产生方式", "任职时间", "离任时间"]


@pytest.fixture
def office():
    """A hand-made workbook: a new street of 朝阳区 with two communities, six people, six posts.
    Sheet names are aliases, columns in another order, headers spaced and with full-width brackets."""
    ids = [factories.id_number() for _ in range(6)]
    ids[1] = id_ending_in_x()
    communities = [
        COMMUNITY_HEADERS,
        ["  红旗社区 ", fw("220104005001"), "红旗街道", "2,500", fw("8000"), "总支", "新建"],
        ["朝阳 社区", 220104005002, "红旗街道", 3100, "6200人", "支部", None],
    ]
    people = [
        PEOPLE_HEADERS,
        [1, "220104005001", " 张 三 ", fw(ids[0]), "汉", "党员", "本科", 13912345678, "专职", W, "2019-07-01"],
        [2, "220104005001", "李四", ids[1].lower(), "汉族", "中共党员", "大专", " 139 1234 5679 ", "专职社区工作者",
         "2010/7/1", "2019/7/1"],
        [3, 220104005002, "王五", f" {ids[2]} ", "满", "群众", "硕士", "0431-88886666", "兼职", "2010.07", "2019.07"],
        [4, fw("220104005002"), "赵六", ids[3], "汉", "党员", "本科", None, "专职", "2010年7月", "2019年7月"],
        [5, "220104005002", "钱七", ids[4], "汉", "党员", "研究生", None, "专职", "2010年7月1日", "2019年7月1日"],
        [6, "220104005002", "孙八", ids[5], "汉", "党员", "本科", None, "专职", 20100701, "20190701"],
    ]
    appointments = [
        APPOINTMENT_HEADERS,
        ["张三", ids[0], "220104005001", "书记", "选举", "2021-01-05", None],
        ["李四", ids[1].lower(), "220104005001", "主任", "选举", dt.date(2021, 1, 5), None],
        ["王五", ids[2], "220104005002", "副主任", "选任", "2021/1/5", None],
        ["赵六", ids[3], "220104005002", "兼职委员", "组织指派", "2021.01", None],
        ["钱七", ids[4], "220104005002", "党建专干", "聘用", "20210105", "2023年6月30日"],
        ["孙八", ids[5], "220104005002", "社工", "聘任", "2021年1月", None],
    ]
    data = xlsx(("社区信息", communities), ("花名册", people), ("任职情况", appointments))
    return {"data": data, "ids": ids, "rows": (communities, people, appointments)}


def test_office_workbook_imports_every_tolerated_form(db, office):
    before = snapshot()
    result = import_roster(office["data"], "红旗街道花名册.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert result.errors == []
    assert counts(result) == (c(2, 6, 6), c(), c())
    after = snapshot()
    assert after["Worker"][0] - before["Worker"][0] == 6
    assert after["Appointment"][0] - before["Appointment"][0] == 6

    # communities: names without stray spaces, full-width code, code as a number, numbers as text
    hq = Division.objects.get(code="220104005001")
    cy = Division.objects.get(code="220104005002")
    assert (hq.name, hq.level, hq.households, hq.resident_population) == ("红旗社区", "community", 2500, 8000)
    assert (cy.name, cy.households, cy.resident_population) == ("朝阳社区", 3100, 6200)
    assert hq.party_org_type == "党总支"   # 总支
    assert cy.party_org_type == "党支部"   # 支部

    # the people: full-width digits, lowercase x, stray spaces, code-table short forms, every date form
    ids = office["ids"]
    zhang = worker_by_id(ids[0])
    assert zhang.name == "张三"
    assert zhang.community.code == "220104005001"
    assert (zhang.ethnicity, zhang.political_status, zhang.education) == ("01", "01", "21")  # 汉, 党员, 本科
    assert zhang.category == "专职社区工作者"                                                  # 专职
    assert decrypt(zhang.phone_encrypted) == "13912345678"                                   # phone as a number
    li = worker_by_id(ids[1])
    assert plain_id(li) == ids[1] and plain_id(li).endswith("X")                            # lowercase x
    assert li.education == "31"                                                               # 大专
    assert decrypt(li.phone_encrypted) == "13912345679"
    wang = worker_by_id(ids[2])
    assert wang.community.code == "220104005002"                                             # code as a number
    assert ETHNICITY.label(wang.ethnicity) == "满族"                                          # 满
    assert wang.political_status == "13"                                                      # 群众
    assert wang.education == "14"                                                             # 硕士
    assert wang.category == "兼职"
    assert decrypt(wang.phone_encrypted) == "0431-88886666"
    assert worker_by_id(ids[3]).community.code == "220104005002"                             # full-width code
    assert worker_by_id(ids[4]).education == "14"                                            # 研究生
    for number in ids:
        w = worker_by_id(number)
        assert (w.work_start_date, w.post_start_date) == (W, D), w.name

    posts = {plain_id(a.worker): (a.post_type.code, a.method, a.start_date, a.end_date)
             for a in Appointment.objects.select_related("worker", "post_type")}
    start = dt.date(2021, 1, 5)
    assert posts[ids[0]] == ("party_secretary", "选举", start, None)                 # 书记
    assert posts[ids[1]] == ("rc_director", "选举", start, None)                      # 主任
    assert posts[ids[2]] == ("rc_deputy_director", "选举", start, None)               # 副主任, 选任
    assert posts[ids[3]] == ("party_parttime_member", "组织指派", dt.date(2021, 1, 1), None)  # 兼职委员, 2021.01
    assert posts[ids[4]] == ("party_building_worker", "聘用", start, dt.date(2023, 6, 30))
    assert posts[ids[5]] == ("social_worker", "聘用", dt.date(2021, 1, 1), None)       # 社工, 聘任


def test_new_street_and_its_ancestors_come_from_code_and_gbt2260(db, office):
    assert not Division.objects.filter(code__startswith="220104").exists()
    result = import_roster(office["data"], "红旗街道花名册.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    street = Division.objects.get(code="220104005")
    assert (street.name, street.level) == ("红旗街道", "street")
    assert Division.objects.get(code="220104005001").parent_id == street.pk
    assert Division.objects.get(code="220104005002").parent_id == street.pk
    district = street.parent
    assert (district.code, district.name, district.level) == ("220104", "朝阳区", "district")
    assert (district.parent.code, district.parent.name) == ("2201", "长春市")
    assert (district.parent.parent.code, district.parent.parent.name) == ("22", "吉林省")
    assert Division.objects.filter(code="220104005").count() == 1  # one street for both communities
    reason = last_history(Division, street.pk).history_change_reason
    assert "红旗街道花名册.xlsx" in reason


def test_unknown_columns_are_ignored_with_a_warning(db, office):
    result = import_roster(office["data"], "红旗街道花名册.xlsx", actor=system_actor("command"))
    assert result.ok
    remark = issue_at(result.warnings, "社区信息", 2, "备注")
    assert "未知列" in remark.message
    number = issue_at(result.warnings, "花名册", 2, "序号")
    assert "序号" in number.message and CJK.search(number.message)
    assert not any(w.column in ("姓  名", "户数(户)", "常 住 人 口", "身份证号码(18位)") for w in result.warnings)


@pytest.mark.parametrize("typed, expected", [
    (dt.date(2019, 7, 1), D),               # an Excel date cell
    (dt.datetime(2018, 3, 9, 0, 0), dt.date(2018, 3, 9)),  # noqa: DTZ001  (an Excel datetime cell is naive)
    ("2019-07-01", D),
    ("2019/7/1", D),
    ("2017.05", dt.date(2017, 5, 1)),
    ("2016年8月", dt.date(2016, 8, 1)),
    ("2019年7月1日", D),
    ("2015年11月23日", dt.date(2015, 11, 23)),
    ("20190701", D),
    (20191231, dt.date(2019, 12, 31)),      # typed into a number cell
    (fw("2019") + "-" + fw("07") + "-" + fw("01"), D),
    (" 2019-07-01 ", D),
])
def test_date_forms(world, typed, expected):
    number = factories.id_number()
    data = xlsx(("人员", [["姓名", "公民身份号码", "所在社区代码", "社工岗入职日期"],
                         ["周九", number, "220102001001", typed]]))
    result = import_roster(data, "dates.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert worker_by_id(number).post_start_date == expected


@pytest.mark.parametrize("typed, code", [
    ("书记", "party_secretary"), ("社区书记", "party_secretary"), ("副书记", "party_deputy_secretary"),
    ("主任", "rc_director"), ("居民委员会主任", "rc_director"), ("副主任", "rc_deputy_director"),
    ("兼职委员", "party_parttime_member"), ("党建社工岗", "party_building_worker"),
    ("普通社工岗", "social_worker"), ("监委会主任", "supervision_director"), (" 网格长 ", "grid_leader"),
])
def test_post_variants(world, typed, code):
    number = plain_id(world.w1)
    data = xlsx(("任职", [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"],
                         [number, "220102001001", typed, "选举", "2021-01-05"]]))
    result = import_roster(data, "posts.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert result.created == c(appointments=1)
    assert Appointment.objects.get(worker=world.w1).post_type.code == code


@pytest.mark.parametrize("column, typed, field, stored", [
    ("民族", "汉", "ethnicity", "01"),
    ("政治面貌", "党员", "political_status", "01"),
    ("政治面貌", "团员", "political_status", "03"),
    ("学历", "本科", "education", "21"),
    ("学历", "大专", "education", "31"),
    ("学历", "硕士", "education", "14"),
    ("学历", "研究生", "education", "14"),
    ("人员类别", "专职", "category", "专职社区工作者"),
    ("人员类别", "公益岗", "category", "公益性岗位"),
])
def test_code_table_and_category_variants(world, column, typed, field, stored):
    number = factories.id_number()
    data = xlsx(("人员", [["姓名", "公民身份号码", "所在社区代码", column], ["吴十", number, "220102001001", typed]]))
    result = import_roster(data, "codes.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert getattr(worker_by_id(number), field) == stored


@pytest.mark.parametrize("typed, stored", [("总支", "党总支"), ("支部", "党支部"), ("党委", "党委"),
                                           ("党总支", "党总支"), (" 党支部 ", "党支部")])
def test_party_organisation_variants(world, typed, stored):
    data = xlsx(("社区", [["统计用区划代码", "社区名称", "党组织类型"], ["220102001001", "东风社区", typed]]))
    result = import_roster(data, "party.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    world.c1.refresh_from_db()
    assert world.c1.party_org_type == stored


def test_sheets_recognised_by_headers_when_names_are_unknown(world):
    number = factories.id_number()
    data = xlsx(("Sheet1", [["姓名", "身份证号", "所在社区代码"], ["郑十一", number, "220102001002"]]),
                ("Sheet2", [["身份证号", "社区代码", "岗位", "任职方式", "任职日期"],
                            [number, "220102001002", "社工", "聘用", "2022-03-01"]]))
    result = import_roster(data, "book1.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert counts(result)[0] == c(0, 1, 1)
    assert worker_by_id(number).community == world.c2


def test_table_not_at_a1_keeps_excel_rows_and_columns(world):
    """Office sheets often start at B3: row numbers and columns stay those Excel shows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws["B2"] = "花名册"
    good, bad = factories.id_number(), bad_check_digit(factories.id_number())
    for r, row in enumerate([["姓名", "公民身份号码", "所在社区代码"], ["甲", good, "220102001001"],
                             ["乙", bad, "220102001001"]], start=4):
        for col, value in enumerate(row, start=2):
            ws.cell(row=r, column=col, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    result = import_roster(buf.getvalue(), "offset.xlsx", actor=system_actor("command"))
    assert not result.ok
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("人员", 6, "公民身份号码")]


# ================================================================ other formats


def test_xls_workbook(world):
    ids = [factories.id_number(), id_ending_in_x()]
    data = xls(
        ("社区", [["统计用区划代码", "社区名称", "街道(乡镇)名称", "户数", "党组织类型"],
                 ["220102001005", "新兴社区", None, "1800", "支部"]]),
        ("人员", [["姓名", "公民身份号码", "民族", "学历", "联系电话", "参加工作日期", "社工岗入职日期", "所在社区代码"],
                 ["冯一", ids[0], "汉", "本科", "13800001111", W, D, "220102001005"],
                 ["陈二", ids[1].lower(), "回", "大专", 13800002222, "2010-07-01", "2019年7月", 220102001005]]),
        ("任职", [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期", "离任日期"],
                 [ids[0], "220102001005", "书记", "选举", dt.date(2021, 1, 5), None],
                 [ids[1], "220102001005", "副主任", "选举", "2021/1/5", None]]),
    )
    assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # really the old binary format
    result = import_roster(data, "花名册.xls", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert counts(result) == (c(1, 2, 2), c(), c())
    community = Division.objects.get(code="220102001005")
    assert (community.households, community.party_org_type, community.parent) == (1800, "党支部", world.c1.parent)
    feng, chen = worker_by_id(ids[0]), worker_by_id(ids[1])
    assert (feng.work_start_date, feng.post_start_date, feng.education) == (W, D, "21")
    assert (chen.work_start_date, chen.post_start_date, chen.education) == (W, D, "31")
    assert decrypt(chen.phone_encrypted) == "13800002222"
    assert chen.community == community
    assert Appointment.objects.get(worker=feng).start_date == dt.date(2021, 1, 5)


def test_xls_errors_carry_excel_rows(world):
    bad = bad_check_digit(factories.id_number())
    data = xls(("人员", [["姓名", "公民身份号码", "所在社区代码"], ["甲", factories.id_number(), "220102001001"],
                        ["乙", bad, "220102001001"]]))
    before = snapshot()
    result = import_roster(data, "坏.xls", actor=system_actor("command"))
    assert not result.ok
    error = issue_at(result.errors, "人员", 4, "公民身份号码")
    assert "校验码" in error.message
    assert snapshot() == before


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding(world, encoding):
    ids = [factories.id_number(), id_ending_in_x()]
    rows = [
        ["长春市南关区社区工作者名单", "", "", "", "", "", ""],
        ["姓 名", "身份证号码(18位)", "民族", "政治面貌", "学历", "社工岗入职日期", "所在社区代码"],
        [" 褚 十二 ", fw(ids[0]), "汉", "党员", "本科", "2019年7月1日", "220102001001"],
        ["卫十三", ids[1].lower(), "朝鲜", "群众", "硕士", "2019.07", fw("220102001002")],
    ]
    data = csv_bytes(rows, encoding)
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    result = import_roster(data, "花名册.csv", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert result.created == c(people=2)
    chu, wei = worker_by_id(ids[0]), worker_by_id(ids[1])
    assert (chu.name, chu.community, chu.ethnicity, chu.political_status, chu.post_start_date) == (
        "褚十二", world.c1, "01", "01", D)
    assert (wei.name, wei.community, wei.education, wei.post_start_date) == ("卫十三", world.c2, "14", D)
    assert ETHNICITY.label(wei.ethnicity) == "朝鲜族"


def test_gbk_csv_errors_carry_line_numbers_and_headers(world):
    bad = bad_check_digit(factories.id_number())
    rows = [["人员名单"], ["姓名", "身份证号", "所在社区代码", "社工岗入职日期"],
            ["蒋十四", factories.id_number(), "220102001001", "2019-07-01"],
            ["沈十五", bad, "220102001001", "2019-07-01"],
            ["韩十六", factories.id_number(), "220102001001", "2019-13-01"]]
    before = snapshot()
    result = import_roster(csv_bytes(rows, "gbk"), "人员.csv", actor=system_actor("command"))
    assert not result.ok
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("人员", 4, "身份证号"), ("人员", 5, "社工岗入职日期")]
    assert "校验码" in result.errors[0].message
    assert "2019-13-01" in result.errors[1].message
    assert snapshot() == before


def test_csv_of_appointments_recognised_by_headers(world):
    rows = [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"],
            [plain_id(world.w2), "220102001002", "主任", "选举", "2021/1/5"]]
    result = import_roster(csv_bytes(rows, "utf-8"), "export_2024.csv", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert result.created == c(appointments=1)
    assert Appointment.objects.get(worker=world.w2).post_type.code == "rc_director"


def test_unsupported_file_type_is_an_error(db):
    result = import_roster(b"hello", "花名册.txt", actor=system_actor("command"))
    assert not result.ok
    assert result.errors and CJK.search(result.errors[0].message)


# ================================================================ every error, all at once


@pytest.fixture
def broken(world):
    """A workbook with a title row above every header row (data from Excel row 3) and one of each error."""
    good = factories.id_number()
    dup = id_ending_in_x()
    bad = bad_check_digit(factories.id_number())
    stranger = factories.id_number()
    male = factories.id_number(gender="男")
    communities = [
        ["统计用区划代码", "社区名称", "街道(乡镇)名称", "户数(户)", "常住人口"],
        ["220102001003", "新建社区", None, "2000", "5000"],                              # 3
        ["220102001004", "坏户数社区", None, "两千户", "5000"],                          # 4 户数
    ]
    people = [
        ["姓名", "身份证号码", "所在社区代码", "社工岗入职日期", "性别"],
        ["甲", good, "220102001003", "2019-07-01", "男" if good[16] in "13579" else "女"],  # 3
        ["乙", bad, "220102001001", "2019-07-01", None],                                  # 4 check digit
        ["丙", factories.id_number(), "220102001001", "2019-02-30", None],                 # 5 impossible date
        ["丁", dup, "220102001001", "2019-07-01", None],                                   # 6 duplicate
        ["戊", 220102198503140011, "220102001001", "2019-07-01", None],                    # 7 ID as a number
        ["己", dup.lower(), "220102001002", "2018-01-01", None],                           # 8 duplicate
        ["庚", male, "220102001001", None, "女"],                                          # 9 gender
    ]
    appointments = [
        ["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"],
        [good, "220102001003", "书记", "选举", "2021-01-05"],                             # 3
        [good, "220102001003", "大队长", "选举", "2021-01-05"],                           # 4 unknown post
        [stranger, "220102001001", "社工", "聘用", "2021-01-05"],                         # 5 nobody
        [good, "220102001003", "主任", "选举", "2021/2/29"],                              # 6 impossible date
        [220102198503140011, "220102001001", "社工", "聘用", "2021-01-05"],               # 7 ID as a number
    ]
    data = xlsx(("社区", communities), ("人员", people), ("任职", appointments))
    return {"data": data, "bad": bad, "dup": dup, "stranger": stranger}


EXPECTED_ERRORS = {
    ("社区", 4, "户数(户)"),
    ("人员", 4, "身份证号码"),
    ("人员", 5, "社工岗入职日期"),
    ("人员", 6, "身份证号码"),
    ("人员", 7, "身份证号码"),
    ("人员", 8, "身份证号码"),
    ("人员", 9, "性别"),
    ("任职", 4, "岗位"),
    ("任职", 5, "公民身份号码"),
    ("任职", 6, "任职日期"),
    ("任职", 7, "公民身份号码"),
}


def test_every_error_reported_and_nothing_written(broken):
    before = snapshot()
    result = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    assert not result.ok
    assert {(e.sheet, e.row, e.column) for e in result.errors} == EXPECTED_ERRORS, describe(result.errors)
    for e in result.errors:
        assert CJK.search(e.message), e
    assert counts(result) == (c(), c(), c())  # nothing counted as written
    assert snapshot() == before
    assert not Division.objects.filter(code="220102001003").exists()


def test_dry_run_of_a_broken_file_reports_the_same_errors(broken):
    real = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    dry = import_roster(broken["data"], "坏花名册.xlsx", dry_run=True, actor=system_actor("command"))
    assert describe(dry.errors) == describe(real.errors)


def test_error_bad_check_digit(broken):
    result = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    e = issue_at(result.errors, "人员", 4, "身份证号码")
    assert "校验码" in e.message
    assert e.value == mask_id_number(broken["bad"])  # the report masks the number
    assert broken["bad"] not in e.value


def test_error_impossible_date(broken):
    result = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    e = issue_at(result.errors, "人员", 5, "社工岗入职日期")
    assert e.value == "2019-02-30"
    assert "不存在" in e.message
    e = issue_at(result.errors, "任职", 6, "任职日期")
    assert e.value == "2021/2/29"
    assert "不存在" in e.message


def test_error_unknown_post(broken):
    result = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    e = issue_at(result.errors, "任职", 4, "岗位")
    assert e.value == "大队长"
    assert "大队长" in e.message and "岗位" in e.message


def test_error_appointment_of_a_person_in_neither_file_nor_database(broken):
    result = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    e = issue_at(result.errors, "任职", 5, "公民身份号码")
    assert "既不在" in e.message and "系统" in e.message
    assert e.value == mask_id_number(broken["stranger"])


def test_error_same_id_twice_reports_both_rows(broken):
    result = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    first = issue_at(result.errors, "人员", 6, "身份证号码")
    second = issue_at(result.errors, "人员", 8, "身份证号码")
    for e in (first, second):
        assert "重复" in e.message
        assert "6" in e.message and "8" in e.message
    assert first.value == mask_id_number(broken["dup"])


def test_error_id_stored_as_a_number(broken):
    result = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    for sheet, column in (("人员", "身份证号码"), ("任职", "公民身份号码")):
        e = issue_at(result.errors, sheet, 7, column)
        assert "数字" in e.message and "文本" in e.message


def test_error_households_not_a_number(broken):
    result = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    e = issue_at(result.errors, "社区", 4, "户数(户)")  # the header as written, full-width brackets kept
    assert e.value == "两千户"
    assert "户数" in e.message and "整数" in e.message


def test_error_gender_disagrees_with_id_number(broken):
    result = import_roster(broken["data"], "坏花名册.xlsx", actor=system_actor("command"))
    e = issue_at(result.errors, "人员", 9, "性别")
    assert "不符" in e.message


def test_good_rows_of_the_broken_file_would_import(broken, world):
    """The control: with the bad rows gone the same file is accepted (so the checks above can fail)."""
    wb = openpyxl.load_workbook(io.BytesIO(broken["data"]))
    for sheet, keep in (("社区", 4), ("人员", 4), ("任职", 4)):
        ws = wb[sheet]
        ws.delete_rows(keep, ws.max_row - keep + 1)
    buf = io.BytesIO()
    wb.save(buf)
    result = import_roster(buf.getvalue(), "好花名册.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert result.created == c(1, 1, 1)


@pytest.mark.parametrize("sheet, headers, missing", [
    ("人员", ["姓名", "公民身份号码", "联系电话"], "所在社区代码"),
    ("人员", ["姓名", "所在社区代码", "联系电话"], "公民身份号码"),
    ("任职", ["公民身份号码", "社区代码", "任职方式", "任职日期"], "岗位"),
    ("社区", ["社区名称", "街道(乡镇)名称", "户数"], "统计用区划代码"),
])
def test_error_missing_required_column(world, sheet, headers, missing):
    row = {"姓名": "甲", "公民身份号码": factories.id_number(), "联系电话": "13900001111",
           "所在社区代码": "220102001001", "社区代码": "220102001001", "任职方式": "选举",
           "任职日期": "2021-01-05", "社区名称": "东风社区", "街道(乡镇)名称": "测试001街道", "户数": "3000"}
    before = snapshot()
    result = import_roster(xlsx((sheet, [headers, [row[h] for h in headers]])), "缺列.xlsx", actor=system_actor("command"))
    assert not result.ok
    e = issue_at(result.errors, sheet, 2, missing)  # the header row, under the title row
    assert "缺少" in e.message and missing in e.message
    assert snapshot() == before


def test_error_community_neither_in_file_nor_database(world):
    data = xlsx(("人员", [["姓名", "公民身份号码", "所在社区代码"], ["甲", factories.id_number(), "220102001099"]]))
    result = import_roster(data, "x.xlsx", actor=system_actor("command"))
    e = issue_at(result.errors, "人员", 3, "所在社区代码")
    assert "220102001099" in e.message


def test_error_new_street_without_name(db):
    data = xlsx(("社区", [["统计用区划代码", "社区名称"], ["220104007001", "无名街道社区"]]))
    result = import_roster(data, "x.xlsx", actor=system_actor("command"))
    e = issue_at(result.errors, "社区", 3, "街道(乡镇)名称")
    assert "220104007" in e.message
    assert not Division.objects.filter(code__startswith="220104").exists()


# ================================================================ all or nothing


def test_one_bad_row_among_many_writes_nothing(world):
    ids = [factories.id_number() for _ in range(40)]
    people = [["姓名", "公民身份号码", "所在社区代码", "联系电话", "社工岗入职日期"]]
    posts = [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"]]
    for i, number in enumerate(ids):
        code = ("220102001001", "220102001002", "220102002001")[i % 3]
        people.append([f"成员{i}", number, code, f"1391000{i:04d}", "2019-07-01"])
        posts.append([number, code, "社工", "聘用", "2021-01-05"])
    communities = [["统计用区划代码", "社区名称", "户数"], ["220102001001", "东风社区", 2600],
                   ["220102001006", "新社区", 1500]]
    bad_posts = [row[:] for row in posts]
    bad_posts[25][4] = "2021-06-31"  # Excel row 27
    before = snapshot()
    result = import_roster(xlsx(("社区", communities), ("人员", people), ("任职", bad_posts)), "大批.xlsx", actor=system_actor("command"))
    assert not result.ok
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("任职", 27, "任职日期")]
    assert snapshot() == before
    world.c1.refresh_from_db()
    assert world.c1.households == 2500
    # the same file without the bad value is accepted and writes everything
    result = import_roster(xlsx(("社区", communities), ("人员", people), ("任职", posts)), "大批.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert counts(result) == (c(1, 40, 40), c(communities=1), c())
    after = snapshot()
    assert after["Worker"][0] == before["Worker"][0] + 40
    assert after["Appointment"][1] == before["Appointment"][1] + 40


# ================================================================ idempotence, updates and history


def test_importing_the_same_file_twice_changes_nothing_the_second_time(db, office):
    first = import_roster(office["data"], "红旗街道花名册.xlsx", actor=system_actor("command"))
    assert first.ok, describe(first.errors)
    after_first = snapshot()
    second = import_roster(office["data"], "红旗街道花名册.xlsx", actor=system_actor("command"))
    assert second.ok, describe(second.errors)
    assert second.created == c()
    assert second.updated == c()
    assert second.unchanged == c(2, 6, 6)
    assert snapshot() == after_first


def test_a_changed_value_updates_the_row_with_history(world):
    newcomer = factories.id_number()
    headers_c = ["统计用区划代码", "社区名称", "户数"]
    headers_p = ["姓名", "公民身份号码", "联系电话", "所在社区代码"]
    v1 = xlsx(("社区", [headers_c, ["220102001001", "东风社区", 2500]]),
              ("人员", [headers_p, ["新人", newcomer, "13700000001", "220102001001"],
                        ["张三", plain_id(world.w1), decrypt(world.w1.phone_encrypted), "220102001001"]]))
    first = import_roster(v1, "花名册-第一版.xlsx", actor=system_actor("command"))
    assert first.ok, describe(first.errors)
    assert counts(first) == (c(people=1), c(), c(1, 1))
    person = worker_by_id(newcomer)
    history_before = snapshot()
    w1_history = world.w1.history.count()

    v2 = xlsx(("社区", [headers_c, ["220102001001", "东风社区", "2,600"]]),
              ("人员", [headers_p, ["新人", newcomer, "13700000002", "220102001001"],
                        ["张三", plain_id(world.w1), decrypt(world.w1.phone_encrypted), "220102001001"]]))
    street_admin = world.users["street"]
    second = import_roster(v2, "花名册-第二版.xlsx", actor=street_admin)
    assert second.ok, describe(second.errors)
    assert second.created == c()
    assert second.updated == c(communities=1, people=1)
    assert second.unchanged == c(people=1)

    world.c1.refresh_from_db()
    assert world.c1.households == 2600
    person.refresh_from_db()
    assert decrypt(person.phone_encrypted) == "13700000002"
    assert person.phone_masked.startswith("137") and "*" in person.phone_masked

    after = snapshot()
    assert after["Division"] == (history_before["Division"][0], history_before["Division"][1] + 1)
    assert after["Worker"] == (history_before["Worker"][0], history_before["Worker"][1] + 1)
    assert after["Appointment"] == history_before["Appointment"]
    assert world.w1.history.count() == w1_history  # the unchanged person has no new record
    for model, pk in ((Division, world.c1.pk), (Worker, person.pk)):
        record = last_history(model, pk)
        assert "花名册-第二版.xlsx" in (record.history_change_reason or "")
        assert record.history_type == "~"
        assert record.history_user_id == street_admin.pk
    assert last_history(Division, world.c1.pk).households == 2600


def test_appointment_end_date_added_later_is_an_update(world):
    number = plain_id(world.w2)
    headers = ["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期", "离任日期"]
    first = import_roster(xlsx(("任职", [headers, [number, "220102001002", "副主任", "选举", "2021-01-05", None]])),
                          "任职.xlsx", actor=system_actor("command"))
    assert first.created == c(appointments=1)
    second = import_roster(xlsx(("任职", [headers, [number, "220102001002", "副主任", "选举", "2021-01-05",
                                                   "2024年6月30日"]])), "任职-离任.xlsx", actor=system_actor("command"))
    assert second.ok, describe(second.errors)
    assert (second.created, second.updated) == (c(), c(appointments=1))
    appointment = Appointment.objects.get(worker=world.w2)
    assert appointment.end_date == dt.date(2024, 6, 30)
    assert "任职-离任.xlsx" in last_history(Appointment, appointment.pk).history_change_reason


def test_dry_run_writes_nothing_but_counts_the_same(world):
    ids = [factories.id_number() for _ in range(3)]
    data = xlsx(
        ("社区", [["统计用区划代码", "社区名称", "街道(乡镇)名称", "户数"],
                 ["220102001001", "东风社区", None, 2700],
                 ["220102001007", "新社区", None, 1200],
                 ["220102001002", "幸福社区", None, 2500]]),
        ("人员", [["姓名", "公民身份号码", "联系电话", "所在社区代码"],
                 *[[f"新{i}", n, None, "220102001007"] for i, n in enumerate(ids)],
                 ["张三", plain_id(world.w1), "13600000000", "220102001001"]]),
        ("任职", [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"],
                 *[[n, "220102001007", "社工", "聘用", "2022-01-01"] for n in ids]]),
    )
    before = snapshot()
    phone = decrypt(world.w1.phone_encrypted)
    dry = import_roster(data, "dry.xlsx", dry_run=True, actor=system_actor("command"))
    assert dry.ok and dry.dry_run
    assert counts(dry) == (c(1, 3, 3), c(communities=1, people=1), c(communities=1))
    assert snapshot() == before
    assert not Division.objects.filter(code="220102001007").exists()
    world.w1.refresh_from_db()
    assert decrypt(world.w1.phone_encrypted) == phone
    real = import_roster(data, "dry.xlsx", actor=system_actor("command"))
    assert real.ok and not real.dry_run
    assert counts(real) == counts(dry)
    assert snapshot() != before


# ================================================================ scope


def test_street_admin_cannot_import_into_another_street(world):
    admin = world.users["street"]  # street 220102001
    number = factories.id_number()
    data = xlsx(
        ("社区", [["统计用区划代码", "社区名称", "户数"], ["220102002002", "别人的社区", 1000],
                 ["220202001001", "吉林测试社区", 3000]]),
        ("人员", [["姓名", "公民身份号码", "所在社区代码"], ["越界", number, "220102002001"],
                 ["王五", plain_id(world.w3), "220102001001"]]),
        ("任职", [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"],
                 [plain_id(world.w3), "220102002001", "社工", "聘用", "2021-01-05"]]),
    )
    before = snapshot()
    result = import_roster(data, "越界.xlsx", actor=admin)
    assert not result.ok
    for sheet, row, column, code in (("社区", 3, "统计用区划代码", "220102002002"),
                                     ("社区", 4, "统计用区划代码", "220202001001"),
                                     ("人员", 3, "所在社区代码", "220102002001"),
                                     ("任职", 3, "社区代码", "220102002001")):
        e = issue_at(result.errors, sheet, row, column)
        assert code in e.message and "范围" in e.message
    e = issue_at(result.errors, "人员", 4, "公民身份号码")  # moving someone in from another street
    assert "范围" in e.message
    assert snapshot() == before
    world.w3.refresh_from_db()
    assert world.w3.community == world.c3


def test_street_admin_imports_inside_their_street(world):
    admin = world.users["street"]
    number = factories.id_number()
    data = xlsx(
        ("社区", [["统计用区划代码", "社区名称", "户数"], ["220102001008", "本街道新社区", 900]]),
        ("人员", [["姓名", "公民身份号码", "所在社区代码"], ["界内", number, "220102001008"]]),
        ("任职", [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"],
                 [number, "220102001008", "书记", "选举", "2021-01-05"]]),
    )
    result = import_roster(data, "界内.xlsx", actor=admin)
    assert result.ok, describe(result.errors)
    assert result.created == c(1, 1, 1)
    person = worker_by_id(number)
    assert person.community.code == "220102001008"
    assert person.community.parent == world.c1.parent
    assert last_history(Worker, person.pk).history_user_id == admin.pk


def test_community_admin_is_limited_to_their_community(world):
    admin = world.users["community"]  # 220102001001
    data = xlsx(("人员", [["姓名", "公民身份号码", "所在社区代码"], ["甲", factories.id_number(), "220102001002"],
                         ["乙", factories.id_number(), "220102001001"]]))
    result = import_roster(data, "社区.xlsx", actor=admin)
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [("人员", 3, "所在社区代码")]


def test_user_without_grant_imports_nothing(world):
    data = xlsx(("人员", [["姓名", "公民身份号码", "所在社区代码"], ["甲", factories.id_number(), "220102001001"]]))
    before = snapshot()
    result = import_roster(data, "x.xlsx", actor=world.users["nobody"])
    assert not result.ok
    assert snapshot() == before


# ================================================================ the `import` and `template` commands


def run_import(path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import", str(path), *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


DOCUMENTED_KEYS = {"ok", "created", "updated", "unchanged", "errors", "warnings"}
ERROR_KEYS = {"sheet", "row", "name", "column", "value", "message"}


def test_import_command_json_success(world, tmp_path, office):
    path = tmp_path / "红旗街道花名册.xlsx"
    path.write_bytes(office["data"])
    code, out = run_import(path, "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert set(payload) >= DOCUMENTED_KEYS
    assert payload["ok"] is True
    assert payload["created"] == c(2, 6, 6)
    assert payload["updated"] == c() and payload["unchanged"] == c()
    assert payload["errors"] == []
    assert {"备注", "序号"} <= {w["column"] for w in payload["warnings"]}
    assert all(set(w) == ERROR_KEYS for w in payload["warnings"])
    assert Division.objects.filter(code="220104005002").exists()
    code, out = run_import(path, "--format", "json")
    assert code == 0
    assert json.loads(out)["unchanged"] == c(2, 6, 6)


def test_import_command_json_rejection_exits_1(broken, tmp_path):
    path = tmp_path / "坏花名册.xlsx"
    path.write_bytes(broken["data"])
    before = snapshot()
    code, out = run_import(path, "--format", "json")
    assert code == 1
    payload = json.loads(out)
    assert set(payload) >= DOCUMENTED_KEYS
    assert payload["ok"] is False
    assert {(e["sheet"], e["row"], e["column"]) for e in payload["errors"]} == EXPECTED_ERRORS
    for e in payload["errors"]:
        assert set(e) == ERROR_KEYS
        assert isinstance(e["row"], int)
        assert CJK.search(e["message"])
    assert snapshot() == before


def test_import_command_call_command_raises_system_exit_1(broken, tmp_path):
    path = tmp_path / "坏花名册.xlsx"
    path.write_bytes(broken["data"])
    with pytest.raises(SystemExit) as exc:
        call_command("import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert exc.value.code == 1


def test_import_command_dry_run(world, tmp_path, office):
    path = tmp_path / "花名册.xlsx"
    path.write_bytes(office["data"])
    before = snapshot()
    code, out = run_import(path, "--dry-run", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["ok"] is True
    assert payload["created"] == c(2, 6, 6)
    assert snapshot() == before
    code, out = run_import(path, "--dry-run")
    assert code == 0
    assert "--dry-run" in out or "未写入" in out
    assert snapshot() == before


def test_import_command_dry_run_of_a_broken_file_exits_1(broken, tmp_path):
    path = tmp_path / "坏.xlsx"
    path.write_bytes(broken["data"])
    code, out = run_import(path, "--dry-run", "--format", "json")
    assert code == 1
    assert json.loads(out)["ok"] is False


def test_import_command_text_output_lists_errors(broken, tmp_path):
    path = tmp_path / "坏花名册.xlsx"
    path.write_bytes(broken["data"])
    code, out = run_import(path)
    assert code == 1
    assert "大队长" in out
    assert "第 4 行" in out
    assert broken["bad"] not in out  # ID numbers masked in the report


def test_import_command_with_user_scope(world, tmp_path):
    path = tmp_path / "越界.xlsx"
    path.write_bytes(xlsx(("人员", [["姓名", "公民身份号码", "所在社区代码"],
                                    ["越界", factories.id_number(), "220102002001"]])))
    code, out = run_import(path, "--user", "street", "--format", "json")
    assert code == 1
    assert "220102002001" in json.loads(out)["errors"][0]["message"]
    code, _ = run_import(path, "--format", "json")  # the system imports anywhere
    assert code == 0


TEMPLATE = {
    "社区": ["统计用区划代码", "社区名称", "街道(乡镇)名称", "户数", "常住人口", "党组织类型"],
    "人员": ["姓名", "公民身份号码", "民族", "政治面貌", "学历", "联系电话", "人员类别", "参加工作日期",
           "社工岗入职日期", "所在社区代码", "性别", "出生日期", "状态"],
    "任职": ["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期", "离任日期", "姓名"],
}


def test_template_command_writes_three_sheets_with_canonical_headers(db, tmp_path):
    path = tmp_path / "花名册模板.xlsx"
    out = io.StringIO()
    call_command("template", str(path), stdout=out)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["填写说明", *TEMPLATE, "代码表"]
    for name, headers in TEMPLATE.items():
        rows = list(wb[name].iter_rows(values_only=True))
        assert len(rows) == 2, name  # the header and the example row
        assert list(rows[0]) == headers
        assert str(rows[1][0]).startswith("示例:")
    # the untouched template (its example rows skipped) is a valid, empty import
    result = import_roster(path.read_bytes(), path.name, actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert counts(result) == (c(), c(), c())


def test_filled_template_imports(world, tmp_path):
    path = tmp_path / "模板.xlsx"
    call_command("template", str(path), stdout=io.StringIO())
    wb = openpyxl.load_workbook(path)
    number = factories.id_number()
    wb["社区"].append(["220102001009", "模板社区", None, 1000, 3000, "党支部"])
    wb["人员"].append(["模板人", number, "汉族", "中共党员", "大学本科", "13500000000", "专职社区工作者",
                     W, D, "220102001009"])
    wb["任职"].append([number, "220102001009", "党组织书记", "选举", dt.date(2021, 1, 5), None])
    wb.save(path)
    result = import_roster(path.read_bytes(), path.name, actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert result.created == c(1, 1, 1)
    assert [(w.sheet, w.row) for w in result.warnings] == [("社区", 2), ("人员", 2), ("任职", 2)]  # the examples


# ================================================================ more error kinds, one row each

PEOPLE_BASE = {"姓名": "甲", "公民身份号码": None, "所在社区代码": "220102001001", "联系电话": "13900000000",
               "民族": "汉", "人员类别": "专职", "社工岗入职日期": "2019-07-01"}
COMMUNITY_BASE = {"统计用区划代码": "220102001001", "社区名称": "东风社区", "户数": "2500", "党组织类型": "党委"}
APPOINTMENT_BASE = {"公民身份号码": None, "社区代码": "220102001002", "岗位": "社工", "任职方式": "聘用",
                    "任职日期": "2021-01-05", "离任日期": None}


@pytest.mark.parametrize("sheet, column, typed, words", [
    ("人员", "公民身份号码", "220102850314001", ["15 位"]),
    ("人员", "公民身份号码", "22010219850314001", ["18 位"]),
    ("人员", "公民身份号码", "220102198502300011", ["出生日期", "不存在"]),
    ("人员", "所在社区代码", "220102001", ["不是社区代码"]),
    ("人员", "所在社区代码", "22010200100A", ["数字"]),
    ("人员", "社工岗入职日期", "2099-01-01", ["晚于今天"]),
    ("人员", "社工岗入职日期", "下个月", ["无法识别"]),
    ("人员", "联系电话", "1391234", ["11 位"]),
    ("人员", "民族", "火星族", ["GB/T 3304"]),
    ("人员", "人员类别", "临时工", ["人员类别", "临时工"]),
    ("社区", "户数", "-5", ["户数"]),
    ("社区", "户数", "2500.5", ["户数"]),
    ("社区", "党组织类型", "党小组", ["党组织类型", "党小组"]),
    ("社区", "统计用区划代码", "229901001001", ["229901", "GB/T 2260"]),
    ("社区", "社区名称", None, ["社区名称", "不能为空"]),
    ("任职", "任职方式", "抽签", ["任职方式", "抽签"]),
    ("任职", "离任日期", "2020-12-31", ["早于"]),
    ("任职", "任职日期", "2001-01-01", ["18 周岁"]),
    ("任职", "任职日期", None, ["任职日期", "不能为空"]),
    ("任职", "社区代码", "220102001077", ["220102001077", "既不在"]),
])
def test_error_kinds_one_row_each(world, sheet, column, typed, words):
    base = {"人员": PEOPLE_BASE, "社区": COMMUNITY_BASE, "任职": APPOINTMENT_BASE}[sheet]
    row = dict(base)
    if "公民身份号码" in row:
        row["公民身份号码"] = factories.id_number() if sheet == "人员" else plain_id(world.w2)
    row[column] = typed
    headers = list(row)
    data = xlsx((sheet, [headers, [row[h] for h in headers]]))
    before = snapshot()
    result = import_roster(data, "一行.xlsx", actor=system_actor("command"))
    assert not result.ok
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [(sheet, 3, column)], describe(result.errors)
    for word in words:
        assert word in result.errors[0].message
    assert snapshot() == before
    # the control: the same row with the base value imports
    row[column] = base[column]
    if column == "公民身份号码":
        row[column] = factories.id_number()
    ok = import_roster(xlsx((sheet, [headers, [row[h] for h in headers]])), "一行.xlsx", actor=system_actor("command"))
    assert ok.ok, describe(ok.errors)


def test_error_duplicate_community_code_reports_both_rows(world):
    data = xlsx(("社区", [["统计用区划代码", "社区名称"], ["220102001011", "甲社区"], ["220102001012", "乙社区"],
                         [fw("220102001011"), "丙社区"]]))
    result = import_roster(data, "x.xlsx", actor=system_actor("command"))
    assert {(e.row, e.column) for e in result.errors} == {(3, "统计用区划代码"), (5, "统计用区划代码")}
    assert all("重复" in e.message and "3" in e.message and "5" in e.message for e in result.errors)


def test_error_duplicate_appointment_reports_both_rows(world):
    number = plain_id(world.w1)
    headers = ["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"]
    data = xlsx(("任职", [headers, [number, "220102001001", "书记", "选举", "2021-01-05"],
                         [number, "220102001001", "党组织书记", "选举", "2021/1/5"]]))
    result = import_roster(data, "x.xlsx", actor=system_actor("command"))
    assert not result.ok
    assert {e.row for e in result.errors} == {3, 4}
    assert all("重复" in e.message for e in result.errors)
    assert not Appointment.objects.filter(worker=world.w1).exists()


def test_error_overlap_with_a_current_post_in_the_database(world):
    factories.appoint(world.w1, "党组织书记")  # 2021-01-05, current
    data = xlsx(("任职", [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"],
                         [plain_id(world.w1), "220102001001", "书记", "选举", "2022-03-01"]]))
    before = snapshot()
    result = import_roster(data, "x.xlsx", actor=system_actor("command"))
    assert not result.ok
    e = issue_at(result.errors, "任职", 3, "任职日期")
    assert "重叠" in e.message
    assert snapshot() == before


def test_re_election_ends_the_old_post_and_starts_a_new_one(world):
    factories.appoint(world.w1, "党组织书记", start=dt.date(2018, 1, 5))
    number = plain_id(world.w1)
    data = xlsx(("任职", [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期", "离任日期"],
                         [number, "220102001001", "书记", "选举", "2018-01-05", "2021-01-04"],
                         [number, "220102001001", "书记", "选举", "2021-01-05", None]]))
    result = import_roster(data, "换届.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert (result.created, result.updated) == (c(appointments=1), c(appointments=1))
    spans = list(Appointment.objects.filter(worker=world.w1).order_by("start_date")
                 .values_list("start_date", "end_date"))
    assert spans == [(dt.date(2018, 1, 5), dt.date(2021, 1, 4)), (dt.date(2021, 1, 5), None)]


def test_status_change_to_leaving_with_a_current_post_is_refused(world):
    """A worker leaves only after every current post has ended (as worker_update enforces)."""
    factories.appoint(world.w1, "党组织书记")
    data = xlsx(("人员", [["姓名", "公民身份号码", "所在社区代码", "状态"],
                         ["张三", plain_id(world.w1), "220102001001", "辞职"]]))
    before = snapshot()
    result = import_roster(data, "辞职.xlsx", actor=system_actor("command"))
    assert not result.ok, "a worker with a current post was set to 辞职"
    e = issue_at(result.errors, "人员", 3, "状态")
    assert "党组织书记" in e.message or "离任" in e.message
    assert snapshot() == before
    world.w1.refresh_from_db()
    assert world.w1.status == "在岗"


def test_status_change_with_the_post_ended_in_the_same_file(world):
    factories.appoint(world.w1, "党组织书记")
    number = plain_id(world.w1)
    data = xlsx(("人员", [["姓名", "公民身份号码", "所在社区代码", "状态"], ["张三", number, "220102001001", "离职"]]),
                ("任职", [["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期", "离任日期"],
                         [number, "220102001001", "书记", "选举", "2021-01-05", "2024-05-31"]]))
    result = import_roster(data, "辞职.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    world.w1.refresh_from_db()
    assert world.w1.status == "辞职"
    assert Appointment.objects.get(worker=world.w1).end_date == dt.date(2024, 5, 31)


def test_moving_a_worker_to_another_community_is_an_update(world):
    data = xlsx(("人员", [["姓名", "公民身份号码", "所在社区代码"], ["李四", plain_id(world.w2), "220102001001"]]))
    result = import_roster(data, "调动.xlsx", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    assert result.updated == c(people=1)
    world.w2.refresh_from_db()
    assert world.w2.community == world.c1
    record = last_history(Worker, world.w2.pk)
    assert record.community_id == world.c1.pk and "调动.xlsx" in record.history_change_reason


def test_blank_rows_two_title_rows_and_marked_headers_keep_excel_numbers(world):
    bad = bad_check_digit(factories.id_number())
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["长春市南关区"])
    ws.append(["社区工作者花名册", None, None, "填报日期:2024年12月"])
    ws.append(["*姓名", "公民身份\n号码", "所在社区代码 *"])   # required marks and a line break
    ws.append(["甲", factories.id_number(), "220102001001"])   # 4
    ws.append([])                                               # 5 blank
    ws.append([None, " ", None])                                # 6 spaces only
    ws.append(["乙", bad, "220102001001"])                      # 7
    buf = io.BytesIO()
    wb.save(buf)
    result = import_roster(buf.getvalue(), "x.xlsx", actor=system_actor("command"))
    assert [(e.sheet, e.row) for e in result.errors] == [("人员", 7)], describe(result.errors)
    assert "".join(result.errors[0].column.split()) == "公民身份号码"  # the header as written, line break aside
    assert "校验码" in result.errors[0].message


def test_csv_saved_by_excel_with_date_time_cells(world):
    """Excel's “save as CSV” writes a date-time cell as “2019/7/10 0:00”: the date is 2019-07-10."""
    ids = [factories.id_number() for _ in range(3)]
    rows = [["姓名", "公民身份号码", "所在社区代码", "参加工作日期", "社工岗入职日期"],
            ["甲", ids[0], "220102001001", "2010/7/1 0:00", "2019/7/10 0:00"],
            ["乙", ids[1], "220102001001", "2010-07-21 8:30", "2019-07-21 08:30"],
            ["丙", ids[2], "220102001001", "2010/12/25 9:05:00", "2019-12-25T00:00:00"]]
    result = import_roster(csv_bytes(rows, "gbk"), "人员.csv", actor=system_actor("command"))
    assert result.ok, describe(result.errors)
    got = [(worker_by_id(n).work_start_date, worker_by_id(n).post_start_date) for n in ids]
    assert got == [(dt.date(2010, 7, 1), dt.date(2019, 7, 10)),
                   (dt.date(2010, 7, 21), dt.date(2019, 7, 21)),
                   (dt.date(2010, 12, 25), dt.date(2019, 12, 25))]


@pytest.mark.parametrize("fmt", ["csv", "xls"])
def test_csv_and_xls_imports_are_idempotent(world, fmt):
    ids = [factories.id_number(), id_ending_in_x()]
    people = [["姓名", "身份证号", "民族", "政治面貌", "学历", "联系电话", "人员类别", "社工岗入职日期", "所在社区代码"],
              ["甲", ids[0], "汉", "党员", "本科", "0431-88886666", "专职", "2019年7月", "220102001001"],
              ["乙", ids[1].lower(), "回", "群众", "大专", "13900001234", "兼职", "2019.07", "220102001002"]]
    data = csv_bytes(people, "gbk") if fmt == "csv" else xls(("人员", people))
    name = f"人员.{fmt}"
    first = import_roster(data, name, actor=system_actor("command"))
    assert first.ok and first.created == c(people=2), describe(first.errors)
    after = snapshot()
    second = import_roster(data, name, actor=system_actor("command"))
    assert (second.created, second.updated, second.unchanged) == (c(), c(), c(people=2))
    assert snapshot() == after


def test_city_admin_creates_a_new_street_in_scope(world):
    admin = world.users["city"]  # 2201
    data = xlsx(("社区", [["统计用区划代码", "社区名称", "街道(乡镇)名称"], ["220105003001", "东站社区", "东站街道"]]))
    result = import_roster(data, "二道区.xlsx", actor=admin)
    assert result.ok, describe(result.errors)
    street = Division.objects.get(code="220105003")
    assert (street.name, street.parent.name, street.parent.parent.code) == ("东站街道", "二道区", "2201")
    assert last_history(Division, street.pk).history_user_id == admin.pk
    outside = import_roster(xlsx(("社区", [["统计用区划代码", "社区名称", "街道(乡镇)名称"],
                                           ["220202009001", "外市社区", "外市街道"]])), "外市.xlsx", actor=admin)
    assert not outside.ok
    assert "220202009001" in outside.errors[0].message
    assert not Division.objects.filter(code="220202009").exists()
