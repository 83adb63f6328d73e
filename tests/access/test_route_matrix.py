"""The role x route scope matrix, generated from the routes (DESIGN habit 4, issue 10 point 7).

`test_every_route_has_a_row` enumerates every URL pattern (Django's resolver) and every OpenAPI operation
and fails, naming the route, when one has neither a row in ROUTES nor an entry in EXEMPT (with its reason).
The coverage is computed from the resolver and the schema, never from the table itself.

Each row says how to reach the route for a target object and which action it needs; the expected status
for every role follows from the role's scope (ROLES: one object inside, one outside):
  * anonymous: pages redirect to /login/?next=…, the API answers 401;
  * outside the role's scope: 404, with nothing changed in the database (not even an access log row);
  * inside: reads answer 200; writes answer "not 403/404" (200/201/302, or 400/422 for validation) when
    the role may do the action there, and 403 with nothing changed when it may only view.
Routes are keyed by HTTP method + path pattern (URL names are being namespaced; paths stay the same).

Fixture world (tests/conftest.py plus `build_world` below):
    c1       220102001001  w1 张三, w_peer 钱七 (same community as w1: outside for the worker role)
    c2       220102001002  w2 李四
    c3       220102002001  w3 王五
    other    220202001001  w_other 赵六 (吉林市)
    far      210102001001  w_far 孙八 (辽宁: outside every grant, the province admin's outside)
Each worker has one appointment, one archive record with one attachment and one pending correction request.
The data is built once per module (inside a transaction rolled back at the end); each test runs in its own
savepoint, so writes are undone after every request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test import Client

from shegong.access import system_actor
from shegong.accounts.models import ApiToken, User
from shegong.accounts.services import token_create
from shegong.archives import services as archive_services
from shegong.archives.models import ArchiveRecord, Attachment, CorrectionRequest
from shegong.common.models import AccessLog
from shegong.org.models import Division
from shegong.org.services import division_create
from shegong.people.models import Worker
from shegong.roster.models import ImportJob
from shegong.staffing.descriptions import description_draft_save, description_publish
from shegong.staffing.models import Appointment, PostDescription
from tests import factories
from tests.files import PDF, png
from tests.routes import api_operations, url_patterns

# --- roles and their inside / outside targets ---------------------------------------------------------------

CHANGERS = frozenset({"province", "city", "street", "community"})
REVEALERS = CHANGERS | {"worker"}


@dataclass(frozen=True)
class Role:
    worker: tuple[str | None, str]      # (inside, outside) worker keys; appointments, records… follow the worker
    community: tuple[str | None, str]   # (inside, outside) community keys
    street: tuple[str | None, str] = (None, "")   # (inside, outside) community keys whose street is the target


ROLES: dict[str, Role] = {
    "province": Role(("w_other", "w_far"), ("other", "far"), ("other", "far")),
    "city": Role(("w3", "w_other"), ("c3", "other"), ("c3", "other")),
    "street": Role(("w2", "w3"), ("c2", "c3"), ("c2", "c3")),
    # A street's post descriptions are visible from below: the community admin reads its own street's
    # (220102001, via c1) but not the neighbouring street's (220102002, via c3).
    "community": Role(("w_peer", "w2"), ("c1", "c2"), ("c1", "c3")),
    "training": Role(("w3", "w_other"), ("c3", "other"), ("c3", "other")),       # view only
    # Worker rows are the worker's own only: w_peer, in the same community, is outside.
    "worker": Role(("w1", "w_peer"), ("c1", "c2"), ("c1", "c3")),
    "nobody": Role((None, "w1"), (None, "c1"), (None, "c1")),
}
COMMUNITY_CODES = {"c1": "220102001001", "c2": "220102001002", "c3": "220102002001", "other": "220202001001",
                   "far": "210102001001"}
WORKER_COMMUNITY = {"w1": "c1", "w_peer": "c1", "w2": "c2", "w3": "c3", "w_other": "other", "w_far": "far"}
POST = "social_worker"


@dataclass
class Data:
    workers: dict[str, Worker]
    appointments: dict[str, Appointment]
    records: dict[str, ArchiveRecord]
    attachments: dict[str, Attachment]
    corrections: dict[str, CorrectionRequest]
    jobs: dict[str, ImportJob]
    users: dict[str, User]
    tokens: dict[str, str]
    sessions: dict[str, str]    # a signed-in session per role, made once (a login per request is slow)


# --- the routes ---------------------------------------------------------------------------------------------------

ALLOWED_WRITE = frozenset({200, 201, 204, 302, 400, 409, 422})
Path = Callable[[Data, str], str]
Body = Callable[[Data, str, str], Any]   # (data, role, target) -> body


@dataclass(frozen=True)
class Route:
    target: str | None          # "worker" / "community" / "street" / "job" or None (a list or a form without object)
    path: Path                  # (data, target key) -> the concrete path
    action: str = "view"        # view | change | reveal | self (the worker themself) | any (every signed-in user)
    body: Body | None = None
    json: bool = True           # API bodies as JSON (pages post form data)
    multipart: bool = False
    success: int | frozenset[int] | None = None   # inside and allowed (default: 200 for reads)
    refused: int = 403          # inside but the action not allowed
    # Per-role inside status where the general rule does not apply (each with its reason at the row).
    special: dict[str, int | frozenset[int]] = field(default_factory=dict)
    # What a successful answer must show: (data, role, target, response, its text) -> None (asserts).
    check: Callable[[Data, str, str, Any, str], None] | None = None
    logs: bool = False          # a successful read records an access (AccessLog), nothing else


def shows_name(d: Data, role: str, t: str, resp: Any, text: str) -> None:
    assert d.workers[t].name in text


def json_id(attr: str, field_name: str = "id") -> Callable[[Data, str, str, Any, str], None]:
    def check(d: Data, role: str, t: str, resp: Any, text: str) -> None:
        assert resp.json()[field_name] == getattr(d, attr)[t].pk
    return check


def revealed(d: Data, role: str, t: str, resp: Any, text: str) -> None:
    from shegong.common.crypto import decrypt

    plain = decrypt(d.workers[t].id_number_encrypted)
    assert plain in text, "the revealed value is the full ID number"
    assert AccessLog.objects.filter(user=d.users[role], object_id=str(d.workers[t].pk)).count() == 1


def downloaded(d: Data, role: str, t: str, resp: Any, text: str) -> None:
    assert AccessLog.objects.filter(user=d.users[role], worker=d.workers[t]).count() == 1


def w(fmt: str) -> Path:
    return lambda d, t: fmt.format(pk=d.workers[t].pk)


def appt(fmt: str) -> Path:
    return lambda d, t: fmt.format(pk=d.appointments[t].pk)


def rec(fmt: str) -> Path:
    return lambda d, t: fmt.format(pk=d.records[t].pk)


def att(fmt: str) -> Path:
    return lambda d, t: fmt.format(pk=d.attachments[t].pk)


def corr(fmt: str) -> Path:
    return lambda d, t: fmt.format(pk=d.corrections[t].pk)


def com(fmt: str) -> Path:
    return lambda d, t: fmt.format(code=COMMUNITY_CODES[t])


def street(fmt: str) -> Path:
    return lambda d, t: fmt.format(code=COMMUNITY_CODES[t][:9], post=POST)


def job(fmt: str) -> Path:
    return lambda d, t: fmt.format(pk=d.jobs[t].pk)


def fixed(p: str) -> Path:
    return lambda d, t: p


# Accounts (issue 11 point 7): a target is another role's account; an administrator manages the accounts whose
# grants all lie inside theirs at a rank not above it (shegong/accounts/authority.py). (inside, outside) per role;
# the training admin and the worker manage no account: their "inside" is 404 as well (special at the rows).
ACCOUNT_TARGETS = {"province": ("city", "nobody"), "city": ("street", "province"), "street": ("community", "city"),
                   "community": ("worker", "street"), "training": ("worker", "street"),
                   "worker": ("worker", "community"), "nobody": (None, "worker")}
NO_ACCOUNTS = {"training": 404, "worker": 404}


def acct(fmt: str) -> Path:
    def path(d: Data, t: str) -> str:
        u = d.users[t]
        token = ApiToken.objects.filter(user=u).order_by("pk").first()
        grant = u.grants.order_by("pk").first()
        return fmt.format(pk=u.pk, grant=grant.pk if grant else 0, token=token.pk if token else 0)
    return path


def _inside_community(role: str) -> str:
    return ROLES[role].community[0] or "c1" if role in ROLES else "c1"


def _new_worker(d: Data, role: str, t: str) -> dict[str, Any]:
    return {"name": "矩阵新人", "id_number": factories.id_number(), "community": COMMUNITY_CODES[_inside_community(role)],
            "category": "专职社区工作者", "status": "在岗", "ethnicity": "汉", "political_status": "群众",
            "education": "大专"}


def _worker_form(d: Data, role: str, t: str) -> dict[str, Any]:
    x = d.workers[t]
    return {"name": "改名测试", "community": x.community.code, "category": x.category, "status": x.status,
            "ethnicity": x.ethnicity, "political_status": x.political_status, "education": x.education,
            "work_start_date": "2008-07-01", "post_start_date": "2015-03-01", "row_version": x.row_version}


def _appoint_form(d: Data, role: str, t: str) -> dict[str, Any]:
    return {"post_type": POST, "method": "聘用", "start_date": "2022-03-01",
            "community": COMMUNITY_CODES[WORKER_COMMUNITY[t]]}


def _appointment_json(d: Data, role: str, t: str) -> dict[str, Any]:
    return {"worker_id": d.workers[t].pk, "community": COMMUNITY_CODES[WORKER_COMMUNITY[t]], "post_type": "社工",
            "method": "聘用", "start_date": "2022-03-01"}


def body(value: dict[str, Any]) -> Body:
    return lambda d, r, t: value


PNG = png()
W = ALLOWED_WRITE

# Key: "METHOD path pattern" exactly as the resolver / OpenAPI spells it.
ROUTES: dict[str, Route] = {
    # ---- pages: shell, org, people, staffing ----
    "GET ": Route(None, fixed("/"), "any"),
    "GET divisions/": Route(None, fixed("/divisions/"), "any"),
    "GET divisions/cascade/": Route(None, fixed("/divisions/cascade/?field=community"), "any"),
    "GET divisions/<str:code>/": Route("community", com("/divisions/{code}/")),
    "GET divisions/<str:code>/edit/": Route("community", com("/divisions/{code}/edit/"), "change"),
    "POST divisions/<str:code>/edit/": Route("community", com("/divisions/{code}/edit/"), "change",
                                             body({"name": "改名社区", "households": "3600", "reason": "核实户数"})),
    "GET workers/": Route(None, fixed("/workers/"), "any"),
    "GET workers/new/": Route(None, fixed("/workers/new/"), "change"),
    "POST workers/new/": Route(None, fixed("/workers/new/"), "change", _new_worker, json=False, success=W),
    "GET workers/<int:pk>/": Route("worker", w("/workers/{pk}/"), check=shows_name),
    "GET workers/<int:pk>/edit/": Route("worker", w("/workers/{pk}/edit/"), "change"),
    "POST workers/<int:pk>/edit/": Route("worker", w("/workers/{pk}/edit/"), "change", _worker_form, json=False,
                                         success=W),
    "GET workers/<int:pk>/appoint/": Route("worker", w("/workers/{pk}/appoint/"), "change"),
    "POST workers/<int:pk>/appoint/": Route("worker", w("/workers/{pk}/appoint/"), "change", _appoint_form,
                                            json=False, success=W),
    "POST workers/<int:pk>/reveal/<str:field>/": Route("worker", w("/workers/{pk}/reveal/id_number/"), "reveal",
                                                       body({}), json=False, check=revealed),
    "GET appointments/<int:pk>/end/": Route("worker", appt("/appointments/{pk}/end/"), "change"),
    "POST appointments/<int:pk>/end/": Route("worker", appt("/appointments/{pk}/end/"), "change",
                                             body({"end_date": "2024-06-30", "end_reason": "矩阵测试"}), json=False,
                                             success=W),
    "GET post-types/": Route(None, fixed("/post-types/"), "any"),
    "GET compliance/": Route(None, fixed("/compliance/"), "any"),
    "GET compliance/export.xlsx": Route(None, fixed("/compliance/export.xlsx"), "any"),
    "GET compliance/vacancies/": Route(None, fixed("/compliance/vacancies/"), "any"),
    # ---- post descriptions: a street's, readable from the street's ancestors and from below ----
    # A user whose grants name one street is taken straight to that street's list.
    "GET descriptions/": Route(None, fixed("/descriptions/"), "any",
                               special={"street": 302, "community": 302, "worker": 302}),
    "GET descriptions/<str:street_code>/": Route("street", street("/descriptions/{code}/")),
    "GET descriptions/<str:street_code>/<slug:post_code>/": Route("street", street("/descriptions/{code}/{post}/")),
    "GET descriptions/<str:street_code>/<slug:post_code>.pdf": Route("street", street("/descriptions/{code}/{post}.pdf")),
    "GET descriptions/<str:street_code>/<slug:post_code>/v<int:version>/": Route(
        "street", street("/descriptions/{code}/{post}/v1/")),
    "GET descriptions/<str:street_code>/<slug:post_code>/v<int:version>.pdf": Route(
        "street", street("/descriptions/{code}/{post}/v1.pdf")),
    # Descriptions are made by the street (8.1.1.2): a community admin reads its street's from below, no more.
    "GET descriptions/<str:street_code>/<slug:post_code>/edit/": Route(
        "street", street("/descriptions/{code}/{post}/edit/"), "change", special={"community": 403}),
    "POST descriptions/<str:street_code>/<slug:post_code>/edit/": Route(
        "street", street("/descriptions/{code}/{post}/edit/"), "change",
        body({"reporting_line": "", "requirements": ""}), json=False, success=W, special={"community": 403}),
    "POST descriptions/<str:street_code>/<slug:post_code>/publish/": Route(
        "street", street("/descriptions/{code}/{post}/publish/"), "change", body({}), json=False, success=W,
        special={"community": 403}),
    # ---- roster: import jobs are their uploader's own ----
    "GET roster/": Route(None, fixed("/roster/"), "any"),
    "POST roster/": Route(None, fixed("/roster/"), "change", body({}), json=False, success=W),
    "GET roster/template.xlsx": Route(None, fixed("/roster/template.xlsx"), "any"),
    "GET roster/export/<str:what>.xlsx": Route(None, fixed("/roster/export/workers.xlsx"), "any"),
    "GET roster/jobs/<int:pk>/": Route("job", job("/roster/jobs/{pk}/")),
    "POST roster/jobs/<int:pk>/commit/": Route("job", job("/roster/jobs/{pk}/commit/"), "view", body({}),
                                               json=False, success=W),
    "POST roster/jobs/<int:pk>/retry/": Route("job", job("/roster/jobs/{pk}/retry/"), "view", body({}),
                                              json=False, success=W),
    "POST roster/jobs/<int:pk>/discard/": Route("job", job("/roster/jobs/{pk}/discard/"), "view", body({}),
                                                json=False, success=W),
    "GET roster/jobs/<int:pk>/errors.xlsx": Route("job", job("/roster/jobs/{pk}/errors.xlsx")),
    # ---- archives ----
    # A worker's own account is taken to the own archive; the scope-wide workbook is not for it (404).
    "GET archives/": Route(None, fixed("/archives/"), "any", special={"worker": 302}),
    "GET archives/export.xlsx": Route(None, fixed("/archives/export.xlsx"), "any", special={"worker": 404}),
    # A worker's own account is sent to the own archive's access log.
    "GET archives/access-log/": Route(None, fixed("/archives/access-log/"), "any", special={"worker": 302}),
    "GET archives/corrections/": Route(None, fixed("/archives/corrections/"), "any"),
    "GET archives/corrections/<int:pk>/decide/": Route("worker", corr("/archives/corrections/{pk}/decide/"),
                                                       "change"),
    "POST archives/corrections/<int:pk>/decide/": Route("worker", corr("/archives/corrections/{pk}/decide/"),
                                                        "change", body({"decision": "reject", "reason": "经核对无误"}),
                                                        json=False, success=W),
    "GET archives/attachments/<int:pk>/": Route("worker", att("/archives/attachments/{pk}/"), logs=True,
                                                 check=downloaded),
    "GET archives/records/<int:pk>/": Route("worker", rec("/archives/records/{pk}/")),
    "POST archives/records/<int:pk>/upload/": Route("worker", rec("/archives/records/{pk}/upload/"), "change",
                                                    lambda d, r, t: {"file": ContentFile(PNG, name="photo.png")},
                                                    json=False, success=W),
    "POST archives/records/<int:pk>/void/": Route("worker", rec("/archives/records/{pk}/void/"), "change",
                                                  body({"reason": "重复录入"}), json=False, success=W),
    "GET archives/records/<int:pk>/edit/": Route("worker", rec("/archives/records/{pk}/edit/"), "change"),
    "POST archives/records/<int:pk>/edit/": Route("worker", rec("/archives/records/{pk}/edit/"), "change",
                                                  body({"title": "居民身份证复印件(正反面)", "reason": "核对原件"}),
                                                  json=False, success=W),
    # 知道了: only the worker themself marks the decisions on their own requests seen.
    "POST archives/<int:pk>/corrections/seen/": Route("worker", w("/archives/{pk}/corrections/seen/"), "self",
                                                      body({}), json=False, success=W),
    "GET archives/<int:pk>/": Route("worker", w("/archives/{pk}/"), logs=True, check=shows_name),
    "GET archives/<int:pk>/access-log/": Route("worker", w("/archives/{pk}/access-log/")),
    "GET archives/<int:pk>/records/new/": Route("worker", w("/archives/{pk}/records/new/"), "change"),
    "POST archives/<int:pk>/records/new/": Route("worker", w("/archives/{pk}/records/new/"), "change",
                                                 body({"archive_class": "10", "title": "近期免冠照片"}), json=False,
                                                 success=W),
    "GET archives/<int:pk>/transfer/": Route("worker", w("/archives/{pk}/transfer/"), "change"),
    "POST archives/<int:pk>/transfer/": Route("worker", w("/archives/{pk}/transfer/"), "change",
                                              body({"to_community": "", "reason": ""}), json=False, success=W),
    "GET archives/<int:pk>/corrections/new/": Route("worker", w("/archives/{pk}/corrections/new/"), "self"),
    "POST archives/<int:pk>/corrections/new/": Route("worker", w("/archives/{pk}/corrections/new/"), "self",
                                                     body({"text": "请更正学历", "record": ""}), json=False,
                                                     success=W),
    # Printing an archive is an opening of it: logged like the archive page.
    "GET archives/<int:pk>/catalogue.pdf": Route("worker", w("/archives/{pk}/catalogue.pdf"), logs=True),
    "GET archives/<int:pk>/info-form.pdf": Route("worker", w("/archives/{pk}/info-form.pdf"), logs=True),
    # ---- the API ----
    "GET /api/v1/divisions": Route(None, fixed("/api/v1/divisions"), "any"),
    "GET /api/v1/divisions/{code}": Route("community", com("/api/v1/divisions/{code}")),
    "GET /api/v1/communities": Route(None, fixed("/api/v1/communities"), "any"),
    "GET /api/v1/communities/{code}": Route("community", com("/api/v1/communities/{code}")),
    "GET /api/v1/communities/{code}/compliance": Route("community", com("/api/v1/communities/{code}/compliance")),
    "GET /api/v1/compliance": Route(None, fixed("/api/v1/compliance"), "any"),
    # The standard's catalogue of post types (clauses 4-6): every signed-in caller, like the rest of the API.
    "GET /api/v1/post-types": Route(None, fixed("/api/v1/post-types"), "any"),
    "GET /api/v1/workers": Route(None, fixed("/api/v1/workers"), "any"),
    # The user without a grant names a community it cannot see: 404 like any object outside the scope.
    "POST /api/v1/workers": Route(None, fixed("/api/v1/workers"), "change", _new_worker, success=201,
                                  special={"nobody": 404}),
    "GET /api/v1/workers/{worker_id}": Route("worker", w("/api/v1/workers/{pk}"), check=json_id("workers")),
    "PATCH /api/v1/workers/{worker_id}": Route("worker", w("/api/v1/workers/{pk}"), "change",
                                               body({"phone": "13700001111"})),
    "POST /api/v1/workers/{worker_id}/reveal": Route("worker", w("/api/v1/workers/{pk}/reveal"), "reveal",
                                                     body({"field": "id_number"}), check=revealed),
    "GET /api/v1/appointments": Route(None, fixed("/api/v1/appointments"), "any"),
    "POST /api/v1/appointments": Route("worker", fixed("/api/v1/appointments"), "change", _appointment_json,
                                       success=W),
    "GET /api/v1/appointments/{appointment_id}": Route("worker", appt("/api/v1/appointments/{pk}"),
                                                       check=json_id("appointments")),
    "POST /api/v1/appointments/{appointment_id}/end": Route("worker", appt("/api/v1/appointments/{pk}/end"), "change",
                                                            body({"end_date": "2024-01-05", "end_reason": "换届"})),
    "GET /api/v1/workers/{worker_id}/archive": Route("worker", w("/api/v1/workers/{pk}/archive"), logs=True),
    "GET /api/v1/workers/{worker_id}/archive/records": Route("worker", w("/api/v1/workers/{pk}/archive/records"),
                                                             logs=True),
    "POST /api/v1/workers/{worker_id}/archive/records": Route(
        "worker", w("/api/v1/workers/{pk}/archive/records"), "change",
        body({"archive_class": 10, "title": "近期免冠照片", "required_item": "photo"}), success=201),
    "GET /api/v1/archive/records/{record_id}": Route("worker", rec("/api/v1/archive/records/{pk}"),
                                                     check=json_id("records")),
    "PATCH /api/v1/archive/records/{record_id}": Route("worker", rec("/api/v1/archive/records/{pk}"), "change",
                                                       body({"notes": "已核对原件"})),
    "POST /api/v1/archive/records/{record_id}/void": Route("worker", rec("/api/v1/archive/records/{pk}/void"),
                                                           "change", body({"reason": "重复录入"})),
    "POST /api/v1/archive/records/{record_id}/attachments": Route(
        "worker", rec("/api/v1/archive/records/{pk}/attachments"), "change",
        lambda d, r, t: {"file": ContentFile(PNG, name="photo.png")}, multipart=True, success=201),
    "GET /api/v1/archive/attachments/{attachment_id}": Route("worker", att("/api/v1/archive/attachments/{pk}"),
                                                             logs=True, check=downloaded),
    "GET /api/v1/workers/{worker_id}/archive/access-log": Route("worker",
                                                                w("/api/v1/workers/{pk}/archive/access-log")),
    "GET /api/v1/archive/access-log": Route(None, fixed("/api/v1/archive/access-log"), "any"),
    "GET /api/v1/archive/corrections": Route(None, fixed("/api/v1/archive/corrections"), "any"),
    "GET /api/v1/workers/{worker_id}/archive/corrections": Route("worker",
                                                                 w("/api/v1/workers/{pk}/archive/corrections")),
    # Only the worker themself may ask; anyone else who sees the archive is refused (403 naming 本人, as the page).
    "POST /api/v1/workers/{worker_id}/archive/corrections": Route(
        "worker", w("/api/v1/workers/{pk}/archive/corrections"), "self",
        lambda d, r, t: {"text": "请更正学历", "record_id": d.records[t].pk}, success=201),
    "POST /api/v1/archive/corrections/{request_id}/decide": Route(
        "worker", corr("/api/v1/archive/corrections/{pk}/decide"), "change",
        body({"accept": False, "reason": "经核对无误"})),
    # ---- accounts (issue 11 point 7): one's own account for everyone; user management for administrators ----
    "GET accounts/": Route(None, fixed("/accounts/"), "any"),
    "GET accounts/password/": Route(None, fixed("/accounts/password/"), "any"),
    "POST accounts/password/": Route(None, fixed("/accounts/password/"), "any", body({}), json=False, success=W),
    "GET accounts/tokens/": Route(None, fixed("/accounts/tokens/"), "any"),
    "POST accounts/tokens/": Route(None, fixed("/accounts/tokens/"), "any", body({"name": ""}), json=False, success=W),
    "GET accounts/logins/": Route(None, fixed("/accounts/logins/"), "any"),
    # One's own token (the worker's inside is itself) or a managed account's.
    "POST accounts/tokens/<int:pk>/revoke/": Route("account", acct("/accounts/tokens/{token}/revoke/"), "any", body({}),
                                                   json=False, success=W, special={"training": 404}),
    # The lists and forms without an object: administrators only (403 naming 用户管理 for everyone else).
    "GET accounts/users/": Route(None, fixed("/accounts/users/"), "change"),
    "GET accounts/users/new/": Route(None, fixed("/accounts/users/new/"), "change"),
    "POST accounts/users/new/": Route(None, fixed("/accounts/users/new/"), "change", body({}), json=False, success=W),
    "GET accounts/users/<int:pk>/": Route("account", acct("/accounts/users/{pk}/"), "change", special=NO_ACCOUNTS),
    "GET accounts/users/<int:pk>/grants/new/": Route("account", acct("/accounts/users/{pk}/grants/new/"), "change",
                                                     special=NO_ACCOUNTS),
    "POST accounts/users/<int:pk>/grants/new/": Route("account", acct("/accounts/users/{pk}/grants/new/"), "change",
                                                      body({}), json=False, success=W, special=NO_ACCOUNTS),
    # The target's only grant: refused with a message (不能收回唯一的授权), a redirect to the user's page.
    "POST accounts/users/<int:pk>/grants/<int:grant_pk>/remove/": Route(
        "account", acct("/accounts/users/{pk}/grants/{grant}/remove/"), "change", body({}), json=False, success=W,
        special=NO_ACCOUNTS),
    "POST accounts/users/<int:pk>/deactivate/": Route("account", acct("/accounts/users/{pk}/deactivate/"), "change",
                                                      body({}), json=False, success=W, special=NO_ACCOUNTS),
    "POST accounts/users/<int:pk>/activate/": Route("account", acct("/accounts/users/{pk}/activate/"), "change",
                                                    body({}), json=False, success=W, special=NO_ACCOUNTS),
}

# Rows that fail today for a bug outside the matrix, each with its reason (strict: fixing it turns the row red
# until the entry is removed).
KNOWN_BUGS: dict[str, str] = {
}

# Routes without a matrix row, each with its reason.
EXEMPT: dict[str, str] = {
    "login/": "the sign-in page is for anonymous users; tested in tests/accounts/test_accounts.py and test_login_throttle.py",
    "logout/": "signing out touches no scoped data; tested in tests/web/test_web_flows.py",
}


# --- expectations ----------------------------------------------------------------------------------------------------


def is_api(key: str) -> bool:
    return key.split(" ", 1)[1].startswith("/api/")


def may(role: str, action: str) -> bool:
    if action in ("view", "any"):
        return True
    if action == "change":
        return role in CHANGERS
    if action == "reveal":
        return role in REVEALERS
    if action == "self":
        return role == "worker"
    raise AssertionError(action)


def inside_status(key: str, role: str) -> int | frozenset[int]:
    route = ROUTES[key]
    if role in route.special:
        return route.special[role]
    if may(role, route.action):
        return route.success if route.success is not None else (200 if key.startswith("GET") else ALLOWED_WRITE)
    return route.refused


def target_of(route: Route, role: str, side: str) -> str | None:
    if route.target is None:
        return None
    if route.target == "account":
        return ACCOUNT_TARGETS[role][0 if side == "inside" else 1]
    if route.target == "job":
        # An import job belongs to its uploader: the own job is inside, another user's outside.
        if side == "inside":
            return role if role in CHANGERS else None
        return "city" if role == "province" else "province"
    pair = {"worker": ROLES[role].worker, "community": ROLES[role].community,
            "street": ROLES[role].street}[route.target]
    return pair[0] if side == "inside" else pair[1]


def _cases() -> list[Any]:
    cases = []
    for key, route in ROUTES.items():
        for role in ROLES:
            for side in ("inside", "outside"):
                if route.target is None and side == "outside":
                    continue  # a list or a form without an object: its rows are what the role may see
                target = target_of(route, role, side)
                if target is None and route.target is not None:
                    continue
                want = 404 if side == "outside" else inside_status(key, role)
                case_id = f"{key}|{role}|{side}"
                marks = [pytest.mark.xfail(reason=KNOWN_BUGS[case_id], strict=True)] if case_id in KNOWN_BUGS else []
                cases.append(pytest.param(key, role, side, target, want, id=case_id, marks=marks))
        anonymous = route.special.get("anonymous", 401 if is_api(key) else 302)
        cases.append(pytest.param(key, "anonymous", "inside", target_of(route, "province", "inside"), anonymous,
                                  id=f"{key}|anonymous"))
    return cases


CASES = _cases()


# --- the data, once per module ----------------------------------------------------------------------------------------


def _worker(**attrs: Any) -> Worker:
    return cast(Worker, factories.WorkerFactory(**attrs))  # the factory's _create returns worker_create's Worker


def build_world() -> Data:
    c1 = factories.community("220102001001", "东风社区")
    c2 = factories.community("220102001002", "幸福社区")
    c3 = factories.community("220102002001", "春光社区")
    other = factories.community("220202001001", "吉林测试社区")
    far = division_create(actor=system_actor("command"), code="210102001001", name="辽宁测试社区", households=1200,
                          parent_names={"21": "辽宁省", "2101": "沈阳市", "210102": "和平区", "210102001": "测试街道"})
    workers = {
        "w1": _worker(name="张三", community=c1),
        "w_peer": _worker(name="钱七", community=c1),
        "w2": _worker(name="李四", community=c2),
        "w3": _worker(name="王五", community=c3),
        "w_other": _worker(name="赵六", community=other, id_number=factories.id_number("220202")),
        "w_far": _worker(name="孙八", community=far, id_number=factories.id_number("210102")),
    }
    users = factories.world_users(workers["w1"])
    root = User.objects.create_superuser("root", password="Test-pass-2021")
    appointments = {k: factories.appoint(x, "普通社工", method="聘用") for k, x in workers.items()}
    records, attachments, corrections = {}, {}, {}
    for k, x in workers.items():
        records[k] = archive_services.record_create(actor=system_actor("command"), worker=x, archive_class=10, title=f"{x.name}的身份证",
                                                    date="2021-06-01", required_item="id_card")
        attachments[k] = archive_services.attachment_add(actor=system_actor("command"), record=records[k], name=f"{x.name}.pdf",
                                                         data=PDF + k.encode())
        # As the worker would have filed it (the fixture has an account for w1 only).
        corrections[k] = CorrectionRequest.objects.create(worker=x, record=records[k], text="请核对出生日期")
    for code in {c[:9] for c in COMMUNITY_CODES.values()}:
        s = Division.objects.get(code=code)
        description_draft_save(actor=root, street=s, post_type=POST, reporting_line="社区党组织书记",
                               requirements="遵纪守法", assessment="年度考核")
        description_publish(actor=root, street=s, post_type=POST)
    jobs = {}
    for role in CHANGERS | {"city"}:
        # A finished check with one error on a cell: the job page, commit, retry and the marked workbook apply.
        j = ImportJob.objects.create(user=users[role], filename="花名册.xlsx", status=ImportJob.Status.FAILED,
                                     result={"errors": [{"sheet": "社区工作者", "row": 2, "col": 1,
                                                         "message": "姓名不能为空"}]})
        j.file.save("花名册.xlsx", ContentFile(_tiny_xlsx()))
        jobs[role] = j
    tokens = {role: token_create(actor=system_actor("command"), user=u) for role, u in users.items()}
    sessions = {}
    for role, u in users.items():
        c = Client()
        c.force_login(u)
        sessions[role] = c.cookies[settings.SESSION_COOKIE_NAME].value
    assert PostDescription.objects.exists()
    return Data(workers, appointments, records, attachments, corrections, jobs, users, tokens, sessions)


def _tiny_xlsx() -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "社区工作者"
    wb.active.append(["姓名"])
    wb.active.append([""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def data(django_db_setup, django_db_blocker, tmp_path_factory):
    old_root = settings.UPLOAD_ROOT
    settings.UPLOAD_ROOT = tmp_path_factory.mktemp("route-matrix-uploads")
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)
    settings.UPLOAD_ROOT = old_root


ACCESS_LOG = 11   # the AccessLog count's place in snapshot()
NOT_FOUND = "未找到,或不在您的管辖范围内"
HAN = re.compile(r"[\u4e00-\u9fff]")


def snapshot() -> tuple[int, ...]:
    """Counts that any write would move, including history rows and access-log rows, in one query (fifteen
    separate counts were half of each test's time)."""
    querysets = (
        Worker.objects.all(), Worker.history.all(), Appointment.objects.all(), Appointment.history.all(),
        Appointment.objects.filter(end_date__isnull=False), ArchiveRecord.objects.all(), ArchiveRecord.history.all(),
        ArchiveRecord.objects.filter(voided_at__isnull=False), Attachment.objects.all(),
        CorrectionRequest.objects.exclude(status="pending"), CorrectionRequest.objects.all(), AccessLog.objects.all(),
        PostDescription.objects.all(), ImportJob.objects.exclude(status=ImportJob.Status.FAILED),
        Division.objects.all())
    parts, params = [], []
    for n, qs in enumerate(querysets):
        sql, p = qs.order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) s{n})")
        params.extend(p)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return tuple(cursor.fetchone())


