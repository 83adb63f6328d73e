"""/api/v1 — the NinjaAPI: bearer-token auth, Chinese JSON errors, {"items", "count"} pagination.

Each app's router lives in its own api.py and is mounted here. Every endpoint reads through
`restrict(user, action)`; a row outside scope answers 404.

Every error is JSON of one shape, {"message": 中文说明, "field": 字段或 null, "errors": 明细(可选)}
(shegong/common/openapi.py documents it for each operation): the exception handlers below turn every
exception into such an answer — an unexpected one into a logged 500, never Django's HTML page — and
the URLs of the API answer an unknown path (404) and a wrong method (405) the same way. The request
guard (shegong/common/guard.py) refuses, before any query runs, a body that is not JSON (415), NUL
characters, over-long query values and out-of-range offsets (422).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer

from shegong.accounts.services import token_authenticate
from shegong.archives.api import router as archives_router
from shegong.common import errors as _errors
from shegong.common.errors import ApplicationError
from shegong.common.guard import GuardedParser, UnsupportedMediaType
from shegong.common.openapi import add_error_responses
from shegong.org.api import router as org_router
from shegong.people.api import router as people_router
from shegong.staffing.api import router as staffing_router

logger = logging.getLogger("shegong.api")

NOT_FOUND = "未找到,或不在您的管辖范围内"
SERVER_ERROR = "服务器内部错误,已记录;请稍后重试,或把出错的时间告诉系统管理员"


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ChineseJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class ShegongAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document lists every operation's error responses and whose URLs answer
    an unknown path or a wrong method in JSON too."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None):
        return add_error_responses(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))

    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = self._json_errors(pattern.callback)
        urls.append(re_path(r"^.*$", self._json_errors(self._unknown_path), name="api-unknown"))
        return urls

    def error(self, request: HttpRequest, status: int, message: str, field: str | None = None,
              **extra: Any) -> HttpResponse:
        return self.create_response(request, {"message": message, "field": field, **extra}, status=status)

    def _unknown_path(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        raise Http404

    def _json_errors(self, view):
        """Wrap a URL's view: Http404 raised outside an operation (the API root, an unknown path) and
        the 405 of a method the path does not have become JSON errors."""

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                return self.error(request, 404, NOT_FOUND)
            if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
                allow = response.get("Allow", "")
                response = self.error(request, 405, f"不支持 {request.method} 方法;可用:{allow}")
                response["Allow"] = allow
            return response

        return wrapper


api = ShegongAPI(
    renderer=ChineseJSONRenderer(),
    parser=GuardedParser(),
    title="社工 Shegong API",
    version="1",
    description="城市社区工作者职业管理(DB22/T 3226—2021)。认证:`Authorization: Bearer <token>`"
                "(令牌由 `shegong token create USERNAME` 生成)。错误一律以 JSON 返回:"
                "`{\"message\": 中文说明, \"field\": 字段或 null, \"errors\": 明细}`。",
    auth=BearerAuth(),
    urls_namespace="api",
)


@api.exception_handler(ApplicationError)
def _application_error(request, exc: ApplicationError):
    return api.error(request, 400, exc.message, exc.field, errors=exc.errors)


def _conflict(request: HttpRequest, exc: Any) -> HttpResponse:
    """A row changed since the user read it (shegong/common/versioning.py), where the endpoint did not
    answer it itself: 412 when the client named the version it worked from (If-Match), else 409."""
    status = 412 if request.headers.get("If-Match") else 409
    return api.error(request, status, exc.message)


# ConflictError comes with optimistic concurrency (shegong/common/versioning.py).
_ConflictError = getattr(_errors, "ConflictError", None)
if _ConflictError is not None:
    api.add_exception_handler(_ConflictError, _conflict)


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request, exc: DjangoValidationError):
    return _application_error(request, ApplicationError.from_validation_error(exc))


@api.exception_handler(ObjectDoesNotExist)
def _not_found(request, exc):
    return api.error(request, 404, NOT_FOUND)


@api.exception_handler(Http404)
def _http404(request, exc):
    return _not_found(request, exc)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    """shegong.access.Forbidden (a PermissionDenied) and any other refusal: 403 with the Chinese reason."""
    return api.error(request, 403, getattr(exc, "message", "") or str(exc) or "您无权执行此操作")


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return api.error(request, 401, "未认证:请在 Authorization 头中提供有效的 Bearer 令牌")


_HTTP_MESSAGES = {
    "Cannot parse request body": "请求体无法解析:不是有效的 JSON",
    "Method not allowed": "不支持的请求方法",
}


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    cause = exc.__cause__
    if isinstance(cause, UnsupportedMediaType):  # raised by the guard while ninja parsed the body
        shown = cause.content_type.split(";")[0].strip() or "(未给出)"
        return api.error(request, 415, f"请求体须为 JSON:Content-Type 应为 application/json,而不是 {shown}")
    if isinstance(cause, NinjaValidationError):
        return _validation_error(request, cause)
    text = str(exc)
    if text.startswith("Cannot parse request body"):
        text = "Cannot parse request body"
    message = _HTTP_MESSAGES.get(text) or (text if any("\u4e00" <= ch <= "\u9fff" for ch in text) else f"请求失败:{text}")
    return api.error(request, exc.status_code, message)


_MSG = {
    "missing": "必填", "string_type": "应为文本", "int_parsing": "应为整数", "int_type": "应为整数",
    "date_from_datetime_parsing": "应为日期(YYYY-MM-DD)", "date_parsing": "应为日期(YYYY-MM-DD)",
    "date_type": "应为日期(YYYY-MM-DD)", "extra_forbidden": "不允许的字段", "json_invalid": "JSON 格式错误",
    "bool_parsing": "应为 true 或 false", "string_too_long": "过长", "literal_error": "取值无效",
    "bool_type": "应为 true 或 false", "int_from_float": "应为整数", "dict_type": "应为对象",
    "model_type": "应为对象", "model_attributes_type": "应为对象", "list_type": "应为列表",
    "datetime_parsing": "应为日期时间", "datetime_type": "应为日期时间", "enum": "取值无效",
    "string_pattern_mismatch": "格式不对", "nul_character": "不能包含 NUL 字符(\\x00)",
}


def _range_message(err: dict[str, Any]) -> str | None:
    ctx = err.get("ctx") or {}
    bounds = {"greater_than_equal": ("ge", "不能小于"), "less_than_equal": ("le", "不能大于"),
              "greater_than": ("gt", "应大于"), "less_than": ("lt", "应小于")}
    kind = err.get("type", "")
    if kind in bounds and bounds[kind][0] in ctx:
        return f"{bounds[kind][1]} {ctx[bounds[kind][0]]}"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "不能为空" if least == 1 else f"至少 {least} 个字符"
    return None


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors: list[dict[str, str | None]] = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path", "form")]
        field = ".".join(loc) or None
        message = _MSG.get(err.get("type", "")) or _range_message(err) or err.get("msg", "无效")
        errors.append({"field": field, "message": message})
    first = errors[0] if errors else {"field": None, "message": "请求数据无效"}
    message = ";".join(f"{e['field']}:{e['message']}" if e["field"] else str(e["message"]) for e in errors)
    return api.error(request, 422, f"请求数据无效:{message}", first["field"], errors=errors)


@api.exception_handler(OverflowError)
def _overflow(request, exc: OverflowError):
    # A number or a date past what the database or the calendar holds (SQLite's 64-bit integers,
    # a date beyond 9999-12-31 in arithmetic).
    logger.warning("API %s %s: %s", request.method, request.get_full_path(), exc)
    return api.error(request, 422, "请求数据无效:数值或日期超出可处理的范围")


@api.exception_handler(DataError)
def _data_error(request, exc: DataError):
    # The database refused a value: out of range, too long, or a character it cannot store.
    logger.warning("API %s %s: %s", request.method, request.get_full_path(), exc)
    return api.error(request, 422, "请求数据无效:有值超出数据库允许的范围或含有无法保存的字符")


@api.exception_handler(IntegrityError)
def _integrity_error(request, exc: IntegrityError):
    # A unique or foreign-key constraint: someone saved conflicting data meanwhile.
    logger.warning("API %s %s: %s", request.method, request.get_full_path(), exc)
    return api.error(request, 409, "与已保存的数据冲突(可能刚被他人修改);请刷新后重试")


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return api.error(request, 413, "请求体过大")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc):
    logger.warning("API %s %s: %s", request.method, request.get_full_path(), exc)
    return api.error(request, 400, "请求无效")


@api.exception_handler(Exception)
def _server_error(request, exc: Exception):
    """Anything else: logged with its traceback, answered as JSON (never Django's HTML page)."""
    logger.error("API %s %s: unhandled %s", request.method, request.get_full_path(), type(exc).__name__,
                 exc_info=exc)
    return api.error(request, 500, SERVER_ERROR)


api.add_router("/", org_router)
api.add_router("/", people_router)
api.add_router("/", staffing_router)
api.add_router("/", archives_router)
