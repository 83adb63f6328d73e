from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from shegong.access import Actor, require, require_operator
from shegong.common.divcodes import (
    DivisionCodeError,
    ancestor_codes,
    level_of,
    normalize_code,
    parent_code,
    reference_names,
)
from shegong.common.errors import ApplicationError
from shegong.common.history import stamp
from shegong.org.models import Division

LABELS = {f.name: str(f.verbose_name) for f in Division._meta.fields}
COMMUNITY_FIELDS = ("households", "resident_population", "party_org_type", "address")


def _save(division: Division, *, actor: Actor, reason: str) -> Division:
    division.code = _code(division.code)
    division.level = level_of(division.code)
    try:
        division.full_clean()
    except ValidationError as exc:
        raise ApplicationError.from_validation_error(exc, LABELS) from exc
    stamp(division, actor=actor, reason=reason)
    division.save()
    return division


def _require_above(actor: Actor, code: str) -> None:
    """A division is created by whoever may change the nearest existing division above it; a division
    with nothing above it (a province) only by a superuser or a system actor."""
    above = Division.objects.filter(code__in=ancestor_codes(code)).only("pk", "code", "name")
    nearest = max(above, key=lambda d: len(d.code), default=None)
    message = f"您无权在区划 {code} 之上建立区划"
    if nearest is not None:
        require(actor, "change", nearest, message=message)
    else:
        require_operator(actor, message)


def _code(value: str) -> str:
    try:
        return normalize_code(value)
    except DivisionCodeError as exc:
        raise ApplicationError(str(exc), field="code") from exc


@transaction.atomic
def division_ensure_ancestors(*, code: str, actor: Actor, reason: str = "",
                              names: dict[str, str] | None = None) -> Division | None:
    """Make sure every division above `code` exists; return its parent.

    Province, city and county come from the shipped GB/T 2260 table; a street needs its name in
    `names` (an import gives it) unless it exists already.
    """
    code = _code(code)
    _require_above(actor, code)
    names = names or {}
    reference = reference_names()
    codes = ancestor_codes(code)
    existing = {d.code: d for d in Division.objects.filter(code__in=codes)}
    parent: Division | None = None
    for c in codes:
        division = existing.get(c)
        if division is None:
            name = names.get(c) or reference.get(c)
            if not name:
                raise ApplicationError(
                    f"上级区划 {c} 不存在,且 GB/T 2260 吉林省代码表中没有它;请先建立{Division.Level(level_of(c)).label}",
                    field="code",
                )
            division = _save(Division(code=c, name=name, parent=parent), actor=actor, reason=reason)
        parent = division
    return parent


@transaction.atomic
def division_create(*, code: str, name: str, actor: Actor, reason: str = "",
                    parent_names: dict[str, str] | None = None, **attrs: Any) -> Division:
    code = _code(code)
    _require_above(actor, code)
    if Division.objects.filter(code=code).exists():
        raise ApplicationError(f"区划代码 {code} 已存在", field="code")
    parent = division_ensure_ancestors(code=code, actor=actor, reason=reason, names=parent_names)
    unknown = set(attrs) - set(COMMUNITY_FIELDS)
    if unknown:
        raise ApplicationError(f"未知字段:{', '.join(sorted(unknown))}")
    division = Division(code=code, name=(name or "").strip(), parent=parent, **attrs)
    return _save(division, actor=actor, reason=reason or "创建区划")


@transaction.atomic
def division_update(*, division: Division, actor: Actor, reason: str = "", **attrs: Any) -> Division:
    require(actor, "change", division, message=f"您无权修改区划“{division.name}”")
    allowed = {"name", "is_active", *COMMUNITY_FIELDS}
    unknown = set(attrs) - allowed
    if unknown:
        raise ApplicationError(f"不能修改字段:{', '.join(sorted(unknown))}")
    changed = False
    for key, value in attrs.items():
        if getattr(division, key) != value:
            setattr(division, key, value)
            changed = True
    if not changed:
        return division
    return _save(division, actor=actor, reason=reason or "修改区划")


@transaction.atomic
def division_load_reference(*, prefix: str = "", actor: Actor) -> int:
    """Create the shipped GB/T 2260 divisions of Jilin (province, cities, counties) that are missing
    (the province itself: only a superuser or a system actor)."""
    require_operator(actor, "只有系统管理员可以载入 GB/T 2260 区划代码")
    reference = reference_names()
    existing = set(Division.objects.filter(code__in=list(reference)).values_list("code", flat=True))
    created = 0
    by_code = {d.code: d for d in Division.objects.filter(code__in=list(reference))}
    for code in sorted(reference, key=lambda c: (len(c), c)):
        if prefix and not code.startswith(prefix[: len(code)]) and not code.startswith(prefix):
            continue
        if code in existing:
            continue
        pc = parent_code(code)
        division = _save(Division(code=code, name=reference[code], parent=by_code.get(pc) if pc else None),
                         actor=actor, reason="载入 GB/T 2260 区划代码")
        by_code[code] = division
        created += 1
    return created
