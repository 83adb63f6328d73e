"""The archive lists' filters (django-filter), one per list, shared by the page, its workbook and the API
(shegong.common.lists): the access audit and the correction requests."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from shegong.archives.models import CorrectionRequest
from shegong.common.forms import DateInput
from shegong.common.models import AccessLog
from shegong.org.cascade import chosen


def digits(value: str, limit: int = 12) -> str:
    """A division code typed with spaces or dashes: its digits only, at most a community's 12."""
    return "".join(ch for ch in value if ch.isdigit())[:limit]


class AccessLogFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", f"截止日期 {until.isoformat()} 早于起始日期 {since.isoformat()}")
        return data


class AccessLogFilter(django_filters.FilterSet):
    """The access audit: by division (the cascader's deepest choice, or a typed code), date range (local
    dates, both ends included), user (login name or 姓名 fragment) and action."""

    since = django_filters.DateFilter(label="起始日期", field_name="at", lookup_expr="date__gte", widget=DateInput(),
                                      error_messages={"invalid": "请输入 YYYY-MM-DD 格式的日期"})
    until = django_filters.DateFilter(label="截止日期", field_name="at", lookup_expr="date__lte", widget=DateInput(),
                                      error_messages={"invalid": "请输入 YYYY-MM-DD 格式的日期"})
    user = django_filters.CharFilter(label="用户", method="by_user", max_length=50)
    action = django_filters.ChoiceFilter(label="操作", choices=AccessLog.Action.choices)
    scope = django_filters.CharFilter(label="区划", method="below")

    class Meta:
        model = AccessLog
        fields: list[str] = []
        form = AccessLogFilterForm

    def below(self, queryset: QuerySet[AccessLog], name: str, value: str) -> QuerySet[AccessLog]:
        """Accesses to the archives of workers in communities at or below the chosen division: the deepest
        of the cascader's selects (they all carry this name), or a code typed with spaces or dashes."""
        values = self.data.getlist(name) if hasattr(self.data, "getlist") else [value]
        code = chosen(values) or digits(value)
        return queryset.filter(worker__community__code__startswith=code) if code else queryset

    def by_user(self, queryset: QuerySet[AccessLog], name: str, value: str) -> QuerySet[AccessLog]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(user__username__icontains=text) | Q(user__display_name__icontains=text))


class CorrectionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=CorrectionRequest.Status.choices)

    class Meta:
        model = CorrectionRequest
        fields: list[str] = []
