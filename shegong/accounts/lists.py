"""The accounts lists, declared once each (shegong.common.lists): the page and its workbook
(?export=xlsx). No personal data beyond the account itself: user name, name, roles, the sign-in rows."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from shegong.accounts.authority import user_roles_text
from shegong.accounts.filters import LoginEventFilter, UserFilter
from shegong.accounts.models import LoginEvent, User
from shegong.common.lists import Column, Exporter, ListDeclaration


def _active(u: User) -> str:
    return "在用" if u.is_active else "已停用"


def _active_tag(u: User) -> Any:
    return format_html('<span class="tag{}">{}</span>', " green" if u.is_active else "", _active(u))


def _seconds(row: LoginEvent) -> str:
    return timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M:%S")


RESULT_TAGS: dict[str, str] = {LoginEvent.Result.SUCCESS: " green", LoginEvent.Result.LOCKED: " amber"}


def _result_tag(row: LoginEvent) -> Any:
    return format_html('<span class="tag{}">{}</span>', RESULT_TAGS.get(row.result, " red"), row.get_result_display())


USERS = ListDeclaration(
    name="users", model=User, filterset=UserFilter,
    columns=[
        Column("username", "用户名", sortable=True, css="mono",
               href=lambda u: reverse("accounts:user_detail", args=[u.pk])),
        Column("display_name", "姓名", value=lambda u: u.display_name or "—", sortable=True,
               order_by=("display_name",)),
        Column("roles", "角色与范围", value=user_roles_text),
        Column("active", "状态", value=_active, html=_active_tag, sortable=True, order_by=("-is_active",)),
        Column("last_login", "最近登录", sortable=True, order_by=("last_login",)),
        Column("date_joined", "创建时间", sortable=True, order_by=("date_joined",)),
    ],
    ordering=("username",),
    page_sizes=(25, 50, 100), page_size=50,
    export=Exporter(sheet="用户", filename="用户.xlsx"),
)


LOGINS = ListDeclaration(
    name="logins", model=LoginEvent, filterset=LoginEventFilter,
    columns=[
        Column("at", "时间", value=_seconds, sortable=True, order_by=("at",)),
        Column("username", "用户名", sortable=True, css="mono"),
        Column("user", "姓名", value=lambda r: (r.user.display_name or "—") if r.user_id else "—"),
        Column("result", "结果", value=lambda r: r.get_result_display(), html=_result_tag, sortable=True,
               order_by=("result",)),
        Column("ip", "IP 地址", value=lambda r: r.ip or "—", css="mono"),
        Column("user_agent", "浏览器", value=lambda r: r.user_agent or "—"),
    ],
    ordering=("-at", "-id"),
    page_sizes=(25, 50, 100), page_size=50,
    export=Exporter(sheet="登录记录", filename="登录记录.xlsx"),
)
