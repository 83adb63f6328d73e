"""The worker list, declared once: the page /workers/, its workbook (?export=xlsx) and GET /api/v1/workers
(shegong.common.lists). ID numbers and phones are shown and exported from their stored masked forms
only: the list never decrypts."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html

from shegong.common.lists import Column, Exporter, ListDeclaration
from shegong.people.filters import WorkerFilter
from shegong.people.models import Worker

# Only what the columns show: no ciphertext fetched, one date parsed per row (SQLite returns text).
# The street (街道) is the community's parent, joined in the same query (never one query per row).
SHOWN = ("name", "gender", "birth_date", "id_number_masked", "phone_masked", "category", "status",
         "community__code", "community__name", "community__parent__code", "community__parent__name")


_HOLE = "9876543210"  # matches <int:…> and <str:…>; never a real worker id or division code


@lru_cache(maxsize=64)
def _pattern(name: str, urlconf: Any, prefix: str) -> str:
    return reverse(name, args=[_HOLE], urlconf=urlconf)


def _link(name: str, value: Any) -> str:
    """reverse(name, args=[value]) resolved once per URLconf and script prefix, then filled in: 100
    links per page without 100 trips through the resolver. Values are ids and digit codes (no
    character that a URL would quote)."""
    return _pattern(name, get_urlconf(), get_script_prefix()).replace(_HOLE, str(value))


def _tag(value: str, special: str, css: str) -> Any:
    return format_html('<span class="tag {}">{}</span>', css, value) if value == special else value


def _status(value: str) -> Any:
    return format_html('<span class="tag{}">{}</span>', " green" if value == Worker.Status.ACTIVE else "", value)


WORKERS = ListDeclaration(
    name="workers", model=Worker, filterset=WorkerFilter,
    base=lambda: Worker.objects.select_related("community__parent").only(*SHOWN),
    columns=[
        Column("name", "姓名", sortable=True, href=lambda w: _link("people:worker_detail", w.pk)),
        Column("gender", "性别"),
        Column("birth_date", "出生日期", sortable=True),
        Column("id_number", "公民身份号码", value="id_number_masked", personal=True,
               export_value="id_number_masked", css="mono"),
        Column("phone", "联系电话", value="phone_masked", personal=True, export_value="phone_masked", css="mono"),
        Column("street", "街道", value="community.parent.name", sortable=True,
               order_by=("community__parent__code", "community__code", "name")),
        Column("community", "所在社区", value="community.name", sortable=True, order_by=("community__code",),
               href=lambda w: _link("org:division_detail", w.community.code)),
        Column("category", "人员类别", sortable=True, html=lambda w: _tag(w.category, "公益性岗位", "amber"),
               export_value="category"),
        Column("status", "状态", sortable=True, html=lambda w: _status(w.status), export_value="status"),
    ],
    ordering=("community__code", "name"),
    page_sizes=(25, 50, 100),
    page_size=50,
    export=Exporter(sheet="社区工作者", filename="社区工作者.xlsx"),
)
