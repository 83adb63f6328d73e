"""staffing's navigation entries (built into the side menu by shegong.web.navigation)."""

from django.utils.translation import gettext_lazy as _

from shegong.common.menus import ADMIN, ALL, SELF, MenuEntry

MENU = [
    # One's own posts are listed on one's own worker page (现任岗位, 历任岗位).
    MenuEntry(_("我的岗位"), "people:worker_detail", 14, audience=SELF, fragment="posts",
              url_args=lambda request: (getattr(request.user, "worker_id", None),)),
    MenuEntry(_("合规检查"), "staffing:compliance", 60, audience=ADMIN,
              active_on=("staffing:compliance", "staffing:vacancies")),
    MenuEntry(_("岗位说明书"), "staffing:description_index", 70, audience=ADMIN,
              active_on=tuple(f"staffing:description_{n}" for n in (
                  "index", "list", "pdf", "detail", "edit", "publish", "version", "version_pdf"))),
    # The standard's posts and duties (clauses 4-6): reference text, for everyone signed in.
    MenuEntry(_("岗位与职责"), "staffing:post_types", 80, audience=ALL, active_on=("staffing:post_types",)),
]
