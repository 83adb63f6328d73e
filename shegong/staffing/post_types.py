"""The post types by code, name and accepted variant, read from the table — correct across processes.

The table has ~14 rows and is read in one query; the import resolves a post for every row and pages use
the index, so the maps are kept between calls. They used to be kept for the life of the process, which
meant a post type changed by another process (a command while the server runs, one server process while
another serves) was never seen. Now a loaded map is used only while all of these hold:

- no PostType was saved or deleted since, in this process (post_save / post_delete drop it at once);
- no other process saved or deleted one: every save also touches a marker file in VAR_DIR
  (`post_types.generation`), and each request looks at the marker's modification time — a stat(), no
  query, so the pages' query counts stay what they were (issue 10: counts must not grow);
- it is younger than MAX_AGE seconds: the backstop for a change that bypassed the ORM (SQL by hand, a
  queryset .update(), another host) and for commands and jobs, which have no requests.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import request_started
from django.db.models.signals import post_delete, post_save

from shegong.common.codes import normalize_text
from shegong.common.errors import ApplicationError
from shegong.staffing.models import PostType

MAX_AGE = 30.0  # seconds a loaded map is trusted at most (see the module's docstring)


@dataclass
class _Maps:
    generation: int
    loaded_at: float
    index: dict[str, tuple[int, str]] = field(default_factory=dict)  # code → (id, name)
    codes: dict[str, str] = field(default_factory=dict)  # code, name or variant → code
    rows: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (code, name, aliases), table order


_lock = threading.Lock()
_generation = 0
_maps: _Maps | None = None
_marker_seen: int | None = None


def _marker() -> Path:
    return Path(getattr(settings, "VAR_DIR", "var")) / "post_types.generation"


def _marker_mtime() -> int | None:
    try:
        return os.stat(_marker()).st_mtime_ns
    except OSError:
        return None


def forget_post_types(*_args: Any, **_kwargs: Any) -> None:
    """Drop the loaded maps: the next use reads the table."""
    global _generation
    with _lock:
        _generation += 1


def _changed_here(*_args: Any, **_kwargs: Any) -> None:
    """A PostType saved or deleted in this process: forget at once, and tell the other processes."""
    forget_post_types()
    try:
        marker = _marker()
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(time.time_ns()), encoding="ascii")
    except OSError:
        pass  # a read-only VAR_DIR: the other processes see the change within MAX_AGE


def _request_started(*_args: Any, **_kwargs: Any) -> None:
    global _marker_seen
    seen = _marker_mtime()
    if seen != _marker_seen:
        _marker_seen = seen
        forget_post_types()


request_started.connect(_request_started, dispatch_uid="shegong.staffing.post_types.request")
post_save.connect(_changed_here, sender=PostType, dispatch_uid="shegong.staffing.post_types.save")
post_delete.connect(_changed_here, sender=PostType, dispatch_uid="shegong.staffing.post_types.delete")


def _current() -> _Maps:
    global _maps
    maps = _maps
    if maps is not None and maps.generation == _generation and time.monotonic() - maps.loaded_at < MAX_AGE:
        return maps
    fresh = _Maps(_generation, time.monotonic())
    for code, pk, name, aliases in PostType.objects.order_by("pk").values_list("code", "id", "name", "aliases"):
        fresh.rows.append((code, name, list(aliases)))
        fresh.index[code] = (pk, name)
        for key in (code, name, *aliases):
            fresh.codes.setdefault(key, code)
    _maps = fresh
    return fresh


def post_type_index() -> dict[str, tuple[int, str]]:
    """{code: (id, name)} of the post types."""
    return _current().index


def post_type_rows() -> list[tuple[str, str, list[str]]]:
    """(code, name, aliases) of every post type, in table order (a copy: callers may keep it)."""
    return list(_current().rows)


def post_type_code(value: object) -> str:
    """The code of a post type given its code, canonical name or an accepted variant (DESIGN: canonical
    names)."""
    text = normalize_text(value).replace("“", "\"").replace("”", "\"")
    if not text:
        raise ApplicationError("岗位不能为空", field="post_type")
    try:
        return _current().codes[text]
    except KeyError:
        raise ApplicationError(f"岗位“{text}”不在 DB22/T 3226—2021 第 4–6 章所列岗位中", field="post_type") from None
