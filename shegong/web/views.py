"""Server-rendered pages. Thin: parse, call a selector or service, render (DESIGN habit 1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from shegong.accounts.selectors import user_has_action, user_role_names
from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS
from shegong.common.crypto import search_hash
from shegong.common.errors import ApplicationError, ConflictError
from shegong.common.forms import conflict_form
from shegong.common.history import history_entries
from shegong.common.scoping import user_can
from shegong.common.versioning import history_at
from shegong.org.models import Division
from shegong.org.selectors import (
    community_counts,
    division_ancestors,
    division_get,
    division_list,
    division_roots,
)
from shegong.people.idnumber import IdNumberError, parse_id_number
from shegong.people.models import Worker
from shegong.people.selectors import worker_get, worker_list
from shegong.people.services import worker_create, worker_reveal, worker_update
from shegong.staffing.compliance import community_report
from shegong.staffing.descriptions import descriptions_for_appointments
from shegong.staffing.models import Appointment, PostType
from shegong.staffing.selectors import appointment_get, posts_held, vacancies
from shegong.staffing.services import appointment_create, appointment_end
from shegong.web.forms import AppointForm, EndForm, WorkerForm

PAGE_SIZE = 30


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _form_error(form: Any, exc: ApplicationError) -> None:
    """Put each of the service's errors next to its field (or above the form)."""
    for field, msgs in exc.errors.items():
        target = field if field in form.fields else None
        for msg in msgs:
            form.add_error(target, msg if target or field == "__all__" else f"{field}:{msg}")


# ---- accounts -------------------------------------------------------------------------------------


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


# ---- home -----------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    communities = Division.objects.restrict(user, "view").filter(level=Division.Level.COMMUNITY, is_active=True)
    totals = communities.aggregate(n=Count("id"))
    workers = Worker.objects.restrict(user, "view").aggregate(
        active=Count("id", filter=Q(status=Worker.Status.ACTIVE)),
        full_time=Count("id", filter=Q(status=Worker.Status.ACTIVE, category=Worker.Category.FULL_TIME)),
        welfare=Count("id", filter=Q(status=Worker.Status.ACTIVE, category=Worker.Category.PUBLIC_WELFARE)),
    )
    current = Appointment.objects.restrict(user, "view").active_on(today).count()
    vacancy_rows, vacancy_count = vacancies(user=user, day=today, limit=12)
    roots = list(division_roots(user=user)[:20])
    return render(request, "shegong/home.html", {
        "totals": totals, "workers": workers, "current_appointments": current,
        "vacancies": vacancy_rows, "vacancy_count": vacancy_count, "roots": roots,
        "roles": user_role_names(user), "today": today,
    })


# ---- divisions ------------------------------------------------------------------------------------


