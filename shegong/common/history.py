"""Row history (DESIGN habit 7): who changed what, when, with the values before and after.

django-simple-history records every save; services pass the acting user and a reason so that a
change from a command is attributed as well as one from the web.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

HIDDEN_FIELDS = {"id_number_encrypted", "id_number_hash", "phone_encrypted", "phone_hash", "search_name",
                 "row_version"}  # the optimistic-concurrency counter (shegong/common/versioning.py)


def person(actor: Any) -> Any:
    """The user behind `actor` for a foreign key to accounts.User (created_by, decided_by …): the user
    themself, or None for a system actor (a command, an import, a job), which is not a row."""
    if getattr(actor, "is_system", False) or not getattr(actor, "is_authenticated", False):
        return None
    return actor


def stamp(instance: models.Model, *, actor: Any, reason: str = "") -> None:
    """Attach the actor and a reason to the next history record of instance: a user as history_user; a
    system actor (shegong.access.SystemActor, which is no row) by its label — the reason's prefix, or
    the reason itself when none is given — so a command's or an import's change still says who made it."""
    if getattr(actor, "is_system", False):
        label = str(actor)
        if not reason:
            reason = label
        elif label not in reason:
            reason = f"{label}:{reason}"
    elif actor is not None and getattr(actor, "is_authenticated", False):
        instance._history_user = actor  # type: ignore[attr-defined]
    if reason:
        instance._change_reason = reason  # type: ignore[attr-defined]


@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: Any
    who: str
    kind: str
    reason: str
    changes: list[Change]
    subject: str = ""
    type: str = "~"  # "+" created, "~" changed, "-" deleted


_KIND = {"+": _("创建"), "~": _("修改"), "-": _("删除")}


def _display(record: Any, field: models.Field, related: dict[str, dict[Any, Any]]) -> str:
    value = getattr(record, field.attname, None)
    if value is None or value == "":
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        return str(related.get(field.name, {}).get(value, value))
    return str(value)


def history_entries(records: list[Any], model: type[models.Model], subject: str | dict[Any, str] = "",
                    known: dict[type[models.Model], dict[Any, Any]] | None = None) -> list[HistoryEntry]:
    """Newest first; each entry lists the fields that changed against the object's record before it.

    `records` are historical rows of one or more objects ordered oldest first, with history_user
    selected. `subject` labels the entries: one label, or a label per object id. Related names are
    loaded once for all records (a fixed number of queries, whatever the number of objects); `known`
    gives objects the caller has already loaded ({Division: {pk: division}}), so that a page does not
    read again what it shows anyway (the worker page: its community, the posts' types).
    """
    fields = [f for f in model._meta.concrete_fields if f.name not in HIDDEN_FIELDS and f.name != "id"]
    related: dict[str, dict[Any, Any]] = {}
    for f in fields:
        if f.is_relation and f.related_model is not None:
            ids = {getattr(r, f.attname) for r in records} - {None}
            have = (known or {}).get(f.related_model, {})
            missing = ids - have.keys()
            related[f.name] = {**have, **f.related_model._default_manager.in_bulk(missing)} if missing else have
    entries: list[HistoryEntry] = []
    last: dict[Any, Any] = {}
    for rec in records:
        previous = last.get(rec.id)
        changes: list[Change] = []
        for f in fields:
            new = _display(rec, f, related)
            old = _display(previous, f, related) if previous is not None else "—"
            if previous is None and new == "—":
                continue
            if old != new:
                changes.append(Change(f.name, str(f.verbose_name), old, new))
        who = rec.history_user.username if rec.history_user_id else str(_("系统"))
        label = subject.get(rec.id, "") if isinstance(subject, dict) else subject
        entries.append(HistoryEntry(rec.history_date, who, str(_KIND.get(rec.history_type, rec.history_type)),
                                    rec.history_change_reason or "", changes, label,
                                    rec.history_type))
        last[rec.id] = rec
    entries.reverse()
    return entries
