from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from shegong.org.models import Division
from shegong.staffing.models import Appointment, PostType

# Posts whose vacancy the home page shows (the community's 正职, clauses 4.2.1 and 4.3.2).
VACANCY_POSTS = ("party_secretary", "rc_director")


def appointment_list(*, user: Any, community: str = "", worker_id: int | None = None, post_type: str = "",
                     current: bool | None = None) -> QuerySet[Appointment]:
    qs = Appointment.objects.restrict(user, "view").select_related("worker", "community", "post_type")
    if community:
        from shegong.org.codes import DivisionCodeError, normalize_code

        try:
            qs = qs.filter(community__code__startswith=normalize_code(community))
        except DivisionCodeError:
            return qs.none()
    if worker_id is not None:
        qs = qs.filter(worker_id=worker_id)
    if post_type:
        from shegong.staffing.services import post_type_code

        qs = qs.filter(post_type__code=post_type_code(post_type))
    if current is True:
        qs = qs.active_on(timezone.localdate())
    elif current is False:
        qs = qs.filter(end_date__isnull=False)
    return qs.order_by("community__code", "post_type__sort", "-start_date", "id")


def appointment_get(*, user: Any, pk: int, action: str = "view") -> Appointment:
    return Appointment.objects.restrict(user, action).select_related("worker", "community", "post_type").get(pk=pk)


def vacancies(*, user: Any, day: dt.date | None = None, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Communities in scope with no current 党组织书记 or 居委会主任 — one query for the rows, one count."""
    day = day or timezone.localdate()
    qs = Division.objects.restrict(user, "view").filter(level=Division.Level.COMMUNITY, is_active=True)
    annotations = {}
    for code in VACANCY_POSTS:
        annotations[f"has_{code}"] = Exists(
            Appointment.objects.active_on(day).filter(community=OuterRef("pk"), post_type__code=code))
    qs = qs.annotate(**annotations)
    missing = qs.filter(Q(*[Q(**{f"has_{c}": False}) for c in VACANCY_POSTS], _connector=Q.OR))
    names = dict(PostType.objects.filter(code__in=VACANCY_POSTS).values_list("code", "name"))
    rows = []
    for d in missing.select_related("parent").order_by("code")[:limit]:
        posts = [names.get(c, c) for c in VACANCY_POSTS if not getattr(d, f"has_{c}")]
        rows.append({"division": d, "posts": posts})
    return rows, missing.count()


def posts_held(*, user: Any, community: Division, day: dt.date | None = None) -> list[Appointment]:
    day = day or timezone.localdate()
    return list(Appointment.objects.restrict(user, "view").active_on(day).filter(community=community)
                .select_related("worker", "post_type").order_by("post_type__sort", "start_date", "id"))
