"""Every route the project serves, computed from Django's resolver and the API's OpenAPI schema.

The scope matrix (tests/access/test_route_matrix.py) is checked against these lists, so a new URL pattern or
API operation without a matrix row fails the suite instead of going untested. Routes are keyed by HTTP
method + path pattern (never by URL name: names are being namespaced, paths stay as users bookmark them).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "api/v1/"
# Mounted by Django or covered elsewhere: the API through its OpenAPI operations, the language switch.
SKIPPED_PREFIXES = (API_PREFIX, "i18n/")
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield pattern


def url_patterns() -> list[str]:
    """The full pattern string of every page route, e.g. 'workers/<int:pk>/edit/'."""
    return sorted({p for p in _walk(get_resolver()) if not p.startswith(SKIPPED_PREFIXES)})


def api_operations() -> list[str]:
    """Every OpenAPI operation as 'METHOD /api/v1/path/{param}'."""
    from shegong.api.api import api

    schema = api.get_openapi_schema()
    return sorted(f"{method.upper()} {path}" for path, ops in schema["paths"].items()
                  for method in ops if method in HTTP_METHODS)
