"""Shared pieces of the workbooks Shegong writes (write-only openpyxl): header and error styles, a row."""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="FFE8EEF5")
ERROR_FONT = Font(color="FFB00020")


def write_row(ws: Any, values: list[Any], *, header: bool = False, font: Font | None = None) -> None:
    """Append one row to a write-only sheet, bold on a tinted fill for the header, or in `font`."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, value=value)
        if header:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        elif font is not None:
            cell.font = font
        cells.append(cell)
    ws.append(cells)
