"""shegong.access on real rows: the one answer to "may this actor do this here?" (issue 10).

restrict / can / require / get_scoped against the conftest world (a province, a city, a street, a
community admin, a training admin who may only view, a worker with a self-only grant, a user without any
grant), the self-only rule after a transfer, descriptions visible from below, system actors, and None
refused both by the type (a required keyword-only parameter) and at run time.
"""

from __future__ import annotations

import datetime as dt
import inspect

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from shegong.access import (
    Forbidden,
    NotVisible,
    SystemActor,
    can,
    can_at,
    get_scoped,
    grant_codes,
    is_operator,
    require,
    require_operator,
    require_self_or_operator,
    restrict,
    scope_roots,
    system_actor,
)
from shegong.archives import services as archive_services
from shegong.archives.models import ArchiveRecord
from shegong.org import services as org_services
from shegong.org.models import Division
from shegong.people import services as people_services
from shegong.people.models import Worker
from shegong.people.services import worker_create, worker_update
from shegong.staffing import services as staffing_services
from shegong.staffing.descriptions import description_current, description_draft_save, description_streets
from shegong.staffing.models import Appointment, PostDescription
from tests import factories


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


# ---- restrict: a grant covers its subtree; no grant, nothing ----------------------------------------------


@pytest.mark.parametrize(("role", "expected"), [
    ("province", {"张三", "李四", "王五", "赵六"}),
    ("city", {"张三", "李四", "王五"}),
    ("street", {"张三", "李四"}),
    ("community", {"张三"}),
    ("training", {"张三", "李四", "王五"}),   # view only, but over the whole city
    ("worker", {"张三"}),                     # self-only: their own record
    ("nobody", set()),                        # no grant: nothing (scope fails closed)
])
def test_restrict_view_follows_the_grants_subtree(world, role, expected):
    assert names(restrict(Worker.objects.all(), world.users[role], "view")) == expected
    # the manager method is the same decision
    assert names(Worker.objects.restrict(world.users[role], "view")) == expected


@pytest.mark.parametrize(("role", "expected"), [
    ("street", {"张三", "李四"}),
    ("training", set()),      # may view, not change
    ("worker", set()),        # the worker role has no change
    ("nobody", set()),
])
def test_restrict_change_needs_the_action(world, role, expected):
    assert names(restrict(Worker.objects.all(), world.users[role], "change")) == expected


def test_restrict_reaches_rows_placed_through_a_path(world):
    record = archive_services.record_create(actor=system_actor("command"), worker=world.w2, archive_class=10,
                                            title="身份证")
    assert list(restrict(ArchiveRecord.objects.all(), world.users["street"], "view")) == [record]
    assert not restrict(ArchiveRecord.objects.all(), world.users["community"], "view").exists()


# ---- can / require -----------------------------------------------------------------------------------------


def test_can_and_require_answer_alike(world):
    street = world.users["street"]
    assert can(street, "change", world.w1) and can(street, "change", world.c2)
    assert not can(street, "change", world.w3)
    require(street, "change", world.w1)
    with pytest.raises(Forbidden, match="不许"):
        require(street, "change", world.w3, message="不许")
    training = world.users["training"]
    assert can(training, "view", world.w3) and not can(training, "change", world.w3)
    # Forbidden is Django's PermissionDenied (403 pages, the API's 403 handler)
    with pytest.raises(PermissionDenied):
        require(training, "change", world.w3)


def test_can_is_answered_once_per_actor_object(world, django_assert_num_queries):
    street = world.users["street"]
    can(street, "view", world.w1)  # loads the grants and answers: at most two queries
    with django_assert_num_queries(0):
        assert can(street, "view", world.w1)


# ---- get_scoped: not found vs forbidden ------------------------------------------------------------------


