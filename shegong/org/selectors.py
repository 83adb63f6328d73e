from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from shegong.access import Actor, scope_roots
from shegong.common.divcodes import DivisionCodeError, ancestor_codes, normalize_code
from shegong.common.rollup import rollup_children
from shegong.org.models import Division


def division_get(*, actor: Actor, code: str, action: str = "view") -> Division:
    """The division by any form of its code, within scope; Division.DoesNotExist otherwise."""
    try:
        code = normalize_code(code)
    except DivisionCodeError as exc:
        raise Division.DoesNotExist(str(exc)) from exc
    return Division.objects.restrict(actor, action).get(code=code)


def division_list(*, actor: Actor, parent: Division | None = None, level: str | None = None,
                  q: str = "") -> QuerySet[Division]:
    qs = Division.objects.restrict(actor, "view").filter(is_active=True)
    if parent is not None:
        qs = qs.filter(parent=parent)
    if level:
        qs = qs.filter(level=level)
    if q:
        q = q.strip()
        code_q = Q()
        try:
            code_q = Q(code__startswith=normalize_code(q))
        except DivisionCodeError:
            code_q = Q(pk__in=[])
        qs = qs.filter(Q(name__contains=q) | code_q)
    return qs.order_by("code")


def division_ancestors(*, division: Division) -> list[Division]:
    """Breadcrumb names above a division (names only; scope is checked on the division itself)."""
    codes = ancestor_codes(division.code)
    by_code = {d.code: d for d in Division.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def division_roots(*, actor: Actor) -> QuerySet[Division]:
    """The top divisions of a user's scope: those whose parent is outside it."""
    visible = Division.objects.restrict(actor, "view").filter(is_active=True)
    roots = scope_roots(actor)
    if roots is None:
        return visible.filter(parent__isnull=True)
    return visible.filter(code__in=roots)


def community_counts(*, divisions: list[Division], actor: Actor) -> dict[str, dict[str, int]]:
    """For each division: communities and households below it (the one roll-up by division; one
    grouped query per code length among `divisions`, usually one)."""
    communities = Division.objects.restrict(actor, "view").filter(level=Division.Level.COMMUNITY, is_active=True)
    return rollup_children(communities, "code", [d.code for d in divisions],
                           communities=Count("id"), households=Sum("households"))


def communities_count(*, actor: Actor) -> int:
    return Division.objects.restrict(actor, "view").filter(level=Division.Level.COMMUNITY, is_active=True).count()


def community_annotated(qs: QuerySet[Division]) -> QuerySet[Division]:
    return qs.annotate(worker_count=Count("workers", filter=Q(workers__status="在岗"), distinct=True))
