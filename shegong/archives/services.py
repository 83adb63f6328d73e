"""Writes to the archive (8.1.2). Keyword-only, typed, `<entity>_<action>` (DESIGN habit 1).

Scope: writing needs the `change` action on the worker (their current community), reading `view`.
A worker who has left (状态 not 在岗) has a read-only archive. Nothing is deleted: records are voided
with a reason. Every opening of a full archive, attachment download and printed document is logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from shegong.access import Actor, Forbidden, require
from shegong.archives import storage
from shegong.archives.models import (
    ArchiveClass,
    ArchiveRecord,
    Attachment,
    CorrectionRequest,
    Education,
    Qualification,
    Reward,
    Sanction,
    Transfer,
    WorkHistory,
)
from shegong.archives.rules import archive_rules
from shegong.common import images
from shegong.common.codes import EDUCATION
from shegong.common.errors import ApplicationError
from shegong.common.history import person, stamp
from shegong.common.models import AccessLog
from shegong.common.versioning import check_version, lock
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.people.services import worker_update

CLAUSE = "8.1.2"
KIND_CLASS = {"education": 4, "work": 1, "qualification": 4, "reward": 7, "sanction": 8}
DETAIL_MODELS: dict[str, type[models.Model]] = {
    "education": Education, "work": WorkHistory, "qualification": Qualification, "reward": Reward,
    "sanction": Sanction,
}
DATE_FROM = {"education": "end_date", "work": "start_date", "qualification": "obtained_on", "sanction": "start_date"}
RECORD_FIELDS = ("archive_class", "title", "date", "issuer", "notes", "required_item")
DATE_FORM = re.compile(r"\d{4}-\d{2}-\d{2}")


NOT_SELF = "您无权为他人提出更正申请:只有本人可以对自己的档案提出更正申请"


def _fail(message: str, field: str | None = None) -> ApplicationError:
    return ApplicationError(message, field=field, clause=CLAUSE)


def _can(actor: Actor, action: str, worker: Worker) -> None:
    """The actor needs `action` on the worker whose archive it is (Forbidden, 403, otherwise)."""
    verb = {"change": "修改", "view": "查看"}.get(action, action)
    require(actor, action, worker, message=f"您无权{verb}“{worker.name}”的档案")


def _writable(actor: Actor, worker: Worker) -> None:
    _can(actor, "change", worker)
    if worker.status != Worker.Status.ACTIVE:
        raise _fail(f"{worker.name}已{worker.status},档案只读:不能再增加、修改或作废材料", "worker")


def _validation_error(exc: ValidationError, labels: dict[str, str]) -> ApplicationError:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    field, messages = next(iter(errors.items()))
    label = labels.get(field, "")
    message = messages[0]
    if label and label not in message:
        message = f"{label}:{message}"
    err = _fail(message, None if field == "__all__" else field)
    err.errors = {k: list(v) for k, v in errors.items()}
    return err


def _labels(model: type[models.Model]) -> dict[str, str]:
    return {f.name: str(getattr(f, "verbose_name", f.name)) for f in model._meta.fields}


def _date(value: Any, field: str, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if not isinstance(value, str) or not DATE_FORM.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{label}“{value}”无效,应为 YYYY-MM-DD", field) from None


def _whole_number(value: Any, field: str, label: str) -> int:
    """A count such as hours: an integer, or text of one; not a fraction, not true/false."""
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise _fail(f"{label}“{value}”应为整数", field)
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise _fail(f"{label}“{value}”应为整数", field) from None
    if number < 0:
        raise _fail(f"{label}不能为负数", field)
    return number


def _text(value: Any, field: str, label: str, model_field: Any) -> str:
    """Text: stripped; numbers are taken as their digits; anything longer than the field is refused."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _fail(f"{label}应为文字", field)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()  # a browser posts CR LF
    limit = getattr(model_field, "max_length", None)
    if limit and len(text) > limit and not getattr(model_field, "choices", None):  # a code is looked up later
        raise _fail(f"{label}不能超过 {limit} 字(现有 {len(text)} 字)", field)
    return text


