"""Division codes (shegong/common/divcodes.py), national code tables (shegong/common/codes.py), masks (crypto)."""

from __future__ import annotations

import pytest

from shegong.common.codes import (
    CATEGORY_ALIASES,
    EDUCATION,
    ETHNICITY,
    POLITICAL_STATUS,
    choice_lookup,
    normalize_text,
)
from shegong.common.crypto import decrypt, encrypt, mask_id_number, mask_phone, search_hash
from shegong.common.divcodes import (
    DivisionCodeError,
    ancestor_codes,
    full_code,
    level_of,
    normalize_code,
    parent_code,
    reference_names,
)

# ---------------------------------------------------------------- normalize_code


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("22", "province"),
        ("2201", "city"),
        ("220102", "district"),
        ("220102001", "street"),
        ("220102001001", "community"),
    ],
)
def test_natural_lengths_kept(code, level):
    assert normalize_code(code) == code
    assert level_of(normalize_code(code)) == level


@pytest.mark.parametrize(
    ("padded", "natural"),
    [
        ("220000000000", "22"),
        ("220100000000", "2201"),
        ("220102000000", "220102"),
        ("220102001000", "220102001"),
        ("220102001001", "220102001001"),
    ],
)
def test_twelve_digit_padded_forms(padded, natural):
    assert normalize_code(padded) == natural


@pytest.mark.parametrize(
    ("raw", "natural"),
    [
        (" 2201 ", "2201"),
        ("２２０１０２", "220102"),  # full-width digits
        ("220102 001", "220102001"),
        (220102, "220102"),  # an int from a spreadsheet
        ("220100000000.0", "2201"),  # a number cell rendered as float text
        (220102001000, "220102001"),
    ],
)
def test_normalisation_of_typed_input(raw, natural):
    assert normalize_code(raw) == natural


def test_grid_code_kept_as_is():
    assert normalize_code("220102001001001") == "220102001001001"
    assert level_of("220102001001001") == "grid"


@pytest.mark.parametrize("grid", ["000000000000001", "220102000001001", "220000000000007"])
def test_grid_code_needs_a_valid_community_part(grid):
    # A grid "extends a community's code": its first 12 digits must be a valid community code.
    with pytest.raises(DivisionCodeError):
        normalize_code(grid)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "不能为空"),
        (None, "不能为空"),
        ("22AB", "只能由数字组成"),
        ("长春市", "只能由数字组成"),
        ("22-01", "只能由数字组成"),
        ("2", "长度应为 2、4、6、9 或 12 位"),
        ("220", "长度应为"),
        ("22010", "长度应为"),
        ("2201020", "长度应为"),
        ("2201020010", "长度应为"),
        ("000000000000", "无效"),
        ("220001", "全零的层级"),          # city segment all zeros, county given
        ("220100001", "全零的层级"),       # county segment all zeros
        ("220102000001", "全零的层级"),    # street segment all zeros, community given
        ("00", "全零的层级"),
        ("0001", "全零的层级"),
    ],
)
def test_bad_codes_rejected(raw, fragment):
    with pytest.raises(DivisionCodeError, match=fragment):
        normalize_code(raw)


def test_code_error_is_value_error_and_names_the_code():
    with pytest.raises(ValueError) as exc:
        normalize_code("22X1")
    assert "22X1" in str(exc.value)


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("22", None),
        ("2201", "22"),
        ("220102", "2201"),
        ("220102001", "220102"),
        ("220102001001", "220102001"),
        ("220102001001007", "220102001001"),
    ],
)
def test_parent_code(code, parent):
    assert parent_code(code) == parent


@pytest.mark.parametrize(
    ("code", "ancestors"),
    [
        ("22", []),
        ("2201", ["22"]),
        ("220102", ["22", "2201"]),
        ("220102001001", ["22", "2201", "220102", "220102001"]),
        ("220102001001007", ["22", "2201", "220102", "220102001", "220102001001"]),
    ],
)
def test_ancestor_codes(code, ancestors):
    assert ancestor_codes(code) == ancestors


@pytest.mark.parametrize(
    ("code", "full"),
    [("22", "220000000000"), ("220102001", "220102001000"), ("220102001001007", "220102001001007")],
)
def test_full_code_round_trip(code, full):
    assert full_code(code) == full
    if len(full) == 12:
        assert normalize_code(full) == code


def test_reference_names_shipped():
    names = reference_names()
    assert names["22"] == "吉林省"
    assert names["2201"] == "长春市"
    assert names["220102"] == "南关区"
    assert names["2202"] == "吉林市"
    assert all(len(c) in (2, 4, 6) for c in names)


# ---------------------------------------------------------------- code tables


