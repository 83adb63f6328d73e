"""The error responses of /api/v1 in the OpenAPI document.

Every error the API answers has one JSON shape, the `Error` schema below. Ninja only documents the
responses an operation declares; `add_error_responses` adds, to each operation, the errors that the
exception handlers of shegong/api/api.py and the request guard can answer for it (a response the
operation declares itself, such as a 412 with ConflictOut, is left as it is):

400 a rule of the system refused the request (ApplicationError), or the JSON body does not parse
401 no valid bearer token (operations that need one)      403 visible but not changeable
404 not found, or outside the user's scope                 409 conflicts with data saved meanwhile (writes)
413 body too large (writes)    415 body not sent as application/json (operations with a JSON body)
422 a parameter or field is invalid (missing, wrong type, out of range, NUL character, too long)
500 an unexpected error (logged)
"""

from __future__ import annotations

from typing import Any

from shegong.common.pagination import MAX_OFFSET

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "错误:中文说明 `message`,出错的字段 `field`(没有时为 null),以及可选的逐项明细 `errors`",
    "properties": {
        "message": {"type": "string", "description": "中文说明"},
        "field": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "出错的字段"},
        "errors": {
            "description": "逐项明细:422 为 [{field, message}] 列表;400 为 {字段: [说明]}",
            "anyOf": [
                {"type": "array", "items": {"$ref": "#/components/schemas/ErrorItem"}},
                {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            ],
        },
    },
    "required": ["message", "field"],
}
ERROR_ITEM_SCHEMA: dict[str, Any] = {
    "title": "ErrorItem",
    "type": "object",
    "properties": {
        "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "message": {"type": "string"},
    },
    "required": ["field", "message"],
}

DESCRIPTIONS = {
    400: "业务规则不允许,或请求体不是有效的 JSON",
    401: "未认证:缺少或无效的 Bearer 令牌",
    403: "可以查看但无权执行此操作",
    404: "未找到,或不在您的管辖范围内",
    409: "与同时保存的数据冲突",
    413: "请求体过大",
    415: "请求体须为 application/json",
    422: "参数或字段无效(缺少、类型不对、超出范围、含 NUL 字符、过长)",
    500: "服务器内部错误(已记录)",
}
WRITES = {"post", "put", "patch", "delete"}
METHODS = WRITES | {"get", "head", "options"}


def _statuses(method: str, operation: dict[str, Any]) -> list[int]:
    statuses = [400, 404, 422, 500]
    if operation.get("security"):
        statuses += [401, 403]
    if method in WRITES:
        statuses += [409, 413]
    body = operation.get("requestBody", {}).get("content", {})
    if any(media.endswith("json") for media in body):
        statuses.append(415)
    return sorted(statuses)


def _bound_offsets(operation: dict[str, Any]) -> None:
    """The request guard bounds every `offset` (shegong/common/guard.py): say so where a list still uses
    ninja's LimitOffsetPagination, whose schema has no maximum."""

    for param in operation.get("parameters", []):
        if param.get("in") == "query" and param.get("name") == "offset":
            param.setdefault("schema", {}).setdefault("maximum", MAX_OFFSET)


def add_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    schemas.setdefault("ErrorItem", ERROR_ITEM_SCHEMA)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            _bound_offsets(operation)
            responses = operation.setdefault("responses", {})
            declared = {str(code) for code in responses}
            for status in _statuses(method, operation):
                if str(status) not in declared:
                    responses[status] = {"description": DESCRIPTIONS[status], "content": error}
    return schema
