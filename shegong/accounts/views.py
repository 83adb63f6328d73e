"""The accounts pages (issue 11, point 7) and the login page.

Everyone signed in: 我的账号 (/accounts/), 修改密码, API 令牌 (made here, shown once), 登录记录 (their own).
Administrators (accounts.authority): 用户管理 — the accounts whose grants all lie inside their own scope at a
rank not above theirs — creating users, granting and removing roles (never above their own), deactivating
and activating, revoking a managed user's tokens, and their sign-ins. An account outside answers 404
(selectors.user_managed); the services decide everything again (scope and rank), the pages only offer.

Login: throttling is django-axes' (shegong/accounts/throttle.py): authenticate() gets the request, so axes
can count the attempt and refuse a locked one; a refused or locking attempt answers the login page with a
Chinese message and the time left, status 429.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from shegong.access import Forbidden, NotVisible
from shegong.accounts import selectors, services
from shegong.accounts.authority import authorities, grantable_roles, is_account_admin, user_roles_text
from shegong.accounts.forms import GrantForm, LoginForm, PasswordChangeForm, TokenCreateForm, UserCreateForm
from shegong.accounts.lists import LOGINS, USERS
from shegong.accounts.models import ApiToken, User
from shegong.accounts.throttle import request_lock
from shegong.common.errors import ApplicationError
from shegong.common.formviews import service_errors, submit
from shegong.common.lists import run_list
from shegong.org.cascade import chosen, division_cascade

BAD_LOGIN = "用户名或密码不正确。"
NOT_ADMIN = "您没有管理用户的权限:用户管理只对有修改权限的管理员开放"


# ---- sign in ---------------------------------------------------------------------------------------------


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


# ---- my account ------------------------------------------------------------------------------------------


def _me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required: a signed-in account
    return user


@login_required
def account_home(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    return render(request, "accounts/account.html", {
        "me": me, "roles": selectors.user_role_names(me), "is_admin": is_account_admin(me),
        "recent": list(selectors.login_events(actor=me).filter(user=me)[:5]),
    })


@login_required
def password_change_view(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            revoked = services.password_change(user=me, old_password=form.cleaned_data["old_password"],
                                               new_password=form.cleaned_data["new_password1"], actor=me)
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            update_session_auth_hash(request, me)  # this session stays signed in; the others end
            note = f";您的 {revoked} 个 API 令牌已随之吊销,请重新创建" if revoked else ""
            messages.success(request, f"密码已修改{note}")
            return redirect("accounts:account")
    return render(request, "accounts/password.html", {"form": form})


def _token_rows(tokens: Any) -> list[tuple[ApiToken, str]]:
    now = timezone.now()
    return [(t, services.token_status(t, now=now)) for t in tokens]


@login_required
def token_index(request: HttpRequest) -> HttpResponse:
    """My tokens; a new token is shown on the answer to the POST that made it, once (never stored)."""
    me = _me(request)
    form = TokenCreateForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and form.is_valid():
        try:
            new_token = services.token_create(user=me, name=form.cleaned_data["name"], days=form.cleaned_data["days"],
                                              actor=me)
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            form = TokenCreateForm()
    response = render(request, "accounts/tokens.html", {
        "form": form, "new_token": new_token, "tokens": _token_rows(selectors.tokens_of(user=me)),
    })
    response["Cache-Control"] = "no-store"  # the page with the token is never kept by a browser or proxy
    return response


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    me = _me(request)
    token = ApiToken.objects.select_related("user").filter(pk=pk).first()
    if token is None or (token.user_id != me.pk and not selectors.users_managed(actor=me).filter(pk=token.user_id)
                         .exists()):
        raise NotVisible()
    services.token_revoke_one(token=token, actor=me)
    messages.success(request, f"令牌 {token.prefix}… 已吊销")
    if token.user_id == me.pk:
        return redirect("accounts:tokens")
    return redirect("accounts:user_detail", pk=token.user_id)


@login_required
def login_index(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    result = run_list(LOGINS, request, selectors.login_events(actor=me))
    if isinstance(result, HttpResponse):  # ?export=xlsx
        return result
    return render(request, "accounts/logins.html", {"list": result, "page": result.page,
                                                    "is_admin": is_account_admin(me)})


# ---- user management (administrators) ---------------------------------------------------------------------


def _admin(request: HttpRequest) -> User:
    me = _me(request)
    if not is_account_admin(me):
        raise Forbidden(NOT_ADMIN)
    return me


@login_required
def user_index(request: HttpRequest) -> HttpResponse:
    me = _admin(request)
    result = run_list(USERS, request, selectors.users_managed(actor=me))
    if isinstance(result, HttpResponse):  # ?export=xlsx
        return result
    return render(request, "accounts/users.html", {"list": result, "page": result.page})


def _errors(form: Any, exc: ApplicationError) -> None:
    """The service's errors next to the form's fields; "worker" is the ID-number field here, and the
    scope (the cascader, not a form field) and the rest go above the form as they are."""
    for field, msgs in exc.errors.items():
        name = "worker_id_number" if field == "worker" else field
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


def _scope(request: HttpRequest, actor: User) -> str:
    """The division chosen in the cascader; its top "全部" means the actor's whole scope when that is one
    division (a street administrator's street), and nothing chosen otherwise."""
    if request.method != "POST":
        return ""
    code = chosen(request.POST.getlist("scope"))
    if code:
        return code
    roots = {a.code for a in authorities(actor)}
    return roots.pop() if len(roots) == 1 else ""


@login_required
def user_new(request: HttpRequest) -> HttpResponse:
    me = _admin(request)
    form = UserCreateForm(request.POST or None, roles=grantable_roles(me))
    scope = _scope(request, me)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def save() -> str:
            if not scope:
                raise ApplicationError("请选择授权范围(区划)", field="scope")
            number = data.get("worker_id_number", "").strip()
            worker = services.worker_for_account(id_number=number, actor=me) if number else None
            services.user_create(username=data["username"], display_name=data["display_name"],
                                 password=data["password"], role=data["role"], scope=scope, worker=worker, actor=me)
            return f"已创建用户 {data['username']}"

        done, form = submit(request, form, save, errors=_errors, to="accounts:users")
        if done is not None:
            return done
    return render(request, "accounts/user_new.html", {
        "form": form, "cascade": division_cascade(actor=me, field="scope", selected=scope),
    })


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    me = _me(request)
    user = selectors.user_managed(actor=me, pk=pk)  # 404 outside (and for whoever manages no account)
    return render(request, "accounts/user.html", {
        "u": user, "grants": list(user.grants.all()), "roles_text": user_roles_text(user),
        "is_self": user.pk == me.pk, "tokens": _token_rows(selectors.tokens_of(user=user)),
        "logins": list(selectors.login_events(actor=me).filter(user=user)[:10]),
        "history": selectors.access_history(user, limit=50),
    })


@login_required
def grant_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    me = _me(request)
    user = selectors.user_managed(actor=me, pk=pk)  # 404 outside (and for whoever manages no account)
    form = GrantForm(request.POST or None, roles=grantable_roles(me))
    scope = _scope(request, me)
    if request.method == "POST" and form.is_valid():
        role = form.cleaned_data["role"]

        def save() -> str:
            if not scope:
                raise ApplicationError("请选择授权范围(区划)", field="scope")
            grant = services.grant_add(user=user, role=role, scope=scope, actor=me)
            return f"已授予 {user.username} {grant.role.name}({grant.division.name})"

        done, form = submit(request, form, save, errors=_errors, to="accounts:user_detail", pk=user.pk)
        if done is not None:
            return done
    return render(request, "accounts/grant_new.html", {
        "u": user, "form": form, "cascade": division_cascade(actor=me, field="scope", selected=scope),
    })


@login_required
@require_POST
def grant_remove_view(request: HttpRequest, pk: int, grant_pk: int) -> HttpResponse:
    me = _me(request)
    user = selectors.user_managed(actor=me, pk=pk)  # 404 outside (and for whoever manages no account)
    grant = next((g for g in user.grants.all() if g.pk == grant_pk), None)
    if grant is None:
        raise NotVisible()
    try:
        services.grant_remove(user=user, role=grant.role.code, scope=grant.division.code, actor=me)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已收回 {user.username} 的 {grant.role.name}({grant.division.name})授权")
    return redirect("accounts:user_detail", pk=user.pk)


@login_required
@require_POST
def user_active_view(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    me = _me(request)
    user = selectors.user_managed(actor=me, pk=pk)  # 404 outside (and for whoever manages no account)
    if active:
        services.user_activate(user=user, actor=me)
        messages.success(request, f"已启用账号 {user.username};原有 API 令牌仍为吊销状态")
    else:
        revoked = services.user_deactivate(user=user, actor=me)
        messages.success(request, f"已停用账号 {user.username}" + (f",吊销 {revoked} 个 API 令牌" if revoked else ""))
    return redirect("accounts:user_detail", pk=user.pk)
