"""The error pages that are not refusals (issue 11, point 10): a bad request (400), a server error (500) and
a failed CSRF check — Chinese, in the site's frame, with the way back. (403 and 404 are shegong.web.views.)

config/urls.py names bad_request and server_error as handler400 / handler500; config/settings.py names
csrf_failure as CSRF_FAILURE_VIEW.

The 400 and 500 pages do not touch the database or the session: a 400 may come from a request whose Host is
not allowed (before the session and the user are read), and a 500 may come from a database that is down. They
render a plain frame (`_error_frame.html`: the brand and the top bar, no menu) without the request's context
processors, and if even that fails they answer a fixed Chinese text. The CSRF page is a whole page with the
menu: that request got through the session and the sign-in, and only its form token was wrong.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware import csrf
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

# What the user reads when the template itself cannot be rendered (a static file missing from the manifest,
# a broken installation): the same words, no frame.
_FALLBACK = ('<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><title>{title} · 社工</title></head>'
             '<body><h1>{title}</h1><p>{message}</p><p><a href="/">回到首页</a></p></body></html>')


def _hosts(request: HttpRequest) -> set[str]:
    """This site's host names for checking the Referer: the request's own host when it is allowed, else the
    literal names in ALLOWED_HOSTS (a 400 for a bad Host must not ask for the host again)."""
    hosts = {h for h in settings.ALLOWED_HOSTS if h and not h.startswith(".") and h != "*"}
    with contextlib.suppress(Exception):  # DisallowedHost and anything else: the literal names only
        hosts.add(request.get_host())
    return hosts


def back_url(request: HttpRequest) -> str:
    """The page the user came from, when it is on this site and is not the failed page itself."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer or not url_has_allowed_host_and_scheme(referer, allowed_hosts=_hosts(request)):
        return ""
    parts = urlsplit(referer)
    same_page = (parts.path + (f"?{parts.query}" if parts.query else "")) == request.get_full_path()
    return "" if same_page and request.method == "GET" else referer


def _plain(request: HttpRequest, template: str, status: int, title: str, message: str) -> HttpResponse:
    """Render the plain frame without context processors (no session, no user, no database)."""
    back = ""
    try:
        back = back_url(request)
        body = loader.get_template(template).render({"title": title, "message": message, "back": back})
    except Exception:  # noqa: BLE001 — an error page must answer whatever else is broken
        body = _FALLBACK.format(title=title, message=message)
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _plain(request, "400.html", 400, _("请求无法处理"),
                  _("这个请求的格式或来源不正确,系统无法处理。请从本站页面重新打开;如果是通过书签或别人发来的链接打开的,"
                    "请检查网址。"))


def server_error(request: HttpRequest) -> HttpResponse:
    return _plain(request, "500.html", 500, _("系统出错了"),
                  _("系统处理这个请求时出现了意外错误,错误已记入日志,您填写或提交的内容可能没有保存。请稍后重试;"
                    "如果一再出现,请联系系统管理员并告知出错的时间和页面。"))


def _csrf_message(reason: str) -> str:
    """Django's reason (django.middleware.csrf.REASON_*) → what the user can do about it."""
    if reason == csrf.REASON_NO_CSRF_COOKIE:
        return _("浏览器没有保存本站的安全 Cookie,表单无法提交。请允许本站使用 Cookie,然后返回上一页刷新后重新提交。")
    if reason.startswith(("Origin checking failed", "Referer checking failed")):  # REASON_BAD_ORIGIN, *_REFERER
        return _("无法确认这个表单来自本站(浏览器没有发送来源或来源不是本站),为保护您的账户,提交已被拒绝。"
                 "请在本站页面上重新打开表单并提交。")
    return _("页面已过期(例如您在别处重新登录过,或页面打开太久),为保护您的账户,这次提交没有执行。"
             "请返回上一页,刷新后重新提交。")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    message = _csrf_message(reason)
    if request.headers.get("HX-Request"):  # htmx swaps the answer into the page: the message alone
        return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
    return render(request, "csrf.html", {"message": message, "back": back_url(request)}, status=403)
