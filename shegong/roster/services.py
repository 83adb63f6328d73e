from __future__ import annotations

import os
import socket
import threading
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from shegong.access import Actor, Forbidden, require_self_or_operator
from shegong.common.errors import ApplicationError
from shegong.common.history import person
from shegong.roster.imports import ImportResult, import_roster
from shegong.roster.limits import limits, size_text
from shegong.roster.models import ImportJob

HOST = socket.gethostname()[:255]
INTERRUPTED = "处理这个文件的进程已中断(服务重启或被终止),未写入任何数据;可点“重新校验”再次处理"
SILENT = "处理这个文件的进程已 {minutes} 分钟没有进展,视为中断,未写入任何数据;可点“重新校验”再次处理"

# The jobs that threads of this process are running now (a job of this pid not in here is not running).
_running: set[int] = set()
_running_lock = threading.Lock()


def import_job_create(*, actor: Actor, filename: str, data: bytes) -> ImportJob:
    """Keep the upload and queue its validation (a dry run). Small files are validated at once. The job
    runs later with the uploader's scope (the job's user), so only a person may upload."""
    lim = limits()
    if not data:
        raise ApplicationError("上传的文件是空的", field="file")
    if len(data) > lim.max_bytes:
        raise ApplicationError(f"文件有 {size_text(len(data))},超过 {lim.max_size} 上限", field="file")
    if not filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".csv")):
        raise ApplicationError("请上传 .xlsx、.xls 或 .csv 文件", field="file")
    user = person(actor)
    if user is None:
        raise Forbidden("上传花名册须由登录用户进行(导入按上传人的管辖范围校验)")
    job = ImportJob(user=user, filename=filename[-255:], size=len(data))
    job.file.save(filename, ContentFile(data), save=False)
    job.save()
    _start(job, commit=False)
    return job


def _require_own_job(actor: Actor, job: ImportJob) -> None:
    """An upload is confirmed or validated again by whoever uploaded it, or by the operator."""
    require_self_or_operator(actor, job.user_id, "只能处理自己上传的花名册")


def import_job_commit(*, job: ImportJob, actor: Actor) -> ImportJob:
    """Import a validated upload. The file is validated again inside the import: all or nothing."""
    _require_own_job(actor, job)
    if job.status != ImportJob.Status.VALIDATED:
        raise ApplicationError("只有校验通过的文件才能导入", field="status")
    _queue(job)
    _start(job, commit=True)
    return job


def import_job_discard(*, job: ImportJob, actor: Actor) -> ImportJob:
    """Give up a validated upload instead of importing it: nothing is written, and the job stays in the
    list of imports as 已放弃 (with who and when in its message). Only a validated job can be discarded."""
    _require_own_job(actor, job)
    discarded = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.VALIDATED).update(
        status=ImportJob.Status.DISCARDED, stage="", heartbeat=timezone.now(),
        message=f"{timezone.localtime():%Y-%m-%d %H:%M} 由 {person(actor) or '系统'} 放弃,未写入任何数据")
    job.refresh_from_db()
    if not discarded:
        raise ApplicationError("只有校验通过、尚未导入的文件才能放弃", field="status")
    return job


def import_job_retry(*, job: ImportJob, actor: Actor) -> ImportJob:
    """Validate a failed or rejected upload again (a job whose process died, an import that met another
    one, a file whose missing community has since been created); then it can be confirmed as usual."""
    _require_own_job(actor, job)
    import_jobs_recover(jobs=[job])
    job.refresh_from_db()
    if not job.can_retry:
        raise ApplicationError("只有失败或有错误的导入才能重新校验", field="status")
    _queue(job)
    _start(job, commit=False)
    return job


def _queue(job: ImportJob) -> None:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, stage="", done=0, total=0,
                                               message="", heartbeat=timezone.now(), pid=None, host="")
    job.refresh_from_db()


def _start(job: ImportJob, *, commit: bool) -> None:
    if job.size <= settings.ROSTER_BACKGROUND_BYTES:
        import_job_run(job_id=job.pk, commit=commit)
    else:
        transaction.on_commit(lambda: run_import_job.enqueue(job.pk, commit))
    job.refresh_from_db()


