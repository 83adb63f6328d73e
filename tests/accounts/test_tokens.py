"""API tokens (issue 9.6): `token list` and `token revoke`, an expiry (SHEGONG_TOKEN_DAYS, default 90 days),
and revocation when the user's password changes — whichever way it is changed — or the user is deactivated."""

from __future__ import annotations

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from shegong.access import system_actor
from shegong.accounts.models import ApiToken, User
from shegong.accounts.services import (
    token_authenticate,
    token_create,
    user_deactivate,
    user_set_password,
)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kx7-rainy-Lantern-2021"
ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
MD5 = "django.contrib.auth.hashers.MD5PasswordHasher"


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    with mock.patch("sys.stdin", io.StringIO(stdin or "")):
        call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def api_status(token: str) -> int:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/workers?limit=1").status_code


def made_days_ago(user: User, days: int, **kwargs) -> str:
    """A token made `days` days ago (its creation and expiry as they were computed then)."""
    then = timezone.now() - timedelta(days=days)
    with mock.patch("django.utils.timezone.now", return_value=then):
        return token_create(actor=system_actor("command"), user=user, **kwargs)


# ---- expiry ------------------------------------------------------------------------------------------------


def test_token_expires_after_ninety_days(world):
    user = world.users["city"]
    old = made_days_ago(user, 91)
    recent = made_days_ago(user, 89)
    assert token_authenticate(old) is None
    assert api_status(old) == 401
    assert token_authenticate(recent) == user
    assert api_status(recent) == 200
    row = ApiToken.objects.get(prefix=old[:10])
    assert row.expires_at - row.created_at == timedelta(days=90)


def test_token_lifetime_is_configurable(world, settings):
    user = world.users["city"]
    settings.API_TOKEN_DAYS = 10
    token = made_days_ago(user, 11)
    assert token_authenticate(token) is None
    assert token_authenticate(made_days_ago(user, 9)) == user
    # per token, from the command line; 0: never expires
    forever = run("token", "create", "city", "--days", "0").strip()
    assert ApiToken.objects.get(prefix=forever[:10]).expires_at is None
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=3650)):
        assert token_authenticate(forever) == user
    short = run("token", "create", "city", "--days", "1").strip()
    row = ApiToken.objects.get(prefix=short[:10])
    assert timedelta(hours=23) < row.expires_at - timezone.now() <= timedelta(days=1)


# ---- token list and token revoke ---------------------------------------------------------------------------


