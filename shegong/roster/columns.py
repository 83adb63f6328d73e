"""The canonical workbook: three sheets, their headers, and the header variants found in real files."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    header: str                      # canonical header, as the template writes it
    aliases: tuple[str, ...] = ()
    required: bool = False
    optional: bool = False           # accepted, not in the template


@dataclass(frozen=True)
class SheetSpec:
    key: str                         # communities / people / appointments
    name: str                        # 社区 / 人员 / 任职
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]

    def template_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.optional]

    def by_header(self) -> dict[str, Column]:
        out = {}
        for col in self.columns:
            for h in (col.header, *col.aliases):
                out[normalize_header(h)] = col
        return out

    def match(self, header: object) -> Column | None:
        """The column a header names: exactly, or once a bracketed note such as “(18位)” is dropped."""
        known = self.by_header()
        norm = normalize_header(header)
        return known.get(norm) or known.get(re.sub(r"\(.*?\)", "", norm))


COMMUNITIES = SheetSpec("communities", "社区", ("社区信息", "社区名单", "社区表", "社区基本信息"), (
    Column("code", "统计用区划代码", ("区划代码", "社区代码", "社区统计用区划代码", "统计代码", "社区区划代码", "代码"), True),
    Column("name", "社区名称", ("社区", "名称", "社区名"), True),
    Column("street_name", "街道(乡镇)名称", ("街道名称", "街道", "乡镇", "街道(乡镇)", "所属街道", "乡镇名称", "所属街道(乡镇)")),
    Column("households", "户数", ("总户数", "社区户数", "户数(户)")),
    Column("resident_population", "常住人口", ("人口", "常住人口数", "常住人口(人)", "常住人口数(人)")),
    Column("party_org_type", "党组织类型", ("党组织", "社区党组织类型", "党组织形式")),
    Column("address", "地址", ("社区地址", "办公地址"), optional=True),
))

PEOPLE = SheetSpec("people", "人员", ("人员信息", "社区工作者", "社区工作者信息", "花名册", "人员名单", "工作者"), (
    Column("name", "姓名", ("名字",), True),
    Column("id_number", "公民身份号码", ("身份证号", "身份证号码", "身份证", "证件号码", "公民身份证号码", "身份证件号码"), True),
    Column("ethnicity", "民族"),
    Column("political_status", "政治面貌", ("政治身份",)),
    Column("education", "学历", ("文化程度", "最高学历", "学历层次")),
    Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式", "电话号码")),
    Column("category", "人员类别", ("类别", "人员类型", "身份类别")),
    Column("work_start_date", "参加工作日期", ("参加工作时间", "工作时间", "参加工作年月")),
    Column("post_start_date", "社工岗入职日期", ("入职日期", "社工岗入职时间", "入职时间", "社工入职日期")),
    Column("community", "所在社区代码", ("社区代码", "所在社区", "社区区划代码", "所属社区代码", "所在社区统计用区划代码"), True),
    Column("gender", "性别", optional=True),
    Column("birth_date", "出生日期", ("出生年月", "出生年月日"), optional=True),
    Column("status", "状态", ("在岗状态", "人员状态"), optional=True),
))

APPOINTMENTS = SheetSpec("appointments", "任职", ("任职信息", "任职情况", "岗位", "任职记录", "任免"), (
    Column("id_number", "公民身份号码", ("身份证号", "身份证号码", "身份证", "证件号码", "公民身份证号码"), True),
    Column("community", "社区代码", ("所在社区代码", "社区区划代码", "任职社区代码", "统计用区划代码"), True),
    Column("post_type", "岗位", ("职务", "岗位名称", "任职岗位", "担任职务"), True),
    Column("method", "任职方式", ("产生方式", "任用方式"), True),
    Column("start_date", "任职日期", ("任职时间", "任职开始日期", "任职起始日期", "起始日期"), True),
    Column("end_date", "离任日期", ("离任时间", "任职结束日期", "卸任日期")),
    Column("name", "姓名", optional=True),
))

SHEETS = (COMMUNITIES, PEOPLE, APPOINTMENTS)

_BRACKETS = str.maketrans({"(": "(", ")": ")", "【": "(", "】": ")", "[": "(", "]": ")"})


def normalize_header(text: object) -> str:
    """Full-width to half-width, brackets unified, spaces, line breaks and required-marks (*) dropped."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text)).translate(_BRACKETS)
    value = re.sub(r"[\s*※:]+", "", value)
    return value


def spec_for_sheet_name(name: str) -> SheetSpec | None:
    key = normalize_header(name)
    for spec in SHEETS:
        if key == spec.name or key in {normalize_header(a) for a in spec.aliases}:
            return spec
    return None


def header_score(spec: SheetSpec, headers: list[str]) -> int:
    cols = {c.key for c in (spec.match(h) for h in headers if h) if c is not None}
    required = {c.key for c in spec.columns if c.required}
    return len(cols) + 2 * len(cols & required)
