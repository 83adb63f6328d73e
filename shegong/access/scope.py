"""Scope: which rows an actor may view, change or reveal.

A scoped model declares where its rows lie in the division tree (class attributes, usually set through
`shegong.access.models.ScopedModel` or `ScopeDeclaration`):

- `scope_field` — the path to the division code that places a row ("community__code");
- `owner_field` — where a row belongs to one person, the path to that Worker ("worker"); a grant whose
  role is limited to the user's own record (`self_only`) covers exactly those rows, wherever they now lie
  (a transfer or an import that moves the worker does not cut them off from their own file);
- `scope_visible_from_below` — rows that people *below* the row's division may view as well (a street's
  post descriptions are read by its communities); changing them still needs a grant at or above.

A grant is a role on a division and covers the division's whole subtree: rows whose code starts with the
grant's code. Superusers and system actors see everything; an actor without a grant sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models import Q

from shegong.access.errors import FORBIDDEN, NOT_VISIBLE, Forbidden, NotVisible
from shegong.common.divcodes import ancestor_codes

M = TypeVar("M", bound=models.Model)
NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class GrantScope:
    code: str
    actions: frozenset[str]
    self_only: bool
    # for display only (the home page's "your roles"), read in the same query as the rest
    role_name: str = ""
    division_name: str = ""


def _active(actor: Any) -> bool:
    return actor is not None and bool(getattr(actor, "is_authenticated", False)) and bool(actor.is_active)


def grant_scopes(actor: Any) -> list[GrantScope]:
    """The actor's grants (division code, actions, self-only), read once per actor object (one query,
    through the reverse relation `actor.grants`, so this module imports no app)."""
    if not _active(actor) or getattr(actor, "is_system", False):
        return []
    cached: list[GrantScope] | None = getattr(actor, "_access_grants", None)
    if cached is None:
        cached = [GrantScope(g.division.code, frozenset(g.role.actions), g.role.self_only,
                             role_name=g.role.name, division_name=g.division.name)
                  for g in grant_rows(actor)]
        actor._access_grants = cached
    return cached


def grant_rows(actor: Any) -> list[Any]:
    """The actor's Grant rows with role and division, loaded once per actor object (the one query behind
    `grant_scopes`, which also carries the role and division names that pages show)."""
    rows: list[Any] | None = getattr(actor, "_access_grant_rows", None)
    if rows is None:
        rows = list(actor.grants.select_related("role", "division")) if getattr(actor, "pk", None) else []
        actor._access_grant_rows = rows
    return rows


def preload_grant_rows(actor: Any, rows: list[Any]) -> None:
    """Hand over the actor's Grant rows (with role and division) read together with the actor itself (the
    sign-in backend does: one query for both); `grant_rows` then reads nothing."""
    actor._access_grant_rows = list(rows)


def grant_codes(actor: Any, action: str = "view") -> list[str]:
    """The division codes where the actor holds `action` over a subtree (self-only grants excluded)."""
    return [g.code for g in grant_scopes(actor) if action in g.actions and not g.self_only]


def _unlimited(actor: Any) -> bool:
    return _active(actor) and bool(getattr(actor, "is_superuser", False))


def is_operator(actor: Any) -> bool:
    """The operator of the installation: a system actor (a command, an import, a job) or an active superuser.
    Accounts and roles as a whole, the reference division codes and other people's import jobs are theirs."""
    return _unlimited(actor)


def require_operator(actor: Any, message: str) -> None:
    """Raise Forbidden unless the actor is the operator."""
    if not is_operator(actor):
        raise Forbidden(message)


def require_self_or_operator(actor: Any, owner_pk: Any, message: str) -> None:
    """One's own things (password, tokens, uploads) — or the operator's."""
    if not (is_operator(actor) or (_active(actor) and owner_pk is not None and getattr(actor, "pk", None) == owner_pk)):
        raise Forbidden(message)


def can_at(actor: Any, action: str, code: str) -> bool:
    """Whether the actor holds `action` over the division with this code (for rows that are not objects
    yet, e.g. the lines of an import): a grant on the division or above it, or the operator."""
    if is_operator(actor):
        return True
    return any(code.startswith(prefix) for prefix in grant_codes(actor, action))


def scope_roots(actor: Any) -> list[str] | None:
    """The division codes at the top of the actor's view scope; None means the whole tree (the operator)."""
    if is_operator(actor):
        return None
    return [g.code for g in grant_scopes(actor)]


def actions_anywhere(actor: Any) -> set[str]:
    """Every action the actor holds somewhere (for menus and buttons, never for a decision on a row)."""
    if _unlimited(actor):
        return {"view", "change", "reveal"}
    return {a for g in grant_scopes(actor) for a in g.actions}


def may_anywhere(actor: Any, action: str) -> bool:
    return action in actions_anywhere(actor)


