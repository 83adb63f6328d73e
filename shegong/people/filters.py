"""The worker list's filters, one declaration for the page, its workbook and GET /api/v1/workers.

The page's filter form posts (so that a full ID number never reaches a URL or an access log) and
redirects here with the number replaced by its keyed hash (`idh`); `q` still accepts a full number on
GET for the API and old links — it is matched through the same hash, never by fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from shegong.common.codes import normalize_text
from shegong.common.crypto import search_hash
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.people.idnumber import IdNumberError, parse_id_number
from shegong.people.models import Worker


def _models() -> tuple[Any, Any]:
    """Appointment and PostType, reached through the reverse relation `Worker.appointments`: people sits
    below staffing in the layers and imports nothing from it."""
    appointment: Any = Worker._meta.get_field("appointments").related_model
    return appointment, appointment._meta.get_field("post_type").related_model


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
