"""The worker pages (issue 11, point 14): a search by part of an ID number says why it finds nobody and
what to do; a whole number that fails the check is never put in the URL and gets the same advice; after
revealing an ID number or phone the button no longer offers 查看."""

from __future__ import annotations

import html

from django.test import Client

from shegong.common.crypto import decrypt
from shegong.common.models import AccessLog
from shegong.people.idnumber import CHECK_CHARS

HINT = "身份证号请输入完整 18 位;按姓名查找请输入姓名片段"


def client(world, role: str = "community") -> Client:
    c = Client()
    c.force_login(world.users[role])
    return c


def search(c: Client, q: str):
    """Submit the filter form (it posts), then follow the redirect to the list, as the browser does."""
    posted = c.post("/workers/", {"q": q})
    assert posted.status_code == 302
    return posted["Location"], c.get(posted["Location"])


def test_last_four_digits_say_why_nothing_is_found(world):
    plain = decrypt(world.w1.id_number_encrypted)
    url, page = search(client(world), plain[-4:])
    body = html.unescape(page.content.decode())
    assert page.context["list"].objects == []
    assert f"“{plain[-4:]}”只有 4 位,不能按身份证号的一部分查找" in body and HINT in body
    assert '<ul class="messages" role="status">' in page.content.decode()


def test_a_whole_number_failing_the_check_is_kept_out_of_the_url(world):
    plain = decrypt(world.w1.id_number_encrypted)
    wrong = plain[:17] + next(c for c in CHECK_CHARS if c != plain[-1])
    url, page = search(client(world), wrong)
    assert wrong not in url and wrong[:17] not in url and "idbad=1" in url
    body = html.unescape(page.content.decode())
    assert page.context["list"].objects == []  # not every worker: the bad number matches nobody
    assert "输入的身份证号无效" in body and "对照身份证逐位核对" in body and HINT in body
    assert wrong not in body


def test_no_hint_for_a_name_or_a_whole_valid_number(world):
    c = client(world, "province")
    _, by_name = search(c, "张")
    assert by_name.context["search_hint"] == "" and HINT not in by_name.content.decode()
    _, by_number = search(c, decrypt(world.w2.id_number_encrypted))
    assert [w.pk for w in by_number.context["list"].objects] == [world.w2.pk]
    assert by_number.context["search_hint"] == ""
    old_link = c.get("/workers/", {"q": decrypt(world.w2.id_number_encrypted)})  # GET ?q= (API, old links)
    assert old_link.context["search_hint"] == "" and len(old_link.context["list"].objects) == 1


def test_after_reveal_the_button_no_longer_says_view(world):
    c = client(world)
    page = c.get(f"/workers/{world.w1.pk}/").content.decode()
    assert page.count('hx-target="closest dd"') == 2  # the ID number's and the phone's 查看 replace their field
    for field, element in (("id_number", "id-number"), ("phone", "phone")):
        resp = c.post(f"/workers/{world.w1.pk}/reveal/{field}/")
        assert resp.status_code == 200
        text = resp.content.decode()
        plain = decrypt(getattr(world.w1, f"{field}_encrypted"))
        assert f'id="{element}"' in text and f">{plain}</span>" in text
        assert "查看</button>" not in text and "<button" not in text
        assert "已显示,本次查看已记录" in text
    assert AccessLog.objects.filter(object_id=str(world.w1.pk)).count() == 2
