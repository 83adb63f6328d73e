"""Rules at entry time (issue 11 point 5): an appointment shows the compliance findings it would add and
clear before it is saved, and one that brings about a new error (a second 党组织书记, 4.2.1) is saved
only with an explicit confirmation and a reason, which is kept in the appointment's history.

The findings come from `compliance.findings_change`: the change is made in a savepoint, checked with the
compliance page's own rules, and rolled back — so the rules at entry time are exactly the rules of the
compliance page, for the one community the change touches. Then, if allowed, it is made for real.

Ending a post is checked the same way and its effect is shown before and after; `end_checked` refuses a
new error only when asked to (`require_confirmation`): a departure is a fact to be recorded, and the
vacancy it leaves is what the vacancy page lists (see the note of issue 11 point 5).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shegong.access import Actor
from shegong.common.errors import ApplicationError
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.staffing.compliance import Finding, FindingsChange, findings_change
from shegong.staffing.models import Appointment, PostType
from shegong.staffing.services import appointment_create, appointment_end

REASON_MAX = 100  # django-simple-history's history_change_reason column
CONFIRM_REASON_MAX = 60


class ConfirmationRequired(ApplicationError):
    """The change would bring about new compliance errors: saved only with a confirmation and a reason.
    Pages show the findings and ask; the API answers 409 with them."""

    def __init__(self, change: FindingsChange, *, what: str) -> None:
        errors = change.new_errors
        listed = ";".join(f"{f.message}({f.clause})" for f in errors)
        super().__init__(f"{what}将新增 {len(errors)} 项合规错误:{listed}。如确需{what},请确认并填写理由",
                         field="confirm", clause=errors[0].clause if errors else None)
        self.change = change


@dataclass(frozen=True)
class Checked:
    appointment: Appointment
    change: FindingsChange


def finding_line(f: Finding) -> str:
    return f"{f.clause} {f.message}"


def _with_reason(reason: str, default: str, confirm_reason: str, change: FindingsChange) -> str:
    """The history reason: the page's or API's own and, when new errors were confirmed, the clauses and
    the reason given (cut to the history column's 100 characters)."""
    errors = change.new_errors
    if not errors or not confirm_reason:
        return reason
    clauses = "、".join(sorted({f.clause for f in errors}))
    return f"{reason or default};确认新增合规错误({clauses}):{confirm_reason}"[:REASON_MAX]


def clean_confirm_reason(confirm: bool, confirm_reason: str) -> str:
    """The reason of a confirmation ("" when none was given); a confirmation without a reason, or a reason
    longer than the history keeps, is refused naming the field."""
    text = " ".join((confirm_reason or "").split())
    if confirm and not text:
        raise ApplicationError("确认新增合规错误时必须填写理由", field="confirm_reason")
    if len(text) > CONFIRM_REASON_MAX:
        raise ApplicationError(f"理由最多 {CONFIRM_REASON_MAX} 个字", field="confirm_reason")
    return text if confirm else ""


def appoint_checked(*, worker: Worker, community: Division, post_type: PostType | str, method: str,
                    start_date: dt.date, note: str = "", actor: Actor, reason: str = "",
                    confirm_reason: str = "") -> Checked:
    """appointment_create, after checking what it would do to `community`'s findings: ConfirmationRequired
    when it brings about a new error and no `confirm_reason` is given; validation errors as ever."""

    def create(why: str) -> Appointment:
        return appointment_create(worker=worker, community=community, post_type=post_type, method=method,
                                  start_date=start_date, note=note, actor=actor, reason=why)

    change = findings_change(change=lambda: create(reason), scope=community.code)
    if change.adds_errors and not confirm_reason:
        raise ConfirmationRequired(change, what="任命")
    return Checked(create(_with_reason(reason, "任命", confirm_reason, change)), change)


def end_checked(*, appointment: Appointment, end_date: dt.date, end_reason: str = "", actor: Actor,
                reason: str = "", expected_version: int | None = None, confirm_reason: str = "",
                require_confirmation: bool = False) -> Checked:
    """appointment_end, after checking what it would do to the community's findings (returned, for the
    page to show). With `require_confirmation` new errors (a vacancy) need a `confirm_reason`
    (ConfirmationRequired otherwise); a reason given is kept in the history with the clauses."""

    def end(row: Appointment, why: str) -> Appointment:
        return appointment_end(appointment=row, end_date=end_date, end_reason=end_reason, actor=actor,
                               reason=why, expected_version=expected_version)

    # A copy for the trial: appointment_end sets the end date on the object it is given.
    trial = Appointment.objects.select_related("post_type").get(pk=appointment.pk)
    change = findings_change(change=lambda: end(trial, reason), scope=appointment.community.code)
    if require_confirmation and change.adds_errors and not confirm_reason:
        raise ConfirmationRequired(change, what="离任")
    return Checked(end(appointment, _with_reason(reason, "离任", confirm_reason, change)), change)


def preview_end(*, appointment: Appointment, end_date: dt.date, actor: Actor) -> FindingsChange | None:
    """What ending the post on `end_date` would do (for the end page, before the user submits); None when
    the end would be refused anyway (the form then says why)."""
    trial = Appointment.objects.select_related("post_type").get(pk=appointment.pk)
    try:
        return findings_change(change=lambda: appointment_end(appointment=trial, end_date=end_date, actor=actor),
                               scope=appointment.community.code)
    except ApplicationError:
        return None
