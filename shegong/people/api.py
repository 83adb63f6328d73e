from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from shegong.access import restrict
from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS
from shegong.common.errors import ApplicationError, ConflictError
from shegong.common.etags import ConflictOut, conflict_response
from shegong.common.lists import ListError, api_queryset
from shegong.common.pagination import Pagination
from shegong.common.versioning import etag, if_match
from shegong.org.selectors import division_get
from shegong.people.lists import WORKERS
from shegong.people.models import Worker
from shegong.people.selectors import worker_get
from shegong.people.services import worker_create, worker_reveal, worker_update

router = Router(tags=["社区工作者"])


def _api_rows() -> QuerySet[Worker]:
    """Every field WorkerOut answers (the page's `.only()` would load each missing one row by row);
    never the ciphertexts: the API shows the stored masked forms."""
    return Worker.objects.select_related("community").defer("id_number_encrypted", "phone_encrypted")


class WorkerOut(Schema):
    id: int
    name: str = Field(description="姓名")
    id_number: str = Field(alias="id_number_masked", description="公民身份号码(脱敏)")
    gender: str
    birth_date: dt.date
    ethnicity: str = Field(description="民族代码 GB/T 3304")
    ethnicity_name: str
    political_status: str = Field(description="政治面貌代码 GB/T 4762")
    political_status_name: str
    education: str = Field(description="学历代码 GB/T 4658")
    education_name: str
    phone: str = Field(alias="phone_masked", description="联系电话(脱敏)")
    category: str = Field(description="人员类别")
    status: str = Field(description="状态")
    work_start_date: dt.date | None
    post_start_date: dt.date | None
    community_code: str
    community_name: str

    @staticmethod
    def resolve_ethnicity_name(obj: Worker) -> str:
        return ETHNICITY.label(obj.ethnicity)

    @staticmethod
    def resolve_political_status_name(obj: Worker) -> str:
        return POLITICAL_STATUS.label(obj.political_status)

    @staticmethod
    def resolve_education_name(obj: Worker) -> str:
        return EDUCATION.label(obj.education)

    @staticmethod
    def resolve_community_code(obj: Worker) -> str:
        return obj.community.code

    @staticmethod
    def resolve_community_name(obj: Worker) -> str:
        return obj.community.name


class WorkerIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    name: str = Field(description="姓名")
    id_number: str = Field(description="18 位公民身份号码")
    community: str = Field(min_length=1, description="所在社区区划代码")
    phone: str = ""
    gender: str = Field("", description="可省略;给出时须与身份证号一致")
    birth_date: dt.date | None = Field(None, description="可省略;给出时须与身份证号一致")
    ethnicity: str = Field("", description="民族(代码、名称或简称,如 汉)")
    political_status: str = Field("", description="政治面貌(如 中共党员、群众)")
    education: str = Field("", description="学历(如 本科、大专)")
    category: str = Field("专职社区工作者", description="专职社区工作者 / 公益性岗位 / 兼职")
    status: str = Field("在岗", description="在岗 / 离岗 / 退休 / 辞职 / 解聘")
    work_start_date: dt.date | None = None
    post_start_date: dt.date | None = None


class WorkerPatch(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    name: str | None = None
    id_number: str | None = None
    community: str | None = None
    phone: str | None = None
    ethnicity: str | None = None
    political_status: str | None = None
    education: str | None = None
    category: str | None = None
    status: str | None = None
    work_start_date: dt.date | None = None
    post_start_date: dt.date | None = None


class RevealIn(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is an error, not ignored

    field: Literal["id_number", "phone"]


class RevealOut(Schema):
    field: str
    value: str


def _data(request: HttpRequest, payload: Schema, exclude_unset: bool) -> dict:
    data = payload.model_dump(exclude_unset=exclude_unset)
    if data.get("community"):
        data["community"] = division_get(actor=request.user, code=data["community"])
    elif "community" in data:
        data.pop("community")
    return data


@router.get("/workers", response=list[WorkerOut], summary="社区工作者列表")
@paginate(Pagination)
def workers(request: HttpRequest, community: str = "", post_type: str = "", category: str = "",
            status: str = "", q: str = "",
            sort: str = Query("", description="排序列:name、birth_date、community、category、status,前加 - 为倒序")):
    # The page's filter and sort (people/lists.py), on the rows the actor may view.
    try:
        return api_queryset(WORKERS, restrict(_api_rows(), request.user, WORKERS.action), request.GET)
    except ListError as exc:
        raise ApplicationError(";".join(exc.messages)) from exc


@router.get("/workers/{worker_id}", response=WorkerOut, summary="社区工作者详情(ETag 为行版本)")
def worker(request: HttpRequest, worker_id: int, response: HttpResponse):
    obj = worker_get(actor=request.user, pk=worker_id)
    response["ETag"] = etag(obj)
    return obj


@router.post("/workers", response={201: WorkerOut}, summary="登记社区工作者")
def worker_post(request: HttpRequest, payload: WorkerIn):
    data = _data(request, payload, exclude_unset=False)
    return Status(201, worker_create(actor=request.user, reason="API 登记", **data))


@router.patch("/workers/{worker_id}", response={200: WorkerOut, 412: ConflictOut},
              summary="修改社区工作者(只写给出的字段;If-Match 给出版本时,版本已变则 412)")
def worker_patch(request: HttpRequest, worker_id: int, payload: WorkerPatch, response: HttpResponse):
    obj = worker_get(actor=request.user, pk=worker_id)
    data = {k: v for k, v in _data(request, payload, exclude_unset=True).items() if v is not None}
    try:
        saved = worker_update(worker=obj, actor=request.user, reason="API 修改",
                              expected_version=if_match(request.headers.get("If-Match")), **data)
    except ConflictError as exc:
        return conflict_response(exc)
    response["ETag"] = etag(saved)
    return saved


@router.post("/workers/{worker_id}/reveal", response=RevealOut, summary="查看完整身份证号或电话(记录日志)")
def worker_reveal_api(request: HttpRequest, worker_id: int, payload: RevealIn):
    obj = worker_get(actor=request.user, pk=worker_id)
    value = worker_reveal(worker=obj, actor=request.user, field=payload.field, ip=request.META.get("REMOTE_ADDR"))
    return {"field": payload.field, "value": value}
