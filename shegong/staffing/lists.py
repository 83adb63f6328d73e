"""The staffing lists, declared once each (shegong.common.lists): appointments (GET /api/v1/appointments)
and the vacancies of the principal posts (/compliance/vacancies/, its workbook)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html_join

from shegong.common.lists import Column, Exporter, ListDeclaration
from shegong.org.models import Division
from shegong.staffing.filters import AppointmentFilter, VacancyFilter
from shegong.staffing.models import Appointment

APPOINTMENTS = ListDeclaration(
    name="appointments", model=Appointment, filterset=AppointmentFilter,
    base=lambda: Appointment.objects.select_related("worker", "community", "post_type"),
    columns=[
        Column("worker", "姓名", value="worker.name", sortable=True, order_by=("worker__name",)),
        Column("community", "社区", value="community.name", sortable=True, order_by=("community__code",)),
        Column("post_type", "岗位", value="post_type.name", sortable=True, order_by=("post_type__sort",)),
        Column("method", "任职方式"),
        Column("start_date", "任职日期", sortable=True),
        Column("end_date", "离任日期", sortable=True),
        Column("end_reason", "离任原因"),
    ],
    ordering=("community__code", "post_type__sort", "-start_date", "id"),
    export=Exporter(sheet="任职", filename="任职.xlsx"),
)


def vacancies_list(names: dict[str, str], posts: tuple[str, ...]) -> ListDeclaration:
    """Communities missing a current holder of one of `posts` (rows annotated has_<code> by
    staffing.selectors.vacancy_queryset); `names` the posts' names by code."""

    def vacant(d: Any) -> list[str]:
        return [names.get(c, c) for c in posts if not getattr(d, f"has_{c}")]

    return ListDeclaration(
        name="vacancies", model=Division, filterset=VacancyFilter,
        columns=[
            Column("name", "社区", sortable=True, order_by=("code",),
                   href=lambda d: reverse("org:division_detail", args=[d.code])),
            Column("code", "区划代码", sortable=True, css="mono"),
            Column("street", "街道", value="parent.name", sortable=True, order_by=("parent__code", "code")),
            Column("posts", "空缺岗位", value=lambda d: "、".join(vacant(d)),
                   html=lambda d: format_html_join(" ", '<span class="tag red">{}</span>', ((p,) for p in vacant(d)))),
        ],
        ordering=("code",),
        page_sizes=(25, 50, 100),
        page_size=100,
        export=Exporter(sheet="主要岗位空缺", filename="主要岗位空缺.xlsx"),
    )
