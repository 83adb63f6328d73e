"""The home pages, built from what the apps declare (shegong/<app>/desk.py, the way menu.py declares the
menu): an administrator's work desk — what needs doing, each a link to the filtered list behind it, and
charts of the team in their scope, each bar a link to its list — and a worker's own page.

Every declared count and chart is a fixed number of set-based queries over the actor's scope (DESIGN
habit 9): the home's query count does not grow with the data (tests/web/test_web_queries.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from shegong.archives import desk as archives_desk
from shegong.archives import selectors as archive_selectors
from shegong.archives.models import CorrectionRequest
from shegong.common.menus import Chart, DeskCharts, DeskItem
from shegong.people import desk as people_desk
from shegong.people.models import Worker
from shegong.roster import desk as roster_desk
from shegong.staffing import desk as staffing_desk
from shegong.staffing.models import Appointment
from shegong.web.navigation import is_admin

_APPS: tuple[Any, ...] = (people_desk, archives_desk, staffing_desk, roster_desk)
ITEMS: list[DeskItem] = sorted((item for app in _APPS for item in app.DESK), key=lambda i: i.weight)
CHARTS: list[DeskCharts] = sorted((c for app in _APPS for c in app.CHARTS), key=lambda c: c.weight)


@dataclass(frozen=True)
class Todo:
    label: str
    count: int
    href: str
    hint: str


def todos(request: HttpRequest) -> list[Todo]:
    """The declared to-dos the actor may act on, those with nothing to do left out."""
    out = []
    for item in ITEMS:
        if not is_admin(request.user, item.action):
            continue
        n = item.count(request)
        if n:
            out.append(Todo(str(item.label), n, item.href(request), str(item.hint)))
    return out


def charts(request: HttpRequest) -> list[Chart]:
    """The declared charts of the actor's scope; a chart without data is not shown."""
    return [chart for source in CHARTS if is_admin(request.user, source.action)
            for chart in source.build(request) if chart.bars]


@dataclass
class OwnPage:
    """What a worker's own home shows: who and where they are, their posts, their archive and their
    correction requests."""

    worker: Worker
    posts: list[Appointment]
    completeness: archive_selectors.Completeness
    corrections: list[CorrectionRequest]

    @property
    def percent(self) -> int:
        return round(self.completeness.rate * 100)


def own_page(request: HttpRequest) -> OwnPage | None:
    """The signed-in account's own worker record (within its own grants) and what hangs on it."""
    user = request.user
    worker_id = getattr(user, "worker_id", None)
    if not worker_id:
        return None
    worker = (Worker.objects.restrict(user, "view").select_related("community", "community__parent")
              .filter(pk=worker_id).first())
    if worker is None:
        return None
    posts = list(Appointment.objects.restrict(user, "view").active_on(timezone.localdate())
                 .filter(worker=worker).select_related("post_type", "community").order_by("post_type__pk"))
    completeness = archive_selectors.completeness(worker=worker)
    corrections = list(CorrectionRequest.objects.restrict(user, "view").filter(worker=worker)
                       .select_related("record").order_by("-requested_at", "-id")[:10])
    return OwnPage(worker, posts, completeness, corrections)
