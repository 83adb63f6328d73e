"""Receivers of the accounts app.

Login history (issue 11, point 7): every sign-in (user_logged_in) and every failed attempt
(user_login_failed, also when django-axes refuses a locked-out attempt) becomes a LoginEvent row through
services.login_event_record. The failed attempt's credentials are Django's cleansed copy: only the
username is read, never the password.

API tokens end with their user's password and with their user's account, whichever way those change.

A post_save receiver on the user model sees every save(): Django's `changepassword`, `createsuperuser`,
the shell, our services. set_password() leaves the new raw password on the instance until the save, which
tells a new password from Django re-hashing the same one at login (a hasher upgrade: no change — the
tokens' fingerprints follow the new hash). A password hash written with queryset.update() bypasses
save(); the fingerprint on each token catches that at the next request (services.token_authenticate).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from shegong.accounts.models import ApiToken, LoginEvent, User
from shegong.accounts.services import login_event_record, password_fingerprint


@receiver(post_save, sender=User, dispatch_uid="shegong.accounts.tokens_follow_user")
def tokens_follow_user(sender: Any, instance: User, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    if created:
        return
    fields = set(update_fields) if update_fields is not None else None
    live = ApiToken.objects.filter(user=instance, revoked_at__isnull=True)
    # Revocations keep a history row each; who acted is whoever saved the user (the service's actor, or
    # the signed-in user of the request through simple-history's middleware, or nobody: the shell).
    actor = getattr(instance, "_history_user", None)
    if (fields is None or "is_active" in fields) and not instance.is_active:
        live.revoke(reason=ApiToken.RevokeReason.DEACTIVATED, actor=actor)
        return
    if fields is not None and "password" not in fields:
        return
    fingerprint = password_fingerprint(instance)
    changed = live.exclude(password_fingerprint=fingerprint)
    if getattr(instance, "_password", None) is not None:
        # set_password() then save(): a new password (even if equal to the old one, it was set anew)
        live.revoke(reason=ApiToken.RevokeReason.PASSWORD_CHANGED, actor=actor)
    elif fields == {"password"}:
        # Django re-hashing the same password on a successful login (check_password's setter)
        changed.update(password_fingerprint=fingerprint)
    else:
        # a hash assigned directly and saved: treat as a new password
        changed.revoke(reason=ApiToken.RevokeReason.PASSWORD_CHANGED, actor=actor)


@receiver(user_logged_in, dispatch_uid="shegong.accounts.login_recorded")
def login_recorded(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    login_event_record(result=LoginEvent.Result.SUCCESS, username=user.get_username(), user=user, request=request)


@receiver(user_login_failed, dispatch_uid="shegong.accounts.login_failure_recorded")
def login_failure_recorded(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username") or "")
    user = User._default_manager.filter(username=username).first() if username else None
    locked = bool(getattr(request, "axes_locked_out", False))
    login_event_record(result=LoginEvent.Result.LOCKED if locked else LoginEvent.Result.FAILURE,
                       username=username, user=user, request=request)
