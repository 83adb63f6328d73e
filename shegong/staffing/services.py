from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from shegong.access import Actor, require
from shegong.common.dates import date_error
from shegong.common.errors import ApplicationError
from shegong.common.history import stamp
from shegong.common.versioning import check_version, lock
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.staffing.models import Appointment, PostType
from shegong.staffing.post_types import (  # noqa: F401  (post_type_index re-exported for its callers)
    forget_post_types,
    post_type_code,
    post_type_index,
)
from shegong.staffing.validators import (
    METHOD_ALIASES,  # noqa: F401  (re-exported: callers that imported it from here)
    Term,
    check_appointment_dates,
    check_end_after_start,
    check_may_hold_current,
    check_min_age,
    check_overlap,
    normalize_method,
)

LABELS = {f.name: str(f.verbose_name) for f in Appointment._meta.fields}
POST_TYPES_FILE = Path(__file__).parent / "data" / "post_types.json"


def post_types_sync() -> int:
    """Create or update the seeded post types from data/post_types.json (run by a migration and `demo`)."""
    rows = json.loads(POST_TYPES_FILE.read_text(encoding="utf-8"))
    for row in rows:
        PostType.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})
    forget_post_types()
    return len(rows)


def post_type_lookup(value: object) -> PostType:
    return PostType.objects.get(code=post_type_code(value))


def _check_scope(actor: Actor, community: Division) -> None:
    require(actor, "change", community, message=f"您可以查看但无权在“{community.name}”任免岗位")


def _check_term_rules(*, worker: Worker, community: Division, post_type: PostType, start_date: dt.date,
                      end_date: dt.date | None) -> None:
    """The rules of shegong/staffing/validators.py for one new term; the roster import runs the same
    functions over a whole file."""
    problem = check_may_hold_current(worker.status, end_date, name=worker.name)
    if problem:  # on the worker, as the forms and the API have shown it (the import marks the 离任日期 cell)
        raise ApplicationError(problem, field="worker")
    problem = check_min_age(worker.birth_date, start_date, name=worker.name)
    if problem:
        raise ApplicationError(problem, field="start_date")
    # Only terms that can overlap are read (the same filter as the rule), then the rule decides.
    candidates = Appointment.objects.filter(worker=worker, community=community, post_type=post_type).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=start_date))
    if end_date is not None:
        candidates = candidates.filter(start_date__lt=end_date)
    existing = [Term(start, end) for start, end in candidates.values_list("start_date", "end_date")]
    problem = check_overlap(existing, Term(start_date, end_date), name=worker.name, post_name=post_type.name)
    if problem:  # on the post, as the forms and the API have shown it (the import marks the 任职日期 cell)
        raise ApplicationError(problem, field="post_type")


@transaction.atomic
def appointment_create(*, worker: Worker, community: Division, post_type: PostType | str, method: str,
                       start_date: dt.date, end_date: dt.date | None = None, note: str = "",
                       actor: Actor, reason: str = "") -> Appointment:
    # Both ends need `change`: a user who may change one street and only view the city must not appoint
    # a city worker they may only view into their own street.
    require(actor, "change", worker, message=f"您可以查看但无权为{worker.name}任免岗位")
    _check_scope(actor, community)
    if not isinstance(post_type, PostType):
        post_type = post_type_lookup(post_type)
    method = normalize_method(method)
    for field, problem in check_appointment_dates(start_date, end_date, as_of=timezone.localdate()).items():
        raise ApplicationError(problem, field=field)
    _check_term_rules(worker=worker, community=community, post_type=post_type, start_date=start_date,
                      end_date=end_date)
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
                    actor: Actor, reason: str = "", expected_version: int | None = None) -> Appointment:
    """End a post; the appointment stays, with its end date and reason (history is never lost).
    Read again under a lock: a post is ended once. `expected_version`: the version the user saw
    (ConflictError when it has changed since)."""
    require(actor, "change", appointment, message="您可以查看但无权变更这项任职")
    lock(appointment)
    if appointment.end_date is not None:
        raise ApplicationError(f"该任职已于 {appointment.end_date} 离任", field="end_date")
    check_version(appointment, expected_version)
    if not isinstance(end_date, dt.date):
        raise ApplicationError("离任日期不能为空", field="end_date")
    problem = (date_error(end_date, "离任日期", future=True, as_of=timezone.localdate())
               or check_end_after_start(appointment.start_date, end_date))
    if problem:
        raise ApplicationError(problem, field="end_date")
    appointment.end_date = end_date
    appointment.end_reason = (end_reason or "").strip()
    stamp(appointment, actor=actor, reason=reason or f"{appointment.post_type.name}离任")
    appointment.save()
    return appointment
