"""Archive completeness (8.1.2) as a workbook: the rates per division and every worker with one column per
required item, filterable in Excel. Names and communities only: no ID numbers or phones."""

from __future__ import annotations

from typing import IO, Any

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.utils import get_column_letter

from shegong.archives.lists import community_archives
from shegong.archives.rules import archive_rules
from shegong.archives.selectors import WorkerCompleteness
from shegong.common.xlsx import ERROR_FONT, safe_row, write_row


def write_completeness(target: IO[bytes], *, rows: list[dict[str, Any]], workers: list[WorkerCompleteness],
                       scope: str) -> None:
    required = archive_rules().required
    wb = Workbook(write_only=True)
    rates = wb.create_sheet("完整率")
    for i, width in enumerate([16, 24, 10, 10, 10] + [12] * len(required)):
        rates.column_dimensions[get_column_letter(i + 1)].width = width
    write_row(rates, ["区划代码", "名称", "在岗人员", "档案齐备", "完整率"] + [f"有{item.name}" for item in required],
         header=True)
    for r in rows:
        rate = "" if r["rate"] is None else f"{r['rate'] * 100:.1f}%"
        write_row(rates, [r["division"].code, r["division"].name, r["workers"], r["complete"], rate]
             + [n for _, n in r["items"]])
    total, complete = len(workers), sum(1 for w in workers if not w.missing)
    write_row(rates, ["", f"合计({scope})", total, complete, f"{complete * 100 / total:.1f}%" if total else ""])

    # The per-worker sheet: the columns of the community list's workbook (archives.lists.community_archives).
    columns = community_archives().export_columns()
    sheet = wb.create_sheet("档案齐全情况")
    headers = [c.label for c in columns]
    for i, width in enumerate([16, 14, 16, 10, 8, 10] + [12] * len(required) + [60]):
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = "E2"
    write_row(sheet, headers, header=True)
    # An empty scope (a user with no grant) gets the headers only: a range ending on row 1 ("E2:X1")
    # is refused by openpyxl and was a 500.
    if total:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{total + 1}"
        # Plain values with one conditional format for "否"/"缺" (styling each cell took 60 % of the time
        # of a province's 20,000 rows).
        last = get_column_letter(6 + len(required))
        for mark in ("否", "缺"):
            sheet.conditional_formatting.add(f"E2:{last}{total + 1}", CellIsRule(
                operator="equal", formula=[f'"{mark}"'], font=ERROR_FONT))
    getters = [c.exported() for c in columns]
    for w in workers:
        sheet.append(safe_row(sheet, [get(w) for get in getters]))
    wb.save(target)
