from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import Combinable
from django.utils import timezone
from simple_history.models import HistoricalRecords

from shegong.access.models import ScopedModel
from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS, NameChoices
from shegong.common.dates import date_error
from shegong.common.versioning import Versioned
from shegong.org.models import division_fk


def _sixteenth_birthday(birth: dt.date) -> dt.date:
    try:
        return birth.replace(year=birth.year + 16)
    except ValueError:  # 29 February
        return birth.replace(year=birth.year + 16, day=28)


def worker_date_errors(birth_date: dt.date | None, work_start_date: dt.date | None,
                       post_start_date: dt.date | None, as_of: dt.date) -> dict[str, str]:
    """The rules of a worker's dates (also used by the roster import, which checks rows without models):
    plausible (shegong/common/dates.py: not before 1900, not after `as_of`), not before the age of 16,
    and 社工岗入职 not before 参加工作."""
    errors: dict[str, str] = {}
    for field, label, value in (("birth_date", "出生日期", birth_date),
                                ("work_start_date", "参加工作日期", work_start_date),
                                ("post_start_date", "社工岗入职日期", post_start_date)):
        if value is None:
            continue
        problem = date_error(value, label, as_of=as_of)
        if problem:
            errors[field] = problem
        elif field != "birth_date" and birth_date and value < _sixteenth_birthday(birth_date):
            errors[field] = f"{label} {value.isoformat()} 早于本人年满 16 周岁"
    if work_start_date and post_start_date and post_start_date < work_start_date:
        errors.setdefault("post_start_date", "社工岗入职日期不能早于参加工作日期")
    return errors


class Worker(ScopedModel, Versioned):
    """A community worker (3.2) or a person on a public-welfare post, who is on the roster but is not one."""

    class Gender(NameChoices):
        MALE = "男"
        FEMALE = "女"

    class Category(NameChoices):
        FULL_TIME = "专职社区工作者"
        PUBLIC_WELFARE = "公益性岗位"
        PART_TIME = "兼职"

    class Status(NameChoices):
        ACTIVE = "在岗"
        AWAY = "离岗"
        RETIRED = "退休"
        RESIGNED = "辞职"
        DISMISSED = "解聘"

    name = models.CharField("姓名", max_length=50, db_index=True)
    id_number_encrypted = models.TextField("公民身份号码(密文)")
    id_number_hash = models.CharField("公民身份号码摘要", max_length=64, unique=True)
    id_number_masked = models.CharField("公民身份号码", max_length=18)
    gender = models.CharField("性别", max_length=2, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=2, choices=ETHNICITY.choices, blank=True)
    political_status = models.CharField("政治面貌", max_length=2, choices=POLITICAL_STATUS.choices, blank=True)
    education = models.CharField("学历", max_length=2, choices=EDUCATION.choices, blank=True)
    phone_encrypted = models.TextField("联系电话(密文)", blank=True)
    phone_hash = models.CharField("联系电话摘要", max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField("联系电话", max_length=20, blank=True)
    category = models.CharField("人员类别", max_length=16, choices=Category.choices, default=Category.FULL_TIME)
    status = models.CharField("状态", max_length=4, choices=Status.choices, default=Status.ACTIVE)
    work_start_date = models.DateField("参加工作日期", null=True, blank=True)
    post_start_date = models.DateField("社工岗入职日期", null=True, blank=True)
    community = division_fk("所在社区", related_name="workers")

    history = HistoricalRecords(excluded_fields=["id_number_encrypted", "phone_encrypted", "updated_at"])

    scope_field = "community__code"
    owner_field = "pk"

    class Meta:
        verbose_name = "社区工作者"
        ordering = ["community_id", "name", "id"]
        indexes = [
            models.Index(fields=["community", "status"]),
            # The compliance check corrects its counts for the people not of the default category.
            models.Index(fields=["category", "id"], name="worker_category"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def age(self) -> int:
        today = timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        today = timezone.localdate()
        if not (self.name or "").strip():
            errors["name"] = "姓名不能为空"
        if self.community_id is not None and self.community.level != "community":
            errors["community"] = f"“{self.community.name}”不是社区;所在社区必须是社区一级的区划"
        errors |= worker_date_errors(self.birth_date, self.work_start_date, self.post_start_date, today)
        if errors:
            raise ValidationError(errors)


def worker_fk(related_name: str) -> models.ForeignKey[Worker | Combinable, Worker]:
    """A row about one worker (an appointment, an archive item, a transfer, a correction request): PROTECT,
    because people leave and their records stay (DESIGN habit 7)."""
    return models.ForeignKey(Worker, on_delete=models.PROTECT, related_name=related_name, verbose_name="社区工作者")
