"""Reading every workbook a street office has (.xlsx, .xls, .csv in UTF-8 or GBK) into rows that
keep their Excel row numbers, and finding the header row under any title rows.

Values come back as read: str, float, int, bool, datetime.date/datetime, or None for an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shegong.common.errors import ApplicationError

MAX_HEADER_SCAN = 15


@dataclass
class RawSheet:
    name: str
    rows: Iterator[tuple[int, list[Any]]]  # (Excel row number, cells from column `first_col`)
    first_col: int = 0                      # 0-based index of the first column in `rows`


@dataclass
class Table:
    """One sheet after the header row was found."""

    name: str
    header_row: int                          # Excel row number of the header
    headers: list[str]                       # as written in the file, by column position
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    first_col: int = 0
    title_rows: list[list[Any]] = field(default_factory=list)

    def column_letter(self, index: int) -> str:
        return column_letter(self.first_col + index)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")  # a superset of GBK and GB2312
        except UnicodeDecodeError as exc:
            raise ApplicationError("CSV 文件既不是 UTF-8 也不是 GBK 编码,无法读取", field="file") from exc


def read_sheets(data: bytes, filename: str) -> list[RawSheet]:
    """Every sheet of a workbook (a CSV is one sheet named after the file)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        text = _decode_csv(data)
        reader = csv.reader(io.StringIO(text))
        csv_rows = ((i, [c if c.strip() else None for c in row]) for i, row in enumerate(reader, start=1))
        return [RawSheet(Path(filename).stem, csv_rows)]
    if suffix not in (".xlsx", ".xlsm", ".xls"):
        raise ApplicationError(f"不支持的文件类型“{suffix or filename}”;请上传 .xlsx、.xls 或 .csv", field="file")
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several error types for a broken file
        raise ApplicationError(f"无法读取工作簿“{filename}”:文件已损坏或不是 Excel 文件({exc})", field="file") from exc
    sheets = []
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        start_col = sheet.start[1] if sheet.start else 0

        def rows(sheet: Any = sheet) -> Iterator[tuple[int, list[Any]]]:
            for i, row in enumerate(sheet.iter_rows(), start=1):
                yield i, [None if _empty(v) else v for v in row]

        sheets.append(RawSheet(name, rows(), first_col=start_col))
    return sheets


def find_header(raw: RawSheet, score: Any) -> Table | None:
    """The header row is the row among the first rows that `score` (headers -> int) rates best;
    rows above it (titles, often merged) are kept aside. None when no row scores at least 2."""
    head: list[tuple[int, list[Any]]] = []
    for item in raw.rows:
        head.append(item)
        if len(head) >= MAX_HEADER_SCAN:
            break
    best, best_score = None, 1
    for pos, (_, cells) in enumerate(head):
        texts = ["" if c is None else str(c) for c in cells]
        s = score(texts)
        if s > best_score:
            best, best_score = pos, s
    if best is None:
        return None
    header_row, cells = head[best]
    table = Table(raw.name, header_row, ["" if c is None else str(c) for c in cells], first_col=raw.first_col,
                  title_rows=[c for _, c in head[:best]])
    rest = head[best + 1:]

    def remaining() -> Iterator[tuple[int, list[Any]]]:
        yield from rest
        yield from raw.rows

    for number, row in remaining():
        if any(not _empty(v) for v in row):
            table.rows.append((number, row))
    return table
