"""Shared pieces of the workbooks Shegong writes (write-only openpyxl): header and error styles, a row.

Text that starts with "=" is written as text, never as a formula: a name or note typed as
=HYPERLINK(...) must not become a live formula in the exported workbook (formula injection)."""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="FFE8EEF5")
ERROR_FONT = Font(color="FFB00020")


def as_text(ws: Any, value: Any) -> Any:
    """The value itself, or, for text that openpyxl would take for a formula, a cell that keeps it text."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def safe_row(ws: Any, values: list[Any]) -> list[Any]:
    """A data row for ws.append() with no formula in it."""
    return [as_text(ws, v) for v in values]


def write_row(ws: Any, values: list[Any], *, header: bool = False, font: Font | None = None) -> None:
    """Append one row to a write-only sheet, bold on a tinted fill for the header, or in `font`."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
        if header:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        elif font is not None:
            cell.font = font
        cells.append(cell)
    ws.append(cells)