def scope_q(actor: Any, action: str, model: type[models.Model], prefix: str = "") -> Q:
    """The rows of `model` the actor may `action`; with `prefix` (e.g. "record__") the same condition
    on a related model, to filter a model that reaches `model` through that path."""
    if not _active(actor):
        return NOTHING
    if _unlimited(actor):
        return Q()
    scope_field: str = model.scope_field  # type: ignore[attr-defined]
    owner_field: str | None = getattr(model, "owner_field", None)
    from_below = action == "view" and bool(getattr(model, "scope_visible_from_below", False))
    q = NOTHING
    for grant in grant_scopes(actor):
        if action not in grant.actions:
            continue
        if grant.self_only and owner_field is not None:
            # Rows that belong to one person: only one's own. Rows that belong to no one (divisions, a
            # street's descriptions) fall through to the grant's subtree, as before issue 10: a worker
            # sees their community and reads their street's descriptions.
            if actor.worker_id is not None:
                q |= Q(**{f"{prefix}{owner_field}": actor.worker_id})
            continue
        q |= Q(**{f"{prefix}{scope_field}__startswith": grant.code})
        if from_below:
            q |= Q(**{f"{prefix}{scope_field}__in": ancestor_codes(grant.code)})
    return q


def restrict(queryset: models.QuerySet[M], actor: Any, action: str = "view") -> models.QuerySet[M]:
    """The rows of `queryset` the actor may `action`."""
    return queryset.filter(scope_q(actor, action, queryset.model))


def can(actor: Any, action: str, obj: models.Model) -> bool:
    """Whether the actor may `action` obj (at most one query, none when obj's scope path is already
    loaded; answers are kept on the actor object for the rest of the request)."""
    if not _active(actor):
        return False
    if _unlimited(actor):
        return True
    memo: dict[tuple[str, Any, str], bool] | None = getattr(actor, "_access_can", None)
    if memo is None:
        memo = {}
        actor._access_can = memo
    model = type(obj)
    key = (model._meta.label, obj.pk, action)
    if key not in memo:
        answer = _can_in_memory(actor, action, obj)
        if answer is None:
            answer = model._default_manager.filter(scope_q(actor, action, model), pk=obj.pk).exists()
        memo[key] = answer
    return memo[key]


_MISSING = object()


def _loaded(obj: models.Model, path: str) -> Any:
    """The value at `path` ("community__code", "worker", "pk") read through relations already loaded on
    obj only — `_MISSING` as soon as a step would need a query (a relation not cached, a deferred field,
    a missing link), so that the caller falls back to the database."""
    *links, last = path.split("__")
    current: Any = obj
    for name in links:
        field = current._meta.get_field(name)
        if not field.is_relation or not field.is_cached(current):
            return _MISSING
        current = getattr(current, name)
        if current is None:
            return _MISSING
    if last == "pk":
        return current.pk
    field = current._meta.get_field(last)
    if field.attname in current.get_deferred_fields():
        return _MISSING
    return getattr(current, field.attname)  # a relation answers its id, as the query compares it


def _can_in_memory(actor: Any, action: str, obj: models.Model) -> bool | None:
    """`can` decided in Python when obj's scope path (and owner, where a self-only grant needs it) is
    already loaded — the same rule as `scope_q`, without the EXISTS query (the worker page asks for
    change and reveal on a worker loaded with its community). None: not decidable without a query."""
    model = type(obj)
    scope_field = getattr(model, "scope_field", "")
    if obj.pk is None or not scope_field:
        return None
    try:
        code = _loaded(obj, scope_field)
    except FieldDoesNotExist:  # a path through a reverse or generic relation: let the query decide
        return None
    if code is _MISSING or not isinstance(code, str):
        return None
    owner_field: str | None = getattr(model, "owner_field", None)
    from_below = action == "view" and bool(getattr(model, "scope_visible_from_below", False))
    for grant in grant_scopes(actor):
        if action not in grant.actions:
            continue
        if grant.self_only and owner_field is not None:
            if actor.worker_id is None:
                continue
            try:
                owner = _loaded(obj, owner_field)
            except FieldDoesNotExist:
                return None
            if owner is _MISSING:
                return None
            if owner == actor.worker_id:
                return True
            continue
        if code.startswith(grant.code) or (from_below and code in ancestor_codes(grant.code)):
            return True
    return False


def require(actor: Any, action: str, obj: models.Model, message: str = "") -> None:
    """Raise Forbidden (403) unless the actor may `action` obj."""
    if not can(actor, action, obj):
        raise Forbidden(message or FORBIDDEN)


def get_scoped(queryset: models.QuerySet[M] | type[M], actor: Any, action: str = "view", *,
               message: str = "", not_found: str = "", **lookup: Any) -> M:
    """The one object matching `lookup` that the actor may view: NotVisible (404) when there is none in
    their view scope, Forbidden (403) when they may view it but not `action` it."""
    qs = queryset._default_manager.all() if isinstance(queryset, type) else queryset
    try:
        obj = restrict(qs, actor, "view").get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible(not_found or NOT_VISIBLE) from exc
    memo = getattr(actor, "_access_can", None)
    if memo is not None:
        memo[(qs.model._meta.label, obj.pk, "view")] = True
    elif _active(actor) and not _unlimited(actor):
        actor._access_can = {(qs.model._meta.label, obj.pk, "view"): True}
    if action != "view":
        require(actor, action, obj, message)
    return obj
