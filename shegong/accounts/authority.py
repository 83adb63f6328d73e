"""Who manages which accounts, and who may grant which role where (issue 11, point 7).

An administrator is a user holding a grant whose role may `change` (not a self-only role). Each such
grant is an *authority*: a division subtree and the role's rank (shegong/accounts/roles.py). An
administrator

- manages a user when every one of that user's grants lies inside one of their authorities, at a rank not
  above that authority's (a user with a grant outside, or above, is not theirs: not listed, not changed;
  a superuser is the operator's only);
- may grant a role on a division inside one of their authorities when the role's rank is not above that
  authority's rank — never a role above their own.

The operator (a command, a superuser) manages every account. Scope of the data itself (which rows a grant
opens) stays shegong.access's; this module only decides about accounts and grants, so the rule lives in
the app that owns them (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from shegong.access import Actor, Forbidden, is_operator
from shegong.access.scope import grant_rows
from shegong.accounts.models import Grant, Role, User
from shegong.org.models import Division


@dataclass(frozen=True)
class Authority:
    code: str           # the division code of the grant: its subtree is managed
    rank: int           # the grant's role rank: roles up to it may be granted
    role_name: str
    division_name: str


def authorities(actor: Actor) -> list[Authority]:
    """The actor's administrator grants (a role that may change, not self-only), from the grants
    shegong.access already loaded for the request (no query when they are loaded)."""
    if not (getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", False)) or is_operator(actor):
        return []
    return [Authority(g.division.code, g.role.rank, g.role.name, g.division.name)
            for g in grant_rows(actor) if "change" in g.role.actions and not g.role.self_only]


def is_account_admin(actor: Actor) -> bool:
    """Whether the actor manages any accounts at all (the 用户管理 menu entry and buttons)."""
    return is_operator(actor) or bool(authorities(actor))


def _covered(actor: Actor, prefix: str = "") -> Q:
    """Grant rows (or rows reaching Grant through `prefix`) that lie inside one of the actor's
    authorities at a rank not above it. Nothing for an actor without authority."""
    q = Q(pk__in=[])
    for a in authorities(actor):
        q |= Q(**{f"{prefix}division__code__startswith": a.code, f"{prefix}role__rank__lte": a.rank})
    return q


def managed_users(actor: Actor) -> QuerySet[User]:
    """The accounts the actor manages: at least one grant, and every grant inside their authority."""
    if is_operator(actor):
        return User.objects.all()
    if not authorities(actor):
        return User.objects.none()
    covered = _covered(actor)
    return (User.objects.filter(is_superuser=False, pk__in=Grant.objects.filter(covered).values("user_id"))
            .exclude(pk__in=Grant.objects.exclude(covered).values("user_id")))


def manages(actor: Actor, user: User) -> bool:
    return is_operator(actor) or managed_users(actor).filter(pk=user.pk).exists()


def require_manages(actor: Actor, user: User, what: str = "管理该账号") -> None:
    """Raise Forbidden unless the actor manages the user's account (`what`: "停用账号" …)."""
    if not manages(actor, user):
        raise Forbidden(f"您无权{what}:用户 {user.username} 有不在您管理范围内、或高于您角色的授权")


def grantable_roles(actor: Actor, division: Division | None = None) -> list[Role]:
    """The roles the actor may grant (on `division`, or somewhere in their authority), by rank, highest
    first."""
    roles = list(Role.objects.order_by("-rank", "sort"))
    if is_operator(actor):
        return roles
    auths = [a for a in authorities(actor) if division is None or division.code.startswith(a.code)]
    top = max((a.rank for a in auths), default=-1)
    return [r for r in roles if r.rank <= top]


def grant_refusal(actor: Actor, role: Role, division: Division) -> str:
    """Why the actor may not grant `role` on `division` ("" when they may): outside their authority, or
    a role above their own there."""
    if is_operator(actor):
        return ""
    here = [a for a in authorities(actor) if division.code.startswith(a.code)]
    if not here:
        return f"您无权在“{division.name}”授予角色:不在您的管理范围内"
    best = max(here, key=lambda a: a.rank)
    if role.rank > best.rank:
        return (f"您在“{best.division_name}”是{best.role_name},不能授予级别更高的“{role.name}”"
                f"(只能授予不高于自己的角色)")
    return ""


def require_may_grant(actor: Actor, role: Role, division: Division) -> None:
    refusal = grant_refusal(actor, role, division)
    if refusal:
        raise Forbidden(refusal)


def user_roles_text(user: Any) -> str:
    """"社区管理员(东风社区)、…" from grants already loaded (prefetch grants__role, grants__division)."""
    return "、".join(f"{g.role.name}({g.division.name})" for g in user.grants.all())
