from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from shegong.common.codes import choice_lookup, normalize_text
from shegong.common.dates import date_error
from shegong.common.errors import ApplicationError
from shegong.common.history import stamp
from shegong.common.scoping import user_can
from shegong.common.versioning import check_version, lock
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.staffing.models import Appointment, PostType

LABELS = {f.name: str(f.verbose_name) for f in Appointment._meta.fields}
POST_TYPES_FILE = Path(__file__).parent / "data" / "post_types.json"
METHOD_ALIASES = {"选任": "选举", "当选": "选举", "指派": "组织指派", "委派": "组织指派", "招聘": "聘用", "聘任": "聘用"}


def post_types_sync() -> int:
    """Create or update the seeded post types from data/post_types.json (run by a migration and `demo`)."""
    rows = json.loads(POST_TYPES_FILE.read_text(encoding="utf-8"))
    _POST_CODES.clear()
    _POST_INDEX.clear()
    for row in rows:
        PostType.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})
    return len(rows)


_POST_CODES: dict[str, str] = {}
_POST_INDEX: dict[str, tuple[int, str]] = {}


def post_type_index() -> dict[str, tuple[int, str]]:
    """{code: (id, name)} of the seeded post types, read once per process; post_types_sync() renews it."""
    if not _POST_INDEX:
        for code, pk, name in PostType.objects.values_list("code", "id", "name"):
            _POST_INDEX[code] = (pk, name)
    return _POST_INDEX


def post_type_code(value: object) -> str:
    """The code of a post type given its code, canonical name or an accepted variant (DESIGN: canonical
    names). The name → code map is read from the table once per process; post_types_sync() renews it."""
    text = normalize_text(value).replace("“", "\"").replace("”", "\"")
    if not text:
        raise ApplicationError("岗位不能为空", field="post_type")
    if not _POST_CODES:
        for code, name, aliases in PostType.objects.values_list("code", "name", "aliases"):
            for key in (code, name, *aliases):
                _POST_CODES.setdefault(key, code)
    try:
        return _POST_CODES[text]
    except KeyError:
        raise ApplicationError(f"岗位“{text}”不在 DB22/T 3226—2021 第 4–6 章所列岗位中", field="post_type") from None


def post_type_lookup(value: object) -> PostType:
    return PostType.objects.get(code=post_type_code(value))


def _check_scope(actor: Any, community: Division) -> None:
    if actor is not None and not user_can(actor, "change", community):
        raise ApplicationError(f"您无权在“{community.name}”任免岗位", field="community")


@transaction.atomic
def appointment_create(*, worker: Worker, community: Division, post_type: PostType | str, method: str,
                       start_date: dt.date, end_date: dt.date | None = None, note: str = "",
                       actor: Any = None, reason: str = "") -> Appointment:
    if not isinstance(post_type, PostType):
        post_type = post_type_lookup(post_type)
    try:
        method = choice_lookup(method, list(Appointment.Method.choices), METHOD_ALIASES, "任职方式")
    except ValueError as exc:
        raise ApplicationError(str(exc), field="method") from exc
    if not isinstance(start_date, dt.date):
        raise ApplicationError("任职日期不能为空", field="start_date")
    for field, label, value in (("start_date", "任职日期", start_date), ("end_date", "离任日期", end_date)):
        problem = date_error(value, label, future=True)
        if problem:
            raise ApplicationError(problem, field=field)
    _check_scope(actor, community)
    if end_date is None and worker.status != Worker.Status.ACTIVE:
        raise ApplicationError(f"{worker.name}的状态是“{worker.status}”,不能任现职", field="worker")
    b = worker.birth_date
    if b and start_date.year - b.year - ((start_date.month, start_date.day) < (b.month, b.day)) < 18:
        raise ApplicationError(f"任职日期 {start_date} 时{worker.name}未满 18 周岁", field="start_date")
    overlapping = Appointment.objects.filter(worker=worker, community=community, post_type=post_type).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=start_date))
    if end_date is not None:
        overlapping = overlapping.filter(start_date__lt=end_date)
    if overlapping.exists():
        raise ApplicationError(f"{worker.name}在该社区已任{post_type.name},任期与此重叠", field="post_type")
    appointment = Appointment(worker=worker, community=community, post_type=post_type, method=method,
                              start_date=start_date, end_date=end_date, note=note)
    try:
        appointment.full_clean()
    except ValidationError as exc:
        raise ApplicationError.from_validation_error(exc, LABELS) from exc
    stamp(appointment, actor=actor, reason=reason or f"任命{post_type.name}")
    appointment.save()
    return appointment


@transaction.atomic
def appointment_end(*, appointment: Appointment, end_date: dt.date, end_reason: str = "",
                    actor: Any = None, reason: str = "", expected_version: int | None = None) -> Appointment:
    """End a post; the appointment stays, with its end date and reason (history is never lost).
    Read again under a lock: a post is ended once. `expected_version`: the version the user saw
    (ConflictError when it has changed since)."""
    lock(appointment)
    _check_scope(actor, appointment.community)
    if appointment.end_date is not None:
        raise ApplicationError(f"该任职已于 {appointment.end_date} 离任", field="end_date")
    check_version(appointment, expected_version)
    if not isinstance(end_date, dt.date):
        raise ApplicationError("离任日期不能为空", field="end_date")
    problem = date_error(end_date, "离任日期", future=True)
    if problem:
        raise ApplicationError(problem, field="end_date")
    if end_date < appointment.start_date:
        raise ApplicationError(f"离任日期 {end_date} 早于任职日期 {appointment.start_date}", field="end_date")
    appointment.end_date = end_date
    appointment.end_reason = (end_reason or "").strip()
    stamp(appointment, actor=actor, reason=reason or f"{appointment.post_type.name}离任")
    appointment.save()
    return appointment
