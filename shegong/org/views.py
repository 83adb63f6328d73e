"""Division pages (区划与社区): the index of the actor's scope and one division's page.

A division page also shows data that higher apps own (workers, posts held, compliance). org sits below
them in the layers and imports none of them: each contributes its part through `division_part`, which
their views modules call at import time (the URLconf imports every app's views before the first request).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shegong.access import can, get_scoped
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.common.history import history_entries
from shegong.org.cascade import FIELD_NAME, chosen
from shegong.org.cascade import division_cascade as division_cascade_for
from shegong.org.models import Division
from shegong.org.selectors import community_counts, division_ancestors, division_list, division_roots

# A part: (request, division, children) -> extra template context. For a community page children is [].
DivisionPart = Callable[[HttpRequest, Division, list[Division]], dict[str, Any]]
_PARTS: list[DivisionPart] = []


def division_part(part: DivisionPart) -> DivisionPart:
    """Register a higher app's contribution to the division pages (a decorator)."""
    if part not in _PARTS:
        _PARTS.append(part)
    return part


def _parts(request: HttpRequest, division: Division, children: list[Division]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for part in _PARTS:
        context.update(part(request, division, children))
    return context


def _history(division: Division) -> list[Any]:
    records = list(division.history.select_related("history_user").order_by("history_date", "history_id"))
    return history_entries(records, Division)[:30]


@login_required
def division_index(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    if q:
        rows = list(division_list(actor=request.user, q=q).select_related("parent")[:100])
        title = f"搜索“{q}”"
    else:
        rows = list(division_roots(actor=request.user))
        title = "我的管辖范围"
    counts = community_counts(divisions=rows, actor=request.user)
    return render(request, "org/divisions.html", {
        "rows": [(d, counts.get(d.code, {})) for d in rows], "q": q, "title": title,
    })


def _division(request: HttpRequest, code: str) -> Division:
    with contextlib.suppress(DivisionCodeError):  # not a code at all: get_scoped answers "not found"
        code = normalize_code(code)  # any form of the code: 220102 or 220102000000
    return get_scoped(Division, request.user, code=code)


@login_required
def division_detail(request: HttpRequest, code: str) -> HttpResponse:
    division = _division(request, code)
    if division.is_community:
        return render(request, "org/community.html", {
            "community": division, "ancestors": division_ancestors(division=division),
            "history": _history(division), "can_change": can(request.user, "change", division),
            **_parts(request, division, []),
        })
    children = list(division_list(actor=request.user, parent=division))
    counts = community_counts(divisions=children, actor=request.user)
    extra = _parts(request, division, children)
    workers = extra.get("child_worker_counts", {})
    rows = [(d, counts.get(d.code, {}), workers.get(d.code)) for d in children]
    return render(request, "org/division.html", {
        "division": division, "ancestors": division_ancestors(division=division), "rows": rows,
        "history": _history(division), **extra,
    })


@login_required
def division_cascade(request: HttpRequest) -> HttpResponse:
    """The cascader's selects for the chosen division (htmx swaps them in when one level changes)."""
    field = request.GET.get("field", "")
    field = field if FIELD_NAME.match(field) else "community"  # only a plain name reaches the page
    cascade = division_cascade_for(actor=request.user, field=field, selected=chosen(request.GET.getlist(field)))
    return render(request, "org/cascade.html", {"cascade": cascade})
