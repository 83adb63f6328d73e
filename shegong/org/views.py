"""Division pages (区划与社区): the index of the actor's scope and one division's page.

A division page also shows data that higher apps own (workers, posts held, compliance). org sits below
them in the layers and imports none of them: each contributes its part through `division_part`, which
their views modules call at import time (the URLconf imports every app's views before the first request).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from shegong.access import can, get_scoped
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.common.errors import ApplicationError
from shegong.common.history import history_entries
from shegong.org.cascade import ACTIONS, BLANKS, FIELD_NAME, HTML_ID, chosen
from shegong.org.cascade import division_cascade as division_cascade_for
from shegong.org.forms import DivisionForm
from shegong.org.models import Division
from shegong.org.selectors import community_counts, division_ancestors, division_list, division_roots
from shegong.org.services import division_update

READ_ONLY = "您可以查看但无权修改这个区划"

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


def _division(request: HttpRequest, code: str, action: str = "view", message: str = "") -> Division:
    with contextlib.suppress(DivisionCodeError):  # not a code at all: get_scoped answers "not found"
        code = normalize_code(code)  # any form of the code: 220102 or 220102000000
    return get_scoped(Division, request.user, action, message=message, code=code)


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
        "history": _history(division), "can_change": can(request.user, "change", division), **extra,
    })


def _form_error(form: DivisionForm, exc: ApplicationError) -> None:
    for field, msgs in exc.errors.items():
        target = field if field in form.fields else None
        for msg in msgs:
            form.add_error(target, msg)


@login_required
def division_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Edit a division (a community's 户数 sets its 4.1 quota); only what was changed is saved, with the
    reason given, in the division's history."""
    division = _division(request, code, "change", READ_ONLY)
    fields = ("name", "address", *(DivisionForm.COMMUNITY_ONLY if division.is_community else ()))
    initial = {f: getattr(division, f) for f in fields}
    form = DivisionForm(request.POST or None, initial=initial, community=division.is_community)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        try:
            division_update(division=division, actor=request.user,
                            reason=form.cleaned_data["reason"].strip() or "网页修改区划", **changes)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已保存{division.name}的修改" if changes else "没有修改")
            return redirect("org:division_detail", code=division.code)
    return render(request, "org/division_form.html", {
        "division": division, "form": form, "ancestors": division_ancestors(division=division),
    })


@login_required
def division_cascade(request: HttpRequest) -> HttpResponse:
    """The cascader's selects for the chosen division (htmx swaps them in when one level changes)."""
    field = request.GET.get("field", "")
    field = field if FIELD_NAME.match(field) else "community"  # only a plain name reaches the page
    action = request.GET.get("action", "view")
    blank = request.GET.get("blank", "all")
    html_id = request.GET.get("id", "")
    cascade = division_cascade_for(actor=request.user, field=field, selected=chosen(request.GET.getlist(field)),
                                   action=action if action in ACTIONS else "view",
                                   blank=blank if blank in BLANKS else "all",
                                   html_id=html_id if HTML_ID.match(html_id) else "")
    return render(request, "org/cascade.html", {"cascade": cascade})
