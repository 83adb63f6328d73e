from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from shegong.common.crypto import search_hash
from shegong.people.idnumber import IdNumberError, parse_id_number
from shegong.people.models import Worker


def worker_find_by_id_number(*, id_number: str) -> Worker | None:
    try:
        value = parse_id_number(id_number).value
    except IdNumberError:
        return None
    return Worker.objects.filter(id_number_hash=search_hash(value)).first()


def worker_list(*, user: Any, community: str = "", post_type: str = "", category: str = "", status: str = "",
                q: str = "", id_hash: str = "") -> QuerySet[Worker]:
    """Workers in scope, filtered. `q` is a name fragment or a full ID number (matched by its hash);
    `id_hash` is the keyed hash of an ID number (the web list puts it in URLs instead of the number)."""
    from shegong.staffing.models import Appointment

    qs = Worker.objects.restrict(user, "view").select_related("community")
    if community:
        from shegong.org.codes import DivisionCodeError, normalize_code

        try:
            qs = qs.filter(community__code__startswith=normalize_code(community))
        except DivisionCodeError:
            return qs.none()
    if category:
        qs = qs.filter(category=category)
    if status:
        qs = qs.filter(status=status)
    if post_type:
        from shegong.staffing.services import post_type_code

        today = timezone.localdate()
        active = Appointment.objects.filter(worker=OuterRef("pk"), post_type__code=post_type_code(post_type),
                                            start_date__lte=today).exclude(end_date__lte=today)
        qs = qs.filter(Exists(active))
    if id_hash:
        qs = qs.filter(id_number_hash=id_hash)
    q = (q or "").strip()
    if q:
        try:
            qs = qs.filter(id_number_hash=search_hash(parse_id_number(q).value))
        except IdNumberError:
            qs = qs.filter(name__contains=q)
    return qs.order_by("community__code", "name", "id")


def worker_get(*, user: Any, pk: int, action: str = "view") -> Worker:
    return Worker.objects.restrict(user, action).select_related("community").get(pk=pk)
