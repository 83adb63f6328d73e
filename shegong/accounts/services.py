from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import get_default_password_validators, validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from shegong.access import (
    Actor,
    Forbidden,
    is_operator,
    require,
    require_operator,
    require_self_or_operator,
    restrict,
    system_actor,
)
from shegong.accounts.authority import manages, require_manages, require_may_grant
from shegong.accounts.models import ApiToken, Grant, LoginEvent, LoginLockEvent, Role, User
from shegong.accounts.roles import ROLES
from shegong.accounts.throttle import current_locks, release_attempts
from shegong.accounts.validators import DemoPasswordValidator, SurroundingSpaceValidator
from shegong.common.crypto import search_hash
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.common.errors import ApplicationError
from shegong.common.history import stamp
from shegong.org.models import Division


def roles_sync() -> int:
    """Create or update the roles of accounts/roles.py (a migration does this; so do test set-ups
    after a flush)."""
    for row in ROLES:
        Role.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})
    return len(ROLES)


@transaction.atomic
def user_create(*, username: str, password: str, role: str, scope: str, display_name: str = "",
                worker: Any = None, validate: bool = True, demo: bool = False, actor: Actor) -> User:
    """Create a user with one grant: `role` (a Role code) on the division `scope` (any form of its code).

    The password is checked by password_check (Django's validators and ours); `validate=False` (test and
    benchmark set-ups) skips the strength rules but never the hard ones: no surrounding spaces, not the
    public demo password — which only the demo loader may give, with `demo=True`."""
    username = username.strip()
    if not username:
        raise ApplicationError("用户名不能为空", field="username")
    if User.objects.filter(username=username).exists():
        raise ApplicationError(f"用户名 {username} 已存在", field="username")
    role_obj = _role(role)
    division = _scope_division(scope)
    require(actor, "change", division, message=f"您无权在“{division.name}”创建用户或授予角色")
    require_may_grant(actor, role_obj, division)  # never a role above the actor's own (accounts/roles.py)
    if role_obj.self_only and worker is None:
        raise ApplicationError("社区工作者账号必须关联一名社区工作者", field="worker")
    if worker is not None:
        require(actor, "change", worker, message="您无权为该社区工作者开通账号")
        if User.objects.filter(worker=worker).exists():
            raise ApplicationError("该社区工作者已有账号", field="worker")
    user = User(username=username, display_name=display_name)
    password_check(password, user=user, strength=validate, demo=demo)
    user.set_password(password)
    user.worker = worker
    stamp(user, actor=actor, reason="创建用户")
    user.save()
    grant = Grant(user=user, role=role_obj, division=division)
    stamp(grant, actor=actor, reason="创建用户时授予")
    grant.save()
    return user


def worker_for_account(*, id_number: str, actor: Actor) -> Any:
    """The worker a new account is linked to, found by the keyed hash of the ID number among the workers
    the actor may change; through the model User.worker points to (accounts sits below people)."""
    worker_model: Any = User._meta.get_field("worker").related_model
    number = "".join(id_number.split()).upper()
    found = restrict(worker_model._default_manager.all(), actor, "change").filter(
        id_number_hash=search_hash(number)).first()
    if found is None:
        raise ApplicationError("没有找到该公民身份号码的社区工作者,或其不在您的管理范围内", field="worker_id_number")
    return found


def password_check(password: str, *, user: User | None = None, strength: bool = True, demo: bool = False) -> None:
    """Raise ApplicationError (in the active language; Chinese by default) when the password may not be used.

    strength: Django's validators of config/auth.py (length ≥ 12, not common, not all digits, not like the
    username or name) and ours (shegong/accounts/validators.py). Without it, only ours run. demo: the demo
    loader giving the public demo password to the demo accounts."""
    messages: list[str] = []
    if strength:
        validators = [v for v in get_default_password_validators()
                      if not (demo and isinstance(v, DemoPasswordValidator))]
    else:
        validators = [SurroundingSpaceValidator(), *([] if demo else [DemoPasswordValidator()])]
    if not password:
        messages.append("密码不能为空。")
    else:
        try:
            validate_password(password, user, password_validators=validators)
        except ValidationError as exc:
            messages.extend(exc.messages)
    if messages:
        raise ApplicationError("密码不符合要求:" + "".join(messages), field="password")


