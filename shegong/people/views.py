"""Worker pages (社区工作者): the list, one worker, register, edit, reveal a masked field.

Appointments belong to staffing, which sits above people in the layers: staffing contributes the
worker page's appointment part through `worker_part` (and serves /workers/<pk>/appoint/ itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shegong.access import Forbidden, can, get_scoped, may_anywhere, restrict
from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS, normalize_text
from shegong.common.crypto import search_hash
from shegong.common.errors import ApplicationError, ConflictError
from shegong.common.forms import conflict_form
from shegong.common.history import history_entries
from shegong.common.lists import options_html, run_list
from shegong.common.rollup import rollup
from shegong.common.versioning import history_at
from shegong.org.cascade import chosen, division_cascade
from shegong.org.models import Division
from shegong.org.views import division_part
from shegong.people.forms import WorkerForm
from shegong.people.idnumber import IdNumberError, parse_id_number
from shegong.people.lists import WORKERS
from shegong.people.models import Worker
from shegong.people.services import worker_create, worker_reveal, worker_update

HISTORY = 50  # entries shown on the worker page, newest first
FILTERS = ("community", "post_type", "category", "status", "q", "idh", "idbad")
WORKER_FORM_FIELDS = ("name", "ethnicity", "political_status", "education", "category", "status",
                      "work_start_date", "post_start_date")
NO_COMMUNITY = "您没有可以登记社区工作者的社区"
REVEAL_IDS = {"id_number": "id-number", "phone": "phone"}  # the element ids of worker.html's masked fields

# A part: (request, worker) -> extra template context; "history" entries in it are merged with the worker's.
WorkerPart = Callable[[HttpRequest, Worker], dict[str, Any]]
_PARTS: list[WorkerPart] = []


def worker_part(part: WorkerPart) -> WorkerPart:
    """Register a higher app's contribution to the worker page (a decorator)."""
    if part not in _PARTS:
        _PARTS.append(part)
    return part


