"""The write rules of an appointment, once (issue 10, point 3).

`appointment_create` / `appointment_end` call them for one row with values they read themselves; the
roster import calls the same functions for every row with data it preloaded in a few set-based queries
(no query per row). Each function takes plain values and returns the Chinese message — or, for the
normalisers, the value — so a rule added here reaches both paths with the same words.

The rules:
- 任职方式: one of the model's choices, or an accepted variant (选任 → 选举 …).
- 任职日期 required; both dates plausible (shegong.common.dates: from 1900 to a year ahead); 离任日期 not
  before 任职日期.
- At 任职日期 the person is at least 18.
- A person whose 状态 is not 在岗 holds no current post (a current post needs a 离任日期).
- Two terms of one person on one post in one community do not overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shegong.common.codes import choice_lookup
from shegong.common.dates import date_error
from shegong.common.errors import ApplicationError
from shegong.people.models import Worker
from shegong.staffing.models import Appointment

MIN_AGE = 18
METHOD_ALIASES = {"选任": "选举", "当选": "选举", "指派": "组织指派", "委派": "组织指派", "招聘": "聘用", "聘任": "聘用"}
_METHODS = list(Appointment.Method.choices)


def normalize_method(value: object) -> str:
    """The 任职方式 code of `value` (a choice or an accepted variant); ApplicationError naming the field."""
    try:
        return choice_lookup(value, _METHODS, METHOD_ALIASES, "任职方式")
    except ValueError as exc:
        raise ApplicationError(str(exc), field="method") from exc


def check_appointment_dates(start: dt.date | None, end: dt.date | None, *, as_of: dt.date) -> dict[str, str]:
    """{field: message} for a term's dates: 任职日期 required, both plausible (a term may be planned up to
    a year ahead), 离任日期 not before 任职日期. The order check runs only when both dates are sound."""
    errors: dict[str, str] = {}
    for field, label, value in (("start_date", "任职日期", start), ("end_date", "离任日期", end)):
        problem = date_error(value, label, future=True, as_of=as_of)
        if problem:
            errors[field] = problem
    if start is None:
        errors.setdefault("start_date", "任职日期不能为空")
    if not errors and start is not None and end is not None:
        problem = check_end_after_start(start, end)
        if problem:
            errors["end_date"] = problem
    return errors


def check_end_after_start(start: dt.date, end: dt.date) -> str | None:
    """Field end_date (also when a post is ended: appointment_end)."""
    if end < start:
        return f"离任日期 {end} 早于任职日期 {start}"
    return None


def age_on(birth: dt.date, as_of: dt.date) -> int:
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def check_min_age(birth: dt.date | None, as_of: dt.date, *, name: str) -> str | None:
    """Field start_date: the person is at least MIN_AGE on the first day of the term."""
    if birth is not None and age_on(birth, as_of) < MIN_AGE:
        return f"任职日期 {as_of} 时{name}未满 {MIN_AGE} 周岁"
    return None


def check_may_hold_current(status: str, end: dt.date | None, *, name: str) -> str | None:
    """Field end_date: only a person 在岗 may hold a current (open-ended) post."""
    if end is None and status != Worker.Status.ACTIVE:
        return f"{name}的状态是“{status}”,不能任现职;请填写离任日期"
    return None


@dataclass(frozen=True, slots=True, eq=False)
class Term:
    """One term of one person on one post in one community; `ref` is the caller's handle on it (an
    Appointment in the database, a row of a file)."""

    start: dt.date
    end: dt.date | None
    ref: Any = None


def overlaps(a: Term, b: Term) -> bool:
    """Half-open terms [start, end): a term ending on a day does not overlap one starting that day."""
    return (a.end is None or a.end > b.start) and (b.end is None or b.end > a.start)


def overlap_message(*, name: str, post_name: str, other: Term) -> str:
    return f"{name}在该社区已任{post_name}({other.start} 起),任期与此重叠"


def check_overlap(existing: Iterable[Term], new: Term, *, name: str, post_name: str) -> str | None:
    """Field start_date: `new` overlaps none of the same person's terms on the same post in the same
    community (`existing`). The single-row form of `overlapping_pairs`."""
    for term in sorted(existing, key=lambda t: t.start):
        if overlaps(term, new):
            return overlap_message(name=name, post_name=post_name, other=term)
    return None


def overlapping_pairs(terms: Sequence[Term]) -> list[tuple[Term, Term]]:
    """Every term that overlaps an earlier one, with the earlier term it overlaps (set-based: one sort
    and a sweep keeping the latest end so far, so a long term overlapping a later, non-adjacent one is
    found too). For the terms of one person on one post in one community."""
    pairs: list[tuple[Term, Term]] = []
    reach: Term | None = None  # the term reaching furthest so far
    for term in sorted(terms, key=lambda t: t.start):
        if reach is not None and overlaps(reach, term):
            pairs.append((reach, term))
        if reach is None or reach.end is not None and (term.end is None or term.end > reach.end):
            reach = term
    return pairs
