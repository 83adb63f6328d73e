from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """Custom user from the first migration. A worker's account links to their Worker record."""

    display_name = models.CharField("姓名", max_length=50, blank=True)
    worker = models.OneToOneField("people.Worker", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="user", verbose_name="关联社区工作者")

    class Meta:
        verbose_name = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.Model):
    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=50)
    actions = models.JSONField("允许的操作", default=list)
    self_only = models.BooleanField("仅限本人档案", default=False)
    sort = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "角色"
        ordering = ["sort"]

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """A role on a division; it covers the division's whole subtree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants", verbose_name="用户")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants", verbose_name="角色")
    division = models.ForeignKey("org.Division", on_delete=models.PROTECT, related_name="grants", verbose_name="范围")
    created_at = models.DateTimeField("授权时间", auto_now_add=True)

    class Meta:
        verbose_name = "授权"
        constraints = [models.UniqueConstraint(fields=["user", "role", "division"], name="grant_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.division_id}"


class ApiToken(models.Model):
    """Bearer token for /api/v1. Only a SHA-256 of the token is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="用户")
    name = models.CharField("用途", max_length=100, blank=True)
    prefix = models.CharField("前缀", max_length=12)
    key_hash = models.CharField("摘要", max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"

    def __str__(self) -> str:
        return f"{self.prefix}…"


class LoginFailure(models.Model):
    """One failed login; recent failures for a username or address throttle further attempts."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "登录失败"
