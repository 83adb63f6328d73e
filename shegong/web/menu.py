"""The shell's navigation entries: home and the API documentation."""

from django.utils.translation import gettext_lazy as _

from shegong.common.menus import MenuEntry

MENU = [
    MenuEntry(_("首页"), "web:home", 10, active_on=("web:home",), action=None),
    MenuEntry(_("API 文档"), "", 1000, action=None, section=_("接口"), path="/api/v1/docs"),
]
