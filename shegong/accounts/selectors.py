from __future__ import annotations

from typing import Any

from shegong.access.scope import grant_rows
from shegong.accounts.models import ApiToken, Grant, Role, User
from shegong.common.history import HistoryEntry, history_entries


def user_grants(user: Any) -> list[Grant]:
    """The user's grants with role and division, loaded once per user object (one query, shared with
    shegong.access's scope decisions)."""
    return grant_rows(user)


def user_has_action(user: Any, action: str) -> bool:
    """Whether any grant of the user allows the action somewhere (for showing buttons; the decision on a
    row is shegong.access's)."""
    if getattr(user, "is_superuser", False):
        return True
    # the grants already loaded for the role names (one query per request, not two)
    return any(action in g.role.actions for g in user_grants(user))


def user_role_names(user: Any) -> list[str]:
    if getattr(user, "is_superuser", False):
        return ["系统管理员"]
    return [f"{g.role.name}({g.division.name})" for g in user_grants(user)]


def access_history(user: Any, *, limit: int = 200) -> list[HistoryEntry]:
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
