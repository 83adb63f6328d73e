"""A form submitted to a service, handled the same way on every page: call the service; its
ApplicationError goes next to the fields it names (or above the form); a ConflictError (the row changed
since the form was filled) gives the page's "已被他人修改" form; success flashes the service's message and
redirects (post/redirect/get). Views import this (common is the bottom layer; it imports no app)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from shegong.common.errors import ApplicationError, ConflictError

F = TypeVar("F")


def service_errors(form: Any, exc: ApplicationError) -> None:
    """Each of the service's errors next to its field, or above the form naming the field when the form
    has none of that name."""
    for field, msgs in exc.errors.items():
        target = field if field in form.fields else None
        for msg in msgs:
            form.add_error(target, msg if target or field == "__all__" else f"{field}:{msg}")


def submit(request: HttpRequest, form: F, save: Callable[[], str], *, to: str,
           errors: Callable[[F, ApplicationError], None] = service_errors,
           conflict: Callable[[ConflictError], F] | None = None, **to_kwargs: Any) -> tuple[HttpResponse | None, F]:
    """Run `save` (the service call, returning the success message). Returns (the redirect to `to`, form)
    on success, or (None, the form to render again) with the errors on it."""
    try:
        message = save()
    except ApplicationError as exc:
        if conflict is not None and isinstance(exc, ConflictError):
            return None, conflict(exc)
        errors(form, exc)
        return None, form
    messages.success(request, message)
    return redirect(to, **to_kwargs), form
