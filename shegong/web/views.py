"""The shell's pages: home, logout, and the one rendering of "forbidden" (403) and "not found" (404)
for every page. Each app serves its own pages (shegong/<app>/views.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from shegong.access.errors import FORBIDDEN, NOT_VISIBLE
from shegong.accounts.selectors import user_role_names
from shegong.org.selectors import division_roots
from shegong.web import desk
from shegong.web.navigation import is_admin


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """By who is signed in (their grants, as data): an administrator's work desk (to-dos and charts of
    their scope, declared by the apps' desk.py), a worker's own page, or the note that nothing is granted."""
    user = request.user
    context: dict[str, Any] = {"roles": user_role_names(user), "today": timezone.localdate()}
    if is_admin(user, "view"):
        charts = desk.charts(request)
        context |= {"todos": desk.todos(request), "charts": charts,
                    "roots": list(division_roots(actor=user)[:20])}
        return render(request, "shegong/home_desk.html", context)
    return render(request, "shegong/home_own.html", context | {"own": desk.own_page(request)})


# ---- refusals (config/urls.py: handler403, handler404) -------------------------------------------


def _back(request: HttpRequest) -> str:
    """The page the user came from, when it is on this site and is not the refused page itself."""
    referer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure())
    return referer if safe and referer != request.build_absolute_uri() else ""


def _message(exception: Exception | None, default: str) -> str:
    message = getattr(exception, "message", None)
    if isinstance(message, str) and message:
        return message
    args = getattr(exception, "args", ())
    # Django's own 404 (no URL matched) carries a dict; only a plain message is shown to the user.
    return args[0] if args and isinstance(args[0], str) and args[0] else default


def _refusal(request: HttpRequest, template: str, message: str, status: int) -> HttpResponse:
    if request.headers.get("HX-Request"):  # htmx swaps the answer into the page: the message alone
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    return render(request, template, {"message": message, "back": _back(request)}, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _refusal(request, "403.html", _message(exception, FORBIDDEN), 403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _refusal(request, "404.html", _message(exception, NOT_VISIBLE), 404)
