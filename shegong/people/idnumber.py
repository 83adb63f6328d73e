"""Citizen ID numbers per GB 11643-1999: 6-digit region, 8-digit birth date, 3-digit sequence
(odd for men, even for women), and an ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from shegong.common.codes import normalize_text

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
}


class IdNumberError(ValueError):
    pass


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: dt.date
    gender: str  # "男" / "女"
    region: str


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: object, *, as_of: dt.date | None = None) -> IdNumber:
    """Normalise (full-width, spaces, lowercase x) and validate; raise IdNumberError in Chinese."""
    value = normalize_text(raw).upper()
    if not value:
        raise IdNumberError("公民身份号码不能为空")
    if len(value) == 15 and value.isdigit():
        raise IdNumberError("这是 15 位旧身份证号码,已停止使用;请填写 18 位公民身份号码")
    if len(value) != 18:
        raise IdNumberError(f"公民身份号码应为 18 位,这里是 {len(value)} 位")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdNumberError("公民身份号码前 17 位应为数字,最后一位为数字或 X")
    if value[:2] not in PROVINCES:
        raise IdNumberError(f"公民身份号码的地址码 {value[:6]} 不是有效的省级代码")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise IdNumberError(f"公民身份号码中的出生日期 {value[6:14]} 不存在") from exc
    as_of = as_of or timezone.localdate()
    if birth > as_of:
        raise IdNumberError(f"公民身份号码中的出生日期 {birth.isoformat()} 晚于今天")
    if birth.year < 1900:
        raise IdNumberError(f"公民身份号码中的出生日期 {birth.isoformat()} 早于 1900 年")
    if value[17] != check_char(value[:17]):
        # Never which last digit would be "correct": the wrong digit may be any of the 18, and a clerk told
        # the "right" last digit would change that one and register a wrong number that passes the check.
        raise IdNumberError("公民身份号码校验码错误:号码中有数字录入有误,请对照身份证逐位核对后重新填写")
    gender = "男" if int(value[16]) % 2 == 1 else "女"
    return IdNumber(value=value, birth_date=birth, gender=gender, region=value[:6])


def make_id_number(region: str, birth: dt.date, sequence: int, gender: str) -> str:
    """A checksum-valid number (for demo and test data): sequence 0-99 picks the 15th-16th digits."""
    seq_digit = (1 if gender == "男" else 0) + 2 * (sequence % 5)
    first17 = f"{region}{birth:%Y%m%d}{sequence // 5 % 100:02d}{seq_digit}"
    return first17 + check_char(first17)
