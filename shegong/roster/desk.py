"""roster's part of the administrator's work desk (built by shegong.web.desk): the actor's own uploads
that passed validation and wait for their confirmation (an import is confirmed by whoever uploaded it)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max
from django.http import HttpRequest
from django.urls import reverse

from shegong.common.menus import DeskItem, per_request
from shegong.roster.models import ImportJob


def _awaiting(request: HttpRequest) -> dict[str, Any]:
    """How many of the actor's uploads wait for confirmation, and the latest one: one aggregate query."""
    return per_request(request, "roster.awaiting", lambda: (
        ImportJob.objects.filter(user_id=request.user.pk or 0, status=ImportJob.Status.VALIDATED)
        .aggregate(n=Count("id"), last=Max("id"))))


def _href(request: HttpRequest) -> str:
    a = _awaiting(request)
    if a["n"] == 1:
        return reverse("roster:roster_job", args=[a["last"]])
    return reverse("roster:roster_index")


DESK = [
    DeskItem("待确认导入的花名册", 50, lambda request: _awaiting(request)["n"], _href, hint="已校验通过"),
]
CHARTS: list[Any] = []
