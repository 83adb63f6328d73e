"""Rules at entry time (issue 11 point 5): what a change would do to the compliance findings, found by
making it in a savepoint and rolling it back (staffing.compliance.findings_change)."""

from __future__ import annotations

import pytest

from shegong.access import system_actor
from shegong.common.errors import ApplicationError
from shegong.staffing.compliance import evaluate, findings_change
from shegong.staffing.models import Appointment
from shegong.staffing.services import appointment_create
from tests import factories


def _appoint(worker, post, community=None):
    return lambda: appointment_create(actor=system_actor("command"), worker=worker,
                                      community=community or worker.community, post_type=post, method="选举",
                                      start_date=factories.dt.date(2022, 1, 5))


def test_a_second_secretary_adds_an_error_and_nothing_is_kept(world):
    factories.appoint(world.w1, "党组织书记")
    peer = factories.WorkerFactory(name="钱七", community=world.c1)
    count = Appointment.objects.count()
    before = evaluate(scope=world.c1.code).findings

    change = findings_change(change=_appoint(peer, "党组织书记"), scope=world.c1.code)

    assert change.adds_errors
    assert any("党组织书记" in f.message and f.level == "error" for f in change.added)
    assert Appointment.objects.count() == count  # rolled back
    assert evaluate(scope=world.c1.code).findings == before


def test_filling_a_vacancy_clears_a_finding(world):
    change = findings_change(change=_appoint(world.w1, "党组织书记"), scope=world.c1.code)
    assert any("书记" in f.message for f in change.cleared)
    assert all("书记" not in f.message or "委员" in f.message for f in change.added)


def test_a_change_that_fails_validation_raises_and_keeps_nothing(world):
    count = Appointment.objects.count()
    with pytest.raises(ApplicationError):
        findings_change(change=_appoint(world.w1, "不存在的岗位"), scope=world.c1.code)
    assert Appointment.objects.count() == count