def request(d: Data, key: str, role: str, target: str | None):
    route = ROUTES[key]
    method = key.split(" ", 1)[0].lower()
    path = route.path(d, target or "")
    api = is_api(key)
    if role == "anonymous":
        client = Client()
    elif api:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {d.tokens[role]}")
    else:
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = d.sessions[role]
    payload = route.body(d, role, target or "") if route.body else None
    if method == "get":
        return client.get(path)
    if api and route.json and not route.multipart:
        return getattr(client, method)(path, data=json.dumps(payload or {}), content_type="application/json")
    return getattr(client, method)(path, payload or {})


# --- the tests ---------------------------------------------------------------------------------------------------------


def test_every_route_has_a_row():
    """Every URL pattern and every OpenAPI operation has a matrix row or an exemption with its reason."""
    covered_patterns = {key.split(" ", 1)[1] for key in ROUTES if not is_api(key)}
    missing = [p for p in url_patterns() if p not in covered_patterns and p not in EXEMPT]
    missing += [op for op in api_operations() if op not in ROUTES]
    assert not missing, "routes without a row in the scope matrix (tests/access/test_route_matrix.py):\n" + "\n".join(missing)


def test_no_row_for_a_route_that_does_not_exist():
    """A row whose route was renamed or removed would test nothing: every key names a live route."""
    patterns, operations = set(url_patterns()), set(api_operations())
    stale = [k for k in ROUTES if (k not in operations if is_api(k) else k.split(" ", 1)[1] not in patterns)]
    stale += [p for p in EXEMPT if p not in patterns]
    assert not stale, stale


