from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models

from shegong.common.fields import acting_user, recorded_at


class UploadStorage(FileSystemStorage):
    """Uploaded rosters hold personal data: kept under settings.UPLOAD_ROOT (read when used, not at
    import), never behind a public media URL."""

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(settings.UPLOAD_ROOT)

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def _upload_storage() -> FileSystemStorage:
    return UploadStorage()


class ImportJob(models.Model):
    """One uploaded roster: validated first (a dry run), then imported when the user confirms."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        VALIDATING = "validating", "校验中"
        VALIDATED = "validated", "校验通过,待确认"
        REJECTED = "rejected", "有错误,未导入"
        IMPORTING = "importing", "导入中"
        DONE = "done", "已导入"
        FAILED = "failed", "失败"
        DISCARDED = "discarded", "已放弃"

    user = acting_user("用户")
    filename = models.CharField("文件名", max_length=255)
    file = models.FileField("文件", storage=_upload_storage, upload_to="roster/%Y/%m/")
    size = models.PositiveBigIntegerField("大小", default=0)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField("阶段", max_length=40, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result = models.JSONField("结果", null=True, blank=True)
    message = models.TextField("说明", blank=True)
    created_at = recorded_at("上传时间")
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # Who is running it: a job in an active state whose process is gone (or that has been silent for
    # ROSTER_JOB_STALE_SECONDS, its process on another host) is marked failed and may be run again.
    host = models.CharField("处理主机", max_length=255, blank=True)
    pid = models.PositiveIntegerField("处理进程", null=True, blank=True)
    heartbeat = models.DateTimeField("最近进展", null=True, blank=True)

    class Meta:
        verbose_name = "花名册导入"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    ACTIVE = ("queued", "validating", "importing")

    @property
    def running(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def can_retry(self) -> bool:
        """A failed or rejected upload can be validated again (the database may have changed)."""
        return self.status in (self.Status.FAILED, self.Status.REJECTED)

    @property
    def has_cell_errors(self) -> bool:
        """Whether some error names a cell, so that a workbook with the errors marked can be made."""
        return any(e.get("col") for e in (self.result or {}).get("errors", []))

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0
