"""org's navigation entries (built into the side menu by shegong.web.navigation)."""

from django.utils.translation import gettext_lazy as _

from shegong.common.menus import ADMIN, MenuEntry

MENU = [
    MenuEntry(_("区划与社区"), "org:division_index", 30, audience=ADMIN, active_on=("org:",)),
]
