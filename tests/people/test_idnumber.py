"""GB 11643-1999 citizen ID numbers: shegong/people/idnumber.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shegong.people.idnumber import (
    IdNumberError,
    check_char,
    make_id_number,
    parse_id_number,
)

# A well-known textbook number: 11010519491231002X (北京朝阳, 1949-12-31, female, check X).
GOOD_FEMALE = "11010519491231002X"
# Jilin, 长春南关, 1985-03-14, sequence 001 (odd: male); check char computed here from the weights.
GOOD_MALE_17 = "22010219850314001"
GOOD_MALE = GOOD_MALE_17 + check_char(GOOD_MALE_17)


def _with_check(first17: str) -> str:
    return first17 + check_char(first17)


def test_check_char_textbook_value():
    # Independently known: the check character of 11010519491231002 is X.
    assert check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("value", "gender", "birth", "region"),
    [
        (GOOD_FEMALE, "女", dt.date(1949, 12, 31), "110105"),
        (GOOD_MALE, "男", dt.date(1985, 3, 14), "220102"),
        (_with_check("22020219900228002"), "女", dt.date(1990, 2, 28), "220202"),
        (_with_check("22010220000229009"), "男", dt.date(2000, 2, 29), "220102"),  # leap day
    ],
)
def test_good_number_parses(value, gender, birth, region):
    parsed = parse_id_number(value)
    assert parsed.value == value
    assert parsed.gender == gender
    assert parsed.birth_date == birth
    assert parsed.region == region


@pytest.mark.parametrize("last", [c for c in "0123456789X" if c != GOOD_MALE[-1]])
def test_bad_check_digit_never_tells_the_correct_digit(last):
    """Issue 11, point 14: the message says the number is wrong and to check it against the card; it never
    names the last digit that would pass (a clerk would change that one and keep the real typo)."""
    with pytest.raises(IdNumberError) as exc:
        parse_id_number(GOOD_MALE[:17] + last)
    msg = str(exc.value)
    assert "校验码错误" in msg and "对照身份证" in msg and "逐位核对" in msg
    assert "应为" not in msg and "而不是" not in msg
    assert GOOD_MALE[-1] not in msg and last not in msg  # neither the passing nor the typed last character


def test_a_typo_in_the_middle_gets_the_same_message():
    """A wrong digit anywhere (here the 10th) fails the same check, with the same advice."""
    typo = GOOD_MALE[:9] + str((int(GOOD_MALE[9]) + 1) % 10) + GOOD_MALE[10:]
    with pytest.raises(IdNumberError, match="请对照身份证逐位核对"):
        parse_id_number(typo)


@pytest.mark.parametrize("old", ["220102850314001", "110105491231002"])
def test_fifteen_digit_old_number_rejected(old):
    with pytest.raises(IdNumberError) as exc:
        parse_id_number(old)
    msg = str(exc.value)
    assert "15 位" in msg
    assert "旧身份证" in msg
    assert "18 位" in msg


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "不能为空"),
        (None, "不能为空"),
        ("2201021985031400", "16 位"),
        ("2201021985031400123", "19 位"),
        ("22010219850314A01X", "前 17 位应为数字"),
        ("22010219850314001Y", "最后一位为数字或 X"),
        (_with_check("99010219850314001"), "不是有效的省级代码"),
        (_with_check("22010218890101001"), "早于 1900 年"),
    ],
)
def test_malformed_numbers_rejected(value, fragment):
    with pytest.raises(IdNumberError, match=fragment):
        parse_id_number(value)


@pytest.mark.parametrize("date_part", ["19900230", "19901301", "19900001", "19900431", "19010229"])
def test_impossible_birth_date_rejected(date_part):
    with pytest.raises(IdNumberError) as exc:
        parse_id_number(_with_check(f"220102{date_part}001"))
    assert f"出生日期 {date_part} 不存在" in str(exc.value)


def test_future_birth_date_rejected():
    future = timezone.localdate() + dt.timedelta(days=400)
    number = make_id_number("220102", future, 0, "男")
    with pytest.raises(IdNumberError) as exc:
        parse_id_number(number)
    assert "晚于今天" in str(exc.value)
    assert future.isoformat() in str(exc.value)


def test_future_relative_to_given_today():
    number = make_id_number("220102", dt.date(2020, 6, 2), 0, "女")
    with pytest.raises(IdNumberError, match="晚于今天"):
        parse_id_number(number, as_of=dt.date(2020, 6, 1))
    assert parse_id_number(number, as_of=dt.date(2020, 6, 2)).birth_date == dt.date(2020, 6, 2)


def test_error_is_a_value_error():
    assert issubclass(IdNumberError, ValueError)


def test_lowercase_x_accepted_and_normalised():
    parsed = parse_id_number(GOOD_FEMALE.lower())
    assert parsed.value == GOOD_FEMALE
    assert parsed.value.endswith("X")


@pytest.mark.parametrize(
    "raw",
    [
        " 11010519491231002X ",
        "110105 19491231 002X",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and letter
        "１１０１０５　１９４９１２３１　００２ｘ",  # full-width, ideographic spaces, lowercase x
        "\t110105\u00a019491231 002x\n",
    ],
)
def test_full_width_and_spaces_normalised(raw):
    parsed = parse_id_number(raw)
    assert parsed.value == GOOD_FEMALE
    assert parsed.gender == "女"
    assert parsed.birth_date == dt.date(1949, 12, 31)


@pytest.mark.parametrize(
    ("seq_digit", "gender"),
    [("1", "男"), ("3", "男"), ("9", "男"), ("0", "女"), ("2", "女"), ("8", "女")],
)
def test_gender_from_seventeenth_digit(seq_digit, gender):
    assert parse_id_number(_with_check(f"2201021985031400{seq_digit}")).gender == gender


@pytest.mark.parametrize(
    ("region", "birth", "sequence", "gender"),
    [
        ("220102", dt.date(1985, 3, 14), 0, "男"),
        ("220102", dt.date(1985, 3, 14), 0, "女"),
        ("220202", dt.date(1968, 1, 1), 37, "女"),
        ("110105", dt.date(2000, 2, 29), 99, "男"),
        ("650102", dt.date(1901, 12, 31), 54, "女"),
    ],
)
def test_make_id_number_is_valid(region, birth, sequence, gender):
    number = make_id_number(region, birth, sequence, gender)
    assert len(number) == 18
    parsed = parse_id_number(number)
    assert parsed.value == number
    assert parsed.region == region
    assert parsed.birth_date == birth
    assert parsed.gender == gender


def test_make_id_number_sequences_are_distinct():
    birth = dt.date(1990, 5, 6)
    numbers = {make_id_number("220102", birth, n, g) for n in range(100) for g in ("男", "女")}
    assert len(numbers) == 200
    for number in numbers:
        parse_id_number(number)  # every one validates
