"""The uploaded workbook back, with every bad cell filled red and its message in a cell comment."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from shegong.common.xlsx import as_text
from shegong.roster.limits import limits
from shegong.roster.safety import check_xlsx
from shegong.roster.spreadsheets import read_sheets

RED = PatternFill("solid", fgColor="FFFFC7CE")
# openpyxl holds a loaded workbook at ~50× its file size: a larger .xlsx is copied value by value (its
# formatting is lost, its memory stays flat), like an .xls or .csv.
KEEP_FORMAT_BYTES = 2 * 1024 * 1024


def _by_cell(errors: list[dict[str, Any]]) -> dict[str, dict[tuple[int, int], list[str]]]:
    out: dict[str, dict[tuple[int, int], list[str]]] = defaultdict(lambda: defaultdict(list))
    for e in errors:
        out[e["sheet"]][(int(e["row"] or 1), int(e.get("col") or 1))].append(e["message"])
    return out


def marked_workbook(data: bytes, filename: str, errors: list[dict[str, Any]]) -> bytes:
    """An .xlsx with the errors marked. An uploaded .xlsx up to KEEP_FORMAT_BYTES keeps its own formatting;
    larger ones, .xls and .csv are copied cell by cell into a new workbook (the row and column numbers
    stay the same), their text always as text: a CSV cell typed as =HYPERLINK(...) does not become a
    live formula here.
    The file is measured against the import limits first, like any read of an upload."""
    marks = _by_cell(errors)
    out = io.BytesIO()
    if Path(filename).suffix.lower() in (".xlsx", ".xlsm") and len(data) <= KEEP_FORMAT_BYTES:
        check_xlsx(data, limits())
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
    wb = Workbook(write_only=True)
    for raw in read_sheets(data, filename):
        ws = wb.create_sheet(raw.name[:31])
        pending = marks.get(raw.name, {})
        by_row: dict[int, dict[int, list[str]]] = defaultdict(dict)
        for (row, col), messages in pending.items():
            by_row[row][col] = messages
        written = 0

        def put(number: int, values: list[Any], first_col: int, ws: Any = ws,
                by_row: dict[int, dict[int, list[str]]] = by_row) -> None:
            marked = by_row.pop(number, {})
            width = max([first_col + len(values), *marked])
            cells: list[Any] = []
            for col in range(1, width + 1):
                i = col - 1 - first_col
                value = values[i] if 0 <= i < len(values) else None
                messages = marked.get(col)
                if messages is None:
                    cells.append(as_text(ws, value))
                    continue
                cell = as_text(ws, value)
                if not isinstance(cell, Cell):
                    cell = WriteOnlyCell(ws, value=value)
                cell.fill = RED
                cell.comment = Comment("\n".join(messages), "社工")
                cells.append(cell)
            ws.append(cells)

        for number, values in raw.rows:
            while written + 1 < number:  # empty rows (the reader leaves them out) keep their numbers
                written += 1
                put(written, [], raw.first_col)
            written = number
            put(number, values, raw.first_col)
        for number in sorted(by_row):  # errors on rows past the last one read (none in practice)
            while written + 1 < number:
                written += 1
                put(written, [], raw.first_col)
            written = number
            put(number, [], raw.first_col)
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    wb.save(out)
    return out.getvalue()
