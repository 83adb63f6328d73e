from __future__ import annotations

from django.db.models import QuerySet

from shegong.access import Actor
from shegong.common.crypto import search_hash
from shegong.common.errors import ApplicationError
from shegong.common.lists import ListError, api_queryset
from shegong.people.idnumber import IdNumberError, parse_id_number
from shegong.people.lists import WORKERS
from shegong.people.models import Worker


def worker_find_by_id_number(*, id_number: str) -> Worker | None:
    try:
        value = parse_id_number(id_number).value
    except IdNumberError:
        return None
    return Worker.objects.filter(id_number_hash=search_hash(value)).first()


def worker_list(*, actor: Actor, community: str = "", post_type: str = "", category: str = "", status: str = "",
                q: str = "", id_hash: str = "") -> QuerySet[Worker]:
    """Workers in scope, filtered and ordered as the worker list filters them (people/filters.py, one
    rule for the page, the API and the roster export). `q` is a name fragment or a full ID number
    (matched by its hash); `id_hash` is the keyed hash of an ID number (the web list puts it in URLs
    instead of the number). A value the filter refuses (an unknown post) is an ApplicationError."""
    params = {"community": community, "post_type": post_type, "category": category, "status": status,
              "q": q, "idh": id_hash}
    rows = Worker.objects.restrict(actor, "view").select_related("community")
    try:
        return api_queryset(WORKERS, rows, {k: v for k, v in params.items() if v})
    except ListError as exc:
        raise ApplicationError(";".join(exc.messages), field=_field_of(exc.messages)) from exc


def _field_of(messages: list[str]) -> str | None:
    """The filter named by the first message ("筛选条件“岗位”:…" → post_type)."""
    for name, f in WORKERS.filterset.base_filters.items() if WORKERS.filterset else ():
        if messages and f"“{f.label}”" in messages[0]:
            return name
    return None


def worker_get(*, actor: Actor, pk: int, action: str = "view") -> Worker:
    return Worker.objects.restrict(actor, action).select_related("community").get(pk=pk)
