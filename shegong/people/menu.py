"""people's navigation entries (built into the side menu by shegong.web.navigation)."""

from django.utils.translation import gettext_lazy as _

from shegong.common.menus import MenuEntry

MENU = [
    # The appointment form (/workers/<pk>/appoint/) is staffing's page but part of the worker's pages.
    MenuEntry(_("社区工作者"), "people:worker_index", 40,
              active_on=("people:worker_index", "people:worker_detail", "people:worker_new", "people:worker_edit",
                         "staffing:worker_appoint")),
]
