"""The one roll-up by division (shegong.common.rollup): one grouped query by code prefix, the same answer
on SQLite and PostgreSQL, for counts, sums and conditional counts, at any level."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext

from shegong.common.rollup import bucket, child_length, rollup, rollup_children
from shegong.org.models import Division
from shegong.people.models import Worker
from tests.common import division, worker


@pytest.fixture
def tree(db):
    c1 = division("220102001001", 100)
    c2 = division("220102001002", 250)
    c3 = division("220102002001", 40)
    c4 = division("220202001001", None)  # another city; households unknown
    for c, n in ((c1, 3), (c2, 2), (c3, 1), (c4, 4)):
        for _ in range(n):
            worker(c)
    worker(c1, category="公益性岗位")
    worker(c2, status="离岗")
    return c1, c2, c3, c4


def test_child_length():
    assert [child_length(p) for p in ("", "22", "2201", "220102", "220102001")] == [2, 4, 6, 9, 12]
    with pytest.raises(ValueError, match="没有下级区划"):
        child_length("220102001001")


def test_counts_per_child_in_one_query(tree):
    active = Worker.objects.filter(status="在岗")
    with CaptureQueriesContext(connection) as ctx:
        by_street = rollup(active, "community__code", parent="220102", n=Count("id"),
                           public=Count("id", filter=Q(category="公益性岗位")))
    assert len(ctx.captured_queries) == 1
    assert by_street == {"220102001": {"n": 6, "public": 1}, "220102002": {"n": 1, "public": 0}}
    assert rollup(active, "community__code", parent="22", n=Count("id")) == {"2201": {"n": 7}, "2202": {"n": 4}}
    assert rollup(active, "community__code", n=Count("id")) == {"22": {"n": 11}}  # "" → provinces
    assert rollup(active, "community__code", parent="220102001", n=Count("id")) == {
        "220102001001": {"n": 4}, "220102001002": {"n": 2}}


def test_default_ordering_does_not_split_groups(tree):
    """Worker's Meta.ordering (community, name, id) would join the GROUP BY; the helper drops it."""
    qs = Worker.objects.all().order_by("name")
    assert rollup(qs, "community__code", parent="2201", n=Count("id")) == {"220102": {"n": 8}}


def test_sum_over_divisions_themselves(tree):
    communities = Division.objects.filter(level="community")
    got = rollup(communities, "code", parent="22", communities=Count("id"), households=Sum("households"))
    assert got == {"2201": {"communities": 3, "households": 390}, "2202": {"communities": 1, "households": None}}


def test_children_at_several_levels_filled_with_zeros(tree):
    division("220103")  # a district without communities
    with CaptureQueriesContext(connection) as ctx:
        got = rollup_children(Worker.objects.all(), "community__code", ["220102001", "220103", "2202"],
                              n=Count("id"), away=Count("id", filter=Q(status="离岗")))
    assert len(ctx.captured_queries) == 3  # one per code length
    assert got == {"220102001": {"n": 7, "away": 1}, "220103": {"n": 0, "away": 0}, "2202": {"n": 4, "away": 0}}
    sums = rollup_children(Division.objects.filter(level="community"), "code", ["2201", "2202"],
                           households=Sum("households"))
    assert sums == {"2201": {"households": 390}, "2202": {"households": 0}}


def test_bucket_in_memory_matches_the_query(tree):
    codes = list(Worker.objects.values_list("community__code", flat=True))
    children = ["220102001", "220102002", "2202"]
    in_memory = {k: len(v) for k, v in bucket(codes, lambda c: c, children).items()}
    in_db = rollup_children(Worker.objects.all(), "community__code", children, n=Count("id"))
    assert in_memory == {k: v["n"] for k, v in in_db.items()} == {"220102001": 7, "220102002": 1, "2202": 4}
