"""staffing's part of the administrator's work desk (built by shegong.web.desk): communities with
compliance errors and unpublished post descriptions (to-dos); compliance errors by clause and community
workers per 10,000 residents against the national target (charts). Set-based: the compliance report is
the compliance page's (a few aggregate queries over the whole scope), computed once per request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Max, Min, Sum
from django.http import HttpRequest
from django.urls import reverse

from shegong.access import scope_roots
from shegong.common.menus import Bar, Chart, DeskCharts, DeskItem, per_request
from shegong.common.rollup import rollup_children
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.staffing.compliance import ERROR, Report, clause_counts, evaluate
from shegong.staffing.models import PostDescription

# 国办发〔2021〕56号 (《"十四五"城乡社区服务体系建设规划》): 每万城镇常住人口拥有社区工作者 18 人 by 2025.
# Not a clause of DB22/T 3226—2021, so not (yet) a key of its rule set, whose loader refuses unknown keys;
# an installation sets SHEGONG_WORKERS_PER_10000 to use another target.
NATIONAL_TARGET_SOURCE = "国办发〔2021〕56号"
COMMUNITY_CODE_LENGTH = 12


def workers_per_10000_target() -> int:
    return int(getattr(settings, "SHEGONG_WORKERS_PER_10000", 18))


def report(request: HttpRequest) -> Report:
    result: Report = per_request(request, "staffing.report", lambda: evaluate(actor=request.user))
    return result


def communities_with_errors(request: HttpRequest) -> int:
    return report(request).communities_with(ERROR)


def _drafts(request: HttpRequest) -> dict[str, Any]:
    """Unpublished drafts of post descriptions the actor may publish: how many, and the first and last
    street (one aggregate query)."""
    return per_request(request, "staffing.drafts", lambda: (
        PostDescription.objects.restrict(request.user, "change").filter(status=PostDescription.Status.DRAFT)
        .aggregate(n=Count("id"), first=Min("street__code"), last=Max("street__code"))))


def _drafts_url(request: HttpRequest) -> str:
    d = _drafts(request)
    if d["n"] and d["first"] == d["last"]:  # all in one street: that street's list
        return reverse("staffing:description_list", args=[d["first"]])
    return reverse("staffing:description_index")


DESK = [
    DeskItem("有合规错误的社区", 30, communities_with_errors,
             lambda request: f"{reverse('staffing:compliance')}?{urlencode({'level': ERROR})}", hint="DB22/T 3226—2021 第 4 章"),
    DeskItem("未发布的岗位说明书草稿", 40, lambda request: _drafts(request)["n"], _drafts_url, hint="8.1.1.2"),
]


def clause_chart(request: HttpRequest) -> Chart | None:
    rows = [(clause, errors) for clause, errors, _ in clause_counts(report(request).findings) if errors]
    if not rows:
        return None
    base = reverse("staffing:compliance")
    bars = [Bar(clause, n, f"{base}?{urlencode({'level': ERROR, 'clause': clause})}") for clause, n in rows]
    return Chart("clauses", "合规错误(按条款)", "bar", bars, unit="条",
                 note=f"{report(request).communities_with(ERROR)} 个社区有错误")


def _children(actor: Any) -> list[tuple[str, str]]:
    """(code, name) of the divisions the density chart compares: the children of the actor's one top
    division, or its several top divisions (a community admin: that community). One query."""
    roots = scope_roots(actor)
    divisions = Division.objects.restrict(actor, "view").filter(is_active=True)
    if roots is None:  # the operator: the top divisions, or the children of the only one
        roots = list(Division.objects.filter(parent__isnull=True, is_active=True).values_list("code", flat=True))
    if len(roots) == 1 and len(roots[0]) < COMMUNITY_CODE_LENGTH:
        divisions = divisions.filter(parent__code=roots[0])
    else:
        divisions = divisions.filter(code__in=roots)
    return list(divisions.order_by("code").values_list("code", "name"))


def density_chart(request: HttpRequest) -> Chart | None:
    """Full-time community workers per 10,000 residents (常住人口) per division, against the national
    target; divisions without resident figures are left out (and counted in the note when they have
    workers)."""
    actor = request.user
    children = _children(actor)
    if not children:
        return None
    codes = [code for code, _ in children]
    communities = Division.objects.restrict(actor, "view").filter(level=Division.Level.COMMUNITY, is_active=True)
    residents = rollup_children(communities, "code", codes, residents=Sum("resident_population"))
    workers = rollup_children(
        Worker.objects.restrict(actor, "view").filter(status=Worker.Status.ACTIVE,
                                                      category=Worker.Category.FULL_TIME),
        "community__code", codes, n=Count("id"))
    bars, missing = [], 0
    for code, name in children:
        people, n = residents[code]["residents"] or 0, workers[code]["n"]
        if not people:
            missing += 1 if n else 0
            continue
        href = f"{reverse('people:worker_index')}?" + urlencode(
            {"community": code, "category": Worker.Category.FULL_TIME, "status": Worker.Status.ACTIVE})
        bars.append(Bar(name, round(n * 10000 / people, 1), href))
    if not bars:
        return None
    target = workers_per_10000_target()
    note = f"国家目标:每万城镇常住人口 {target} 名社区工作者({NATIONAL_TARGET_SOURCE})"
    if missing:
        note += f";{missing} 个区划缺常住人口数据,未列出"
    return Chart("density", "每万常住人口专职社区工作者数", "bar", bars, unit="人/万人", note=note,
                 target=target, target_label=f"目标 {target}")


def staffing_charts(request: HttpRequest) -> list[Chart]:
    return [c for c in (clause_chart(request), density_chart(request)) if c is not None]


CHARTS = [DeskCharts(40, staffing_charts)]

