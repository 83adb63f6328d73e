"""Transport and browser-security settings: cookies, HTTPS, HSTS, proxy header, CSP, Permissions-Policy.

Imported by config/settings.py. Environment:
SHEGONG_HTTPS=1   the site is served over HTTPS (behind a reverse proxy): secure cookies, HSTS, redirect
"""

from __future__ import annotations

import os

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