def test_every_role_has_inside_and_outside_rows():
    seen = {(c.values[0], c.values[1], c.values[2]) for c in CASES}
    for key, route in ROUTES.items():
        assert (key, "anonymous", "inside") in seen
        for role in ROLES:
            if route.target is not None:
                assert (key, role, "outside") in seen, (key, role)
            if role != "nobody" and not (route.target == "job" and role not in CHANGERS):
                assert (key, role, "inside") in seen, (key, role)


@pytest.mark.parametrize(("key", "role", "side", "target", "want"), CASES)
def test_scope_matrix(data, db, key, role, side, target, want):
    before = snapshot()
    resp = request(data, key, role, target)
    status = resp.status_code
    text = _text(resp)
    detail = f"{key} as {role} ({side} {target}): {status} {text[:300]}"
    if isinstance(want, frozenset):
        assert status in want, detail
    else:
        assert status == want, detail
    if role == "anonymous" and status == 302:
        assert resp["Location"].startswith("/login/?next="), detail
    if status in (401, 403, 404, 405) or role == "anonymous":
        assert snapshot() == before, f"a refused request changed data (or logged an access): {detail}"
    if (side == "outside" or role == "anonymous") and target in WORKER_COMMUNITY:
        assert data.workers[target].name not in text, f"the refusal names the object: {detail}"
    if is_api(key) and status >= 400 and status != 401:
        message = resp.json()["message"]
        assert HAN.search(message), detail                    # every API error says what is wrong in Chinese
        if status == 404:
            assert message == NOT_FOUND, detail               # the same words whether it exists or not
        if status == 403:
            assert message.startswith("您"), detail           # "您无权…" / "您可以查看但无权…"
    route = ROUTES[key]
    if status == 200 and key.startswith("GET ") and role != "anonymous":
        # A read changes nothing; an archive read records who opened it, nothing else.
        after = snapshot()
        if route.logs:
            assert after[ACCESS_LOG] == before[ACCESS_LOG] + 1, detail
            after = after[:ACCESS_LOG] + after[ACCESS_LOG + 1:]
            before = before[:ACCESS_LOG] + before[ACCESS_LOG + 1:]
        assert after == before, f"a read changed data: {detail}"
    if is_api(key) and status in (200, 201) and not key.startswith("GET "):
        assert snapshot() != before, f"a write answered success but wrote nothing: {detail}"
    if route.check and side == "inside" and role != "anonymous" and status in (200, 201):
        route.check(data, role, target or "", resp, text)


def _text(resp) -> str:
    if getattr(resp, "streaming", False):
        return b"".join(resp.streaming_content)[:2000].decode(errors="replace")
    return resp.content[:20000].decode(errors="replace")
