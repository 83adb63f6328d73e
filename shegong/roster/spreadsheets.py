"""Reading every workbook a street office has (.xlsx, .xls, .csv in UTF-8 or GBK) into rows that
keep their Excel row numbers, and finding the header row under any title rows.

Values come back as read: str, float, int, bool, datetime.date/datetime, or None for an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shegong.common.errors import ApplicationError
from shegong.roster.limits import Limits, limits, size_text
from shegong.roster.safety import check_xlsx, measure_xls, refuse

MAX_HEADER_SCAN = 15
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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


class _TooLong(Exception):
    pass


def _cleaner(lim: Limits) -> Callable[[Any], Any]:
    """A cell as the import sees it: None for an empty or blank cell; text longer than the limit refused."""
    longest = lim.max_cell_chars

    def clean(value: Any) -> Any:
        if value.__class__ is str:
            if len(value) > longest:
                raise _TooLong
            return value if value.strip() else None
        return value

    return clean


def _rows(where: str, numbered: Iterable[tuple[int, list[Any]]], lim: Limits,
          first_col: int = 0) -> Iterator[tuple[int, list[Any]]]:
    """Rows with empty cells as None and fully empty rows skipped; rows, columns and cell lengths within
    the limits (an ApplicationError naming the first place beyond them). `where`: 工作表“人员” or the like."""
    clean = _cleaner(lim)
    for number, row in numbered:
        if number > lim.max_rows:
            raise refuse(f"{where}超过 {lim.max_rows:,} 行上限;请拆成几个文件")
        if len(row) + first_col > lim.max_columns:
            last = max((i for i, v in enumerate(row) if v is not None and v != ""), default=-1)
            if last + 1 + first_col > lim.max_columns:
                raise refuse(f"{where}第 {number} 行超过 {lim.max_columns} 列上限"
                             f"({column_letter(lim.max_columns - 1)} 列)")
            row = row[:last + 1]
        try:
            cells = [clean(v) for v in row]
        except _TooLong:
            col = next(i for i, v in enumerate(row) if isinstance(v, str) and len(v) > lim.max_cell_chars)
            raise refuse(f"{where}第 {number} 行 {column_letter(first_col + col)} 列有 {len(row[col]):,} 个字符,"
                         f"超过每格 {lim.max_cell_chars:,} 个字符的上限") from None
        if cells.count(None) != len(cells):
            yield number, cells


def _csv_rows(text: str, name: str, lim: Limits) -> Iterator[tuple[int, list[Any]]]:
    # A CSV physical line longer than a full row can be (every column at the longest cell, quoted) means
    # more columns or longer cells than allowed: refused before the csv module builds it.
    widest = lim.max_columns * (lim.max_cell_chars * 2 + 3)
    if len(text) > widest and max(map(len, text.split("\n"))) > widest:
        raise refuse(f"CSV 文件“{name}”中有一行超过 {lim.max_columns} 列或单元格超过 {lim.max_cell_chars:,} 个字符")
    reader = csv.reader(io.StringIO(text))
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise refuse(f"CSV 文件“{name}”第 {reader.line_num} 行无法读取({exc})") from exc


def read_sheets(data: bytes, filename: str, lim: Limits | None = None) -> list[RawSheet]:
    """Every sheet of a workbook (a CSV is one sheet named after the file), each read only when its rows
    are first asked for. The file is measured against the limits first (shegong.roster.safety): a
    workbook beyond them is refused with an ApplicationError before any reader sees it."""
    lim = lim or limits()
    suffix = Path(filename).suffix.lower()
    if len(data) > lim.max_bytes:
        raise refuse(f"文件有 {size_text(len(data))},超过 {lim.max_size} 上限")
    if suffix == ".csv":
        name = Path(filename).stem
        return [RawSheet(name, _rows(f"CSV 文件“{name}”", _csv_rows(_decode_csv(data), name, lim), lim))]
    if suffix not in (".xlsx", ".xlsm", ".xls"):
        raise ApplicationError(f"不支持的文件类型“{suffix or filename}”;请上传 .xlsx、.xls 或 .csv", field="file")
    if suffix == ".xls":
        if not data.startswith(OLE_MAGIC):
            raise refuse(f"“{filename}”不是 .xls 文件(Excel 97–2003);若它其实是 .xlsx,请改正扩展名")
        measure_xls(data, lim)
    else:
        check_xlsx(data, lim)
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(workbook.sheet_names)
    except Exception as exc:  # calamine raises several error types for a broken file
        raise ApplicationError(f"无法读取工作簿“{filename}”:文件已损坏或不是 Excel 文件({exc})", field="file") from exc

    def load(name: str) -> tuple[int, Iterator[list[Any]]]:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except Exception as exc:
            raise ApplicationError(f"无法读取工作表“{name}”:文件已损坏({exc})", field="file") from exc
        if sheet.height > lim.max_rows or sheet.width > lim.max_columns:  # measured above; never reached
            raise refuse(f"工作表“{name}”超出上限:每张工作表最多 {lim.max_rows:,} 行、{lim.max_columns} 列")
        return (sheet.start[1] if sheet.start else 0), sheet.iter_rows()

    sheets = []
    for name in names:
        raw = RawSheet(name, iter(()))

        def rows(name: str = name, raw: RawSheet = raw) -> Iterator[tuple[int, list[Any]]]:
            first_col, it = load(name)
            raw.first_col = first_col
            yield from _rows(f"工作表“{name}”", enumerate(it, start=1), lim, first_col)

        raw.rows = rows()
        sheets.append(raw)
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
    table.rows.extend(rest)
    table.rows.extend(raw.rows)  # the reader has left out the empty rows
    return table
