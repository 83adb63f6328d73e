"""shegong.access.can answers in Python when the object's scope path is already loaded (issue 10, the
worker page's change/reveal buttons): the same answer as the database's, and no query for it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shegong.access import can, grant_codes, restrict
from shegong.accounts.models import User
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.staffing.models import Appointment, PostDescription
from tests import factories

ACTIONS = ("view", "change", "reveal")


def fresh(user: User) -> User:
    """A new actor object: no grants and no answers kept from an earlier call."""
    return User.objects.get(pk=user.pk)


def expected(actor: User, action: str, obj) -> bool:
    return restrict(type(obj)._default_manager.all(), actor, action).filter(pk=obj.pk).exists()


@pytest.fixture
def rows(world):
    a1 = factories.appoint(world.w1, "普通社工")
    a_other = factories.appoint(world.w_other, "普通社工")
    return {"workers": [world.w1, world.w2, world.w3, world.w_other], "appointments": [a1, a_other]}


@pytest.mark.parametrize("role", ["province", "city", "street", "community", "training", "worker", "nobody"])
def test_same_answer_with_and_without_the_loaded_path(world, rows, role):
    for action in ACTIONS:
        for w in rows["workers"]:
            truth = expected(fresh(world.users[role]), action, w)
            loaded = Worker.objects.select_related("community").get(pk=w.pk)
            bare = Worker.objects.get(pk=w.pk)  # community not loaded: the query decides
            assert can(fresh(world.users[role]), action, loaded) is truth, (role, action, w.name)
            assert can(fresh(world.users[role]), action, bare) is truth, (role, action, w.name)
        for a in rows["appointments"]:
            truth = expected(fresh(world.users[role]), action, a)
            loaded = Appointment.objects.select_related("community").get(pk=a.pk)  # owner "worker": its id
            assert can(fresh(world.users[role]), action, loaded) is truth, (role, action, a.pk)
        for d in (world.c1, world.c3, world.other):
            truth = expected(fresh(world.users[role]), action, d)
            assert can(fresh(world.users[role]), action, Division.objects.get(pk=d.pk)) is truth, (role, action, d)


def test_descriptions_visible_from_below_decided_in_memory_alike(world):
    street = Division.objects.get(code="220102001")
    description = PostDescription(street=street, pk=10**6)  # the rule only reads street.code
    community = fresh(world.users["community"])
    assert grant_codes(community) == ["220102001001"]
    assert can(community, "view", description) is True  # the street above the grant: visible from below
    assert can(fresh(world.users["community"]), "change", description) is False


def test_no_query_when_the_scope_path_is_loaded(world):
    actor = fresh(world.users["street"])
    grant_codes(actor)  # the grants: read once per request by every page anyway
    w1 = Worker.objects.select_related("community").get(pk=world.w1.pk)
    w3 = Worker.objects.select_related("community").get(pk=world.w3.pk)
    with CaptureQueriesContext(connection) as ctx:
        assert can(actor, "change", w1) and can(actor, "reveal", w1)
        assert not can(actor, "change", w3)
    assert len(ctx.captured_queries) == 0


def test_a_deferred_code_falls_back_to_the_query(world):
    actor = fresh(world.users["street"])
    grant_codes(actor)
    w1 = Worker.objects.select_related("community").only("name", "community__name").get(pk=world.w1.pk)
    with CaptureQueriesContext(connection) as ctx:
        assert can(actor, "change", w1)
    assert len(ctx.captured_queries) == 1
