"""What an app declares for the navigation (shegong/<app>/menu.py); shegong.web builds the menu from
every app's declarations (shegong/web/navigation.py). Here only the shape: common imports no app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class MenuEntry:
    """One entry of the side navigation.

    label      — shown text (gettext_lazy, Chinese first);
    url_name   — where it leads ("people:worker_index"); `url_args(request)` gives reverse() arguments;
    weight     — position, ascending, across all apps;
    active_on  — view names ("people:worker_detail") or namespace prefixes ending with ":" ("archives:")
                 on which the entry is shown as the current one; `active_if(request)` narrows that;
    action     — shown to actors holding this action somewhere (shegong.access.may_anywhere), or None
                 for everyone signed in; `visible(request)` decides instead when given;
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
