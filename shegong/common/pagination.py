"""Pagination of /api/v1 lists: `{"items": [...], "count": N}` with bounded `limit` and `offset`.

Ninja's LimitOffsetPagination leaves `offset` unbounded: an offset of 2^63 or more overflowed the
database's integer and answered 500. Here both are bounded in the schema (a larger value is a 422
in Chinese, and the OpenAPI document says so). Use `@paginate(Pagination)` on every list endpoint;
the request guard (shegong/common/guard.py) bounds `offset` for endpoints that still use ninja's class.
"""

from __future__ import annotations

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

# Far beyond any list this system holds, far below the 2^63 - 1 of a database integer (offset + limit
# must stay below it too).
MAX_OFFSET = 1_000_000_000


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_LIMIT,
                           description=f"每页条数(1–{settings.NINJA_PAGINATION_MAX_LIMIT})")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数")
