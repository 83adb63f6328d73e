"""The request guard of /api/v1: what no endpoint should have to check for itself.

It is ninja's parser (NinjaAPI(parser=GuardedParser())), so it runs after authentication, on every
operation that reads a query string or a JSON body:

* a JSON body must be sent as JSON: `Content-Type: application/json` (or `application/*+json`);
  anything else — `text/plain`, a form — is 415 Unsupported Media Type. Upload endpoints take
  `multipart/form-data` and read no JSON body, so they are not affected.
* no NUL character (U+0000) in a query value or anywhere in a JSON body (PostgreSQL cannot store
  one in text, and no field of this system means to hold one): 422 naming the field.
* a query value is at most MAX_QUERY_CHARS characters (a code, a date, a name or an ID number to
  search for is far shorter; SQLite refuses a LIKE pattern over 50,000 bytes): 422.
* `offset` at most pagination.MAX_OFFSET, for list endpoints that do not yet use
  shegong.common.pagination.Pagination (whose schema says the same).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from shegong.common.pagination import MAX_OFFSET

MAX_QUERY_CHARS = 200
NUL = "\x00"
_DIGITS = re.compile(r"\+?[0-9]+")


class UnsupportedMediaType(Exception):
    """A JSON body sent under another Content-Type (answered 415)."""

    def __init__(self, content_type: str) -> None:
        super().__init__(content_type)
        self.content_type = content_type


def is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _invalid(source: str, loc: tuple[Any, ...], kind: str, message: str) -> NinjaValidationError:
    return NinjaValidationError([{"loc": (source, *loc), "type": kind, "msg": message}])


def nul_path(value: Any, loc: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    """Where in a decoded JSON value a NUL character is (a key or a string), or None."""
    if isinstance(value, str):
        return loc if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in str(key):
                return (*loc, key)
            found = nul_path(item, (*loc, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = nul_path(item, (*loc, i))
            if found is not None:
                return found
    return None


def check_query(data: MultiValueDict) -> None:
    for key, values in data.lists():
        if NUL in key:
            raise _invalid("query", (key.replace(NUL, "\\x00"),), "nul_character", "不能包含 NUL 字符(\\x00)")
        for value in values:
            if NUL in value:
                raise _invalid("query", (key,), "nul_character", "不能包含 NUL 字符(\\x00)")
            if len(value) > MAX_QUERY_CHARS:
                raise _invalid("query", (key,), "query_too_long", f"过长(最多 {MAX_QUERY_CHARS} 个字符)")
            if key == "offset" and _DIGITS.fullmatch(value.strip()) and int(value) > MAX_OFFSET:
                raise _invalid("query", (key,), "less_than_equal", f"不能大于 {MAX_OFFSET}")


class GuardedParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        # Ninja also parses the fields of a multipart form through a bare HttpRequest (no META): only a
        # real request has a Content-Type to check.
        if "REQUEST_METHOD" in request.META and not is_json(request.META.get("CONTENT_TYPE")):
            raise UnsupportedMediaType(request.META.get("CONTENT_TYPE", ""))
        data = json.loads(request.body)
        where = nul_path(data)
        if where is not None:
            raise _invalid("body", where, "nul_character", "不能包含 NUL 字符(\\x00)")
        return data

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> Any:
        if data is request.GET:
            check_query(data)
        elif data is not request.FILES:
            # form fields of a multipart upload
            for key, values in data.lists():
                if NUL in key or any(NUL in v for v in values):
                    raise _invalid("form", (key,), "nul_character", "不能包含 NUL 字符(\\x00)")
        return super().parse_querydict(data, list_fields, request)
