from __future__ import annotations

from django.db import models

from shegong.common.fields import acting_user, recorded_at


class AccessLog(models.Model):
    """Every reveal of personal data, every opening of a full archive, every attachment download and
    printed archive document — who, when, what, and whose."""

    class Action(models.TextChoices):
        REVEAL_ID = "reveal_id_number", "查看完整身份证号"
        REVEAL_PHONE = "reveal_phone", "查看完整联系电话"
        FULL_EXPORT = "full_export", "导出未脱敏数据"
        ARCHIVE_OPEN = "archive_open", "打开完整档案"
        ATTACHMENT_DOWNLOAD = "attachment_download", "下载档案附件"
        ARCHIVE_PRINT = "archive_print", "打印档案文书"

    user = acting_user("用户")
    action = models.CharField("操作", max_length=32, choices=Action.choices)
    object_type = models.CharField("对象类型", max_length=64)
    object_id = models.CharField("对象", max_length=64)
    object_label = models.CharField("对象名称", max_length=200, blank=True)
    at = recorded_at("时间", db_index=True)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    worker = models.ForeignKey("people.Worker", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="access_logs", verbose_name="所涉人员",
                               help_text="whose personal data or archive was accessed (the worker sees these)")

    class Meta:
        verbose_name = "访问日志"
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"]), models.Index(fields=["worker", "at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.object_type}:{self.object_id}"
