"""The accounts lists' filters (django-filter), shared by each page and its workbook
(shegong.common.lists): the users an administrator manages, and the login history."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from shegong.accounts.models import LoginEvent, Role, User
from shegong.common.forms import DateInput

ACTIVE_CHOICES = (("1", "在用"), ("0", "已停用"))


def _role_choices() -> list[tuple[str, str]]:
    return list(Role.objects.order_by("-rank", "sort").values_list("code", "name"))


class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="用户名或姓名", method="search")
    role = django_filters.ChoiceFilter(label="角色", field_name="grants__role__code", choices=_role_choices,
                                       distinct=True, empty_label="全部")
    active = django_filters.ChoiceFilter(label="状态", choices=ACTIVE_CHOICES, method="by_active",
                                         empty_label="全部")

    class Meta:
        model = User
        fields: list[str] = []

    def search(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(username__icontains=value) | Q(display_name__icontains=value))

    def by_active(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(is_active=value == "1") if value in ("0", "1") else queryset


class LoginEventFilter(django_filters.FilterSet):
    start = django_filters.DateFilter(label="起始日期", field_name="at", lookup_expr="date__gte",
                                      widget=DateInput())
    end = django_filters.DateFilter(label="截止日期", field_name="at", lookup_expr="date__lte", widget=DateInput())
    result = django_filters.ChoiceFilter(label="结果", choices=LoginEvent.Result.choices, empty_label="全部")
    q = django_filters.CharFilter(label="用户名或姓名", method="search")

    class Meta:
        model = LoginEvent
        fields: list[str] = []

    def search(self, queryset: QuerySet[LoginEvent], name: str, value: str) -> QuerySet[LoginEvent]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(username__icontains=value) | Q(user__display_name__icontains=value))

    def is_valid(self) -> bool:
        valid = super().is_valid()
        data = self.form.cleaned_data if valid else {}
        if valid and data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.form.add_error("end", forms.ValidationError("截止日期不能早于起始日期"))
            return False
        return valid
