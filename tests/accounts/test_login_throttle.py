"""Login throttling (issue 9.7): django-axes with an atomic count, a lock of a username *from one address*,
the Chinese 429 page with the time left, unlocking by an administrator, and every lock and unlock audited.

The races run 40 concurrent wrong passwords from threads, each with its own database connection: on
PostgreSQL in this process, and on an SQLite file (WAL mode, as deployed) in a subprocess — the suite's
in-memory SQLite database cannot be shared between threads' connections."""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone

from shegong.accounts.models import LoginLockEvent, User

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Test-pass-2021"
BAD_LOGIN = "用户名或密码不正确"
LOCKED = "登录失败次数过多,该账号在此地址已被锁定"
ENGINE = settings.DATABASES["default"]["ENGINE"]


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def post(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def lock_out(client: Client, username: str = "city") -> None:
    for _ in range(settings.LOGIN_THROTTLE_FAILURES):
        post(client, username, "wrong-pass")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# ---- the race: 40 concurrent wrong passwords -----------------------------------------------------------


def race(username: str, *, threads: int = 40, ip: str = "127.0.0.1") -> dict[str, Any]:
    """`threads` concurrent wrong passwords for `username` from `ip`, released together by a barrier.
    Returns the statuses, how many passwords were actually checked, how many answers said "wrong password"
    and how many the lock; then the right password from the same address and from another one."""
    checks: list[int] = []
    guard = threading.Lock()
    original = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):  # noqa: ANN001
        with guard:
            checks.append(1)
        return original(self, request, username=username, password=password, **kwargs)

    barrier = threading.Barrier(threads)
    answers: list[tuple[int, str]] = []

    def attempt() -> None:
        try:
            client = Client(REMOTE_ADDR=ip)
            barrier.wait(timeout=60)
            resp = post(client, username, "wrong-pass")
            with guard:
                answers.append((resp.status_code, resp.content.decode()))
        finally:
            connection.close()

    ModelBackend.authenticate = counting  # type: ignore[method-assign]
    try:
        workers = [threading.Thread(target=attempt) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
    finally:
        ModelBackend.authenticate = original  # type: ignore[method-assign]
    same = post(Client(REMOTE_ADDR=ip), username, PASSWORD)
    other_client = Client(REMOTE_ADDR="10.20.30.40")
    other = post(other_client, username, PASSWORD)
    return {
        "answers": len(answers),
        "checked": len(checks),
        "wrong": sum(BAD_LOGIN in body for _, body in answers),
        "locked_message": sum(LOCKED in body for _, body in answers),
        "statuses": sorted(status for status, _ in answers),
        "failures": sum(AccessAttempt.objects.filter(username=username).values_list("failures_since_start", flat=True)),
        "lock_events": LoginLockEvent.objects.filter(kind="lock", username=username).count(),
        "same_address_right_password": [same.status_code, LOCKED in same.content.decode()],
        "other_address_right_password": [other.status_code, "_auth_user_id" in other_client.session],
    }


def check_race(result: dict[str, Any]) -> None:
    limit = settings.LOGIN_THROTTLE_FAILURES
    assert result["answers"] == 40
    assert result["checked"] == limit  # exactly 5 passwords checked, never 9
    assert result["wrong"] == limit
    assert result["failures"] == limit
    assert result["statuses"] == [200] * (limit - 1) + [429] * (40 - limit + 1)
    assert result["locked_message"] == 40 - limit + 1  # the 5th says it locked; the 35 others were refused
    assert result["lock_events"] == 1
    assert result["same_address_right_password"] == [429, True]  # refused even with the right password
    assert result["other_address_right_password"] == [302, True]  # another address is not locked out


@pytest.mark.skipif(ENGINE != "django.db.backends.postgresql", reason="the SQLite race runs in a subprocess below")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_forty_concurrent_wrong_passwords_on_postgresql():
    User.objects.create_user("racer", password=PASSWORD)
    check_race(race("racer"))


RACE_ON_FILE = """
import json, django
django.setup()
from django.conf import settings
from django.test.utils import setup_test_environment
setup_test_environment()  # the test client's host
settings.STORAGES = {**settings.STORAGES,  # pages render without collectstatic, as in tests/conftest.py
                     "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from shegong.accounts.models import User
from tests.accounts.test_login_throttle import race
User.objects.create_user("racer", password="Test-pass-2021")
print(json.dumps(race("racer")))
"""


@pytest.mark.skipif(ENGINE != "django.db.backends.sqlite3", reason="the suite runs on PostgreSQL: see above")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # no open transaction to copy around
def test_forty_concurrent_wrong_passwords_on_an_sqlite_file(tmp_path):
    database = tmp_path / "shegong.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(database)
    connection.connection.backup(copy)  # the migrated in-memory test database, as a file
    copy.close()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(REPO), "SHEGONG_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", RACE_ON_FILE], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    check_race(json.loads(done.stdout.strip().splitlines()[-1]))


# ---- the lock: by username *and* address, its message, its end -------------------------------------------


