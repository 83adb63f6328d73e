"""Passwords (issue 9.11): Django's validators (length ≥ 12, common passwords, similarity to the username and
name, all digits) and ours (no surrounding spaces, not only spaces, never the public demo password outside
the demo) on every path that sets one — `user create`, `user password`, Django's changepassword — with
Chinese messages."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import translation

from shegong.access import system_actor
from shegong.accounts.models import User
from shegong.accounts.services import password_check, user_create, user_set_password
from shegong.common.errors import ApplicationError
from shegong.web.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

GOOD = "Kx7-rainy-Lantern-2021"

REFUSED = [
    pytest.param("zhangsan-admin", "密码跟 用户名 太相似", id="the username"),
    pytest.param(" " * 8, "密码长度太短", id="eight spaces"),
    pytest.param(" " * 16, "密码不能全部由空格组成", id="sixteen spaces"),
    pytest.param(f" {GOOD} ", "密码首尾不能有空格", id="surrounding spaces"),
    pytest.param(f"{GOOD} ", "密码首尾不能有空格", id="a trailing space"),
    pytest.param(f"\t{GOOD}", "密码首尾不能有空格", id="a leading tab"),
    pytest.param(DEMO_PASSWORD, "不能使用公开的演示密码", id="the demo password"),
    pytest.param(DEMO_PASSWORD.upper(), "不能使用公开的演示密码", id="the demo password in capitals"),
    pytest.param("short-1", "密码长度太短。密码必须包含至少 12 个字符", id="too short"),
    pytest.param("password1234", "这个密码太常见了", id="common"),
    pytest.param("202112345678", "密码只包含数字", id="all digits"),
]


def create(username: str, password: str, *extra: str) -> str:
    out = io.StringIO()
    with mock.patch("sys.stdin", io.StringIO(password + "\n")):
        call_command("user", "create", username, "--role", "civil_affairs", "--scope", "22", "--password-stdin",
                     *extra, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_user_create_refuses(world, password, message):
    with pytest.raises(CommandError, match="密码不符合要求") as exc:
        create("zhangsan-admin", password)
    assert message in str(exc.value)
    assert not User.objects.filter(username="zhangsan-admin").exists()


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_user_password_refuses(world, password, message):
    user = User.objects.create_user("zhangsan-admin", password=GOOD)
    with mock.patch("sys.stdin", io.StringIO(password + "\n")), \
         pytest.raises(CommandError, match=message):
        call_command("user", "password", "zhangsan-admin", "--password-stdin", stdout=io.StringIO())
    user.refresh_from_db()
    assert user.check_password(GOOD)


def test_similar_to_the_display_name(world):
    with pytest.raises(CommandError, match="太相似"):
        create("wang", "wangxiaoming-shequ", "--name", "wangxiaoming shequ")


def test_messages_are_chinese_whatever_language_is_active(world):
    translation.activate("en")
    with pytest.raises(CommandError) as exc:
        create("zhangsan-admin", "short-1")
    assert "密码长度太短" in str(exc.value) and "too short" not in str(exc.value)


def test_a_good_password_is_accepted_and_logs_in_through_the_form(world):
    assert "已创建用户" in create("zhangsan-admin", GOOD)
    client = Client()
    assert client.post("/login/", {"username": "zhangsan-admin", "password": GOOD}).status_code == 302


def test_djangos_changepassword_applies_the_same_rules(world):
    """Django's own command validates with AUTH_PASSWORD_VALIDATORS, ours included: it refuses three times
    and gives up, leaving the password as it was."""
    user = User.objects.create_user("zhangsan-admin", password=GOOD)
    for bad in (DEMO_PASSWORD, f" {GOOD}2 ", " " * 16):
        err = io.StringIO()
        with mock.patch("django.contrib.auth.management.commands.changepassword.Command._get_pass",
                        return_value=bad), pytest.raises(CommandError):
            call_command("changepassword", "zhangsan-admin", stdout=io.StringIO(), stderr=err)
        user.refresh_from_db()
        assert user.check_password(GOOD)


def test_hard_rules_hold_even_without_the_strength_rules(world):
    """validate=False (test and benchmark set-ups) skips length and the like, never the hard rules."""
    for bad in (DEMO_PASSWORD, f" {GOOD}", " " * 12):
        with pytest.raises(ApplicationError):
            user_create(actor=system_actor("command"), username="x-user", password=bad, role="civil_affairs", scope="22", validate=False)
    user_create(actor=system_actor("command"), username="x-user", password="short", role="civil_affairs", scope="22", validate=False)


def test_only_the_demo_loader_may_give_the_demo_password(world):
    user = user_create(actor=system_actor("command"), username="demo-user", password=DEMO_PASSWORD, role="civil_affairs", scope="22",
                       validate=False, demo=True)
    assert user.check_password(DEMO_PASSWORD)
    with pytest.raises(ApplicationError, match="演示密码"):
        user_set_password(actor=system_actor("command"), user=user, password=DEMO_PASSWORD)
    with pytest.raises(ApplicationError, match="演示密码"):
        password_check(DEMO_PASSWORD, user=User(username="another"))


def test_demo_password_is_defined_once():
    """The constant lives in accounts (which refuses it; the demo loader imports it): no second copy."""
    from pathlib import Path

    import shegong

    root = Path(shegong.__file__).parent
    holders = [p for p in root.rglob("*.py") if DEMO_PASSWORD in p.read_text(encoding="utf-8")]
    assert [p.relative_to(root).as_posix() for p in holders] == ["accounts/validators.py"]
