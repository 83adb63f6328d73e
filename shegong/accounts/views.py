"""The login page. Throttling is django-axes' (shegong/accounts/throttle.py): authenticate() gets the
request, so axes can count the attempt and refuse a locked one; a refused or locking attempt answers the
login page with a Chinese message and the time left, status 429."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from shegong.accounts.forms import LoginForm
from shegong.accounts.throttle import request_lock

BAD_LOGIN = "用户名或密码不正确。"


def _page(request: HttpRequest, form: LoginForm, *, lock_message: str = "", status: int = 200) -> HttpResponse:
    response = render(request, "shegong/login.html", {"form": form, "lock_message": lock_message}, status=status)
    response.shegong_login_page = True  # type: ignore[attr-defined]  # lockout_response keeps it
    return response


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=form.cleaned_data["username"], password=form.cleaned_data["password"])
        if user is not None:
            login(request, user)
            next_url = request.GET.get("next", "")
            if next_url.startswith("/") and not next_url.startswith("//"):
                return redirect(next_url)
            return redirect("web:home")
        if getattr(request, "axes_locked_out", False):
            lock = request_lock(request)
            if getattr(request, "shegong_password_checked", False):
                form.add_error(None, BAD_LOGIN)  # this attempt's password was wrong, and it locked
            message = lock.message() if lock else "登录失败次数过多,请稍后再试。"
            return _page(request, form, lock_message=message, status=429)
        form.add_error(None, BAD_LOGIN)
    return _page(request, form)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: what AxesMiddleware answers for a locked-out request. The login view's own
    page when it made one; otherwise the login page with the lock's message."""
    if original_response is not None and getattr(original_response, "shegong_login_page", False):
        return original_response
    lock = request_lock(request, credentials)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = LoginForm(initial={"username": username})
    message = lock.message() if lock else "登录失败次数过多,请稍后再试。"
    return _page(request, form, lock_message=message, status=429)
