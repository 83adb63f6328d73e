"""Roster pages: upload → dry run (every error by row, 姓名 and column; or the preview: who is added or
updated, and the compliance findings the import adds and clears) → confirm or discard → import, with links
to what was imported; the marked workbook;
the template; and .xlsx exports of communities, workers and appointments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from shegong.access import Forbidden, NotVisible, may_anywhere
from shegong.common.errors import ApplicationError
from shegong.common.models import AccessLog
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.people.selectors import worker_list
from shegong.roster.exporters import export_to_tempfile
from shegong.roster.marking import marked_workbook
from shegong.roster.models import ImportJob
from shegong.roster.services import (
    import_job_commit,
    import_job_create,
    import_job_discard,
    import_job_retry,
    import_jobs_recover,
)
from shegong.staffing.selectors import appointment_list

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ERRORS = 500


def _job(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return ImportJob.objects.get(pk=pk, user_id=request.user.pk or 0)
    except ImportJob.DoesNotExist as exc:
        raise NotVisible("没有这个导入任务") from exc


@login_required
def roster_index(request: HttpRequest) -> HttpResponse:
    can_import = may_anywhere(request.user, "change")
    error = ""
    if request.method == "POST":
        if not can_import:
            raise Forbidden("您没有导入花名册的权限")
        upload = request.FILES.get("file")
        if upload is None:
            error = "请选择要上传的文件"
        else:
            try:
                job = import_job_create(actor=request.user, filename=upload.name or "roster.xlsx", data=upload.read())
            except ApplicationError as exc:
                error = exc.message
            else:
                return redirect("roster:roster_job", pk=job.pk)
    import_jobs_recover()
    # The list never loads a job's result (its errors may be long): only what the table shows.
    jobs = ImportJob.objects.filter(user_id=request.user.pk or 0).defer("result")[:10]
    return render(request, "roster/index.html", {"jobs": jobs, "error": error, "can_import": can_import,
                                                 "can_full": may_anywhere(request.user, "reveal")})


@login_required
def roster_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.running and import_jobs_recover(jobs=[job]):
        job.refresh_from_db()
    result = job.result or {}
    errors = result.get("errors", [])
    changes = result.get("changes") or []
    context = {"job": job, "result": result, "errors": errors[:SHOWN_ERRORS],
               "error_count": max(result.get("error_count") or 0, len(errors)), "shown_count": min(len(errors), SHOWN_ERRORS),
               "marked_count": len(errors),
               "warnings": result.get("warnings", []), "sheets": [("communities", "社区"), ("people", "人员"),
                                                                  ("appointments", "任职")],
               "changes": changes, "more_changes": max((result.get("change_count") or 0) - len(changes), 0),
               "findings": result.get("findings"),
               "can_import": may_anywhere(request.user, "change")}
    if request.headers.get("HX-Request"):
        return render(request, "roster/_job.html", context)
    return render(request, "roster/job.html", context)


def _job_step(request: HttpRequest, pk: int, step: Callable[..., Any]) -> HttpResponse:
    """Confirm or retry a job (the service decides who may), then back to the job's page with the refusal
    or error as a message."""
    job = _job(request, pk)
    try:
        step(job=job, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("roster:roster_job", pk=job.pk)


@login_required
@require_POST
def roster_job_commit(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_step(request, pk, import_job_commit)


@login_required
@require_POST
def roster_job_discard(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_step(request, pk, import_job_discard)


@login_required
@require_POST
def roster_job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_step(request, pk, import_job_retry)


@login_required
def roster_job_marked(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    errors = (job.result or {}).get("errors", [])
    if not job.has_cell_errors:
        raise NotVisible("这个文件的错误不在具体单元格上,没有可标注的工作簿")
    with job.file.open("rb") as fh:
        data = fh.read()
    try:
        content = marked_workbook(data, job.filename, errors)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("roster:roster_job", pk=job.pk)
    stem = job.filename.rsplit(".", 1)[0]
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = _disposition(f"{stem}-错误标注.xlsx")
    return response


def _disposition(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"roster.xlsx\"; filename*=UTF-8''{quote(name)}"


@login_required
def roster_template(request: HttpRequest) -> HttpResponseBase:
    return FileResponse(export_to_tempfile(template=True), as_attachment=True, filename="花名册模板.xlsx",
                        content_type=XLSX)


@login_required
def roster_export(request: HttpRequest, what: str) -> HttpResponseBase:
    """communities / workers / appointments in the canonical form, filtered like the lists.
    Masked unless the user may reveal and asks for ?full=1, which is logged."""
    full = request.GET.get("full") == "1"
    if full and not may_anywhere(request.user, "reveal"):
        raise Forbidden("您无权导出未脱敏的数据")
    within = request.GET.get("community", "").strip()
    user: Any = request.user
    kwargs: dict[str, Any]
    if what == "communities":
        qs = Division.objects.restrict(user, "view").filter(level=Division.Level.COMMUNITY, is_active=True)
        if within:
            qs = qs.filter(code__startswith=within)
        kwargs = {"communities": qs}
    elif what == "workers":
        params = {k: request.GET.get(k, "").strip() for k in ("community", "post_type", "category", "status", "q")}
        people = worker_list(actor=user, **params, id_hash=request.GET.get("idh", ""))
        kwargs = {"people": people}
    elif what == "appointments":
        kwargs = {"appointments": appointment_list(actor=user, community=within)}
    else:
        raise NotVisible("没有这种导出")
    if full:
        reveal_scope = Worker.objects.restrict(user, "reveal")
        if "people" in kwargs:
            kwargs["people"] = kwargs["people"].filter(pk__in=reveal_scope.values("pk"))
        if "appointments" in kwargs:
            kwargs["appointments"] = kwargs["appointments"].filter(worker__in=reveal_scope.values("pk"))
        AccessLog.objects.create(user=user, action=AccessLog.Action.FULL_EXPORT, object_type=f"export.{what}",
                                 object_id=within or "*", object_label=request.get_full_path()[:200],
                                 ip=request.META.get("REMOTE_ADDR"))
    names = {"communities": "社区", "workers": "人员", "appointments": "任职"}
    filename = f"{names[what]}-{timezone.localdate():%Y%m%d}{'-完整' if full else ''}.xlsx"
    return FileResponse(export_to_tempfile(full=full, **kwargs), as_attachment=True, filename=filename,
                        content_type=XLSX)
