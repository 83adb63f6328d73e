"""The division cascader (org/cascade.py): the selects from the top of a scope down to the choice."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from shegong.access import system_actor
from shegong.accounts.services import grant_add
from shegong.org.cascade import chosen, division_cascade
from tests import factories


def _values(level) -> list[str]:
    return re.findall(r'<option value="(\d*)"', str(level.options))


def _selected(level) -> str | None:
    found = re.search(r'<option value="(\d*)" selected>', str(level.options))
    return found.group(1) if found else None


@pytest.mark.parametrize(("values", "expected"), [
    ([], ""),
    ([""], ""),
    (["2201", "220102", "220102001"], "220102001"),
    (["2201", "220102", ""], "220102"),
    (["2202", "220102", "220102001"], "2202"),  # a stale lower choice under another city is dropped
    (["220102000000"], "220102"),               # any form of a code: the padded 12-digit form
    (["不是代码", "2201"], "2201"),
])
def test_chosen_keeps_the_deepest_consistent_code(values, expected):
    assert chosen(values) == expected


def test_city_admin_walks_down_to_a_community(world):
    city = world.users["city"]
    top = division_cascade(actor=city, field="community")
    assert [lv.label for lv in top.levels] == ["区县"]
    assert _values(top.levels[0]) == ["", "220102"]

    deep = division_cascade(actor=city, field="community", selected=world.c2.code)
    assert [lv.label for lv in deep.levels] == ["区县", "街道/乡镇", "社区"]
    assert deep.selected == world.c2.code
    assert [_selected(lv) for lv in deep.levels] == ["220102", "220102001", world.c2.code]
    # A lower level's "全部" keeps the level above: choosing it chooses the parent.
    assert _values(deep.levels[2])[0] == "220102001"
    assert set(_values(deep.levels[2])[1:]) == {world.c1.code, world.c2.code}


def test_outside_choice_counts_as_nothing_chosen(world):
    street = world.users["street"]
    cascade = division_cascade(actor=street, field="community", selected=world.other.code)
    assert cascade.selected == ""
    assert [set(_values(lv)) for lv in cascade.levels] == [{"", world.c1.code, world.c2.code}]


def test_operator_starts_at_the_top_of_the_tree(world):
    cascade = division_cascade(actor=system_actor("command"), field="community", selected=world.c3.code)
    assert _values(cascade.levels[0])[1:] == ["22"]
    assert cascade.selected == world.c3.code
    assert len(cascade.levels) == 5  # 省 → 市 → 区县 → 街道 → 社区


def test_several_roots_are_the_first_level(db):
    a = factories.community("220102001001", "东风社区")
    b = factories.community("220202001001", "吉林测试社区")
    user = factories.user("two", "street_admin", "220102001")
    grant_add(user=user, role="street_admin", scope="220202001", actor=system_actor("command"))
    cascade = division_cascade(actor=user, field="community", selected=b.code)
    assert set(_values(cascade.levels[0])) == {"", "220102001", "220202001"}
    assert [_selected(lv) for lv in cascade.levels] == ["220202001", b.code]
    assert a.code not in str(cascade.levels[1].options)


def test_a_community_admin_gets_no_select(world):
    assert division_cascade(actor=world.users["community"], field="community").levels == []


def test_field_name_is_checked(world):
    with pytest.raises(ValueError):
        division_cascade(actor=world.users["city"], field='x" onmouseover="')


def test_worker_list_filters_by_the_deepest_choice(world):
    """The list's filter form posts every level; the list shows the deepest consistent choice."""
    client = Client()
    client.force_login(world.users["city"])
    resp = client.post("/workers/", {"community": ["2201", "220102", "220102002", ""]})
    assert resp.status_code == 302 and "community=220102002" in resp["Location"]
    body = client.get(resp["Location"]).content.decode()
    assert "王五" in body and "张三" not in body
    # Changed the district without JavaScript: the street left behind from another district is dropped.
    resp = client.post("/workers/", {"community": ["220102", "220202001"]})
    assert "community=220102&" in resp["Location"] + "&"


def test_cascade_fragment_for_htmx(world):
    client = Client()
    client.force_login(world.users["city"])
    resp = client.get("/divisions/cascade/", {"field": "community", "community": "220102001"})
    body = resp.content.decode()
    assert resp.status_code == 200 and body.count("<select") == 3
    assert 'hx-get="/divisions/cascade/?field=community"' in body
