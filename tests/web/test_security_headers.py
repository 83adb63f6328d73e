"""Browser-security headers and transport settings (issue 9.4, 9.5, 9.14).

* Every authenticated response — page, API JSON, /reveal, xlsx export, PDF — is `private, no-store`;
  anonymous pages and static files keep their caching.
* Content-Security-Policy (scripts from our origin only) and Permissions-Policy on every page, and no
  template has an inline <script> or an on…= handler that the policy would block.
* config/security.py under both environments: without SHEGONG_HTTPS nothing is forced; with it,
  secure cookies, HSTS, the redirect and the proxy header; `check --deploy` is clean.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from shegong.access import system_actor
from shegong.accounts.services import token_create

ROOT = Path(__file__).resolve().parents[2]
NO_STORE = "private, no-store"


@pytest.fixture
def web(world) -> Client:
    client = Client()
    client.force_login(world.users["province"])
    return client


@pytest.fixture
def bearer(world) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=system_actor('command'), user=world.users['province'])}")


# --- Cache-Control ---------------------------------------------------------------------------------------------


def _pages(world) -> dict[str, str]:
    w1 = world.w1.pk
    return {
        "home": "/",
        "worker page": f"/workers/{w1}/",
        "worker list": "/workers/",
        "archive page": f"/archives/{w1}/",
        "masked xlsx export": "/roster/export/workers.xlsx",
        "full xlsx export": "/roster/export/workers.xlsx?full=1",
        "compliance xlsx": "/compliance/export.xlsx",
        "archive PDF": f"/archives/{w1}/catalogue.pdf",
        "404 page": "/no-such-page/",
    }


def test_every_authenticated_page_and_file_is_no_store(world, web):
    for kind, url in _pages(world).items():
        resp = web.get(url)
        assert resp.status_code in (200, 404), (kind, resp.status_code)
        assert resp["Cache-Control"] == NO_STORE, kind
        assert "Expires" not in resp, kind


def test_every_authenticated_api_answer_is_no_store(world, bearer):
    w1 = world.w1.pk
    for method, url, body in [
        ("get", "/api/v1/workers", None),
        ("get", f"/api/v1/workers/{w1}", None),
        ("post", f"/api/v1/workers/{w1}/reveal", {"field": "id_number"}),   # a full ID number
        ("get", f"/api/v1/workers/{w1}/archive", None),
        ("get", "/api/v1/workers/999999999", None),                        # an error answer too
        ("get", "/api/v1/workers?offset=-1", None),
    ]:
        if method == "get":
            resp = bearer.get(url)
        else:
            resp = bearer.post(url, json.dumps(body), content_type="application/json")
        assert resp.status_code < 500, url
        assert resp["Cache-Control"] == NO_STORE, url


def test_reveal_answer_is_no_store(world, bearer):
    resp = bearer.post(f"/api/v1/workers/{world.w1.pk}/reveal", json.dumps({"field": "phone"}),
                       content_type="application/json")
    assert resp.status_code == 200
    assert resp["Cache-Control"] == NO_STORE


def test_anonymous_answers_are_not_forced_to_no_store(db):
    client = Client()
    for url in ("/login/", "/api/v1/openapi.json"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert NO_STORE not in resp.get("Cache-Control", ""), url
    # an invalid token is not a user
    resp = Client(HTTP_AUTHORIZATION="Bearer sg_never-issued").get("/api/v1/workers")
    assert resp.status_code == 401
    assert NO_STORE not in resp.get("Cache-Control", "")


def test_post_types_answer_a_token_holder_like_every_other_operation(world, bearer):
    """/post-types asks for a token like the rest of the API (issue 10): its answer is a signed-in one."""
    assert Client().get("/api/v1/post-types").status_code == 401
    resp = bearer.get("/api/v1/post-types")
    assert resp.status_code == 200
    assert resp["Cache-Control"] == NO_STORE


def test_static_files_stay_cacheable(world, web, settings):
    settings.WHITENOISE_USE_FINDERS = True  # tests run without collectstatic
    resp = web.get("/static/shegong/app.css")
    assert resp.status_code == 200
    assert NO_STORE not in resp.get("Cache-Control", "")


# --- Content-Security-Policy and Permissions-Policy -----------------------------------------------------------------


def _csp(resp) -> dict[str, list[str]]:
    header = resp["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("url", ["/", "/workers/", "/api/v1/docs"])
def test_pages_carry_csp_and_permissions_policy(world, web, url):
    resp = web.get(url)
    assert resp.status_code == 200
    csp = _csp(resp)
    assert csp["script-src"] == ["'self'"], "scripts: our own files only, no inline, no eval"
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert "'unsafe-eval'" not in resp["Content-Security-Policy"]
    policy = resp["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy


def test_login_page_carries_the_headers_too(db):
    resp = Client().get("/login/")
    assert "script-src 'self'" in resp["Content-Security-Policy"]
    assert "camera=()" in resp["Permissions-Policy"]


def test_base_page_loads_only_its_own_script_and_turns_off_htmx_eval(world, web):
    html = web.get("/").content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(re.search(r'\ssrc="/static/', s) for s in scripts), scripts
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html


TEMPLATE_DIRS = [p for p in (ROOT / "shegong").rglob("templates") if p.is_dir()]
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def test_no_template_has_inline_script_or_event_handlers():
    templates = [t for d in TEMPLATE_DIRS for t in d.rglob("*.html")]
    assert len(templates) > 20
    bad = []
    for template in templates:
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER, JS_URL):
            for m in pattern.finditer(text):
                bad.append(f"{template.relative_to(ROOT)}: {m.group(0)[:80]}")
        if re.search(r"\bhx-on\b|hx-on:|hx-vals=['\"]\s*js:|hx-vars", text):
            bad.append(f"{template.relative_to(ROOT)}: htmx attribute that needs eval")
    assert not bad, "\n".join(bad)


def test_the_template_check_would_catch_them():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
    assert HANDLER.search('<button onclick="x()">')
    assert HANDLER.search("<body onload='x()'>")
    assert not HANDLER.search('<a href="/x" class="one">')
    assert JS_URL.search('<a href="javascript:void(0)">')


# --- config/security.py under both environments -----------------------------------------------------------------------

SETTINGS_NAMES = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "LANGUAGE_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
                  "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
                  "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
                  "WAITRESS_PROXY_OPTIONS", "CONTENT_SECURITY_POLICY"]


def _clean_env() -> dict[str, str]:
    """The environment of a deployment: none of ours, and not the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("SHEGONG_") and k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL")}


