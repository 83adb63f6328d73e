"""Authentication settings: password rules, login throttling (django-axes), API token lifetime.

Imported by config/settings.py. Environment:
SHEGONG_LOGIN_THROTTLE_FAILURES  failures before a lock (default 5)
SHEGONG_LOGIN_THROTTLE_WINDOW    lock length in seconds (default 900)
SHEGONG_TOKEN_DAYS               API token lifetime in days (default 90)
"""

from __future__ import annotations

import os

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_THROTTLE_FAILURES = int(os.environ.get("SHEGONG_LOGIN_THROTTLE_FAILURES", "5"))
LOGIN_THROTTLE_WINDOW = int(os.environ.get("SHEGONG_LOGIN_THROTTLE_WINDOW", "900"))
API_TOKEN_DAYS = int(os.environ.get("SHEGONG_TOKEN_DAYS", "90"))

# django-axes: lock a username *from one address* (never a whole account from anywhere) after
# LOGIN_THROTTLE_FAILURES failures; the lock lasts LOGIN_THROTTLE_WINDOW seconds.
AXES_FAILURE_LIMIT = LOGIN_THROTTLE_FAILURES
AXES_COOLOFF_TIME = LOGIN_THROTTLE_WINDOW / 3600  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
