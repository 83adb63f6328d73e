"""The shell: one rendering of refusals (403 / 404, Chinese, with the way back) and the side menu built
from the apps' menu.py declarations (who sees which entry, which one is current)."""

from __future__ import annotations

import re

from django.test import Client


def client_for(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def nav(body: str) -> list[tuple[str, str, bool]]:
    """(label, href, active) of every side-menu link."""
    block = re.search(r'<nav class="nav"[^>]*>(.*?)</nav>', body, re.S)
    assert block is not None
    return [(label.strip(), href, bool(active)) for href, active, label in
            re.findall(r'<a href="([^"]+)"( class="active" aria-current="page")?>([^<]+)</a>', block.group(1))]


def test_forbidden_page_names_the_refusal_and_the_way_back(world):
    client = client_for(world, "worker")  # sees their own record, may not change it
    page = f"/workers/{world.w1.pk}/"
    r = client.get(f"{page}edit/", HTTP_REFERER=f"http://testserver{page}")
    assert r.status_code == 403
    body = r.content.decode()
    assert "您可以查看但无权修改这名社区工作者" in body
    assert f'href="http://testserver{page}"' in body and "返回上一页" in body
    assert "回到首页" in body


def test_forbidden_page_offers_no_way_back_to_another_site(world):
    r = client_for(world, "worker").get(f"/workers/{world.w1.pk}/edit/", HTTP_REFERER="https://evil.example/x")
    assert r.status_code == 403
    assert "evil.example" not in r.content.decode() and "返回上一页" not in r.content.decode()


def test_not_visible_and_not_there_answer_the_same_404(world):
    client = client_for(world, "community")
    outside = client.get(f"/workers/{world.w_other.pk}/")
    missing = client.get("/workers/999999/")
    assert outside.status_code == missing.status_code == 404
    for r in (outside, missing):
        assert "不存在或不在您的管辖范围内" in r.content.decode() and "回到首页" in r.content.decode()


def test_unknown_address_is_a_chinese_404(world):
    r = client_for(world, "city").get("/no-such-page/")
    assert r.status_code == 404 and "没有找到" in r.content.decode()


def test_htmx_refusal_is_the_message_alone(world):
    r = client_for(world, "community").post(f"/workers/{world.w_other.pk}/reveal/phone/", HTTP_HX_REQUEST="true")
    assert r.status_code == 404
    assert r.content.decode() == "不存在或不在您的管辖范围内"


def test_menu_entries_and_the_current_one(world):
    r = client_for(world, "street").get(f"/workers/{world.w1.pk}/appoint/")
    links = nav(r.content.decode())
    labels = [label for label, _, _ in links]
    assert labels == ["首页", "区划与社区", "社区工作者", "人事档案", "合规检查", "岗位说明书", "岗位与职责",
                      "花名册导入导出", "用户管理", "我的账号", "API 文档"]
    assert [label for label, _, active in links if active] == ["社区工作者"]


def test_my_archive_entry_only_for_a_user_with_a_worker_record(world):
    own = client_for(world, "worker").get(f"/archives/{world.w1.pk}/")
    links = nav(own.content.decode())
    assert ("我的档案", f"/archives/{world.w1.pk}/", True) in links
    assert "人事档案" not in [label for label, _, _ in links]  # a worker's account: its own archive only (issue 11)
    street = nav(client_for(world, "street").get(f"/archives/{world.w1.pk}/").content.decode())
    assert "我的档案" not in [label for label, _, _ in street]
    assert ("人事档案", "/archives/", True) in street
