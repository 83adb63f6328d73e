"""The archive lists' filters (django-filter), one per list, shared by the page, its workbook and the API
(shegong.common.lists): the access audit and the correction requests."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from shegong.archives.models import CorrectionRequest
from shegong.common.models import AccessLog


def digits(value: str, limit: int = 12) -> str:
    """A division code typed with spaces or dashes: its digits only, at most a community's 12."""
    return "".join(ch for ch in value if ch.isdigit())[:limit]


class AccessLogFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(label="操作", choices=AccessLog.Action.choices)
    scope = django_filters.CharFilter(label="区划代码", method="below")

    class Meta:
        model = AccessLog
        fields: list[str] = []

    def below(self, queryset: QuerySet[AccessLog], name: str, value: str) -> QuerySet[AccessLog]:
        """Accesses to the archives of workers in communities at or below the division code `value`."""
        code = digits(value)
        return queryset.filter(worker__community__code__startswith=code) if code else queryset


class CorrectionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=CorrectionRequest.Status.choices)

    class Meta:
        model = CorrectionRequest
        fields: list[str] = []
