from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from shegong.common.pagination import Pagination
from shegong.org.models import Division
from shegong.org.selectors import division_get, division_list

router = Router(tags=["区划与社区"])


class DivisionOut(Schema):
    id: int
    code: str = Field(description="统计用区划代码(自然长度)")
    full_code: str = Field(description="12 位区划代码")
    name: str
    level: str
    parent_code: str | None = None

    @staticmethod
    def resolve_parent_code(obj: Division) -> str | None:
        return obj.code[: {4: 2, 6: 4, 9: 6, 12: 9}.get(len(obj.code), 0)] or None


class CommunityOut(DivisionOut):
    households: int | None = Field(None, description="户数")
    resident_population: int | None = Field(None, description="常住人口")
    party_org_type: str = Field("", description="党组织类型:党委 / 党总支 / 党支部")
    address: str = ""


@router.get("/divisions", response=list[DivisionOut], summary="区划列表")
@paginate(Pagination)
def divisions(request: HttpRequest, parent: str = "", level: str = "", q: str = ""):
    parent_obj = division_get(actor=request.user, code=parent) if parent else None
    return division_list(actor=request.user, parent=parent_obj, level=level, q=q)


@router.get("/divisions/{code}", response=DivisionOut, summary="区划详情(自然长度或 12 位代码)")
def division(request: HttpRequest, code: str):
    return division_get(actor=request.user, code=code)


@router.get("/communities", response=list[CommunityOut], summary="社区列表")
@paginate(Pagination)
def communities(request: HttpRequest, within: str = "", q: str = ""):
    parent = division_get(actor=request.user, code=within) if within else None
    qs = division_list(actor=request.user, level=Division.Level.COMMUNITY, q=q)
    if parent is not None:
        qs = qs.filter(code__startswith=parent.code)
    return qs


@router.get("/communities/{code}", response=CommunityOut, summary="社区详情")
def community(request: HttpRequest, code: str):
    obj = division_get(actor=request.user, code=code)
    if obj.level != Division.Level.COMMUNITY:
        raise Division.DoesNotExist
    return obj
