"""Archive pages (人事档案, 8.1.2): a worker's archive with its catalogue in the ten classes, completeness
and warnings; records, scans, voiding, transfer; the access log; correction requests; the completeness
roll-up and the audit. Thin: parse, call archives.services / archives.selectors, render.

Scope: out of scope answers 404 (the archive, a record, an attachment, a request). A user who may view
an archive but not change it — a training admin, the worker themself, anyone once the worker has left
(只读) — sees no edit controls and gets 403 on every write. Every GET of the archive page is logged
(services.archive_open); so is every download.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.views.decorators.http import require_POST, require_safe

from shegong.access import Forbidden, NotVisible, can, get_scoped, may_anywhere
from shegong.archives import documents, selectors, services
from shegong.archives.exporters import write_completeness
from shegong.archives.filters import digits
from shegong.archives.forms import (
    CATALOGUE_FIELDS,
    EDIT_FORMS,
    RECORD_FORMS,
    CorrectionForm,
    DecisionForm,
    RecordForm,
    TransferForm,
    UploadForm,
    VoidForm,
    class_label,
    read_scan,
    record_initial,
)
from shegong.archives.lists import ACCESS_LOG, community_archives, corrections_list
from shegong.archives.models import ArchiveRecord, Attachment, CorrectionRequest
from shegong.archives.rules import archive_rules
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.common.errors import ApplicationError, ConflictError
from shegong.common.forms import conflict_form
from shegong.common.formviews import submit
from shegong.common.history import history_entries
from shegong.common.lists import run_list, run_rows
from shegong.common.models import AccessLog
from shegong.common.pdf import PdfUnavailable, pdf_response, unavailable_response
from shegong.common.versioning import history_at
from shegong.org.cascade import chosen, division_cascade
from shegong.org.models import Division
from shegong.org.selectors import division_ancestors, division_get, division_roots
from shegong.people.models import Worker

NOT_ALLOWED = "您可以查看但无权修改这份档案"
# Service error fields that are called differently in the forms.
FIELD_ALIASES = {"file": "scan"}


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _form_error(form: Any, exc: ApplicationError) -> None:
    """Each of the service's errors next to its field, or above the form when it names none of them."""
    for field, msgs in exc.errors.items():
        name = FIELD_ALIASES.get(field, field)
        target = name if name in form.fields else None
        for msg in msgs:
            form.add_error(target, msg)


