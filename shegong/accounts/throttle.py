"""Login throttling: django-axes, with a handler that counts atomically and audits every lock and unlock.

Axes (config/auth.py) locks a username *from one address* after settings.LOGIN_THROTTLE_FAILURES failed
logins, and an address for every username after settings.LOGIN_THROTTLE_ADDRESS_FAILURES; a lock ends
settings.LOGIN_THROTTLE_WINDOW seconds after the last failure, or when an administrator lifts it
(`shegong user unlock`, or axes' own `axes_reset*` commands).

Stock axes checks the count and records a failure in two steps, with the password check in between, so
40 concurrent wrong passwords all pass the check before any failure is recorded. Here the attempt is
counted *before* its password is checked (a "reservation"), inside one transaction that holds a lock on
the (username, address) row — and on PostgreSQL an advisory lock on the address; SQLite's write
transactions (BEGIN IMMEDIATE, config/settings.py) are exclusive anyway. So at most LOGIN_THROTTLE_FAILURES
passwords are ever checked: the next attempt is refused whatever its password. A successful login deletes
the username's row from that address (AXES_RESET_ON_SUCCESS), reservation included.

One row per (username, address): the user agent is not part of the key (stock axes keys rows by it too,
which would let a client that changes its user agent count in several rows at once).

Audit: accounts.LoginLockEvent gets a "lock" row when an attempt locks a username or an address (once per
lock, with the failures and the end of the lock), and an "unlock" row for each lock that an unlock lifts,
with who did it. Log lines name no username and no address (axes masks them: AXES_SENSITIVE_PARAMETERS).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_str, get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Max, Q, Sum
from django.db.models.functions import Lower
from django.utils import timezone

from shegong.accounts.models import LoginLockEvent, User

log = logging.getLogger("shegong.accounts.throttle")

KEY_AGENT = ""           # the user_agent of our rows: not part of the key (see above)
UNKNOWN_IP = "0.0.0.0"   # a request without REMOTE_ADDR still counts, in a row of its own

_unlock_actor: contextvars.ContextVar[str] = contextvars.ContextVar("shegong_unlock_actor", default="")


def throttle_username(request: Any, credentials: dict | None) -> str:
    """AXES_USERNAME_CALLABLE: the username as typed, trimmed and lower-cased ("City " is "city")."""
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = getattr(request, "POST", {}).get("username")
    return str(value or "").strip().lower()[:255]


def _cool_off(request: Any = None) -> timedelta:
    return get_cool_off(request) or timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW)


def _address_limit() -> int:
    return int(getattr(settings, "LOGIN_THROTTLE_ADDRESS_FAILURES", 0) or 0)


@dataclass(frozen=True)
class Lock:
    """A lock in force: of `username` from `ip`, or (username "") of every username from `ip`."""

    username: str
    ip: str
    failures: int
    until: datetime

    @property
    def whole_address(self) -> bool:
        return not self.username

    def minutes_left(self, now: datetime | None = None) -> int:
        seconds = (self.until - (now or timezone.now())).total_seconds()
        return max(1, math.ceil(seconds / 60))

    def message(self, now: datetime | None = None) -> str:
        minutes = self.minutes_left(now)
        if self.whole_address:
            return f"登录失败次数过多,此地址已被暂时锁定,请 {minutes} 分钟后再试。"
        return f"登录失败次数过多,该账号在此地址已被锁定,请 {minutes} 分钟后再试。"


def _lock_address(db: str, ip: str) -> None:
    """Serialize the attempts from one address until the transaction ends (PostgreSQL); on SQLite the
    write transaction is exclusive already."""
    connection = connections[db]
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"shegong-login:{ip}".encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _address_lock(ip: str, since: datetime, cool_off: timedelta) -> Lock | None:
    limit = _address_limit()
    if not limit:
        return None
    row = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start"), last=Max("attempt_time"))
    if (row["n"] or 0) >= limit:
        return Lock("", ip, row["n"], row["last"] + cool_off)
    return None


def current_locks(*, username: str | None = None, ip: str | None = None) -> list[Lock]:
    """The locks in force now, optionally only those of a username or an address."""
    now = timezone.now()
    cool_off = _cool_off()
    since = now - cool_off
    rows = AccessAttempt.objects.filter(attempt_time__gte=since)
    if username is not None:
        rows = rows.filter(username=username)
    if ip is not None:
        rows = rows.filter(ip_address=ip)
    locks = [Lock(r.username or "", r.ip_address or UNKNOWN_IP, r.failures_since_start, r.attempt_time + cool_off)
             for r in rows.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT).order_by("attempt_time")]
    if _address_limit() and username is None:
        addresses = (AccessAttempt.objects.filter(attempt_time__gte=since)
                     .filter(**({"ip_address": ip} if ip is not None else {}))
                     .values("ip_address").annotate(n=Sum("failures_since_start"), last=Max("attempt_time"))
                     .filter(n__gte=_address_limit()))
        locks += [Lock("", a["ip_address"], a["n"], a["last"] + cool_off) for a in addresses]
    return locks


def request_lock(request: Any, credentials: dict | None = None) -> Lock | None:
    """The lock that refused this request (set by the handler), or the one in force for it now."""
    lock = getattr(request, "shegong_lock", None)
    if lock is not None:
        return lock
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    username = throttle_username(request, credentials)
    locks = current_locks(username=username, ip=ip) + [
        lk for lk in current_locks(ip=ip) if lk.whole_address]
    return max(locks, key=lambda lk: lk.until) if locks else None


def client_ip(request: Any) -> str:
    return (request.META.get("REMOTE_ADDR") if request is not None else None) or UNKNOWN_IP


def _account_id(username: str) -> int | None:
    if not username:
        return None
    return (User.objects.annotate(lower=Lower("username")).filter(lower=username)
            .values_list("pk", flat=True).first())


def _audit(kind: str, lock: Lock, *, actor: str = "") -> Any:
    event = LoginLockEvent.objects.create(kind=kind, username=lock.username, ip=lock.ip,
                                          account_id=_account_id(lock.username), failures=lock.failures,
                                          locked_until=lock.until, actor=actor[:200])
    log.warning("Login %s (%s), audit entry %s.", "lock" if kind == "lock" else "unlock",
                "address" if lock.whole_address else "username from one address", event.pk)
    return event


@contextlib.contextmanager
def unlock_actor(actor: str) -> Iterator[None]:
    """Who the unlocks inside the block are written to the audit log as."""
    token = _unlock_actor.set(actor)
    try:
        yield
    finally:
        _unlock_actor.reset(token)


def release_attempts(*, username: str | None = None, ip_address: str | None = None,
                     ip_or_username: bool = False, actor: str | None = None) -> tuple[int, list[Any]]:
    """Delete the failed-login rows of a username and/or an address (all of them when neither is given)
    and write an "unlock" to the audit log for each lock that this lifts. Returns (rows deleted, events)."""
    actor = actor or _unlock_actor.get() or "axes 命令(未注明操作人)"
    username = username.strip().lower() if username else username
    cool_off = _cool_off()
    db = router.db_for_write(AccessAttempt)
    with transaction.atomic(using=db):
        rows = AccessAttempt.objects.all()
        if ip_or_username:
            rows = rows.filter(Q(ip_address=ip_address) | Q(username=username))
        else:
            if ip_address:
                rows = rows.filter(ip_address=ip_address)
            if username:
                rows = rows.filter(username=username)
        since = timezone.now() - cool_off
        ips = set(rows.values_list("ip_address", flat=True))
        before = [lk for ip in ips if (lk := _address_lock(ip, since, cool_off))]
        user_locks = [Lock(r.username or "", r.ip_address or UNKNOWN_IP, r.failures_since_start,
                           r.attempt_time + cool_off)
                      for r in rows.filter(attempt_time__gte=since,
                                           failures_since_start__gte=settings.AXES_FAILURE_LIMIT)]
        count, _ = rows.delete()
        lifted = user_locks + [lk for lk in before if _address_lock(lk.ip, since, cool_off) is None]
        events = [_audit("unlock", lk, actor=actor) for lk in lifted]
    return count, events


class LoginThrottleHandler(AxesDatabaseHandler):
    """AXES_HANDLER (see the module's docstring)."""

    # ---- before the password is checked (AxesStandaloneBackend, first in AUTHENTICATION_BACKENDS)

    def is_allowed(self, request: Any, credentials: dict | None = None) -> bool:
        if self.is_blacklisted(request, credentials):
            request.axes_locked_out = True
            return False
        if self.is_whitelisted(request, credentials):
            return True
        return self._reserve(request, credentials)

    def _reserve(self, request: Any, credentials: dict | None) -> bool:
        """Count this attempt as a failure before its password is checked, or refuse it when the username
        (from this address) or the address is locked."""
        username = get_client_username(request, credentials) or ""
        ip = request.axes_ip_address or UNKNOWN_IP
        cool_off = _cool_off(request)
        limit = get_failure_limit(request, credentials)
        now = timezone.now()
        since = now - cool_off
        self.clean_expired_user_attempts(request, credentials)
        db = router.db_for_write(AccessAttempt)
        with transaction.atomic(using=db):
            _lock_address(db, ip)
            address_lock = _address_lock(ip, since, cool_off)
            if address_lock is not None:
                return self._refuse(request, credentials, address_lock)
            attempt, _created = AccessAttempt.objects.select_for_update().get_or_create(
                username=username, ip_address=ip, user_agent=KEY_AGENT,
                defaults={"get_data": "", "post_data": "", "failures_since_start": 0, "attempt_time": now,
                          "http_accept": request.axes_http_accept, "path_info": request.axes_path_info})
            if attempt.attempt_time < since:  # expired a moment ago
                attempt.failures_since_start = 0
            if attempt.failures_since_start >= limit:
                return self._refuse(request, credentials, Lock(username, ip, attempt.failures_since_start,
                                                               attempt.attempt_time + cool_off))
            attempt.failures_since_start += 1
            attempt.attempt_time = now
            attempt.http_accept = request.axes_http_accept
            attempt.path_info = request.axes_path_info
            attempt.save(update_fields=["failures_since_start", "attempt_time", "http_accept", "path_info"])
            address_count = 0
            if _address_limit():
                address_count = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gte=since).aggregate(
                    n=Sum("failures_since_start"))["n"] or 0
        request.shegong_reservation = (attempt.pk, attempt.failures_since_start, address_count)
        return True

    @staticmethod
    def _refuse(request: Any, credentials: dict | None, lock: Lock) -> bool:
        request.axes_locked_out = True
        request.axes_credentials = credentials
        request.shegong_lock = lock
        return False

    # ---- after a failed password (Django's user_login_failed signal)

    def user_login_failed(self, sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
        if request is None:
            log.error("AXES: a failed login without a request cannot be counted.")
            return
        reservation = getattr(request, "shegong_reservation", None)
        if reservation is None:
            if getattr(request, "axes_locked_out", False):
                return  # refused before its password was checked: not a failure
            # authenticate() failed without passing our backend first: count it now.
            if not self._reserve(request, credentials):
                return
            reservation = request.shegong_reservation
        request.shegong_reservation = None
        pk, count, address_count = reservation
        username = get_client_username(request, credentials) or ""
        ip = request.axes_ip_address or UNKNOWN_IP
        log.warning("AXES: Login failure by %s.", get_client_str(username, ip, request.axes_user_agent,
                                                                 request.axes_path_info, request))
        row = AccessAttempt.objects.filter(pk=pk).values("failures_since_start", "attempt_time").first()
        if row is None:
            return  # a successful login from the same address has cleared the count meanwhile
        request.axes_failures_since_start = row["failures_since_start"]
        cool_off = _cool_off(request)
        limit = get_failure_limit(request, credentials)
        locks = []
        if count >= limit:
            locks.append(Lock(username, ip, row["failures_since_start"], row["attempt_time"] + cool_off))
        if _address_limit() and address_count >= _address_limit():
            locks.append(Lock("", ip, address_count, row["attempt_time"] + cool_off))
        if not locks:
            return
        request.axes_locked_out = True
        request.axes_credentials = credentials
        request.shegong_lock = locks[0]
        request.shegong_password_checked = True
        for lock in locks:
            _audit("lock", lock)
        user_locked_out.send("axes", request=request, username=username, ip_address=ip)

    # ---- unlocking (axes' reset commands and shegong user unlock both come here)

    def reset_attempts(self, *, ip_address: str | None = None, username: str | None = None,
                       ip_or_username: bool = False) -> int:
        count, _events = release_attempts(username=username, ip_address=ip_address, ip_or_username=ip_or_username)
        return count
