"""Tolerant cell parsing: dates in every form offices type them, integers stored as text, codes typed
into number cells. Each parser returns the value or raises ValueError with a Chinese message."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from shegong.common.codes import normalize_text

EXCEL_EPOCH = dt.date(1899, 12, 30)
_YMD = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_YM = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_COMPACT_YM = re.compile(r"^(\d{4})(\d{2})$")
HINT = "可写作 2019-07-01、2019/7/1、2019.07、2019年7月、2019年7月1日 或 20190701"


def _make(y: int, m: int, d: int, text: str) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise ValueError(f"日期“{text}”不存在") from None


def parse_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"“{value}”不是日期;{HINT}")
    if isinstance(value, (int, float)):
        if value != int(value):
            raise ValueError(f"“{value}”不是日期;{HINT}")
        n = int(value)
        if 19000101 <= n <= 21001231:
            return parse_date(str(n))
        if 1 <= n < 80000:  # an Excel serial date in a cell formatted as a number
            return EXCEL_EPOCH + dt.timedelta(days=n)
        raise ValueError(f"“{value}”不是日期;{HINT}")
    # A time after the date (a date-time cell saved as CSV: "2019/7/10 0:00") is dropped before the
    # spaces are folded, so that it cannot run into the day.
    text = re.sub(r"[\sT]+\d{1,2}:\d{2}(:\d{2})?(\.\d+)?\s*$", "", str(value).strip())
    text = normalize_text(text)
    if not text:
        return None
    for pattern in (_YMD, _COMPACT):
        m = pattern.match(text)
        if m:
            return _make(int(m[1]), int(m[2]), int(m[3]), text)
    for pattern in (_YM, _COMPACT_YM):
        m = pattern.match(text)
        if m:
            return _make(int(m[1]), int(m[2]), 1, text)
    raise ValueError(f"日期“{text}”无法识别;{HINT}")


def parse_int(value: Any, label: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{label}应为整数,而不是“{value}”")
    if isinstance(value, (int, float)):
        if value != int(value) or value < 0:
            raise ValueError(f"{label}应为非负整数,而不是“{value}”")
        return int(value)
    text = normalize_text(value).replace(",", "")
    for unit in ("户", "人"):
        text = text.removesuffix(unit)
    if text.endswith(".0"):
        text = text[:-2]
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"{label}应为非负整数,而不是“{normalize_text(value)}”")
    return int(text)


def cell_text(value: Any) -> str:
    """A cell as text: numbers typed into text columns lose their “.0”; full-width and spaces folded."""
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return normalize_text(value)
