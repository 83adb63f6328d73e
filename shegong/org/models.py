from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import Combinable
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from shegong.access.models import ScopedModel
from shegong.common.codes import NameChoices
from shegong.common.divcodes import DivisionCodeError, level_of, normalize_code, parent_code


class Division(ScopedModel):
    """One node of the one tree (DESIGN habit 3), keyed by its statistical code at natural length."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        DISTRICT = "district", _("区县")
        STREET = "street", _("街道/乡镇")
        COMMUNITY = "community", _("社区")
        GRID = "grid", _("网格")

    class PartyOrgType(NameChoices):
        COMMITTEE = "党委"
        GENERAL_BRANCH = "党总支"
        BRANCH = "党支部"

    code = models.CharField("区划代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=16, choices=Level.choices, db_index=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name="上级")
    households = models.PositiveIntegerField("户数", null=True, blank=True)
    resident_population = models.PositiveIntegerField("常住人口", null=True, blank=True)
    party_org_type = models.CharField("党组织类型", max_length=8, choices=PartyOrgType.choices, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    is_active = models.BooleanField("有效", default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    scope_field = "code"

    class Meta:
        verbose_name = "行政区划"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(code=""), name="division_code_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_code(self) -> str:
        return self.code.ljust(12, "0") if len(self.code) <= 12 else self.code

    @property
    def is_community(self) -> bool:
        return self.level == self.Level.COMMUNITY

    def clean(self) -> None:
        errors: dict[str, str] = {}
        try:
            self.code = normalize_code(self.code)
        except DivisionCodeError as exc:
            raise ValidationError({"code": str(exc)}) from exc
        self.level = level_of(self.code)
        expected_parent = parent_code(self.code)
        if expected_parent and self.parent is not None and self.parent.code != expected_parent:
            errors["parent"] = f"区划代码 {self.code} 应属于上级 {expected_parent},而不是 {self.parent.code}"
        if not self.name.strip():
            errors["name"] = "名称不能为空"
        if self.level != self.Level.COMMUNITY and (self.households or self.resident_population or self.party_org_type):
            errors["households"] = "户数、常住人口、党组织类型只适用于社区"
        if errors:
            raise ValidationError(errors)


def division_fk(verbose_name: str, related_name: str) -> models.ForeignKey[Division | Combinable, Division]:
    """A row's place in the one tree (a worker's community, a grant's scope, a street's post description):
    PROTECT, because a division that rows still point at is deactivated, never deleted."""
    return models.ForeignKey(Division, on_delete=models.PROTECT, related_name=related_name, verbose_name=verbose_name)
