"""archives' navigation entries (built into the side menu by shegong.web.navigation).

我的档案 (SELF) is the account's own archive; 人事档案 (ADMIN) the archives of the others, the audit, the
correction requests and the pages of records and decisions. A worker's account sees only 我的档案 (the two
never lead to the same page); an administrator on the roster sees both, and which is current depends on
whose archive is open.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shegong.common.menus import ADMIN, SELF, MenuEntry

OWN_PAGES = ("archives:archive_detail", "archives:archive_access_log", "archives:archive_correction_new")


def _worker_id(request: HttpRequest) -> Any:
    return getattr(request.user, "worker_id", None)


def _own(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and match.kwargs.get("pk") == _worker_id(request)


def _others(request: HttpRequest) -> bool:
    match = request.resolver_match
    return (not _worker_id(request) or not _own(request)
            or (match is not None and match.view_name in ("archives:archive_record",
                                                          "archives:archive_correction_decide")))


MENU = [
    MenuEntry(_("我的档案"), "archives:archive_detail", 20, active_on=OWN_PAGES, audience=SELF,
              url_args=lambda request: (_worker_id(request),),
              active_if=_own),
    MenuEntry(_("人事档案"), "archives:archive_index", 50, audience=ADMIN, active_on=("archives:",),
              active_if=_others),
]
