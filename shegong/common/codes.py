"""National code tables used on worker records, with the short forms office spreadsheets use.

民族 GB/T 3304-1991 · 政治面貌 GB/T 4762-1984 · 学历 GB/T 4658-2006 (the levels a roster records).
Stored values are the codes; names are shown. `lookup()` accepts a code, the full name or a short form.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import property as enum_property

from django.db import models

_ETHNIC_NAMES = ["汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族"]


@dataclass(frozen=True)
class CodeTable:
    name: str
    standard: str
    entries: tuple[tuple[str, str], ...]
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def choices(self) -> list[tuple[str, str]]:
        return list(self.entries)

    def label(self, code: str) -> str:
        return dict(self.entries).get(code, code or "")

    def lookup(self, value: object) -> str:
        """Return the code for a code, name or accepted short form; raise ValueError otherwise."""
        text = normalize_text(value)
        if not text:
            raise ValueError(f"{self.name}不能为空")
        by_code = dict(self.entries)
        if text in by_code:
            return text
        if text.isdigit() and len(text) == 1 and "0" + text in by_code:
            return "0" + text
        for code, label in self.entries:
            if label == text:
                return code
        if text in self.aliases:
            return self.aliases[text]
        raise ValueError(f"“{text}”不是{self.standard}中的{self.name}")


class NameChoices(models.TextChoices):
    """Choices whose stored value is the very name shown — the standard's own words (在岗, 党组织, 选举 …).

    A member is written once, `ACTIVE = "在岗"`, and its label is its value, so the stored value (what an
    import matches, what a filter sends) and the label (what a page shows) cannot drift apart."""

    @enum_property
    def label(self) -> str:
        return str(self.value)


def normalize_text(value: object) -> str:
    """Full-width to half-width, stray spaces removed (also inside: office files have “汉 族”)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return "".join(text.split())


ETHNICITY = CodeTable(
    name="民族",
    standard="GB/T 3304",
    entries=tuple((f"{i:02d}", n) for i, n in enumerate(_ETHNIC_NAMES, start=1))
    + (("97", "其他"), ("98", "外国血统中国籍人士")),
    aliases={n[:-1]: f"{i:02d}" for i, n in enumerate(_ETHNIC_NAMES, start=1)} | {"穿青人": "97"},
)

POLITICAL_STATUS = CodeTable(
    name="政治面貌",
    standard="GB/T 4762",
    entries=(
        ("01", "中国共产党党员"),
        ("02", "中国共产党预备党员"),
        ("03", "中国共产主义青年团团员"),
        ("04", "中国国民党革命委员会会员"),
        ("05", "中国民主同盟盟员"),
        ("06", "中国民主建国会会员"),
        ("07", "中国民主促进会会员"),
        ("08", "中国农工民主党党员"),
        ("09", "中国致公党党员"),
        ("10", "九三学社社员"),
        ("11", "台湾民主自治同盟盟员"),
        ("12", "无党派人士"),
        ("13", "群众"),
    ),
    aliases={
        "中共党员": "01", "党员": "01", "共产党员": "01",
        "中共预备党员": "02", "预备党员": "02",
        "共青团员": "03", "团员": "03",
        "民革": "04", "民革会员": "04", "民盟": "05", "民盟盟员": "05", "民建": "06", "民建会员": "06",
        "民进": "07", "民进会员": "07", "农工党": "08", "农工党党员": "08", "致公党": "09", "致公党党员": "09",
        "九三学社": "10", "台盟": "11", "台盟盟员": "11", "无党派": "12", "民主党派": "12",
    },
)

EDUCATION = CodeTable(
    name="学历",
    standard="GB/T 4658",
    entries=(
        ("11", "博士研究生"),
        ("14", "硕士研究生"),
        ("21", "大学本科"),
        ("31", "大学专科"),
        ("41", "中等专科"),
        ("44", "职业高中"),
        ("47", "技工学校"),
        ("61", "普通高中"),
        ("71", "初中"),
        ("81", "小学"),
        ("90", "其他"),
    ),
    aliases={
        "博士": "11", "博士研究生毕业": "11", "研究生": "14", "硕士": "14", "硕士研究生毕业": "14",
        "本科": "21", "大学本科毕业": "21", "大学": "21", "大专": "31", "专科": "31", "大学专科毕业": "31",
        "中专": "41", "中等专科毕业": "41", "职高": "44", "技校": "47", "高中": "61", "普通高中毕业": "61",
        "初中毕业": "71", "小学毕业": "81",
    },
)


def choice_lookup(value: object, choices: list[tuple[str, str]], aliases: dict[str, str], label: str) -> str:
    """The stored value of a choice given its value, its label or an accepted short form."""
    text = normalize_text(value)
    if not text:
        raise ValueError(f"{label}不能为空")
    for stored, shown in choices:
        if text in (stored, shown):
            return stored
    if text in aliases:
        return aliases[text]
    allowed = "、".join(shown for _, shown in choices)
    raise ValueError(f"{label}“{text}”无效,应为:{allowed}")


CATEGORY_ALIASES = {"专职": "专职社区工作者", "专职社工": "专职社区工作者", "社区工作者": "专职社区工作者",
                    "公益岗": "公益性岗位", "公益性岗位人员": "公益性岗位", "兼职人员": "兼职"}
STATUS_ALIASES = {"在职": "在岗", "离职": "辞职"}
