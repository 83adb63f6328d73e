"""/api/v1 — the personnel archive (DB22/T 3226—2021 8.1.2): records, attachments, access log, corrections.

Reading needs `view` on the worker (a row outside scope answers 404); writing needs `change` (a row the
user can see but not change answers 403). Services do the rest: a worker who has left has a read-only
archive, attachments are typed by their content, and every opening and download is logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import ConfigDict

from shegong.access import can, get_scoped
from shegong.archives import selectors, services
from shegong.archives.lists import ACCESS_LOG, CORRECTIONS
from shegong.archives.models import ArchiveClass, ArchiveRecord, Attachment, CorrectionRequest
from shegong.archives.rules import archive_rules
from shegong.common.codes import EDUCATION
from shegong.common.errors import ApplicationError, ConflictError
from shegong.common.etags import ConflictOut, conflict_response
from shegong.common.lists import ListDeclaration, ListError, api_queryset
from shegong.common.models import AccessLog
from shegong.common.pagination import Pagination
from shegong.common.versioning import etag, if_match
from shegong.org.selectors import division_get
from shegong.people.models import Worker

router = Router(tags=["人事档案"])

CLAUSE = "8.1.2"
DETAIL_RELATED = ("education", "work", "qualification", "reward", "sanction")


# ---- lookups (scoped: view, else 404) ------------------------------------------------------------------------


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _worker(request: HttpRequest, worker_id: int, action: str = "view", message: str = "") -> Worker:
    """The worker whose archive it is: 404 unless visible, 403 when visible but `action` is not allowed."""
    return get_scoped(Worker.objects.select_related("community", "community__parent"), request.user, action,
                      message=message, pk=worker_id)


def _record(request: HttpRequest, record_id: int, action: str = "view", message: str = "") -> ArchiveRecord:
    return get_scoped(ArchiveRecord.objects
                      .select_related("worker", "worker__community", "created_by", "voided_by", *DETAIL_RELATED)
                      .prefetch_related("attachments"), request.user, action, message=message, pk=record_id)


def _attachment(request: HttpRequest, attachment_id: int) -> Attachment:
    return (Attachment.objects.restrict(request.user, "view")
            .select_related("record", "record__worker", "record__worker__community").get(pk=attachment_id))


def _correction(request: HttpRequest, request_id: int, action: str = "view", message: str = "") -> CorrectionRequest:
    return get_scoped(CorrectionRequest.objects
                      .select_related("worker", "worker__community", "record", "requested_by", "decided_by"),
                      request.user, action, message=message, pk=request_id)


# ---- schemas ---------------------------------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    record_id: int
    original_name: str = Field(description="上传时的文件名")
    content_type: str = Field(description="按文件内容识别的类型:application/pdf、image/jpeg、image/png")
    size: int = Field(description="字节数")
    sha256: str
    uploaded_at: dt.datetime


def _details(record: ArchiveRecord) -> dict[str, Any] | None:
    """The detail row of a structured record as a dict (None for a plain document)."""
    if record.kind not in services.DETAIL_MODELS:
        return None
    detail: Model | None = getattr(record, record.kind, None)
    if detail is None:
        return None
    data = {f.name: getattr(detail, f.name) for f in detail._meta.fields if f.name != "record"}
    if record.kind == "education":
        data["level_name"] = EDUCATION.label(data["level"])
    if record.kind == "sanction":
        data["in_force"] = detail.in_force(timezone.localdate())  # type: ignore[attr-defined]
    return data


class CatalogueFields(Schema):
    """What a record and a catalogue entry both say (clause 5.2's catalogue columns). Declared once;
    the subclasses' own fields follow these in the JSON (the key order is no contract)."""

    archive_class: int = Field(description="档案类别 1–10")
    class_name: str
    title: str = Field(description="材料名称")
    date: dt.date | None = Field(description="材料日期")
    issuer: str = Field(description="形成单位")
    notes: str


class RecordOut(CatalogueFields):
    id: int
    worker_id: int
    kind: str = Field(description="document / education / work / qualification / reward / sanction")
    kind_name: str
    required_item: str = Field(description="必备材料代码(见 archive_rules.toml)")
    voided: bool
    voided_at: dt.datetime | None
    void_reason: str
    created_by: str | None
    created_at: dt.datetime
    attachments: list[AttachmentOut]
    details: dict[str, Any] | None = Field(description="结构化材料的明细(学历、工作经历、职业资格、奖励、处分)")

    @staticmethod
    def resolve_class_name(obj: ArchiveRecord) -> str:
        return ArchiveClass(obj.archive_class).label

    @staticmethod
    def resolve_kind_name(obj: ArchiveRecord) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_voided(obj: ArchiveRecord) -> bool:
        return obj.is_voided

    @staticmethod
    def resolve_created_by(obj: ArchiveRecord) -> str | None:
        return str(obj.created_by) if obj.created_by else None

    @staticmethod
    def resolve_attachments(obj: ArchiveRecord) -> list[Attachment]:
        return list(obj.attachments.all())

    @staticmethod
    def resolve_details(obj: ArchiveRecord) -> dict[str, Any] | None:
        return _details(obj)


class EntryOut(CatalogueFields):
    number: int = Field(description="类内序号(作废的材料不编号,为 0)")
    source: str = Field(description="record(档案材料) / appointment(任免,来自任职) / transfer(转递)")
    record_id: int | None
    kind: str | None
    voided: bool
    void_reason: str
    attachments: list[AttachmentOut]
    details: dict[str, Any] | None

    @staticmethod
    def resolve_record_id(obj: selectors.Entry) -> int | None:
        return obj.record.pk if obj.record else None

    @staticmethod
    def resolve_kind(obj: selectors.Entry) -> str | None:
        return obj.record.kind if obj.record else None

    @staticmethod
    def resolve_void_reason(obj: selectors.Entry) -> str:
        return obj.record.void_reason if obj.record else ""

    @staticmethod
    def resolve_details(obj: selectors.Entry) -> dict[str, Any] | None:
        return _details(obj.record) if obj.record else None


class ArchiveWorkerOut(Schema):
    id: int
    name: str
    id_number: str = Field(description="公民身份号码(脱敏)")
    community_code: str
    community_name: str
    status: str
    read_only: bool = Field(description="已不在岗:档案只读")
    can_change: bool = Field(description="当前用户可以增改这份档案")


class CompletenessItemOut(Schema):
    code: str
    name: str
    archive_class: int
    present: bool = Field(description="有未作废且带扫描件的材料")
    record_id: int | None


class CompletenessOut(Schema):
    items: list[CompletenessItemOut]
    missing: list[str] = Field(description="缺少的必备材料代码")
    rate: float
    complete: bool


class QualificationOut(Schema):
    record_id: int
    level: str
    certificate_no: str
    obtained_on: dt.date
    registered_on: dt.date | None
    expires_on: dt.date | None = Field(description="登记有效期至")
    hours_owed: int = Field(description="本周期应完成继续教育学时")
    hours_done: int
    days_left: int | None
    warning: str


class ArchiveOut(Schema):
    worker: ArchiveWorkerOut
    catalogue: list[EntryOut]
    completeness: CompletenessOut
    qualifications: list[QualificationOut]


class RecordIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    kind: str = Field("document", description="document / education / work / qualification / reward / sanction")
    archive_class: int | str | None = Field(None, description="档案类别 1–10 或类名;结构化材料可省略")
    title: str = Field("", description="材料名称;结构化材料可省略")
    date: dt.date | None = None
    issuer: str = ""
    notes: str = ""
    required_item: str = Field("", description="必备材料代码,如 id_card")
    details: dict[str, Any] | None = Field(None, description="结构化材料的明细,如 {\"school\": …, \"level\": \"本科\"}")


class RecordPatch(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    archive_class: int | str | None = None
    title: str | None = None
    date: dt.date | None = None
    issuer: str | None = None
    notes: str | None = None
    required_item: str | None = None
    details: dict[str, Any] | None = None


class VoidIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    reason: str = Field("", description="作废原因(必填)")


class AccessLogOut(Schema):
    id: int
    user: str = Field(description="操作人")
    action: str
    action_name: str
    label: str = Field(alias="object_label")
    at: dt.datetime
    ip: str | None
    worker_id: int | None
    worker_name: str | None
    community_code: str | None

    @staticmethod
    def resolve_user(obj: AccessLog) -> str:
        return str(obj.user)

    @staticmethod
    def resolve_action_name(obj: AccessLog) -> str:
        return obj.get_action_display()

    @staticmethod
    def resolve_worker_name(obj: AccessLog) -> str | None:
        return obj.worker.name if obj.worker else None

    @staticmethod
    def resolve_community_code(obj: AccessLog) -> str | None:
        return obj.worker.community.code if obj.worker else None


class CorrectionOut(Schema):
    id: int
    worker_id: int
    worker_name: str
    record_id: int | None
    record_title: str | None
    text: str
    status: str = Field(description="pending / accepted / rejected")
    status_name: str
    decision_reason: str
    requested_by: str | None
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None

    @staticmethod
    def resolve_worker_name(obj: CorrectionRequest) -> str:
        return obj.worker.name

    @staticmethod
    def resolve_record_title(obj: CorrectionRequest) -> str | None:
        return obj.record.title if obj.record else None

    @staticmethod
    def resolve_status_name(obj: CorrectionRequest) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_requested_by(obj: CorrectionRequest) -> str | None:
        return str(obj.requested_by) if obj.requested_by else None

    @staticmethod
    def resolve_decided_by(obj: CorrectionRequest) -> str | None:
        return str(obj.decided_by) if obj.decided_by else None


class CorrectionIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    text: str = Field("", description="需要更正的内容")
    record_id: int | None = Field(None, description="涉及的材料(可省略)")


class DecideIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    accept: bool = Field(description="true 采纳 / false 不采纳")
    reason: str = Field("", description="处理意见(必填)")


# ---- the archive ------------------------------------------------------------------------------------------------


@router.get("/workers/{worker_id}/archive", response=ArchiveOut, summary="人事档案:目录、完整性、职业资格(记录查阅日志)")
def archive(request: HttpRequest, worker_id: int):
    worker = _worker(request, worker_id)
    services.archive_open(actor=request.user, worker=worker, ip=_ip(request))
    records = selectors.archive_records(worker=worker)
    check = selectors.completeness(worker=worker, records=records)
    read_only = worker.status != Worker.Status.ACTIVE
    return {
        "worker": {"id": worker.pk, "name": worker.name, "id_number": worker.id_number_masked,
                   "community_code": worker.community.code, "community_name": worker.community.name,
                   "status": worker.status, "read_only": read_only,
                   "can_change": not read_only and can(request.user, "change", worker)},
        "catalogue": selectors.catalogue(worker=worker, records=records),
        "completeness": {
            "items": [{"code": item.code, "name": item.name, "archive_class": item.archive_class,
                       "present": record is not None, "record_id": record.pk if record else None}
                      for item, record in check.items],
            "missing": [item.code for item in check.missing], "rate": check.rate, "complete": check.complete},
        "qualifications": [_qualification(r) for r in records
                           if r.kind == ArchiveRecord.Kind.QUALIFICATION and not r.is_voided
                           and getattr(r, "qualification", None) is not None],
    }


def _qualification(record: ArchiveRecord) -> dict[str, Any]:
    s = selectors.qualification_status(record.qualification)
    q = s.qualification
    return {"record_id": record.pk, "level": q.level, "certificate_no": q.certificate_no,
            "obtained_on": q.obtained_on, "registered_on": q.registered_on, "expires_on": s.expires_on,
            "hours_owed": s.hours_owed, "hours_done": s.hours_done, "days_left": s.days_left, "warning": s.warning}


# ---- records ----------------------------------------------------------------------------------------------------


def _check_details(kind: str, details: dict[str, Any] | None) -> None:
    """Reject detail keys the kind does not have (the service would fail on them with a 500)."""
    if not details:
        return
    model = services.DETAIL_MODELS.get(kind)
    if model is None:
        if kind in ArchiveRecord.Kind.values:
            raise ApplicationError(f"种类为“{ArchiveRecord.Kind(kind).label}”的材料没有明细字段", field="details",
                                   clause=CLAUSE)
        return  # an unknown kind: the service names it
    allowed = {f.name for f in model._meta.fields} - {"record"}
    unknown = sorted(set(details) - allowed)
    if unknown:
        raise ApplicationError(f"明细中有未知字段:{'、'.join(unknown)};{ArchiveRecord.Kind(kind).label}可有 "
                               f"{'、'.join(sorted(allowed))}", field="details", clause=CLAUSE)


@router.get("/workers/{worker_id}/archive/records", response=list[RecordOut], summary="档案材料列表(记录查阅日志)")
@paginate(Pagination)
def records(request: HttpRequest, worker_id: int, archive_class: int | None = None, kind: str = "",
            include_voided: bool = False):
    worker = _worker(request, worker_id)
    services.archive_open(actor=request.user, worker=worker, ip=_ip(request))  # the full archive, as a list
    return [r for r in selectors.archive_records(worker=worker)
            if (archive_class is None or r.archive_class == archive_class) and (not kind or r.kind == kind)
            and (include_voided or not r.is_voided)]


@router.post("/workers/{worker_id}/archive/records", response={201: RecordOut}, summary="增加档案材料")
def record_post(request: HttpRequest, worker_id: int, payload: RecordIn):
    worker = _worker(request, worker_id, "change", "您可以查看但无权修改这份档案")
    data = payload.dict(exclude={"kind", "details"})
    if data["archive_class"] is None:
        data.pop("archive_class")
    _check_details(payload.kind, payload.details)
    record = services.record_create(actor=request.user, worker=worker, kind=payload.kind,
                                    details=payload.details, reason="API 增加档案材料", **data)
    return Status(201, _record(request, record.pk))


@router.get("/archive/records/{record_id}", response=RecordOut, summary="档案材料详情(ETag 为行版本)")
def record(request: HttpRequest, record_id: int, response: HttpResponse):
    obj = _record(request, record_id)
    response["ETag"] = etag(obj)
    return obj


@router.patch("/archive/records/{record_id}", response={200: RecordOut, 412: ConflictOut},
              summary="修改档案材料(修改留痕;只写给出的字段;If-Match 给出版本时,版本已变则 412)")
def record_patch(request: HttpRequest, record_id: int, payload: RecordPatch, response: HttpResponse):
    obj = _record(request, record_id, "change", "您可以查看但无权修改这份档案")
    data = payload.model_dump(exclude_unset=True)
    details = data.pop("details", None)
    _check_details(obj.kind, details)
    try:
        services.record_update(actor=request.user, record=obj, details=details, reason="API 修改档案材料",
                               expected_version=if_match(request.headers.get("If-Match")), **data)
    except ConflictError as exc:
        return conflict_response(exc)
    saved = _record(request, record_id)
    response["ETag"] = etag(saved)
    return saved


@router.post("/archive/records/{record_id}/void", response=RecordOut, summary="作废档案材料(保留,须写明原因)")
def record_void(request: HttpRequest, record_id: int, payload: VoidIn):
    obj = _record(request, record_id, "change", "您可以查看但无权作废这份材料")
    services.record_void(actor=request.user, record=obj, reason=payload.reason)
    return _record(request, record_id)


# ---- attachments ------------------------------------------------------------------------------------------------


@router.post("/archive/records/{record_id}/attachments", response={201: AttachmentOut},
             summary="上传扫描件(PDF、JPEG、PNG,按内容识别,不超过 20 MB)")
def attachment_post(request: HttpRequest, record_id: int, file: File[UploadedFile]):
    obj = _record(request, record_id, "change", "您可以查看但无权为这份材料上传附件")
    data = file.read(archive_rules().max_bytes + 1)  # enough to tell "too big" without reading it all
    attachment = services.attachment_add(actor=request.user, record=obj, name=file.name or "", data=data)
    return Status(201, attachment)


@router.get("/archive/attachments/{attachment_id}", summary="下载扫描件(记录下载日志)",
            openapi_extra={"responses": {200: {"description": "文件内容", "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}}}}}})
def attachment_download(request: HttpRequest, attachment_id: int):
    obj = _attachment(request, attachment_id)
    fh = services.attachment_download(actor=request.user, attachment=obj, ip=_ip(request))
    resp = FileResponse(fh, as_attachment=True, filename=obj.original_name, content_type=obj.content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, no-store"
    return resp


# ---- access log -------------------------------------------------------------------------------------------------


@router.get("/workers/{worker_id}/archive/access-log", response=list[AccessLogOut],
            summary="谁查阅、下载、打印了这份档案或查看了完整身份证号(本人和有权查看的管理员)")
@paginate(Pagination)
def worker_access_log(request: HttpRequest, worker_id: int):
    worker = _worker(request, worker_id)
    return selectors.access_log_for(worker=worker)


def _listed(declaration: ListDeclaration, request: HttpRequest, rows: QuerySet[Any]) -> QuerySet[Any]:
    """The page's filter and sort (archives/lists.py) on rows already restricted to the caller's scope."""
    try:
        return api_queryset(declaration, rows, request.GET)
    except ListError as exc:
        raise ApplicationError(";".join(exc.messages)) from exc


SORT_HELP = "排序列,前加 - 为倒序:"


@router.get("/archive/access-log", response=list[AccessLogOut], summary="档案访问审计(管辖范围内,管理员)")
@paginate(Pagination)
def access_log(request: HttpRequest, scope: str = "", action: str = "",
               sort: str = Query("", description=SORT_HELP + "at、user、action、worker、community")):
    if scope:  # a division out of scope answers 404, as everywhere
        division_get(actor=request.user, code=scope)
    if action and action not in AccessLog.Action.values:
        choices = "、".join(f"{a.value}({a.label})" for a in AccessLog.Action)
        raise ApplicationError(f"操作“{action}”无效,应为 {choices}", field="action")
    return _listed(ACCESS_LOG, request, selectors.access_log_list(actor=request.user))


# ---- correction requests ----------------------------------------------------------------------------------------


def _status(status: str) -> str:
    if status and status not in CorrectionRequest.Status.values:
        choices = "、".join(f"{s.value}({s.label})" for s in CorrectionRequest.Status)
        raise ApplicationError(f"状态“{status}”无效,应为 {choices}", field="status")
    return status


@router.get("/archive/corrections", response=list[CorrectionOut], summary="更正申请(管辖范围内)")
@paginate(Pagination)
def corrections_all(request: HttpRequest, status: str = "",
                    sort: str = Query("", description=SORT_HELP + "requested_at、worker、community、status")):
    _status(status)
    return _listed(CORRECTIONS, request, selectors.correction_requests(actor=request.user))


@router.get("/workers/{worker_id}/archive/corrections", response=list[CorrectionOut], summary="本人档案的更正申请")
@paginate(Pagination)
def corrections(request: HttpRequest, worker_id: int, status: str = ""):
    worker = _worker(request, worker_id)
    return selectors.correction_requests(actor=request.user, status=_status(status)).filter(worker=worker)


@router.post("/workers/{worker_id}/archive/corrections", response={201: CorrectionOut},
             summary="提出更正申请(仅本人,个人信息保护法第四十六条)")
def correction_post(request: HttpRequest, worker_id: int, payload: CorrectionIn):
    worker = _worker(request, worker_id)
    rec = None
    if payload.record_id is not None:
        rec = _record(request, payload.record_id)
    obj = services.correction_request_create(actor=request.user, worker=worker, text=payload.text, record=rec)
    return Status(201, _correction(request, obj.pk))


@router.post("/archive/corrections/{request_id}/decide", response=CorrectionOut, summary="处理更正申请(须写明意见)")
def correction_decide(request: HttpRequest, request_id: int, payload: DecideIn):
    obj = _correction(request, request_id, "change", "您可以查看但无权处理这项更正申请")
    services.correction_request_decide(actor=request.user, request=obj, accept=payload.accept, reason=payload.reason)
    return _correction(request, request_id)
