from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from shegong.common.errors import ApplicationError
from shegong.roster.imports import import_roster
from shegong.roster.models import ImportJob


def import_job_create(*, user: Any, filename: str, data: bytes) -> ImportJob:
    """Keep the upload and queue its validation (a dry run). Small files are validated at once."""
    if not data:
        raise ApplicationError("上传的文件是空的", field="file")
    if len(data) > settings.ROSTER_MAX_BYTES:
        raise ApplicationError(f"文件超过 {settings.ROSTER_MAX_BYTES // 1024 // 1024} MB 上限", field="file")
    if not filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".csv")):
        raise ApplicationError("请上传 .xlsx、.xls 或 .csv 文件", field="file")
    job = ImportJob(user=user, filename=filename[-255:], size=len(data))
    job.file.save(filename, ContentFile(data), save=False)
    job.save()
    _start(job, commit=False)
    return job


def import_job_commit(*, job: ImportJob) -> ImportJob:
    """Import a validated upload. The file is validated again inside the import: all or nothing."""
    if job.status != ImportJob.Status.VALIDATED:
        raise ApplicationError("只有校验通过的文件才能导入", field="status")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, stage="", done=0, total=0)
    job.refresh_from_db()
    _start(job, commit=True)
    return job


def _start(job: ImportJob, *, commit: bool) -> None:
    from shegong.roster.tasks import run_import_job

    if job.size <= settings.ROSTER_BACKGROUND_BYTES:
        import_job_run(job_id=job.pk, commit=commit)
    else:
        transaction.on_commit(lambda: run_import_job.enqueue(job.pk, commit))
    job.refresh_from_db()


def import_job_run(*, job_id: int, commit: bool) -> None:
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    running = ImportJob.Status.IMPORTING if commit else ImportJob.Status.VALIDATING
    ImportJob.objects.filter(pk=job.pk).update(status=running)

    def progress(stage: str, done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(stage=stage, done=done, total=max(total, done))

    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        result = import_roster(data, job.filename, actor=job.user, dry_run=not commit, progress=progress)
    except Exception as exc:  # a job must end in a state the page can show
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, message=f"{type(exc).__name__}: {exc}")
        raise
    if not result.ok:
        status = ImportJob.Status.REJECTED
    else:
        status = ImportJob.Status.DONE if commit else ImportJob.Status.VALIDATED
    ImportJob.objects.filter(pk=job.pk).update(status=status, result=result.as_dict(cells=True), stage="", done=0)
