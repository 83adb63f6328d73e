"""Scope: the one place that decides which rows a user may see or change (DESIGN habit 4).

Every scoped model uses `RestrictedQuerySet` and names `scope_field`, the path to the division code
that places a row in the tree, and, where a row belongs to one person, `owner_field`, the path to
that Worker (used for grants whose role is limited to the user's own record). A user without a
matching grant gets an empty queryset: scope fails closed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from shegong.accounts.models import User

NOTHING = Q(pk__in=[])


def scope_q(user: Any, action: str, model: type[models.Model], prefix: str = "") -> Q:
    """The rows of `model` in the user's scope for `action`; with `prefix` (e.g. "record__") the same
    condition on a related model, to filter a model that reaches `model` through that path."""
    from shegong.accounts.selectors import user_grants

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return Q()
    scope_field: str = model.scope_field  # type: ignore[attr-defined]
    owner_field: str | None = getattr(model, "owner_field", None)
    q = NOTHING
    for grant in user_grants(user):
        if action not in grant.role.actions:
            continue
        if grant.role.self_only and owner_field is not None:
            # One's own record wherever it now lies: a transfer or an import that moves the worker must
            # not cut them off from their own file.
            if user.worker_id is None:
                continue
            q |= Q(**{f"{prefix}{owner_field}": user.worker_id})
            continue
        q |= Q(**{f"{prefix}{scope_field}__startswith": grant.division.code})
    return q


def user_can(user: User | Any, action: str, obj: models.Model) -> bool:
    """True when obj lies in the user's scope for action (one query)."""
    model = type(obj)
    return model._default_manager.filter(scope_q(user, action, model), pk=obj.pk).exists()


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = "view") -> Self:
        return self.filter(scope_q(user, action, self.model))
