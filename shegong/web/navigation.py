"""The side navigation, built from every app's declared entries (shegong/<app>/menu.py), ordered by
weight; each shown to its audience (shegong/common/menus.py): ADMIN entries to holders of the entry's
action through a grant over a division subtree, SELF entries to an account linked to a worker record, ALL
entries to everyone signed in. Who is who is read from the actor's grants (data), never from a role name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from shegong.access import is_operator
from shegong.access.scope import grant_scopes
from shegong.accounts.menu import MENU as ACCOUNTS
from shegong.archives.menu import MENU as ARCHIVES
from shegong.common.menus import ADMIN, ALL, SELF, MenuEntry
from shegong.org.menu import MENU as ORG
from shegong.people.menu import MENU as PEOPLE
from shegong.roster.menu import MENU as ROSTER
from shegong.staffing.menu import MENU as STAFFING
from shegong.web.menu import MENU as WEB

ENTRIES: list[MenuEntry] = sorted([*WEB, *ORG, *ACCOUNTS, *PEOPLE, *STAFFING, *ARCHIVES, *ROSTER],
                                  key=lambda e: e.weight)


def admin_actions(actor: Any) -> set[str]:
    """The actions the actor holds over a division subtree (grants that are not self-only); every action
    for the operator. Empty for a worker's own account: its grants are all self-only."""
    if is_operator(actor):
        return {"view", "change", "reveal"}
    return {a for g in grant_scopes(actor) if not g.self_only for a in g.actions}


def is_admin(actor: Any, action: str | None = None) -> bool:
    held = admin_actions(actor)
    return bool(held) if action is None else action in held


def has_own_record(actor: Any) -> bool:
    return bool(getattr(actor, "worker_id", None))


def shown(audience: str, action: str | None, actor: Any) -> bool:
    if audience == ALL:
        return bool(getattr(actor, "is_authenticated", False))
    if audience == SELF:
        return has_own_record(actor)
    if audience == ADMIN:
        return is_admin(actor, action)
    return False


@dataclass(frozen=True)
class NavLink:
    label: Any
    url: str
    active: bool
    section: Any


def _visible(entry: MenuEntry, request: HttpRequest) -> bool:
    if not shown(entry.audience, entry.action, request.user):
        return False
    return entry.visible is None or entry.visible(request)


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
        if entry.fragment:
            url = f"{url}#{entry.fragment}"
        links.append(NavLink(entry.label, url, _active(entry, request), entry.section))
    return links


__all__ = ["ADMIN", "ALL", "SELF", "ENTRIES", "NavLink", "admin_actions", "has_own_record", "is_admin", "navigation",
           "shown"]
