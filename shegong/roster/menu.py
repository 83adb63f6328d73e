"""roster's navigation entries (built into the side menu by shegong.web.navigation)."""

from django.utils.translation import gettext_lazy as _

from shegong.common.menus import ADMIN, MenuEntry

MENU = [
    MenuEntry(_("花名册导入导出"), "roster:roster_index", 90, audience=ADMIN,
              active_on=("roster:roster_index", "roster:roster_job")),
]
