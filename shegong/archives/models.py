"""The digital personnel archive of a community worker (DB22/T 3226—2021 8.1.2).

Every item of the archive is an `ArchiveRecord` in one of the ten classes (its catalogue entry: class,
title, date, issuing body, notes); the kinds users compute with carry a one-to-one detail row
(education, work history, qualification, reward, sanction). Scans hang off records as `Attachment`s,
stored by SHA-256 under settings.UPLOAD_ROOT and served only through a scoped, logged view.
Appointments (任免, class 9) are not typed twice: the catalogue reads them from staffing.

Nothing is hard-deleted: a wrong record is voided with a reason (kept, shown struck through, and in
history). Scope follows the worker's current community, so a transfer moves access with the archive.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from shegong.access.models import ScopeDeclaration, ScopedModel
from shegong.archives.rules import archive_rules
from shegong.common.codes import EDUCATION
from shegong.common.dates import date_error, one_year_after
from shegong.common.fields import acting_user, recorded_at
from shegong.common.versioning import Versioned
from shegong.org.models import division_fk
from shegong.people.models import worker_fk


class ArchiveClass(models.IntegerChoices):
    RESUME = 1, "履历"
    AUTOBIOGRAPHY = 2, "自传及个人有关事项"
    APPRAISAL = 3, "考核鉴定"
    EDUCATION = 4, "学历学位、职业资格、职称、培训"
    POLITICAL_REVIEW = 5, "政审"
    PARTY = 6, "党团"
    REWARD = 7, "奖励"
    SANCTION = 8, "处分"
    PAY_APPOINTMENT = 9, "工资、任免、出国(境)、代表"
    OTHER = 10, "其他"


class OfOneWorker(ScopeDeclaration):
    """Rows of one worker's archive (its items, transfers, correction requests): they lie where the worker
    lies now, so a transfer moves access with the archive, and they belong to that worker."""

    scope_field = "worker__community__code"
    owner_field = "worker"

    class Meta:
        abstract = True


class ArchiveRecord(OfOneWorker, ScopedModel, Versioned):
    """One item of a worker's archive, as the catalogue (档案目录) lists it."""

    class Kind(models.TextChoices):
        DOCUMENT = "document", "材料"
        EDUCATION = "education", "学历学位"
        WORK = "work", "工作经历"
        QUALIFICATION = "qualification", "社会工作职业资格"
        REWARD = "reward", "奖励"
        SANCTION = "sanction", "处分"

    worker = worker_fk("archive_records")
    archive_class = models.PositiveSmallIntegerField("类别", choices=ArchiveClass.choices)
    kind = models.CharField("种类", max_length=16, choices=Kind.choices, default=Kind.DOCUMENT)
    title = models.CharField("材料名称", max_length=200)
    date = models.DateField("材料日期", null=True, blank=True)
    issuer = models.CharField("形成单位", max_length=200, blank=True)
    notes = models.TextField("备注", max_length=2000, blank=True)
    required_item = models.CharField("必备材料", max_length=40, blank=True,
                                     help_text="archive_rules.toml 中必备材料的代码,如 id_card")
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    void_reason = models.CharField("作废原因", max_length=500, blank=True)
    voided_by = acting_user("作废人", optional=True)
    created_by = acting_user("录入人", optional=True)
    # ScopedModel's creation time, under the catalogue's own word (it pairs with 录入人).
    created_at = recorded_at("录入时间")

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "档案材料"
        ordering = ["archive_class", "date", "id"]
        indexes = [models.Index(fields=["worker", "archive_class"])]
        constraints = [
            models.CheckConstraint(condition=Q(archive_class__gte=1) & Q(archive_class__lte=10),
                                   name="archive_record_class_1_10"),
            models.CheckConstraint(condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                                   name="archive_record_void_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_archive_class_display()} {self.title}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not (self.title or "").strip():
            errors["title"] = "材料名称不能为空"
        problem = date_error(self.date, "材料日期")
        if problem:
            errors["date"] = problem
        if errors:
            raise ValidationError(errors)


def _plausible(obj: models.Model, *fields: str, future: tuple[str, ...] = (),
               latest: dict[str, dt.date | None] | None = None) -> None:
    """The plausibility rule of shegong/common/dates.py on a detail's dates (each message names its field):
    not before 1900; not after today, or a year from today for those in `future`, or `latest`."""
    errors: dict[str, str] = {}
    for name in fields:
        label = str(getattr(obj._meta.get_field(name), "verbose_name", name))
        bound = (latest or {}).get(name)
        problem = date_error(getattr(obj, name), label, future=name in future, latest=bound)
        if problem:
            errors[name] = problem
    if errors:
        raise ValidationError(errors)


def _dates_in_order(start: dt.date | None, end: dt.date | None, start_label: str, end_label: str) -> None:
    if start and end and end < start:
        raise ValidationError({"end_date": f"{end_label} {end.isoformat()} 早于{start_label} {start.isoformat()}"})


class RecordDetail(ScopeDeclaration):
    """A typed detail of one archive record, or a scan of it: it lies where the record's worker lies and
    belongs to that worker (the same scope as ArchiveRecord's, one relation further)."""

    scope_field = "record__worker__community__code"
    owner_field = "record__worker"

    class Meta:
        abstract = True


class Education(RecordDetail):
    """学历学位 (class 4): school, major, level per GB/T 4658, full-time or not, dates."""

    record = models.OneToOneField(ArchiveRecord, on_delete=models.PROTECT, related_name="education",
                                  primary_key=True)
    school = models.CharField("学校", max_length=100)
    major = models.CharField("专业", max_length=100, blank=True)
    level = models.CharField("学历", max_length=2, choices=EDUCATION.choices)
    degree = models.CharField("学位", max_length=40, blank=True)
    full_time = models.BooleanField("全日制", default=True)
    start_date = models.DateField("入学日期", null=True, blank=True)
    end_date = models.DateField("毕业日期", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "学历学位"

    def clean(self) -> None:
        _plausible(self, "start_date", "end_date")  # the end is the diploma's date: not in the future
        _dates_in_order(self.start_date, self.end_date, "入学日期", "毕业日期")


class WorkHistory(RecordDetail):
    """工作经历 (class 1, 履历)."""

    record = models.OneToOneField(ArchiveRecord, on_delete=models.PROTECT, related_name="work", primary_key=True)
    organisation = models.CharField("工作单位", max_length=200)
    position = models.CharField("职务", max_length=100, blank=True)
    start_date = models.DateField("起始日期")
    end_date = models.DateField("截止日期", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "工作经历"

    def clean(self) -> None:
        _plausible(self, "start_date", "end_date", future=("end_date",))
        _dates_in_order(self.start_date, self.end_date, "起始日期", "截止日期")


class Qualification(RecordDetail):
    """社会工作者职业水平证书 (class 4): registration runs a cycle (archive_rules.toml), with continuing
    education hours owed per cycle."""

    record = models.OneToOneField(ArchiveRecord, on_delete=models.PROTECT, related_name="qualification",
                                  primary_key=True)
    level = models.CharField("等级", max_length=20)
    certificate_no = models.CharField("证书编号", max_length=60)
    obtained_on = models.DateField("取得日期")
    registered_on = models.DateField("登记日期", null=True, blank=True, db_index=True)
    hours_done = models.PositiveIntegerField("本周期已完成继续教育学时", default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "社会工作职业资格"

    def clean(self) -> None:
        _plausible(self, "obtained_on", "registered_on")
        _dates_in_order(self.obtained_on, self.registered_on, "取得日期", "登记日期")


class Reward(RecordDetail):
    """奖励 (class 7)."""

    record = models.OneToOneField(ArchiveRecord, on_delete=models.PROTECT, related_name="reward", primary_key=True)
    name = models.CharField("奖励名称", max_length=200)
    level = models.CharField("奖励级别", max_length=40, blank=True, help_text="国家级、省级、市级、区级、街道级……")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "奖励"


class Sanction(RecordDetail):
    """处分 (class 8) with the period it runs."""

    record = models.OneToOneField(ArchiveRecord, on_delete=models.PROTECT, related_name="sanction",
                                  primary_key=True)
    sanction_type = models.CharField("处分种类", max_length=20)
    start_date = models.DateField("处分期起")
    end_date = models.DateField("处分期止", null=True, blank=True, help_text="空:直至解除")
    lifted_on = models.DateField("解除日期", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "处分"

    def clean(self) -> None:
        _plausible(self, "start_date", "end_date", "lifted_on", future=("end_date",),
                   latest={"end_date": self._latest_end()})
        _dates_in_order(self.start_date, self.end_date, "处分期起", "处分期止")
        if self.start_date and self.lifted_on and self.lifted_on < self.start_date:
            raise ValidationError({"lifted_on": f"解除日期 {self.lifted_on.isoformat()} 早于处分期起 "
                                                f"{self.start_date.isoformat()}"})

    def _latest_end(self) -> dt.date | None:
        """A period may end later than a year from today: up to its start plus the longest period of the
        rules (archive_rules.toml), if that is later."""
        if not isinstance(self.start_date, dt.date):
            return None
        longest = max(archive_rules().sanction_months.values(), default=0)
        month = self.start_date.month - 1 + longest
        year, month = self.start_date.year + month // 12, month % 12 + 1
        end = dt.date(year, month, min(self.start_date.day, calendar.monthrange(year, month)[1]))
        return max(end, one_year_after(timezone.localdate()))

    def in_force(self, as_of: dt.date) -> bool:
        if self.lifted_on and self.lifted_on <= as_of:
            return False
        return self.start_date <= as_of and (self.end_date is None or as_of <= self.end_date)


def attachment_path(sha256: str) -> str:
    return f"archives/{sha256[:2]}/{sha256}"


class Attachment(RecordDetail):
    """A scan (PDF, JPEG, PNG) of a record; the bytes live under settings.UPLOAD_ROOT by their SHA-256 and
    are served only through the archive's download view, which checks scope and logs the download."""

    record = models.ForeignKey(ArchiveRecord, on_delete=models.PROTECT, related_name="attachments",
                               verbose_name="档案材料")
    original_name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小(字节)")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    uploaded_by = acting_user("上传人", optional=True)
    uploaded_at = recorded_at("上传时间")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def path(self) -> str:
        return attachment_path(self.sha256)


class Transfer(OfOneWorker):
    """转递: the archive moved with the worker to another community (and maybe street)."""

    worker = worker_fk("archive_transfers")
    from_community = division_fk("转出社区", related_name="+")
    to_community = division_fk("转入社区", related_name="+")
    date = models.DateField("转递日期")
    reason = models.CharField("原因", max_length=300)
    by = acting_user("经办人", optional=True)
    created_at = recorded_at("记录时间")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "档案转递"
        ordering = ["-date", "-id"]


class CorrectionRequest(OfOneWorker, Versioned):
    """更正申请 (PIPL art. 46): a worker asks to correct their archive; an admin accepts or rejects it
    with a reason; an accepted request is carried out (落实) by editing or adding the record concerned,
    which names who, when and the record changed. The worker sees each decision until they mark it seen."""

    class Status(models.TextChoices):
        PENDING = "pending", "待处理"
        ACCEPTED = "accepted", "已采纳"
        REJECTED = "rejected", "未采纳"
        DONE = "done", "已落实"

    worker = worker_fk("correction_requests")
    record = models.ForeignKey(ArchiveRecord, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="correction_requests", verbose_name="涉及材料")
    text = models.TextField("更正内容", max_length=2000)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    decision_reason = models.CharField("处理意见", max_length=500, blank=True)
    requested_by = acting_user("申请人", optional=True)
    requested_at = recorded_at("申请时间")
    decided_by = acting_user("处理人", optional=True)
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    carried_out_by = acting_user("落实人", optional=True)
    carried_out_at = models.DateTimeField("落实时间", null=True, blank=True)
    carried_out_record = models.ForeignKey(ArchiveRecord, on_delete=models.PROTECT, null=True, blank=True,
                                           related_name="corrections_carried_out", verbose_name="更正后的材料")
    seen_at = models.DateTimeField("本人阅知时间", null=True, blank=True,
                                   help_text="申请人看到处理结果并点了“知道了”的时间")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "更正申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status="pending") | ~Q(decision_reason=""),
                                   name="correction_decided_with_reason"),
            models.CheckConstraint(condition=~Q(status="done") | Q(carried_out_at__isnull=False),
                                   name="correction_done_has_time"),
        ]

    @property
    def decided(self) -> bool:
        return self.status != self.Status.PENDING

    @property
    def accepted(self) -> bool:
        """采纳 (whether carried out yet or not)."""
        return self.status in (self.Status.ACCEPTED, self.Status.DONE)
