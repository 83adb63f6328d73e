"""Every error page (issue 11, point 10) — 400, 403, 404, 500 and a failed CSRF check — is Chinese, in the site's
frame, offers the way back (the page the user came from, and the home page) and answers the right status.
The 400 and 500 pages read neither the session nor the database (shegong/web/errors.py).

This module is its own URLconf (pytest.mark.urls): the site's addresses and handlers, plus views that fail."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

from config import urls as site_urls
from shegong.web.errors import back_url, server_error


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an unexpected failure")


def _bad(request: HttpRequest) -> HttpResponse:
    raise BadRequest("malformed")


urlpatterns = [path("test-errors/boom/", _boom), path("test-errors/bad/", _bad), *site_urls.urlpatterns]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500

pytestmark = pytest.mark.urls(__name__)

SITE = "http://testserver"
# Words of Django's own error pages that must never reach a user.
ENGLISH = ("Bad Request", "Server Error", "Forbidden", "Not Found", "CSRF", "Referer", "cookie", "Page not found")


def assert_error_page(response: Any, status: int, *, back: str | None, menu: bool) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert '<html lang="zh-hans">' in body, "the page is not Chinese"
    text = re.sub(r"<[^>]*>", " ", re.sub(r"<head>.*?</head>", "", body, flags=re.S))  # what the user reads
    for word in ENGLISH:
        assert word not in text, f"English leaks into the {status} page: {word!r}"
    h1 = re.search(r"<h1>(.*?)</h1>", body, re.S)
    assert h1 and re.search(r"[\u4e00-\u9fff]", h1.group(1)), "no Chinese heading"
    # The site's frame: the side bar with the brand, the top bar with the breadcrumb to the home page.
    assert 'class="layout"' in body and 'class="sidebar"' in body and 'class="topbar"' in body
    assert "城市社区工作者管理" in body and "/static/shegong/app.css" in body
    nav = re.search(r"<nav\b[^>]*>(.*?)</nav>", body, re.S)
    assert bool(nav and "<a " in nav.group(1)) is menu, "the menu is shown exactly to a signed-in user"
    # The way back: always the home page; the previous page when the browser told us one on this site.
    assert re.search(r'<a class="btn primary" href="/">回到首页</a>', body)
    if back:
        assert f'<a class="btn" href="{back}">返回上一页</a>' in body
    else:
        assert "返回上一页" not in body
    return body


def signed_in(world: Any, role: str = "community", **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(world.users[role])
    return client


# ---- 400 -------------------------------------------------------------------------------------------------------


def test_a_host_that_is_not_allowed_gets_a_chinese_400_without_touching_the_database():
    # No database fixture: a query here would fail the test. The Host is refused before the session is read.
    r = Client().get("/", HTTP_HOST="evil.example", HTTP_REFERER="http://evil.example/x")
    body = assert_error_page(r, 400, back=None, menu=False)
    assert "请求无法处理" in body and "evil.example" not in body


def test_a_bad_request_from_a_view_is_a_chinese_400_with_the_way_back(world):
    r = signed_in(world).get("/test-errors/bad/", HTTP_REFERER=f"{SITE}/workers/")
    assert_error_page(r, 400, back=f"{SITE}/workers/", menu=False)


# ---- 403 / 404 (shegong.web.views; also tests/web/test_web_shell.py) -----------------------------------------------


def test_forbidden_is_a_chinese_403_in_the_frame(world):
    r = signed_in(world, "worker").get(f"/workers/{world.w1.pk}/edit/", HTTP_REFERER=f"{SITE}/workers/{world.w1.pk}/")
    assert_error_page(r, 403, back=f"{SITE}/workers/{world.w1.pk}/", menu=True)


def test_not_found_is_a_chinese_404_in_the_frame(world):
    r = signed_in(world).get("/no-such-page/", HTTP_REFERER=f"{SITE}/")
    assert_error_page(r, 404, back=f"{SITE}/", menu=True)


# ---- 500 -------------------------------------------------------------------------------------------------------


def test_a_failing_view_is_a_chinese_500_with_the_way_back(world):
    r = signed_in(world, raise_request_exception=False).get("/test-errors/boom/", HTTP_REFERER=f"{SITE}/archives/")
    body = assert_error_page(r, 500, back=f"{SITE}/archives/", menu=False)
    assert "系统出错了" in body and "an unexpected failure" not in body


class _Unreadable:
    """A session or user that fails when read: the 500 page must not need them (a database that is down)."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the 500 page read {name!r} of the session or the user")


def test_the_500_page_reads_neither_the_session_nor_the_database():
    # No database fixture: pytest-django fails any query.
    request = RequestFactory().get("/workers/", HTTP_REFERER=f"{SITE}/")
    request.session = _Unreadable()  # type: ignore[assignment]
    request.user = _Unreadable()  # type: ignore[assignment]
    r = server_error(request)
    assert_error_page(r, 500, back=f"{SITE}/", menu=False)


def test_the_500_page_answers_even_when_its_template_cannot_render(settings):
    # A static file missing from the manifest makes {% static %} raise: the fixed Chinese text answers instead.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    settings.STATIC_ROOT = "/nonexistent-static-root"
    r = server_error(RequestFactory().get("/"))
    assert r.status_code == 500
    body = r.content.decode()
    assert '<html lang="zh-hans">' in body and "系统出错了" in body and '<a href="/">回到首页</a>' in body


# ---- CSRF -----------------------------------------------------------------------------------------------------


def test_a_form_with_a_stale_token_gets_a_chinese_page_in_the_frame(world):
    client = signed_in(world, enforce_csrf_checks=True)
    client.get("/")  # the CSRF cookie is set; the form below carries a token of another session
    r = client.post("/logout/", {"csrfmiddlewaretoken": "x" * 64}, HTTP_REFERER=f"{SITE}/workers/")
    body = assert_error_page(r, 403, back=f"{SITE}/workers/", menu=True)
    assert "页面已过期" in body and "请返回上一页,刷新后重新提交" in body
    assert world.users["community"].username in body  # still signed in: the menu and the user are shown


def test_a_browser_without_the_cookie_is_told_to_allow_cookies():
    r = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"},
                                               HTTP_REFERER=f"{SITE}/login/")
    body = assert_error_page(r, 403, back=f"{SITE}/login/", menu=False)
    assert "允许本站使用 Cookie" in body


def test_an_htmx_request_with_a_stale_token_gets_the_message_alone(world):
    client = signed_in(world, enforce_csrf_checks=True)
    client.get("/")
    r = client.post(f"/workers/{world.w1.pk}/reveal/phone/", HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN="y" * 64)
    assert r.status_code == 403 and r["Content-Type"].startswith("text/plain")
    assert r.content.decode().startswith("页面已过期")


# ---- the way back is never another site ----------------------------------------------------------------------------


@pytest.mark.parametrize("referer", ["https://evil.example/x", "javascript:alert(1)", "//evil.example/"])
def test_the_way_back_is_never_another_site(referer):
    assert back_url(RequestFactory().get("/x/", HTTP_REFERER=referer)) == ""


def test_the_way_back_is_not_the_failed_page_itself():
    assert back_url(RequestFactory().get("/x/?a=1", HTTP_REFERER=f"{SITE}/x/?a=1")) == ""
    assert back_url(RequestFactory().post("/x/", HTTP_REFERER=f"{SITE}/x/")) == f"{SITE}/x/"