@transaction.atomic
def user_set_password(*, user: User, password: str, validate: bool = True, actor: Actor) -> int:
    """Set a new password (checked by password_check) and revoke the user's API tokens. Returns how many
    tokens were revoked. (A password set any other way — Django's changepassword, the shell — revokes them
    too: shegong/accounts/signals.py.)"""
    _require_admin_or_self(actor, user)
    password_check(password, user=user, strength=validate)
    revoked = token_revoke_all(user=user, reason=ApiToken.RevokeReason.PASSWORD_CHANGED, actor=actor)
    user.set_password(password)
    stamp(user, actor=actor)  # the reason is set by User.save: 密码已更改 (never the hash)
    user.save()
    return revoked


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str, actor: Actor) -> int:
    """A signed-in user changes their own password (修改密码): the old one must be right, the new one pass
    password_check and differ from the old. The API tokens are revoked (user_set_password). Returns how
    many tokens were revoked. The page keeps the session itself (update_session_auth_hash)."""
    require_self_or_operator(actor, user.pk, "您只能修改自己的密码")
    if not old_password or not user.check_password(old_password):
        raise ApplicationError("原密码不正确", field="old_password")
    if new_password == old_password:
        raise ApplicationError("新密码不能与原密码相同", field="new_password1")
    try:
        password_check(new_password, user=user)
    except ApplicationError as exc:
        raise ApplicationError(exc.message, field="new_password1") from exc
    return user_set_password(user=user, password=new_password, actor=actor)


@transaction.atomic
def user_deactivate(*, user: User, actor: Actor) -> int:
    """Deactivate the account (it can no longer sign in or use the API) and revoke its tokens, which stay
    revoked if it is activated again. Returns how many tokens were revoked."""
    _require_manager(actor, user, "停用账号")
    revoked = token_revoke_all(user=user, reason=ApiToken.RevokeReason.DEACTIVATED, actor=actor)
    if user.is_active:
        user.is_active = False
        stamp(user, actor=actor, reason="停用账号")
        user.save(update_fields=["is_active"])
    return revoked


@transaction.atomic
def user_activate(*, user: User, actor: Actor) -> None:
    """Activate the account again; its old API tokens stay revoked."""
    _require_manager(actor, user, "启用账号")
    if not user.is_active:
        user.is_active = True
        stamp(user, actor=actor, reason="启用账号")
        user.save(update_fields=["is_active"])


def _require_admin(actor: Actor, message: str) -> None:
    """Accounts and roles as a whole are the operator's: a command (a system actor) or a superuser."""
    require_operator(actor, message)


def _require_admin_or_self(actor: Actor, user: User) -> None:
    """One's own password and tokens, or the operator's."""
    require_self_or_operator(actor, user.pk, f"您只能管理自己的密码和令牌,不能管理 {user.username} 的")


def _require_manager(actor: Actor, user: User, what: str) -> None:
    """An account in the actor's management (accounts.authority), never the actor's own: an administrator
    does not deactivate themself nor change their own grants (another administrator, or the operator, does)."""
    require_manages(actor, user, what)
    if getattr(actor, "pk", None) is not None and actor.pk == user.pk:
        raise Forbidden(f"您不能为自己{what},请由上级管理员办理")


def _require_self_or_manager(actor: Actor, user: User) -> None:
    """One's own tokens, or those of an account the actor manages (to see and revoke them)."""
    if getattr(actor, "pk", None) is not None and actor.pk == user.pk and user.is_active:
        return
    if not manages(actor, user):
        _require_admin_or_self(actor, user)  # the operator passes; anyone else gets the message


def _role(code: str) -> Role:
    try:
        return Role.objects.get(code=code)
    except Role.DoesNotExist as exc:
        codes = ", ".join(Role.objects.values_list("code", flat=True))
        raise ApplicationError(f"角色 {code} 不存在;可用角色:{codes}", field="role") from exc


def _scope_division(scope: str) -> Division:
    try:
        code = normalize_code(scope)
    except DivisionCodeError as exc:
        raise ApplicationError(str(exc), field="scope") from exc
    try:
        return Division.objects.get(code=code)
    except Division.DoesNotExist as exc:
        raise ApplicationError(f"区划 {code} 不存在", field="scope") from exc


def _grant_on(*, user: User, role: str, scope: str, actor: Actor,
              refusal: str) -> tuple[Role, Division, Grant | None]:
    """The role and division a grant command names, checked (the actor must be allowed to change that
    division; `refusal` names it as {division}), and the user's grant of that role there, if any."""
    role_obj = _role(role)
    division = _scope_division(scope)
    require(actor, "change", division, message=refusal.format(division=division.name))
    require_may_grant(actor, role_obj, division)  # never a role above the actor's own (accounts/roles.py)
    _require_manager(actor, user, "变更授权")
    return role_obj, division, Grant.objects.filter(user=user, role=role_obj, division=division).first()


