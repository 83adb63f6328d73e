from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_update_with_history

from shegong.common.fields import recorded_at
from shegong.org.models import division_fk

# Who may do what is itself history (issue 10): every create, change and delete of a user, role, grant
# or API token is recorded with who and when (django-simple-history, as the domain models). Secrets stay
# out of it: the password hash, and the token's digests, are never copied into a historical row.
PASSWORD_CHANGED = "密码已更改"


class User(AbstractUser):
    """Custom user from the first migration. A worker's account links to their Worker record."""

    display_name = models.CharField("姓名", max_length=50, blank=True)
    worker = models.OneToOneField("people.Worker", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="user", verbose_name="关联社区工作者")

    # last_login changes at every sign-in: not an access decision, and not worth a row each time.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        fields = kwargs.get("update_fields")
        if fields is not None and (set(fields) <= {"last_login"}
                                   or (set(fields) == {"password"} and getattr(self, "_password", None) is None)):
            # A sign-in (last_login) or Django re-hashing the same password at sign-in: nothing of who may
            # do what changed, so no history row (the hash itself is never kept in history).
            self.skip_history_when_saving = True
        elif getattr(self, "_password", None) is not None and not getattr(self, "_change_reason", ""):
            # set_password() before this save: a new password. History records that it changed, not the hash.
            self._change_reason = PASSWORD_CHANGED
        try:
            super().save(*args, **kwargs)
        finally:
            self.__dict__.pop("skip_history_when_saving", None)


class Role(models.Model):
    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=50)
    actions = models.JSONField("允许的操作", default=list)
    self_only = models.BooleanField("仅限本人档案", default=False)
    sort = models.PositiveSmallIntegerField("排序", default=0)
    rank = models.PositiveSmallIntegerField(
        "级别", default=0,
        help_text="an administrator grants only roles whose rank is not above their own (accounts/roles.py)")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "角色"
        ordering = ["sort"]

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """A role on a division; it covers the division's whole subtree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants", verbose_name="用户")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants", verbose_name="角色")
    division = division_fk("范围", related_name="grants")
    created_at = recorded_at("授权时间")

    # A removed grant leaves a "-" row: who removed whose province-wide reveal rights, and when.
    history = HistoricalRecords()

    class Meta:
        verbose_name = "授权"
        constraints = [models.UniqueConstraint(fields=["user", "role", "division"], name="grant_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.division_id}"


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def revoke(self, *, reason: str, actor: Any = None, note: str = "") -> int:
        """Revoke the tokens of this queryset that still work, with a history row each saying who and why.

        `actor` is a user (recorded as the history user) or a system actor (recorded by its label in the
        reason). Returns how many were revoked. Set-based: one select, one update, one history insert."""
        rows = list(self.filter(revoked_at__isnull=True))
        if not rows:
            return 0
        now = timezone.now()
        for row in rows:
            row.revoked_at, row.revoke_reason = now, reason
        label = str(ApiToken.RevokeReason(reason).label) if reason in ApiToken.RevokeReason.values else reason
        user = actor if isinstance(actor, User) else None
        if actor is not None and user is None:
            label = f"{actor}:{label}"  # a system actor (command, job) is named in the reason
        bulk_update_with_history(rows, ApiToken, ["revoked_at", "revoke_reason"], default_user=user,
                                 default_change_reason=f"吊销令牌({label}){note}"[:100])
        return len(rows)


class ApiToken(models.Model):
    """Bearer token for /api/v1. Only a SHA-256 of the token is stored; the token is shown once.

    A token stops working when it is revoked (`shegong token revoke`), when it expires (settings.API_TOKEN_DAYS
    after its creation unless created with another lifetime), when its user's password is changed and when
    its user is deactivated. The last two are caught wherever they happen: a signal on the user's save
    revokes the tokens, and `password_fingerprint` (a digest of the user's password hash when the token was
    made) catches a password written without save() (a bulk update)."""

    class RevokeReason(models.TextChoices):
        MANUAL = "manual", "手动吊销"
        PASSWORD_CHANGED = "password_changed", "密码已更改"
        DEACTIVATED = "deactivated", "账号已停用"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="用户")
    name = models.CharField("用途", max_length=100, blank=True)
    prefix = models.CharField("前缀", max_length=12, db_index=True)
    key_hash = models.CharField("摘要", max_length=64, unique=True)
    created_at = recorded_at("创建时间")
    expires_at = models.DateTimeField("到期时间", null=True, blank=True, help_text="空 = 不过期")
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revoke_reason = models.CharField("吊销原因", max_length=20, choices=RevokeReason.choices, blank=True)
    password_fingerprint = models.CharField("密码指纹", max_length=64, blank=True,
                                            help_text="SHA-256 of the user's password hash when the token was made")

    # Created and revoked (who, why) are kept; the digests and the last use (every request) are not.
    history = HistoricalRecords(excluded_fields=["key_hash", "password_fingerprint", "last_used_at"])
    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API 令牌"

    def __str__(self) -> str:
        return f"{self.prefix}…"


class LoginLockEvent(models.Model):
    """The audit log of login locks: every lock (a username from one address, or one address for every
    username) and every unlock by an administrator. Locks themselves are kept by django-axes."""

    class Kind(models.TextChoices):
        LOCK = "lock", "锁定"
        UNLOCK = "unlock", "解除锁定"

    kind = models.CharField("事件", max_length=10, choices=Kind.choices)
    at = recorded_at("时间", db_index=True)
    username = models.CharField("用户名", max_length=150, blank=True, db_index=True,
                                help_text="as typed at login, lower-cased; blank: the lock covers every username from the address")
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    account = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name="账号", help_text="the account of that username, when it exists")
    failures = models.PositiveIntegerField("失败次数", default=0)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)
    actor = models.CharField("操作人", max_length=200, blank=True, help_text="who unlocked (blank for an automatic lock)")

    class Meta:
        verbose_name = "登录锁定记录"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username or '*'}@{self.ip}"


class LoginEvent(models.Model):
    """Every sign-in and every failed attempt on the login page (issue 11, point 7): when, the username as
    typed, the account it names (when there is one), the address, the browser (shortened) and the result.
    Nothing else: never the password typed. Written by receivers of Django's user_logged_in and
    user_login_failed (shegong/accounts/signals.py); read by each user for their own account and by an
    administrator for the accounts they manage (selectors.login_events). Rows are never changed."""

    class Result(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"
        LOCKED = "locked", "已锁定"

    at = recorded_at("时间", db_index=True)
    username = models.CharField("用户名", max_length=150, blank=True)
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="login_events",
                             verbose_name="账号")
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    user_agent = models.CharField("浏览器", max_length=120, blank=True)
    result = models.CharField("结果", max_length=10, choices=Result.choices)

    class Meta:
        verbose_name = "登录记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"], name="login_event_user_at")]

    def __str__(self) -> str:
        return f"{self.username} {self.get_result_display()} {self.at:%Y-%m-%d %H:%M}"
