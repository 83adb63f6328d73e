from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from shegong.common.scoping import RestrictedQuerySet


class PostType(models.Model):
    """A post of clauses 4–6, seeded from data/post_types.json with the standard's duties."""

    class Category(models.TextChoices):
        PARTY = "党组织", "党组织"
        RESIDENTS = "居委会", "居委会"
        SOCIAL_WORK = "社工岗", "社工岗"
        CONCURRENT = "兼任", "兼任"

    class Layer(models.TextChoices):
        PRINCIPAL = "正职", "正职"
        DEPUTY = "副职", "副职"
        ORDINARY = "普通", "普通"

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("岗位", max_length=40, unique=True)
    aliases = models.JSONField("别名", default=list, blank=True)
    category = models.CharField("类别", max_length=8, choices=Category.choices)
    layer = models.CharField("层级", max_length=4, choices=Layer.choices)
    clause = models.CharField("设置条款", max_length=20)
    duties_clause = models.CharField("职责条款", max_length=20)
    duties = models.JSONField("岗位职责", default=list, help_text="[[条款号, 职责], …]")
    sort = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "岗位类型"
        ordering = ["sort"]

    def __str__(self) -> str:
        return self.name


class AppointmentQuerySet(RestrictedQuerySet):
    def active_on(self, day) -> AppointmentQuerySet:
        """Started on or before `day` and not ended by it."""
        return self.filter(Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gt=day)))


class Appointment(models.Model):
    """A worker holding a post in a community, from start to end (empty while current)."""

    class Method(models.TextChoices):
        ELECTION = "选举", "选举"
        ASSIGNED = "组织指派", "组织指派"
        HIRED = "聘用", "聘用"
        CONCURRENT = "兼任", "兼任"

    worker = models.ForeignKey("people.Worker", on_delete=models.PROTECT, related_name="appointments",
                               verbose_name="社区工作者")
    community = models.ForeignKey("org.Division", on_delete=models.PROTECT, related_name="appointments",
                                  verbose_name="社区")
    post_type = models.ForeignKey(PostType, on_delete=models.PROTECT, related_name="appointments", verbose_name="岗位")
    method = models.CharField("任职方式", max_length=8, choices=Method.choices)
    start_date = models.DateField("任职日期")
    end_date = models.DateField("离任日期", null=True, blank=True)
    end_reason = models.CharField("离任原因", max_length=200, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = AppointmentQuerySet.as_manager()

    scope_field = "community__code"
    owner_field = "worker"

    class Meta:
        verbose_name = "任职"
        ordering = ["-start_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "community", "post_type", "start_date"],
                                    name="appointment_natural_key"),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                                   name="appointment_end_after_start"),
        ]
        indexes = [models.Index(fields=["community", "post_type", "end_date"])]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.post_type_id} @ {self.community_id}"

    @property
    def is_current(self) -> bool:
        return self.end_date is None

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.community_id is not None and self.community.level != "community":
            errors["community"] = f"“{self.community.name}”不是社区;任职必须在社区一级"
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = f"离任日期 {self.end_date} 早于任职日期 {self.start_date}"
        if errors:
            raise ValidationError(errors)