def test_lock_is_by_username_and_address_with_time_left(world):
    client = Client()
    lock_out(client)
    resp = post(client, "city", PASSWORD)
    assert resp.status_code == 429
    assert "登录失败次数过多,该账号在此地址已被锁定,请 15 分钟后再试" in resp.content.decode()
    # the same username with spaces or capitals is the same username
    assert post(client, " City ", PASSWORD).status_code == 429
    # ten minutes later the page says five minutes are left
    AccessAttempt.objects.filter(username="city").update(attempt_time=timezone.now() - timedelta(minutes=10))
    assert "请 5 分钟后再试" in post(client, "city", PASSWORD).content.decode()
    # a refused attempt is not a failure: the lock still ends 15 minutes after the last checked password
    assert AccessAttempt.objects.get(username="city").failures_since_start == settings.LOGIN_THROTTLE_FAILURES
    # another address logs in with the right password all along
    assert post(Client(REMOTE_ADDR="192.0.2.1"), "city", PASSWORD).status_code == 302
    # after the window the lock is over
    AccessAttempt.objects.filter(username="city").update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert post(client, "city", PASSWORD).status_code == 302
    assert signed_in(client)


def test_failures_under_the_limit_are_forgotten_after_a_success(world):
    client = Client()
    for _ in range(settings.LOGIN_THROTTLE_FAILURES - 1):
        post(client, "city", "wrong-pass")
    assert post(client, "city", PASSWORD).status_code == 302
    client = Client()
    for _ in range(settings.LOGIN_THROTTLE_FAILURES - 1):
        assert post(client, "city", "wrong-pass").status_code == 200
    assert not LoginLockEvent.objects.exists()


def test_lockout_callable_renders_the_chinese_login_page(world):
    """Whatever path axes locks on, its answer is our page (AXES_LOCKOUT_CALLABLE), never its English text."""
    from shegong.accounts.views import lockout_response

    lock_out(Client())
    request = RequestFactory().post("/login/", {"username": "city", "password": "x"})
    request.session = {}  # type: ignore[attr-defined]
    resp = lockout_response(request, None, {"username": "city"})
    assert resp.status_code == 429
    body = resp.content.decode()
    assert "请 15 分钟后再试" in body and 'value="city"' in body


def test_axes_logs_mask_usernames_and_addresses(world, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client(REMOTE_ADDR="198.51.100.77")
    lock_out(client, "secret-name-4471")
    post(client, "secret-name-4471", PASSWORD)
    assert "AXES" in caplog.text  # axes did log
    assert "secret-name-4471" not in caplog.text
    assert "198.51.100.77" not in caplog.text


# ---- the audit log and unlocking -------------------------------------------------------------------------


def test_every_lock_is_audited_once(world):
    client = Client()
    lock_out(client)
    for _ in range(3):
        post(client, "city", PASSWORD)  # refused: no new lock
    event = LoginLockEvent.objects.get()
    assert event.kind == "lock"
    assert (event.username, event.ip, event.account, event.failures) == ("city", "127.0.0.1", world.users["city"],
                                                                          settings.LOGIN_THROTTLE_FAILURES)
    assert event.actor == ""
    assert timedelta(minutes=14) < event.locked_until - timezone.now() <= timedelta(minutes=15)


def test_admin_unlocks_from_the_command_line_and_it_is_audited(world):
    client = Client()
    lock_out(client)
    out = run("user", "locks")
    assert "city" in out and "127.0.0.1" in out
    out = run("user", "unlock", "city", "--by", "王管理员")
    assert "已解除锁定" in out and "city" in out
    unlock = LoginLockEvent.objects.get(kind="unlock")
    assert (unlock.username, unlock.ip, unlock.actor, unlock.account) == ("city", "127.0.0.1", "王管理员",
                                                                          world.users["city"])
    assert post(client, "city", PASSWORD).status_code == 302
    assert "现在没有登录锁定" in run("user", "locks")
    # nothing locked: said so, and nothing is audited
    assert "没有被锁定" in run("user", "unlock", "city")
    assert LoginLockEvent.objects.filter(kind="unlock").count() == 1


def test_unlock_only_from_one_address(world):
    here, there = Client(), Client(REMOTE_ADDR="192.0.2.9")
    lock_out(here)
    lock_out(there)
    run("user", "unlock", "CITY", "--ip", "192.0.2.9")  # the username as typed, any case
    assert post(there, "city", PASSWORD).status_code == 302
    assert post(here, "city", PASSWORD).status_code == 429
    assert list(LoginLockEvent.objects.filter(kind="unlock").values_list("ip", flat=True)) == ["192.0.2.9"]
    assert "命令行" in LoginLockEvent.objects.get(kind="unlock").actor  # without --by: the system user


def test_address_lock_and_its_unlock_are_audited(world):
    client = Client(REMOTE_ADDR="203.0.113.5")
    for i in range(settings.LOGIN_THROTTLE_ADDRESS_FAILURES):
        post(client, f"guess{i}", "wrong-pass")
    assert post(client, "province", PASSWORD).status_code == 429
    lock = LoginLockEvent.objects.get(kind="lock")
    assert (lock.username, lock.ip, lock.failures) == ("", "203.0.113.5", settings.LOGIN_THROTTLE_ADDRESS_FAILURES)
    out = run("user", "unlock", "--ip", "203.0.113.5")
    assert "该地址的全部用户名" in out
    assert LoginLockEvent.objects.filter(kind="unlock", username="", ip="203.0.113.5").count() == 1
    assert post(client, "province", PASSWORD).status_code == 302


def test_axes_own_reset_commands_are_audited_too(world):
    client = Client()
    lock_out(client)
    run("axes_reset_username", "city")
    unlock = LoginLockEvent.objects.get(kind="unlock")
    assert unlock.username == "city" and "axes" in unlock.actor
    assert post(client, "city", PASSWORD).status_code == 302


def test_unlock_needs_a_username_or_an_address(world):
    with pytest.raises(CommandError, match="用户名"):
        run("user", "unlock")
    with pytest.raises(CommandError, match="不是有效的 IP 地址"):
        run("user", "unlock", "city", "--ip", "not-an-ip")