def test_get_scoped_not_visible_is_not_found_and_visible_but_not_allowed_is_forbidden(world):
    training = world.users["training"]
    assert get_scoped(Worker, training, pk=world.w3.pk) == world.w3
    with pytest.raises(Forbidden, match="只能看"):
        get_scoped(Worker.objects.all(), training, "change", message="只能看", pk=world.w3.pk)
    with pytest.raises(NotVisible) as exc:
        get_scoped(Worker, training, "change", pk=world.w_other.pk)   # outside the city: not there at all
    assert isinstance(exc.value, Http404)
    with pytest.raises(NotVisible):
        get_scoped(Worker, world.users["nobody"], pk=world.w1.pk)
    with pytest.raises(NotVisible):
        get_scoped(Worker, world.users["street"], pk="not a number")
    with pytest.raises(NotVisible):
        get_scoped(Worker, world.users["province"], pk=10 ** 9)


# ---- self-only: one's own rows wherever they now lie ------------------------------------------------------


def test_self_only_covers_own_rows_after_a_transfer(world):
    me = world.users["worker"]
    record = archive_services.record_create(actor=system_actor("command"), worker=world.w1, archive_class=10,
                                            title="照片")
    assert can(me, "view", world.w1) and can(me, "view", record)
    # moved to a community of another street: the old grant's division no longer covers the worker
    archive_services.archive_transfer(actor=system_actor("command"), worker=world.w1, to_community=world.c3,
                                      date=dt.date(2026, 1, 5), reason="调动")
    me = type(me).objects.get(pk=me.pk)   # a new request: a fresh actor object, no remembered answers
    assert names(restrict(Worker.objects.all(), me, "view")) == {"张三"}
    assert restrict(ArchiveRecord.objects.all(), me, "view").get() == record
    assert not can(me, "view", world.w2)          # the old community's other workers: no
    assert not can(me, "change", world.w1)        # own record: view and reveal only


def test_self_only_grant_still_places_rows_that_belong_to_no_one(world):
    """Divisions and a street's descriptions have no owner: a worker's grant covers its community."""
    me = world.users["worker"]
    assert list(restrict(Division.objects.filter(level=Division.Level.COMMUNITY), me, "view")) == [world.c1]


# ---- descriptions: visible from below, changed at or above -------------------------------------------------


def test_descriptions_are_visible_from_below_and_changed_only_at_or_above(world):
    assert PostDescription.scope_visible_from_below
    street = world.c1.parent
    community_admin, street_admin = world.users["community"], world.users["street"]
    assert street in description_streets(actor=community_admin, action="view")
    assert street not in description_streets(actor=community_admin, action="change")
    assert street in description_streets(actor=street_admin, action="change")
    assert description_current(actor=community_admin, street=street, post_type="party_secretary").is_default
    with pytest.raises(Forbidden, match="无权编辑"):
        description_draft_save(actor=community_admin, street=street, post_type="party_secretary",
                               reporting_line="街道党工委", requirements=["x"], assessment=["y"])
    saved = description_draft_save(actor=street_admin, street=street, post_type="party_secretary",
                                   reporting_line="街道党工委", requirements=["x"], assessment=["y"])
    # the stored row is placed the same way: visible from below, changeable only at or above
    assert restrict(PostDescription.objects.all(), community_admin, "view").get() == saved
    assert not restrict(PostDescription.objects.all(), community_admin, "change").exists()
    assert restrict(PostDescription.objects.all(), street_admin, "change").get() == saved
    # another street's community admin sees nothing of it
    other_street = world.c3.parent
    assert other_street not in description_streets(actor=community_admin, action="view")
    with pytest.raises(NotVisible):
        description_current(actor=community_admin, street=other_street, post_type="party_secretary")


# ---- system actors -------------------------------------------------------------------------------------------


def test_system_actor_passes_every_check_and_is_named_in_history(world):
    job = system_actor("job")
    assert isinstance(job, SystemActor) and str(job) == "后台任务"
    assert restrict(Worker.objects.all(), job, "change").count() == Worker.objects.count()
    assert can(job, "change", world.w_other)
    assert grant_codes(job) == []   # not a grant: unlimited by kind, not by a division
    worker_update(actor=job, worker=world.w1, name="张三丰", reason="姓名核对")
    record = world.w1.history.order_by("-history_date", "-history_id").first()
    assert record.history_user_id is None
    assert record.history_change_reason == "后台任务:姓名核对"
    a = factories.appoint(world.w2, "主任")   # the factories act as system_actor("command")
    assert a.history.get().history_change_reason.startswith("命令行:")


