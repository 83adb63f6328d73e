"""accounts' navigation entries (built into the side menu by shegong.web.navigation): 我的账号 for everyone
signed in (修改密码, API 令牌, 登录记录 are reached from it), 用户管理 for administrators — an account
holding a grant whose role may change (accounts.authority), never decided by a role's name."""

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shegong.accounts.authority import is_account_admin
from shegong.common.menus import ADMIN, ALL, MenuEntry


def _admin(request: HttpRequest) -> bool:
    return is_account_admin(request.user)


MENU = [
    MenuEntry(_("用户管理"), "accounts:users", 900, section=_("账号"), audience=ADMIN, action="change", visible=_admin,
              active_on=("accounts:users", "accounts:user_new", "accounts:user_detail", "accounts:grant_new")),
    MenuEntry(_("我的账号"), "accounts:account", 910, audience=ALL,
              active_on=("accounts:account", "accounts:password", "accounts:tokens", "accounts:logins")),
]
