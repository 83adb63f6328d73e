"""Role-shaped navigation (issue 11, point 3): the side menu is built from what every app declares
(shegong/<app>/menu.py) and shown by audience, decided from the account's grants as data — a worker's
account (self-only grants) gets its own pages and none of the administrator's entries."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from shegong.access import system_actor
from shegong.accounts.models import Role
from shegong.accounts.services import user_create
from shegong.common.menus import ADMIN, ALL, SELF
from shegong.web.navigation import ENTRIES
from tests import factories

ADMIN_ENTRIES = {"区划与社区", "社区工作者", "人事档案", "合规检查", "岗位说明书", "花名册导入导出", "API 文档", "用户管理"}
OWN_ENTRIES = {"我的信息", "我的岗位", "我的档案"}
LINK = re.compile(r'<a href="([^"]*)"( class="active" aria-current="page")?>([^<]*)</a>')


def nav(client: Client, url: str = "/") -> list[tuple[str, str, bool]]:
    """(label, href, current) of the side menu's links on `url`."""
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    body = resp.content.decode()
    block = body[body.index('<nav class="nav"'):body.index("</nav>")]
    return [(label, href, bool(current)) for href, current, label in LINK.findall(block)]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_worker_gets_own_pages_and_none_of_the_admin_entries(world):
    links = nav(client_for(world.users["worker"]))
    labels = [label for label, _, _ in links]
    assert labels == ["首页", "我的信息", "我的岗位", "我的档案", "岗位与职责", "我的账号"]
    assert not ADMIN_ENTRIES & set(labels)
    hrefs = dict((label, href) for label, href, _ in links)
    pk = world.w1.pk
    assert hrefs["我的信息"] == f"/workers/{pk}/"
    assert hrefs["我的岗位"] == f"/workers/{pk}/#posts"
    assert hrefs["我的档案"] == f"/archives/{pk}/"


@pytest.mark.parametrize("role", ["province", "city", "street", "community"])
def test_administrators_get_the_admin_entries(world, role):
    labels = {label for label, _, _ in nav(client_for(world.users[role]))}
    assert labels >= ADMIN_ENTRIES
    assert not OWN_ENTRIES & labels  # these accounts are not linked to a worker record


def test_view_only_training_admin_has_no_api_docs(world):
    """The API is for administrators who keep data through it (change over a subtree)."""
    labels = {label for label, _, _ in nav(client_for(world.users["training"]))}
    assert ADMIN_ENTRIES - {"API 文档", "用户管理"} <= labels
    assert "API 文档" not in labels and "用户管理" not in labels


def test_account_without_grant_sees_home_only(world):
    assert [label for label, _, _ in nav(client_for(world.users["nobody"]))] == ["首页", "岗位与职责", "我的账号"]


def test_admin_on_the_roster_has_own_archive_and_the_archives_apart(world):
    """人事档案 and 我的档案 never lead to the same page; on one's own archive only 我的档案 is current."""
    admin = factories.user("street_w2", "street_admin", "220102001", worker=world.w2)
    client = client_for(admin)
    hrefs = {label: href for label, href, _ in nav(client)}
    assert hrefs["我的档案"] == f"/archives/{world.w2.pk}/" and hrefs["人事档案"] == "/archives/"
    current = [label for label, _, active in nav(client, f"/archives/{world.w2.pk}/") if active]
    assert current == ["我的档案"]
    current = [label for label, _, active in nav(client, f"/archives/{world.w1.pk}/") if active]
    assert current == ["人事档案"]
    current = [label for label, _, active in nav(client, f"/workers/{world.w2.pk}/") if active]
    assert current == ["我的信息"]
    current = [label for label, _, active in nav(client, f"/workers/{world.w1.pk}/") if active]
    assert current == ["社区工作者"]


def test_audience_comes_from_grants_not_role_names(world):
    """A self-only role under any name gives the worker's menu; an admin role under the workers' name
    gives the admin's."""
    Role.objects.create(code="volunteer", name="志愿者", actions=["view"], self_only=True, sort=90)
    Role.objects.create(code="lookalike", name="社区工作者(管理)", actions=["view", "change"], self_only=False, sort=91)
    w = factories.WorkerFactory(name="周九", community=world.c1)
    own = user_create(actor=system_actor("command"), username="vol", password="Test-pass-2021", role="volunteer",
                      scope="220102001001", worker=w, validate=False)
    admin = user_create(actor=system_actor("command"), username="look", password="Test-pass-2021", role="lookalike",
                        scope="220102001001", validate=False)
    assert not ADMIN_ENTRIES & {label for label, _, _ in nav(client_for(own))}
    assert {label for label, _, _ in nav(client_for(own))} >= OWN_ENTRIES
    assert {label for label, _, _ in nav(client_for(admin))} >= ADMIN_ENTRIES


@pytest.mark.parametrize(("role", "url", "current"), [
    ("city", "/", "首页"),
    ("city", "/workers/", "社区工作者"),
    ("city", "/compliance/", "合规检查"),
    ("city", "/archives/", "人事档案"),
    ("worker", "/", "首页"),
    ("worker", "/post-types/", "岗位与职责"),
])
def test_current_entry_has_aria_current(world, role, url, current):
    links = nav(client_for(world.users[role]), url)
    assert [label for label, _, active in links if active] == [current]


def test_worker_own_pages_are_current(world):
    client = client_for(world.users["worker"])
    assert [label for label, _, a in nav(client, f"/workers/{world.w1.pk}/") if a] == ["我的信息"]
    assert [label for label, _, a in nav(client, f"/archives/{world.w1.pk}/") if a] == ["我的档案"]


def test_skip_link_leads_to_the_content(world):
    body = client_for(world.users["worker"]).get("/").content.decode()
    assert '<a class="skip-link" href="#content">跳到正文</a>' in body
    assert body.index("skip-link") < body.index('<nav class="nav"')  # the first thing a keyboard reaches
    assert '<main class="main" id="content"' in body


def test_every_entry_declares_a_known_audience():
    assert {e.audience for e in ENTRIES} <= {ADMIN, SELF, ALL}
    labels = {str(e.label): e for e in ENTRIES}
    assert {str(e.label) for e in ENTRIES if e.audience == SELF} == OWN_ENTRIES
    assert {str(e.label) for e in ENTRIES if e.audience == ADMIN} >= ADMIN_ENTRIES
    assert labels["API 文档"].action == "change"
