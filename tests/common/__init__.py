"""Tests of shegong.common's shared machinery. The rows are made straight through the ORM (the
machinery reads rows; it must not depend on the services' signatures)."""

from __future__ import annotations

import datetime as dt
import itertools

from shegong.org.models import Division
from shegong.people.models import Worker

_n = itertools.count(1)
LEVELS = {2: "province", 4: "city", 6: "district", 9: "street", 12: "community"}


def division(code: str, households: int | None = None, name: str = "") -> Division:
    """The division and its ancestors."""
    parent = division(code[: max(n for n in LEVELS if n < len(code))]) if len(code) > 2 else None
    obj, _ = Division.objects.get_or_create(code=code, defaults={
        "name": name or f"区划{code}", "level": LEVELS[len(code)], "parent": parent, "households": households})
    return obj


def worker(community: Division, name: str = "", category: str = "专职社区工作者", status: str = "在岗",
           birth_date: dt.date = dt.date(1985, 1, 1)) -> Worker:
    n = next(_n)
    return Worker.objects.create(
        name=name or f"人{n:04d}", id_number_encrypted="not-used-here", id_number_hash=f"hash{n}",
        id_number_masked=f"{community.code[:6]}********{n % 10000:04d}", gender="男", birth_date=birth_date,
        category=category, status=status, community=community)
