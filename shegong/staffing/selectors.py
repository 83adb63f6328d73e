from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from shegong.access import Actor
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.org.models import Division
from shegong.staffing.models import Appointment, PostType
from shegong.staffing.services import post_type_code

# Posts whose vacancy the home page shows (the community's 正职, clauses 4.2.1 and 4.3.2).
VACANCY_POSTS = ("party_secretary", "rc_director")
# The vacancies page adds the 专职副书记 (4.2.1).
VACANCY_PAGE_POSTS = ("party_secretary", "party_deputy_secretary", "rc_director")


def appointment_list(*, actor: Actor, community: str = "", worker_id: int | None = None, post_type: str = "",
                     current: bool | None = None) -> QuerySet[Appointment]:
    qs = Appointment.objects.restrict(actor, "view").select_related("worker", "community", "post_type")
    if community:
        try:
            qs = qs.filter(community__code__startswith=normalize_code(community))
        except DivisionCodeError:
            return qs.none()
    if worker_id is not None:
        qs = qs.filter(worker_id=worker_id)
    if post_type:
        qs = qs.filter(post_type__code=post_type_code(post_type))
    if current is True:
        qs = qs.active_on(timezone.localdate())
    elif current is False:
        qs = qs.filter(end_date__isnull=False)
    return qs.order_by("community__code", "post_type__sort", "-start_date", "id")


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


class VacancyRows:
    """A sliceable sequence of {"division", "posts"} over vacancy_queryset, for Paginator: only the page's
    rows are read."""

    def __init__(self, qs: QuerySet[Division], posts: tuple[str, ...]) -> None:
        self.qs, self.posts = qs, posts
        self.names = dict(PostType.objects.filter(code__in=posts).values_list("code", "name"))

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
