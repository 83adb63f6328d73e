from __future__ import annotations

import datetime as dt
from operator import attrgetter
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from shegong.common.errors import ApplicationError
from shegong.common.lists import ListError
from shegong.common.pagination import Pagination
from shegong.org.models import Division
from shegong.org.selectors import division_get
from shegong.people.selectors import worker_get
from shegong.staffing.compliance import Report, community_report, compliance_report, filter_findings
from shegong.staffing.entry import ConfirmationRequired, appoint_checked, clean_confirm_reason, end_checked
from shegong.staffing.models import PostType
from shegong.staffing.selectors import appointment_get, appointment_list

router = Router(tags=["岗位与任职"])


class PostTypeOut(Schema):
    code: str
    name: str
    aliases: list[str]
    category: str
    layer: str
    clause: str
    duties_clause: str
    duties: list[list[str]]


def related(path: str) -> Any:
    """A ninja resolver reading `path` ("worker.name") from the object (one line per field, not four)."""
    get = attrgetter(path)

    def resolve(obj: Any) -> Any:
        return get(obj)

    return staticmethod(resolve)


class AppointmentOut(Schema):
    id: int
    worker_id: int
    worker_name: str
    community_code: str
    community_name: str
    post_type: str = Field(description="岗位代码")
    post_name: str
    method: str = Field(description="任职方式")
    start_date: dt.date
    end_date: dt.date | None
    end_reason: str
    is_current: bool

    # Each a related object's attribute (select_related by appointment_list/appointment_get).
    resolve_worker_name = related("worker.name")
    resolve_community_code = related("community.code")
    resolve_community_name = related("community.name")
    resolve_post_type = related("post_type.code")
    resolve_post_name = related("post_type.name")


# A database id: a larger number cannot name a row (and overflows the database's integer).
MAX_ID = 2**63 - 1


class AppointmentIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    worker_id: int
    community: str = Field(description="社区区划代码")
    post_type: str = Field(description="岗位代码、名称或常用简称(如 书记、主任)")
    method: str = Field(description="选举 / 组织指派 / 聘用 / 兼任")
    start_date: dt.date
    note: str = ""
    confirm: bool = Field(False, description="确认新增合规错误仍要任命(需同时给出 confirm_reason)")
    confirm_reason: str = Field("", description="确认的理由,记入任职的变更记录(最多 60 字)")


class AppointmentEndIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    end_date: dt.date
    end_reason: str = ""
    confirm_reason: str = Field("", description="离任造成合规错误(如岗位空缺)时的说明,记入变更记录(最多 60 字)")


@router.get("/post-types", response=list[PostTypeOut], summary="岗位类型(第 4–6 章)")
def post_types(request: HttpRequest):
    return PostType.objects.all()


@router.get("/appointments", response=list[AppointmentOut], summary="任职列表")
@paginate(Pagination)
def appointments(request: HttpRequest, community: str = "",
                 worker_id: int | None = Query(None, ge=1, le=MAX_ID, description="人员 id"),
                 post_type: str = "", current: bool | None = None,
                 sort: str = Query("", description="排序列:worker、community、post_type、start_date、end_date,"
                                                   "前加 - 为倒序")):
    try:
        return appointment_list(actor=request.user, community=community, worker_id=worker_id,
                                post_type=post_type, current=current, sort=sort)
    except ListError as exc:
        raise ApplicationError(";".join(exc.messages), field="sort") from exc


@router.get("/appointments/{appointment_id}", response=AppointmentOut, summary="任职详情")
def appointment(request: HttpRequest, appointment_id: int):
    return appointment_get(actor=request.user, pk=appointment_id)


class FindingOut(Schema):
    community: str = Field(description="社区区划代码")
    name: str = Field(description="社区名称")
    clause: str = Field(description="标准条款,如 4.2.1")
    level: str = Field(description="error / warning")
    message: str
    expected: str
    actual: int | str | None
    rule: str = Field(description="规则集中的规则编号")
    worker: int | None = Field(description="涉及人员的 id(按人核查的规则)")


