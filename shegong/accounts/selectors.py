from __future__ import annotations

from typing import Any

from shegong.accounts.models import Grant


def user_grants(user: Any) -> list[Grant]:
    """The user's grants with role and division, loaded once per user object (one query)."""
    cached = getattr(user, "_shegong_grants", None)
    if cached is None:
        cached = list(Grant.objects.filter(user_id=user.pk).select_related("role", "division"))
        user._shegong_grants = cached
    return cached


def user_has_action(user: Any, action: str) -> bool:
    """Whether any grant of the user allows the action somewhere (for showing buttons)."""
    if getattr(user, "is_superuser", False):
        return True
    return any(action in g.role.actions for g in user_grants(user))


def user_role_names(user: Any) -> list[str]:
    if getattr(user, "is_superuser", False):
        return ["系统管理员"]
    return [f"{g.role.name}({g.division.name})" for g in user_grants(user)]
