"""Plausible dates (issue 16): the one rule every service applies to the dates people type.

No date before 1900. A date that cannot lie in the future (a birth, 参加工作日期, 社工岗入职日期, the
date of an archive document …) is at most today; any other (an appointment's start or end, a planned
end) at most one year from today, so that a typo such as 9999-12-31 is refused. Each message names the
field.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

EARLIEST = dt.date(1900, 1, 1)


def one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def date_error(value: dt.date | None, label: str, *, future: bool = False, as_of: dt.date | None = None,
               latest: dt.date | None = None) -> str | None:
    """The Chinese message for an implausible `value` of the field called `label`, or None.

    `future`: the date may lie up to a year ahead (else at most today). `latest` replaces that bound
    (a period that runs longer, such as a sanction's end)."""
    if value is None:
        return None
    if not isinstance(value, dt.date):
        return f"{label}不是日期"
    if isinstance(value, dt.datetime):
        value = value.date()
    if value < EARLIEST:
        return f"{label} {value.isoformat()} 早于 1900 年,请检查"
    as_of = as_of or timezone.localdate()
    bound = latest or (one_year_after(as_of) if future else as_of)
    if value > bound:
        if latest is None and not future:
            return f"{label} {value.isoformat()} 晚于今天"
        return f"{label} {value.isoformat()} 晚于 {bound.isoformat()},请检查"
    return None


def date_errors(items: list[tuple[str, str, dt.date | None, bool]], *, as_of: dt.date | None = None
                ) -> dict[str, str]:
    """{field: message} for (field, label, value, may_be_future) items."""
    errors: dict[str, str] = {}
    for field, label, value, future in items:
        message = date_error(value, label, future=future, as_of=as_of)
        if message:
            errors[field] = message
    return errors
