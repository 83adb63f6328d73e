"""Optimistic concurrency for every editable record (Worker, Appointment, ArchiveRecord, PostDescription,
CorrectionRequest): one mechanism, here.

* Each such model inherits `Versioned`: a `row_version` counter (1 on insert).
* Every `save()` of an existing row is a compare-and-swap: ``UPDATE … SET …, row_version = v + 1
  WHERE id = … AND row_version = v``. When no row matches, someone else saved in between and
  `ConflictError` is raised (the transaction rolls back); nothing is silently overwritten.
* Services start a write with `lock(obj, expected)`: inside their transaction they re-read the row
  under a row lock (SELECT … FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises
  writers), refresh the caller's instance in place, and compare with the version the user worked
  from, when one is given (a web form's hidden `row_version`, an API client's If-Match). They then
  change only the fields they were given, so two writers of different fields both keep their change.
* Writes that bypass save() (QuerySet.update, bulk_update) must bump the counter themselves:
  `bump()` gives the expression.

The API sends the version as the entity tag (`ETag: "3"`); `if_match()` reads an If-Match header.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.db.models import F

from shegong.common.errors import ConflictError

VERSION_FIELD = "row_version"

M = TypeVar("M", bound=models.Model)


class Versioned(models.Model):
    """Abstract base: a version counter checked and bumped by every save() of an existing row."""

    row_version = models.PositiveIntegerField(
        "行版本", default=1, editable=False,
        help_text="optimistic concurrency: bumped by every save; a save from an older version is refused")

    class Meta:
        abstract = True

    # django-stubs describe Django 6's _do_update (with returning_fields); this project runs Django 5.2.
    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):  # type: ignore[no-untyped-def, override]
        """Django's UPDATE of save(), made a compare-and-swap on row_version."""
        seen = self.row_version
        field = self._meta.get_field(VERSION_FIELD)
        values = [v for v in values if v[0].attname != VERSION_FIELD] + [(field, None, seen + 1)]
        updated = super()._do_update(base_qs.filter(**{VERSION_FIELD: seen}), using, pk_val, values,  # type: ignore[call-arg]
                                     update_fields, forced_update)
        if updated:
            self.row_version = seen + 1
            return updated
        actual = base_qs.filter(pk=pk_val).values_list(VERSION_FIELD, flat=True).first()
        if actual is not None:  # the row is there, at another version: someone else saved it
            current = type(self)._default_manager.filter(pk=pk_val).first()
            raise ConflictError(current=current, expected=seen, actual=actual)
        return updated


def lock(obj: M, expected: int | None = None) -> M:
    """Re-read obj's row under a row lock and refresh obj in place (call inside transaction.atomic).

    `expected` is the version the user worked from (None: not known, take the row as it is now);
    ConflictError when the row has moved on since. Returns obj."""
    model = type(obj)
    obj.refresh_from_db(from_queryset=model._default_manager.select_for_update())  # type: ignore[attr-defined]
    return check_version(obj, expected)


def check_version(obj: M, expected: int | None) -> M:
    """ConflictError when obj (just read) is not at the `expected` version (None: no check)."""
    actual = getattr(obj, VERSION_FIELD)
    if expected is not None and actual != expected:
        raise ConflictError(current=obj, expected=expected, actual=actual)
    return obj


def bump() -> dict[str, Any]:
    """Keyword arguments for QuerySet.update() that bump the version like save() does:
    ``Worker.objects.filter(pk__in=ids).update(status=…, **bump())``."""
    return {VERSION_FIELD: F(VERSION_FIELD) + 1}


def etag(obj: models.Model) -> str:
    """The entity tag of a versioned row: its version in quotes ("3")."""
    return f'"{getattr(obj, VERSION_FIELD)}"'


def if_match(header: str | None) -> int | None:
    """The version an If-Match header names: None when absent or `*` (any version); -1 when it names
    no version we ever give (a mismatch). Weak tags (W/"3") are taken as strong ones."""
    if header is None or not header.strip() or header.strip() == "*":
        return None
    first = header.split(",")[0].strip()
    if first.startswith("W/"):
        first = first[2:]
    first = first.strip('"')
    return int(first) if first.isdigit() else -1


def history_at(obj: models.Model, version: int | None) -> Any:
    """The history record of obj as it was at `version` (the last one saved at it), or None."""
    if version is None or obj.pk is None:
        return None
    history = getattr(type(obj), "history", None)
    if history is None:
        return None
    return (history.filter(**{obj._meta.pk.attname: obj.pk, VERSION_FIELD: version})  # type: ignore[union-attr]
            .order_by("-history_date", "-history_id").first())
