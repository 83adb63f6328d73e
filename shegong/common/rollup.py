"""One roll-up by division for every per-division summary (issue 10, point 5).

A division's code is a prefix of every code below it (22 → 2201 → 220102 → 220102001 → 220102001001),
so "per child division of P" is "grouped by the first n characters of the row's division code", with n
the children's code length. One grouped query, the same SQL on SQLite and PostgreSQL:

    rollup(Worker.objects.restrict(actor, "view").filter(status="在岗"), "community__code",
           parent="220102", total=Count("id"), public=Count("id", filter=Q(category="公益性岗位")))
    → {"220102001": {"total": 812, "public": 40}, "220102002": {...}, ...}

`rollup_children` does the same for a list of divisions that may lie at several levels (the roots of a
user's grants) and fills the children without rows with zeros; `bucket` is the in-memory counterpart
for rows already computed in Python (compliance findings), with the same prefix rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q
from django.db.models.functions import Substr

from shegong.common.divcodes import LEVEL_BY_LENGTH

T = TypeVar("T")
LENGTHS = tuple(sorted(LEVEL_BY_LENGTH))  # 2, 4, 6, 9, 12
CHILD = "rollup_child"  # the annotation's name; not a model field name anywhere


def child_length(parent: str) -> int:
    """The code length of `parent`'s children: 22 → 4, 220102 → 9, 220102001 → 12 ("" → 2, provinces)."""
    for n in LENGTHS:
        if n > len(parent):
            return n
    raise ValueError(f"区划代码“{parent}”已是社区一级,没有下级区划")


def rollup(queryset: models.QuerySet[Any], code_path: str, *, parent: str = "", length: int | None = None,
           **aggregates: Any) -> dict[str, dict[str, Any]]:
    """Per child division of `parent` (children of code length `length`, default the next level), the
    aggregates over `queryset`'s rows whose division code (at `code_path`) lies below it: one query.
    Children without rows are absent (see `rollup_children` to fill them)."""
    if not aggregates:
        raise ValueError("rollup needs at least one aggregate (Count, Sum, …)")
    n = length if length is not None else child_length(parent)
    qs = queryset.order_by()  # a default ordering would join the GROUP BY and split the groups
    if parent:
        qs = qs.filter(**{f"{code_path}__startswith": parent})
    rows = (qs.annotate(**{CHILD: Substr(code_path, 1, n)}).values(CHILD).annotate(**aggregates)
            .values_list(CHILD, *aggregates))
    keys = list(aggregates)
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in rows}


def rollup_children(queryset: models.QuerySet[Any], code_path: str, children: Sequence[str], *,
                    defaults: dict[str, Any] | None = None, **aggregates: Any) -> dict[str, dict[str, Any]]:
    """For each code in `children` (any levels, e.g. the roots of a user's grants), the aggregates over
    the rows below it, zero (or `defaults`) where there are none: one query per distinct code length."""
    empty = defaults if defaults is not None else dict.fromkeys(aggregates, 0)
    out: dict[str, dict[str, Any]] = {code: dict(empty) for code in children}
    for n in sorted({len(code) for code in children}):
        same = [code for code in children if len(code) == n]
        below = queryset.filter(Q(*[Q(**{f"{code_path}__startswith": code}) for code in same], _connector=Q.OR))
        found = rollup(below, code_path, length=n, **aggregates)
        out.update({child: _filled(values, empty) for child, values in found.items() if child in out})
    return out


def _filled(values: dict[str, Any], empty: dict[str, Any]) -> dict[str, Any]:
    """A Sum over rows that are all NULL is None: read it as the declared empty value."""
    return {k: (v if v is not None else empty.get(k)) for k, v in values.items()}


def bucket(items: Iterable[T], code_of: Callable[[T], str], children: Sequence[str]) -> dict[str, list[T]]:
    """In memory: each item under the child whose code prefixes the item's code (the shortest such
    child when children lie at several levels); items under no child are left out."""
    out: dict[str, list[T]] = {code: [] for code in children}
    lengths = sorted({len(code) for code in children})
    for item in items:
        code = code_of(item)
        for n in lengths:
            entry = out.get(code[:n])
            if entry is not None:
                entry.append(item)
                break
    return out


__all__ = ["CHILD", "LENGTHS", "bucket", "child_length", "rollup", "rollup_children"]
