"""Authentication settings: password rules, login throttling (django-axes), API token lifetime.

Imported by config/settings.py. Environment:
SHEGONG_LOGIN_THROTTLE_FAILURES          failures of one username from one address before a lock (default 5)
SHEGONG_LOGIN_THROTTLE_ADDRESS_FAILURES  failures from one address, whatever the usernames, before that
                                         address is locked (default 4 × the above; 0 turns it off)
SHEGONG_LOGIN_THROTTLE_WINDOW            lock length in seconds, counted from the last failure (default 900)
SHEGONG_TOKEN_DAYS                       API token lifetime in days (default 90; 0: tokens do not expire)
"""

from __future__ import annotations

import os
from datetime import timedelta

# Every path that validates a password (`shegong user create/password`, Django's changepassword and
# createsuperuser) applies all of these (shegong/accounts/validators.py has ours).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "display_name", "first_name", "last_name", "email")}},
    # Django's MinimumLengthValidator with its message in Chinese (its zh_Hans catalog lags behind)
    {"NAME": "shegong.accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "shegong.accounts.validators.SurroundingSpaceValidator"},
    {"NAME": "shegong.accounts.validators.DemoPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, reading the signed-in user together with their grants (one query, not two)
    "shegong.accounts.backends.UserWithGrantsBackend",
]

LOGIN_THROTTLE_FAILURES = int(os.environ.get("SHEGONG_LOGIN_THROTTLE_FAILURES", "5"))
LOGIN_THROTTLE_ADDRESS_FAILURES = int(os.environ.get("SHEGONG_LOGIN_THROTTLE_ADDRESS_FAILURES",
                                                     str(4 * LOGIN_THROTTLE_FAILURES)))
LOGIN_THROTTLE_WINDOW = int(os.environ.get("SHEGONG_LOGIN_THROTTLE_WINDOW", "900"))
API_TOKEN_DAYS = int(os.environ.get("SHEGONG_TOKEN_DAYS", "90"))

# django-axes: lock a username *from one address* (never a whole account from anywhere) after
# LOGIN_THROTTLE_FAILURES failures; the lock lasts LOGIN_THROTTLE_WINDOW seconds from the last failure.
# Our handler (shegong/accounts/throttle.py) counts an attempt *before* its password is checked, under a
# row lock, so concurrent attempts cannot get more than LOGIN_THROTTLE_FAILURES password checks; it also
# writes every lock and unlock to the audit log (accounts.LoginLockEvent).
AXES_HANDLER = "shegong.accounts.throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = LOGIN_THROTTLE_FAILURES
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_THROTTLE_WINDOW)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "shegong.accounts.throttle.throttle_username"  # "City " and "city" are one username
AXES_RESET_ON_SUCCESS = True
# A refused attempt (while locked) is not a failure: the lock ends LOGIN_THROTTLE_WINDOW after the last
# password that was actually checked, as the message says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The login page with a Chinese message and the time left, status 429 (shegong/accounts/views.py).
AXES_LOCKOUT_CALLABLE = "shegong.accounts.views.lockout_response"
AXES_ENABLE_ADMIN = False
# Axes masks these in its log lines and stored request data (its default, spelled out so it stays).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
# The address as the rest of the site logs it (REMOTE_ADDR); a request without one counts as 0.0.0.0.
AXES_CLIENT_IP_CALLABLE = "shegong.accounts.throttle.client_ip"