def _next_url(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next", "") or request.GET.get("next", "")
    return url if url.startswith("/") and not url.startswith("//") else default


def _worker(request: HttpRequest, pk: int) -> Worker:
    return get_scoped(Worker.objects.select_related("community", "community__parent"), request.user, pk=pk)


def _record(request: HttpRequest, pk: int) -> ArchiveRecord:
    return get_scoped(ArchiveRecord.objects.select_related(
        "worker", "worker__community", "education", "work", "qualification", "reward", "sanction", "created_by",
        "voided_by"), request.user, pk=pk)


def _require_writable(request: HttpRequest, worker: Worker) -> None:
    """Forbidden (403) for a user who may view the archive but not change it, or when it is read-only."""
    if not can(request.user, "change", worker):
        raise Forbidden(NOT_ALLOWED)
    if worker.status != Worker.Status.ACTIVE:
        raise Forbidden(f"{worker.name}已{worker.status},档案只读:不能再增加、修改、作废材料或转递")


def _archive_url(worker_id: int, anchor: str = "") -> str:
    return reverse("archives:archive_detail", args=[worker_id]) + (f"#{anchor}" if anchor else "")


# ---- the archive --------------------------------------------------------------------------------------


def _archive_reminders(live: list[ArchiveRecord]) -> dict[str, Any]:
    """Qualifications (with their expiry warnings) and sanctions in force, for the archive page."""
    today = timezone.localdate()
    qualifications = [(r, selectors.qualification_status(q, today)) for r in live
                      if (q := getattr(r, "qualification", None)) is not None]
    sanctions = [r for r in live if (s := getattr(r, "sanction", None)) is not None and s.in_force(today)]
    return {"warnings": [(r, s) for r, s in qualifications if s.warning], "qualifications": qualifications,
            "sanctions": sanctions,
            "reminder_count": sum(1 for _, s in qualifications if s.warning) + len(sanctions)}


def _archive_contents(worker: Worker, records: list[ArchiveRecord]) -> dict[str, Any]:
    """The catalogue by class, the required items and the counts."""
    rules = archive_rules()
    entries = selectors.catalogue(worker=worker, records=records)
    status = selectors.completeness(worker=worker, records=records)
    live = [r for r in records if not r.is_voided]
    # A required item is missing either because nothing is registered for it or because its record has
    # no scan yet: the panel then offers to upload to that record instead of registering another.
    unscanned = {r.required_item: r for r in live if r.required_item and not r.attachments.all()}
    return {
        "groups": [(n, class_label(n, name), [e for e in entries if e.archive_class == n])
                   for n, name in rules.classes.items()],
        "status": status, "rate": round(status.rate * 100),
        # Each required item: the record holding it (with a scan), or the record still lacking its scan.
        "items": [(item, held, None if held else unscanned.get(item.code)) for item, held in status.items],
        "missing": status.missing,
        "record_count": len(live), "attachment_count": sum(len(r.attachments.all()) for r in live),
        "voided_count": len(records) - len(live),
        **_archive_reminders(live),
    }


def _archive_rights(request: HttpRequest, worker: Worker) -> dict[str, Any]:
    """What the viewer may do on this archive (buttons and forms)."""
    user = request.user
    can_change = can(user, "change", worker)
    writable = can_change and worker.status == Worker.Status.ACTIVE
    can_transfer = writable and (
        Division.objects.restrict(user, "change").filter(level=Division.Level.COMMUNITY, is_active=True)
        .exclude(pk=worker.community_id).exists())
    return {"can_change": can_change, "writable": writable, "can_transfer": can_transfer,
            "is_self": getattr(user, "worker_id", None) == worker.pk,
            "read_only": worker.status != Worker.Status.ACTIVE}


@login_required
@require_safe
def archive_detail(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    services.archive_open(actor=request.user, worker=worker, ip=_ip(request))
    records = selectors.archive_records(worker=worker)
    rights = _archive_rights(request, worker)
    corrections = list(selectors.correction_requests(actor=request.user).filter(worker=worker)[:50])
    return render(request, "archives/archive.html", {
        "worker": worker, "community": worker.community, "street": worker.community.parent,
        **_archive_contents(worker, records), **rights,
        "kinds": ArchiveRecord.Kind.choices,
        "corrections": corrections,
        "pending": [c for c in corrections if c.status == CorrectionRequest.Status.PENDING],
        "correction_form": CorrectionForm(records=records) if rights["is_self"] else None,
        "decision_form": DecisionForm() if rights["can_change"] else None,
        "unseen": selectors.unseen_decisions(worker=worker) if rights["is_self"] else [],
    })


def _detail_rows(record: ArchiveRecord) -> list[tuple[str, str]]:
    """The structured record's details as (label, value) for the record page."""
    detail = getattr(record, record.kind, None) if record.kind != ArchiveRecord.Kind.DOCUMENT else None
    if detail is None:
        return []
    rows = []
    for f in detail._meta.fields:
        if f.name == "record":
            continue
        value = getattr(detail, f.name)
        if f.choices:
            value = getattr(detail, f"get_{f.name}_display")()
        elif isinstance(value, bool):
            value = "是" if value else "否"
        rows.append((str(f.verbose_name), "—" if value in (None, "") else str(value)))
    return rows


def _record_page(request: HttpRequest, record: ArchiveRecord, *, upload_form: UploadForm | None = None,
                 void_form: VoidForm | None = None, status: int = 200) -> HttpResponse:
    worker = record.worker
    can_change = can(request.user, "change", worker)
    writable = can_change and worker.status == Worker.Status.ACTIVE and not record.is_voided
    history = list(record.history.select_related("history_user").order_by("history_date", "history_id"))
    entries = history_entries(history, ArchiveRecord, subject="材料")
    detail_model = services.DETAIL_MODELS.get(record.kind)
    if detail_model is not None:  # the structured fields' own changes (学历、起止日期 …), under the kind's name
        detail_history = list(detail_model.history.filter(record_id=record.pk)  # type: ignore[attr-defined]
                              .select_related("history_user").order_by("history_date", "history_id"))
        for past in detail_history:  # history_entries keys rows by `.id`; a detail's key is its record
            past.id = past.record_id
        entries += history_entries(detail_history, detail_model, subject=record.get_kind_display())
    entries.sort(key=lambda e: e.when, reverse=True)
    item = archive_rules().required_item(record.required_item) if record.required_item else None
    q = getattr(record, "qualification", None)
    return render(request, "archives/record.html", {
        "record": record, "worker": worker, "class_label": class_label(record.archive_class,
                                                                       record.get_archive_class_display()),
        "attachments": list(record.attachments.all()), "details": _detail_rows(record), "item": item,
        "qualification": selectors.qualification_status(q) if q is not None else None,
        "can_change": can_change, "writable": writable, "read_only": worker.status != Worker.Status.ACTIVE,
        "upload_form": upload_form or UploadForm(), "void_form": void_form or VoidForm(), "history": entries,
        "corrections": list(record.correction_requests.select_related("decided_by", "carried_out_by")
                            .order_by("-requested_at", "-id")),
    }, status=status)


@login_required
@require_safe
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _record_page(request, _record(request, pk))


@login_required
def record_new(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    _require_writable(request, worker)
    kind = request.GET.get("kind", "") or ArchiveRecord.Kind.DOCUMENT
    if kind not in RECORD_FORMS:
        raise NotVisible("没有这种材料")
    form_class = RECORD_FORMS[kind]
    initial = {k: request.GET[k] for k in ("archive_class", "required_item") if request.GET.get(k)}
    item = archive_rules().required_item(initial.get("required_item", ""))
    if item is not None:
        initial.setdefault("archive_class", str(item.archive_class))
        initial.setdefault("title", item.name)
    correction = _correction_to_carry_out(request, worker)
    if isinstance(correction, HttpResponse):
        return correction
    form: RecordForm = form_class(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        scan = form.cleaned_data.get("scan")
        try:
            with transaction.atomic():  # the record, its scan and the request carried out together, or none
                record = services.record_create(actor=request.user, worker=worker, kind=form.kind,
                                                details=form.details() or None,
                                                reason=_correction_reason(correction) or "网页登记档案材料",
                                                **form.record_data())
                if scan:
                    services.attachment_add(actor=request.user, record=record, name=scan.name, data=read_scan(scan))
                if correction is not None:
                    services.correction_carry_out(actor=request.user, request=correction, record=record, how="增加")
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已登记“{record.title}”" + (",扫描件已上传" if scan else "")
                             + (";更正申请已落实" if correction is not None else ""))
            return redirect(_archive_url(worker.pk, f"r{record.pk}"))
    return render(request, "archives/record_form.html", {
        "worker": worker, "form": form, "kind": kind, "kinds": ArchiveRecord.Kind.choices,
        "kind_label": ArchiveRecord.Kind(kind).label, "query": request.GET.urlencode(), "correction": correction,
        "carry": f"&correction={correction.pk}" if correction is not None else "",
    })


def _correction_to_carry_out(request: HttpRequest, worker: Worker) -> CorrectionRequest | HttpResponse | None:
    """The accepted correction request named by ?correction= that the form will carry out (None when
    none is named; 404 when it is not this worker's or not visible; back to the request with a message
    when it is not (or no longer) waiting to be carried out)."""
    raw = request.GET.get("correction", "").strip()
    if not raw:
        return None
    correction = get_scoped(selectors.correction_requests(actor=request.user), request.user, "change",
                            pk=raw if raw.isdigit() else 0)
    if correction.worker_id != worker.pk:
        raise NotVisible("这项更正申请不属于该人员的档案")
    if correction.status != CorrectionRequest.Status.ACCEPTED:
        messages.error(request, f"这项更正申请{correction.get_status_display()},不能再按此更正")
        return redirect("archives:archive_correction_decide", pk=correction.pk)
    return correction


def _correction_reason(correction: CorrectionRequest | None) -> str:
    return f"按更正申请更正:{Truncator(correction.text).chars(80)}" if correction is not None else ""


def _record_base(record: ArchiveRecord, version: int | None) -> dict[str, Any] | None:
    """The record and its details as they were at `version`, in the edit form's terms (None: unknown)."""
    past = history_at(record, version)
    if past is None:
        return None
    values: dict[str, Any] = {name: getattr(past, name) for name in CATALOGUE_FIELDS}
    values["archive_class"] = str(past.archive_class)
    detail_model = services.DETAIL_MODELS.get(record.kind)
    if detail_model is not None:
        detail = (detail_model.history.filter(record_id=record.pk, history_date__lte=past.history_date)  # type: ignore[attr-defined]
                  .order_by("-history_date", "-history_id").first())
        values |= {name: getattr(detail, name, None) for name in EDIT_FORMS[record.kind].detail_fields}
    return values


@login_required
def record_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """修改档案材料: the record's catalogue fields and details, prefilled, with a required reason kept in
    history; optimistic concurrency on the record's version. With ?correction= it carries out an
    accepted correction request (落实) in the same transaction."""
    record = _record(request, pk)
    worker = record.worker
    _require_writable(request, worker)
    if record.is_voided:
        raise Forbidden("已作废的材料不能修改")
    correction = _correction_to_carry_out(request, worker)
    if isinstance(correction, HttpResponse):
        return correction
    form_class = EDIT_FORMS[record.kind]
    initial = record_initial(record)
    if correction is not None:
        initial["reason"] = _correction_reason(correction)
    form: Any = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        catalogue, details = form.changes()
        if not catalogue and not details:
            messages.info(request, "没有修改" + (";更正申请尚未落实" if correction is not None else ""))
            return redirect("archives:archive_record", pk=record.pk)
        expected = form.cleaned_data.get("row_version")
        try:
            with transaction.atomic():
                services.record_update(actor=request.user, record=record, details=details or None,
                                       reason=form.cleaned_data["reason"], expected_version=expected, **catalogue)
                if correction is not None:
                    services.correction_carry_out(actor=request.user, request=correction, record=record)
        except ConflictError as exc:
            current = exc.current if isinstance(exc.current, ArchiveRecord) else _record(request, pk)
            form = conflict_form(form, current=record_initial(current), base=_record_base(current, expected),
                                 version=current.row_version,
                                 make=lambda data, initial: form_class(data, initial=initial))
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已修改“{record.title}”" + (";更正申请已落实" if correction else ""))
            return redirect("archives:archive_record", pk=record.pk)
    return render(request, "archives/record_form.html", {
        "worker": worker, "form": form, "kind": record.kind, "kind_label": record.get_kind_display(),
        "record": record, "editing": True, "correction": correction,
    })


@login_required
@require_POST
def record_upload(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    _require_writable(request, record.worker)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        scan = form.cleaned_data["scan"]

        def save() -> str:
            attachment = services.attachment_add(actor=request.user, record=record, name=scan.name,
                                                 data=read_scan(scan))
            return f"已上传“{attachment.original_name}”到“{record.title}”"

        done, form = submit(request, form, save, errors=_form_error,
                            to=_next_url(request, _archive_url(record.worker_id, f"r{record.pk}")))
        if done is not None:
            return done
    return _record_page(request, record, upload_form=form)


@login_required
@require_POST
def record_void_view(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    _require_writable(request, record.worker)
    form = VoidForm(request.POST)
    if form.is_valid():

        def save() -> str:
            services.record_void(actor=request.user, record=record, reason=form.cleaned_data["reason"])
            return f"已作废“{record.title}”;材料仍保留在档案中,划线显示"

        done, form = submit(request, form, save, errors=_form_error, to=_archive_url(record.worker_id, f"r{record.pk}"))
        if done is not None:
            return done
    return _record_page(request, record, void_form=form)


@login_required
def attachment_download_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    attachment = get_scoped(Attachment.objects.select_related("record", "record__worker"), request.user, pk=pk)
    try:
        fh = services.attachment_download(actor=request.user, attachment=attachment, ip=_ip(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("archives:archive_record", pk=attachment.record_id)
    response = FileResponse(fh, as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _has_transfer_targets(request: HttpRequest, worker: Worker) -> bool:
    return (Division.objects.restrict(request.user, "change").filter(level=Division.Level.COMMUNITY, is_active=True)
            .exclude(pk=worker.community_id).exists())


@login_required
def transfer_view(request: HttpRequest, pk: int) -> HttpResponse:
    """转递: the target community chosen with the division cascader (市 → 区县 → 街道 → 社区); its deepest
    choice is the target, which the service checks (a community, in the user's change scope)."""
    worker = _worker(request, pk)
    _require_writable(request, worker)
    data = None
    if request.method == "POST":
        data = request.POST.copy()
        data["to_community"] = chosen(request.POST.getlist("to_community"))
    form = TransferForm(data, initial={"date": timezone.localdate()})
    if data is not None and form.is_valid():
        cleaned = form.cleaned_data

        def save() -> str:
            try:
                target = division_get(actor=request.user, code=cleaned["to_community"], action="change")
            except Division.DoesNotExist as exc:
                raise ApplicationError("所选社区不在您可管理的范围内", field="to_community") from exc
            services.archive_transfer(actor=request.user, worker=worker, to_community=target,
                                      date=cleaned["date"], reason=cleaned["reason"])
            return f"已将{worker.name}的档案转递至{target.name}"

        done, form = submit(request, form, save, to="archives:archive_detail", errors=_form_error, pk=worker.pk)
        if done is not None:
            return done
    selected = str(data["to_community"]) if data is not None else ""
    return render(request, "archives/transfer_form.html", {
        "worker": worker, "form": form, "has_targets": _has_transfer_targets(request, worker),
        "cascade": division_cascade(actor=request.user, field="to_community", selected=selected),
    })


# ---- access log ---------------------------------------------------------------------------------------


@login_required
def access_log_view(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    rows = selectors.access_log_for(worker=worker)
    return render(request, "archives/access_log.html", {
        "worker": worker, "rows": rows, "is_self": getattr(request.user, "worker_id", None) == worker.pk,
        "limited": len(rows) >= 200,
    })


def _worker_only(request: HttpRequest) -> bool:
    """A worker's own account without any grant to change anything (the admin pages do not apply)."""
    return bool(getattr(request.user, "worker_id", None)) and not may_anywhere(request.user, "change")


@login_required
def audit_index(request: HttpRequest) -> HttpResponse:
    if _worker_only(request):
        return redirect("archives:archive_access_log", pk=request.user.worker_id)  # type: ignore[union-attr]
    result = run_list(ACCESS_LOG, request, selectors.access_log_list(actor=request.user))
    if isinstance(result, HttpResponse):  # ?export=xlsx
        return result
    get = request.GET
    scope = chosen(get.getlist("scope")) or digits(get.get("scope", ""))
    return render(request, "archives/audit.html", {
        "list": result, "page": result.page, "action": get.get("action", ""), "scope": scope,
        "since": get.get("since", ""), "until": get.get("until", ""), "user_q": get.get("user", ""),
        "actions": AccessLog.Action.choices,
        "cascade": division_cascade(actor=request.user, field="scope", selected=scope),
        "filtered": any(get.get(k) for k in ("action", "scope", "since", "until", "user")),
    })


# ---- corrections (更正申请) ------------------------------------------------------------------------------


@login_required
def correction_new(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker(request, pk)
    if getattr(request.user, "worker_id", None) != worker.pk:
        raise Forbidden(services.NOT_SELF)
    records = selectors.archive_records(worker=worker)
    form = CorrectionForm(request.POST or None, records=records)
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["record"]
        record = next((r for r in records if str(r.pk) == chosen), None)

        def save() -> str:
            services.correction_request_create(actor=request.user, worker=worker, text=form.cleaned_data["text"],
                                               record=record)
            return "已提交更正申请;管理员处理后,结果会显示在档案页面"

        done, form = submit(request, form, save, errors=_form_error, to=_archive_url(worker.pk, "corrections"))
        if done is not None:
            return done
    return render(request, "archives/correction_form.html", {"worker": worker, "form": form})


@login_required
def correction_decide(request: HttpRequest, pk: int) -> HttpResponse:
    correction = get_scoped(selectors.correction_requests(actor=request.user), request.user, pk=pk)
    if not can(request.user, "change", correction.worker):
        raise Forbidden("您可以查看但无权处理这项更正申请")
    form = DecisionForm(request.POST or None, initial={"row_version": correction.row_version})
    if request.method == "POST" and form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"

        def save() -> str:
            services.correction_request_decide(actor=request.user, request=correction, accept=accept,
                                               reason=form.cleaned_data["reason"],
                                               expected_version=form.cleaned_data.get("row_version"))
            return (f"已处理{correction.worker.name}的更正申请:{correction.get_status_display()}"
                    + (";请点“按此更正”修改或补充档案材料" if accept else ""))

        # An accepted request stays on its page, which now offers 按此更正 (carrying it out).
        default = reverse("archives:archive_correction_decide", args=[correction.pk]) if accept else \
            _next_url(request, _archive_url(correction.worker_id, "corrections"))
        done, form = submit(request, form, save, errors=_form_error, to=default)
        if done is not None:
            return done
    return render(request, "archives/correction_decide.html", {
        "correction": correction, "worker": correction.worker, "form": form,
        "next": _next_url(request, ""),
        "kinds": ArchiveRecord.Kind.choices,
    })


@login_required
@require_POST
def corrections_seen(request: HttpRequest, pk: int) -> HttpResponse:
    """知道了: the worker has read the decisions on their correction requests."""
    worker = _worker(request, pk)
    if getattr(request.user, "worker_id", None) != worker.pk:
        raise Forbidden("只有本人可以确认已阅更正申请的处理结果")
    n = services.correction_decisions_seen(actor=request.user, worker=worker)
    if n:
        messages.success(request, "已确认阅知处理结果")
    return redirect(_archive_url(worker.pk, "corrections"))


@login_required
def correction_index(request: HttpRequest) -> HttpResponse:
    base = selectors.correction_requests(actor=request.user)
    result = run_list(corrections_list(can_decide=may_anywhere(request.user, "change")), request, base)
    if isinstance(result, HttpResponse):  # ?export=xlsx
        return result
    status = request.GET.get("status", "").strip()
    counts = dict(base.order_by().values_list("status").annotate(n=Count("id")))
    tabs = [("", "全部", sum(counts.values()))] + [(v, label, counts.get(v, 0))
                                                   for v, label in CorrectionRequest.Status.choices]
    return render(request, "archives/corrections.html", {
        "list": result, "page": result.page, "status": status, "tabs": tabs,
    })


# ---- completeness roll-up -----------------------------------------------------------------------------


@login_required
@require_safe
def archive_export(request: HttpRequest) -> FileResponse:
    """The completeness of every archive under ?parent= (or the whole scope) as a workbook: a sheet of
    rates per division, a sheet of workers with one column per required item."""
    parent = _parent(request)
    if _worker_only(request):
        raise NotVisible()
    rows = selectors.completeness_rates(actor=request.user, parent=parent)
    workers = selectors.worker_completeness(actor=request.user, scope=parent.code if parent else "")
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 — FileResponse closes it
    write_completeness(spool, rows=rows, workers=workers, scope=parent.name if parent else "全部管辖范围")  # type: ignore[arg-type]
    spool.seek(0)
    name = f"档案完整情况_{parent.code if parent else '全部'}_{timezone.localdate().isoformat()}.xlsx"
    return FileResponse(spool, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _parent(request: HttpRequest) -> Division | None:
    """The division of ?parent= (404 when out of scope), else the user's only root, else None."""
    code = request.GET.get("parent", "").strip()
    if code:
        with contextlib.suppress(DivisionCodeError):  # not a code at all: get_scoped answers "not found"
            code = normalize_code(code)
        return get_scoped(Division, request.user, code=code)
    roots = list(division_roots(actor=request.user)[:2])
    return roots[0] if len(roots) == 1 else None  # one grant: start inside it


@login_required
def archive_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    if _worker_only(request):
        return redirect("archives:archive_detail", pk=user.worker_id)  # type: ignore[union-attr]
    parent = _parent(request)
    rows: list[dict[str, Any]] = []
    listed = None
    if parent is not None and parent.is_community:
        # The community's workers, a declared list over their completeness (two queries whatever the
        # size; sortable, paged, ?export=xlsx with the columns of the whole-scope workbook's sheet).
        workers = selectors.worker_completeness(actor=user, scope=parent.code)
        result = run_rows(community_archives(), request, workers)
        if isinstance(result, HttpResponse):
            return result
        listed = result
        n, complete = len(workers), sum(1 for w in workers if not w.missing)
    else:
        rows = selectors.completeness_rates(actor=user, parent=parent)
        n, complete = sum(r["workers"] for r in rows), sum(r["complete"] for r in rows)
    for r in rows:
        r["percent"] = round(r["rate"] * 100) if r["rate"] is not None else None
        r["lacking"] = [(item, r["workers"] - n) for item, n in r["items"]]  # people WITHOUT each item
    due = selectors.qualifications_due(actor=user)
    return render(request, "archives/index.html", {
        "parent": parent, "ancestors": division_ancestors(division=parent) if parent else [],
        "rows": rows, "list": listed, "required": archive_rules().required,
        "total": n, "complete": complete, "percent": round(complete * 100 / n) if n else None,
        "due": due[:100], "due_count": len(due),
        "pending": selectors.correction_requests(actor=user, status=CorrectionRequest.Status.PENDING).count(),
    })


# ---- the two printed documents: catalogue (档案目录) and information form (社区工作者信息表) ----------
CATALOGUE = "档案目录"
INFO_FORM = "社区工作者信息表"


def _document(request: HttpRequest, pk: int, title: str, render: Callable[..., bytes]) -> HttpResponse:
    worker = _worker(request, pk)
    try:
        data = render(worker=worker)
    except PdfUnavailable as exc:
        return unavailable_response(exc)
    # Logged once the document exists: a failed rendering printed nothing.
    services.archive_print(actor=request.user, worker=worker, document=title, ip=request.META.get("REMOTE_ADDR"))
    response = pdf_response(data, filename=f"{worker.name}_{title}.pdf")
    response["Cache-Control"] = "private, no-store"  # personal data and the photo: never kept in a cache
    return response


@login_required
def catalogue_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _document(request, pk, CATALOGUE, documents.catalogue_pdf)


@login_required
def info_form_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _document(request, pk, INFO_FORM, documents.info_form_pdf)
