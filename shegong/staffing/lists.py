"""The staffing lists, declared once each (shegong.common.lists): appointments (GET /api/v1/appointments),
the vacancies of the principal posts (/compliance/vacancies/, its workbook) and the compliance findings
(/compliance/, computed in memory: run with run_rows; the findings sheet of /compliance/export.xlsx)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from shegong.common.lists import Column, Exporter, ListDeclaration, MemoryFilter
from shegong.org.models import Division
from shegong.staffing.compliance import ERROR, LEVEL_NAMES, WARNING, Finding, filter_findings
from shegong.staffing.filters import AppointmentFilter, VacancyFilter
from shegong.staffing.models import Appointment
from shegong.staffing.rules import ANY, load_rule_set

APPOINTMENTS = ListDeclaration(
    name="appointments", model=Appointment, filterset=AppointmentFilter,
    base=lambda: Appointment.objects.select_related("worker", "community", "post_type"),
    columns=[
        Column("worker", "姓名", value="worker.name", sortable=True, order_by=("worker__name",)),
        Column("community", "社区", value="community.name", sortable=True, order_by=("community__code",)),
        Column("post_type", "岗位", value="post_type.name", sortable=True, order_by=("post_type__sort",)),
        Column("method", "任职方式"),
        Column("start_date", "任职日期", sortable=True),
        Column("end_date", "离任日期", sortable=True),
        Column("end_reason", "离任原因"),
    ],
    ordering=("community__code", "post_type__sort", "-start_date", "id"),
    export=Exporter(sheet="任职", filename="任职.xlsx"),
)


def vacancies_list(names: dict[str, str], posts: tuple[str, ...]) -> ListDeclaration:
    """Communities missing a current holder of one of `posts` (rows annotated has_<code> by
    staffing.selectors.vacancy_queryset); `names` the posts' names by code."""

    def vacant(d: Any) -> list[str]:
        return [names.get(c, c) for c in posts if not getattr(d, f"has_{c}")]

    return ListDeclaration(
        name="vacancies", model=Division, filterset=VacancyFilter,
        columns=[
            Column("name", "社区", sortable=True, order_by=("code",),
                   href=lambda d: reverse("org:division_detail", args=[d.code])),
            Column("code", "区划代码", sortable=True, css="mono"),
            Column("street", "街道", value="parent.name", sortable=True, order_by=("parent__code", "code")),
            Column("posts", "空缺岗位", value=lambda d: "、".join(vacant(d)),
                   html=lambda d: format_html_join(" ", '<span class="tag red">{}</span>', ((p,) for p in vacant(d)))),
        ],
        ordering=("code",),
        page_sizes=(25, 50, 100),
        page_size=100,
        export=Exporter(sheet="主要岗位空缺", filename="主要岗位空缺.xlsx"),
    )


class FindingFilterForm(forms.Form):
    """The findings' filters, as the page always had them: a level, a clause (and its sub-clauses), and
    text in the community's code or name or in the message."""

    level = forms.ChoiceField(label="级别", required=False,
                              choices=[("", "全部"), (ERROR, LEVEL_NAMES[ERROR]), (WARNING, LEVEL_NAMES[WARNING])])
    clause = forms.CharField(label="条款", required=False, max_length=20)
    q = forms.CharField(label="社区或内容", required=False, max_length=100)


def _clause_key(f: Finding) -> tuple[int, ...]:
    """"4.10" after "4.9": a clause sorts by its numbers, not its text."""
    return tuple(int(part) if part.isdigit() else 0 for part in f.clause.split("."))


def _community_cell(f: Finding) -> str:
    return format_html('<a href="{}">{}</a><div class="mono muted" style="font-size:12px">{}</div>',
                       reverse("org:division_detail", args=[f.community]), f.name, f.community)


def _level_cell(f: Finding) -> str:
    return format_html('<span class="tag {}">{}</span>', "red" if f.level == ERROR else "amber", f.level_name)


def _message_cell(f: Finding) -> str:
    if f.worker:
        return format_html('<a href="{}">{}</a>', reverse("people:worker_detail", args=[f.worker]), f.message)
    return f.message


# The quota findings' rules are the 4.1 quota itself (staffing.compliance: quota_*).
_QUOTA_RULES = {"quota_households": "户数未填写,无法核定社工岗数量", "quota_max": "社工岗数量超过核定上限",
                "quota_min": "社工岗数量低于核定下限"}


def rule_name(f: Finding) -> str:
    """The finding's rule in Chinese, from the rule set (a head count: "党组织书记人数"; a holder rule:
    "网格长任职条件"). The rule set's internal id (`public_welfare_holds_post`) is never shown: a rule the
    current rule set does not know gives an empty cell, and the 条款 column still names the clause."""
    if f.rule in _QUOTA_RULES:
        return _QUOTA_RULES[f.rule]
    rule_set = load_rule_set()
    for headcount in rule_set.headcounts:
        if headcount.id == f.rule:
            return f"{headcount.label}人数"
    for holder in rule_set.holders:
        if holder.id == f.rule:
            return "所有岗位的任职人员类别" if holder.post == ANY else f"{rule_set.post_name(holder.post)}任职条件"
    return ""


FINDINGS = ListDeclaration(
    name="findings", model=None,
    memory_filter=MemoryFilter(form=FindingFilterForm, apply=lambda rows, data: filter_findings(
        rows, level=data["level"], clause=data["clause"], q=data["q"])),
    columns=[
        Column("community", "区划代码", sortable=True, page=False),
        Column("name", "社区", sortable=True, sort_value=lambda f: (f.name, f.community), html=_community_cell),
        Column("clause", "条款", sortable=True, sort_value=_clause_key, css="mono"),
        Column("level", "级别", value="level_name", sortable=True, sort_value=lambda f: f.level != ERROR,
               html=_level_cell),
        Column("message", "问题", html=_message_cell, css="wrap"),
        Column("expected", "应为"),
        Column("actual", "实际", css="num", export_value=lambda f: "" if f.actual is None else f.actual),
        Column("rule", "规则", value=rule_name, page=False),
    ],
    page_sizes=(50, 100, 200),
    page_size=100,
    export=Exporter(sheet="问题清单", filename="合规检查问题清单.xlsx"),
)
