"""Statistical division codes (统计用区划代码): natural length and the 12-digit form.

Segments: province 2, city 2, county 2, street 3, community 3 (12 digits); grids extend a community's
code. A division is stored under its natural length — 22, 2201, 220102, 220102001, 220102001001 —
and the zero-padded 12-digit form (220000000000, 220102001000) names the same division.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from shegong.common.codes import normalize_text

SEGMENTS = (2, 2, 2, 3, 3)
LEVEL_BY_LENGTH = {2: "province", 4: "city", 6: "district", 9: "street", 12: "community"}


class DivisionCodeError(ValueError):
    pass


def normalize_code(value: object) -> str:
    """Return the natural-length code, or raise DivisionCodeError with a Chinese message."""
    text = normalize_text(value)
    if text.endswith(".0"):  # a code typed into a number cell
        text = text[:-2]
    if not text:
        raise DivisionCodeError("区划代码不能为空")
    if not text.isdigit():
        raise DivisionCodeError(f"区划代码“{text}”只能由数字组成")
    if len(text) > 12:  # a grid: a community's 12 digits, then the grid's own
        try:
            community = normalize_code(text[:12])
        except DivisionCodeError as exc:
            raise DivisionCodeError(f"网格代码“{text}”的前 12 位不是有效的社区代码:{exc}") from exc
        if len(community) != 12:
            raise DivisionCodeError(f"网格代码“{text}”的前 12 位应为社区代码")
        return text
    if len(text) == 12:
        parts = []
        pos = 0
        for width in SEGMENTS:
            parts.append(text[pos : pos + width])
            pos += width
        while parts and set(parts[-1]) == {"0"}:
            parts.pop()
        if not parts:
            raise DivisionCodeError(f"区划代码“{text}”无效")
        text = "".join(parts)
    if len(text) not in LEVEL_BY_LENGTH:
        raise DivisionCodeError(f"区划代码“{text}”长度应为 2、4、6、9 或 12 位")
    pos = 0
    for width in SEGMENTS:
        seg = text[pos : pos + width]
        if not seg:
            break
        if set(seg) == {"0"}:
            raise DivisionCodeError(f"区划代码“{text}”中有全零的层级")
        pos += width
    return text


def level_of(code: str) -> str:
    if len(code) > 12:
        return "grid"
    return LEVEL_BY_LENGTH[len(code)]


def parent_code(code: str) -> str | None:
    if len(code) > 12:
        return code[:12]
    cuts = {4: 2, 6: 4, 9: 6, 12: 9}
    cut = cuts.get(len(code))
    return code[:cut] if cut else None


def ancestor_codes(code: str) -> list[str]:
    """Top-down: 220102001001 -> [22, 2201, 220102, 220102001]."""
    out = []
    parent = parent_code(code)
    while parent:
        out.append(parent)
        parent = parent_code(parent)
    return list(reversed(out))


def full_code(code: str) -> str:
    """The 12-digit zero-padded form (grids keep their own length)."""
    return code.ljust(12, "0") if len(code) <= 12 else code


@lru_cache(maxsize=1)
def reference_names() -> dict[str, str]:
    """GB/T 2260 province, city and county names of Jilin shipped with the app."""
    path = Path(__file__).parent / "data" / "jilin_gbt2260.csv"
    with path.open(encoding="utf-8") as fh:
        return {row["code"]: row["name"] for row in csv.DictReader(fh)}
