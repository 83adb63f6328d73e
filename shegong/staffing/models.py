from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from shegong.access.models import RestrictedQuerySet, ScopedModel
from shegong.common.codes import NameChoices
from shegong.common.dates import date_error
from shegong.common.versioning import Versioned
from shegong.org.models import division_fk
from shegong.people.models import worker_fk


class Method(NameChoices):
    """任职方式: how a post is taken (5.1.1: 选举 or 上级党组织指派; 4.1 社工岗 聘用; 4.2.1/4.3.3 兼任)."""

    ELECTION = "选举"
    ASSIGNED = "组织指派"
    HIRED = "聘用"
    CONCURRENT = "兼任"


class PostType(models.Model):
    """A post of clauses 4–6, seeded from data/post_types.json with the standard's duties."""

    class Category(NameChoices):
        PARTY = "党组织"
        RESIDENTS = "居委会"
        SOCIAL_WORK = "社工岗"
        CONCURRENT = "兼任"

    class Layer(NameChoices):
        PRINCIPAL = "正职"
        DEPUTY = "副职"
        ORDINARY = "普通"

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("岗位", max_length=40, unique=True)
    aliases = models.JSONField("别名", default=list, blank=True)
    category = models.CharField("类别", max_length=8, choices=Category.choices)
    layer = models.CharField("层级", max_length=4, choices=Layer.choices)
    clause = models.CharField("设置条款", max_length=20)
    duties_clause = models.CharField("职责条款", max_length=20)
    duties = models.JSONField("岗位职责", default=list, help_text="[[条款号, 职责], …]")
    sort = models.PositiveSmallIntegerField("排序", default=0)
    # The method a new appointment to this post takes unless the clerk chooses another (data, not an
    # `if` in a view: 党组织 and 居委会 posts are elected, 社工岗 hired, the posts of 4.2.1/4.3.3 held
    # concurrently).
    usual_method = models.CharField("常用任职方式", max_length=8, choices=Method.choices, blank=True)

    # Post types decide what a worker may be appointed to: every edit is kept with who and when.
    history = HistoricalRecords()

    class Meta:
        verbose_name = "岗位类型"
        ordering = ["sort"]

    def __str__(self) -> str:
        return self.name


class AppointmentQuerySet(RestrictedQuerySet):
    def active_on(self, as_of: dt.date) -> AppointmentQuerySet:
        """Started on or before `as_of` and not ended by it."""
        return self.filter(Q(start_date__lte=as_of) & (Q(end_date__isnull=True) | Q(end_date__gt=as_of)))


AppointmentManager = models.Manager.from_queryset(AppointmentQuerySet)


class Appointment(ScopedModel, Versioned):
    """A worker holding a post in a community, from start to end (empty while current)."""

    Method = Method

    worker = worker_fk("appointments")
    community = division_fk("社区", related_name="appointments")
    post_type = models.ForeignKey(PostType, on_delete=models.PROTECT, related_name="appointments", verbose_name="岗位")
    method = models.CharField("任职方式", max_length=8, choices=Method.choices)
    start_date = models.DateField("任职日期")
    end_date = models.DateField("离任日期", null=True, blank=True)
    end_reason = models.CharField("离任原因", max_length=200, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    # ScopedModel's restricted manager, with active_on (a class variable like the base's, for mypy).
    objects: ClassVar[AppointmentManager] = AppointmentManager()

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
        indexes = [
            models.Index(fields=["community", "post_type", "end_date"]),
            # The compliance check groups active appointments by (community, person): an index-only scan.
            models.Index(fields=["community", "worker", "post_type", "start_date", "end_date"],
                         name="appointment_person_posts"),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.post_type_id} @ {self.community_id}"

    @property
    def is_current(self) -> bool:
        return self.end_date is None

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.community_id is not None and self.community.level != "community":
            errors["community"] = f"“{self.community.name}”不是社区;任职必须在社区一级"
        for field, label in (("start_date", "任职日期"), ("end_date", "离任日期")):
            problem = date_error(getattr(self, field), label, future=True)  # may be planned, up to a year ahead
            if problem:
                errors[field] = problem
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors.setdefault("end_date", f"离任日期 {self.end_date} 早于任职日期 {self.start_date}")
        if errors:
            raise ValidationError(errors)


class PostDescription(ScopedModel, Versioned):
    """A street's post description (岗位说明书, 8.1.1.2) for one post type, kept as numbered versions.

    A street edits one draft at a time; publishing makes it the current version and marks the one before
    it superseded (which stays readable). A street without a published version shows the default built
    from the standard (staffing/descriptions.py), which is not stored until someone edits it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"
        SUPERSEDED = "superseded", "已替代"

    street = division_fk("街道(乡镇)", related_name="post_descriptions")
    post_type = models.ForeignKey(PostType, on_delete=models.PROTECT, related_name="descriptions",
                                  verbose_name="岗位")
    version = models.PositiveIntegerField("版本")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DRAFT)
    standard_duties = models.JSONField("标准规定的岗位职责", default=list, blank=True,
                                       help_text="发布时从岗位类型复制:[[条款号, 职责], …]")
    reporting_line = models.CharField("汇报关系", max_length=200)
    added_duties = models.JSONField("街道增加的职责", default=list, blank=True)
    requirements = models.JSONField("任职条件", default=list, blank=True)
    assessment = models.JSONField("考核方式", default=list, blank=True)
    note = models.TextField("备注", max_length=1000, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="起草人")
    published_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name="发布人")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    scope_field = "street__code"
    # A street's descriptions are read by its communities; changing them still needs a grant at or above.
    scope_visible_from_below = True

    class Meta:
        verbose_name = "岗位说明书"
        ordering = ["street", "post_type__sort", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["street", "post_type", "version"], name="postdescription_version_unique"),
            models.UniqueConstraint(fields=["street", "post_type"], condition=Q(status="draft"),
                                    name="postdescription_one_draft"),
            models.UniqueConstraint(fields=["street", "post_type"], condition=Q(status="published"),
                                    name="postdescription_one_published"),
            models.CheckConstraint(condition=Q(version__gte=1), name="postdescription_version_positive"),
            models.CheckConstraint(condition=Q(status="draft") | Q(published_at__isnull=False),
                                   name="postdescription_published_at"),
        ]

    def __str__(self) -> str:
        return f"{self.street_id} {self.post_type_id} v{self.version}"

    @property
    def is_default(self) -> bool:
        """The unsaved default built from the standard (no street has edited it)."""
        return self.pk is None

    @property
    def status_label(self) -> str:
        return "标准默认" if self.is_default else str(self.get_status_display())

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.street_id is not None and self.street.level != "street":
            errors["street"] = (f"“{self.street.name}”不是街道(乡镇);岗位说明书由街道(乡镇)制定(8.1.1.2)")
        if not (self.reporting_line or "").strip():
            errors["reporting_line"] = "汇报关系不能为空(8.1.1.2)"
        for name, label in (("added_duties", "街道增加的职责"), ("requirements", "任职条件"),
                            ("assessment", "考核方式"), ("standard_duties", "标准规定的岗位职责")):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str | list) for v in value):
                errors[name] = f"{label}应为逐条列出的列表(8.1.1.2)"
        if self.status != self.Status.DRAFT and self.published_at is None:
            errors["published_at"] = "已发布的岗位说明书必须有发布时间(8.1.1.2)"
        if errors:
            raise ValidationError(errors)
