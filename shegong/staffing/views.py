"""Staffing pages: compliance (clauses 3.2, 4: roll-up at every level, findings, xlsx export), the
vacancies of the principal posts, post descriptions (岗位说明书, 8.1.1.2: streets → a street's posts →
one post's description, its versions, the edit form, publishing and the PDFs), post types, and the
appointment pages (任命 at /workers/<pk>/appoint/, 离任 at /appointments/<pk>/end/). Staffing also
contributes the appointment parts of the worker and community pages (people and org sit below it).

Thin: parse, call the selectors and services, render. Out of scope answers 404 (NotVisible); seen but
not allowed answers 403 (Forbidden) — both rendered once by shegong.web (403.html / 404.html).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from shegong.access import Forbidden, NotVisible, can, get_scoped
from shegong.common.errors import ApplicationError, ConflictError
from shegong.common.forms import conflict_form
from shegong.common.formviews import submit
from shegong.common.history import history_entries
from shegong.common.lists import filter_rows, run_list, run_rows, sort_key, sort_rows
from shegong.common.pdf import PdfUnavailable, pdf_response, render_pdf, unavailable_response
from shegong.common.versioning import history_at
from shegong.org.models import Division
from shegong.org.selectors import division_ancestors, division_list, division_roots
from shegong.org.views import division_part
from shegong.people.models import Worker
from shegong.people.views import community_from, form_error, worker_part
from shegong.staffing.compliance import (
    ERROR,
    WARNING,
    FindingsChange,
    clause_counts,
    community_report,
    compliance_report,
    rollup,
)
from shegong.staffing.descriptions import (
    description_current,
    description_draft,
    description_draft_save,
    description_edit_token,
    description_get,
    description_history,
    description_publish,
    description_statuses,
    description_street_get,
    description_street_list,
    description_token_base,
    description_versions,
    descriptions_for_appointments,
)
from shegong.staffing.entry import (
    ConfirmationRequired,
    appoint_checked,
    end_checked,
    preview_end,
)
from shegong.staffing.exporters import write_report
from shegong.staffing.forms import AppointForm, DescriptionForm, EndForm
from shegong.staffing.lists import FINDINGS, vacancies_list
from shegong.staffing.models import Appointment, PostDescription, PostType
from shegong.staffing.selectors import VACANCY_PAGE_POSTS, post_type_names, posts_held, vacancy_queryset

PAGE_SIZE = 50


def _as_of(request: HttpRequest) -> tuple[dt.date, str]:
    raw = request.GET.get("as_of", "").strip()
    if raw:
        try:
            return dt.date.fromisoformat(raw), ""
        except ValueError:
            return timezone.localdate(), f"核查日期“{raw}”无效,应为 YYYY-MM-DD;已按今天核查"
    return timezone.localdate(), ""


def _params(request: HttpRequest) -> dict[str, str]:
    return {k: request.GET.get(k, "").strip() for k in ("scope", "as_of", "level", "clause", "q")}


def _report(request: HttpRequest) -> tuple[Division | None, Any, dt.date, str]:
    as_of, warning = _as_of(request)
    scope = request.GET.get("scope", "").strip()
    if not scope:
        roots = list(division_roots(actor=request.user)[:2])
        if len(roots) == 1:  # one grant: its division is the page's scope (breadcrumbs, children)
            scope = roots[0].code
    try:
        division, report = compliance_report(actor=request.user, scope=scope, as_of=as_of)
    except Division.DoesNotExist as exc:
        raise NotVisible() from exc
    return division, report, as_of, warning


@login_required
def compliance_index(request: HttpRequest) -> HttpResponse:
    division, report, as_of, date_warning = _report(request)
    params = _params(request)
    findings = run_rows(FINDINGS, request, report.findings)  # level, clause, q; sort; page; ?export=xlsx
    if isinstance(findings, HttpResponse):
        return findings
    if division is None:
        children = list(division_roots(actor=request.user))
    elif division.is_community:
        children = []
    else:
        children = list(division_list(actor=request.user, parent=division))
    counts = rollup(report, children) if children else {}
    staffing = report.staffing.get(division.code) if division is not None and division.is_community else None
    return render(request, "staffing/compliance.html", {
        "division": division, "ancestors": division_ancestors(division=division) if division else [],
        "report": report, "as_of": as_of, "date_warning": date_warning, "params": params, "list": findings,
        "page": findings.page, "filtered": findings.count, "staffing": staffing,
        "children": [(d, counts.get(d.code, {})) for d in children],
        "clauses": clause_counts(report.findings), "all_clauses": report.rule_set.clauses(),
        "with_errors": report.communities_with(ERROR), "with_warnings": report.communities_with(WARNING),
        "clean": report.communities - len({f.community for f in report.findings}),
    })


@login_required
def compliance_export(request: HttpRequest) -> FileResponse:
    """The report's workbook (a summary sheet and the findings sheet), filtered and sorted like the page
    (the findings list's own filter and sort: staffing.lists.FINDINGS)."""
    division, report, as_of, _ = _report(request)
    findings = filter_rows(FINDINGS, report.findings, request.GET)[0]  # invalid filter: no rows, as on the page
    sort = sort_key(FINDINGS, request.GET)[0]
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 — FileResponse closes it
    write_report(spool, report, findings=sort_rows(FINDINGS, findings, sort))  # type: ignore[arg-type]
    spool.seek(0)
    name = f"合规检查_{division.code if division else '全部'}_{as_of.isoformat()}.xlsx"
    return FileResponse(spool, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
def vacancy_index(request: HttpRequest) -> HttpResponse:
    as_of, date_warning = _as_of(request)
    posts = VACANCY_PAGE_POSTS
    declaration = vacancies_list(post_type_names(posts), posts)
    # The scope is the list's filter (VacancyFilter); the date changes the rows' annotations.
    rows = vacancy_queryset(actor=request.user, as_of=as_of, posts=posts)
    result = run_list(declaration, request, rows)
    if isinstance(result, HttpResponse):  # ?export=xlsx
        return result
    scope = request.GET.get("scope", "").strip()
    return render(request, "staffing/vacancies.html", {
        "list": result, "page": result.page, "count": result.count, "as_of": as_of, "date_warning": date_warning,
        "scope": scope,
    })


# ---- post descriptions ----------------------------------------------------------------------------
READ_ONLY = "您可以查看但无权编辑这个街道的岗位说明书(8.1.1.2:岗位说明书由街道(乡镇)制定)"




def _street(request: HttpRequest, code: str) -> Division:
    try:
        return description_street_get(actor=request.user, code=code)
    except Division.DoesNotExist as exc:
        raise NotVisible() from exc


def _post_type(code: str) -> PostType:
    try:
        return PostType.objects.get(code=code)
    except PostType.DoesNotExist as exc:
        raise NotVisible("没有这个岗位") from exc


def _lines(values: list[str]) -> str:
    return "\n".join(values)


def _filename(d: PostDescription) -> str:
    if d.is_default:
        suffix = "标准默认"
    elif d.status == PostDescription.Status.DRAFT:
        suffix = f"v{d.version}-草稿"
    else:
        suffix = f"v{d.version}"
    return f"岗位说明书-{d.street.name}-{d.post_type.name}-{suffix}.pdf"


def _pdf(request: HttpRequest, d: PostDescription) -> HttpResponse:
    try:
        data = render_pdf("staffing/description_pdf.html", {
            "d": d, "street": d.street, "post_type": d.post_type,
            "ancestors": division_ancestors(division=d.street),
        })
    except PdfUnavailable as exc:
        return unavailable_response(exc)
    return pdf_response(data, filename=_filename(d))


@login_required
def description_index(request: HttpRequest) -> HttpResponse:
    """The streets whose descriptions the user reads; a user with one street goes straight to it."""
    q = request.GET.get("q", "").strip()
    qs = description_street_list(actor=request.user, q=q)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    if not q and page.paginator.count == 1:
        return redirect("staffing:description_list", street_code=page.object_list[0].code)
    return render(request, "staffing/description_streets.html", {"page": page, "q": q,
                                                                 "post_count": PostType.objects.count()})


@login_required
def description_list(request: HttpRequest, street_code: str) -> HttpResponse:
    street = _street(request, street_code)
    return render(request, "staffing/description_list.html", {
        "street": street, "ancestors": division_ancestors(division=street),
        "rows": description_statuses(actor=request.user, street=street),
        "can_change": can(request.user, "change", street),
    })


def _detail(request: HttpRequest, street: Division, post_type: PostType, d: PostDescription) -> HttpResponse:
    can_change = can(request.user, "change", street)
    versions = description_versions(actor=request.user, street=street, post_type=post_type)
    current = next((v for v in versions if v.status == PostDescription.Status.PUBLISHED), None)
    draft = next((v for v in versions if v.status == PostDescription.Status.DRAFT), None)
    return render(request, "staffing/description_detail.html", {
        "street": street, "post_type": post_type, "d": d, "ancestors": division_ancestors(division=street),
        "versions": versions, "current": current, "draft": draft, "can_change": can_change,
        "history": description_history(actor=request.user, street=street, post_type=post_type),
    })


def _version(request: HttpRequest, street: Division, post_type: PostType, version: int) -> PostDescription:
    try:
        return description_get(actor=request.user, street=street, post_type=post_type, version=version)
    except PostDescription.DoesNotExist as exc:
        raise NotVisible() from exc


@login_required
def description_detail(request: HttpRequest, street_code: str, post_code: str) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    d = description_current(actor=request.user, street=street, post_type=post_type)
    return _detail(request, street, post_type, d)


@login_required
def description_version(request: HttpRequest, street_code: str, post_code: str, version: int) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    return _detail(request, street, post_type, _version(request, street, post_type, version))


@login_required
def description_pdf(request: HttpRequest, street_code: str, post_code: str) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    return _pdf(request, description_current(actor=request.user, street=street, post_type=post_type))


@login_required
def description_version_pdf(request: HttpRequest, street_code: str, post_code: str, version: int) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    return _pdf(request, _version(request, street, post_type, version))


def _form_values(d: PostDescription) -> dict[str, str]:
    return {"reporting_line": d.reporting_line, "added_duties": _lines(d.added_duties),
            "requirements": _lines(d.requirements), "assessment": _lines(d.assessment), "note": d.note}


@login_required
def description_edit(request: HttpRequest, street_code: str, post_code: str) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    if not can(request.user, "change", street):
        raise Forbidden(READ_ONLY)
    draft = description_draft(actor=request.user, street=street, post_type=post_type)
    base = draft or description_current(actor=request.user, street=street, post_type=post_type)
    initial = {**_form_values(base), "row_version": description_edit_token(street=street, post_type=post_type)}
    form = DescriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        publish = request.POST.get("action") == "publish"
        data = dict(form.cleaned_data)
        expected = data.pop("row_version") or None
        try:
            with transaction.atomic():
                saved = description_draft_save(actor=request.user, street=street, post_type=post_type,
                                               expected=expected, force=publish, **data)
                unchanged = saved.status != PostDescription.Status.DRAFT or (
                    draft is not None and saved.pk == draft.pk and saved.row_version == draft.row_version)
                if publish:
                    saved = description_publish(actor=request.user, street=street, post_type=post_type)
        except ConflictError:
            draft = description_draft(actor=request.user, street=street, post_type=post_type)
            base = draft or description_current(actor=request.user, street=street, post_type=post_type)
            started = description_token_base(street=street, post_type=post_type, token=expected or "")
            form = conflict_form(
                form, current=_form_values(base), base=_form_values(started) if started is not None else None,
                version=description_edit_token(street=street, post_type=post_type),
                make=lambda data, initial: DescriptionForm(data, initial=initial))
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            if publish:
                messages.success(request, f"已发布{post_type.name}岗位说明书 v{saved.version}")
            elif unchanged:
                messages.info(request, "内容没有修改,未保存")
            else:
                messages.success(request, f"已保存草稿 v{saved.version},发布后才对其他人生效")
            return redirect("staffing:description_detail", street_code=street.code, post_code=post_type.code)
    return render(request, "staffing/description_edit.html", {
        "street": street, "post_type": post_type, "form": form, "draft": draft, "base": base,
        "ancestors": division_ancestors(division=street),
    })


@login_required
@require_POST
def description_publish_view(request: HttpRequest, street_code: str, post_code: str) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    if not can(request.user, "change", street):
        raise Forbidden(READ_ONLY)
    try:
        d = description_publish(actor=request.user, street=street, post_type=post_type)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已发布{post_type.name}岗位说明书 v{d.version}")
    return redirect("staffing:description_detail", street_code=street.code, post_code=post_type.code)


# ---- post types and appointments ------------------------------------------------------------------


@login_required
def post_type_index(request: HttpRequest) -> HttpResponse:
    return render(request, "staffing/post_types.html", {"post_types": PostType.objects.all()})


@worker_part
def _worker_appointments(request: HttpRequest, worker: Worker) -> dict[str, Any]:
    """The worker page's posts: current (with the street's 岗位说明书, 8.1.1.2) and past, and their history."""
    appointments = list(Appointment.objects.restrict(request.user, "view").filter(worker=worker)
                        .select_related("community", "post_type").defer("post_type__duties")  # long JSON, not shown
                        .order_by("end_date", "-start_date"))
    subjects = {a.pk: f"任职:{a.post_type.name}({a.community.name})" for a in appointments}
    records = list(Appointment.history.filter(id__in=list(subjects)).select_related("history_user")
                   .order_by("history_date", "history_id"))
    current = [a for a in appointments if a.end_date is None]
    links = descriptions_for_appointments(appointments=current)
    for a in current:
        street, post, version = links[a.pk]
        a.description_url = reverse("staffing:description_detail", args=[street, post])  # type: ignore[attr-defined]
        a.description_label = f"v{version}" if version else "标准默认"  # type: ignore[attr-defined]
    return {"current": current, "past": [a for a in appointments if a.end_date is not None],
            # the names in the diffs are those of the rows loaded above: no query for them
            "history": history_entries(records, Appointment, subject=subjects, known={
                Worker: {worker.pk: worker}, Division: {a.community_id: a.community for a in appointments},
                PostType: {a.post_type_id: a.post_type for a in appointments}})}


@division_part
def _community_posts(request: HttpRequest, division: Division, children: list[Division]) -> dict[str, Any]:
    """A community page's posts held and its compliance findings."""
    if children or not division.is_community:
        return {}
    report = community_report(community=division)
    return {"held": posts_held(actor=request.user, community=division),
            "compliance": {"findings": report.findings, "staffing": report.staffing.get(division.code),
                           "rule_set": report.rule_set}}


def _tell(request: HttpRequest, change: FindingsChange) -> None:
    """After saving: the findings the change cleared (good news), changed and added."""
    for f in change.only_cleared:
        messages.success(request, f"已消除合规问题({f.clause}):{f.message}")
    for before, after in change.changed:
        messages.info(request, f"合规问题有变化({after.clause}):{after.message}(此前 {before.actual})")
    for f in change.only_added:
        tell = messages.error if f.level == ERROR else messages.warning
        tell(request, f"新增合规{f.level_name}({f.clause}):{f.message}")


@login_required
def worker_appoint(request: HttpRequest, pk: int) -> HttpResponse:
    """任命: the findings the appointment would add and clear are checked before it is saved; one that
    brings about a new compliance error is saved only when the user confirms it with a reason (issue 11)."""
    worker = get_scoped(Worker.objects.select_related("community"), request.user, "change",
                        message="您可以查看但无权为这名社区工作者任免岗位", pk=pk)
    form = AppointForm(request.POST or None, actor=request.user,
                       preview_url=reverse("staffing:worker_appoint", args=[worker.pk]),
                       initial={"community": worker.community.code, "start_date": timezone.localdate()})
    post = request.GET.get("post_type", "")
    if request.method != "POST" and post in form.usual_methods:  # the post chosen (htmx): its usual method
        form.initial.update(post_type=post, method=form.usual_methods[post])
    change = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            checked = appoint_checked(
                worker=worker, community=community_from(request, data["community"]), post_type=data["post_type"],
                method=data["method"], start_date=data["start_date"], note=data["note"], actor=request.user,
                reason="网页任命", confirm_reason=form.given_confirm_reason())
        except ConfirmationRequired as exc:
            change = exc.change
            if data["confirm"]:
                form.add_error("confirm_reason", "勾选确认时必须填写理由(记入任职的变更记录)")
            else:
                form.add_error(None, f"这项任命将新增 {len(change.new_errors)} 项合规错误(见下表)。"
                                     "如确需任命,请勾选确认并填写理由后再次提交")
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"已任命 {worker.name} 为{data['post_type'].name}")
            _tell(request, checked.change)
            return redirect("people:worker_detail", pk=worker.pk)
    return render(request, "staffing/appoint_form.html", {"form": form, "worker": worker, "change": change})


def _end_conflict(form: EndForm, exc: ConflictError, appointment: Appointment, expected: Any) -> EndForm:
    current = exc.current if isinstance(exc.current, Appointment) else appointment
    base = history_at(current, expected)
    fields = ("end_date", "end_reason")
    return conflict_form(
        form, current={f: getattr(current, f) for f in fields},
        base={f: getattr(base, f) for f in fields} if base is not None else None,
        version=current.row_version, make=lambda data, initial: EndForm(data, initial=initial))


@login_required
def appointment_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    """离任: the page shows what ending the post today would do to the community's findings (a vacancy),
    and after saving what it did."""
    appointment = get_scoped(Appointment.objects.select_related("worker", "community", "post_type"), request.user,
                             "change", message="您可以查看但无权变更这项任职", pk=pk)
    today = timezone.localdate()
    form = EndForm(request.POST or None, initial={"end_date": today, "row_version": appointment.row_version})
    if request.method == "POST" and form.is_valid():
        expected = form.cleaned_data.get("row_version")

        def save() -> str:
            checked = end_checked(appointment=appointment, end_date=form.cleaned_data["end_date"],
                                  end_reason=form.cleaned_data["end_reason"], actor=request.user, reason="网页离任",
                                  expected_version=expected)
            _tell(request, checked.change)
            return f"{appointment.worker.name} 已从{appointment.post_type.name}离任,记录已保留"

        done, form = submit(request, form, save, to="people:worker_detail", errors=form_error,
                            conflict=lambda exc: _end_conflict(form, exc, appointment, expected),
                            pk=appointment.worker_id)
        if done is not None:
            return done
    preview = None
    if appointment.end_date is None:
        preview = preview_end(appointment=appointment, end_date=today, actor=request.user)
    return render(request, "staffing/end_form.html", {"form": form, "appointment": appointment,
                                                      "preview": preview, "today": today})
