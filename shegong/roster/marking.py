"""The uploaded workbook back, with every bad cell filled red and its message in a cell comment."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from shegong.roster.spreadsheets import read_sheets

RED = PatternFill("solid", fgColor="FFFFC7CE")


def _by_cell(errors: list[dict[str, Any]]) -> dict[str, dict[tuple[int, int], list[str]]]:
    out: dict[str, dict[tuple[int, int], list[str]]] = defaultdict(lambda: defaultdict(list))
    for e in errors:
        out[e["sheet"]][(int(e["row"] or 1), int(e.get("col") or 1))].append(e["message"])
    return out


def marked_workbook(data: bytes, filename: str, errors: list[dict[str, Any]]) -> bytes:
    """An .xlsx with the errors marked. An uploaded .xlsx keeps its own formatting; .xls and .csv
    are copied cell by cell into a new workbook (the row and column numbers stay the same)."""
    marks = _by_cell(errors)
    out = io.BytesIO()
    if Path(filename).suffix.lower() in (".xlsx", ".xlsm"):
        wb = load_workbook(io.BytesIO(data))
        for sheet, cells in marks.items():
            if sheet not in wb.sheetnames:
                continue
            ws = wb[sheet]
            for (row, col), messages in cells.items():
                cell = ws.cell(row=row, column=col)
                if type(cell).__name__ == "MergedCell":
                    continue
                cell.fill = RED
                cell.comment = Comment("\n".join(messages), "社工")
        wb.save(out)
        return out.getvalue()
    wb = Workbook()
    wb.remove(wb.active)
    for raw in read_sheets(data, filename):
        ws = wb.create_sheet(raw.name[:31])
        for number, values in raw.rows:
            for i, value in enumerate(values):
                if value is not None:
                    ws.cell(row=number, column=raw.first_col + i + 1, value=value)
        for (row, col), messages in marks.get(raw.name, {}).items():
            cell = ws.cell(row=row, column=col)
            cell.fill = RED
            cell.comment = Comment("\n".join(messages), "社工")
    wb.save(out)
    return out.getvalue()
