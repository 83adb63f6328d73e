"""archives' part of the administrator's work desk (built by shegong.web.desk): the correction requests
waiting for a decision or accepted and not yet carried out, and the qualifications whose registration is about to expire (to-dos), and the
charts of the qualification rate and of archive completeness (8.1.2) in the actor's scope."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest
from django.urls import reverse

from shegong.archives import selectors
from shegong.archives.rules import archive_rules
from shegong.common.menus import Bar, Chart, DeskCharts, DeskItem, per_request
from shegong.people.filters import qualification_records
from shegong.people.models import Worker


def _corrections(request: HttpRequest, which: str) -> selectors.Todo:
    """The archive's correction to-dos (archives.selectors: one count each, in the actor's change scope)."""
    find = selectors.pending_corrections if which == "pending" else selectors.corrections_to_carry_out
    result: selectors.Todo = per_request(request, f"archives.{which}", lambda: find(request.user))
    return result


def qualifications_due(request: HttpRequest) -> int:
    """Active workers' 社会工作职业资格 whose registration expires within the warning window or has
    expired (one query; the archive page lists them)."""
    return len(selectors.qualifications_due(actor=request.user))


DESK = [
    DeskItem("待处理的更正申请", 10, lambda request: _corrections(request, "pending").count,
             lambda request: _corrections(request, "pending").url, hint="8.1.2"),
    DeskItem("已采纳待落实的更正申请", 12, lambda request: _corrections(request, "accepted").count,
             lambda request: _corrections(request, "accepted").url, hint="按此更正"),
    DeskItem("职业资格登记即将到期或已到期", 20, qualifications_due,
             lambda request: f"{reverse('archives:archive_index')}#due", hint="到期前 60 天提醒"),
]


def _workers_url(**params: str) -> str:
    return f"{reverse('people:worker_index')}?{urlencode({'status': Worker.Status.ACTIVE, **params})}"


def qualification_chart(request: HttpRequest) -> Chart | None:
    """Active workers holding a 社会工作职业资格 record (not voided) and those without: one aggregate."""
    held = Exists(qualification_records().filter(worker=OuterRef("pk")))
    counts = (Worker.objects.restrict(request.user, "view").filter(status=Worker.Status.ACTIVE)
              .aggregate(total=Count("id"), held=Count("id", filter=Q(held))))
    total, n = counts["total"], counts["held"]
    if not total:
        return None
    bars = [b for b in (Bar("持证", n, _workers_url(qualified="1")),
                        Bar("未持证", total - n, _workers_url(qualified="0"))) if b.value]
    return Chart("qualification", "社会工作职业资格持证率", "pie", bars, total=total,
                 note=f"持证 {n} / 在岗 {total} 人,{round(n * 100 / total)}%")


def completeness_chart(request: HttpRequest) -> Chart | None:
    """Per required item (8.1.2), the share of active workers whose archive holds it (with a scan), and
    the share holding every item: the archive page's roll-up over the scope's top divisions."""
    rows = selectors.completeness_rates(actor=request.user)
    total = sum(r["workers"] for r in rows)
    if not total:
        return None
    href = reverse("archives:archive_index")
    complete = sum(r["complete"] for r in rows)
    held = {item.code: sum(n for r in rows for i, n in r["items"] if i.code == item.code)
            for item in archive_rules().required}
    bars = [Bar("全部齐全", round(complete * 100 / total, 1), href)]
    bars += [Bar(item.name, round(held[item.code] * 100 / total, 1), href) for item in archive_rules().required]
    return Chart("completeness", "档案完整率", "hbar", bars, unit="%", total=total,
                 note=f"在岗 {total} 人,材料齐全 {complete} 人")


def archive_charts(request: HttpRequest) -> list[Chart]:
    return [c for c in (qualification_chart(request), completeness_chart(request)) if c is not None]


CHARTS = [DeskCharts(30, archive_charts)]