def test_a_system_actor_may_not_reveal(world):
    with pytest.raises(Forbidden, match="登录用户"):
        people_services.worker_reveal(worker=world.w1, actor=system_actor("command"), field="id_number")


# ---- None is never an actor ----------------------------------------------------------------------------------


SERVICES = [
    people_services.worker_create, people_services.worker_update, people_services.worker_reveal,
    staffing_services.appointment_create, staffing_services.appointment_end,
    org_services.division_create, org_services.division_update, org_services.division_ensure_ancestors,
    org_services.division_load_reference,
    archive_services.record_create, archive_services.record_update, archive_services.record_void,
    archive_services.attachment_add, archive_services.attachment_download, archive_services.archive_open,
    archive_services.archive_print, archive_services.archive_transfer,
    archive_services.correction_request_create, archive_services.correction_request_decide,
]


@pytest.mark.parametrize("service", SERVICES, ids=lambda f: f.__name__)
def test_actor_is_a_required_keyword_only_parameter(service):
    parameter = inspect.signature(service).parameters["actor"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty
    assert "None" not in str(parameter.annotation)


def test_a_service_called_without_an_actor_raises_type_error(world):
    with pytest.raises(TypeError, match="actor"):
        worker_update(worker=world.w1, education="21")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="actor"):
        staffing_services.appointment_end(appointment=None, end_date=dt.date(2022, 1, 1))  # type: ignore[call-arg, arg-type]


def test_none_as_actor_is_refused_at_run_time(world):
    before = Worker.objects.count()
    with pytest.raises(Forbidden):
        worker_create(actor=None, name="无名", id_number=factories.id_number(), community=world.c1)  # type: ignore[arg-type]
    assert Worker.objects.count() == before
    assert not restrict(Worker.objects.all(), None, "view").exists()
    assert not can(None, "view", world.w1)
    a = factories.appoint(world.w1, "主任")
    with pytest.raises(Forbidden):
        staffing_services.appointment_end(appointment=a, end_date=dt.date(2022, 1, 1), actor=None)  # type: ignore[arg-type]
    assert Appointment.objects.get(pk=a.pk).end_date is None


# ---- the operator, one's own things, rows that are not objects yet -------------------------------------


def test_the_operator_is_a_system_actor_or_a_superuser_and_nobody_else(world, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="Test-pass-2021-root")
    assert is_operator(system_actor("command")) and is_operator(admin)
    for role in ("province", "street", "worker", "nobody"):
        assert not is_operator(world.users[role])
        with pytest.raises(Forbidden, match="只有系统管理员"):
            require_operator(world.users[role], "只有系统管理员可以这样做")
    require_operator(admin, "只有系统管理员可以这样做")


def test_ones_own_things_or_the_operators(world):
    street, community = world.users["street"], world.users["community"]
    require_self_or_operator(street, street.pk, "只能处理自己的")
    require_self_or_operator(system_actor("job"), street.pk, "只能处理自己的")
    with pytest.raises(Forbidden, match="只能处理自己的"):
        require_self_or_operator(community, street.pk, "只能处理自己的")
    with pytest.raises(Forbidden):
        require_self_or_operator(community, None, "只能处理自己的")


@pytest.mark.parametrize(("role", "code", "expected"), [
    ("street", "220102001002", True),      # under the street
    ("street", "220102002001", False),     # the neighbouring street
    ("community", "220102001001", True),
    ("community", "220102001002", False),
    ("training", "220102001001", False),   # view only
    ("worker", "220102001001", False),     # self-only grants never cover a division
    ("nobody", "220102001001", False),
])
def test_can_at_a_code_follows_the_change_grants(world, role, code, expected):
    assert can_at(world.users[role], "change", code) is expected


def test_scope_roots(world):
    assert scope_roots(system_actor("command")) is None
    assert scope_roots(world.users["street"]) == ["220102001"]
    assert scope_roots(world.users["nobody"]) == []
