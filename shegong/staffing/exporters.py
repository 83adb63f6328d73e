"""The compliance report as a workbook: a summary sheet and one row per finding (filterable in Excel)."""

from __future__ import annotations

from typing import IO, Any

from openpyxl import Workbook

from shegong.common.xlsx import ERROR_FONT, write_row
from shegong.staffing.compliance import ERROR, WARNING, Finding, Report
from shegong.staffing.lists import FINDINGS

# The findings sheet has the columns of the findings list's exporter (staffing.lists.FINDINGS): one
# declaration for the page's ?export=xlsx and this report.
FINDING_COLUMNS = FINDINGS.export_columns()
FINDING_HEADERS = [c.label for c in FINDING_COLUMNS]
FINDING_WIDTHS = [16, 18, 8, 8, 70, 24, 24, 30]
_FINDING_VALUES = [c.exported() for c in FINDING_COLUMNS]


def finding_row(f: Finding) -> list[Any]:
    return [get(f) for get in _FINDING_VALUES]


def write_report(target: IO[bytes], report: Report, *, findings: list[Finding] | None = None) -> None:
    """Write the report (or the given subset of its findings) to `target` as .xlsx."""
    rows = report.findings if findings is None else findings
    wb = Workbook(write_only=True)
    summary = wb.create_sheet("概况")
    summary.column_dimensions["A"].width = 22
    summary.column_dimensions["B"].width = 50
    write_row(summary, ["项目", "值"], header=True)
    for label, value in [("规则集", f"{report.rule_set.title or report.rule_set.code}({report.rule_set.version})"),
                         ("核查日期", report.as_of.isoformat()), ("范围", report.scope or "全部"),
                         ("社区数", report.communities),
                         ("有错误的社区", report.communities_with(ERROR)),
                         ("有提示的社区", report.communities_with(WARNING)),
                         ("错误", report.errors), ("提示", report.warnings), ("本表问题条数", len(rows))]:
        write_row(summary, [label, value])
    ws = wb.create_sheet("问题清单")
    for i, width in enumerate(FINDING_WIDTHS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.auto_filter.ref = f"A1:{chr(ord('A') + len(FINDING_HEADERS) - 1)}{len(rows) + 1}"
    ws.freeze_panes = "A2"
    write_row(ws, FINDING_HEADERS, header=True)
    for f in rows:
        write_row(ws, finding_row(f), font=ERROR_FONT if f.level == ERROR else None)
    wb.save(target)
