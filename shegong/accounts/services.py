from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from shegong.accounts.models import ApiToken, Grant, LoginFailure, Role, User
from shegong.common.errors import ApplicationError
from shegong.org.models import Division


def roles_sync() -> int:
    """Create or update the roles of accounts/roles.py (a migration does this; so do test set-ups
    after a flush)."""
    from shegong.accounts.roles import ROLES

    for row in ROLES:
        Role.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})
    return len(ROLES)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def user_create(*, username: str, password: str, role: str, scope: str, display_name: str = "",
                worker: Any = None, validate: bool = True) -> User:
    """Create a user with one grant: `role` (a Role code) on the division `scope` (any form of its code)."""
    username = username.strip()
    if not username:
        raise ApplicationError("用户名不能为空", field="username")
    if User.objects.filter(username=username).exists():
        raise ApplicationError(f"用户名 {username} 已存在", field="username")
    role_obj = _role(role)
    division = _scope_division(scope)
    if role_obj.self_only and worker is None:
        raise ApplicationError("社区工作者账号必须关联一名社区工作者", field="worker")
    user = User(username=username, display_name=display_name)
    if validate:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ApplicationError("密码不符合要求:" + ";".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.worker = worker
    user.save()
    Grant.objects.create(user=user, role=role_obj, division=division)
    return user


def _role(code: str) -> Role:
    try:
        return Role.objects.get(code=code)
    except Role.DoesNotExist as exc:
        codes = ", ".join(Role.objects.values_list("code", flat=True))
        raise ApplicationError(f"角色 {code} 不存在;可用角色:{codes}", field="role") from exc


def _scope_division(scope: str) -> Division:
    from shegong.org.codes import DivisionCodeError, normalize_code

    try:
        code = normalize_code(scope)
    except DivisionCodeError as exc:
        raise ApplicationError(str(exc), field="scope") from exc
    try:
        return Division.objects.get(code=code)
    except Division.DoesNotExist as exc:
        raise ApplicationError(f"区划 {code} 不存在", field="scope") from exc


@transaction.atomic
def grant_add(*, user: User, role: str, scope: str) -> Grant:
    role_obj = _role(role)
    grant, _ = Grant.objects.get_or_create(user=user, role=role_obj, division=_scope_division(scope))
    return grant


def token_create(*, user: User, name: str = "") -> str:
    """Create an API token and return it; only its hash is kept."""
    token = "sg_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=token[:10], key_hash=_token_hash(token))
    return token


def token_authenticate(token: str) -> User | None:
    if not token:
        return None
    try:
        row = ApiToken.objects.select_related("user").get(key_hash=_token_hash(token), revoked_at__isnull=True)
    except ApiToken.DoesNotExist:
        return None
    if not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def login_throttled(*, username: str, ip: str | None) -> bool:
    """True when the username or the address has had too many recent failures."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW)
    limit = settings.LOGIN_THROTTLE_FAILURES
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=username.strip().lower()).count() >= limit:
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= limit * 4


def login_failure_record(*, username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=username.strip().lower(), ip=ip or None)


def login_success(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.strip().lower()).delete()