@task()
def run_import_job(job_id: int, commit: bool) -> None:
    """The background task (django-tasks): defined here, next to the code that enqueues it, so that
    services and tasks do not import each other; shegong/roster/tasks.py names it for the task path."""
    import_job_run(job_id=job_id, commit=commit)


def import_job_run(*, job_id: int, commit: bool) -> None:
    """Run one job (a validation, or with commit the import) in this process. It records the process
    and a heartbeat, so that a job whose process dies is found (import_jobs_recover); the import writes
    the job's final status in its own transaction, so a committed import is never taken for a failed one."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    running = ImportJob.Status.IMPORTING if commit else ImportJob.Status.VALIDATING
    with _running_lock:
        _running.add(job.pk)
    try:
        ImportJob.objects.filter(pk=job.pk).update(status=running, pid=os.getpid(), host=HOST,
                                                   heartbeat=timezone.now(), message="")

        def progress(stage: str, done: int, total: int) -> None:
            ImportJob.objects.filter(pk=job_id).update(stage=stage, done=done, total=max(total, done),
                                                       heartbeat=timezone.now())

        def committed(result: ImportResult) -> None:
            _finish(job.pk, result, ImportJob.Status.DONE)

        try:
            with job.file.open("rb") as fh:
                data = fh.read()
            result = import_roster(data, job.filename, actor=job.user, dry_run=not commit, progress=progress,
                                   committed=committed if commit else None, preview=not commit)
        except Exception as exc:  # a job must end in a state the page can show
            message = exc.message if isinstance(exc, ApplicationError) else f"导入失败:{type(exc).__name__}: {exc}"
            ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, message=message[:2000],
                                                       heartbeat=timezone.now(), stage="")
            raise
        if not result.ok:
            _finish(job.pk, result, ImportJob.Status.REJECTED)
        elif not commit:
            _finish(job.pk, result, ImportJob.Status.VALIDATED)
        # a committed import finished itself, inside its transaction
    finally:
        with _running_lock:
            _running.discard(job.pk)


def _finish(job_id: int, result: ImportResult, status: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(status=status, result=result.as_dict(cells=True), stage="", done=0,
                                               heartbeat=timezone.now())


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, run by another user
    return True


def import_jobs_recover(*, jobs: Any = None) -> int:
    """Mark failed the jobs left validating or importing by a process that is gone: on this host, a
    process that no longer exists (or this very process, when none of its threads runs the job); on
    another host, or with no process recorded, a job silent for ROSTER_JOB_STALE_SECONDS. An import
    whose transaction committed has already set its own status, so it is never caught here. Cheap enough
    to call on every list of jobs; `shegong serve` calls it at start. Returns how many were marked."""
    lim = limits()
    active = (ImportJob.Status.VALIDATING, ImportJob.Status.IMPORTING)
    if jobs is None:
        candidates = list(ImportJob.objects.filter(status__in=active).only("pk", "status", "host", "pid", "heartbeat",
                                                                           "updated_at"))
    else:
        candidates = [j for j in jobs if j.status in active]
    now = timezone.now()
    marked = 0
    for job in candidates:
        seen = job.heartbeat or job.updated_at
        silent = (now - seen).total_seconds() if seen else float("inf")
        if job.host == HOST and job.pid:
            if job.pid == os.getpid():
                with _running_lock:
                    dead = job.pk not in _running
            else:
                dead = not _process_alive(job.pid)
            message = INTERRUPTED
        else:
            dead = silent > lim.stale_seconds
            message = SILENT.format(minutes=int(silent // 60))
        if not dead:
            continue
        # Only if it is still in the state we saw (not finished meanwhile by its own transaction).
        marked += ImportJob.objects.filter(pk=job.pk, status=job.status, pid=job.pid, host=job.host).update(
            status=ImportJob.Status.FAILED, message=message, stage="", done=0, heartbeat=now)
    return marked
