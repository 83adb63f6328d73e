"""What an app declares for the shell (shegong/<app>/menu.py and shegong/<app>/desk.py); shegong.web builds
the side menu (shegong/web/navigation.py) and the administrator's work desk (shegong/web/desk.py) from every
app's declarations. Here only the shapes: common imports no app.

Audiences (who an entry is for; decided from the actor's grants as data, never from a role's name):
  ADMIN — holders of the entry's `action` through a grant over a division subtree (not a self-only grant),
          and the operator (superuser);
  SELF  — an account linked to a worker record: that person's own pages (我的信息, 我的岗位, 我的档案;
          later 我的培训, 我的考核, 我的网格 are entries of this audience in their apps' menu.py);
  ALL   — everyone signed in (首页).
A worker's account holds only self-only grants: it sees the ALL and SELF entries and none of the ADMIN ones.
An administrator who is also on the roster sees both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

ADMIN = "admin"
SELF = "self"
ALL = "all"


@dataclass(frozen=True)
class MenuEntry:
    """One entry of the side navigation.

    label      — shown text (gettext_lazy, Chinese first);
    url_name   — where it leads ("people:worker_index"); `url_args(request)` gives reverse() arguments;
                 `fragment` an anchor on that page ("posts");
    weight     — position, ascending, across all apps;
    active_on  — view names ("people:worker_detail") or namespace prefixes ending with ":" ("archives:")
                 on which the entry is shown as the current one; `active_if(request)` narrows that;
    audience   — ADMIN, SELF or ALL (see the module's docstring);
    action     — for ADMIN entries: the action the actor must hold over a subtree (None: any such grant);
    visible    — a further condition (request → bool), checked after the audience;
    section    — a heading shown before the entry (e.g. "接口").
    """

    label: Any
    url_name: str
    weight: int
    active_on: tuple[str, ...] = ()
    action: str | None = "view"
    visible: Callable[[HttpRequest], bool] | None = None
    url_args: Callable[[HttpRequest], tuple[Any, ...]] | None = None
    active_if: Callable[[HttpRequest], bool] | None = None
    section: Any = ""
    path: str = ""  # a literal address instead of url_name (e.g. the API docs served by ninja)
    audience: str = ADMIN
    fragment: str = ""


@dataclass(frozen=True)
class DeskItem:
    """One line of an administrator's work desk: something that needs doing, and the list behind it.

    label   — what needs doing ("待处理的更正申请");
    weight  — position, ascending, across all apps;
    count   — request → how many (one query over the actor's scope, whatever its size);
    href    — request → the address of the filtered list that shows exactly those rows;
    action  — shown to holders of this action over a subtree (the ADMIN audience);
    hint    — a short note (the clause of the standard, the warning window …).
    A count of zero is not shown.
    """

    label: Any
    weight: int
    count: Callable[[HttpRequest], int]
    href: Callable[[HttpRequest], str]
    action: str = "change"
    hint: Any = ""


@dataclass(frozen=True)
class Bar:
    """One bar (or slice) of a chart and the list behind it."""

    label: str
    value: float
    href: str = ""


@dataclass(frozen=True)
class Chart:
    """A chart of the team in the actor's scope. kind: "bar" (vertical), "hbar" (horizontal) or "pie".
    `target` draws a reference line (e.g. the national 18 community workers per 10,000 residents)."""

    key: str
    title: str
    kind: str
    bars: list[Bar]
    unit: str = "人"
    note: str = ""
    target: float | None = None
    target_label: str = ""
    total: float | None = None

    def as_data(self) -> dict[str, Any]:
        """What the browser's chart code (static shegong/desk.js) reads from the page's JSON block."""
        return {"key": self.key, "title": self.title, "kind": self.kind, "unit": self.unit,
                "labels": [b.label for b in self.bars], "values": [b.value for b in self.bars],
                "links": [b.href for b in self.bars], "target": self.target, "target_label": self.target_label}

    def json(self) -> str:
        """as_data() as JSON, for the chart element's data-chart attribute (the template escapes it)."""
        return json.dumps(self.as_data(), ensure_ascii=False)


@dataclass(frozen=True)
class DeskCharts:
    """An app's charts for the work desk: `build(request)` returns them (a fixed number of queries,
    usually one aggregate for all of an app's charts); shown to holders of `action` over a subtree."""

    weight: int
    build: Callable[[HttpRequest], list[Chart]]
    action: str = "view"


@dataclass
class RequestMemo:
    """Values computed once per request and shared by several desk declarations (the compliance report
    behind both a to-do and a chart)."""

    values: dict[str, Any] = field(default_factory=dict)


def per_request(request: HttpRequest, key: str, build: Callable[[], Any]) -> Any:
    memo: RequestMemo | None = getattr(request, "_shegong_memo", None)
    if memo is None:
        memo = RequestMemo()
        request._shegong_memo = memo  # type: ignore[attr-defined]
    if key not in memo.values:
        memo.values[key] = build()
    return memo.values[key]
