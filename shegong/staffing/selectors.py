from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from shegong.access import Actor
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.common.lists import api_queryset
from shegong.org.models import Division
from shegong.staffing.lists import APPOINTMENTS
from shegong.staffing.models import Appointment, PostType

# Posts whose vacancy the home page shows (the community's 正职, clauses 4.2.1 and 4.3.2).
VACANCY_POSTS = ("party_secretary", "rc_director")
# The vacancies page adds the 专职副书记 (4.2.1).
VACANCY_PAGE_POSTS = ("party_secretary", "party_deputy_secretary", "rc_director")


def appointment_list(*, actor: Actor, community: str = "", worker_id: int | None = None, post_type: str = "",
                     current: bool | None = None, sort: str = "") -> QuerySet[Appointment]:
    """The appointments the actor may view, through the list's own filter and sort (staffing/lists.py) so
    that the API and the roster export filter the same way. ListError (Chinese, naming the field) on a
    sort key that is not a sortable column."""
    params = {"community": community, "worker_id": "" if worker_id is None else str(worker_id),
              "post_type": post_type, "current": "" if current is None else str(current).lower(), "sort": sort}
    return api_queryset(APPOINTMENTS, Appointment.objects.restrict(actor, "view").select_related(
        "worker", "community", "post_type"), params)


def appointment_get(*, actor: Actor, pk: int, action: str = "view") -> Appointment:
    return Appointment.objects.restrict(actor, action).select_related("worker", "community", "post_type").get(pk=pk)


def vacancy_queryset(*, actor: Actor, as_of: dt.date | None = None, posts: tuple[str, ...] = VACANCY_POSTS,
                     scope: str = "") -> QuerySet[Division]:
    """Communities in scope missing a current holder of any of `posts`; each row annotated has_<code>."""
    as_of = as_of or timezone.localdate()
    qs = Division.objects.restrict(actor, "view").filter(level=Division.Level.COMMUNITY, is_active=True)
    if scope:
        try:
            qs = qs.filter(code__startswith=normalize_code(scope))
        except DivisionCodeError:
            return qs.none()
    annotations = {}
    for code in posts:
        annotations[f"has_{code}"] = Exists(
            Appointment.objects.active_on(as_of).filter(community=OuterRef("pk"), post_type__code=code))
    qs = qs.annotate(**annotations)
    return qs.filter(Q(*[Q(**{f"has_{c}": False}) for c in posts], _connector=Q.OR)).select_related("parent") \
        .order_by("code")


def post_type_names(codes: tuple[str, ...]) -> dict[str, str]:
    """The posts' names by code (one query)."""
    return dict(PostType.objects.filter(code__in=codes).values_list("code", "name"))


class VacancyRows:
    """A sliceable sequence of {"division", "posts"} over vacancy_queryset, for Paginator: only the page's
    rows are read."""

    def __init__(self, qs: QuerySet[Division], posts: tuple[str, ...]) -> None:
        self.qs, self.posts = qs, posts
        self.names = post_type_names(posts)

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[dict[str, Any]]:
        return [{"division": d, "posts": [self.names.get(c, c) for c in self.posts if not getattr(d, f"has_{c}")]}
                for d in self.qs[key]]


def vacancies(*, actor: Actor, as_of: dt.date | None = None, limit: int = 50, posts: tuple[str, ...] = VACANCY_POSTS,
              scope: str = "") -> tuple[list[dict[str, Any]], int]:
    """Communities in scope with no current holder of `posts` — one query for the rows, one count."""
    rows = VacancyRows(vacancy_queryset(actor=actor, as_of=as_of, posts=posts, scope=scope), posts)
    return rows[:limit], rows.count()


def posts_held(*, actor: Actor, community: Division, as_of: dt.date | None = None) -> list[Appointment]:
    as_of = as_of or timezone.localdate()
    return list(Appointment.objects.restrict(actor, "view").active_on(as_of).filter(community=community)
                .select_related("worker", "post_type").order_by("post_type__sort", "start_date", "id"))
