from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction

from shegong.access import Actor, Forbidden, require
from shegong.accounts.models import Grant
from shegong.common.codes import (
    CATEGORY_ALIASES,
    EDUCATION,
    ETHNICITY,
    POLITICAL_STATUS,
    STATUS_ALIASES,
    choice_lookup,
    normalize_text,
)
from shegong.common.crypto import decrypt, encrypt, mask_id_number, mask_phone, search_hash
from shegong.common.errors import ApplicationError
from shegong.common.history import person, stamp
from shegong.common.models import AccessLog
from shegong.common.versioning import lock
from shegong.org.models import Division
from shegong.people.idnumber import IdNumberError, parse_id_number
from shegong.people.models import Worker
from shegong.people.validators import check_not_in_post, check_required

LABELS = {f.name: str(f.verbose_name) for f in Worker._meta.fields}
LABELS["id_number"] = "公民身份号码"
LABELS["phone"] = "联系电话"

EDITABLE = ("name", "id_number", "phone", "gender", "birth_date", "ethnicity", "political_status", "education",
            "category", "status", "work_start_date", "post_start_date", "community")


def normalize_phone(raw: object) -> str:
    """Digits, and a hyphen for landlines; a mobile number must be 11 digits starting with 1."""
    text = normalize_text(raw).replace("(", "").replace(")", "")
    if text.endswith(".0"):
        text = text[:-2]
    if text.startswith("+86"):
        text = text[3:]
    if not text:
        return ""
    if not all(c.isdigit() or c == "-" for c in text):
        raise ApplicationError(f"联系电话“{text}”只能包含数字和连字符", field="phone")
    digits = text.replace("-", "")
    if digits.startswith("1") and len(digits) != 11:
        raise ApplicationError(f"手机号码“{text}”应为 11 位", field="phone")
    if not 7 <= len(digits) <= 12:
        raise ApplicationError(f"联系电话“{text}”位数不对(固定电话 7–12 位,手机 11 位)", field="phone")
    return text


