"""Management commands: `user`, `token` and `demo`, through call_command against the real database."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shegong.accounts.models import ApiToken, Grant, User
from shegong.accounts.services import token_authenticate
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.people.services import worker_reveal
from shegong.staffing.models import Appointment
from shegong.web.demo import DEMO_PASSWORD, REASON

pytestmark = pytest.mark.django_db

PASSWORD = "Kx7-rainy-Lantern-2021"
ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
MD5 = "django.contrib.auth.hashers.MD5PasswordHasher"


def run(*args: str, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# ================================================================ user


def test_user_create_with_grant_and_argon2(world, settings, monkeypatch):
    settings.PASSWORD_HASHERS = [ARGON2, MD5]
    out = run("user", "create", "alice", "--role", "street_admin", "--scope", "220102001", "--name", "爱丽丝",
              "--password-stdin", stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert "alice" in out
    user = User.objects.get(username="alice")
    assert user.display_name == "爱丽丝"
    assert user.password.startswith("argon2")
    assert user.check_password(PASSWORD)
    assert not user.check_password(PASSWORD + "\n")  # the newline is not part of the password
    grant = Grant.objects.get(user=user)
    assert grant.role.code == "street_admin"
    assert grant.division.code == "220102001"
    assert grant.division == world.c1.parent


def test_user_create_scope_as_twelve_digit_code(world, monkeypatch):
    run("user", "create", "bob", "--role", "civil_affairs", "--scope", "220100000000", "--password-stdin",
        stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    grant = Grant.objects.get(user__username="bob")
    assert grant.division.code == "2201"
    assert grant.division.name == "长春市"
    run("user", "create", "carol", "--role", "community_admin", "--scope", "220102001001", "--password-stdin",
        stdin=PASSWORD, monkeypatch=monkeypatch)
    assert Grant.objects.get(user__username="carol").division == world.c1


def test_user_create_bad_role(world, monkeypatch):
    with pytest.raises(CommandError) as exc:
        run("user", "create", "dave", "--role", "emperor", "--scope", "2201", "--password-stdin",
            stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert "emperor" in str(exc.value)
    assert "不存在" in str(exc.value)
    assert "civil_affairs" in str(exc.value)  # lists the roles that exist
    assert not User.objects.filter(username="dave").exists()


@pytest.mark.parametrize(
    ("scope", "fragment"),
    [("229999", "不存在"), ("22AB", "只能由数字组成"), ("220102000001", "全零")],
)
def test_user_create_bad_scope(world, monkeypatch, scope, fragment):
    with pytest.raises(CommandError, match=fragment):
        run("user", "create", "erin", "--role", "civil_affairs", "--scope", scope, "--password-stdin",
            stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert not User.objects.filter(username="erin").exists()


def test_user_create_refuses_weak_password_and_missing_stdin_flag(world, monkeypatch):
    with pytest.raises(CommandError, match="密码不符合要求"):
        run("user", "create", "frank", "--role", "civil_affairs", "--scope", "22", "--password-stdin",
            stdin="12345678\n", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="--password-stdin"):
        run("user", "create", "frank", "--role", "civil_affairs", "--scope", "22")
    assert not User.objects.filter(username="frank").exists()


def test_user_create_duplicate_username(world, monkeypatch):
    with pytest.raises(CommandError, match="已存在"):
        run("user", "create", "province", "--role", "civil_affairs", "--scope", "22", "--password-stdin",
            stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert Grant.objects.filter(user__username="province").count() == 1


def test_user_create_worker_account_links_worker(world, monkeypatch):
    plain = worker_reveal(worker=world.w2, actor=world.users["province"], field="id_number")
    run("user", "create", "lisi", "--role", "worker", "--scope", "220102001002", "--worker-id-number", plain,
        "--password-stdin", stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert User.objects.get(username="lisi").worker == world.w2
    with pytest.raises(CommandError, match="必须关联"):
        run("user", "create", "nobody2", "--role", "worker", "--scope", "220102001002", "--password-stdin",
            stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="没有这个身份证号"):
        run("user", "create", "nobody3", "--role", "worker", "--scope", "220102001002",
            "--worker-id-number", "11010519491231002X", "--password-stdin",
            stdin=PASSWORD + "\n", monkeypatch=monkeypatch)


def test_user_grant_adds_second_role(world):
    out = run("user", "grant", "street", "--role", "training_admin", "--scope", "220100000000")
    assert "street" in out
    grants = {(g.role.code, g.division.code) for g in Grant.objects.filter(user=world.users["street"])}
    assert grants == {("street_admin", "220102001"), ("training_admin", "2201")}


def test_user_grant_bad_role_is_a_command_error(world):
    with pytest.raises(CommandError):
        run("user", "grant", "street", "--role", "emperor", "--scope", "2201")
    assert Grant.objects.filter(user=world.users["street"]).count() == 1


def test_user_grant_unknown_user(world):
    with pytest.raises(CommandError, match="不存在"):
        run("user", "grant", "ghost", "--role", "civil_affairs", "--scope", "2201")


# ================================================================ token


def test_token_create_prints_working_token(world):
    out = run("token", "create", "city", "--name", "报表脚本")
    token = out.strip()
    assert token.startswith("sg_")
    assert len(token) > 30
    assert token_authenticate(token) == world.users["city"]
    row = ApiToken.objects.get(user=world.users["city"])
    assert row.name == "报表脚本"
    assert token not in row.key_hash  # only a hash is stored
    assert token.startswith(row.prefix)
    assert token_authenticate(token + "x") is None
    assert token_authenticate("") is None


def test_token_create_unknown_or_inactive_user(world):
    with pytest.raises(CommandError, match="不存在"):
        run("token", "create", "ghost")
    user = world.users["city"]
    user.is_active = False
    user.save()
    with pytest.raises(CommandError, match="已停用"):
        run("token", "create", "city")
    assert not ApiToken.objects.filter(user=user).exists()


def test_token_of_deactivated_user_stops_working(world):
    token = run("token", "create", "street").strip()
    assert token_authenticate(token) == world.users["street"]
    User.objects.filter(pk=world.users["street"].pk).update(is_active=False)
    assert token_authenticate(token) is None


# ================================================================ demo


def test_demo_builds_city_and_refuses_second_run():
    out = run("demo")

    communities = Division.objects.filter(level=Division.Level.COMMUNITY)
    assert communities.count() == 40
    assert set(communities.values_list("code", flat=True)) >= {"220102001001", "220106001006"}
    assert all(c.startswith("2201") for c in communities.values_list("code", flat=True))
    assert Division.objects.get(code="2201").name == "长春市"
    assert Division.objects.filter(level=Division.Level.STREET).count() == 6
    workers = Worker.objects.count()
    assert 500 <= workers <= 750
    assert f"{workers} 人" in out
    assert "40 个社区" in out
    assert Appointment.objects.exists()

    # the six demo accounts are printed and can log in with the demo password
    assert DEMO_PASSWORD in out
    expected = {"minzheng": "civil_affairs", "quzheng": "civil_affairs", "jiedao": "street_admin", "shequ": "community_admin",
                "peixun": "training_admin", "shegong": "worker"}
    for username, role in expected.items():
        assert username in out
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        assert Grant.objects.get(user=user).role.code == role
    assert User.objects.get(username="shegong").worker is not None

    # history is recorded from the command, with its reason
    worker = Worker.objects.order_by("id").first()
    record = worker.history.get()
    assert record.history_type == "+"
    assert "shegong demo" in record.history_change_reason
    assert record.history_change_reason == REASON
    assert Worker.history.filter(history_change_reason__contains="shegong demo").count() == workers
    community = communities.first()
    assert "shegong demo" in community.history.get().history_change_reason

    # the three deliberate problems: one community has no 党组织书记
    secretaries = Appointment.objects.filter(post_type__code="party_secretary", end_date__isnull=True)
    assert secretaries.values("community").distinct().count() == 39

    # a second run refuses; --if-empty is a no-op
    with pytest.raises(CommandError, match="已有社区工作者"):
        run("demo")
    out = run("demo", "--if-empty")
    assert "跳过" in out
    assert Worker.objects.count() == workers
    assert Division.objects.filter(level=Division.Level.COMMUNITY).count() == 40
    assert User.objects.filter(username="minzheng").count() == 1


def test_demo_refuses_database_with_workers(world):
    before = Worker.objects.count()
    with pytest.raises(CommandError, match="--if-empty"):
        run("demo")
    assert "跳过" in run("demo", "--if-empty")
    assert Worker.objects.count() == before
    assert not User.objects.filter(username="minzheng").exists()


# ================================================================ serve


def test_serve_collects_static_files_only_when_they_changed(settings, tmp_path):
    """`shegong serve --static-only` (the first step of every `shegong serve`): collects when there is
    nothing collected yet, skips when no source file changed, collects again after a file is touched
    or added (issue 11, point 12). Plain storage and one source folder: no compression in a test."""
    source = tmp_path / "src"
    source.mkdir()
    css = source / "site.css"
    css.write_text("body { color: black }")
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    first = run("serve", "--static-only")
    assert "有变化,需要重新收集" in first and "收集并压缩静态文件" in first
    assert (tmp_path / "static" / "site.css").read_text() == "body { color: black }"
    again = run("serve", "--static-only")
    assert "未改变,跳过收集" in again and "收集并压缩" not in again
    css.write_text("body { color: navy }")
    os.utime(css, ns=(css.stat().st_atime_ns, css.stat().st_mtime_ns + 10**9))  # a later mtime, whatever the clock
    changed = run("serve", "--static-only")
    assert "收集并压缩静态文件" in changed
    assert (tmp_path / "static" / "site.css").read_text() == "body { color: navy }"
    assert "未改变,跳过收集" in run("serve", "--static-only")
    (source / "new.js").write_text("1")
    assert "收集并压缩静态文件" in run("serve", "--static-only")
    assert (tmp_path / "static" / "new.js").exists()
