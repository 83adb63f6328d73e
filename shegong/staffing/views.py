"""Compliance pages (clauses 3.2, 4): roll-up at every level, the findings table, its xlsx export, and
the vacancies of the principal posts. Thin: parse, call the selectors, render."""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from shegong.org.models import Division
from shegong.org.selectors import division_ancestors, division_list, division_roots
from shegong.staffing.compliance import (
    ERROR,
    WARNING,
    clause_counts,
    compliance_report,
    filter_findings,
    rollup,
)
from shegong.staffing.selectors import VACANCY_PAGE_POSTS, VacancyRows, vacancy_queryset

PAGE_SIZE = 100


def _as_of(request: HttpRequest) -> tuple[dt.date, str]:
    raw = request.GET.get("as_of", "").strip()
    if raw:
        try:
            return dt.date.fromisoformat(raw), ""
        except ValueError:
            return timezone.localdate(), f"核查日期“{raw}”无效,应为 YYYY-MM-DD;已按今天核查"
    return timezone.localdate(), ""


def _params(request: HttpRequest) -> dict[str, str]:
    return {k: request.GET.get(k, "").strip() for k in ("scope", "as_of", "level", "clause", "q")}


def _report(request: HttpRequest) -> tuple[Division | None, Any, dt.date, str]:
    as_of, warning = _as_of(request)
    scope = request.GET.get("scope", "").strip()
    if not scope:
        roots = list(division_roots(user=request.user)[:2])
        if len(roots) == 1:  # one grant: its division is the page's scope (breadcrumbs, children)
            scope = roots[0].code
    try:
        division, report = compliance_report(user=request.user, scope=scope, as_of=as_of)
    except Division.DoesNotExist as exc:
        raise Http404("不存在或不在您的管辖范围内") from exc
    return division, report, as_of, warning


@login_required
def compliance_index(request: HttpRequest) -> HttpResponse:
    division, report, as_of, date_warning = _report(request)
    params = _params(request)
    findings = filter_findings(report.findings, level=params["level"], clause=params["clause"], q=params["q"])
    page = Paginator(findings, PAGE_SIZE).get_page(request.GET.get("page"))
    if division is None:
        children = list(division_roots(user=request.user))
    elif division.is_community:
        children = []
    else:
        children = list(division_list(user=request.user, parent=division))
    counts = rollup(report, children) if children else {}
    staffing = report.staffing.get(division.code) if division is not None and division.is_community else None
    query = urlencode({k: v for k, v in params.items() if v})
    return render(request, "staffing/compliance.html", {
        "division": division, "ancestors": division_ancestors(division=division) if division else [],
        "report": report, "as_of": as_of, "date_warning": date_warning, "params": params, "page": page,
        "query": query, "filtered": len(findings), "staffing": staffing,
        "children": [(d, counts.get(d.code, {})) for d in children],
        "clauses": clause_counts(report.findings), "all_clauses": report.rule_set.clauses(),
        "with_errors": report.communities_with(ERROR), "with_warnings": report.communities_with(WARNING),
        "clean": report.communities - len({f.community for f in report.findings}),
    })


@login_required
def compliance_export(request: HttpRequest) -> FileResponse:
    from shegong.staffing.exporters import write_report

    division, report, as_of, _ = _report(request)
    params = _params(request)
    findings = filter_findings(report.findings, level=params["level"], clause=params["clause"], q=params["q"])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 — FileResponse closes it
    write_report(spool, report, findings=findings)  # type: ignore[arg-type]
    spool.seek(0)
    name = f"合规检查_{division.code if division else '全部'}_{as_of.isoformat()}.xlsx"
    return FileResponse(spool, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
def vacancy_index(request: HttpRequest) -> HttpResponse:
    as_of, date_warning = _as_of(request)
    scope = request.GET.get("scope", "").strip()
    rows = VacancyRows(vacancy_queryset(user=request.user, day=as_of, posts=VACANCY_PAGE_POSTS, scope=scope),
                       VACANCY_PAGE_POSTS)
    page: Any = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    count = page.paginator.count
    query = urlencode({k: v for k, v in {"scope": scope, "as_of": request.GET.get("as_of", "")}.items() if v})
    return render(request, "staffing/vacancies.html", {
        "page": page, "count": count, "as_of": as_of, "date_warning": date_warning, "scope": scope, "query": query,
    })
