"""The roster template (/roster/template.xlsx): a 填写说明 sheet first; the 社区, 人员 and 任职 sheets with
their headers (a comment on each: what it means, whether it is required, the accepted forms), one example
row each, drop-down lists for every code-table column (from a hidden 代码表 sheet), date and text formats
with an input message; the 代码表 sheet last, hidden.

The example row's first cell starts with EXAMPLE_MARK ("示例:"); the import skips such a row with a
warning (shegong.roster.imports), so a template filled in below its example imports as it is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.roster.columns import APPOINTMENTS, COMMUNITIES, PEOPLE, SheetSpec
from shegong.staffing.models import Appointment, PostType

EXAMPLE_MARK = "示例:"
INSTRUCTIONS = "填写说明"
CODES = "代码表"
AUXILIARY_SHEETS = (INSTRUCTIONS, CODES)   # skipped by the import, silently
LAST_ROW = 5000                            # drop-down lists and formats reach this row
DATE_FORMAT = "yyyy-mm-dd"
DATE_HINT = "日期格式:2021-01-05(也可写 2021/1/5、2021.01、2021年1月5日、20210105)"
STANDARD = "DB22/T 3226—2021"

HEADER_FILL = PatternFill("solid", fgColor="FFE8EEF5")
REQUIRED_FONT = Font(bold=True, color="FFB00020")
HEADER_FONT = Font(bold=True)
EXAMPLE_FONT = Font(italic=True, color="FF808080")
WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class Note:
    """What one column means, and, for a column with a drop-down list, the 代码表 column it lists."""

    text: str
    codes: str = ""          # the 代码表 header whose values the drop-down offers
    kind: str = ""           # "date" | "text" | ""


def _code_tables() -> dict[str, list[str]]:
    """The 代码表 sheet, column by column: header -> the canonical names."""
    return {
        "民族": [name for _, name in ETHNICITY.entries],
        "政治面貌": [name for _, name in POLITICAL_STATUS.entries],
        "学历": [name for _, name in EDUCATION.entries],
        "性别": list(Worker.Gender.values),
        "人员类别": list(Worker.Category.values),
        "状态": list(Worker.Status.values),
        "岗位": list(PostType.objects.order_by("sort", "pk").values_list("name", flat=True)),
        "任职方式": list(Appointment.Method.values),
        "党组织类型": list(Division.PartyOrgType.values),
    }


ID_RULES = ("18 位公民身份号码(GB 11643),末位可为 X;校验位、出生日期和性别位都会核对。"
            "请保持文本格式:存成数字时 Excel 会把末几位变成 0。")
NOTES: dict[tuple[str, str], Note] = {
    ("communities", "code"): Note("12 位统计用区划代码(GB/T 2260 与统计用区划代码:省 2、市 2、区县 2、街道 3、"
                                  "社区 3 位),按它匹配已有社区。", kind="text"),
    ("communities", "name"): Note("社区名称,如“东风社区”。"),
    ("communities", "street_name"): Note("所属街道(乡镇)的名称。街道尚未在系统中时必须填写,已有时可不填。"),
    ("communities", "households"): Note(f"社区户数(整数)。决定专职社区工作者的配备数({STANDARD} 4.1)。"),
    ("communities", "resident_population"): Note("常住人口(整数)。"),
    ("communities", "party_org_type"): Note("社区党组织类型:党委、党总支或党支部(可写“总支”“支部”)。"
                                            "决定党组织委员人数的要求。", codes="党组织类型"),
    ("people", "name"): Note("姓名。"),
    ("people", "id_number"): Note(ID_RULES + "按它匹配已有人员:同一人再次导入是更新,不会重复登记。",
                                  kind="text"),
    ("people", "ethnicity"): Note("民族(GB/T 3304)。可从下拉列表选择,也可写简称:汉、满、朝鲜 ……", codes="民族"),
    ("people", "political_status"): Note("政治面貌(GB/T 4762)。可写简称:党员、预备党员、团员、群众 ……",
                                         codes="政治面貌"),
    ("people", "education"): Note("学历(GB/T 4658)。可写简称:本科、大专、研究生/硕士、中专、高中 ……",
                                  codes="学历"),
    ("people", "phone"): Note("手机 11 位,或座机(可带区号和“-”)。", kind="text"),
    ("people", "category"): Note("专职社区工作者(可写“专职”)、公益性岗位或兼职。公益性岗位人员不是社区工作者"
                                 f"({STANDARD} 3.2),不计入配备数,不应担任社区工作者岗位。", codes="人员类别"),
    ("people", "work_start_date"): Note("参加工作日期。", kind="date"),
    ("people", "post_start_date"): Note("进入社区工作者岗位的日期。", kind="date"),
    ("people", "community"): Note("所在社区的 12 位区划代码;社区须已在系统中,或在本文件“社区”表中。",
                                  kind="text"),
    ("people", "gender"): Note("可不填:由公民身份号码推出;填写时须与号码一致。", codes="性别"),
    ("people", "birth_date"): Note("可不填:由公民身份号码推出;填写时须与号码一致。", kind="date"),
    ("people", "status"): Note("在岗、离岗、退休、辞职或解聘;不填为在岗。不在岗的人须先在“任职”表写明离任日期。",
                               codes="状态"),
    ("appointments", "id_number"): Note(ID_RULES + "此人须在“人员”表中,或已在系统中。", kind="text"),
    ("appointments", "community"): Note("任职社区的 12 位区划代码。", kind="text"),
    ("appointments", "post_type"): Note(f"岗位({STANDARD} 第 4–6 章),如党组织书记(可写“书记”)、"
                                        "居委会主任(可写“主任”)、普通社工。", codes="岗位"),
    ("appointments", "method"): Note("选举、组织指派、聘用或兼任。", codes="任职方式"),
    ("appointments", "start_date"): Note("任职日期;同一人、社区、岗位、任职日期的任职是同一条(再次导入是更新)。",
                                         kind="date"),
    ("appointments", "end_date"): Note("离任日期;仍在任则不填。", kind="date"),
    ("appointments", "name"): Note("姓名,便于核对;导入时以“人员”表或系统中的姓名为准。"),
}

EXAMPLES: dict[str, list[Any]] = {
    "communities": ["220102001001", "东风社区", "南岭街道", 2800, 8200, "党委"],
    "people": ["张三", "220102199003071235", "汉", "党员", "本科", "13912345678", "专职", dt.date(2012, 7, 1),
               dt.date(2021, 1, 5), "220102001001", "男", dt.date(1990, 3, 7), "在岗"],
    "appointments": ["220102199003071235", "220102001001", "党组织书记", "选举", dt.date(2021, 1, 5), None, "张三"],
}

GENERAL = [
    "本工作簿有“社区”“人员”“任职”三张表,可以只填其中一张或几张。导入时按工作表名称(或表头)识别;"
    "本“填写说明”表和隐藏的“代码表”会被跳过。",
    "第 1 行是表头,请不要改列名;红色表头是必填列。鼠标停在表头上可看到这一列的说明。",
    f"每张表第 2 行是示例(灰色斜体,第一格以“{EXAMPLE_MARK}”开头),导入时会跳过;可以删除,也可以保留。"
    "真实数据不要以“示例”开头。",
    DATE_HINT + ";只有年月时按当月 1 日。",
    "公民身份号码:" + ID_RULES + "出生日期和性别由号码推出。",
    "有下拉列表的列(民族、政治面貌、学历、人员类别、状态、岗位、任职方式、党组织类型、性别)可从列表选择,"
    "也可写常用简称:汉→汉族,党员→中国共产党党员,本科→大学本科,大专→大学专科,研究生/硕士→硕士研究生,"
    "专职→专职社区工作者,书记→党组织书记,主任→居委会主任。",
    "代码表出处:民族 GB/T 3304,政治面貌 GB/T 4762,学历 GB/T 4658,区划代码 GB/T 2260 与国家统计用区划代码,"
    f"公民身份号码 GB 11643,岗位 {STANDARD} 第 4–6 章。",
    f"公益性岗位人员不是社区工作者({STANDARD} 3.2):可以登记,但不计入社区工作者配备数,担任社区工作者岗位会被合规检查列为错误。",
    "同一文件导入两次不会重复登记:社区按区划代码、人员按公民身份号码、任职按(人员、社区、岗位、任职日期)匹配;"
    "表中的新值会更新系统中的值,并记入变更历史。",
    "导入先校验全部行:有任何错误,什么也不写入,并列出每一处错误(工作表、行、姓名、列);校验通过后,页面列出将新增和"
    "更新的社区、人员和任职,以及对合规检查的影响,由您确认导入或放弃。",
]


def _columns(spec: SheetSpec) -> list[Any]:
    """The template's columns of a sheet: the same as an export's (the template columns, then the optional
    ones the export writes), so that a filled template and an export have one shape."""
    extra = {"communities": (), "people": ("gender", "birth_date", "status"), "appointments": ("name",)}[spec.key]
    return spec.template_columns() + [c for c in spec.columns if c.key in extra]


def _ranges(tables: dict[str, list[str]]) -> dict[str, str]:
    """Header -> the absolute range of its values on the 代码表 sheet (what a drop-down list refers to)."""
    return {header: f"'{CODES}'!${get_column_letter(i)}$2:${get_column_letter(i)}${len(values) + 1}"
            for i, (header, values) in enumerate(tables.items(), start=1)}


def _codes_sheet(wb: Workbook, tables: dict[str, list[str]]) -> None:
    """The hidden 代码表 sheet: one column per code table, its header in row 1."""
    ws = wb.create_sheet(CODES)
    for i, (header, values) in enumerate(tables.items(), start=1):
        ws.cell(row=1, column=i, value=header).font = HEADER_FONT
        for j, value in enumerate(values, start=2):
            ws.cell(row=j, column=i, value=value)
        ws.column_dimensions[get_column_letter(i)].width = 18
    ws.sheet_state = "hidden"


def _validation(ws: Any, letter: str, note: Note, ranges: dict[str, str], header: str) -> None:
    area = f"{letter}2:{letter}{LAST_ROW}"
    if note.codes:
        dv = DataValidation(type="list", formula1=ranges[note.codes], allow_blank=True, errorStyle="warning",
                            showDropDown=False)  # showDropDown=False is what shows the arrow (OOXML's odd name)
        dv.promptTitle, dv.prompt = header, "从下拉列表选择,也可填写常用简称"
        dv.errorTitle, dv.error = header, f"不在{note.codes}代码表中;若是常用简称可继续,导入时会核对"
    elif note.kind == "date":
        dv = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True,
                            errorStyle="warning")
        dv.promptTitle, dv.prompt = header, DATE_HINT
        dv.errorTitle, dv.error = header, "不是日期;" + DATE_HINT
        ws.column_dimensions[letter].number_format = DATE_FORMAT
    elif note.kind == "text":
        dv = DataValidation(type=None, allow_blank=True)  # only the input message
        dv.promptTitle, dv.prompt = header, "文本格式:请照原样填写数字,不要让 Excel 改成数值"
        ws.column_dimensions[letter].number_format = "@"
    else:
        return
    dv.showInputMessage = True
    dv.showErrorMessage = True
    dv.add(area)
    ws.add_data_validation(dv)


def _data_sheet(wb: Workbook, spec: SheetSpec, ranges: dict[str, str]) -> None:
    ws = wb.create_sheet(spec.name)
    columns = _columns(spec)
    for i, col in enumerate(columns, start=1):
        letter = get_column_letter(i)
        note = NOTES[(spec.key, col.key)]
        cell = ws.cell(row=1, column=i, value=col.header)
        cell.font = REQUIRED_FONT if col.required else HEADER_FONT
        cell.fill = HEADER_FILL
        required = "必填" if col.required else "选填"
        comment = Comment(f"{col.header}({required})\n{note.text}", "社工系统")
        comment.width, comment.height = 320, 140
        cell.comment = comment
        ws.column_dimensions[letter].width = 22 if note.kind == "text" else 16
        _validation(ws, letter, note, ranges, col.header)
    example = list(EXAMPLES[spec.key])
    example[0] = EXAMPLE_MARK + str(example[0])
    for i, value in enumerate(example, start=1):
        cell = ws.cell(row=2, column=i, value=value)
        cell.font = EXAMPLE_FONT
        if isinstance(value, dt.date):
            cell.number_format = DATE_FORMAT
        elif isinstance(value, str):
            cell.number_format = "@"
    ws.freeze_panes = "A2"


def _instructions(wb: Workbook) -> None:
    ws = wb.active
    ws.title = INSTRUCTIONS
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 8
    ws.column_dimensions["D"].width = 90
    ws.cell(row=1, column=1, value="社区工作者花名册 填写说明").font = Font(bold=True, size=14)
    row = 3
    for n, text in enumerate(GENERAL, start=1):
        ws.cell(row=row, column=1, value=f"{n}.")
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
        cell = ws.cell(row=row, column=2, value=text)
        cell.alignment = WRAP
        ws.row_dimensions[row].height = 16 * (1 + len(text) // 60)
        row += 1
    row += 1
    for i, header in enumerate(("工作表", "列", "必填", "说明"), start=1):
        cell = ws.cell(row=row, column=i, value=header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for spec in (COMMUNITIES, PEOPLE, APPOINTMENTS):
        for col in _columns(spec):
            row += 1
            ws.cell(row=row, column=1, value=spec.name)
            ws.cell(row=row, column=2, value=col.header)
            ws.cell(row=row, column=3, value="是" if col.required else "")
            ws.cell(row=row, column=4, value=NOTES[(spec.key, col.key)].text).alignment = WRAP


def write_template(out: IO[bytes]) -> None:
    """Write the template workbook to `out`."""
    wb = Workbook()
    _instructions(wb)
    tables = _code_tables()
    ranges = _ranges(tables)  # the 代码表 sheet comes last (hidden), out of the way
    for spec in (COMMUNITIES, PEOPLE, APPOINTMENTS):
        _data_sheet(wb, spec, ranges)
    _codes_sheet(wb, tables)
    wb.save(out)

