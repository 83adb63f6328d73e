from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from shegong.access import Actor, NotVisible, is_operator
from shegong.access.scope import grant_scopes
from shegong.accounts.authority import managed_users
from shegong.accounts.models import ApiToken, Grant, LoginEvent, Role, User
from shegong.common.history import HistoryEntry, history_entries


def user_role_names(actor: Actor) -> list[str]:
    """The roles the signed-in actor holds, with where ("社区管理员(东风社区)"). Read from the grants that
    shegong.access loads for its scope decisions (one query per request for both); whether the actor may
    do something anywhere is shegong.access.may_anywhere's question."""
    if is_operator(actor):
        return ["系统管理员"]
    return [f"{g.role_name}({g.division_name})" for g in grant_scopes(actor)]


def access_history(user: User, *, limit: int = 200) -> list[HistoryEntry]:
    """Who changed what this user may do, newest first: the account (created, activation, password
    changed — never the hash), grants given and removed, changes to the roles the user holds or held,
    API tokens created and revoked. Each entry names who acted (a user, or 系统 with the system actor's
    label in the reason) and when. A fixed number of queries, whatever the length of the history."""
    account = list(User.history.filter(id=user.pk).select_related("history_user").order_by("history_date", "history_id"))
    grants = list(Grant.history.filter(user_id=user.pk).select_related("history_user", "role", "division")
                  .order_by("history_date", "history_id"))
    role_ids = {g.role_id for g in grants}
    roles = list(Role.history.filter(id__in=role_ids).select_related("history_user")
                 .order_by("history_date", "history_id")) if role_ids else []
    tokens = list(ApiToken.history.filter(user_id=user.pk).select_related("history_user")
                  .order_by("history_date", "history_id"))
    grant_label = {g.id: f"授权 {g.role.name}({g.division.name})" for g in grants}
    entries = [
        *history_entries(account, User, subject="账号"),
        *history_entries(grants, Grant, subject=grant_label),
        # a role's creation is not about this user; what it allows changing is
        *[e for e in history_entries(roles, Role, subject={r.id: f"角色 {r.name}" for r in roles}) if e.type == "~"],
        *history_entries(tokens, ApiToken, subject={t.id: f"API 令牌 {t.prefix}…" for t in tokens}),
    ]
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


def users_managed(*, actor: Actor) -> QuerySet[User]:
    """The accounts the actor manages (accounts.authority), with their grants, roles and divisions
    prefetched for the list (two more queries per page, whatever its length)."""
    grants = Grant.objects.select_related("role", "division").order_by("-role__rank", "division__code")
    return managed_users(actor).prefetch_related(Prefetch("grants", queryset=grants))


def user_managed(*, actor: Actor, pk: int) -> User:
    """One account the actor manages, or NotVisible (404): an account outside is not even named."""
    try:
        return users_managed(actor=actor).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise NotVisible() from exc


def login_events(*, actor: Actor) -> QuerySet[LoginEvent]:
    """The sign-ins the actor may read: their own, and an administrator's of the accounts they manage;
    the operator every row (also attempts naming no account)."""
    rows = LoginEvent.objects.select_related("user")
    if is_operator(actor):
        return rows
    if not getattr(actor, "pk", None):
        return rows.none()
    return rows.filter(Q(user_id=actor.pk) | Q(user__in=managed_users(actor).values("pk")))


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """A user's API tokens, newest first (the page computes each one's status)."""
    return ApiToken.objects.filter(user=user).select_related("user").order_by("-created_at", "-id")
