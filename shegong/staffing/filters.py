"""The staffing lists' filters (django-filter), shared by the pages, their workbooks and the API
(shegong.common.lists): appointments and the vacancies of the principal posts."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.org.models import Division
from shegong.staffing.models import Appointment
from shegong.staffing.post_types import post_type_code


def below(queryset: QuerySet[Any], path: str, value: str) -> QuerySet[Any]:
    """Rows whose division code (at `path`) lies at or below the code `value`, in any of its spellings;
    not a code at all: no rows (the API has always answered an empty list)."""
    try:
        return queryset.filter(**{f"{path}__startswith": normalize_code(value)})
    except DivisionCodeError:
        return queryset.none()


class BelowFilter(django_filters.CharFilter):
    """A division code filter: the rows at or below it (`field_name` is the path to the code)."""

    def filter(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        return below(qs, self.field_name, value) if value else qs


class AppointmentFilter(django_filters.FilterSet):
    community = BelowFilter(label="社区", field_name="community__code")
    worker_id = django_filters.NumberFilter(label="人员 id", field_name="worker_id")
    post_type = django_filters.CharFilter(label="岗位", method="of_post")
    current = django_filters.BooleanFilter(label="现任", method="is_current")

    class Meta:
        model = Appointment
        fields: list[str] = []

    def of_post(self, queryset: QuerySet[Appointment], name: str, value: str) -> QuerySet[Appointment]:
        """A post by code, canonical name or accepted variant; an unknown one is an ApplicationError naming
        the post (400 on the API), not an empty list."""
        return queryset.filter(post_type__code=post_type_code(value))

    def is_current(self, queryset: Any, name: str, value: bool | None) -> QuerySet[Appointment]:
        if value is None:
            return queryset
        return queryset.active_on(timezone.localdate()) if value else queryset.filter(end_date__isnull=False)


class VacancyFilter(django_filters.FilterSet):
    """The vacancies page's division: `scope` (its own `as_of` is read by the view, it changes the rows'
    annotations rather than filtering them)."""

    scope = BelowFilter(label="范围", field_name="code")

    class Meta:
        model = Division
        fields: list[str] = []
