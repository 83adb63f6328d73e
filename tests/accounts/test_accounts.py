"""Account commands around issue 9: `user password`, `user deactivate` / `activate`, and what they mean for
signing in; the old hand-written login throttle is gone (django-axes does it: tests/accounts/test_login_throttle.py)."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shegong.access import grant_codes
from shegong.accounts import services
from shegong.accounts.models import LoginLockEvent, User
from shegong.accounts.selectors import user_role_names

pytestmark = pytest.mark.django_db

OLD = "Test-pass-2021"
NEW = "Kx7-rainy-Lantern-2021"


def run(*args: str, stdin: str = "") -> str:
    out = io.StringIO()
    with mock.patch("sys.stdin", io.StringIO(stdin)):
        call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def login(username: str, password: str) -> int:
    return Client().post("/login/", {"username": username, "password": password}).status_code


def test_user_password_sets_a_new_password(world):
    out = run("user", "password", "city", "--password-stdin", stdin=NEW + "\r\n")  # a Windows line ending too
    assert "已为 city 设置新密码" in out
    assert login("city", NEW) == 302
    assert login("city", OLD) == 200
    with pytest.raises(CommandError, match="--password-stdin"):
        run("user", "password", "city")
    with pytest.raises(CommandError, match="不存在"):
        run("user", "password", "ghost", "--password-stdin", stdin=NEW)


def test_deactivated_user_cannot_sign_in_until_activated(world):
    run("user", "deactivate", "city")
    assert not User.objects.get(username="city").is_active
    assert login("city", OLD) == 200
    run("user", "activate", "city")
    assert login("city", OLD) == 302
    with pytest.raises(CommandError, match="不存在"):
        run("user", "deactivate", "ghost")


def test_deactivated_user_is_signed_out_of_open_sessions(world):
    client = Client()
    assert client.post("/login/", {"username": "city", "password": OLD}).status_code == 302
    assert client.get("/").status_code == 200
    run("user", "deactivate", "city")
    assert client.get("/").status_code == 302


def test_the_old_throttle_is_gone():
    assert "accounts_loginfailure" not in connection.introspection.table_names()
    assert not hasattr(services, "LoginFailure")


def test_lock_event_reads_well(world):
    event = LoginLockEvent(kind="lock", username="city", ip="127.0.0.1")
    assert str(event) == "锁定 city@127.0.0.1"
    assert str(LoginLockEvent(kind="unlock", username="", ip="127.0.0.1")) == "解除锁定 *@127.0.0.1"


def test_role_names_and_scope_decisions_read_the_grants_once(world):
    """The home page shows the roles and restricts its lists: one query for the grants serves both
    (accounts reads the names from shegong.access's GrantScope rather than loading the grants again)."""
    user = User.objects.get(pk=world.users["street"].pk)
    with CaptureQueriesContext(connection) as ctx:
        names = user_role_names(user)
        codes = grant_codes(user, "change")
    assert len(ctx.captured_queries) == 1
    assert codes == ["220102001"]
    assert len(names) == 1 and names[0].endswith(f"({world.c1.parent.name})")
    assert user_role_names(User(is_superuser=True)) == ["系统管理员"]
