"""staffing's navigation entries (built into the side menu by shegong.web.navigation)."""

from django.utils.translation import gettext_lazy as _

from shegong.common.menus import MenuEntry

MENU = [
    MenuEntry(_("合规检查"), "staffing:compliance", 60, active_on=("staffing:compliance", "staffing:vacancies")),
    MenuEntry(_("岗位说明书"), "staffing:description_index", 70,
              active_on=tuple(f"staffing:description_{n}" for n in (
                  "index", "list", "pdf", "detail", "edit", "publish", "version", "version_pdf"))),
    MenuEntry(_("岗位与职责"), "staffing:post_types", 80, active_on=("staffing:post_types",)),
]