def _code_field(table: Any, field: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        return table.lookup(value)
    except ValueError as exc:
        raise ApplicationError(str(exc), field=field) from exc


_CHOICES = {"category": list(Worker.Category.choices), "status": list(Worker.Status.choices)}


def _choice(field: str, value: Any, aliases: dict[str, str]) -> str:
    try:
        return choice_lookup(value, _CHOICES[field], aliases, LABELS[field])
    except ValueError as exc:
        raise ApplicationError(str(exc), field=field) from exc


def normalize_worker_input(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The rules of a worker's fields, shared by the forms, the API and the roster import.

    Returns the normalised values of the fields given (the ID number as a parsed `IdNumber`, the
    phone in plain text, code-table codes, dates) and every field's errors together
    (field -> messages). 性别 and 出生日期 come from the ID number (GB 11643); given ones must agree.
    """
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def step(field: str, fn: Any) -> None:
        if field not in data:
            return
        try:
            values[field] = fn(data[field])
        except ApplicationError as exc:
            errors.setdefault(exc.field or field, []).append(exc.message)

    def id_number(value: Any) -> Any:
        try:
            parsed = parse_id_number(value)
        except IdNumberError as exc:
            raise ApplicationError(str(exc), field="id_number") from exc
        given_gender = data.get("gender")
        if given_gender not in (None, "") and normalize_text(given_gender) != parsed.gender:
            errors.setdefault("gender", []).append(
                f"性别“{given_gender}”与公民身份号码不符(号码显示为{parsed.gender})")
        given_birth = data.get("birth_date")
        if given_birth not in (None, "") and given_birth != parsed.birth_date:
            errors.setdefault("birth_date", []).append(
                f"出生日期 {given_birth} 与公民身份号码不符(号码显示为 {parsed.birth_date.isoformat()})")
        return parsed

    def date(field: str) -> Any:
        def check(value: Any) -> Any:
            if value not in (None, "") and not isinstance(value, dt.date):
                raise ApplicationError(f"{LABELS[field]}不是日期", field=field)
            return value or None
        return check

    def community(value: Any) -> Division:
        if not isinstance(value, Division):
            raise ApplicationError("所在社区无效", field="community")
        return value

    step("name", normalize_text)
    step("id_number", id_number)
    step("phone", normalize_phone)
    step("ethnicity", lambda v: _code_field(ETHNICITY, "ethnicity", v))
    step("political_status", lambda v: _code_field(POLITICAL_STATUS, "political_status", v))
    step("education", lambda v: _code_field(EDUCATION, "education", v))
    step("category", lambda v: _choice("category", v, CATEGORY_ALIASES))
    step("status", lambda v: _choice("status", v, STATUS_ALIASES))
    step("work_start_date", date("work_start_date"))
    step("post_start_date", date("post_start_date"))
    step("community", community)
    return values, errors


def assign_worker_values(worker: Any, values: dict[str, Any]) -> None:
    """Set normalised values on a worker (or a row to insert): the ID number and phone encrypted,
    hashed and masked."""
    for field, value in values.items():
        if field == "id_number":
            worker.id_number_hash = search_hash(value.value)
            worker.id_number_masked = mask_id_number(value.value)
            worker.id_number_encrypted = encrypt(value.value)
            worker.gender = value.gender
            worker.birth_date = value.birth_date
        elif field == "phone":
            worker.phone_encrypted = encrypt(value)
            worker.phone_hash = search_hash(value.replace("-", ""))
            worker.phone_masked = mask_phone(value)
        else:
            setattr(worker, field, value)


def _apply(worker: Worker, data: dict[str, Any]) -> dict[str, list[str]]:
    values, errors = normalize_worker_input(data)
    assign_worker_values(worker, values)
    return errors


def _validate(worker: Worker, errors: dict[str, list[str]]) -> None:
    """Model rules (Worker.clean) on top of the field errors; raise them all at once."""
    exclude = {"id_number_encrypted", "id_number_hash", "id_number_masked", *errors}
    if "id_number" in errors:
        exclude |= {"gender", "birth_date"}
    if "community" in errors or worker.community_id is None:
        exclude.add("community")
    try:
        worker.full_clean(exclude=sorted(exclude))
    except ValidationError as exc:
        for field, msgs in ApplicationError.from_validation_error(exc, LABELS).errors.items():
            errors.setdefault(field, []).extend(msgs)
    if errors:
        fields = [f for f in errors if f != "__all__"]
        flat = [m for msgs in errors.values() for m in msgs]
        message = flat[0] if len(flat) == 1 else ";".join(
            ("" if f == "__all__" else f"{LABELS.get(f, f)}:") + ";".join(m) for f, m in errors.items())
        raise ApplicationError(message, field=fields[0] if fields else None, errors=errors)


def _check_scope(actor: Actor, community: Division) -> None:
    require(actor, "change", community, message=f"您无权在“{community.name}”管理社区工作者")


def _save(worker: Worker, *, actor: Actor, reason: str) -> Worker:
    duplicate = Worker.objects.filter(id_number_hash=worker.id_number_hash).exclude(pk=worker.pk)
    if duplicate.exists():
        raise ApplicationError("该公民身份号码已登记在另一名社区工作者名下", field="id_number")
    stamp(worker, actor=actor, reason=reason)
    worker.save()
    return worker


class WorkerFields(TypedDict, total=False):
    """The fields a service takes for a worker, typed (issue 10): values as a form, the API or a roster
    cell gives them — text in any accepted spelling, dates, the community row or its code. Only the
    fields given are written."""

    name: str
    id_number: str
    phone: str
    gender: str
    birth_date: dt.date | str | None
    ethnicity: str
    political_status: str
    education: str
    category: str
    status: str
    work_start_date: dt.date | str | None
    post_start_date: dt.date | str | None
    community: Division | str


@transaction.atomic
def worker_create(*, actor: Actor, reason: str = "", **fields: Unpack[WorkerFields]) -> Worker:
    """Register a worker in a community the actor may change (commands and imports pass a system actor)."""
    data: dict[str, Any] = dict(fields)  # an unknown name (a caller's **dict) is refused below, by name
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ApplicationError(f"未知字段:{', '.join(sorted(unknown))}")
    for required, problem in check_required(data, ("name", "id_number", "community"), LABELS).items():
        raise ApplicationError(problem, field=required)
    worker = Worker()
    _validate(worker, _apply(worker, data))
    _check_scope(actor, worker.community)
    return _save(worker, actor=actor, reason=reason or "登记社区工作者")


@transaction.atomic
def worker_update(*, worker: Worker, actor: Actor, reason: str = "", expected_version: int | None = None,
                  **fields: Unpack[WorkerFields]) -> Worker:
    """Change the fields given, and only those, on the row as it is now (re-read under a lock, so a
    concurrent change of another field is kept). `expected_version` is the version the user worked from
    (a form's hidden row_version, an API client's If-Match): ConflictError when the row has moved on.
    Nothing is saved, and no history written, when nothing changes."""
    data: dict[str, Any] = dict(fields)
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ApplicationError(f"未知字段:{', '.join(sorted(unknown))}")
    lock(worker, expected_version)
    _check_scope(actor, worker.community)
    before = _row(worker)
    old_community_id = worker.community_id
    old_hash, old_phone_hash = worker.id_number_hash, worker.phone_hash
    old_id_enc, old_phone_enc = worker.id_number_encrypted, worker.phone_encrypted
    if "id_number" not in data and ("gender" in data or "birth_date" in data):
        data = {**data, "id_number": decrypt(worker.id_number_encrypted)}
    _validate(worker, _apply(worker, data))
    # Keep the old ciphertext when the value is the same, so history shows no change.
    if worker.id_number_hash == old_hash:
        worker.id_number_encrypted = old_id_enc
    if worker.phone_hash == old_phone_hash:
        worker.phone_encrypted = old_phone_enc
    if _row(worker) == before:
        return worker
    moved = "community" in data and worker.community_id != old_community_id
    if "community" in data:
        _check_scope(actor, worker.community)
    if worker.status != Worker.Status.ACTIVE:
        _check_no_current_posts(worker)
    saved = _save(worker, actor=actor, reason=reason or "修改社区工作者信息")
    if moved:
        _move_own_grants(worker)
    return saved


def _row(worker: Worker) -> dict[str, Any]:
    return {f.attname: getattr(worker, f.attname) for f in Worker._meta.concrete_fields
            if f.attname not in ("updated_at", "row_version")}


def _move_own_grants(worker: Worker) -> None:
    """The worker's own login (a self-only role) follows them to the new community, so they keep seeing
    their own record and archive there."""
    for grant in Grant.objects.filter(user__worker=worker, role__self_only=True).exclude(division=worker.community):
        if Grant.objects.filter(user=grant.user_id, role=grant.role_id, division=worker.community).exists():
            grant.delete()
        else:
            grant.division = worker.community
            grant.save(update_fields=["division"])


def _check_no_current_posts(worker: Worker) -> None:
    """A worker who leaves (离岗/退休/辞职/解聘) must first be released from every current post
    (check_not_in_post: the rule the roster import applies too)."""
    # Through the reverse relation: people sits below staffing and does not import it.
    current = list(worker.appointments.filter(end_date__isnull=True).values_list("post_type__name", flat=True))
    problem = check_not_in_post(worker.status, current, name=worker.name)
    if problem:
        raise ApplicationError(problem, field="status")


def worker_reveal(*, worker: Worker, actor: Actor, field: str, ip: str | None = None) -> str:
    """The full ID number or phone, for a user whose scope allows `reveal`; every reveal is logged."""
    user = person(actor)
    if user is None:
        # Every reveal is logged against a person; a command or job has no business reading the full value.
        raise Forbidden("完整信息只能由登录用户查看(每次查看都记录查看人)")
    require(actor, "reveal", worker, message="您无权查看完整信息")
    if field not in ("id_number", "phone"):
        raise ApplicationError("只能查看公民身份号码或联系电话", field="field")
    token = worker.id_number_encrypted if field == "id_number" else worker.phone_encrypted
    action = AccessLog.Action.REVEAL_ID if field == "id_number" else AccessLog.Action.REVEAL_PHONE
    AccessLog.objects.create(user=user, action=action, object_type="people.worker", object_id=str(worker.pk),
                             object_label=worker.name, ip=ip, worker=worker)
    return decrypt(token)