def _class(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = next((c.value for c in ArchiveClass if c.label == str(value).strip()), 0)
    if number not in archive_rules().classes:
        raise _fail(f"档案类别“{value}”无效,应为 1–10 类之一", "archive_class")
    return number


def _details(kind: str, record: ArchiveRecord, data: dict[str, Any], existing: models.Model | None) -> models.Model:
    """Build (or update) the detail row of a structured record from `data`, normalised and validated."""
    model = DETAIL_MODELS[kind]
    labels = _labels(model)
    obj = existing or model(record=record)
    rules = archive_rules()
    before = {name: getattr(obj, name, None) for name in ("start_date", "end_date", "sanction_type")}
    editable = {f.name for f in model._meta.fields if f.editable and f.name not in ("id", "record")}
    unknown = sorted(set(data) - editable)
    if unknown:
        raise _fail(f"{ArchiveRecord.Kind(kind).label}记录没有这些字段:{'、'.join(unknown)}", unknown[0])
    for name, value in data.items():
        setattr(obj, name, _detail_value(model._meta.get_field(name), name, labels[name], value))
    if kind == "education":
        try:
            obj.level = EDUCATION.lookup(getattr(obj, "level", ""))  # type: ignore[attr-defined]
        except ValueError as exc:
            raise _fail(f"{exc}(GB/T 4658)", "level") from None
    if kind == "qualification" and obj.level not in rules.qualification_hours:  # type: ignore[attr-defined]
        raise _fail(f"职业资格等级“{obj.level}”无效,应为 {'、'.join(rules.qualification_hours)}",  # type: ignore[attr-defined]
                    "level")
    if kind == "sanction":
        _sanction_period(obj, before, end_given="end_date" in data)
    try:
        obj.full_clean(exclude=["record"])
    except ValidationError as exc:
        raise _validation_error(exc, labels) from exc
    return obj


def _detail_value(field: Any, name: str, label: str, value: Any) -> Any:
    """One detail field's value, converted by the kind of the model field (date, yes/no, count, text)."""
    if isinstance(value, (list, tuple, dict, set)):
        raise _fail(f"{label}应为单个值,不能是列表或对象", name)
    if isinstance(field, models.DateField):
        return _date(value, name, label)
    if isinstance(field, models.BooleanField):
        return value if isinstance(value, bool) else str(value).strip() in ("1", "true", "True", "是", "全日制", "on")
    if isinstance(field, models.PositiveIntegerField):
        return _whole_number(value, name, label)
    return _text(value, name, label, field)


def _sanction_period(obj: Any, before: dict[str, Any], *, end_given: bool) -> None:
    """A valid sanction type; and, unless an end date was given or the old one was typed by hand, the
    period the rules give for this kind of sanction, ending the day before the same date — none (until
    lifted) for a kind without one, such as 开除."""
    rules = archive_rules()
    kind_name = obj.sanction_type
    if kind_name not in rules.sanction_months:
        raise _fail(f"处分种类“{kind_name}”无效,应为 {'、'.join(rules.sanction_months)}", "sanction_type")
    months = rules.sanction_months[kind_name]
    old_months = rules.sanction_months.get(before["sanction_type"] or "", 0)
    derived = (before["end_date"] is None or (
        before["start_date"] and old_months
        and before["end_date"] == add_months(before["start_date"], old_months) - dt.timedelta(days=1)))
    if obj.start_date and not end_given and derived:
        obj.end_date = add_months(obj.start_date, months) - dt.timedelta(days=1) if months else None


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day where that month is shorter)."""
    import calendar

    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _apply_record(record: ArchiveRecord, data: dict[str, Any]) -> None:
    labels = _labels(ArchiveRecord)
    for name in RECORD_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "archive_class":
            value = _class(value)
        elif name == "date":
            value = _date(value, "date", labels["date"])
        elif name == "title" and not str(value or "").strip():
            raise _fail("材料名称不能为空", "title")
        elif name == "required_item":
            value = _text(value, name, labels[name], ArchiveRecord._meta.get_field(name))
            if value and archive_rules().required_item(value) is None:
                codes = "、".join(f"{r.code}({r.name})" for r in archive_rules().required)
                raise _fail(f"必备材料代码“{value}”无效,应为 {codes}", "required_item")
        else:
            value = _text(value, name, labels[name], ArchiveRecord._meta.get_field(name))
        setattr(record, name, value)
    try:
        record.full_clean(exclude=["worker", "created_by", "voided_by"])
    except ValidationError as exc:
        raise _validation_error(exc, labels) from exc


@transaction.atomic
def record_create(*, actor: Actor, worker: Worker, kind: str = "document", details: dict[str, Any] | None = None,
                  reason: str = "", **data: Any) -> ArchiveRecord:
    """Add an item to the archive: a document of any class, or a structured record (education, work,
    qualification, reward, sanction) with its details. The class of a structured kind is implied."""
    unknown = set(data) - set(RECORD_FIELDS)
    if unknown:
        raise _fail(f"未知字段:{'、'.join(sorted(unknown))}")
    if kind not in ArchiveRecord.Kind.values:
        raise _fail(f"材料种类“{kind}”无效", "kind")
    _writable(actor, worker)
    if details and kind not in DETAIL_MODELS:
        raise _fail("普通材料没有结构化字段;学历、工作经历、职业资格、奖励、处分请选对应的种类", "kind")
    _record_defaults(kind, data, details or {})
    record = ArchiveRecord(worker=worker, kind=kind,
                           created_by=person(actor))
    detail = _details(kind, record, details or {}, None) if kind in DETAIL_MODELS else None
    _apply_new_record(record, data, kind, detail)
    stamp(record, actor=actor, reason=reason or "增加档案材料")
    record.save()
    if detail is not None:
        detail.record = record  # type: ignore[attr-defined]
        stamp(detail, actor=actor, reason=reason or "增加档案材料")
        detail.save()
    return record


def _record_defaults(kind: str, data: dict[str, Any], details: dict[str, Any]) -> None:
    """A structured kind implies its class (and may not be put in another); a class is required; a
    structured record without a title gets one made from its details."""
    if kind in KIND_CLASS:
        data.setdefault("archive_class", KIND_CLASS[kind])
        _check_kind_class(kind, data["archive_class"])
    if "archive_class" not in data:
        raise _fail("档案类别不能为空", "archive_class")
    if kind != "document" and not (data.get("title") or "").strip():
        data["title"] = _default_title(kind, details)


def _apply_new_record(record: ArchiveRecord, data: dict[str, Any], kind: str, detail: models.Model | None) -> None:
    """The catalogue fields of a new record; a structured record without a date takes its detail's (and
    an error in that date names the detail's field, the one the user typed)."""
    derived = detail is not None and kind in DATE_FROM and not data.get("date")
    if derived:
        data["date"] = getattr(detail, DATE_FROM[kind])  # the catalogue date of a structured record
    try:
        _apply_record(record, data)
    except ApplicationError as exc:
        if derived and exc.field == "date":
            field = DATE_FROM[kind]
            label = _labels(DETAIL_MODELS[kind])[field]
            raise _fail(exc.message.replace(_labels(ArchiveRecord)["date"], label), field) from None
        raise


