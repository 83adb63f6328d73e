"""Issue 11, point 7: accounts on the web — 用户管理, 授权, 修改密码, API 令牌, 登录记录.

The world (tests/conftest.py): province = 民政管理员@22, city = 民政管理员@2201, street = 街道管理员@220102001,
community = 社区管理员@东风社区 (220102001001), training = 培训管理员@2201 (view only), worker = 张三's own
account in 东风社区, nobody = no grant. Ranks (accounts/roles.py): 民政 40 > 街道 30 = 培训 30 > 社区 20 > 工作者 10.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from shegong.access import Forbidden, system_actor
from shegong.accounts.authority import grant_refusal, is_account_admin, manages
from shegong.accounts.models import ApiToken, Grant, LoginEvent, Role, User
from shegong.accounts.selectors import login_events, users_managed
from shegong.accounts.services import (
    grant_add,
    grant_remove,
    token_authenticate,
    token_create,
    user_create,
    user_deactivate,
)
from shegong.common.errors import ApplicationError
from shegong.org.models import Division

PASSWORD = "Test-pass-2021"  # tests/factories.user


def signed_in(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def names(qs) -> set[str]:
    return {u.username for u in qs}


# ---- who manages whom -----------------------------------------------------------------------------------------


def test_each_admin_manages_only_accounts_whose_grants_all_lie_inside_and_not_above(world):
    u = world.users
    assert names(users_managed(actor=u["province"])) == {"province", "city", "street", "community", "training", "worker"}
    assert names(users_managed(actor=u["city"])) == {"city", "street", "community", "training", "worker"}
    assert names(users_managed(actor=u["street"])) == {"street", "community", "worker"}
    assert names(users_managed(actor=u["community"])) == {"community", "worker"}
    for role in ("training", "worker", "nobody"):
        assert not users_managed(actor=u[role]).exists(), role
        assert not is_account_admin(u[role])
    # a second grant outside the street takes the account out of the street admin's hands
    grant_add(user=u["community"], role="community_admin", scope="220102002001", actor=system_actor("command"))
    assert names(users_managed(actor=u["street"])) == {"street", "worker"}
    assert "community" in names(users_managed(actor=u["city"]))


def test_the_user_list_page_and_workbook_show_the_scope_and_nothing_outside(world):
    c = signed_in(world.users["street"])
    page = c.get(reverse("accounts:users")).content.decode()
    assert "community" in page and "worker" in page
    assert ">city<" not in page and ">province<" not in page and ">training<" not in page
    assert "社区管理员(东风社区)" in page
    resp = c.get(reverse("accounts:users") + "?export=xlsx&sort=-username")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content), read_only=True).active
    rows = [r for r in ws.iter_rows(values_only=True)]
    assert rows[0][:4] == ("用户名", "姓名", "角色与范围", "状态")
    assert [r[0] for r in rows[1:]] == ["worker", "street", "community"]
    # filters: role and state
    page = c.get(reverse("accounts:users") + "?role=worker").content.decode()
    assert ">worker<" in page and ">community<" not in page
    user_deactivate(user=world.users["worker"], actor=world.users["street"])
    page = c.get(reverse("accounts:users") + "?active=0").content.decode()
    assert ">worker<" in page and ">community<" not in page


def test_non_admins_are_refused_the_user_pages_and_outside_accounts_are_404(world):
    for role in ("training", "worker", "nobody"):
        resp = signed_in(world.users[role]).get(reverse("accounts:users"))
        assert resp.status_code == 403, role
        assert "管理用户" in resp.content.decode()
    c = signed_in(world.users["street"])
    assert c.get(reverse("accounts:user_detail", args=[world.users["city"].pk])).status_code == 404
    assert c.get(reverse("accounts:user_detail", args=[world.users["training"].pk])).status_code == 404
    page = c.get(reverse("accounts:user_detail", args=[world.users["community"].pk])).content.decode()
    assert "社区管理员" in page and "东风社区" in page


# ---- granting: inside only, never above --------------------------------------------------------------------


def test_the_service_refuses_a_grant_outside_the_scope(world):
    with pytest.raises(Forbidden) as exc:
        grant_add(user=world.users["community"], role="community_admin", scope="220102002001", actor=world.users["street"])
    assert "春光社区" in str(exc.value) and "无权" in str(exc.value)
    assert not Grant.objects.filter(user=world.users["community"], division__code="220102002001").exists()


def test_the_service_refuses_a_role_above_the_admins_own(world):
    u = world.users
    with pytest.raises(Forbidden) as exc:
        grant_add(user=u["community"], role="civil_affairs", scope="220102001", actor=u["street"])
    assert "不能授予级别更高的“民政管理员”" in str(exc.value)
    # 培训管理员 stands beside the street admin: a community admin may not grant it, a street admin may
    with pytest.raises(Forbidden):
        grant_add(user=u["worker"], role="training_admin", scope="220102001001", actor=u["community"])
    grant_add(user=u["community"], role="training_admin", scope="220102001001", actor=u["street"])
    # the same rule when creating a user
    with pytest.raises(Forbidden):
        user_create(username="boss", password="Another-good-pass-2024", role="street_admin", scope="220102001001",
                    actor=u["community"])
    assert not User.objects.filter(username="boss").exists()
    # an equal role is fine (a second community admin), and a worker role with its worker
    user_create(username="deputy", display_name="副主任", password="Another-good-pass-2024", role="community_admin",
                scope="220102001001", actor=u["community"])
    assert grant_refusal(u["community"], Role.objects.get(code="community_admin"),
                         Division.objects.get(code="220102001001")) == ""


def test_an_admin_may_not_change_their_own_grants_nor_remove_a_users_last_grant(world):
    u = world.users
    with pytest.raises(Forbidden, match="不能为自己"):
        grant_add(user=u["street"], role="community_admin", scope="220102001001", actor=u["street"])
    with pytest.raises(Forbidden, match="不能为自己"):
        user_deactivate(user=u["street"], actor=u["street"])
    with pytest.raises(ApplicationError, match="唯一的授权"):
        grant_remove(user=u["community"], role="community_admin", scope="220102001001", actor=u["street"])
    # an account partly outside is not theirs to change
    grant_add(user=u["community"], role="community_admin", scope="220102002001", actor=system_actor("command"))
    with pytest.raises(Forbidden, match="不在您管理范围内"):
        grant_add(user=u["community"], role="worker", scope="220102001001", actor=u["street"])


def test_through_the_page_a_higher_role_is_not_offered_and_a_forged_one_is_refused(world):
    c = signed_in(world.users["street"])
    target = world.users["community"]
    url = reverse("accounts:grant_new", args=[target.pk])
    page = c.get(url).content.decode()
    assert 'value="street_admin"' in page and 'value="civil_affairs"' not in page
    resp = c.post(url, {"role": "civil_affairs", "scope": ["220102", "220102001"]})
    assert resp.status_code == 200
    assert "您不能授予该角色" in resp.content.decode()
    # outside the scope: the service says no (403), nothing granted
    resp = c.post(url, {"role": "community_admin", "scope": ["220102", "220102002", "220102002001"]})
    assert resp.status_code == 403
    assert "春光社区" in resp.content.decode()
    assert list(target.grants.values_list("role__code", "division__code")) == [("community_admin", "220102001001")]
    # inside and not above: granted, and in history with who
    resp = c.post(url, {"role": "community_admin", "scope": ["220102", "220102001", "220102001002"]})
    assert resp.status_code == 302
    grant = Grant.objects.get(user=target, division__code="220102001002")
    assert Grant.history.get(id=grant.pk, history_type="+").history_user_id == world.users["street"].pk
    # and removed from the user's page
    resp = c.post(reverse("accounts:grant_remove", args=[target.pk, grant.pk]))
    assert resp.status_code == 302 and not Grant.objects.filter(pk=grant.pk).exists()
    assert Grant.history.filter(id=grant.pk, history_type="-").exists()


def test_the_cascaders_top_choice_is_the_admins_whole_scope(world):
    """A street admin's cascader starts at the street's communities; its "全部" is the street itself."""
    c = signed_in(world.users["street"])
    target = world.users["community"]
    resp = c.post(reverse("accounts:grant_new", args=[target.pk]), {"role": "street_admin", "scope": [""]})
    assert resp.status_code == 302
    assert Grant.objects.filter(user=target, role__code="street_admin", division__code="220102001").exists()


def test_a_user_outside_cannot_be_reached_through_any_page(world):
    c = signed_in(world.users["community"])
    street = world.users["street"]
    grant = street.grants.get()
    for name, args in (("accounts:grant_new", [street.pk]), ("accounts:user_deactivate", [street.pk]),
                       ("accounts:grant_remove", [street.pk, grant.pk])):
        resp = c.post(reverse(name, args=args), {"role": "worker", "scope": "220102001001"})
        assert resp.status_code == 404, name
    street.refresh_from_db()
    assert street.is_active and street.grants.count() == 1


def test_creating_a_user_on_the_page(world):
    c = signed_in(world.users["street"])
    url = reverse("accounts:user_new")
    resp = c.post(url, {"username": "lixiaohong", "display_name": "李晓红", "password": "123",
                        "role": "community_admin", "scope": ["220102", "220102001", "220102001002"]})
    assert resp.status_code == 200 and "密码不符合要求" in resp.content.decode()
    resp = c.post(url, {"username": "lixiaohong", "display_name": "李晓红", "password": "Xiaohong-2024-good",
                        "role": "worker", "scope": ["220102", "220102001", "220102001002"]})
    assert "必须关联一名社区工作者" in resp.content.decode()
    resp = c.post(url, {"username": "lixiaohong", "display_name": "李晓红", "password": "Xiaohong-2024-good",
                        "role": "community_admin", "scope": ["220102", "220102001", "220102001002"]})
    assert resp.status_code == 302
    made = User.objects.get(username="lixiaohong")
    assert made.display_name == "李晓红" and made.check_password("Xiaohong-2024-good")
    assert list(made.grants.values_list("role__code", "division__code")) == [("community_admin", "220102001002")]
    assert manages(world.users["street"], made) and not manages(world.users["community"], made)


def test_deactivate_and_activate_on_the_page(world):
    c = signed_in(world.users["street"])
    target = world.users["community"]
    token_create(user=target, actor=system_actor("command"))
    assert c.post(reverse("accounts:user_deactivate", args=[target.pk])).status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert not ApiToken.objects.filter(user=target, revoked_at__isnull=True).exists()
    assert c.post(reverse("accounts:user_activate", args=[target.pk])).status_code == 302
    target.refresh_from_db()
    assert target.is_active
    # one's own account: no buttons, and refused
    resp = c.post(reverse("accounts:user_deactivate", args=[world.users["street"].pk]))
    assert resp.status_code == 403


# ---- 修改密码 ---------------------------------------------------------------------------------------------------


def test_password_change_keeps_the_session_and_revokes_tokens(world):
    me = world.users["worker"]
    token = token_create(user=me, actor=me)
    c = signed_in(me)
    other = signed_in(me)  # another device
    url = reverse("accounts:password")
    resp = c.post(url, {"old_password": "wrong-one", "new_password1": "Brand-new-pass-2024",
                        "new_password2": "Brand-new-pass-2024"})
    assert resp.status_code == 200 and "原密码不正确" in resp.content.decode()
    resp = c.post(url, {"old_password": PASSWORD, "new_password1": "Brand-new-pass-2024",
                        "new_password2": "Brand-new-pass-20245"})
    assert "两次输入的新密码不一致" in resp.content.decode()
    resp = c.post(url, {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"})
    assert "密码不符合要求" in resp.content.decode()
    resp = c.post(url, {"old_password": PASSWORD, "new_password1": "Brand-new-pass-2024",
                        "new_password2": "Brand-new-pass-2024"}, follow=True)
    assert resp.status_code == 200 and "密码已修改" in resp.content.decode()
    me.refresh_from_db()
    assert me.check_password("Brand-new-pass-2024")
    assert c.get(reverse("accounts:account")).status_code == 200          # this session stays
    assert other.get(reverse("accounts:account")).status_code == 302      # the other device is signed out
    assert token_authenticate(token) is None                              # the API token is revoked
    assert User.history.filter(id=me.pk).latest("history_id").history_change_reason == "密码已更改"


# ---- API 令牌 -------------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_never_again(world):
    me = world.users["community"]
    c = signed_in(me)
    url = reverse("accounts:tokens")
    resp = c.post(url, {"name": "统计报表", "days": "30"})
    assert resp.status_code == 200 and "no-store" in resp["Cache-Control"]
    text = resp.content.decode()
    row = ApiToken.objects.get(user=me)
    start = text.index(row.prefix)
    token = text[start:text.index('"', start)]
    assert token.startswith("sg_") and len(token) > 30
    assert token_authenticate(token) == me
    assert row.name == "统计报表" and row.expires_at is not None
    assert (row.expires_at - timezone.now()).days in (29, 30)
    again = c.get(url).content.decode()
    assert token not in again and f"{row.prefix}…" in again and "统计报表" in again
    assert token not in "".join(str(v) for v in ApiToken.objects.values_list("key_hash", "prefix"))
    # a name is required
    resp = c.post(url, {"name": "", "days": "30"})
    assert "请填写令牌的用途" in resp.content.decode() and ApiToken.objects.filter(user=me).count() == 1
    # revoked from the page
    assert c.post(reverse("accounts:token_revoke", args=[row.pk])).status_code == 302
    assert token_authenticate(token) is None
    assert "已吊销" in c.get(url).content.decode()


def test_an_admin_revokes_a_managed_users_token_but_not_one_outside(world):
    community_token = token_create(user=world.users["community"], actor=system_actor("command"))
    city_token = token_create(user=world.users["city"], actor=system_actor("command"))
    c = signed_in(world.users["street"])
    page = c.get(reverse("accounts:user_detail", args=[world.users["community"].pk])).content.decode()
    assert community_token[:10] in page and community_token not in page
    row = ApiToken.objects.get(user=world.users["community"])
    assert c.post(reverse("accounts:token_revoke", args=[row.pk])).status_code == 302
    assert token_authenticate(community_token) is None
    outside = ApiToken.objects.get(user=world.users["city"])
    assert c.post(reverse("accounts:token_revoke", args=[outside.pk])).status_code == 404
    assert token_authenticate(city_token) == world.users["city"]


# ---- 登录记录 -----------------------------------------------------------------------------------------------------


def test_every_sign_in_and_failed_attempt_is_recorded(world):
    c = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) " + "x" * 300)
    c.post(reverse("web:login"), {"username": "community", "password": "wrong-password"})
    c.post(reverse("web:login"), {"username": "no-such-user", "password": "whatever"})
    resp = c.post(reverse("web:login"), {"username": "community", "password": PASSWORD})
    assert resp.status_code == 302
    rows = list(LoginEvent.objects.order_by("id"))
    assert [(r.username, r.result, r.user_id) for r in rows] == [
        ("community", "failure", world.users["community"].pk),
        ("no-such-user", "failure", None),
        ("community", "success", world.users["community"].pk)]
    assert all(r.ip == "127.0.0.1" and r.user_agent.startswith("Mozilla/5.0 (iPhone") for r in rows)
    assert all(len(r.user_agent) <= 120 for r in rows)
    assert "wrong-password" not in str([vars(r) for r in rows])


def test_who_reads_which_sign_ins_and_the_filters(world, client):
    for role in ("community", "worker", "city"):
        Client().post(reverse("web:login"), {"username": role, "password": PASSWORD})
        Client().post(reverse("web:login"), {"username": role, "password": "wrong-password"})
    Client().post(reverse("web:login"), {"username": "ghost", "password": "x"})
    u = world.users
    assert {e.username for e in login_events(actor=u["worker"])} == {"worker"}
    assert {e.username for e in login_events(actor=u["street"])} == {"community", "worker"}
    assert {e.username for e in login_events(actor=u["province"])} == {"community", "worker", "city"}
    assert "ghost" in {e.username for e in login_events(actor=system_actor("command"))}

    c = signed_in(u["street"])   # force_login is a sign-in too: the street admin's own row
    url = reverse("accounts:logins")
    page = c.get(url + "?result=failure").content.decode()
    assert page.count("失败</span>") == 2 and "成功</span>" not in page
    today = timezone.localdate()
    assert "community" in c.get(url + f"?start={today}&end={today}").content.decode()
    later = today + dt.timedelta(days=1)
    assert "没有符合条件的登录记录" in c.get(url + f"?start={later}").content.decode()
    bad = c.get(url + f"?start={today}&end={today - dt.timedelta(days=1)}").content.decode()
    assert "截止日期不能早于起始日期" in bad
    assert "日期" in c.get(url + "?start=2024-13-45").content.decode()
    resp = c.get(url + "?export=xlsx&result=success")
    ws = load_workbook(io.BytesIO(resp.content), read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("时间", "用户名", "姓名", "结果")
    assert {r[1] for r in rows[1:]} == {"community", "worker", "street"} and {r[3] for r in rows[1:]} == {"成功"}
    worker_page = signed_in(u["worker"]).get(url).content.decode()
    assert ">community<" not in worker_page


def test_my_account_page_links_everything(world):
    resp = signed_in(world.users["worker"]).get(reverse("accounts:account"))
    text = resp.content.decode()
    assert resp.status_code == 200
    for label in ("修改密码", "API 令牌", "登录记录", "社区工作者(东风社区)"):
        assert label in text
    assert reverse("accounts:users") not in text
    assert reverse("accounts:users") in signed_in(world.users["street"]).get(reverse("accounts:account")).content.decode()
