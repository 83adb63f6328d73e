"""Pages run a fixed number of queries (DESIGN habit 9): the count with the small fixture world must
equal the count after many more rows (communities, workers, appointments, history) are added.

MAX_QUERIES records the counts measured when these tests were written (signed in as the city
civil-affairs admin, session and user loading included); a page may get cheaper, never dearer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shegong.access import system_actor
from shegong.org.services import division_update
from shegong.people.services import worker_update
from shegong.staffing.services import appointment_end
from tests import factories

MAX_QUERIES = {
    # Issue 10: the signed-in user is read with their grants in one query (accounts/backends.py): one less
    # on every page.
    # Issue 11: the home is an administrator's work desk built from the apps' desk.py — per to-do one count
    # (corrections pending and to carry out, qualifications due, drafts, imports awaiting confirmation), the
    # compliance report (its aggregates, and one lookup of the names of people breaking a holder rule, per
    # 5,000 of them), the
    # team's charts (one aggregate for age/education/gender/party, one for qualifications, the archive
    # roll-up, the density roll-ups) and the scope's top divisions.
    "home": 19,
    "divisions": 5,
    "divisions_search": 4,
    "street": 9,  # + the division's history and its related names
    "community": 11,  # + the compliance card: the aggregate, its other-category correction, the people (issue 4)
    # session, user with grants, count, rows, the cascader's levels (post types from staffing's process cache)
    "workers": 5,
    "workers_filtered": 5,
    "workers_page2": 5,
    "worker": 7,  # + the street's published post descriptions (issue 4, 8.1.1.2); history names from the rows loaded, can() in memory (issue 10)
}

POSTS = ["党组织书记", "居委会主任", "普通社工", "网格长", "居委会委员", "党组织委员"]


def count_queries(client: Client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return len(ctx.captured_queries), [q["sql"][:160] for q in ctx.captured_queries]


def grow(world, n_workers: int = 40) -> None:
    """Many more rows in scope: new communities in both streets, workers across all communities with
    current and ended appointments, and edits (history rows)."""
    extra = [factories.community(f"22010200100{i}", f"扩充{i}社区") for i in range(3, 8)]
    extra += [factories.community(f"22010200200{i}", f"扩充二{i}社区") for i in range(2, 6)]
    communities = [world.c1, world.c2, world.c3, *extra]
    for i in range(n_workers):
        c = communities[i % len(communities)]
        w = factories.WorkerFactory(name=f"扩充人员{i:02d}", community=c)
        a = factories.appoint(w, POSTS[i % len(POSTS)], start=dt.date(2019, 1, 1))
        if i % 3 == 0:
            appointment_end(actor=system_actor("command"), appointment=a, end_date=dt.date(2020, 12, 31), end_reason="换届")
            factories.appoint(w, POSTS[(i + 1) % len(POSTS)], start=dt.date(2021, 1, 5))
        if i % 4 == 0:
            worker_update(actor=system_actor("command"), worker=w, education="大专")
    # Outside the city admin's scope as well.
    for i in range(5):
        w = factories.WorkerFactory(name=f"吉林扩充{i}", community=world.other,
                                    id_number=factories.id_number("220202"))
        factories.appoint(w, "普通社工")


def grow_worker(world) -> None:
    """The measured worker itself: more current and ended posts, and several edits."""
    w1 = world.w1
    for post in ("党组织书记", "居委会主任", "网格长"):
        factories.appoint(w1, post, start=dt.date(2018, 1, 1))
    for post in ("居委会委员", "党组织委员"):
        a = factories.appoint(w1, post, start=dt.date(2015, 3, 1))
        appointment_end(actor=system_actor("command"), appointment=a, end_date=dt.date(2017, 12, 31), end_reason="换届")
    factories.appoint(w1, "普通社工", world.c2, start=dt.date(2020, 1, 1))
    for edu in ("大专", "本科", "硕士研究生"):
        worker_update(actor=system_actor("command"), worker=w1, education=edu)


def urls(world) -> dict[str, Callable[[], str]]:
    return {
        "home": lambda: "/",
        "divisions": lambda: "/divisions/",
        "divisions_search": lambda: "/divisions/?q=社区",
        "street": lambda: "/divisions/220102001/",
        "community": lambda: f"/divisions/{world.c1.code}/",
        "workers": lambda: "/workers/",
        "workers_filtered": lambda: ("/workers/?community=220102001&post_type=social_worker"
                                     "&category=专职社区工作者&status=在岗&q=张"),
        "workers_page2": lambda: "/workers/?page=2",
        "worker": lambda: f"/workers/{world.w1.pk}/",
    }


@pytest.fixture
def city_client(world) -> Client:
    client = Client()
    client.force_login(world.users["city"])
    return client


@pytest.mark.parametrize("page", list(MAX_QUERIES))
def test_page_query_count_does_not_grow_with_data(world, city_client, page):
    url = urls(world)[page]()
    factories.appoint(world.w1, "普通社工")  # the worker page shows at least one post and its history
    if page == "home":  # the desk's compliance report names the people breaking a holder rule: have one
        factories.appoint(world.w1, "居委会主任")  # 4.2.2: a 居委会主任 who is not the 党组织书记
    city_client.get(url)  # warm caches that are not per-request (content types, translations)
    small, small_sql = count_queries(city_client, url)
    grow(world)
    large, large_sql = count_queries(city_client, url)
    assert large == small, "\n".join(["small:", *small_sql, "large:", *large_sql])
    assert small <= MAX_QUERIES[page], "\n".join(small_sql)


@pytest.mark.parametrize("role", ["province", "street", "community", "training", "worker"])
def test_worker_page_query_count_other_roles(world, role):
    client = Client()
    client.force_login(world.users[role])
    factories.appoint(world.w1, "普通社工")
    url = f"/workers/{world.w1.pk}/"
    client.get(url)
    small, small_sql = count_queries(client, url)
    grow(world)
    large, large_sql = count_queries(client, url)
    assert large == small, "\n".join(["small:", *small_sql, "large:", *large_sql])


def test_worker_page_query_count_does_not_grow_with_own_posts_and_history(world, city_client):
    """A detail page loads in a fixed number of queries however many posts and edits the worker has."""
    factories.appoint(world.w1, "普通社工")
    url = f"/workers/{world.w1.pk}/"
    city_client.get(url)
    small, small_sql = count_queries(city_client, url)
    grow_worker(world)
    large, large_sql = count_queries(city_client, url)
    resp = city_client.get(url)
    assert len(resp.context["current"]) == 5 and len(resp.context["past"]) == 2
    assert large == small, "\n".join(["small:", *small_sql, "large:", *large_sql])


def test_community_page_query_count_does_not_grow_with_posts(world, city_client):
    url = f"/divisions/{world.c1.code}/"
    city_client.get(url)
    small, small_sql = count_queries(city_client, url)
    for i, post in enumerate(POSTS):
        w = factories.WorkerFactory(name=f"社区扩充{i}", community=world.c1)
        factories.appoint(w, post)
    division_update(actor=system_actor("command"), division=world.c1, households=3000)
    division_update(actor=system_actor("command"), division=world.c1, address="长春市南关区")
    large, large_sql = count_queries(city_client, url)
    assert large == small, "\n".join(["small:", *small_sql, "large:", *large_sql])


def test_workers_list_is_paginated(world, city_client):
    grow(world)
    resp = city_client.get("/workers/")
    assert len(resp.context["page"].object_list) == 43  # one page of the default 50
    assert resp.context["page"].paginator.count == 43  # 3 in the world + 40 added; 吉林 is outside
    first = city_client.get("/workers/?per_page=25")
    assert len(first.context["page"].object_list) == 25
    second = city_client.get("/workers/?per_page=25&page=2")
    assert len(second.context["page"].object_list) == 18
