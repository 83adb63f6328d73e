"""people's navigation entries (built into the side menu by shegong.web.navigation).

我的信息 (SELF) is the account's own worker page; 社区工作者 (ADMIN) the list of the others and their
pages. On one's own page only 我的信息 is the current entry."""

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shegong.common.menus import ADMIN, SELF, MenuEntry


def own_worker_id(request: HttpRequest) -> int | None:
    return getattr(request.user, "worker_id", None)


def on_own_page(request: HttpRequest) -> bool:
    match = request.resolver_match
    own = own_worker_id(request)
    return own is not None and match is not None and match.kwargs.get("pk") == own


MENU = [
    MenuEntry(_("我的信息"), "people:worker_detail", 12, audience=SELF, active_on=("people:worker_detail",),
              url_args=lambda request: (own_worker_id(request),), active_if=on_own_page),
    # The appointment form (/workers/<pk>/appoint/) is staffing's page but part of the worker's pages.
    MenuEntry(_("社区工作者"), "people:worker_index", 40, audience=ADMIN,
              active_on=("people:worker_index", "people:worker_detail", "people:worker_new", "people:worker_edit",
                         "staffing:worker_appoint"),
              active_if=lambda request: not on_own_page(request)),
]