def _check_kind_class(kind: str, value: Any) -> None:
    """A structured record belongs to one class of the catalogue (学历、资格 4, 工作经历 1, 奖励 7, 处分 8)."""
    expected = KIND_CLASS[kind]
    if _class(value) != expected:
        raise _fail(f"{ArchiveRecord.Kind(kind).label}记录归入第 {expected} 类({ArchiveClass(expected).label}),"
                    f"不能放在第 {value} 类", "archive_class")


def _default_title(kind: str, details: dict[str, Any]) -> str:
    if kind == "education":
        return f"{details.get('school', '')} {details.get('major', '')} 学历证书".replace("  ", " ").strip()
    if kind == "work":
        return f"{details.get('organisation', '')} {details.get('position', '')} 工作经历".strip()
    if kind == "qualification":
        return f"{details.get('level', '')}职业水平证书"
    if kind == "reward":
        return str(details.get("name", "") or "奖励")
    if kind == "sanction":
        return f"{details.get('sanction_type', '')}处分决定"
    return ""


@transaction.atomic
def record_update(*, actor: Actor, record: ArchiveRecord, details: dict[str, Any] | None = None, reason: str = "",
                  expected_version: int | None = None, **data: Any) -> ArchiveRecord:
    """Correct a record's catalogue fields and details (the change is kept in history).

    The record is read again under a lock and only the fields given change, so a concurrent change of
    other fields is kept; its details are written under the same lock, and the record's version covers
    them. `expected_version`: the version the user worked from (ConflictError when it has moved on)."""
    unknown = set(data) - set(RECORD_FIELDS)
    if unknown:
        raise _fail(f"未知字段:{'、'.join(sorted(unknown))}")
    lock(record, expected_version)
    _writable(actor, record.worker)
    if record.is_voided:
        raise _fail("已作废的材料不能修改", "record")
    if record.kind in KIND_CLASS and "archive_class" in data:
        _check_kind_class(record.kind, data["archive_class"])
    if details and record.kind not in DETAIL_MODELS:
        raise _fail("普通材料没有结构化字段", "kind")
    _apply_record(record, data)
    if details and record.kind in DETAIL_MODELS:
        existing = getattr(record, record.kind, None)  # the detail's related name is the kind
        date_field = DATE_FROM.get(record.kind)
        old_date = getattr(existing, date_field) if existing is not None and date_field else None
        detail = _details(record.kind, record, details, existing)
        if date_field and "date" not in data and record.date == old_date:
            record.date = getattr(detail, date_field)  # the catalogue date follows the record's own date
        stamp(detail, actor=actor, reason=reason or "修改档案材料")
        detail.save()
    stamp(record, actor=actor, reason=reason or "修改档案材料")
    record.save()
    return record


