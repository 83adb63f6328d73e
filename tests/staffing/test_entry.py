"""Rules at entry time (issue 11 point 5): an appointment shows the findings it would add and clear before
it is saved; one that brings about a new compliance error needs a confirmation with a reason, kept in the
appointment's history — on the page and in the API (staffing/entry.py, views.worker_appoint, api)."""

from __future__ import annotations

import datetime as dt
import html

from django.test import Client

from shegong.access import system_actor
from shegong.staffing.compliance import findings_change
from shegong.staffing.entry import appoint_checked
from shegong.staffing.models import Appointment
from tests import factories


def client_for(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def _secretary_form(world, **extra) -> dict[str, str]:
    return {"post_type": "party_secretary", "community": world.c1.code, "method": "选举",
            "start_date": "2022-03-01", **extra}


def _second_secretary(world):
    factories.appoint(world.w1, "党组织书记")
    return factories.WorkerFactory(name="钱七", community=world.c1)


def test_second_secretary_is_refused_without_confirmation_and_shows_the_finding(world):
    peer = _second_secretary(world)
    client = client_for(world, "community")
    resp = client.post(f"/workers/{peer.pk}/appoint/", _secretary_form(world))
    assert resp.status_code == 200
    body = html.unescape(resp.content.decode())
    assert not Appointment.objects.filter(worker=peer).exists()
    assert "新增 1 项合规错误" in body
    table = body[body.index('id="findings"'):]
    assert "新增错误" in table and "4.2.1" in table and "党组织书记" in table
    assert 'name="confirm"' in table and 'name="confirm_reason"' in table
    assert '<th scope="col">' in table
    # A page that needs no confirmation shows no confirm fields.
    plain = client.get(f"/workers/{peer.pk}/appoint/").content.decode()
    assert 'name="confirm"' not in plain


def test_second_secretary_with_confirmation_and_reason_is_kept_with_the_reason_in_history(world):
    peer = _second_secretary(world)
    client = client_for(world, "community")
    resp = client.post(f"/workers/{peer.pk}/appoint/",
                       _secretary_form(world, confirm="on", confirm_reason="换届过渡期,原书记月底离任"))
    assert resp.status_code == 302, resp.content.decode()
    appointment = Appointment.objects.get(worker=peer)
    record = appointment.history.get()
    assert record.history_change_reason.startswith("网页任命;确认新增合规错误(4.2.1):换届过渡期,原书记月底离任")
    assert record.history_user_id == world.users["community"].pk
    page = client.get(f"/workers/{peer.pk}/")
    assert "换届过渡期,原书记月底离任" in html.unescape(page.content.decode())


def test_confirmation_needs_a_reason(world):
    peer = _second_secretary(world)
    resp = client_for(world, "community").post(f"/workers/{peer.pk}/appoint/", _secretary_form(world, confirm="on"))
    assert resp.status_code == 200
    assert "勾选确认时必须填写理由" in html.unescape(resp.content.decode())
    assert not Appointment.objects.filter(worker=peer).exists()


def test_filling_a_vacancy_saves_directly_and_tells_what_it_cleared(world):
    client = client_for(world, "community")
    resp = client.post(f"/workers/{world.w1.pk}/appoint/", _secretary_form(world), follow=True)
    assert resp.redirect_chain and resp.redirect_chain[-1][0] == f"/workers/{world.w1.pk}/"
    notes = [str(m) for m in resp.context["messages"]]
    assert any(n.startswith("已消除合规问题(4.2.1)") and "党组织书记" in n for n in notes), notes
    assert Appointment.objects.get(worker=world.w1).history.get().history_change_reason == "网页任命"


def test_a_step_towards_the_expected_range_needs_no_confirmation(world):
    """The 2nd of 5–7 committee members leaves the committee-size error in place but moves it towards the
    range: not a new error (entering a team one by one must not ask for a confirmation at each step)."""
    factories.appoint(world.w1, "党组织委员")
    peer = factories.WorkerFactory(name="钱七", community=world.c1)
    change = findings_change(change=lambda: factories.appoint(peer, "党组织委员"), scope=world.c1.code)
    assert change.changed and not change.new_errors and not change.adds_errors
    checked = appoint_checked(actor=system_actor("command"), worker=peer, community=world.c1,
                              post_type="党组织委员", method="选举", start_date=dt.date(2022, 1, 5))
    assert checked.appointment.pk


def test_a_step_away_from_the_range_is_a_new_error(world):
    for i in range(7):
        factories.appoint(factories.WorkerFactory(name=f"委员{i}", community=world.c1), "党组织委员")
    extra = factories.WorkerFactory(name="钱七", community=world.c1)
    change = findings_change(change=lambda: factories.appoint(extra, "党组织委员"), scope=world.c1.code)
    assert [f.rule for f in change.new_errors] == ["party_committee_size"]
    factories.appoint(extra, "党组织委员")  # 8: already too many; a 9th is further from 5–7
    one_more = factories.WorkerFactory(name="孙九", community=world.c1)
    change = findings_change(change=lambda: factories.appoint(one_more, "党组织委员"), scope=world.c1.code)
    assert [f.rule for f in change.new_errors] == ["party_committee_size"]


# ---- the API --------------------------------------------------------------------------------------------


def _body(world, worker, **extra):
    return {"worker_id": worker.pk, "community": world.c1.code, "post_type": "书记", "method": "选举",
            "start_date": "2022-03-01", **extra}


def test_api_answers_409_with_the_new_errors_unless_confirmed(world, api):
    peer = _second_secretary(world)
    client = api(world.users["street"])
    resp = client.post("/api/v1/appointments", _body(world, peer), content_type="application/json")
    assert resp.status_code == 409, resp.content.decode()
    out = resp.json()
    assert out["field"] == "confirm" and "合规错误" in out["message"]
    assert [(f["clause"], f["rule"], f["level"]) for f in out["new_errors"]] == [("4.2.1", "party_secretary", "error")]
    assert not Appointment.objects.filter(worker=peer).exists()

    resp = client.post("/api/v1/appointments", _body(world, peer, confirm=True), content_type="application/json")
    assert resp.status_code == 400 and resp.json()["field"] == "confirm_reason"
    assert not Appointment.objects.filter(worker=peer).exists()

    resp = client.post("/api/v1/appointments", _body(world, peer, confirm=True, confirm_reason="上级党组织指派,待选举"),
                       content_type="application/json")
    assert resp.status_code == 201, resp.content.decode()
    row = Appointment.objects.get(pk=resp.json()["id"])
    assert row.history.get().history_change_reason == "API 任命;确认新增合规错误(4.2.1):上级党组织指派,待选举"


def test_api_appointment_without_new_errors_is_created_at_once(world, api):
    resp = api(world.users["street"]).post("/api/v1/appointments", _body(world, world.w1),
                                           content_type="application/json")
    assert resp.status_code == 201


# ---- ending a post ----------------------------------------------------------------------------------------


def test_end_page_shows_the_vacancy_it_would_leave_and_the_end_is_recorded(world):
    appointment = factories.appoint(world.w1, "党组织书记")
    client = client_for(world, "community")
    page = html.unescape(client.get(f"/appointments/{appointment.pk}/end/").content.decode())
    preview = page[page.index('id="findings"'):]
    assert "新增错误" in preview and "4.2.1" in preview and "党组织书记" in preview
    resp = client.post(f"/appointments/{appointment.pk}/end/", {"end_date": "2024-06-30", "end_reason": "调任"},
                       follow=True)
    assert resp.redirect_chain
    notes = [str(m) for m in resp.context["messages"]]
    assert any(n.startswith("新增合规错误(4.2.1)") for n in notes), notes
    appointment.refresh_from_db()
    assert str(appointment.end_date) == "2024-06-30"


def test_api_end_with_a_reason_keeps_it_in_history(world, api):
    appointment = factories.appoint(world.w1, "党组织书记")
    resp = api(world.users["street"]).post(f"/api/v1/appointments/{appointment.pk}/end",
                                           {"end_date": "2024-06-30", "confirm_reason": "调任,月内补选"},
                                           content_type="application/json")
    assert resp.status_code == 200, resp.content.decode()
    latest = appointment.history.order_by("-history_id").first()
    assert latest.history_change_reason == "API 离任;确认新增合规错误(4.2.1):调任,月内补选"
