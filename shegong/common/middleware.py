from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


class ChineseFirstMiddleware:
    """Chinese first: the browser's Accept-Language is ignored; English only when the user picks it
    (the language cookie set by the switch in the top bar). Place before LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


NO_STORE = "private, no-store"


class NoStoreMiddleware:
    """Every response to an authenticated request gets `Cache-Control: private, no-store` (issue 9.4):
    pages, API JSON (a full ID number from /reveal), xlsx exports and PDFs all carry personal data, and
    no browser or proxy cache may keep them. The header replaces whatever the view set.

    Authenticated means a session user (AuthenticationMiddleware) or an API bearer token: the API's
    auth sets request.user while the view runs, so the check is made on the way out. Anonymous
    responses (the login page, the OpenAPI document) and static files keep their
    caching; WhiteNoise answers static files before this middleware, and STATIC_URL is skipped here too.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/") if settings.STATIC_URL else None

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.static_prefix and request.path_info.startswith(self.static_prefix):
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = NO_STORE
            if "Expires" in response:
                del response["Expires"]
        return response