@transaction.atomic
def record_void(*, actor: Actor, record: ArchiveRecord, reason: str, expected_version: int | None = None
                ) -> ArchiveRecord:
    """Void a wrong record: it stays in the archive, struck through, with who, when and why."""
    reason = (reason or "").strip()
    if not reason:
        raise _fail("作废原因不能为空", "reason")
    if len(reason) > 500:
        raise _fail("作废原因不能超过 500 字", "reason")
    _writable(actor, record.worker)
    lock(record, expected_version)
    if record.is_voided:
        raise _fail("这份材料已经作废", "record")
    record.voided_at = timezone.now()
    record.void_reason = reason
    record.voided_by = person(actor)
    stamp(record, actor=actor, reason=f"作废:{reason}")
    record.save()
    return record


@transaction.atomic
def attachment_add(*, actor: Actor, record: ArchiveRecord, name: str, data: bytes) -> Attachment:
    """Attach a scan: PDF, JPEG or PNG by content (not by name), at most the rules' size; stored by SHA-256."""
    rules = archive_rules()
    _writable(actor, record.worker)
    if record.is_voided:
        raise _fail("已作废的材料不能再上传附件", "record")
    name = _file_name(name)
    if not data:
        raise _fail(f"文件“{name}”是空的", "file")
    if len(data) > rules.max_bytes:
        raise _fail(f"文件“{name}”有 {math.ceil(len(data) / 2**20 * 10) / 10:.1f} MB,超过 {rules.max_bytes // 2**20} MB 的上限", "file")
    content_type = storage.sniff(data)
    if content_type is None or content_type not in rules.types:
        raise _fail(f"文件“{name}”的内容是{storage.describe(data)},不是 PDF、JPEG 或 PNG 扫描件"
                    f"(按文件内容识别,与扩展名无关)", "file")
    if content_type != "application/pdf":
        try:  # from the header only: a decompression bomb is refused before it is stored (issue 9.13)
            images.inspect(data)
        except images.ImageRefused as exc:
            # a scan whose header Pillow cannot read is still kept as evidence; only a bomb is refused
            if exc.reason == images.TOO_BIG_SHORT:
                raise _fail(f"文件“{name}”:{exc.message}", "file") from exc
    digest = hashlib.sha256(data).hexdigest()
    same = record.attachments.filter(sha256=digest).first()
    if same is not None:
        if storage.verify(digest):
            raise _fail(f"文件“{name}”已经上传到这份材料(“{same.original_name}”,"
                        f"{timezone.localtime(same.uploaded_at):%Y-%m-%d %H:%M}),不必重复上传", "file")
        storage.store(data, digest)  # the stored copy was damaged: the same bytes repair it
        return same
    storage.store(data, digest)
    attachment = Attachment(record=record, original_name=name, content_type=content_type, size=len(data),
                            sha256=digest, uploaded_by=person(actor))
    stamp(attachment, actor=actor, reason="上传附件")
    attachment.save()
    return attachment