@transaction.atomic
def grant_add(*, user: User, role: str, scope: str, actor: Actor) -> Grant:
    role_obj, division, grant = _grant_on(user=user, role=role, scope=scope, actor=actor,
                                          refusal="您无权在“{division}”授予角色")
    if grant is None:
        grant = Grant(user=user, role=role_obj, division=division)
        stamp(grant, actor=actor, reason="授予角色")
        try:
            with transaction.atomic():  # a savepoint: the same grant given at the same moment elsewhere
                grant.save()
        except IntegrityError:
            grant = Grant.objects.get(user=user, role=role_obj, division=division)
    return grant


@transaction.atomic
def grant_remove(*, user: User, role: str, scope: str, actor: Actor) -> Grant:
    """Remove one grant; its history keeps a "-" row with who removed it and when."""
    role_obj, division, grant = _grant_on(user=user, role=role, scope=scope, actor=actor,
                                          refusal="您无权收回“{division}”的角色授权")
    if grant is None:
        raise ApplicationError(f"用户 {user.username} 没有 {role_obj.name}({division.name})授权", field="role")
    if not is_operator(actor) and not user.grants.exclude(pk=grant.pk).exists():
        raise ApplicationError(f"这是用户 {user.username} 唯一的授权,收回后将无人能管理该账号;"
                               f"如不再需要该账号,请停用它", field="role")
    stamp(grant, actor=actor, reason="收回授权")
    grant.delete()
    return grant


@transaction.atomic
def role_update(*, role: Role, actor: Actor, actions: list[str] | None = None, self_only: bool | None = None,
                name: str | None = None) -> Role:
    """Change what a role allows; the history keeps the actions before and after, with who changed them."""
    _require_admin(actor, "只有系统管理员可以修改角色")
    if actions is not None:
        unknown = sorted(set(actions) - {"view", "change", "reveal"})
        if unknown:
            raise ApplicationError(f"允许的操作只能是 view、change、reveal,不能是 {'、'.join(unknown)}",
                                   field="actions")
        role.actions = list(actions)
    if self_only is not None:
        role.self_only = self_only
    if name is not None:
        if not name.strip():
            raise ApplicationError("角色名称不能为空", field="name")
        role.name = name.strip()
    stamp(role, actor=actor, reason="修改角色")
    role.save()
    return role


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_fingerprint(user: User) -> str:
    """A digest of the user's password hash: a token made under one password does not work under another
    (see ApiToken). A digest of a hash, so it tells nothing about the password."""
    return hashlib.sha256(("shegong-api-token:" + (user.password or "")).encode()).hexdigest()


def token_create(*, user: User, name: str = "", days: int | None = None, actor: Actor) -> str:
    """Create an API token and return it; only its hash is kept. It expires after `days` (default
    settings.API_TOKEN_DAYS; 0: never)."""
    _require_admin_or_self(actor, user)
    if not user.is_active:
        raise ApplicationError(f"用户 {user.username} 已停用", field="username")
    days = settings.API_TOKEN_DAYS if days is None else days
    if days < 0:
        raise ApplicationError("有效天数不能为负数", field="days")
    token = "sg_" + secrets.token_urlsafe(32)
    now = timezone.now()
    row = ApiToken(user=user, name=name, prefix=token[:10], key_hash=_token_hash(token),
                   expires_at=now + timedelta(days=days) if days else None,
                   password_fingerprint=password_fingerprint(user))
    stamp(row, actor=actor, reason="创建令牌")
    row.save()
    return token


def token_authenticate(token: str) -> User | None:
    """The user of a bearer token, or None when the token is unknown, revoked, expired, made under an
    earlier password, or its user is inactive (the last two also mark it revoked)."""
    if not token:
        return None
    try:
        row = ApiToken.objects.select_related("user").get(key_hash=_token_hash(token), revoked_at__isnull=True)
    except ApiToken.DoesNotExist:
        return None
    now = timezone.now()
    if row.expires_at is not None and row.expires_at <= now:
        return None
    user = row.user
    reason = None
    if not user.is_active:
        reason = ApiToken.RevokeReason.DEACTIVATED
    elif row.password_fingerprint != password_fingerprint(user):
        reason = ApiToken.RevokeReason.PASSWORD_CHANGED
    if reason is not None:
        ApiToken.objects.filter(pk=row.pk).revoke(reason=reason, actor=system_actor("job", "令牌校验"))
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return user


def token_revoke_all(*, user: User, reason: str = ApiToken.RevokeReason.MANUAL, actor: Actor) -> int:
    """Revoke every token of the user that still works (or would, before it expires), each with a history
    row naming who and why. Returns the count."""
    _require_self_or_manager(actor, user)
    return ApiToken.objects.filter(user=user).revoke(reason=reason, actor=actor)


