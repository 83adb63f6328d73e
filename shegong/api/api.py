"""/api/v1 — the NinjaAPI: bearer-token auth, Chinese JSON errors, {"items", "count"} pagination.

Each app's router lives in its own api.py and is mounted here. Every endpoint reads through
`restrict(user, action)`; a row outside scope answers 404.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer

from shegong.accounts.services import token_authenticate
from shegong.common.errors import ApplicationError


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ChineseJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=ChineseJSONRenderer(),
    title="社工 Shegong API",
    version="1",
    description="城市社区工作者职业管理(DB22/T 3226—2021)。认证:`Authorization: Bearer <token>`"
                "(令牌由 `shegong token create USERNAME` 生成)。",
    auth=BearerAuth(),
    urls_namespace="api",
)


@api.exception_handler(ApplicationError)
def _application_error(request, exc: ApplicationError):
    return api.create_response(request, {"message": exc.message, "field": exc.field, "errors": exc.errors}, status=400)


@api.exception_handler(ObjectDoesNotExist)
def _not_found(request, exc):
    return api.create_response(request, {"message": "未找到,或不在您的管辖范围内", "field": None}, status=404)


@api.exception_handler(Http404)
def _http404(request, exc):
    return _not_found(request, exc)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, {"message": str(exc) or "您无权执行此操作", "field": None}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return api.create_response(
        request, {"message": "未认证:请在 Authorization 头中提供有效的 Bearer 令牌", "field": None}, status=401)


_HTTP_MESSAGES = {
    "Cannot parse request body": "请求体无法解析:不是有效的 JSON",
    "Method not allowed": "不支持的请求方法",
}


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    text = str(exc)
    message = _HTTP_MESSAGES.get(text) or (text if any("\u4e00" <= ch <= "\u9fff" for ch in text) else f"请求失败:{text}")
    return api.create_response(request, {"message": message, "field": None}, status=exc.status_code)


_MSG = {
    "missing": "必填", "string_type": "应为文本", "int_parsing": "应为整数", "int_type": "应为整数",
    "date_from_datetime_parsing": "应为日期(YYYY-MM-DD)", "date_parsing": "应为日期(YYYY-MM-DD)",
    "date_type": "应为日期(YYYY-MM-DD)", "extra_forbidden": "不允许的字段", "json_invalid": "JSON 格式错误",
    "bool_parsing": "应为 true 或 false", "string_too_long": "过长", "literal_error": "取值无效",
}


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors: list[dict[str, str | None]] = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")]
        field = ".".join(loc) or None
        errors.append({"field": field, "message": _MSG.get(err.get("type", ""), err.get("msg", "无效"))})
    first = errors[0] if errors else {"field": None, "message": "请求数据无效"}
    message = ";".join(f"{e['field']}:{e['message']}" if e["field"] else str(e["message"]) for e in errors)
    return api.create_response(request, {"message": f"请求数据无效:{message}", "field": first["field"],
                                         "errors": errors}, status=422)


def _mount() -> None:
    from shegong.archives.api import router as archives_router
    from shegong.org.api import router as org_router
    from shegong.people.api import router as people_router
    from shegong.staffing.api import router as staffing_router

    api.add_router("/", org_router)
    api.add_router("/", people_router)
    api.add_router("/", staffing_router)
    api.add_router("/", archives_router)


_mount()
