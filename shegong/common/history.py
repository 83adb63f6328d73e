"""Row history (DESIGN habit 7): who changed what, when, with the values before and after.

django-simple-history records every save; services pass the acting user and a reason so that a
change from a command is attributed as well as one from the web.
"""

from __future__ import annotations

import re
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

# The command line a reason may carry from older data ("演示数据(shegong demo)"): not for a user's eyes.
_COMMAND = re.compile(r"\s*[(（]\s*shegong\b[^)）]*[)）]")
# A system actor's label, as stamp() puts it at the head of the reason ("命令行:…", "演示数据"): a short Chinese word.
_LABEL = re.compile(r"^[\u4e00-\u9fff]{2,8}$")


def clean_reason(reason: str) -> str:
    """The reason as a user reads it: without a command line in brackets."""
    return _COMMAND.sub("", reason or "").strip()


def system_who(reason: str) -> tuple[str, str]:
    """(who, reason) for a record made without a user: the system actor's Chinese label that stamp() put
    at the head of the reason ("命令行:导入名单" → 命令行, 导入名单; "演示数据" → 演示数据, ""), or 系统."""
    text = clean_reason(reason)
    head, sep, rest = text.replace("：", ":").partition(":")
    if sep and _LABEL.match(head.strip()):
        return head.strip(), rest.strip()
    if _LABEL.match(text):
        return text, ""
    return str(_("系统")), text


def _user_names(records: list[Any]) -> dict[Any, str]:
    """The name each acting user is shown by: their 姓名 (display_name), else the name of the worker their
    account belongs to (read in one query for all of them), else a neutral label — never the login name."""
    users = {r.history_user_id: r.history_user for r in records if r.history_user_id}
    names = {pk: u.display_name for pk, u in users.items() if getattr(u, "display_name", "")}
    unnamed = {pk: getattr(u, "worker_id", None) for pk, u in users.items() if pk not in names}
    worker_ids = {w for w in unnamed.values() if w is not None}
    workers: dict[Any, Any] = {}
    if worker_ids:
        some = next(u for u in users.values() if getattr(u, "worker_id", None) in worker_ids)
        workers = type(some)._meta.get_field("worker").related_model._default_manager.in_bulk(worker_ids)
    for pk, worker_id in unnamed.items():
        worker = workers.get(worker_id)
        names[pk] = worker.name if worker is not None else str(_("未登记姓名的账号(编号 %(pk)s)") % {"pk": pk})
    return names


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

    `who` is a person's 姓名, never their login name, or a system actor's Chinese label (命令行, 演示数据 …).
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
    names = _user_names(records)
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
        if rec.history_user_id:
            who, reason = names[rec.history_user_id], clean_reason(rec.history_change_reason)
        else:
            who, reason = system_who(rec.history_change_reason)
        label = subject.get(rec.id, "") if isinstance(subject, dict) else subject
        entries.append(HistoryEntry(rec.history_date, who, str(_KIND.get(rec.history_type, rec.history_type)),
                                    reason, changes, label, rec.history_type))
        last[rec.id] = rec
    entries.reverse()
    return entries
