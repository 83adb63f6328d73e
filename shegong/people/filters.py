"""The worker list's filters, one declaration for the page, its workbook and GET /api/v1/workers.

The page's filter form posts (so that a full ID number never reaches a URL or an access log) and
redirects here with the number replaced by its keyed hash (`idh`); `q` still accepts a full number on
GET for the API and old links — it is matched through the same hash, never by fragment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from shegong.common.codes import EDUCATION, POLITICAL_STATUS, normalize_text
from shegong.common.crypto import search_hash
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.people.idnumber import IdNumberError, parse_id_number
from shegong.people.models import Worker


def _models() -> tuple[Any, Any]:
    """Appointment and PostType, reached through the reverse relation `Worker.appointments`: people sits
    below staffing in the layers and imports nothing from it."""
    appointment: Any = Worker._meta.get_field("appointments").related_model
    return appointment, appointment._meta.get_field("post_type").related_model


# The age bands of the home page's chart, also accepted by ?age= ("30-39", "-29", "60-": whole years on today).
AGE_BANDS: tuple[tuple[int | None, int | None], ...] = ((None, 29), (30, 39), (40, 49), (50, 59), (60, None))
PARTY_MEMBERS = ("01", "02")  # 中国共产党党员, 中国共产党预备党员 (GB/T 4762)


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_band_text(lo: int | None, hi: int | None) -> str:
    return f"{'' if lo is None else lo}-{'' if hi is None else hi}"


def born_in_band(lo: int | None, hi: int | None, as_of: dt.date) -> dict[str, dt.date]:
    """Lookups on birth_date for an age from `lo` to `hi` whole years (either end open) on `as_of`."""
    lookups = {}
    if lo is not None:
        lookups["birth_date__lte"] = years_before(as_of, lo)
    if hi is not None:
        lookups["birth_date__gt"] = years_before(as_of, hi + 1)
    return lookups


def parse_age_band(value: str) -> tuple[int | None, int | None]:
    lo_text, sep, hi_text = value.replace("–", "-").partition("-")
    if not sep or not (lo_text.strip() or hi_text.strip()):
        raise ValueError(value)
    lo = int(lo_text) if lo_text.strip() else None
    hi = int(hi_text) if hi_text.strip() else None
    if (lo is not None and lo < 0) or (hi is not None and hi < 0) or (lo is not None and hi is not None and lo > hi):
        raise ValueError(value)
    return lo, hi


def _age_field_check(value: str) -> None:
    try:
        parse_age_band(value)
    except ValueError:
        raise forms.ValidationError(f"年龄段“{value}”应写作“30-39”“-29”或“60-”(周岁)") from None


PostTypeRows = Callable[[], list[tuple[str, str, list[str]]]]
_post_type_rows: PostTypeRows | None = None


def provide_post_types(source: PostTypeRows) -> None:
    """staffing (above people) hands over its post types as (code, name, aliases), in table order, from
    its process cache (staffing/post_types.py): the filter needs no query of its own."""
    global _post_type_rows
    _post_type_rows = source


class WorkerFilterForm(forms.Form):
    """Resolves a post given by code, canonical name or accepted variant to its code; the post types
    are read once per request and kept for the page's select (`post_types`)."""

    @cached_property
    def post_types(self) -> list[tuple[str, str, list[str]]]:
        if _post_type_rows is not None:
            return _post_type_rows()
        _, post_type = _models()
        return list(post_type._default_manager.order_by("pk").values_list("code", "name", "aliases"))

    def clean_post_type(self) -> str:
        text = normalize_text(self.cleaned_data.get("post_type") or "").replace("“", "\"").replace("”", "\"")
        if not text:
            return ""
        code = next((c for c, name, aliases in self.post_types if text in (c, name, *(aliases or []))), None)
        if code is None:
            raise forms.ValidationError(f"岗位“{text}”不在 DB22/T 3226—2021 第 4–6 章所列岗位中")
        return code


class WorkerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="姓名或身份证号", method="by_name_or_id_number")
    idh = django_filters.CharFilter(label="身份证号", field_name="id_number_hash")
    community = django_filters.CharFilter(label="社区", method="below")
    post_type = django_filters.CharFilter(label="岗位", method="holding")
    category = django_filters.ChoiceFilter(label="人员类别", choices=Worker.Category.choices)
    status = django_filters.ChoiceFilter(label="状态", choices=Worker.Status.choices)
    # The drill-downs of the home page's charts (issue 11): ?education=21, ?gender=女, ?political=party
    # (中共党员 and 预备党员) or a GB/T 4762 code, ?age=30-39, ?qualified=1 (holds a 社会工作职业资格).
    education = django_filters.ChoiceFilter(label="学历", choices=[*EDUCATION.choices, ("none", "未填")],
                                            method="by_code")
    gender = django_filters.ChoiceFilter(label="性别", choices=Worker.Gender.choices)
    political = django_filters.ChoiceFilter(
        label="政治面貌", method="by_political",
        choices=[("party", "中共党员(含预备党员)"), ("other", "非中共党员"), *POLITICAL_STATUS.choices])
    age = django_filters.CharFilter(label="年龄段", method="by_age", validators=[_age_field_check])
    qualified = django_filters.ChoiceFilter(label="社会工作职业资格", choices=[("1", "持证"), ("0", "未持证")],
                                            method="by_qualification")

    class Meta:
        model = Worker
        fields: list[str] = []
        form = WorkerFilterForm

    def below(self, queryset: QuerySet[Worker], name: str, value: str) -> QuerySet[Worker]:
        """A community, or any division above it (every community below): any form of the code."""
        try:
            return queryset.filter(community__code__startswith=normalize_code(value))
        except DivisionCodeError:
            return queryset.none()  # not a code: nothing, as before (the API answered an empty list)

    def holding(self, queryset: QuerySet[Worker], name: str, value: str) -> QuerySet[Worker]:
        """Workers holding the post today (the form has resolved `value` to its code)."""
        appointment, _ = _models()
        current = appointment._default_manager.active_on(timezone.localdate()).filter(
            post_type__code=value, worker=OuterRef("pk"))
        return queryset.filter(Exists(current))

    def by_name_or_id_number(self, queryset: QuerySet[Worker], name: str, value: str) -> QuerySet[Worker]:
        """A full ID number through its keyed hash (never by fragment); anything else a name fragment."""
        try:
            return queryset.filter(id_number_hash=search_hash(parse_id_number(value).value))
        except IdNumberError:
            return queryset.filter(name__contains=value)

    def by_code(self, queryset: QuerySet[Worker], name: str, value: str) -> QuerySet[Worker]:
        return queryset.filter(**{name: "" if value == "none" else value})

    def by_political(self, queryset: QuerySet[Worker], name: str, value: str) -> QuerySet[Worker]:
        if value == "party":
            return queryset.filter(political_status__in=PARTY_MEMBERS)
        if value == "other":
            return queryset.exclude(political_status__in=PARTY_MEMBERS)
        return queryset.filter(political_status=value)

    def by_age(self, queryset: QuerySet[Worker], name: str, value: str) -> QuerySet[Worker]:
        lo, hi = parse_age_band(value)
        return queryset.filter(**born_in_band(lo, hi, timezone.localdate()))

    def by_qualification(self, queryset: QuerySet[Worker], name: str, value: str) -> QuerySet[Worker]:
        """Holds a 社会工作职业资格 record that is not voided (archives' rows, through the reverse relation
        `Worker.archive_records`: people sits below archives and imports nothing from it)."""
        held = Exists(qualification_records().filter(worker=OuterRef("pk")))
        return queryset.filter(held) if value == "1" else queryset.exclude(held)


def qualification_records() -> QuerySet[Any]:
    """The archive records that hold a 社会工作职业资格 (not voided), reached through `Worker.archive_records`."""
    record: Any = Worker._meta.get_field("archive_records").related_model
    return record._default_manager.filter(kind="qualification", voided_at__isnull=True,
                                          qualification__isnull=False)