def ip_of(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def form_error(form: Any, exc: ApplicationError) -> None:
    """Put each of the service's errors next to its field (or above the form)."""
    for field, msgs in exc.errors.items():
        target = field if field in form.fields else None
        for msg in msgs:
            form.add_error(target, msg if target or field == "__all__" else f"{field}:{msg}")


def change_communities(request: HttpRequest) -> list[tuple[str, str]]:
    """The communities the actor may change, as form choices."""
    qs = Division.objects.restrict(request.user, "change").filter(level=Division.Level.COMMUNITY, is_active=True)
    return [(code, f"{name}({code})") for code, name in qs.order_by("code").values_list("code", "name")[:3000]]


def community_from(request: HttpRequest, code: str) -> Division:
    """The community chosen in a form, which the actor must be allowed to change."""
    try:
        return Division.objects.restrict(request.user, "change").get(code=code)
    except Division.DoesNotExist as exc:
        raise ApplicationError("所选社区不在您可管理的范围内", field="community") from exc


@division_part
def _division_workers(request: HttpRequest, division: Division, children: list[Division]) -> dict[str, Any]:
    workers = Worker.objects.restrict(request.user, "view")
    if not children and division.is_community:
        return {"workers": list(workers.filter(community=division).order_by("status", "name"))}
    if not children:
        return {}
    counts = rollup(workers.filter(status=Worker.Status.ACTIVE), "community__code", parent=division.code,
                    length=len(children[0].code), n=Count("id"))
    return {"child_worker_counts": {code: row["n"] for code, row in counts.items()}}


@login_required
def worker_index(request: HttpRequest) -> HttpResponse:
    """The declared worker list (people/lists.py): restrict → filter → sort → page, or ?export=xlsx."""
    if request.method == "POST":
        return _search_redirect(request)
    result = run_list(WORKERS, request, restrict(WORKERS.queryset(), request.user, WORKERS.action))
    if isinstance(result, HttpResponse):
        return result
    params = {k: request.GET.get(k, "").strip() for k in FILTERS}
    params["community"] = chosen(request.GET.getlist("community"))
    form = result.form  # its post types were read once, to resolve the filter; the select reuses them
    post_types = [(code, name) for code, name, _ in form.post_types] if form is not None else []
    return render(request, "people/workers.html", {
        "list": result, "page": result.page, "params": params, "query": result.query,
        "search_hint": search_hint(params["q"], invalid_id=bool(params["idbad"])),
        # 市 → 区县 → 街道 → 社区, down to the current choice: never a province's 750 communities at once.
        "cascade": division_cascade(actor=request.user, field="community", selected=params["community"]),
        "post_type_options": options_html(post_types, params["post_type"]),
        "category_options": options_html(Worker.Category.choices, params["category"]),
        "status_options": options_html(Worker.Status.choices, params["status"]),
        "can_add": may_anywhere(request.user, "change"),
    })


def _id_like(text: str) -> bool:
    """Digits (and perhaps a final X): a piece of an ID number, which a name search never matches."""
    value = normalize_text(text).upper()
    return bool(value) and value.rstrip("X").isdigit() and value.count("X") <= 1


def search_hint(q: str, *, invalid_id: bool = False) -> str:
    """Why a search by number finds nobody, and what to do instead (issue 11, point 14). ID numbers are
    stored encrypted and found through a keyed hash of the whole number, so a part of one (the last four
    digits) cannot be searched."""
    what_to_do = _("身份证号请输入完整 18 位;按姓名查找请输入姓名片段")
    if not invalid_id and _id_like(q) and len(normalize_text(q)) >= 15:
        try:
            parse_id_number(q)  # a whole valid number (an old link, GET ?q=): found through its hash
            return ""
        except IdNumberError:
            invalid_id = True
    if invalid_id:
        return _("输入的身份证号无效,没有找到人员:请对照身份证逐位核对。%(todo)s") % {"todo": what_to_do}
    if _id_like(q):
        text = normalize_text(q)
        return _("“%(text)s”只有 %(n)s 位,不能按身份证号的一部分查找(号码加密保存)。%(todo)s") % {
            "text": text, "n": len(text), "todo": what_to_do}
    return ""


def _search_redirect(request: HttpRequest) -> HttpResponse:
    """The filter form posts, so that a full ID number never appears in a URL or an access log: it is
    replaced by its keyed hash before the redirect to the GET list."""
    params = {k: request.POST.get(k, "").strip() for k in (*FILTERS, "sort", "per_page")}
    params["community"] = chosen(request.POST.getlist("community"))  # the cascade's deepest choice
    try:
        params["idh"] = search_hash(parse_id_number(params["q"]).value)
        params["q"] = ""
    except IdNumberError:
        if _id_like(params["q"]) and len(normalize_text(params["q"])) >= 15:
            # A whole number that fails the check: no rows, a hint, and still never the number in the URL
            # (its keyed hash matches nobody, since every stored number is valid).
            params["idh"] = search_hash(normalize_text(params["q"]).upper())
            params["q"], params["idbad"] = "", "1"
    query = urlencode({k: v for k, v in params.items() if v})
    url = reverse("people:worker_index")
    return redirect(f"{url}?{query}" if query else url)


def _worker(request: HttpRequest, pk: int, action: str = "view", message: str = "") -> Worker:
    return get_scoped(Worker.objects.select_related("community"), request.user, action, message=message, pk=pk)


@login_required
def worker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    # The newest HISTORY + 1 records only: the oldest of them serves as the "before" of the next one and
    # its own entry is dropped (its diff would be against nothing); older ones are never shown.
    newest = list(worker.history.select_related("history_user").order_by("-history_date", "-history_id")
                  [:HISTORY + 1])
    newest.reverse()
    own = history_entries(newest, Worker, subject="人员信息", known={Division: {worker.community_id: worker.community}})
    if len(newest) > HISTORY:
        own.pop()
    extra: dict[str, Any] = {}
    for part in _PARTS:
        extra.update(part(request, worker))
    entries = own + extra.pop("history", [])
    entries.sort(key=lambda e: e.when, reverse=True)
    return render(request, "people/worker.html", {
        "worker": worker, "history": entries[:HISTORY],
        "can_change": can(request.user, "change", worker), "can_reveal": can(request.user, "reveal", worker),
        "ethnicity": ETHNICITY.label(worker.ethnicity),
        "political_status": POLITICAL_STATUS.label(worker.political_status),
        "education": EDUCATION.label(worker.education), **extra,
    })


@login_required
@require_POST
def worker_reveal_view(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    worker = _worker(request, pk)
    try:
        value = worker_reveal(worker=worker, actor=request.user, field=field, ip=ip_of(request))
    except ApplicationError as exc:
        raise Forbidden(exc.message) from exc
    # The whole field is replaced: the value where the masked one was, and in place of the 查看 button a
    # note that it is shown (and logged) — no button that still offers to show what is on the screen.
    return HttpResponse(format_html(
        '<span class="mono revealed" id="{}" title="{}">{}</span> <span class="muted" role="status">{}</span>',
        REVEAL_IDS.get(field, field), _("已记录本次查看"), value, _("已显示,本次查看已记录")))


@login_required
def worker_new(request: HttpRequest) -> HttpResponse:
    communities = change_communities(request)
    if not communities:
        raise Forbidden(NO_COMMUNITY)
    initial = {"community": request.GET.get("community", ""), "category": Worker.Category.FULL_TIME,
               "status": Worker.Status.ACTIVE}
    form = WorkerForm(request.POST or None, communities=communities, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            data["community"] = community_from(request, data["community"])
            worker = worker_create(actor=request.user, reason="网页登记", **data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"已登记 {worker.name}")
            return redirect("people:worker_detail", pk=worker.pk)
    return render(request, "people/worker_form.html", {"form": form, "title": "登记社区工作者"})


def _worker_values(worker: Any) -> dict[str, Any]:
    """A worker (or a history record of one) in the edit form's terms; the phone and ID number masked
    (the form shows them blank: blank keeps them)."""
    values = {f: getattr(worker, f) for f in WORKER_FORM_FIELDS}
    community = Division.objects.filter(pk=worker.community_id).values_list("code", flat=True).first()
    values["community"] = community or ""
    values["phone"] = worker.phone_masked
    values["id_number"] = worker.id_number_masked
    return values


def _changed(form: WorkerForm) -> dict[str, Any]:
    data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data and k != "row_version"}
    for key in ("id_number", "phone"):
        if not data.get(key):
            data.pop(key, None)  # blank keeps the registered value
    return data


@login_required
def worker_edit(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk, "change", "您可以查看但无权修改这名社区工作者")
    communities = change_communities(request)
    initial: dict[str, Any] = {f: getattr(worker, f) for f in WORKER_FORM_FIELDS}
    initial.update(community=worker.community.code, row_version=worker.row_version)
    form = WorkerForm(request.POST or None, communities=communities, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = _changed(form)
        expected = form.cleaned_data.get("row_version")
        try:
            if "community" in data:
                data["community"] = community_from(request, data["community"])
            worker_update(worker=worker, actor=request.user, reason="网页修改", expected_version=expected, **data)
        except ConflictError as exc:
            current = exc.current if isinstance(exc.current, Worker) else _worker(request, pk)
            base = history_at(current, expected)
            form = conflict_form(
                form, current=_worker_values(current), base=_worker_values(base) if base is not None else None,
                version=current.row_version, keep_blank=("phone", "id_number"),
                make=lambda data, initial: WorkerForm(data, communities=communities, initial=initial, editing=True))
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "已保存" if data else "没有修改")
            return redirect("people:worker_detail", pk=worker.pk)
    return render(request, "people/worker_form.html", {"form": form, "title": f"修改 {worker.name}",
                                                       "worker": worker})
