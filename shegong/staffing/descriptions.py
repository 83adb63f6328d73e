"""Post descriptions (岗位说明书, DB22/T 3226—2021 8.1.1.2): the street's document for each post.

Selectors and services in one module (the feature is small). Who may do what:

* **view** a street's descriptions: a user who may view the street itself or any division under it
  (a community, a grid). A community admin or a worker reads the descriptions of the street their
  community belongs to; a civil-affairs or training admin above the street reads them too. Drafts are
  shown only to users who may change them.
* **change** (save a draft, publish): a user whose "change" scope covers the street row itself — the
  street admin, or a civil-affairs admin above the street. A community admin may view but not change.

Versions: each (street, post type) has at most one draft and at most one published version. Saving
creates the draft (version = last version + 1) or updates it; publishing turns the draft into the
published version and marks the previous published version superseded (it stays readable). Where a
street has published nothing, viewers see the default built from the standard and
data/description_defaults.json, which is not stored until someone saves a draft.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from shegong.access import Actor, Forbidden, NotVisible, can, scope_q
from shegong.access.scope import grant_scopes
from shegong.common.divcodes import DivisionCodeError, normalize_code, parent_code
from shegong.common.errors import ApplicationError, ConflictError
from shegong.common.history import person, stamp
from shegong.org.models import Division
from shegong.staffing.models import Appointment, PostDescription, PostType
from shegong.staffing.services import post_type_lookup

DEFAULTS_FILE = Path(__file__).parent / "data" / "description_defaults.json"
LABELS = {f.name: str(f.verbose_name) for f in PostDescription._meta.fields}

# Input limits (characters); the messages name the field.
MAX_REPORTING_LINE = 200
MAX_LINE = 300
MAX_LINES = 30
MAX_NOTE = 1000
LIST_FIELDS = ("added_duties", "requirements", "assessment")


# ---- defaults -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def description_defaults() -> dict[str, Any]:
    """data/description_defaults.json, read once per process."""
    data: dict[str, Any] = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return data


def _default_requirements(code: str) -> list[str]:
    data = description_defaults()
    post = data["posts"].get(code, {})
    lines = [*post.get("requirements", []), *data["common_requirements"]]
    if not post.get("part_time"):
        lines += data["full_time_requirements"]
    return lines


def _default_assessment(code: str) -> list[str]:
    data = description_defaults()
    return [*data["assessment"], *data["posts"].get(code, {}).get("assessment", [])]


def description_default(*, street: Division, post_type: PostType) -> PostDescription:
    """The description a street has before it edits one: the standard's duties for the post, the default
    reporting line and requirements, and the assessment of clause 9. Unsaved: pk None, version 0 and no
    status (`is_default` is true)."""
    post = description_defaults()["posts"].get(post_type.code, {})
    return PostDescription(
        street=street, post_type=post_type, version=0, status="",
        standard_duties=[list(d) for d in post_type.duties], reporting_line=post.get("reporting_line", ""),
        added_duties=[], requirements=_default_requirements(post_type.code),
        assessment=_default_assessment(post_type.code), note="",
    )


# ---- scope ----------------------------------------------------------------------------------------


class StreetDescriptions:
    """Where a street's descriptions lie, declared on the street row itself — so a street that has stored
    none yet (its readers see the standard's default) is placed too. The same declaration as
    PostDescription's: visible from below, changeable at the street or above."""

    scope_field = "code"
    owner_field = None
    scope_visible_from_below = PostDescription.scope_visible_from_below


def description_streets(*, actor: Actor, action: str = "view") -> QuerySet[Division]:
    """Streets whose descriptions the actor may view (the street or anything under it is in view scope)
    or change (the street itself is in change scope). One query when evaluated; usable as a subquery."""
    return Division.objects.filter(level=Division.Level.STREET).filter(
        scope_q(actor, action, cast(Any, StreetDescriptions)))


def _may(actor: Actor, street: Division, action: str) -> bool:
    """Whether the actor may view ("view") or edit and publish ("change") the street's descriptions: a
    grant at or above the street, or for viewing one below it, decides without a query; otherwise (a
    superuser, a system actor, no grant) access.can answers."""
    codes = [g.code for g in grant_scopes(actor) if action in g.actions]  # self-only too: no owner here
    if any(street.code.startswith(c) for c in codes):
        return True
    if action == "view" and StreetDescriptions.scope_visible_from_below and any(c.startswith(street.code)
                                                                                for c in codes):
        return True
    return can(actor, action, street)


def description_street_get(*, actor: Actor, code: str, action: str = "view") -> Division:
    """The street by any form of its code, if the actor may view (or change) its descriptions;
    Division.DoesNotExist otherwise (the caller answers 404)."""
    try:
        code = normalize_code(code)
    except DivisionCodeError as exc:
        raise Division.DoesNotExist(str(exc)) from exc
    return description_streets(actor=actor, action=action).get(code=code)


def _require_change(actor: Actor, street: Division) -> None:
    """Services: a viewer who may not change the street's descriptions gets 403 with the reason."""
    if not _may(actor, street, "change"):
        raise Forbidden(f"您无权编辑“{street.name}”的岗位说明书(8.1.1.2)")


def _require_view(actor: Actor, street: Division) -> None:
    """Selectors: fail closed — not visible is not found (404, DESIGN habit 4)."""
    if not _may(actor, street, "view"):
        raise NotVisible()


def _post_type(value: PostType | str) -> PostType:
    if isinstance(value, PostType):
        return value
    return post_type_lookup(value)


# ---- selectors ------------------------------------------------------------------------------------


def description_current(*, actor: Actor, street: Division, post_type: PostType | str) -> PostDescription:
    """What viewers see: the published version, or the default from the standard.
    PostDescription.DoesNotExist when the user may not read the street's descriptions."""
    post_type = _post_type(post_type)
    _require_view(actor, street)
    published = (PostDescription.objects.filter(street=street, post_type=post_type,
                                                status=PostDescription.Status.PUBLISHED)
                 .select_related("published_by", "post_type", "street").first())
    return published or description_default(street=street, post_type=post_type)


def description_draft(*, actor: Actor, street: Division, post_type: PostType | str) -> PostDescription | None:
    """The street's draft, for a user who may change it (None for anyone else or when there is none)."""
    post_type = _post_type(post_type)
    if not _may(actor, street, "change"):
        return None
    return (PostDescription.objects.filter(street=street, post_type=post_type, status=PostDescription.Status.DRAFT)
            .select_related("created_by", "post_type", "street").first())


def description_versions(*, actor: Actor, street: Division, post_type: PostType | str) -> list[PostDescription]:
    """Every stored version, newest first; the draft only for a user who may change it."""
    post_type = _post_type(post_type)
    _require_view(actor, street)
    qs = PostDescription.objects.filter(street=street, post_type=post_type)
    if not _may(actor, street, "change"):
        qs = qs.exclude(status=PostDescription.Status.DRAFT)
    return list(qs.select_related("created_by", "published_by").order_by("-version"))


def description_get(*, actor: Actor, street: Division, post_type: PostType | str, version: int) -> PostDescription:
    """One stored version; PostDescription.DoesNotExist when there is none or the user may not see it
    (a draft is seen only by those who may change it)."""
    post_type = _post_type(post_type)
    _require_view(actor, street)
    qs = PostDescription.objects.filter(street=street, post_type=post_type, version=version)
    if not _may(actor, street, "change"):
        qs = qs.exclude(status=PostDescription.Status.DRAFT)
    return qs.select_related("street", "post_type", "created_by", "published_by").get()


def description_history(*, actor: Actor, street: Division, post_type: PostType | str, limit: int = 30) -> list[Any]:
    """Who saved, published or superseded which version, newest first — for users who may change the
    street's descriptions (the records hold draft text), [] for anyone else. One query."""
    post_type = _post_type(post_type)
    if not _may(actor, street, "change"):
        return []
    return list(PostDescription.history.filter(street_id=street.pk, post_type_id=post_type.pk)
                .select_related("history_user").order_by("-history_date", "-history_id")[:limit])


@dataclass
class PostRow:
    """One line of a street's list: the post and where its description stands."""

    post_type: PostType
    published_version: int | None
    published_at: Any
    draft_version: int | None

    @property
    def status_label(self) -> str:
        if self.published_version:
            return f"已发布 v{self.published_version}"
        return "标准默认"


def description_statuses(*, actor: Actor, street: Division) -> list[PostRow]:
    """Every post type with the street's published version and draft (drafts only for editors).
    Two queries, whatever the number of posts and versions."""
    _require_view(actor, street)
    show_drafts = _may(actor, street, "change")
    statuses = [PostDescription.Status.PUBLISHED, *([PostDescription.Status.DRAFT] if show_drafts else [])]
    rows = PostDescription.objects.filter(street=street, status__in=statuses).values_list(
        "post_type_id", "status", "version", "published_at")
    published: dict[int, tuple[int | None, Any]] = {}
    drafts: dict[int, int] = {}
    for post_type_id, status, version, published_at in rows:
        if status == PostDescription.Status.PUBLISHED:
            published[post_type_id] = (version, published_at)
        else:
            drafts[post_type_id] = version
    out = []
    for pt in PostType.objects.order_by("sort"):
        published_version, at = published.get(pt.pk, (None, None))
        out.append(PostRow(pt, published_version, at, drafts.get(pt.pk)))
    return out


def description_street_list(*, actor: Actor, q: str = "") -> QuerySet[Division]:
    """Streets the user may read descriptions of, with how many posts each has published."""
    qs = description_streets(actor=actor, action="view").filter(is_active=True)
    if q:
        q = q.strip()
        try:
            code_q = Q(code__startswith=normalize_code(q))
        except DivisionCodeError:
            code_q = Q(pk__in=[])
        qs = qs.filter(Q(name__contains=q) | code_q)
    return (qs.select_related("parent")
            .annotate(published_count=Count("post_descriptions",
                                            filter=Q(post_descriptions__status=PostDescription.Status.PUBLISHED)))
            .order_by("code"))


def descriptions_for_appointments(*, appointments: Iterable[Appointment]) -> dict[int, tuple[str, str, int | None]]:
    """For the worker page: {appointment id: (street code, post code, published version or None)}.

    None means the street has published nothing for that post and its readers see the default.
    The appointments come from a scoped selector already; anyone who may see an appointment may read
    its street's description. One query when the appointments were loaded with
    select_related("community", "post_type") (as the worker page does), at most three otherwise.
    """
    appointments = list(appointments)
    if not appointments:
        return {}
    community_code: dict[int, str] = {}
    post_code: dict[int, str] = {}
    for a in appointments:
        if Appointment.community.is_cached(a):
            community_code[a.community_id] = a.community.code
        if Appointment.post_type.is_cached(a):
            post_code[a.post_type_id] = a.post_type.code
    missing_c = {a.community_id for a in appointments} - set(community_code)
    if missing_c:
        community_code.update(Division.objects.filter(pk__in=missing_c).values_list("pk", "code"))
    missing_p = {a.post_type_id for a in appointments} - set(post_code)
    if missing_p:
        post_code.update(PostType.objects.filter(pk__in=missing_p).values_list("pk", "code"))
    street_of = {cid: parent_code(code) or "" for cid, code in community_code.items()}
    published = dict(
        ((street, post), version) for street, post, version in PostDescription.objects.filter(
            status=PostDescription.Status.PUBLISHED, street__code__in=set(street_of.values()),
            post_type_id__in={a.post_type_id for a in appointments},
        ).values_list("street__code", "post_type__code", "version")
    )
    out: dict[int, tuple[str, str, int | None]] = {}
    for a in appointments:
        street, post = street_of[a.community_id], post_code[a.post_type_id]
        out[a.pk] = (street, post, published.get((street, post)))
    return out


# ---- services -------------------------------------------------------------------------------------


def _clean_lines(value: Iterable[str] | str | None, field: str) -> list[str]:
    """One item per line: strip each, drop empty ones; reject too many or too long ones, naming the field."""
    label = LABELS[field]
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    lines = []
    for raw in value:
        if not isinstance(raw, str):
            raise ApplicationError(f"{label}的每一条应为文字", field=field)
        line = " ".join(raw.split())
        if line:
            lines.append(line)
    for i, line in enumerate(lines, 1):
        if len(line) > MAX_LINE:
            raise ApplicationError(f"{label}第 {i} 条有 {len(line)} 字,超过 {MAX_LINE} 字的上限", field=field)
    if len(lines) > MAX_LINES:
        raise ApplicationError(f"{label}共 {len(lines)} 条,超过 {MAX_LINES} 条的上限", field=field)
    return lines


def _clean_text(value: str | None, field: str, limit: int) -> str:
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()  # a browser posts CR LF
    if len(text) > limit:
        raise ApplicationError(f"{LABELS[field]}有 {len(text)} 字,超过 {limit} 字的上限", field=field)
    return text


def description_edit_token(*, street: Division, post_type: PostType) -> str:
    """What an edit starts from, as the edit form carries it (optimistic concurrency): the draft or the
    published version, each with its row version, or the default. Any save or publication by someone
    else changes it."""
    rows = {d.status: d for d in PostDescription.objects.filter(
        street=street, post_type=post_type,
        status__in=[PostDescription.Status.DRAFT, PostDescription.Status.PUBLISHED]).only("pk", "status", "row_version")}
    for status in (PostDescription.Status.DRAFT, PostDescription.Status.PUBLISHED):
        if status in rows:
            return f"{status}-{rows[status].pk}-{rows[status].row_version}"
    return "default"


def description_token_base(*, street: Division, post_type: PostType, token: str) -> PostDescription | None:
    """The description as it was when the edit form carrying `token` was filled (from history), or
    None when unknown."""
    if token == "default":
        return description_default(street=street, post_type=post_type)
    parts = token.split("-")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    record = (PostDescription.history.filter(id=int(parts[1]), row_version=int(parts[2]))
              .order_by("-history_date", "-history_id").first())
    return record.instance if record is not None else None


def _content(d: PostDescription) -> dict[str, Any]:
    return {f: getattr(d, f) for f in ("reporting_line", *LIST_FIELDS, "note")}


@transaction.atomic
def description_draft_save(*, actor: Actor, street: Division, post_type: PostType | str, reporting_line: str,
                           added_duties: Iterable[str] | str = (), requirements: Iterable[str] | str = (),
                           assessment: Iterable[str] | str = (), note: str = "", expected: str | None = None,
                           force: bool = False) -> PostDescription:
    """Create the street's draft for the post (version = last version + 1) or update the one there is.

    `expected`: the edit token (description_edit_token) the user's form was filled from; ConflictError
    when someone else has saved or published since. Content equal to what the draft (or, without one,
    the current version) already says is not saved and writes no history: the draft, or the current
    version, is returned as it is — without a draft, `force` (saving in order to publish) makes one."""
    post_type = _post_type(post_type)
    if street.level != Division.Level.STREET:
        raise ApplicationError(f"“{street.name}”不是街道(乡镇);岗位说明书由街道(乡镇)制定(8.1.1.2)",
                               field="street", clause="8.1.1.2")
    _require_change(actor, street)
    values = {
        "reporting_line": " ".join(_clean_text(reporting_line, "reporting_line", MAX_REPORTING_LINE).split()),
        **{f: _clean_lines(v, f) for f, v in
           (("added_duties", added_duties), ("requirements", requirements), ("assessment", assessment))},
        "note": _clean_text(note, "note", MAX_NOTE),
    }
    if not values["reporting_line"]:
        raise ApplicationError("汇报关系不能为空(8.1.1.2)", field="reporting_line", clause="8.1.1.2")
    if not values["requirements"]:
        raise ApplicationError("任职条件至少要有一条(8.1.1.2)", field="requirements", clause="8.1.1.2")
    if not values["assessment"]:
        raise ApplicationError("考核方式至少要有一条(9.1—9.3)", field="assessment", clause="9.1")
    # One writer per street at a time (a row lock on PostgreSQL; SQLite serialises writers anyway).
    Division.objects.select_for_update().filter(pk=street.pk).first()
    if expected is not None:
        token = description_edit_token(street=street, post_type=post_type)
        if token != expected:
            current = (PostDescription.objects.filter(street=street, post_type=post_type,
                                                      status=PostDescription.Status.DRAFT).first()
                       or PostDescription.objects.filter(street=street, post_type=post_type,
                                                         status=PostDescription.Status.PUBLISHED).first())
            raise ConflictError(current=current)
    draft = PostDescription.objects.filter(street=street, post_type=post_type,
                                           status=PostDescription.Status.DRAFT).first()
    if draft is not None and _content(draft) == values:
        return draft
    if draft is None and not force:
        base = (PostDescription.objects.filter(street=street, post_type=post_type,
                                               status=PostDescription.Status.PUBLISHED).first()
                or description_default(street=street, post_type=post_type))
        if _content(base) == values:
            return base
    if draft is None:
        last = PostDescription.objects.filter(street=street, post_type=post_type).aggregate(v=Max("version"))["v"]
        draft = PostDescription(street=street, post_type=post_type, version=(last or 0) + 1,
                                status=PostDescription.Status.DRAFT, created_by=person(actor))
        reason = f"起草{post_type.name}岗位说明书 v{draft.version}"
    else:
        reason = f"修改{post_type.name}岗位说明书草稿 v{draft.version}"
    for key, value in values.items():
        setattr(draft, key, value)
    draft.standard_duties = [list(d) for d in post_type.duties]
    _full_clean(draft)
    stamp(draft, actor=actor, reason=reason)
    draft.save()
    return draft


@transaction.atomic
def description_publish(*, actor: Actor, street: Division, post_type: PostType | str) -> PostDescription:
    """Publish the street's draft: it becomes the current version, the previous one is superseded."""
    post_type = _post_type(post_type)
    _require_change(actor, street)
    Division.objects.select_for_update().filter(pk=street.pk).first()
    draft = PostDescription.objects.filter(street=street, post_type=post_type,
                                           status=PostDescription.Status.DRAFT).first()
    if draft is None:
        raise ApplicationError(f"“{street.name}”的{post_type.name}岗位说明书没有待发布的草稿", field="version")
    now = timezone.now()
    for previous in PostDescription.objects.filter(street=street, post_type=post_type,
                                                   status=PostDescription.Status.PUBLISHED):
        previous.status = PostDescription.Status.SUPERSEDED
        stamp(previous, actor=actor, reason=f"被 v{draft.version} 替代")
        previous.save(update_fields=["status", "updated_at"])
    draft.status = PostDescription.Status.PUBLISHED
    draft.published_at = now
    draft.published_by = person(actor)
    draft.standard_duties = [list(d) for d in post_type.duties]
    _full_clean(draft)
    stamp(draft, actor=actor, reason=f"发布{post_type.name}岗位说明书 v{draft.version}")
    draft.save()
    return draft


def _full_clean(description: PostDescription) -> None:
    try:
        description.full_clean()
    except ValidationError as exc:
        raise ApplicationError.from_validation_error(exc, LABELS) from exc

