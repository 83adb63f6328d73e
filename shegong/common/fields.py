"""Field factories for declarations that recur with one meaning across the apps.

Each builds exactly the field the models declared by hand before (the migrations do not change); the
point is that "who did it" and "when it was recorded" mean the same thing, and are kept the same way,
wherever they appear. The factories for the worker and the division foreign keys live with their models
(`people.models.worker_fk`, `org.models.division_fk`): common sits below both and names neither.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


def acting_user(verbose_name: str, *, optional: bool = False) -> models.ForeignKey[Any, Any]:
    """The user who did something (uploaded, transferred, decided, voided…).

    PROTECT: the record of who did it must not vanish with the account (accounts are deactivated, not
    deleted). No reverse accessor: nothing asks a user for everything they touched through these.
    `optional`: empty where the row may also come from a command or an import (a system actor)."""
    return models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=optional, blank=optional,
                             related_name="+", verbose_name=verbose_name)


def recorded_at(verbose_name: str, *, db_index: bool = False) -> models.DateTimeField[Any, Any]:
    """When the row was written, set once by the database save and never changed (auto_now_add)."""
    return models.DateTimeField(verbose_name, auto_now_add=True, db_index=db_index)