def _settings_under(tmp_path, **env: str) -> dict:
    """Import config.settings in a fresh interpreter with the given environment."""
    code = ("import json, config.settings as s; "
            f"print(json.dumps({{n: getattr(s, n) for n in {SETTINGS_NAMES!r}}}, default=sorted))")
    base = _clean_env()
    base.update({"SHEGONG_SECRET_KEY": "x" * 60, "SHEGONG_FIELD_KEY": settings.FIELD_ENCRYPTION_KEY,
                 "SHEGONG_HASH_KEY": "h" * 40, "SHEGONG_VAR_DIR": str(tmp_path)})
    base.update(env)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def test_without_https_nothing_is_forced(tmp_path):
    s = _settings_under(tmp_path)
    assert s["SESSION_COOKIE_SECURE"] is False and s["CSRF_COOKIE_SECURE"] is False
    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SECURE_HSTS_SECONDS"] == 0
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    assert s["WAITRESS_PROXY_OPTIONS"] == {}
    assert s["SESSION_COOKIE_HTTPONLY"] is True and s["CSRF_COOKIE_HTTPONLY"] is True
    assert s["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["upgrade-insecure-requests"] is False


def test_with_https_cookies_hsts_redirect_and_proxy_header(tmp_path):
    s = _settings_under(tmp_path, SHEGONG_HTTPS="1")
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["LANGUAGE_COOKIE_SECURE"] is True
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False and s["SECURE_HSTS_PRELOAD"] is False
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["WAITRESS_PROXY_OPTIONS"]["trusted_proxy"] == "127.0.0.1"
    assert s["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["upgrade-insecure-requests"] is True


def test_https_options(tmp_path):
    s = _settings_under(tmp_path, SHEGONG_HTTPS="1", SHEGONG_HSTS_SECONDS="600", SHEGONG_HSTS_SUBDOMAINS="1",
                        SHEGONG_HSTS_PRELOAD="1", SHEGONG_SSL_REDIRECT="0", SHEGONG_PROXY_ADDR="10.0.0.5")
    assert s["SECURE_HSTS_SECONDS"] == 600
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and s["SECURE_HSTS_PRELOAD"] is True
    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["WAITRESS_PROXY_OPTIONS"]["trusted_proxy"] == "10.0.0.5"


def test_https_without_trusting_a_proxy(tmp_path):
    s = _settings_under(tmp_path, SHEGONG_HTTPS="1", SHEGONG_TRUST_PROXY="0")
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    assert s["WAITRESS_PROXY_OPTIONS"] == {}


def test_trusting_a_proxy_without_https(tmp_path):
    s = _settings_under(tmp_path, SHEGONG_TRUST_PROXY="1")
    assert s["SESSION_COOKIE_SECURE"] is False and s["SECURE_HSTS_SECONDS"] == 0
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def _check_deploy(tmp_path, **extra: str) -> set[str]:
    env = _clean_env()
    env.update({"SHEGONG_HTTPS": "1", "SHEGONG_SECRET_KEY": "k7#Qz!" * 12, "SHEGONG_VAR_DIR": str(tmp_path),
                "SHEGONG_FIELD_KEY": settings.FIELD_ENCRYPTION_KEY, "SHEGONG_HASH_KEY": "h" * 40,
                "SHEGONG_ALLOWED_HOSTS": "shegong.example.cn", "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(extra)
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return set(re.findall(r"\((security\.[WE]\d+)\)", out.stdout + out.stderr))


def test_check_deploy_is_clean_under_https(tmp_path):
    # includeSubDomains and preload are opt-in (docs/deployment.md): only they may be left to warn about.
    assert _check_deploy(tmp_path) <= {"security.W005", "security.W021"}
    assert _check_deploy(tmp_path, SHEGONG_HSTS_SUBDOMAINS="1", SHEGONG_HSTS_PRELOAD="1") == set()


def test_https_redirect_and_hsts_behind_the_proxy(db, settings):
    """With the HTTPS settings on, a plain request is redirected, and one the proxy marks https is not."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = Client().get("/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    proxied = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=31536000"
