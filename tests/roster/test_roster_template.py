"""The roster template (issue 11 point 9): a 填写说明 sheet first, one example row per data sheet (skipped
on import), drop-down lists for every code-table column from a hidden 代码表 sheet, date formats with an
input message, a comment on every header. Opened with openpyxl as written, and imported as downloaded."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.test import Client

from shegong.access import system_actor
from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.roster.imports import import_roster
from shegong.staffing.models import Appointment, PostType

LISTS = {  # sheet -> {header: the 代码表 column it offers}
    "社区": {"党组织类型": "党组织类型"},
    "人员": {"民族": "民族", "政治面貌": "政治面貌", "学历": "学历", "人员类别": "人员类别", "性别": "性别", "状态": "状态"},
    "任职": {"岗位": "岗位", "任职方式": "任职方式"},
}
DATES = {"人员": ["参加工作日期", "社工岗入职日期", "出生日期"], "任职": ["任职日期", "离任日期"]}
REQUIRED = {"社区": ["统计用区划代码", "社区名称"], "人员": ["姓名", "公民身份号码", "所在社区代码"],
            "任职": ["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期"]}


def _download(world) -> bytes:
    c = Client()
    c.force_login(world.users["community"])
    resp = c.get("/roster/template.xlsx")
    assert resp.status_code == 200
    return b"".join(resp.streaming_content)


def _headers(ws) -> dict[str, str]:
    """header -> column letter"""
    return {cell.value: cell.column_letter for cell in ws[1]}


def _validation(ws, letter: str):
    """The one data validation that covers the column's cells from row 2 down."""
    found = [dv for dv in ws.data_validations.dataValidation if f"{letter}2" in dv.sqref and f"{letter}500" in dv.sqref]
    assert len(found) == 1, (ws.title, letter, found)
    return found[0]


def _range_values(wb, formula: str) -> list[str]:
    m = re.fullmatch(r"'?(?P<sheet>[^'!]+)'?!\$(?P<col>[A-Z]+)\$(?P<top>\d+):\$[A-Z]+\$(?P<bottom>\d+)", formula)
    assert m, formula
    ws = wb[m["sheet"]]
    return [ws[f"{m['col']}{r}"].value for r in range(int(m["top"]), int(m["bottom"]) + 1)]


@pytest.mark.django_db
def test_template_sheets_instructions_lists_dates_and_comments(world):
    wb = openpyxl.load_workbook(io.BytesIO(_download(world)))
    assert wb.sheetnames == ["填写说明", "社区", "人员", "任职", "代码表"]
    assert wb["代码表"].sheet_state == "hidden" and wb["填写说明"].sheet_state == "visible"

    text = "\n".join(str(v) for row in wb["填写说明"].iter_rows(values_only=True) for v in row if v)
    for needle in ("3.2", "公益性岗位", "GB/T 3304", "GB/T 4762", "GB/T 4658", "GB/T 2260", "GB 11643", "2021-01-05",
                   "汉→汉族", "党员→", "本科→大学本科", "大专→大学专科", "专职→专职社区工作者", "示例", "必填"):
        assert needle in text, needle
    for sheet, headers in REQUIRED.items():  # the column table names each required column as such
        for header in headers:
            assert any(r[0] == sheet and r[1] == header and r[2] == "是"
                       for r in wb["填写说明"].iter_rows(values_only=True)), (sheet, header)

    for sheet, lists in LISTS.items():
        ws = wb[sheet]
        letters = _headers(ws)
        for header, codes in lists.items():
            dv = _validation(ws, letters[header])
            assert dv.type == "list" and dv.formula1.startswith("'代码表'!"), (sheet, header, dv.formula1)
            assert dv.showInputMessage and dv.prompt
            values = _range_values(wb, dv.formula1)
            assert wb["代码表"][dv.formula1.split("!$")[1][0] + "1"].value == codes
            assert None not in values and values, (sheet, header)
    code_lists = {ws_col[0].value: [c.value for c in ws_col[1:] if c.value] for ws_col in wb["代码表"].iter_cols()}
    assert code_lists["民族"] == [n for _, n in ETHNICITY.entries] and len(code_lists["民族"]) == 58
    assert code_lists["政治面貌"] == [n for _, n in POLITICAL_STATUS.entries]
    assert code_lists["学历"] == [n for _, n in EDUCATION.entries]
    assert code_lists["岗位"] == list(PostType.objects.order_by("sort", "pk").values_list("name", flat=True))
    assert "党组织书记" in code_lists["岗位"] and code_lists["人员类别"] == list(Worker.Category.values)
    assert code_lists["任职方式"] == list(Appointment.Method.values)
    assert code_lists["党组织类型"] == list(Division.PartyOrgType.values)

    for sheet, headers in DATES.items():
        ws = wb[sheet]
        letters = _headers(ws)
        for header in headers:
            dv = _validation(ws, letters[header])
            assert dv.type == "date" and "2021-01-05" in dv.prompt, (sheet, header)
            assert ws.column_dimensions[letters[header]].number_format == "yyyy-mm-dd"
            example = ws[f"{letters[header]}2"]
            if example.value is not None:
                assert example.is_date and example.number_format == "yyyy-mm-dd"
    # ID numbers are text (Excel would round them), with an input message saying so
    for sheet in ("人员", "任职"):
        letter = _headers(wb[sheet])["公民身份号码"]
        assert wb[sheet].column_dimensions[letter].number_format == "@"
        assert "文本" in _validation(wb[sheet], letter).prompt

    for sheet, required in REQUIRED.items():
        ws = wb[sheet]
        for cell in ws[1]:
            assert cell.comment is not None and cell.value in cell.comment.text, (sheet, cell.value)
            assert ("必填" in cell.comment.text) == (cell.value in required), (sheet, cell.value)
        assert str(ws["A2"].value).startswith("示例:") and ws["A2"].font.i  # the example row, in italics


@pytest.mark.django_db
def test_untouched_template_imports_nothing_and_says_the_examples_were_skipped(world):
    before = (Division.objects.count(), Worker.objects.count(), Appointment.objects.count())
    data = _download(world)
    result = import_roster(data, "花名册模板.xlsx", actor=system_actor("command"))
    assert result.ok, [e.as_dict() for e in result.errors]
    assert sum(result.created.values()) + sum(result.updated.values()) + sum(result.unchanged.values()) == 0
    assert [(w.sheet, w.row) for w in result.warnings] == [("社区", 2), ("人员", 2), ("任职", 2)]
    assert all("示例" in w.message for w in result.warnings)
    assert (Division.objects.count(), Worker.objects.count(), Appointment.objects.count()) == before


@pytest.mark.django_db
def test_the_example_rows_are_valid_input_once_unmarked(world):
    """The examples teach the short forms (汉, 党员, 本科, 专职 …): without their mark they import."""
    wb = openpyxl.load_workbook(io.BytesIO(_download(world)))
    for sheet in ("社区", "人员", "任职"):
        wb[sheet]["A2"] = str(wb[sheet]["A2"].value).removeprefix("示例:")
    buf = io.BytesIO()
    wb.save(buf)
    result = import_roster(buf.getvalue(), "模板.xlsx", actor=system_actor("command"), dry_run=True)
    assert result.ok, [e.as_dict() for e in result.errors]
    assert result.warnings == []
    assert result.created["people"] == 1 and result.created["appointments"] == 1
