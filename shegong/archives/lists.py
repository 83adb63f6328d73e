"""The archive lists, declared once each (shegong.common.lists): the page, its workbook (?export=xlsx) and
the API endpoint of the same rows. Names and communities only: no ID numbers or phones."""

from __future__ import annotations

import functools
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from shegong.archives.filters import AccessLogFilter, CorrectionFilter
from shegong.archives.models import CorrectionRequest
from shegong.archives.rules import archive_rules
from shegong.archives.selectors import WorkerCompleteness
from shegong.common.lists import Column, Exporter, ListDeclaration
from shegong.common.models import AccessLog


def _or_dash(path: str) -> Any:
    def read(obj: Any) -> str:
        value: Any = obj
        for part in path.split("."):
            value = getattr(value, part, None) if value is not None else None
        return str(value) if value not in (None, "") else "—"

    return read


def _seconds(row: AccessLog) -> str:
    return timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M:%S")  # an audit reads to the second


def _archive_link(row: Any) -> str:
    return reverse("archives:archive_detail", args=[row.worker_id])


def _worker_cell(row: AccessLog) -> Any:
    """The worker's name linking to the archive; "—" for an access that concerned no worker."""
    if row.worker is None:
        return "—"
    return format_html('<a href="{}">{}</a>', _archive_link(row), row.worker.name)


ACCESS_LOG = ListDeclaration(
    name="access_log", model=AccessLog, filterset=AccessLogFilter,
    columns=[
        Column("at", "时间", value=_seconds, sortable=True, order_by=("at",)),
        Column("user", "用户", value=lambda r: str(r.user) if r.user_id else "—", sortable=True,
               order_by=("user__username",)),
        Column("action", "操作", value=lambda r: r.get_action_display(), sortable=True, order_by=("action",)),
        Column("worker", "所涉人员", value=_or_dash("worker.name"), sortable=True, order_by=("worker__name",),
               html=_worker_cell),
        Column("community", "社区", value=_or_dash("worker.community.name"), sortable=True,
               order_by=("worker__community__code",)),
        Column("object", "对象", value=_or_dash("object_label")),
        Column("ip", "IP 地址", value=_or_dash("ip"), css="mono"),
    ],
    ordering=("-at", "-id"),
    export=Exporter(sheet="档案访问审计", filename="档案访问审计.xlsx"),
)

def _record_cell(c: CorrectionRequest) -> Any:
    if c.record is None:
        return "—"
    return format_html('<a href="{}">{}</a>', reverse("archives:archive_record", args=[c.record.pk]), c.record.title)


STATUS_TAGS: dict[str, str] = {CorrectionRequest.Status.PENDING: " amber", CorrectionRequest.Status.ACCEPTED: " green",
                               CorrectionRequest.Status.DONE: " blue"}


def _status(c: CorrectionRequest) -> Any:
    return format_html('<span class="tag{}">{}</span>', STATUS_TAGS.get(c.status, ""), c.get_status_display())


def _decision(c: CorrectionRequest, *, can_decide: bool) -> Any:
    if c.status == CorrectionRequest.Status.PENDING:
        if can_decide:
            return format_html('<a class="btn small" href="{}?next={}">处理</a>',
                               reverse("archives:archive_correction_decide", args=[c.pk]),
                               reverse("archives:archive_corrections"))
        return mark_safe('<span class="muted">等待管理员处理</span>')  # noqa: S308 - a constant
    when = timezone.localtime(c.decided_at).strftime("%Y-%m-%d") if c.decided_at else ""
    shown = format_html('{}<div class="muted" style="font-size:12px">{} {}</div>', c.decision_reason,
                        c.decided_by or "", when)
    if c.status == CorrectionRequest.Status.ACCEPTED and can_decide:
        return format_html('{}<a class="btn small primary" href="{}#carry-out">按此更正</a>', shown,
                           reverse("archives:archive_correction_decide", args=[c.pk]))
    if c.carried_out_at is not None:
        return format_html('{}<div class="muted" style="font-size:12px">已落实:{} {}</div>', shown,
                           c.carried_out_by or "—", timezone.localtime(c.carried_out_at).strftime("%Y-%m-%d"))
    return shown


def corrections_list(*, can_decide: bool) -> ListDeclaration:
    """The correction requests; the last column offers 处理 to a viewer who may decide somewhere."""
    return ListDeclaration(
        name="corrections", model=CorrectionRequest, filterset=CorrectionFilter,
        columns=[
            Column("requested_at", "申请时间", sortable=True),
            Column("worker", "社区工作者", value="worker.name", sortable=True, order_by=("worker__name",),
                   href=lambda c: _archive_link(c) + "#corrections"),
            Column("community", "社区", value="worker.community.name", sortable=True,
                   order_by=("worker__community__code",)),
            Column("text", "更正内容", value=lambda c: Truncator(c.text).chars(80), export_value="text"),
            Column("record", "涉及材料", value=_or_dash("record.title"), html=_record_cell),
            Column("status", "状态", value=lambda c: c.get_status_display(), sortable=True, order_by=("status",),
                   html=_status),
            Column("decision", "处理意见", value="decision_reason",
                   html=lambda c: _decision(c, can_decide=can_decide)),
        ],
        ordering=("-requested_at", "-id"),
        export=Exporter(sheet="档案更正申请", filename="档案更正申请.xlsx"),
    )


CORRECTIONS = corrections_list(can_decide=False)  # the API's filter and sort (no buttons there)


def _status_text(w: WorkerCompleteness) -> str:
    return f"缺 {len(w.missing)} 项" if w.missing else "齐备"


def _missing_tag(w: WorkerCompleteness) -> Any:
    return format_html('<span class="tag red">缺 {} 项</span>', len(w.missing)) if w.missing else mark_safe(
        '<span class="tag green">齐备</span>')  # noqa: S308 - a constant


def _missing_names(w: WorkerCompleteness) -> str:
    return "、".join(item.name for item in w.missing)


def _missing_items(w: WorkerCompleteness) -> Any:
    return format_html_join(" ", '<span class="tag red">{}</span>', ((item.name,) for item in w.missing)) or "—"


def _holds(code: str) -> Any:
    return lambda w: "缺" if any(item.code == code for item in w.missing) else "有"


@functools.cache
def community_archives() -> ListDeclaration:
    """A community's workers with the items their archive lacks (selectors.worker_completeness rows, in
    memory: run with run_rows). Its workbook is the per-worker sheet of /archives/export.xlsx too
    (exporters.write_completeness writes these export columns): code, street, community, name, 齐备,
    the number missing, 有/缺 per required item (archive_rules.toml, read once), and the missing names."""
    required = archive_rules().required
    return ListDeclaration(
        name="community_archives", model=None,
        columns=[
            Column("community_code", "区划代码", page=False),
            Column("street_name", "街道", page=False),
            Column("community_name", "社区", page=False),
            Column("name", "姓名", sortable=True, href=lambda w: reverse("archives:archive_detail",
                                                                          args=[w.worker_id])),
            Column("complete", "齐备", value=lambda w: "否" if w.missing else "是", page=False),
            Column("missing_count", "缺少项数", value=lambda w: len(w.missing), page=False),
            Column("status", "状态", value=_status_text, html=_missing_tag, export=False),
            *[Column(f"has_{item.code}", item.name, value=_holds(item.code), page=False) for item in required],
            Column("missing", "缺少的必备材料", value=_missing_names, html=_missing_items, css="wrap"),
        ],
        export=Exporter(sheet="档案齐全情况", filename="社区档案齐全情况.xlsx"),
    )
