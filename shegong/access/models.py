"""The base of every scoped domain model: timestamps, the restricted manager and the scope declaration.

    class Worker(ScopedModel):
        scope_field = "community__code"
        owner_field = "pk"

`Model.objects.restrict(actor, action)` is `shegong.access.restrict(Model.objects.all(), actor, action)`.
History (django-simple-history) is declared on each concrete model, because each names the fields it keeps
out of history (encrypted values, `updated_at`). A model with optimistic concurrency lists both bases,
`class Worker(ScopedModel, Versioned)`: the bases share no field or method, so the order only decides
the column order of new tables. A model that keeps its own timestamps under other names (an upload time,
a request time) takes `ScopeDeclaration`, the declaration and the manager alone.
tests/test_architecture.py checks that every model with a `scope_field` has one of the two.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from django.db import models

from shegong.access.scope import scope_q
from shegong.common.fields import recorded_at


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, actor: Any, action: str = "view") -> Self:
        return self.filter(scope_q(actor, action, self.model))  # = access.restrict(self, actor, action)


class ScopeDeclaration(models.Model):
    """Only the scope declaration and the restricted manager (for models that keep their own timestamps)."""

    scope_field: ClassVar[str] = ""
    owner_field: ClassVar[str | None] = None
    scope_visible_from_below: ClassVar[bool] = False

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True


class ScopedModel(ScopeDeclaration):
    created_at = recorded_at("创建时间")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True
