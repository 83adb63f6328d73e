from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from shegong.access import Actor
from shegong.common.codes import normalize_text
from shegong.common.crypto import search_hash
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.common.errors import ApplicationError
from shegong.people.idnumber import IdNumberError, parse_id_number
from shegong.people.models import Worker


def worker_find_by_id_number(*, id_number: str) -> Worker | None:
    try:
        value = parse_id_number(id_number).value
    except IdNumberError:
        return None
    return Worker.objects.filter(id_number_hash=search_hash(value)).first()


def worker_list(*, actor: Actor, community: str = "", post_type: str = "", category: str = "", status: str = "",
                q: str = "", id_hash: str = "") -> QuerySet[Worker]:
    """Workers in scope, filtered. `q` is a name fragment or a full ID number (matched by its hash);
    `id_hash` is the keyed hash of an ID number (the web list puts it in URLs instead of the number)."""
    qs = Worker.objects.restrict(actor, "view").select_related("community")
    if community:
        try:
            qs = qs.filter(community__code__startswith=normalize_code(community))
        except DivisionCodeError:
            return qs.none()
    if category:
        qs = qs.filter(category=category)
    if status:
        qs = qs.filter(status=status)
    if post_type:
        qs = qs.filter(Exists(_holding(post_type).filter(worker=OuterRef("pk"))))
    if id_hash:
        qs = qs.filter(id_number_hash=id_hash)
    q = (q or "").strip()
    if q:
        try:
            qs = qs.filter(id_number_hash=search_hash(parse_id_number(q).value))
        except IdNumberError:
            qs = qs.filter(name__contains=q)
    return qs.order_by("community__code", "name", "id")


def _holding(post_type: str) -> QuerySet[Any]:
    """Appointments of the post (by code, canonical name or accepted variant) current today. People sits
    below staffing and does not import it: the models are reached through the reverse relation
    `Worker.appointments`, and "current" is staffing's own queryset method `active_on`."""
    appointment: Any = Worker.appointments.field.model
    post_model: Any = appointment._meta.get_field("post_type").related_model
    text = normalize_text(post_type).replace("“", "\"").replace("”", "\"")
    if not text:
        raise ApplicationError("岗位不能为空", field="post_type")
    code = next((c for c, name, aliases in post_model._default_manager.values_list("code", "name", "aliases")
                 if text in (c, name, *aliases)), None)
    if code is None:
        raise ApplicationError(f"岗位“{text}”不在 DB22/T 3226—2021 第 4–6 章所列岗位中", field="post_type")
    return appointment._default_manager.active_on(timezone.localdate()).filter(post_type__code=code)


def worker_get(*, actor: Actor, pk: int, action: str = "view") -> Worker:
    return Worker.objects.restrict(actor, action).select_related("community").get(pk=pk)