def test_token_list_shows_prefix_name_dates_and_state(world):
    live = token_create(actor=system_actor("command"), user=world.users["city"], name="报表脚本")
    revoked = token_create(actor=system_actor("command"), user=world.users["city"], name="旧脚本")
    run("token", "revoke", revoked[:10])
    made_days_ago(world.users["street"], 91, name="过期的")
    out = run("token", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["前缀", "用户", "用途", "创建", "最近使用", "到期", "状态"]
    by_prefix = {line.split()[0]: line for line in lines[1:]}
    assert "报表脚本" in by_prefix[live[:10]] and by_prefix[live[:10]].rstrip().endswith("有效")
    assert "已吊销(手动吊销)" in by_prefix[revoked[:10]]
    expired = next(line for line in lines if "过期的" in line)
    assert "已过期" in expired and "street" in expired
    assert live not in out  # never the token itself
    # last use is shown once the token has been used
    token_authenticate(live)
    assert timezone.localtime().strftime("%Y-%m-%d") in run("token", "list", "city").splitlines()[1]
    # one user's tokens only
    only_street = run("token", "list", "street")
    assert "过期的" in only_street and "报表脚本" not in only_street
    assert "没有令牌" in run("token", "list", "province")
    with pytest.raises(CommandError, match="不存在"):
        run("token", "list", "ghost")


def test_token_revoke_by_prefix(world):
    token = token_create(actor=system_actor("command"), user=world.users["city"], name="报表脚本")
    other = token_create(actor=system_actor("command"), user=world.users["city"])
    assert api_status(token) == 200
    out = run("token", "revoke", token[:10])
    assert "已吊销" in out and token[:10] in out
    assert token_authenticate(token) is None
    assert api_status(token) == 401
    assert token_authenticate(other) == world.users["city"]
    row = ApiToken.objects.get(prefix=token[:10])
    assert row.revoked_at is not None and row.revoke_reason == "manual"
    # the whole token works as well as its prefix
    run("token", "revoke", other)
    assert token_authenticate(other) is None


def test_token_revoke_errors(world):
    token_create(actor=system_actor("command"), user=world.users["city"])
    with pytest.raises(CommandError, match="没有前缀"):
        run("token", "revoke", "sg_zzzzzzz")
    with pytest.raises(CommandError, match="至少 6 个字符"):
        run("token", "revoke", "sg_")
    with pytest.raises(CommandError, match="--all"):
        run("token", "revoke", "--user", "city")
    with pytest.raises(CommandError):
        run("token", "revoke")


def test_ambiguous_prefix_is_refused(world):
    a = token_create(actor=system_actor("command"), user=world.users["city"])
    b = token_create(actor=system_actor("command"), user=world.users["street"])
    ApiToken.objects.filter(prefix=b[:10]).update(prefix=a[:10])  # two tokens sharing a prefix
    with pytest.raises(CommandError, match="多个令牌"):
        run("token", "revoke", a[:10])
    assert token_authenticate(a) is not None and token_authenticate(b) is not None


def test_token_revoke_all_of_a_user(world):
    tokens = [token_create(actor=system_actor("command"), user=world.users["city"]) for _ in range(3)]
    keep = token_create(actor=system_actor("command"), user=world.users["street"])
    out = run("token", "revoke", "--user", "city", "--all")
    assert "3 个令牌" in out
    assert all(token_authenticate(t) is None for t in tokens)
    assert token_authenticate(keep) == world.users["street"]


# ---- a new password ends the tokens, whichever way it is set -----------------------------------------------


def test_password_change_by_our_command_revokes_tokens(world):
    token = token_create(actor=system_actor("command"), user=world.users["city"])
    out = run("user", "password", "city", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert "吊销了 1 个" in out
    assert token_authenticate(token) is None
    assert ApiToken.objects.get().revoke_reason == "password_changed"
    user = User.objects.get(username="city")
    assert user.check_password(NEW_PASSWORD)
    # a token made under the new password works
    assert token_authenticate(token_create(actor=system_actor("command"), user=user)) == user


def test_password_change_by_service_revokes_tokens(world):
    token = token_create(actor=system_actor("command"), user=world.users["city"])
    assert user_set_password(actor=system_actor("command"), user=world.users["city"], password=NEW_PASSWORD) == 1
    assert token_authenticate(token) is None


def test_password_change_by_djangos_changepassword_revokes_tokens(world):
    token = token_create(actor=system_actor("command"), user=world.users["city"])
    with mock.patch("django.contrib.auth.management.commands.changepassword.Command._get_pass",
                    return_value=NEW_PASSWORD):
        call_command("changepassword", "city", stdout=io.StringIO())
    assert User.objects.get(username="city").check_password(NEW_PASSWORD)
    assert token_authenticate(token) is None
    assert ApiToken.objects.get().revoke_reason == "password_changed"


def test_password_set_in_the_shell_revokes_tokens(world):
    token = token_create(actor=system_actor("command"), user=world.users["city"])
    user = User.objects.get(username="city")
    user.set_password(NEW_PASSWORD)
    user.save()
    assert token_authenticate(token) is None


def test_password_written_without_save_is_caught_by_the_fingerprint(world):
    token = token_create(actor=system_actor("command"), user=world.users["city"])
    User.objects.filter(username="city").update(password=make_password(NEW_PASSWORD))
    assert token_authenticate(token) is None
    assert ApiToken.objects.get().revoke_reason == "password_changed"  # and it stays revoked


def test_other_saves_and_a_rehash_at_login_keep_tokens(world, settings):
    """Saving a user for other reasons, or Django re-hashing the same password with a newer hasher when
    they log in, is no password change."""
    user = world.users["city"]
    token = token_create(actor=system_actor("command"), user=user)
    user.display_name = "新名字"
    user.save()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    assert token_authenticate(token) == user
    assert user.password.startswith("md5")
    settings.PASSWORD_HASHERS = [ARGON2, MD5]
    assert Client().post("/login/", {"username": "city", "password": "Test-pass-2021"}).status_code == 302
    assert User.objects.get(pk=user.pk).password.startswith("argon2")  # re-hashed
    assert token_authenticate(token) == user


# ---- deactivation ends the tokens ----------------------------------------------------------------------------


def test_deactivating_a_user_revokes_tokens_for_good(world):
    token = token_create(actor=system_actor("command"), user=world.users["city"])
    out = run("user", "deactivate", "city")
    assert "已停用" in out and "吊销了 1 个" in out
    assert token_authenticate(token) is None
    run("user", "activate", "city")
    assert User.objects.get(username="city").is_active
    assert token_authenticate(token) is None  # activated again: the old token stays revoked
    assert ApiToken.objects.get().revoke_reason == "deactivated"


def test_deactivating_by_save_or_service_revokes_tokens(world):
    street = world.users["street"]
    token = token_create(actor=system_actor("command"), user=street)
    street.is_active = False
    street.save()
    street.is_active = True
    street.save()
    assert token_authenticate(token) is None
    other = token_create(actor=system_actor("command"), user=world.users["community"])
    assert user_deactivate(actor=system_actor("command"), user=world.users["community"]) == 1
    assert token_authenticate(other) is None


def test_deactivated_by_bulk_update_is_refused_and_revoked(world):
    token = token_create(actor=system_actor("command"), user=world.users["city"])
    User.objects.filter(username="city").update(is_active=False)
    assert token_authenticate(token) is None
    User.objects.filter(username="city").update(is_active=True)
    assert token_authenticate(token) is None
    assert ApiToken.objects.get().revoke_reason == "deactivated"


def test_no_token_for_an_inactive_user(world):
    user_deactivate(actor=system_actor("command"), user=world.users["city"])
    with pytest.raises(CommandError, match="已停用"):
        run("token", "create", "city")


def test_existing_tokens_get_a_fingerprint_and_an_expiry_on_migration(world, settings):
    """Migration 0004 for tokens made before it: they keep working until the password changes, and expire
    90 days after their creation but not within a week of the upgrade."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("shegong.accounts.migrations.0004_tokens_lifecycle_login_locks")
    old = made_days_ago(world.users["city"], 200)
    recent = made_days_ago(world.users["city"], 10)
    ApiToken.objects.update(password_fingerprint="", expires_at=None)
    migration.existing_tokens(apps, None)
    assert token_authenticate(recent) == world.users["city"]
    assert token_authenticate(old) == world.users["city"]  # the week of grace
    rows = {r.prefix: r for r in ApiToken.objects.all()}
    assert rows[old[:10]].expires_at - timezone.now() > timedelta(days=6)
    assert rows[recent[:10]].expires_at - rows[recent[:10]].created_at == timedelta(days=90)