@pytest.mark.parametrize(
    ("table", "value", "code"),
    [
        (ETHNICITY, "汉", "01"),
        (ETHNICITY, "汉族", "01"),
        (ETHNICITY, "01", "01"),
        (ETHNICITY, "1", "01"),
        (ETHNICITY, "汉 族", "01"),
        (ETHNICITY, "朝鲜", "10"),
        (ETHNICITY, "满族", "11"),
        (ETHNICITY, "蒙古", "02"),
        (POLITICAL_STATUS, "党员", "01"),
        (POLITICAL_STATUS, "中共党员", "01"),
        (POLITICAL_STATUS, "中国共产党党员", "01"),
        (POLITICAL_STATUS, "预备党员", "02"),
        (POLITICAL_STATUS, "团员", "03"),
        (POLITICAL_STATUS, "群众", "13"),
        (EDUCATION, "本科", "21"),
        (EDUCATION, "大学本科", "21"),
        (EDUCATION, "大专", "31"),
        (EDUCATION, "专科", "31"),
        (EDUCATION, "研究生", "14"),
        (EDUCATION, "硕士", "14"),
        (EDUCATION, "硕士研究生", "14"),
        (EDUCATION, "博士", "11"),
        (EDUCATION, "高中", "61"),
    ],
)
def test_lookup(table, value, code):
    assert table.lookup(value) == code


@pytest.mark.parametrize(
    ("table", "value", "fragments"),
    [
        (ETHNICITY, "火星族", ["火星族", "GB/T 3304", "民族"]),
        (POLITICAL_STATUS, "党外人士", ["党外人士", "GB/T 4762", "政治面貌"]),
        (EDUCATION, "幼儿园", ["幼儿园", "GB/T 4658", "学历"]),
        (EDUCATION, "99", ["99", "学历"]),
    ],
)
def test_lookup_unknown_raises_chinese_value_error(table, value, fragments):
    with pytest.raises(ValueError) as exc:
        table.lookup(value)
    for fragment in fragments:
        assert fragment in str(exc.value)


@pytest.mark.parametrize("table", [ETHNICITY, POLITICAL_STATUS, EDUCATION])
def test_lookup_empty_raises(table):
    with pytest.raises(ValueError, match="不能为空"):
        table.lookup("  ")


def test_labels_and_table_sizes():
    assert len(ETHNICITY.entries) == 58  # 56 ethnic groups + 其他 + 外国血统
    assert ETHNICITY.label("01") == "汉族"
    assert ETHNICITY.label("56") == "基诺族"
    assert EDUCATION.label("14") == "硕士研究生"
    assert POLITICAL_STATUS.label("13") == "群众"


def test_choice_lookup_and_aliases():
    choices = [("专职社区工作者", "专职社区工作者"), ("公益性岗位", "公益性岗位"), ("兼职", "兼职")]
    assert choice_lookup("专职", choices, CATEGORY_ALIASES, "人员类别") == "专职社区工作者"
    assert choice_lookup("兼职", choices, CATEGORY_ALIASES, "人员类别") == "兼职"
    with pytest.raises(ValueError) as exc:
        choice_lookup("临时工", choices, CATEGORY_ALIASES, "人员类别")
    assert "人员类别“临时工”无效" in str(exc.value)
    assert "公益性岗位" in str(exc.value)


def test_normalize_text():
    assert normalize_text(None) == ""
    assert normalize_text(" 汉　族 ") == "汉族"
    assert normalize_text("ＡＢＣ１２３") == "ABC123"


# ---------------------------------------------------------------- crypto and masks


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("22010219900101123X", "220102********123X"),
        ("110105194912310021", "110105********0021"),
        ("", ""),
    ],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked


def test_mask_id_number_shape():
    masked = mask_id_number("22010219900101123X")
    assert len(masked) == 18
    assert masked[:6] == "220102"
    assert masked[6:14] == "*" * 8
    assert masked[-4:] == "123X"
    assert "19900101" not in masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        (" 13812345678 ", "138****5678"),
        ("", ""),
        ("12345", "*****"),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


def test_mask_phone_landline_hides_middle():
    masked = mask_phone("0431-88881234")
    assert masked.startswith("043")
    assert masked.endswith("34")
    assert "8888" not in masked
    assert len(masked) == len("0431-88881234")


def test_encrypt_round_trip_and_hash():
    token = encrypt("22010219900101123X")
    assert "22010219900101123X" not in token
    assert decrypt(token) == "22010219900101123X"
    assert encrypt("") == "" and decrypt("") == ""
    assert search_hash("22010219900101123X") == search_hash("22010219900101123X")
    assert search_hash("22010219900101123X") != search_hash("220102199001011231")
    assert len(search_hash("x")) == 64
