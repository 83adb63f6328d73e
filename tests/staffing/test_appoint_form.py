"""The appointment form (issue 11 point 5 and 8): the post select starts with 请选择岗位 (refused if left)
and is grouped by category in the standard's order; 任职方式 defaults to the post's usual method (data:
post_types.json → PostType.usual_method); the community is chosen with the division cascader."""

from __future__ import annotations

import html
import re

from django.test import Client

from shegong.staffing.forms import AppointForm
from shegong.staffing.models import Appointment, PostType


def client_for(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def _post_select(body: str) -> str:
    start = body.index('<select name="post_type"')
    return body[start:body.index("</select>", start)]


def test_post_select_has_a_placeholder_and_groups_in_the_standards_order(world):
    body = html.unescape(client_for(world, "community").get(f"/workers/{world.w1.pk}/appoint/").content.decode())
    select = _post_select(body)
    assert "---------" not in body
    assert re.search(r'<option value="" selected>请选择岗位</option>', select)
    assert re.findall(r'<optgroup label="([^"]+)">', select) == ["党组织", "居委会", "社工岗", "兼任"]
    groups = dict(re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S))
    assert re.findall(r">([^<]+)</option>", groups["社工岗"]) == ["专职党建社工", "普通社工"]
    assert "网格长" in groups["兼任"] and "党组织书记" in groups["党组织"]


def test_a_post_left_at_the_placeholder_is_refused_in_chinese(world):
    resp = client_for(world, "community").post(f"/workers/{world.w1.pk}/appoint/", {
        "post_type": "", "community": world.c1.code, "method": "", "start_date": "2022-03-01"})
    assert resp.status_code == 200
    assert "请选择岗位" in resp.context["form"].errors["post_type"][0]
    assert not Appointment.objects.exists()


def test_every_post_has_a_usual_method_from_the_data(db):
    usual = dict(PostType.objects.values_list("name", "usual_method"))
    assert usual["党组织书记"] == "选举" and usual["居委会主任"] == "选举"
    assert usual["普通社工"] == "聘用" and usual["专职党建社工"] == "聘用"
    assert usual["网格长"] == "兼任" and usual["党群服务中心主任"] == "兼任"
    assert all(usual.values())


def test_method_defaults_to_the_posts_usual_method(world):
    client = client_for(world, "community")
    # The select redraws the 任职方式 select for the chosen post (htmx hx-select of the same page).
    body = client.get(f"/workers/{world.w1.pk}/appoint/?post_type=social_worker").content.decode()
    assert re.search(r'<option value="聘用" selected>', body)
    assert 'hx-select="#id_method"' in body
    # Left blank, the post's usual method is saved.
    for post, expected in (("social_worker", "聘用"), ("grid_leader", "兼任"), ("rc_director", "选举")):
        resp = client.post(f"/workers/{world.w1.pk}/appoint/", {
            "post_type": post, "community": world.c1.code, "method": "", "start_date": "2022-03-01"})
        assert resp.status_code == 302, resp.content.decode()
        assert Appointment.objects.get(worker=world.w1, post_type__code=post).method == expected
    # A method chosen by hand wins.
    resp = client.post(f"/workers/{world.w1.pk}/appoint/", {
        "post_type": "party_deputy_secretary", "community": world.c1.code, "method": "组织指派",
        "start_date": "2022-03-01"})
    assert resp.status_code == 302
    assert Appointment.objects.get(worker=world.w1, post_type__code="party_deputy_secretary").method == "组织指派"


def test_appoint_form_chooses_the_community_with_the_cascader(world):
    street = world.users["street"]
    body = client_for(world, "street").get(f"/workers/{world.w1.pk}/appoint/").content.decode()
    assert 'hx-get="/divisions/cascade/?field=community&amp;action=change&amp;blank=choose&amp;id=id_community"' in body
    assert 'id="id_community"' in body and '<label for="id_community">' in body
    # A street chosen without its community is refused, naming the level.
    form = AppointForm({"post_type": "social_worker", "community": "220102001", "start_date": "2022-03-01"},
                       actor=street)
    assert not form.is_valid()
    assert "请继续选择到社区一级" in form.errors["community"][0]
    # The cascade's values, top-down: the deepest is the community.
    form = AppointForm({"post_type": "social_worker", "community": ["220102001", world.c2.code],
                        "start_date": "2022-03-01"}, actor=street)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["community"] == world.c2.code
