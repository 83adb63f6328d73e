"""Issue 10, point 6: who may do what is itself history — grants, roles, users, API tokens and post types.

Every create/change/delete leaves a historical row with who acted and when; the password hash and the
token digests never reach history; `shegong user history` and accounts.selectors.access_history read it.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from shegong.access import system_actor
from shegong.accounts.models import ApiToken, Grant, Role, User
from shegong.accounts.selectors import access_history
from shegong.accounts.services import (
    grant_add,
    grant_remove,
    role_update,
    token_create,
    token_revoke,
    user_activate,
    user_deactivate,
    user_set_password,
)
from shegong.common.errors import ApplicationError
from shegong.common.history import stamp
from shegong.org.models import Division
from shegong.staffing.models import PostType


@pytest.fixture(autouse=True)
def fresh_post_type_maps():
    """Tests change post types inside a transaction that is rolled back: forget what was loaded."""
    from shegong.staffing.post_types import forget_post_types

    forget_post_types()
    yield
    forget_post_types()


@pytest.fixture
def people(db):
    """A province and a city division (plain rows: these tests are about accounts, not the tree), an
    administrator who acts and a user who is acted upon."""
    province, _ = Division.objects.get_or_create(code="22", defaults={"name": "吉林省", "level": "province"})
    Division.objects.get_or_create(code="2201", defaults={"name": "长春市", "level": "city", "parent": province})
    admin = User.objects.create_superuser("admin1", password="x-Test-pass-2021",  # accounts and roles: the operator's
                                          display_name="管理员甲")
    target = User.objects.create_user("clerk", password="x-Test-pass-2021")
    return admin, target


def test_grant_given_and_removed_are_both_in_history_with_who(people):
    admin, target = people
    grant = grant_add(user=target, role="civil_affairs", scope="22", actor=admin)
    grant_remove(user=target, role="civil_affairs", scope="22", actor=admin)
    assert not Grant.objects.filter(pk=grant.pk).exists()
    rows = list(Grant.history.filter(id=grant.pk).order_by("history_id"))
    assert [r.history_type for r in rows] == ["+", "-"]
    assert all(r.history_user_id == admin.pk for r in rows)
    assert rows[-1].role_id == Role.objects.get(code="civil_affairs").pk and rows[-1].division.code == "22"
    assert rows[-1].history_change_reason == "收回授权"


def test_removing_a_grant_that_is_not_there_names_the_field(people):
    _admin, target = people
    with pytest.raises(ApplicationError) as exc:
        grant_remove(user=target, role="street_admin", scope="22", actor=_admin)
    assert exc.value.field == "role" and "没有" in exc.value.message


def test_token_created_and_revoked_with_who_and_reason(people):
    admin, target = people
    token = token_create(user=target, name="报表", actor=admin)
    row = ApiToken.objects.get(user=target)
    token_revoke(prefix=token[:10], actor=admin)
    rows = list(ApiToken.history.filter(id=row.pk).order_by("history_id"))
    assert [r.history_type for r in rows] == ["+", "~"]
    assert all(r.history_user_id == admin.pk for r in rows)
    assert rows[-1].revoke_reason == ApiToken.RevokeReason.MANUAL and rows[-1].revoked_at is not None
    assert "手动吊销" in rows[-1].history_change_reason
    # the digests never reach history
    fields = {f.name for f in ApiToken.history.model._meta.fields}
    assert not fields & {"key_hash", "password_fingerprint", "last_used_at"}


def test_a_command_revoking_tokens_is_named_in_the_reason(people):
    _admin, target = people
    token_create(user=target, actor=system_actor("command"))
    user_deactivate(user=target, actor=system_actor("command"))
    revoked = ApiToken.history.filter(user_id=target.pk, history_type="~").get()
    assert revoked.history_user_id is None
    assert "命令行" in revoked.history_change_reason and "账号已停用" in revoked.history_change_reason


def test_password_change_is_recorded_as_a_reason_never_the_hash(people):
    admin, target = people
    token_create(user=target, actor=admin)
    user_set_password(user=target, password="another-Good-pass-2024", validate=False, actor=admin)
    last = User.history.filter(id=target.pk).latest("history_id")
    assert last.history_change_reason == "密码已更改" and last.history_user_id == admin.pk
    assert not {"password", "last_login"} & {f.name for f in User.history.model._meta.fields}
    # the tokens revoked with it are recorded too, with who
    assert ApiToken.history.filter(user_id=target.pk, history_type="~", history_user_id=admin.pk).exists()


def test_signing_in_writes_no_history_row(people, client):
    _admin, target = people
    before = User.history.filter(id=target.pk).count()
    client.force_login(target)  # django.contrib.auth.login: update_last_login saves last_login
    target.refresh_from_db()
    assert target.last_login is not None
    assert User.history.filter(id=target.pk).count() == before


def test_activation_changes_are_in_history(people):
    admin, target = people
    user_deactivate(user=target, actor=admin)
    user_activate(user=target, actor=admin)
    rows = list(User.history.filter(id=target.pk, history_type="~").order_by("history_id"))
    assert [(r.is_active, r.history_change_reason, r.history_user_id) for r in rows] == [
        (False, "停用账号", admin.pk), (True, "启用账号", admin.pk)]


def test_role_actions_change_is_in_history(people):
    admin, _target = people
    role = Role.objects.get(code="training_admin")
    role_update(role=role, actor=admin, actions=["view", "reveal"])
    last = Role.history.filter(id=role.pk).latest("history_id")
    assert last.actions == ["view", "reveal"] and last.history_user_id == admin.pk
    with pytest.raises(ApplicationError) as exc:
        role_update(role=role, actor=admin, actions=["delete"])
    assert exc.value.field == "actions" and "delete" in exc.value.message


def test_post_type_edit_is_in_history(people):
    admin, _target = people
    post = PostType.objects.get(code="party_secretary")
    post.aliases = [*post.aliases, "支部书记(测试)"]
    stamp(post, actor=admin, reason="增加别名")
    post.save()
    last = PostType.history.filter(id=post.pk).latest("history_id")
    assert "支部书记(测试)" in last.aliases and last.history_user_id == admin.pk
    assert last.history_change_reason == "增加别名"


def test_access_history_and_the_command_read_it(people):
    admin, target = people
    grant_add(user=target, role="civil_affairs", scope="22", actor=admin)
    role_update(role=Role.objects.get(code="civil_affairs"), actor=admin, actions=["view", "change"])
    token = token_create(user=target, actor=admin)
    token_revoke(prefix=token[:10], actor=admin)
    grant_remove(user=target, role="civil_affairs", scope="22", actor=admin)
    entries = access_history(target)
    subjects = [(e.type, e.subject) for e in entries]
    assert ("+", "授权 民政管理员(吉林省)") in subjects and ("-", "授权 民政管理员(吉林省)") in subjects
    assert ("~", "角色 民政管理员") in subjects
    assert ("+", f"API 令牌 {token[:10]}…") in subjects and ("~", f"API 令牌 {token[:10]}…") in subjects
    # who acted: the login name, or (issue 11: never a login name on screen) the acting user's 姓名
    assert all(e.who in ("admin1", admin.display_name or "admin1") for e in entries if e.subject != "账号")
    role_change = next(e for e in entries if e.subject == "角色 民政管理员")
    assert any(c.field == "actions" and "reveal" in c.old and "reveal" not in c.new for c in role_change.changes)
    # the newest first
    assert entries == sorted(entries, key=lambda e: e.when, reverse=True)

    out = io.StringIO()
    call_command("user", "history", "clerk", stdout=out)
    text = out.getvalue()
    assert ("admin1" in text or "管理员甲" in text) and "收回授权" in text and "民政管理员(吉林省)" in text and "创建令牌" in text


def test_ungrant_command_records_the_command_as_actor(people):
    _admin, target = people
    grant = grant_add(user=target, role="street_admin", scope="2201", actor=_admin)
    out = io.StringIO()
    call_command("user", "ungrant", "clerk", "--role", "street_admin", "--scope", "2201", stdout=out)
    assert "已收回" in out.getvalue()
    removed = Grant.history.filter(id=grant.pk, history_type="-").get()
    assert removed.history_user_id is None and removed.history_change_reason.startswith("命令行")


# ---- the post-type maps are correct across processes (issue 10, H5 point 2) ---------------------------


def test_a_post_type_changed_by_another_process_is_seen_at_the_next_request(people, settings, tmp_path):
    from django.core.signals import request_started

    from shegong.staffing import post_types
    from shegong.staffing.services import post_type_code, post_type_index

    # Each request runs the check. (Sending request_started itself would also run Django's
    # close_old_connections and close the test's connection; the receiver is called directly.)
    sync_receivers, _async = request_started._live_receivers(None)
    assert post_types._request_started in sync_receivers
    next_request = post_types._request_started
    settings.VAR_DIR = tmp_path
    next_request()
    assert post_type_code("书记") == "party_secretary"  # the maps are loaded
    # Another process saves a post type: here, no signal arrives (a queryset update sends none) — only
    # the marker file that process's post_save touched.
    PostType.objects.filter(code="party_secretary").update(aliases=["书记", "测试新别名"], name="党组织书记(改)")
    next_request()
    with pytest.raises(ApplicationError):  # nothing told this process yet
        post_type_code("测试新别名")
    # What the other process's post_save did (post_types._changed_here there): it touched the marker.
    (tmp_path / "post_types.generation").write_text("another process", encoding="ascii")
    assert post_types._maps is not None  # this process keeps its maps until its next request
    next_request()  # this process's next request
    assert post_type_code("测试新别名") == "party_secretary"
    assert post_type_index()["party_secretary"][1] == "党组织书记(改)"
    # and a save here touches the marker for the others
    before = (tmp_path / "post_types.generation").stat().st_mtime_ns
    PostType.objects.get(code="party_secretary").save()
    assert (tmp_path / "post_types.generation").read_text() != "another process"
    assert (tmp_path / "post_types.generation").stat().st_mtime_ns >= before


def test_a_post_type_changed_behind_the_orm_is_seen_within_max_age(people, monkeypatch):
    from shegong.staffing import post_types
    from shegong.staffing.services import post_type_code

    assert post_type_code("书记") == "party_secretary"
    PostType.objects.filter(code="party_secretary").update(aliases=["书记", "第三个别名"])  # SQL by hand
    monkeypatch.setattr(post_types, "MAX_AGE", 0.0)  # MAX_AGE has passed
    assert post_type_code("第三个别名") == "party_secretary"
    with pytest.raises(ApplicationError) as exc:
        post_type_code("不存在的岗位")
    assert exc.value.field == "post_type" and "不存在的岗位" in exc.value.message


def test_a_post_type_saved_in_this_process_is_seen_at_once(people):
    from shegong.staffing.services import post_type_code

    assert post_type_code("书记") == "party_secretary"
    post = PostType.objects.get(code="party_secretary")
    post.aliases = [*post.aliases, "即时别名"]
    post.save()
    assert post_type_code("即时别名") == "party_secretary"
