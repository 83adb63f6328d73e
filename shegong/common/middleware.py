from django.http import HttpRequest


class ChineseFirstMiddleware:
    """Chinese first: the browser's Accept-Language is ignored; English only when the user picks it
    (the language cookie set by the switch in the top bar). Place before LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class NoStoreMiddleware:
    """Placeholder: every authenticated response gets `Cache-Control: private, no-store` (issue 9.4)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)
