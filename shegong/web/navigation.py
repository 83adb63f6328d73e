"""The side navigation, built from every app's declared entries (shegong/<app>/menu.py), ordered by
weight; each shown only to whom it declares (an action held anywhere, or its own test)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from shegong.access import may_anywhere
from shegong.archives.menu import MENU as ARCHIVES
from shegong.common.menus import MenuEntry
from shegong.org.menu import MENU as ORG
from shegong.people.menu import MENU as PEOPLE
from shegong.roster.menu import MENU as ROSTER
from shegong.staffing.menu import MENU as STAFFING
from shegong.web.menu import MENU as WEB

ENTRIES: list[MenuEntry] = sorted([*WEB, *ORG, *PEOPLE, *STAFFING, *ARCHIVES, *ROSTER], key=lambda e: e.weight)


@dataclass(frozen=True)
class NavLink:
    label: Any
    url: str
    active: bool
    section: Any


def _visible(entry: MenuEntry, request: HttpRequest) -> bool:
    if entry.visible is not None:
        return entry.visible(request)
    return entry.action is None or may_anywhere(request.user, entry.action)


def _active(entry: MenuEntry, request: HttpRequest) -> bool:
    match = request.resolver_match
    if match is None:
        return False
    name = match.view_name
    hit = any(name == a or (a.endswith(":") and name.startswith(a)) for a in entry.active_on)
    return hit and (entry.active_if is None or entry.active_if(request))


def navigation(request: HttpRequest) -> list[NavLink]:
    links = []
    for entry in ENTRIES:
        if not _visible(entry, request):
            continue
        url = entry.path or reverse(entry.url_name, args=entry.url_args(request) if entry.url_args else ())
        links.append(NavLink(entry.label, url, _active(entry, request), entry.section))
    return links
