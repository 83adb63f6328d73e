"""Who acts: a signed-in user, or a named system actor for commands, imports and background jobs.

A system actor passes every scope check (it runs with the operator's authority on the server) and is
recorded by name in the history of what it changes; `None` is never an actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from shegong.accounts.models import User


@dataclass(frozen=True)
class SystemActor:
    """A named actor that is not a person: `system_actor("import")`, `system_actor("demo")` …"""

    name: str
    label: str = ""

    # The attributes Django's auth machinery and our checks read on a user.
    is_authenticated: bool = True
    is_active: bool = True
    is_superuser: bool = True
    is_system: bool = True
    pk: None = None
    id: None = None
    worker_id: None = None

    @property
    def username(self) -> str:
        return f"system:{self.name}"

    def __str__(self) -> str:
        return self.label or self.username


# AnonymousUser is here because that is how django-stubs types `request.user`: views pass it as is, and
# an anonymous actor is refused by every check (scope fails closed). None is never an Actor.
Actor: TypeAlias = "User | AnonymousUser | SystemActor"

_LABELS = {
    "command": "命令行",
    "import": "花名册导入",
    "job": "后台任务",
    "demo": "演示数据",
    "migration": "数据迁移",
    "restore": "备份恢复",
}


def system_actor(name: str, label: str = "") -> SystemActor:
    """The system actor `name`; its label (shown in history) defaults to the Chinese name of the kind."""
    return SystemActor(name=name, label=label or _LABELS.get(name.split(":")[0], name))


def is_system(actor: object) -> bool:
    return isinstance(actor, SystemActor)


def actor_label(actor: object) -> str:
    """How an actor is named in history and logs."""
    if isinstance(actor, SystemActor):
        return str(actor)
    return str(getattr(actor, "username", "") or actor)