def _file_name(name: str, limit: int = 200) -> str:
    """The base name of an uploaded file (no directories), shortened before its extension if too long."""
    name = (name or "").strip().replace("\\", "/").rsplit("/", 1)[-1] or "scan"
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        return name[:limit]
    return stem[: limit - len(ext) - 1] + "." + ext


def _log(actor: Actor, action: str, worker: Worker, object_type: str, object_id: Any, label: str,
         ip: str | None) -> None:
    user = person(actor)
    if user is None:
        return  # the access log names people; a command's reading is in the server's own log
    AccessLog.objects.create(user=user, action=action, object_type=object_type, object_id=str(object_id),
                             object_label=label[:200], ip=ip, worker=worker)


def attachment_download(*, actor: Actor, attachment: Attachment, ip: str | None = None) -> Any:
    """The attachment's bytes as an open file, for a user who may view the archive; logged."""
    worker = attachment.record.worker
    _can(actor, "view", worker)
    if not storage.verify(attachment.sha256):
        raise _fail(f"附件“{attachment.original_name}”的文件缺失或已损坏(SHA-256 不符),请联系管理员", "file")
    _log(actor, AccessLog.Action.ATTACHMENT_DOWNLOAD, worker, "archives.attachment", attachment.pk,
         f"{worker.name}:{attachment.record.title} / {attachment.original_name}", ip)
    return storage.open_stored(attachment.sha256)


def archive_open(*, actor: Actor, worker: Worker, ip: str | None = None) -> None:
    """Log the opening of a full archive (the caller has checked scope)."""
    _can(actor, "view", worker)
    _log(actor, AccessLog.Action.ARCHIVE_OPEN, worker, "people.worker", worker.pk, f"{worker.name}的档案", ip)


def archive_print(*, actor: Actor, worker: Worker, document: str, ip: str | None = None) -> None:
    """Log a printed archive document (catalogue, information form)."""
    _can(actor, "view", worker)
    _log(actor, AccessLog.Action.ARCHIVE_PRINT, worker, "people.worker", worker.pk, f"{worker.name}:{document}", ip)


@transaction.atomic
def archive_transfer(*, actor: Actor, worker: Worker, to_community: Division, date: dt.date | None = None,
                     reason: str) -> Transfer:
    """转递: move the worker, and with them the archive, to another community. Access follows the new
    community; the old one keeps none. The actor needs `change` on both communities."""

    reason = (reason or "").strip()
    if not reason:
        raise _fail("转递原因不能为空", "reason")
    if not to_community.is_community:
        raise _fail(f"“{to_community.name}”不是社区;档案只能转递到社区", "to_community")
    _writable(actor, worker)
    require(actor, "change", to_community, message=f"您无权把档案转入“{to_community.name}”")
    old = worker.community
    if old.pk == to_community.pk:
        raise _fail(f"{worker.name}已在{old.name}", "to_community")
    current = list(worker.appointments.filter(community=old, end_date__isnull=True)
                   .values_list("post_type__name", flat=True))
    if current:
        raise _fail(f"{worker.name}仍在{old.name}任{'、'.join(current)};请先办理离任,再转递档案", "worker")
    if not to_community.is_active:
        raise _fail(f"“{to_community.name}”已撤销,不能转入", "to_community")
    date = date or timezone.localdate()
    if date > timezone.localdate():
        raise _fail(f"转递日期 {date.isoformat()} 晚于今天:档案在办理当天转递", "date")
    last = Transfer.objects.filter(worker=worker).order_by("-date", "-id").first()
    if last is not None and date < last.date:
        raise _fail(f"转递日期 {date.isoformat()} 早于上一次转递({last.date.isoformat()} 转入"
                    f"{last.to_community.name})", "date")
    worker_update(worker=worker, actor=actor, reason=f"档案转递:{reason}", community=to_community)
    transfer = Transfer(worker=worker, from_community=old, to_community=to_community,
                        date=date, reason=reason,
                        by=person(actor))
    stamp(transfer, actor=actor, reason=reason)
    transfer.save()
    return transfer