@login_required
def division_index(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    if q:
        rows = list(division_list(user=request.user, q=q).select_related("parent")[:100])
        title = f"搜索“{q}”"
    else:
        rows = list(division_roots(user=request.user))
        title = "我的管辖范围"
    counts = community_counts(divisions=rows, user=request.user)
    return render(request, "shegong/divisions.html", {
        "rows": [(d, counts.get(d.code, {})) for d in rows], "q": q, "title": title,
    })


@login_required
def division_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        division = division_get(user=request.user, code=code)
    except Division.DoesNotExist as exc:
        raise Http404("不存在或不在您的管辖范围内") from exc
    if division.is_community:
        return _community_page(request, division)
    children = list(division_list(user=request.user, parent=division))
    counts = community_counts(divisions=children, user=request.user)
    child_len = len(children[0].code) if children else 0
    worker_counts = dict(
        Worker.objects.restrict(request.user, "view")
        .filter(status=Worker.Status.ACTIVE, community__code__startswith=division.code)
        .annotate(child=Substr("community__code", 1, child_len)).values_list("child").annotate(n=Count("id"))
    ) if children else {}
    rows = [(d, counts.get(d.code, {}), worker_counts.get(d.code)) for d in children]
    records = list(division.history.select_related("history_user").order_by("history_date", "history_id"))
    return render(request, "shegong/division.html", {
        "division": division, "ancestors": division_ancestors(division=division), "rows": rows,
        "history": history_entries(records, Division)[:30],
    })


def _community_compliance(community: Division) -> dict[str, Any]:
    report = community_report(community=community)
    return {"findings": report.findings, "staffing": report.staffing.get(community.code),
            "rule_set": report.rule_set}


def _community_page(request: HttpRequest, community: Division) -> HttpResponse:
    held = posts_held(user=request.user, community=community)
    workers = list(Worker.objects.restrict(request.user, "view").filter(community=community)
                   .order_by("status", "name"))
    records = list(community.history.select_related("history_user").order_by("history_date", "history_id"))
    return render(request, "shegong/community.html", {
        "community": community, "ancestors": division_ancestors(division=community), "held": held,
        "workers": workers, "history": history_entries(records, Division)[:30],
        "can_change": user_can(request.user, "change", community),
        "compliance": _community_compliance(community),
    })


# ---- workers --------------------------------------------------------------------------------------


FILTERS = ("community", "post_type", "category", "status", "q", "idh")


@login_required
def worker_index(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # The filter form posts, so that a full ID number never appears in a URL or an access log:
        # it is replaced by its keyed hash before the redirect to the GET list.
        params = {k: request.POST.get(k, "").strip() for k in FILTERS}
        try:
            params["idh"] = search_hash(parse_id_number(params["q"]).value)
            params["q"] = ""
        except IdNumberError:
            pass
        query = urlencode({k: v for k, v in params.items() if v})
        return redirect(f"{reverse('worker_index')}?{query}" if query else reverse("worker_index"))
    params = {k: request.GET.get(k, "").strip() for k in FILTERS}
    qs = worker_list(user=request.user, community=params["community"], post_type=params["post_type"],
                     category=params["category"], status=params["status"], q=params["q"], id_hash=params["idh"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    communities = list(division_list(user=request.user, level=Division.Level.COMMUNITY)
                       .values_list("code", "name")[:2000])
    query = urlencode({k: v for k, v in params.items() if v})
    return render(request, "shegong/workers.html", {
        "page": page, "params": params, "query": query, "communities": communities,
        "post_types": PostType.objects.values_list("code", "name"),
        "categories": Worker.Category.choices, "statuses": Worker.Status.choices,
        "can_add": user_has_action(request.user, "change"),
    })


def _get_worker(request: HttpRequest, pk: int, action: str = "view") -> Worker:
    try:
        return worker_get(user=request.user, pk=pk, action=action)
    except Worker.DoesNotExist as exc:
        raise Http404("不存在或不在您的管辖范围内") from exc


@login_required
def worker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _get_worker(request, pk)
    appointments = list(Appointment.objects.restrict(request.user, "view").filter(worker=worker)
                        .select_related("community", "post_type").order_by("end_date", "-start_date"))
    worker_records = list(worker.history.select_related("history_user").order_by("history_date", "history_id"))
    subjects = {a.pk: f"任职:{a.post_type.name}({a.community.name})" for a in appointments}
    appt_records = list(Appointment.history.filter(id__in=list(subjects)).select_related("history_user")
                        .order_by("history_date", "history_id"))
    entries = history_entries(worker_records, Worker, subject="人员信息")
    entries += history_entries(appt_records, Appointment, subject=subjects)
    entries.sort(key=lambda e: e.when, reverse=True)
    can = {a: user_can(request.user, a, worker) for a in ("change", "reveal")}
    current = [a for a in appointments if a.end_date is None]
    links = descriptions_for_appointments(appointments=current)  # the street's 岗位说明书 (8.1.1.2)
    for a in current:
        street, post, version = links[a.pk]
        a.description_url = reverse("description_detail", args=[street, post])  # type: ignore[attr-defined]
        a.description_label = f"v{version}" if version else "标准默认"  # type: ignore[attr-defined]
    return render(request, "shegong/worker.html", {
        "worker": worker, "current": current,
        "past": [a for a in appointments if a.end_date is not None],
        "history": entries[:50], "can_change": can["change"], "can_reveal": can["reveal"],
        "ethnicity": ETHNICITY.label(worker.ethnicity), "political_status": POLITICAL_STATUS.label(worker.political_status),
        "education": EDUCATION.label(worker.education),
    })


@login_required
@require_POST
def worker_reveal_view(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    worker = _get_worker(request, pk)
    try:
        value = worker_reveal(worker=worker, actor=request.user, field=field, ip=_ip(request))
    except ApplicationError as exc:
        return HttpResponseForbidden(exc.message)
    return HttpResponse(f'<span class="revealed" title="已记录本次查看">{value}</span>')


def _change_communities(request: HttpRequest) -> list[tuple[str, str]]:
    qs = Division.objects.restrict(request.user, "change").filter(level=Division.Level.COMMUNITY, is_active=True)
    return [(code, f"{name}({code})") for code, name in qs.order_by("code").values_list("code", "name")[:3000]]


def _community_from(request: HttpRequest, code: str) -> Division:
    try:
        return division_get(user=request.user, code=code, action="change")
    except Division.DoesNotExist as exc:
        raise ApplicationError("所选社区不在您可管理的范围内", field="community") from exc


@login_required
def worker_new(request: HttpRequest) -> HttpResponse:
    communities = _change_communities(request)
    if not communities:
        return HttpResponseForbidden("您没有可以登记社区工作者的社区")
    initial = {"community": request.GET.get("community", ""), "category": Worker.Category.FULL_TIME,
               "status": Worker.Status.ACTIVE}
    form = WorkerForm(request.POST or None, communities=communities, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            data["community"] = _community_from(request, data["community"])
            worker = worker_create(actor=request.user, reason="网页登记", **data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已登记 {worker.name}")
            return redirect("worker_detail", pk=worker.pk)
    return render(request, "shegong/worker_form.html", {"form": form, "title": "登记社区工作者"})


WORKER_FORM_FIELDS = ("name", "ethnicity", "political_status", "education", "category", "status",
                      "work_start_date", "post_start_date")


def _worker_values(worker: Any) -> dict[str, Any]:
    """A worker (or a history record of one) in the edit form's terms; the phone and ID number masked
    (the form shows them blank: blank keeps them)."""
    values = {f: getattr(worker, f) for f in WORKER_FORM_FIELDS}
    community = Division.objects.filter(pk=worker.community_id).values_list("code", flat=True).first()
    values["community"] = community or ""
    values["phone"] = worker.phone_masked
    values["id_number"] = worker.id_number_masked
    return values


@login_required
def worker_edit(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _get_worker(request, pk)
    if not user_can(request.user, "change", worker):
        return HttpResponseForbidden("您可以查看但无权修改这名社区工作者")
    communities = _change_communities(request)
    initial: dict[str, Any] = {f: getattr(worker, f) for f in WORKER_FORM_FIELDS}
    initial["community"] = worker.community.code
    initial["row_version"] = worker.row_version
    form = WorkerForm(request.POST or None, communities=communities, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data and k != "row_version"}
        for key in ("id_number", "phone"):
            if not data.get(key):
                data.pop(key, None)
        expected = form.cleaned_data.get("row_version")
        try:
            if "community" in data:
                data["community"] = _community_from(request, data["community"])
            worker_update(worker=worker, actor=request.user, reason="网页修改", expected_version=expected, **data)
        except ConflictError as exc:
            current = exc.current if isinstance(exc.current, Worker) else worker_get(user=request.user, pk=pk)
            base = history_at(current, expected)
            form = conflict_form(
                form, current=_worker_values(current), base=_worker_values(base) if base is not None else None,
                version=current.row_version, keep_blank=("phone", "id_number"),
                make=lambda data, initial: WorkerForm(data, communities=communities, initial=initial, editing=True))
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "已保存" if data else "没有修改")
            return redirect("worker_detail", pk=worker.pk)
    return render(request, "shegong/worker_form.html", {"form": form, "title": f"修改 {worker.name}", "worker": worker})


@login_required
def worker_appoint(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _get_worker(request, pk)
    if not user_can(request.user, "change", worker):
        return HttpResponseForbidden("您可以查看但无权为这名社区工作者任免岗位")
    communities = _change_communities(request)
    form = AppointForm(request.POST or None, communities=communities,
                       initial={"community": worker.community.code, "start_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment_create(worker=worker, community=_community_from(request, data["community"]),
                               post_type=data["post_type"], method=data["method"], start_date=data["start_date"],
                               note=data["note"], actor=request.user, reason="网页任命")
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已任命 {worker.name} 为{data['post_type'].name}")
            return redirect("worker_detail", pk=worker.pk)
    return render(request, "shegong/appoint_form.html", {"form": form, "worker": worker,
                                                         "post_types": PostType.objects.all()})


@login_required
def appointment_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        appointment = appointment_get(user=request.user, pk=pk)
    except ObjectDoesNotExist as exc:
        raise Http404("不存在或不在您的管辖范围内") from exc
    if not user_can(request.user, "change", appointment):
        return HttpResponseForbidden("您可以查看但无权变更这项任职")
    form = EndForm(request.POST or None, initial={"end_date": timezone.localdate(),
                                                  "row_version": appointment.row_version})
    if request.method == "POST" and form.is_valid():
        expected = form.cleaned_data.get("row_version")
        try:
            appointment_end(appointment=appointment, end_date=form.cleaned_data["end_date"],
                            end_reason=form.cleaned_data["end_reason"], actor=request.user, reason="网页离任",
                            expected_version=expected)
        except ConflictError as exc:
            current = exc.current if isinstance(exc.current, Appointment) else appointment
            base = history_at(current, expected)
            fields = ("end_date", "end_reason")
            form = conflict_form(
                form, current={f: getattr(current, f) for f in fields},
                base={f: getattr(base, f) for f in fields} if base is not None else None,
                version=current.row_version, make=lambda data, initial: EndForm(data, initial=initial))
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{appointment.worker.name} 已从{appointment.post_type.name}离任,记录已保留")
            return redirect(reverse("worker_detail", args=[appointment.worker_id]))
    return render(request, "shegong/end_form.html", {"form": form, "appointment": appointment})


@login_required
def post_type_index(request: HttpRequest) -> HttpResponse:
    return render(request, "shegong/post_types.html", {"post_types": PostType.objects.all()})
