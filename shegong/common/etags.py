"""The API side of optimistic concurrency (shegong/common/versioning.py): the 412 answer.

GET of an editable record sends `ETag: "<row_version>"`; PATCH honours `If-Match`. A PATCH whose
If-Match names another version answers 412 Precondition Failed with the project's error shape
`{"message": "已被他人修改…", "field": null}`. The endpoints catch ConflictError themselves, so the
answer is 412 whatever exception handlers shegong/api/api.py registers.
"""

from __future__ import annotations

from ninja import Field, Schema, Status

from shegong.common.errors import ConflictError


class ConflictOut(Schema):
    message: str = Field(description="已被他人修改……")
    field: str | None = None


def conflict_response(exc: ConflictError) -> Status:
    """412 Precondition Failed: the If-Match version is not the row's version any more."""
    message = exc.message
    if exc.actual is not None:
        message = f'已被他人修改:If-Match 给出的版本不是当前版本(现在是 "{exc.actual}");请重新获取后再修改'
    return Status(412, {"message": message, "field": None})