@transaction.atomic
def correction_request_create(*, actor: Actor, worker: Worker, text: str,
                              record: ArchiveRecord | None = None) -> CorrectionRequest:
    """A worker asks to correct their own archive (个人信息保护法 第四十六条)."""
    text = (text or "").strip()
    if getattr(actor, "worker_id", None) != worker.pk:
        # a refusal (403 on the page and in the API alike), not a wrong value in the request
        raise Forbidden(NOT_SELF)
    if not text:
        raise _fail("请写明需要更正的内容", "text")
    if len(text) > 2000:
        raise _fail("更正内容不能超过 2000 字", "text")
    if record is not None and record.worker_id != worker.pk:
        raise _fail("所选材料不属于本人档案", "record")
    if record is not None and record.is_voided:
        raise _fail(f"“{record.title}”已作废,无需更正", "record")
    request = CorrectionRequest(worker=worker, record=record, text=text, requested_by=person(actor))
    stamp(request, actor=actor, reason="提出更正申请")
    request.save()
    return request


@transaction.atomic
def correction_request_decide(*, actor: Actor, request: CorrectionRequest, accept: bool, reason: str,
                              expected_version: int | None = None) -> CorrectionRequest:
    """An admin accepts or rejects a correction request, with a reason the worker sees. Decided once:
    the request is read again under a lock (a second decision is refused)."""
    reason = (reason or "").strip()
    if not reason:
        raise _fail("请填写处理意见(采纳或不采纳的理由)", "reason")
    if len(reason) > 500:
        raise _fail("处理意见不能超过 500 字", "reason")
    _can(actor, "change", request.worker)
    lock(request)
    if request.status != CorrectionRequest.Status.PENDING:
        raise _fail(f"这项申请已处理({request.get_status_display()}),不能再次处理", "request")
    check_version(request, expected_version)
    request.status = CorrectionRequest.Status.ACCEPTED if accept else CorrectionRequest.Status.REJECTED
    request.decision_reason = reason
    request.decided_by = person(actor)
    request.decided_at = timezone.now()
    stamp(request, actor=actor, reason=f"{request.get_status_display()}:{reason}")
    request.save()
    return request


@transaction.atomic
def correction_carry_out(*, actor: Actor, request: CorrectionRequest, record: ArchiveRecord,
                         how: str = "修改") -> CorrectionRequest:
    """落实: an accepted request has been carried out by changing (or adding) `record`; the request says
    who did it, when, and which record. Called in the same transaction as the record's change."""
    _can(actor, "change", request.worker)
    lock(request)
    if request.status == CorrectionRequest.Status.DONE:
        raise _fail(f"这项更正申请已于 {timezone.localtime(request.carried_out_at):%Y-%m-%d} 落实,不能再次落实",
                    "request")
    if request.status != CorrectionRequest.Status.ACCEPTED:
        raise _fail(f"这项更正申请{request.get_status_display()}:只有已采纳的申请才能按此更正", "request")
    if record.worker_id != request.worker_id:
        raise _fail("所改材料不属于提出申请的人员的档案", "record")
    request.status = CorrectionRequest.Status.DONE
    request.carried_out_by = person(actor)
    request.carried_out_at = timezone.now()
    request.carried_out_record = record
    stamp(request, actor=actor, reason=f"落实:{how}“{record.title}”")
    request.save()
    return request


@transaction.atomic
def correction_decisions_seen(*, actor: Actor, worker: Worker) -> int:
    """The worker has read the decisions on their correction requests (the notice on their archive page
    goes away). Only the worker themself; returns how many were marked."""
    if getattr(actor, "worker_id", None) != worker.pk:
        raise Forbidden("只有本人可以确认已阅更正申请的处理结果")
    marked = 0
    for request in CorrectionRequest.objects.filter(worker=worker, decided_at__isnull=False,
                                                    seen_at__isnull=True).select_for_update():
        request.seen_at = timezone.now()
        stamp(request, actor=actor, reason="本人已阅处理结果")
        request.save()
        marked += 1
    return marked
