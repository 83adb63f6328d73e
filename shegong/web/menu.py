"""The shell's navigation entries: home and the API documentation."""

from django.utils.translation import gettext_lazy as _

from shegong.common.menus import ADMIN, ALL, MenuEntry

MENU = [
    MenuEntry(_("首页"), "web:home", 10, active_on=("web:home",), audience=ALL),
    # The API (Swagger, in English) is for administrators who keep data through it: those holding
    # `change` over a division subtree (the operator included). A worker, and a view-only training
    # admin, have no use for it; an API token is issued to such an administrator (`shegong token`).
    # Deciding by a held token would cost a query on every page; the grant is already loaded.
    MenuEntry(_("API 文档"), "", 1000, audience=ADMIN, action="change", section=_("接口"), path="/api/v1/docs"),
]
