"""Shegong settings. Everything that differs between machines comes from the environment.

DATABASE_URL          default sqlite:///<repo>/var/shegong.sqlite3 (WAL mode)
SHEGONG_SECRET_KEY    Django secret key
SHEGONG_FIELD_KEY     Fernet key that encrypts ID numbers and phones at rest
SHEGONG_HASH_KEY      HMAC key of the search hashes of ID numbers and phones
SHEGONG_DEBUG         "1" for debug pages
SHEGONG_ALLOWED_HOSTS comma-separated

When a key is not set, a random one is generated once and kept in var/keys.json (mode 600), so
`make run` works on a fresh machine; a real deployment sets all three in the environment.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SHEGONG_VAR_DIR", BASE_DIR / "var"))


def _local_keys() -> dict[str, str]:
    path = VAR_DIR / "keys.json"
    if path.exists():
        return json.loads(path.read_text())
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    keys = {
        "SHEGONG_SECRET_KEY": secrets.token_urlsafe(50),
        "SHEGONG_FIELD_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "SHEGONG_HASH_KEY": secrets.token_urlsafe(32),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keys, fh)
    return keys


def _key(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    return _local_keys()[name]


SECRET_KEY = _key("SHEGONG_SECRET_KEY")
FIELD_ENCRYPTION_KEY = _key("SHEGONG_FIELD_KEY")
SEARCH_HASH_KEY = _key("SHEGONG_HASH_KEY")

DEBUG = os.environ.get("SHEGONG_DEBUG", "") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("SHEGONG_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("SHEGONG_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# A failed CSRF check (an expired form, cookies refused): a Chinese page in the site's frame, not Django's.
CSRF_FAILURE_VIEW = "shegong.web.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "shegong.common",
    "shegong.accounts",
    "shegong.org",
    "shegong.people",
    "shegong.staffing",
    "shegong.archives",
    "shegong.roster",
    "shegong.web",
    "axes",  # login throttling (issue 9.7); configured in config/auth.py
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shegong.common.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "shegong.common.middleware.NoStoreMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # axes last: it turns a lockout into our Chinese page (config/auth.py)
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

_default_sqlite = VAR_DIR / "shegong.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{_default_sqlite}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work at once; IMMEDIATE avoids upgrade deadlocks.
        # case_sensitive_like lets `code LIKE '2201%'` (a scope subtree) use the index on the code;
        # the codes are digits, but note that it also makes __icontains case-sensitive on SQLite.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                        "PRAGMA case_sensitive_like=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Passwords, login throttling (django-axes) and API token lifetime: config/auth.py
from config.auth import *  # noqa: E402,F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "shegong" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# Cookies, HTTPS, HSTS, proxy header, Content-Security-Policy, Permissions-Policy: config/security.py
from config.security import *  # noqa: E402,F403

# Background jobs (large imports) go through Django's Tasks API; `shegong serve` runs a worker thread,
# `shegong db_worker` runs one on its own.
TASKS = {"default": {"BACKEND": os.environ.get("SHEGONG_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}
UPLOAD_ROOT = VAR_DIR / "uploads"
# Uploads above this size are validated and imported as a background job with a progress bar.
ROSTER_BACKGROUND_BYTES = int(os.environ.get("SHEGONG_ROSTER_BACKGROUND_BYTES", str(256 * 1024)))
# The limits of an import (docs/import-limits.md; defaults in shegong/roster/limits.py): each can be set by
# SHEGONG_<NAME>, e.g. SHEGONG_ROSTER_MAX_ROWS=200000.
for _name in ("ROSTER_MAX_BYTES", "ROSTER_MAX_ROWS", "ROSTER_MAX_COLUMNS", "ROSTER_MAX_CELL_CHARS", "ROSTER_MAX_SHEETS",
              "ROSTER_MAX_UNZIPPED_BYTES", "ROSTER_MAX_COMPRESSION_RATIO", "ROSTER_MAX_ERRORS",
              "ROSTER_JOB_STALE_SECONDS", "ROSTER_READER_MEMORY", "ROSTER_READER_SECONDS",
              "PDF_MAX_CONCURRENT_RENDERS", "PDF_RENDER_WAIT_SECONDS"):
    if os.environ.get(f"SHEGONG_{_name}"):
        globals()[_name] = int(os.environ[f"SHEGONG_{_name}"])
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"shegong": {"handlers": ["console"], "level": os.environ.get("SHEGONG_LOG_LEVEL", "INFO")}},
}

# The staffing rule set for the compliance check (shegong/staffing/rulesets/<name>.toml, or a .toml path).
SHEGONG_RULE_SET = os.environ.get("SHEGONG_RULE_SET", "db22t3226-2021")
