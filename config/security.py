"""Transport and browser-security settings: cookies, HTTPS, HSTS, proxy header, CSP, Permissions-Policy.

Imported by config/settings.py. Environment (docs/deployment.md puts them to use behind a reverse proxy):

SHEGONG_HTTPS=1          the site is served over HTTPS (TLS ends at a reverse proxy in front of
                         `shegong serve`): secure session, CSRF and language cookies, HSTS, HTTP → HTTPS
                         redirect, CSP `upgrade-insecure-requests`; implies SHEGONG_TRUST_PROXY=1
SHEGONG_TRUST_PROXY=1    believe the proxy's `X-Forwarded-Proto: https` (SECURE_PROXY_SSL_HEADER) and,
                         in `shegong serve`, its X-Forwarded-For (WAITRESS_PROXY_OPTIONS). Only when the
                         app is reachable through the proxy alone: a client that reaches it directly
                         could claim to be on HTTPS or to come from any address. Default: SHEGONG_HTTPS
SHEGONG_PROXY_ADDR       the proxy's address as `shegong serve` sees it (default 127.0.0.1)
SHEGONG_HSTS_SECONDS     Strict-Transport-Security max-age under HTTPS (default 31536000, one year; 0: none)
SHEGONG_HSTS_SUBDOMAINS=1  add includeSubDomains (only when every subdomain is on HTTPS too)
SHEGONG_HSTS_PRELOAD=1     add preload
SHEGONG_SSL_REDIRECT=0   leave the HTTP → HTTPS redirect to the proxy (default 1 under HTTPS)

Without SHEGONG_HTTPS (`make run` on a laptop, the tests) cookies are not Secure, no HSTS, no redirect,
and no proxy header is trusted.
"""

from __future__ import annotations

import os

from csp.constants import NONE, SELF, UNSAFE_INLINE


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in ("1", "true", "yes", "on")


SHEGONG_HTTPS = _flag("SHEGONG_HTTPS")
SHEGONG_TRUST_PROXY = _flag("SHEGONG_TRUST_PROXY", default=SHEGONG_HTTPS)

# ---- cookies --------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SHEGONG_HTTPS
# No script reads the CSRF cookie: forms carry {% csrf_token %} and htmx sends it from the page (base.html).
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SHEGONG_HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SHEGONG_HTTPS

# ---- HTTPS ----------------------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = SHEGONG_HTTPS and _flag("SHEGONG_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = int(os.environ.get("SHEGONG_HSTS_SECONDS") or 31536000) if SHEGONG_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SHEGONG_HTTPS and _flag("SHEGONG_HSTS_SUBDOMAINS")
SECURE_HSTS_PRELOAD = SHEGONG_HTTPS and _flag("SHEGONG_HSTS_PRELOAD")
# The proxy says which scheme the browser used; believed only when the proxy is the only way in.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SHEGONG_TRUST_PROXY else None
# For `shegong serve` (waitress): take the client's address from the proxy's X-Forwarded-For, so that
# login throttling (per username and address) and the access log see the client, not the proxy.
WAITRESS_PROXY_OPTIONS: dict[str, object] = (
    {"trusted_proxy": os.environ.get("SHEGONG_PROXY_ADDR", "127.0.0.1"),
     "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
     "trusted_proxy_count": 1,
     "clear_untrusted_proxy_headers": True}
    if SHEGONG_TRUST_PROXY else {}
)

# ---- headers --------------------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4). Scripts: our own static files only — no inline script, no
# eval (htmx runs with allowEval off, see base.html). Styles: 'unsafe-inline' because the templates
# still use `style="…"` attributes and a few <style> blocks (and the WeasyPrint PDF templates share
# them); inline style cannot run code, so scripts stay strict. object-src is 'self', not 'none':
# Chrome shows an inline PDF (archive PDFs, post descriptions) in an <embed> that object-src governs.
# img-src allows data: for the SVG icons inside the API docs' stylesheet (Swagger UI).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [SELF],
        "frame-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "upgrade-insecure-requests": SHEGONG_HTTPS,
    },
}

# Permissions-Policy: the application uses no device, sensor or payment feature; all are off for this
# origin and anything it embeds. fullscreen stays for the origin itself (Chrome's PDF presentation mode).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    **{feature: [] for feature in (
        "accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "browsing-topics", "camera",
        "display-capture", "encrypted-media", "geolocation", "gyroscope", "hid", "idle-detection",
        "magnetometer", "microphone", "midi", "payment", "picture-in-picture", "publickey-credentials-get",
        "screen-wake-lock", "serial", "usb", "web-share", "xr-spatial-tracking",
    )},
    "fullscreen": ["self"],
}
