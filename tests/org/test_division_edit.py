"""Communities edited in the UI (issue 11 point 14): /divisions/<code>/edit/ for whoever may change the
division; only what was changed is saved, with the reason in the division's history; the community page's
4.1 range follows the new 户数."""

from __future__ import annotations

import html
import re

from django.test import Client

from shegong.org.models import Division


def client_for(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def test_community_admin_edits_households_and_the_quota_follows(world):
    client = client_for(world, "community")
    page = html.unescape(client.get(f"/divisions/{world.c1.code}/").content.decode())
    assert f'href="/divisions/{world.c1.code}/edit/"' in page
    assert "按 2500 户核定 10–15 名(4.1)" in re.sub(r"<[^>]+>", "", page)
    form = client.get(f"/divisions/{world.c1.code}/edit/")
    body = form.content.decode()
    assert '<label for="id_households">' in body and 'id="id_households"' in body
    resp = client.post(f"/divisions/{world.c1.code}/edit/", {
        "name": "东风社区", "households": "4000", "resident_population": "9800", "party_org_type": "党委",
        "address": "", "reason": "核实户数"})
    assert resp.status_code == 302 and resp["Location"] == f"/divisions/{world.c1.code}/"
    c1 = Division.objects.get(pk=world.c1.pk)
    assert (c1.households, c1.resident_population, c1.party_org_type) == (4000, 9800, "党委")
    record = c1.history.order_by("-history_id").first()
    assert record.history_change_reason == "核实户数" and record.history_user_id == world.users["community"].pk
    page = re.sub(r"<[^>]+>", "", html.unescape(client.get(f"/divisions/{world.c1.code}/").content.decode()))
    # 4000 户: 1000 above 3000 → 10 + 1000//500 … 15 + 1000//300
    assert "按 4000 户核定 12–18 名(4.1)" in page
    assert "核实户数" in page  # the reason in the 变更记录


def test_nothing_changed_writes_no_history(world):
    client = client_for(world, "community")
    before = world.c1.history.count()
    resp = client.post(f"/divisions/{world.c1.code}/edit/", {"name": "东风社区", "households": "2500",
                                                            "resident_population": "", "party_org_type": "",
                                                            "address": ""})
    assert resp.status_code == 302
    assert world.c1.history.count() == before


def test_invalid_values_are_refused_in_chinese(world):
    resp = client_for(world, "community").post(f"/divisions/{world.c1.code}/edit/", {
        "name": " ", "households": "-3", "party_org_type": "居委会"})
    assert resp.status_code == 200
    errors = resp.context["form"].errors
    assert set(errors) >= {"name", "households", "party_org_type"}
    assert Division.objects.get(pk=world.c1.pk).households == 2500


def test_a_street_has_no_community_fields(world):
    street = world.c1.parent
    body = client_for(world, "street").get(f"/divisions/{street.code}/edit/").content.decode()
    assert 'name="name"' in body and 'name="households"' not in body


def test_view_only_is_403_and_outside_is_404(world):
    assert client_for(world, "training").get(f"/divisions/{world.c3.code}/edit/").status_code == 403
    assert client_for(world, "street").get(f"/divisions/{world.c3.code}/edit/").status_code == 404
    page = client_for(world, "training").get(f"/divisions/{world.c3.code}/").content.decode()
    assert "/edit/" not in page
