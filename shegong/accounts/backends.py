"""The sign-in backend: Django's ModelBackend, with the signed-in user read together with their grants.

Every page needs both — the user (the session's) and their grants (every access decision). ModelBackend
reads the user, then the first decision reads the grants: two queries on every request. Here one query
reads the grants with the user joined (and their roles and divisions, as `grant_rows` does) and hands
them to the access module; a user without grants costs one query for the user, as before.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from shegong.access import preload_grant_rows
from shegong.accounts.models import Grant, User


class UserWithGrantsBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        rows = list(Grant.objects.filter(user_id=user_id).select_related("user", "role", "division"))
        user: User | None
        if rows:
            user = rows[0].user
            for row in rows:
                row.user = user  # one object, as `user.grants.all()` would give
        else:
            user = User._default_manager.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        if rows:
            preload_grant_rows(user, rows)
        return user
