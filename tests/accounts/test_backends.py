"""The sign-in backend reads the signed-in user with their grants in one query (accounts/backends.py),
and a grant taken away is gone at the next request."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shegong.access import grant_codes, system_actor
from shegong.accounts.backends import UserWithGrantsBackend
from shegong.accounts.services import grant_remove, user_deactivate


def test_user_and_grants_in_one_query(world):
    city = world.users["city"]
    with CaptureQueriesContext(connection) as ctx:
        user = UserWithGrantsBackend().get_user(city.pk)
        codes = grant_codes(user, "view")
    assert user == city and codes == ["2201"]
    assert len(ctx.captured_queries) == 1


def test_user_without_grants(world):
    nobody = world.users["nobody"]
    user = UserWithGrantsBackend().get_user(nobody.pk)
    assert user == nobody and grant_codes(user, "view") == []
    assert UserWithGrantsBackend().get_user(999_999) is None


def test_inactive_user_is_not_signed_in(world):
    street = world.users["street"]
    user_deactivate(user=street, actor=system_actor("command"))
    assert UserWithGrantsBackend().get_user(street.pk) is None


def test_a_removed_grant_takes_effect_at_the_next_request(world):
    client = Client()
    client.force_login(world.users["street"])
    assert "李四" in client.get("/workers/").content.decode()
    grant_remove(user=world.users["street"], role="street_admin", scope="220102001", actor=system_actor("command"))
    assert "李四" not in client.get("/workers/").content.decode()