def token_revoke(*, prefix: str, actor: Actor) -> ApiToken:
    """Revoke the one token whose prefix (the first characters shown by `token list`) is given."""
    prefix = prefix.strip()
    if len(prefix) < 6:
        raise ApplicationError("请给出令牌前缀(至少 6 个字符,见 token list)", field="prefix")
    tokens = ApiToken.objects.select_related("user")
    if len(prefix) <= 10:
        rows = list(tokens.filter(prefix__startswith=prefix))
    else:  # the whole token: found by its hash
        rows = list(tokens.filter(key_hash=_token_hash(prefix)))
    if not rows:
        raise ApplicationError(f"没有前缀为 {prefix} 的令牌", field="prefix")
    if len(rows) > 1:
        listed = "、".join(f"{r.prefix}({r.user.username})" for r in rows)
        raise ApplicationError(f"前缀 {prefix} 对应多个令牌:{listed};请给出更长的前缀", field="prefix")
    return token_revoke_one(token=rows[0], actor=actor)


def token_revoke_one(*, token: ApiToken, actor: Actor) -> ApiToken:
    """Revoke this token (one's own, or one of a user the actor manages — accounts.authority); a token
    already revoked stays as it is."""
    _require_self_or_manager(actor, token.user)
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk).revoke(reason=ApiToken.RevokeReason.MANUAL, actor=actor)
        token.refresh_from_db(fields=["revoked_at", "revoke_reason"])
    return token


def token_status(row: ApiToken, *, now: datetime | None = None) -> str:
    """有效 / 已过期 / 已吊销(原因) — for `token list`."""
    now = now or timezone.now()
    if row.revoked_at is not None:
        return f"已吊销({row.get_revoke_reason_display() or '手动吊销'})"
    if not row.user.is_active:
        return "已吊销(账号已停用)"
    if row.password_fingerprint != password_fingerprint(row.user):
        return "已吊销(密码已更改)"
    if row.expires_at is not None and row.expires_at <= now:
        return "已过期"
    return "有效"


def token_list(*, user: User | None = None) -> Iterable[ApiToken]:
    rows = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
    return rows.filter(user=user) if user is not None else rows


# ---- login locks (django-axes with shegong/accounts/throttle.py) ------------------------------------


def login_unlock(*, username: str | None = None, ip: str | None = None, actor: str) -> list[LoginLockEvent]:
    """Unlock: clear the failed logins of a username (from every address, or from `ip`), or of an address
    (every username). Each lock this lifts is written to the audit log as an unlock by `actor`; returns
    those entries (empty when nothing was locked — the failures below the limit are cleared all the same)."""
    username = (username or "").strip().lower() or None
    ip = (ip or "").strip() or None
    if username is None and ip is None:
        raise ApplicationError("请给出用户名或 IP 地址", field="username")
    if ip is not None:
        from django.core.exceptions import ValidationError as DjangoValidationError
        from django.core.validators import validate_ipv46_address

        try:
            validate_ipv46_address(ip)
        except DjangoValidationError as exc:
            raise ApplicationError(f"{ip} 不是有效的 IP 地址", field="ip") from exc
    _count, events = release_attempts(username=username, ip_address=ip, actor=actor)
    return events


def login_locks() -> list[Any]:
    """The locks in force now (a username from one address, or a whole address)."""
    return current_locks()


# ---- login history (LoginEvent) ------------------------------------------------------------------------

USER_AGENT_LENGTH = 120


def short_user_agent(value: str) -> str:
    """The browser's self-description, shortened to what tells one device from another."""
    text = " ".join((value or "").split())
    return text if len(text) <= USER_AGENT_LENGTH else text[:USER_AGENT_LENGTH - 1] + "…"


def login_event_record(*, result: str, username: str, user: User | None, request: Any) -> LoginEvent:
    """Record one sign-in or failed attempt (called by the receivers of Django's user_logged_in and
    user_login_failed, shegong/accounts/signals.py). The recording is the system's, on behalf of no one:
    there is no acting user to check; the row holds only when, who (as typed, and the account), the
    address, the browser and the result."""
    meta = getattr(request, "META", {}) if request is not None else {}
    ip = meta.get("REMOTE_ADDR") or None
    try:
        ip = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        ip = None
    return LoginEvent.objects.create(result=result, username=(username or "")[:150], user=user, ip=ip,
                                     user_agent=short_user_agent(meta.get("HTTP_USER_AGENT", "")))