def _confirmation(exc: ConfirmationRequired) -> JsonResponse:
    """409 in the API's one error shape (`message`, `field`), with the findings: `new_errors` (what needs
    the confirmation), `added` and `cleared` (as in GET /compliance; a finding whose numbers change is in
    both)."""
    change = exc.change
    return JsonResponse({"message": exc.message, "field": "confirm",
                         "new_errors": [f.as_dict() for f in change.new_errors],
                         "added": [f.as_dict() for f in change.added],
                         "cleared": [f.as_dict() for f in change.cleared]},
                        status=409, json_dumps_params={"ensure_ascii": False})


@router.post("/appointments", response={201: AppointmentOut}, summary="任命岗位",
             description="保存前按岗位设置要求核查(与合规检查同一套规则):若将新增合规错误(如第二名党组织书记,4.2.1),"
                         "答 409,`field` 为 confirm,另列 `new_errors`(需确认的新增错误)、`added`、`cleared`"
                         "(与 GET /compliance 的 findings 同形);确需任命时以 confirm=true 和 confirm_reason(理由)"
                         "再次提交,理由记入变更记录。")
def appointment_post(request: HttpRequest, payload: AppointmentIn):
    # Both must be visible (404 otherwise); the service refuses (403) unless the actor may change both.
    worker = worker_get(actor=request.user, pk=payload.worker_id)
    community = division_get(actor=request.user, code=payload.community)
    try:
        checked = appoint_checked(worker=worker, community=community, post_type=payload.post_type,
                                  method=payload.method, start_date=payload.start_date, note=payload.note,
                                  actor=request.user, reason="API 任命",
                                  confirm_reason=clean_confirm_reason(payload.confirm, payload.confirm_reason))
    except ConfirmationRequired as exc:
        return _confirmation(exc)
    return Status(201, appointment_get(actor=request.user, pk=checked.appointment.pk))


@router.post("/appointments/{appointment_id}/end", response=AppointmentOut, summary="离任(任职记录保留)",
             description="离任造成的合规错误(如岗位空缺)不阻止离任;可用 confirm_reason 说明,记入变更记录。")
def appointment_end_api(request: HttpRequest, appointment_id: int, payload: AppointmentEndIn):
    obj = appointment_get(actor=request.user, pk=appointment_id)
    end_checked(appointment=obj, end_date=payload.end_date, end_reason=payload.end_reason, actor=request.user,
                reason="API 离任", confirm_reason=clean_confirm_reason(bool(payload.confirm_reason.strip()),
                                                                        payload.confirm_reason))
    return appointment_get(actor=request.user, pk=appointment_id)


# ---- compliance (clauses 3.2, 4) ---------------------------------------------------------------------


class ComplianceOut(Schema):
    rule_set: str
    as_of: dt.date
    scope: str
    communities: int
    communities_with_errors: int
    communities_with_warnings: int
    findings: list[FindingOut]


class StaffingOut(Schema):
    full_time: int = Field(description="专职社区工作者人数(4.1)")
    households: int | None
    min: int | None
    max: int | None
    clause: str


class CommunityComplianceOut(ComplianceOut):
    staffing: StaffingOut


def _compliance(request: HttpRequest, scope: str, as_of: dt.date | None) -> tuple[Any, Report]:
    return compliance_report(actor=request.user, scope=scope, as_of=as_of)


@router.get("/compliance", response=ComplianceOut, summary="合规检查:范围内每个社区的问题(3.2、4)")
def compliance(request: HttpRequest, scope: str = "", as_of: dt.date | None = None, level: str = "",
               clause: str = ""):
    _, report = _compliance(request, scope, as_of)
    data = report.as_dict()
    if level or clause:
        data["findings"] = [f.as_dict() for f in filter_findings(report.findings, level=level, clause=clause)]
    return data


@router.get("/communities/{code}/compliance", response=CommunityComplianceOut, summary="一个社区的合规检查")
def community_compliance(request: HttpRequest, code: str, as_of: dt.date | None = None):
    division = division_get(actor=request.user, code=code)
    if not division.is_community:
        raise Division.DoesNotExist(f"{division.code} 不是社区")
    report = community_report(community=division, as_of=as_of)
    s = report.staffing[division.code]
    return {**report.as_dict(), "staffing": {"full_time": s.full_time, "households": s.households, "min": s.lo,
                                             "max": s.hi, "clause": report.rule_set.quota.clause}}
