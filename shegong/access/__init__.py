"""The one answer to "may this actor do this here?" (DESIGN habit 4; issue 10).

    from shegong.access import Actor, restrict, can, require, get_scoped, system_actor

- `restrict(queryset, actor, action)` — the rows of a scoped model the actor may `action` ("view",
  "change", "reveal"); an actor without a matching grant gets nothing (scope fails closed).
- `can(actor, action, obj)` — whether the actor may `action` that object (no exception).
- `require(actor, action, obj)` — raise `Forbidden` (HTTP 403) unless `can`.
- `get_scoped(queryset, actor, action, **lookup)` — the object, or `NotVisible` (HTTP 404) when the actor
  may not even see it, or `Forbidden` (403) when they see it but may not `action` it.

Services take a required keyword-only `actor: Actor` and call `require` first; views and endpoints call
`get_scoped` and services. Commands, imports and background jobs act as a named `SystemActor`, never None.
`Forbidden` and `NotVisible` are mapped once for pages (templates 403.html / 404.html) and once for the
API (shegong/api/api.py). A model declares how its rows are placed in the tree (see `scope.py`).
"""

from shegong.access.actors import Actor, SystemActor, actor_label, is_system, system_actor
from shegong.access.errors import Forbidden, NotVisible
from shegong.access.scope import (
    actions_anywhere,
    can,
    can_at,
    get_scoped,
    grant_codes,
    is_operator,
    may_anywhere,
    preload_grant_rows,
    require,
    require_operator,
    require_self_or_operator,
    restrict,
    scope_q,
    scope_roots,
)

__all__ = [
    "Actor", "SystemActor", "actor_label", "is_system", "system_actor",
    "Forbidden", "NotVisible",
    "actions_anywhere", "can", "can_at", "get_scoped", "grant_codes", "is_operator", "may_anywhere", "preload_grant_rows",
    "require",
    "require_operator", "require_self_or_operator", "restrict", "scope_q", "scope_roots",
]
