"""The limits of a roster import (docs/import-limits.md): every one is a setting, read when used, with the
default below. A workbook beyond any of them is refused before it is read, with a Chinese message naming
the limit; no reader is ever handed a file that could make it allocate more than the limits allow."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int            # the uploaded file
    max_rows: int             # the last used row of any sheet (Excel row number, title and header rows included)
    max_columns: int          # the last used column of any sheet
    max_cell_chars: int       # the text of one cell
    max_sheets: int           # sheets in one workbook
    max_unzipped_bytes: int   # an .xlsx: all its parts, uncompressed
    max_ratio: int            # an .xlsx: how much one part may be compressed (zip bombs)
    max_errors: int           # errors kept and shown per import (the total is always counted)
    stale_seconds: int        # a running import job silent this long, its process unknown, is taken as dead
    reader_memory: int        # the address space of the subprocess that measures an .xls before it is read
    reader_seconds: int       # ... and its time

    @property
    def max_size(self) -> str:
        return size_text(self.max_bytes)


def size_text(n: float) -> str:
    """20971520 -> "20 MB", 150000 -> "146 KB"."""
    if n >= MiB:
        return f"{n / MiB:,.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(n / 1024)):,} KB"


DEFAULTS = {
    "ROSTER_MAX_BYTES": 20 * MiB,
    "ROSTER_MAX_ROWS": 200_000,
    "ROSTER_MAX_COLUMNS": 100,
    "ROSTER_MAX_CELL_CHARS": 2_000,
    "ROSTER_MAX_SHEETS": 50,
    "ROSTER_MAX_UNZIPPED_BYTES": 300 * MiB,
    "ROSTER_MAX_COMPRESSION_RATIO": 100,
    "ROSTER_MAX_ERRORS": 1_000,
    "ROSTER_JOB_STALE_SECONDS": 15 * 60,
    "ROSTER_READER_MEMORY": 1024 * MiB,
    "ROSTER_READER_SECONDS": 60,
}


def limits() -> Limits:
    def get(name: str) -> int:
        return int(getattr(settings, name, DEFAULTS[name]))

    return Limits(
        max_bytes=get("ROSTER_MAX_BYTES"), max_rows=get("ROSTER_MAX_ROWS"), max_columns=get("ROSTER_MAX_COLUMNS"),
        max_cell_chars=get("ROSTER_MAX_CELL_CHARS"), max_sheets=get("ROSTER_MAX_SHEETS"),
        max_unzipped_bytes=get("ROSTER_MAX_UNZIPPED_BYTES"), max_ratio=get("ROSTER_MAX_COMPRESSION_RATIO"),
        max_errors=get("ROSTER_MAX_ERRORS"), stale_seconds=get("ROSTER_JOB_STALE_SECONDS"),
        reader_memory=get("ROSTER_READER_MEMORY"), reader_seconds=get("ROSTER_READER_SECONDS"),
    )
