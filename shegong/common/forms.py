"""What every form of the project shares: the date input, and the version a form was filled from with
the page that answers "已被他人修改" (optimistic concurrency, shegong/common/versioning.py).

The date input renders its value as YYYY-MM-DD whatever the language: a browser's <input type="date">
accepts no other form, so a localised value (zh-hans renders 2012/07/01) shows empty and is submitted
empty, which erased the dates of a worker whose phone alone was edited (issue 9).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django import forms
from django.db import models

from shegong.common.versioning import VERSION_FIELD

ISO_DATE = "%Y-%m-%d"
F = TypeVar("F", bound=forms.Form)


class DateInput(forms.DateInput):
    """<input type="date"> with an ISO value in every language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:  # noqa: A002
        super().__init__(attrs=attrs, format=format or ISO_DATE)


class VersionField(forms.IntegerField):
    """The hidden version of the row the form was filled from (optional: a post without it is not
    checked)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)


class VersionTokenField(forms.CharField):
    """The hidden state a form was filled from, when one number does not say it (a post description:
    which draft or published version, at which row version)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 80)
        super().__init__(**kwargs)


EMPTY = "(空)"


def _norm(value: Any) -> str:
    """A value as the comparison sees it: text stripped with \\n line ends, dates in ISO, empty as ""."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _as_data(field: forms.Field, value: Any) -> str | None:
    """A value as a browser would post it for `field` (None: leave the key out, an unchecked box)."""
    if isinstance(field, forms.BooleanField):
        return "on" if value else None
    if isinstance(value, models.Model):
        key = getattr(field, "to_field_name", None)
        return str(getattr(value, key) if key else value.pk)
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def display(field: forms.Field, value: Any) -> str:
    """A value as a person reads it: the label of a choice, an ISO date, (空) for nothing."""
    text = _norm(value)
    if not text:
        return EMPTY
    choices = getattr(field, "choices", None)
    if choices is not None and not isinstance(field, forms.ModelChoiceField):
        labels = {str(k): str(v) for k, v in choices}
        return labels.get(text, text)
    return text


def conflict_form(form: forms.Form, *, current: dict[str, Any], base: dict[str, Any] | None,
                  version: Any, make: Callable[[Any, dict[str, Any]], F], keep_blank: Iterable[str] = ()) -> F:
    """The form to show when saving `form` met someone else's change (a ConflictError).

    `current` holds the values now stored (in the form's terms: codes, dates, text), `base` the values
    the user started from (the row at the version the form carried; None when unknown), `version` the
    version now. `make(data, initial)` builds a bound form of the same class.

    Only fields the other person changed are marked (all that differ when `base` is unknown). Those
    the user left alone take the other person's value; where both changed a field, the user's value
    stays and the other person's is shown next to it (`field.conflict`; `field.conflict_taken` when
    it was taken). The form carries the current version, so saving again
    keeps the user's values knowingly. `keep_blank` fields (a phone, an ID number) are blank unless the
    user types a new value: blank means "keep", and the stored values are masked, not comparable.
    """
    data: Any = form.data.copy()  # type: ignore[attr-defined]  # a QueryDict
    cleaned = getattr(form, "cleaned_data", {})
    notes: dict[str, tuple[str, bool]] = {}
    blank_fields = set(keep_blank)
    for name, field in form.fields.items():
        if name == VERSION_FIELD or name not in current:
            continue
        now = _norm(current[name])
        was = _norm(base[name]) if base is not None and name in base else None
        mine = _norm(cleaned.get(name, data.get(name)))
        if name in blank_fields:
            if was is not None and now != was:  # the other person changed it
                notes[name] = (display(field, current[name]), not mine)
            continue
        if mine == now or (was is not None and now == was):  # same value, or only the user changed it
            continue
        if was is not None and mine == was:  # the user left it alone: take the other person's value
            value = _as_data(field, current[name])
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
            notes[name] = (display(field, current[name]), True)
        else:
            notes[name] = (display(field, current[name]), False)
    data[VERSION_FIELD] = str(version)
    fresh = make(data, {**current, VERSION_FIELD: version})
    fresh.is_valid()
    for name, (shown, taken) in notes.items():
        fresh.fields[name].conflict = shown  # type: ignore[attr-defined]
        fresh.fields[name].conflict_taken = taken  # type: ignore[attr-defined]
    fresh.add_error(None, "已被他人修改:下面标出了他人的修改。请核对后再保存;再次保存将以您填写的内容为准。")
    fresh.conflict = True  # type: ignore[attr-defined]
    return fresh
