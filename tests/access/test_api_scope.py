"""The scope matrix of /api/v1 (DESIGN habit 4): role x endpoint x (inside, outside).

Everything is data. ROLES says, for each role, which fixture objects lie inside and outside its scope,
what it sees in every list, and what its write endpoints answer inside its scope. ENDPOINTS says how to
call each endpoint on a target. The cases are the product of the two; outside always answers 404
(or, for a list, leaves the row out). To extend: add a role row, a target, or an endpoint row.

Fixture objects (world from conftest plus `objs` below):

    c1       220102001001  w1 张三 (a1 书记), w_peer 钱七 (a_peer 主任) — w_peer shares w1's community
    c2       220102001002  w2 李四 (a2 书记)
    c3       220102002001  w3 王五 (a3 书记)
    other    220202001001  w_other 赵六 (a_other 书记)
    far      210102001001  w_far 孙八 (a_far 书记) — 辽宁, outside every grant (the province admin's outside)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from shegong.access import system_actor
from shegong.common.crypto import decrypt
from shegong.common.models import AccessLog
from shegong.org.models import Division
from shegong.org.services import division_create
from shegong.people.models import Worker
from shegong.staffing.models import Appointment
from tests import factories

BASE = "/api/v1"
NOT_FOUND = "未找到,或不在您的管辖范围内"

# worker key -> (its appointment key, its community key)
WORKERS = {
    "w1": ("a1", "c1"),
    "w_peer": ("a_peer", "c1"),
    "w2": ("a2", "c2"),
    "w3": ("a3", "c3"),
    "w_other": ("a_other", "other"),
    "w_far": ("a_far", "far"),
}
ALL_CODES = {
    "21", "2101", "210102", "210102001", "210102001001",
    "22", "2201", "220102", "220102001", "220102001001", "220102001002", "220102002", "220102002001",
    "2202", "220202", "220202001", "220202001001",
}
COMMUNITY_CODES = {"c1": "220102001001", "c2": "220102001002", "c3": "220102002001", "other": "220202001001",
                   "far": "210102001001"}


# --- the role table -------------------------------------------------------------------------------------------

# What the write endpoints answer for a target inside the role's scope.
ADMIN = {"worker_patch": 200, "worker_reveal": 200, "worker_create": 201, "appointment_create": 201,
         "appointment_end": 200}
# View only (培训管理员): every write inside the scope it can see is refused with 403 (the endpoint checks
# `change`); outside what it can see, 404.
VIEW_ONLY = {"worker_patch": 403, "worker_reveal": 403, "worker_create": 403, "appointment_create": 403,
             "appointment_end": 403}
# 社区工作者: view and reveal, own record only.
SELF_ONLY = {"worker_patch": 403, "worker_reveal": 200, "worker_create": 403, "appointment_create": 403,
             "appointment_end": 403}


@dataclass(frozen=True)
class Role:
    prefix: str | None                # the grant's division code (None: no grant)
    workers: frozenset[str]           # every worker the role sees (appointments follow: one per worker)
    communities: frozenset[str]       # every community the role sees
    inside_workers: tuple[str, ...]   # targets for worker/appointment endpoints, inside scope
    outside_workers: tuple[str, ...]  # ... outside scope
    inside_communities: tuple[str, ...]
    outside_communities: tuple[str, ...]
    writes: dict[str, int] = field(default_factory=dict)


def _role(prefix, workers, communities, inside_w, outside_w, inside_c, outside_c, writes):
    return Role(prefix, frozenset(workers), frozenset(communities), tuple(inside_w), tuple(outside_w),
                tuple(inside_c), tuple(outside_c), writes)


ROLES: dict[str, Role] = {
    "province": _role("22", {"w1", "w_peer", "w2", "w3", "w_other"}, {"c1", "c2", "c3", "other"},
                      ["w1", "w_other"], ["w_far"], ["c3", "other"], ["far"], ADMIN),
    "city": _role("2201", {"w1", "w_peer", "w2", "w3"}, {"c1", "c2", "c3"},
                  ["w3"], ["w_other", "w_far"], ["c3"], ["other"], ADMIN),
    "street": _role("220102001", {"w1", "w_peer", "w2"}, {"c1", "c2"},
                    ["w1", "w2"], ["w3", "w_other"], ["c2"], ["c3", "other"], ADMIN),
    "community": _role("220102001001", {"w1", "w_peer"}, {"c1"},
                       ["w_peer"], ["w2", "w3"], ["c1"], ["c2"], ADMIN),
    "training": _role("2201", {"w1", "w_peer", "w2", "w3"}, {"c1", "c2", "c3"},
                      ["w3"], ["w_other"], ["c1"], ["other"], VIEW_ONLY),
    # The worker's grant is on its community, but worker rows are its own only: w_peer, in the same
    # community, is outside. Divisions have no owner, so the community itself is inside.
    "worker": _role("220102001001", {"w1"}, {"c1"},
                    ["w1"], ["w_peer", "w2"], ["c1"], ["c2"], SELF_ONLY),
    "nobody": _role(None, set(), set(), [], ["w1", "w2"], [], ["c1"], {}),
}


# --- the objects ------------------------------------------------------------------------------------------------


@dataclass
class Objs:
    workers: dict[str, Worker]
    appointments: dict[str, Appointment]
    communities: dict[str, Division]
    users: dict[str, Any]


@pytest.fixture
def objs(world) -> Objs:
    far = division_create(actor=system_actor("command"), code="210102001001", name="辽宁测试社区", households=1200,
                          parent_names={"21": "辽宁省", "2101": "沈阳市", "210102": "和平区", "210102001": "测试街道"})
    workers = {
        "w1": world.w1,
        "w_peer": factories.WorkerFactory(name="钱七", community=world.c1),
        "w2": world.w2,
        "w3": world.w3,
        "w_other": world.w_other,
        "w_far": factories.WorkerFactory(name="孙八", community=far, id_number=factories.id_number("210102")),
    }
    appointments = {a: factories.appoint(workers[w], "主任" if w == "w_peer" else "书记")
                    for w, (a, _) in WORKERS.items()}
    communities = {"c1": world.c1, "c2": world.c2, "c3": world.c3, "other": world.other, "far": far}
    return Objs(workers, appointments, communities, world.users)


# --- the endpoint table ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    kind: str                                            # "worker" (also appointments) or "community"
    method: str
    path: Callable[[Objs, str], str]                     # (objs, target key) -> path
    body: Callable[[Objs, str], dict[str, Any] | None] = lambda o, t: None
    write: bool = False                                  # inside status comes from Role.writes


def _worker_body(o: Objs, c: str) -> dict[str, Any]:
    return {"name": "新社工", "id_number": factories.id_number(), "community": COMMUNITY_CODES[c],
            "ethnicity": "汉", "political_status": "群众", "education": "大专"}


def _appointment_body(o: Objs, w: str) -> dict[str, Any]:
    return {"worker_id": o.workers[w].pk, "community": COMMUNITY_CODES[WORKERS[w][1]], "post_type": "社工",
            "method": "聘用", "start_date": "2022-03-01"}


def _appt(o: Objs, w: str) -> Appointment:
    return o.appointments[WORKERS[w][0]]


ENDPOINTS: dict[str, Endpoint] = {
    "division_detail": Endpoint("community", "get", lambda o, c: f"/divisions/{COMMUNITY_CODES[c]}"),
    "division_detail_12": Endpoint("community", "get", lambda o, c: f"/divisions/{COMMUNITY_CODES[c][:9]}000"),
    "community_detail": Endpoint("community", "get", lambda o, c: f"/communities/{COMMUNITY_CODES[c]}"),
    "worker_detail": Endpoint("worker", "get", lambda o, w: f"/workers/{o.workers[w].pk}"),
    "appointment_detail": Endpoint("worker", "get", lambda o, w: f"/appointments/{_appt(o, w).pk}"),
    "worker_patch": Endpoint("worker", "patch", lambda o, w: f"/workers/{o.workers[w].pk}",
                             lambda o, w: {"phone": "13700001111"}, write=True),
    "worker_reveal": Endpoint("worker", "post", lambda o, w: f"/workers/{o.workers[w].pk}/reveal",
                              lambda o, w: {"field": "id_number"}, write=True),
    "worker_create": Endpoint("community", "post", lambda o, c: "/workers", _worker_body, write=True),
    "appointment_create": Endpoint("worker", "post", lambda o, w: "/appointments", _appointment_body, write=True),
    "appointment_end": Endpoint("worker", "post", lambda o, w: f"/appointments/{_appt(o, w).pk}/end",
                                lambda o, w: {"end_date": "2024-01-05", "end_reason": "换届"}, write=True),
}
# division_detail_12 targets the community's street in 12-digit form; a street is inside only when the
# role's grant covers it, so it is run only for roles whose grant is at or above street level.
STREET_LEVEL = {"province", "city", "street", "training"}


def _targets(role: Role, kind: str, side: str) -> tuple[str, ...]:
    if kind == "worker":
        return role.inside_workers if side == "inside" else role.outside_workers
    return role.inside_communities if side == "inside" else role.outside_communities


def _expected(role: Role, endpoint_name: str, side: str) -> int:
    if side == "outside":
        return 404
    ep = ENDPOINTS[endpoint_name]
    return role.writes[endpoint_name] if ep.write else 200


# Every operation x role x inside/outside is in tests/access/test_route_matrix.py (generated from the OpenAPI schema).
# Kept here: the division detail by a street's 12-digit code, a second spelling of the same route.
CASES = [
    pytest.param(role_name, ep_name, side, target, _expected(role, ep_name, side),
                 id=f"{role_name}-{ep_name}-{side}-{target}")
    for role_name, role in ROLES.items()
    for ep_name in ("division_detail_12",)
    for side in ("inside", "outside")
    for target in _targets(role, ENDPOINTS[ep_name].kind, side)
    if role_name in STREET_LEVEL
]


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None):
    url = BASE + path
    if method == "get":
        return client.get(url, body or {})
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def _snapshot() -> tuple[int, ...]:
    return (Worker.objects.count(), Worker.history.count(), Appointment.objects.count(),
            Appointment.history.count(), Appointment.objects.filter(end_date__isnull=False).count(),
            AccessLog.objects.count(), Division.objects.count())


@pytest.mark.parametrize(("role_name", "endpoint_name", "side", "target", "status"), CASES)
def test_scope_matrix(objs, api, role_name, endpoint_name, side, target, status):
    ep = ENDPOINTS[endpoint_name]
    client = api(objs.users[role_name])
    before = _snapshot()
    resp = call(client, ep.method, ep.path(objs, target), ep.body(objs, target))
    assert resp.status_code == status, resp.content.decode()
    body = resp.json()
    if status >= 400:
        assert isinstance(body["message"], str) and body["message"]
        assert _snapshot() == before, "a refused request changed data"
    if status == 404:
        assert body["message"] == NOT_FOUND
    if status in (400, 403):
        assert body["message"].startswith("您")       # "您无权…" / "您可以查看但无权…"
    if status < 300:
        if ep.write:
            assert _snapshot() != before, "a write endpoint answered success but wrote nothing"
        else:
            assert _snapshot() == before
        if endpoint_name in ("worker_detail", "worker_patch"):
            assert body["id"] == objs.workers[target].pk
        if endpoint_name in ("appointment_detail", "appointment_end"):
            assert body["id"] == _appt(objs, target).pk
        if endpoint_name == "worker_reveal":
            assert body["value"] == decrypt(objs.workers[target].id_number_encrypted)
            assert AccessLog.objects.filter(user=objs.users[role_name], object_id=str(objs.workers[target].pk)).exists()
        if endpoint_name in ("division_detail", "community_detail"):
            assert body["code"] == COMMUNITY_CODES[target]
        if endpoint_name == "division_detail_12":
            assert body["code"] == COMMUNITY_CODES[target][:9]


# --- lists -------------------------------------------------------------------------------------------------------------


def _items(client: Client, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    resp = call(client, "get", path, {"limit": 500, **(params or {})})
    assert resp.status_code == 200, resp.content.decode()
    body = resp.json()
    assert body["count"] == len(body["items"])
    return body["items"]


LIST_ROLES = list(ROLES)


@pytest.mark.parametrize("role_name", LIST_ROLES)
def test_workers_list_is_exactly_the_scope(objs, api, role_name):
    role = ROLES[role_name]
    got = {i["id"] for i in _items(api(objs.users[role_name]), "/workers")}
    assert got == {objs.workers[w].pk for w in role.workers}


@pytest.mark.parametrize("role_name", LIST_ROLES)
def test_appointments_list_is_exactly_the_scope(objs, api, role_name):
    role = ROLES[role_name]
    got = {i["id"] for i in _items(api(objs.users[role_name]), "/appointments")}
    assert got == {_appt(objs, w).pk for w in role.workers}


@pytest.mark.parametrize("role_name", LIST_ROLES)
def test_communities_list_is_exactly_the_scope(objs, api, role_name):
    role = ROLES[role_name]
    got = {i["code"] for i in _items(api(objs.users[role_name]), "/communities")}
    assert got == {COMMUNITY_CODES[c] for c in role.communities}


@pytest.mark.parametrize("role_name", LIST_ROLES)
def test_divisions_list_is_exactly_the_subtree(objs, api, role_name):
    role = ROLES[role_name]
    got = {i["code"] for i in _items(api(objs.users[role_name]), "/divisions")}
    expected = {c for c in ALL_CODES if role.prefix and c.startswith(role.prefix)}
    assert got == expected


# Filters must not widen the scope: each names an object, inside -> it is listed, outside -> empty or 404.
LIST_FILTERS: dict[str, tuple[str, str, Callable[[Objs, str], dict[str, Any]], Callable[[Objs, str], Any]]] = {
    # name: (kind, path, params(objs, target), expected id or code of target)
    "workers?community": ("worker", "/workers", lambda o, w: {"community": COMMUNITY_CODES[WORKERS[w][1]]},
                          lambda o, w: o.workers[w].pk),
    "workers?q=id_number": ("worker", "/workers",
                            lambda o, w: {"q": decrypt(o.workers[w].id_number_encrypted)},
                            lambda o, w: o.workers[w].pk),
    "workers?q=name": ("worker", "/workers", lambda o, w: {"q": o.workers[w].name}, lambda o, w: o.workers[w].pk),
    "workers?post_type": ("worker", "/workers", lambda o, w: {"post_type": _appt(o, w).post_type.code},
                          lambda o, w: o.workers[w].pk),
    "appointments?worker_id": ("worker", "/appointments", lambda o, w: {"worker_id": o.workers[w].pk},
                               lambda o, w: _appt(o, w).pk),
    "appointments?community": ("worker", "/appointments",
                               lambda o, w: {"community": COMMUNITY_CODES[WORKERS[w][1]]},
                               lambda o, w: _appt(o, w).pk),
    "communities?q": ("community", "/communities", lambda o, c: {"q": COMMUNITY_CODES[c]},
                      lambda o, c: COMMUNITY_CODES[c]),
    "divisions?q": ("community", "/divisions", lambda o, c: {"q": o.communities[c].name},
                    lambda o, c: COMMUNITY_CODES[c]),
}

LIST_CASES = [
    pytest.param(role_name, f, side, target, id=f"{role_name}-{f}-{side}-{target}")
    for role_name, role in ROLES.items()
    for f, (kind, *_rest) in LIST_FILTERS.items()
    for side in ("inside", "outside")
    for target in _targets(role, kind, side)
]


@pytest.mark.parametrize(("role_name", "filter_name", "side", "target"), LIST_CASES)
def test_list_filters_stay_in_scope(objs, api, role_name, filter_name, side, target):
    _kind, path, params, key = LIST_FILTERS[filter_name]
    items = _items(api(objs.users[role_name]), path, params(objs, target))
    found = {i["id"] for i in items} | {i.get("code") for i in items}
    if side == "inside":
        assert key(objs, target) in found
    else:
        assert key(objs, target) not in found
        if filter_name == "workers?q=id_number":  # no oracle: a full ID number outside scope finds nothing
            assert items == []


# Parent filters name a division; one outside the scope answers 404 like any other out-of-scope object.
PARENT_FILTERS = {
    "communities?within": ("/communities", "within"),
    "divisions?parent": ("/divisions", "parent"),
}


@pytest.mark.parametrize(("role_name", "filter_name", "side", "target"), [
    pytest.param(r, f, side, t, id=f"{r}-{f}-{side}-{t}")
    for r, role in ROLES.items() for f in PARENT_FILTERS for side in ("inside", "outside")
    for t in _targets(role, "community", side)
])
def test_parent_filters_outside_scope_are_404(objs, api, role_name, filter_name, side, target):
    path, param = PARENT_FILTERS[filter_name]
    resp = call(api(objs.users[role_name]), "get", path, {param: COMMUNITY_CODES[target]})
    if side == "inside":
        assert resp.status_code == 200
        codes = {i["code"] for i in resp.json()["items"]}
        assert codes <= {COMMUNITY_CODES[target]}
    else:
        assert resp.status_code == 404
        assert resp.json()["message"] == NOT_FOUND


# --- moving things out of scope ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role_name", "worker", "community"), [
    ("street", "w1", "c3"),
    ("community", "w1", "c2"),
    ("city", "w3", "other"),
])
def test_patch_cannot_move_a_worker_out_of_scope(objs, api, role_name, worker, community):
    w = objs.workers[worker]
    resp = call(api(objs.users[role_name]), "patch", f"/workers/{w.pk}", {"community": COMMUNITY_CODES[community]})
    assert resp.status_code == 404
    w.refresh_from_db()
    assert w.community.code == COMMUNITY_CODES[WORKERS[worker][1]]


@pytest.mark.parametrize(("role_name", "worker", "community"), [
    ("street", "w1", "c2"),
    ("city", "w3", "c1"),
    ("province", "w_other", "c1"),
])
def test_patch_can_move_a_worker_within_scope(objs, api, role_name, worker, community):
    """The positive control for the test above: the same request inside scope succeeds."""
    w = objs.workers[worker]
    resp = call(api(objs.users[role_name]), "patch", f"/workers/{w.pk}", {"community": COMMUNITY_CODES[community]})
    assert resp.status_code == 200, resp.content.decode()
    assert resp.json()["community_code"] == COMMUNITY_CODES[community]
    w.refresh_from_db()
    assert w.community.code == COMMUNITY_CODES[community]


@pytest.mark.parametrize(("role_name", "worker", "community"), [
    ("street", "w1", "c3"),        # own worker, foreign community
    ("community", "w1", "c2"),
    ("city", "w3", "other"),
    ("street", "w3", "c1"),        # foreign worker, own community
    ("community", "w2", "c1"),
    ("city", "w_other", "c1"),
])
def test_appointment_needs_worker_and_community_in_scope(objs, api, role_name, worker, community):
    before = Appointment.objects.count()
    resp = call(api(objs.users[role_name]), "post", "/appointments", {
        "worker_id": objs.workers[worker].pk, "community": COMMUNITY_CODES[community], "post_type": "社工",
        "method": "聘用", "start_date": "2022-03-01"})
    assert resp.status_code == 404
    assert Appointment.objects.count() == before


def test_post_types_need_no_scope(objs, api):
    for role_name in ROLES:
        resp = call(api(objs.users[role_name]), "get", "/post-types")
        assert resp.status_code == 200
        assert len(resp.json()) == 14


# --- a user with two grants: change one street, only view the city -------------------------------------------------------


@pytest.fixture
def two_grants(objs):
    """street_admin@220102001 (change c1, c2) and training_admin@2201 (view c3 too)."""
    from shegong.accounts.services import grant_add

    user = factories.user("two_grants", "street_admin", "220102001")
    grant_add(actor=system_actor("command"), user=user, role="training_admin", scope="2201")
    return user


@pytest.mark.parametrize(("worker", "community", "status"), [
    ("w1", "c1", 201),   # own worker into own community: the positive control
    ("w1", "c2", 201),
    ("w3", "c1", 403),   # a worker they may only view, into their own community (issue 9.10: was 201)
    ("w3", "c3", 403),   # ... into the community they may only view
    ("w1", "c3", 403),   # own worker into a community they may only view
    ("w_other", "c1", 404),  # a worker they cannot see at all
])
def test_two_grants_appoint_only_what_both_grants_let_them_change(objs, api, two_grants, worker, community, status):
    before = _snapshot()
    resp = call(api(two_grants), "post", "/appointments", {
        "worker_id": objs.workers[worker].pk, "community": COMMUNITY_CODES[community], "post_type": "社工",
        "method": "聘用", "start_date": "2022-03-01"})
    assert resp.status_code == status, resp.content.decode()
    if status == 201:
        assert resp.json()["worker_id"] == objs.workers[worker].pk
    else:
        assert _snapshot() == before
        if status == 403:
            assert resp.json()["message"].startswith("您可以查看但无权")


@pytest.mark.parametrize(("endpoint_name", "target", "status"), [
    ("worker_patch", "w1", 200),
    ("worker_patch", "w3", 403),
    ("worker_reveal", "w2", 200),
    ("worker_reveal", "w3", 403),
    ("appointment_end", "w2", 200),
    ("appointment_end", "w3", 403),
    ("worker_detail", "w3", 200),
    ("appointment_detail", "w3", 200),
])
def test_two_grants_other_writes_follow_the_change_grant(objs, api, two_grants, endpoint_name, target, status):
    ep = ENDPOINTS[endpoint_name]
    resp = call(api(two_grants), ep.method, ep.path(objs, target), ep.body(objs, target))
    assert resp.status_code == status, resp.content.decode()


@pytest.mark.parametrize(("community", "status"), [("c2", 201), ("c3", 403)])
def test_two_grants_register_a_worker_only_where_they_may_change(objs, api, two_grants, community, status):
    resp = call(api(two_grants), "post", "/workers", _worker_body(objs, community))
    assert resp.status_code == status, resp.content.decode()


def test_two_grants_web_form_agrees_with_the_api(objs, two_grants):
    """The web form (shegong/web/views.py worker_appoint) already refused: the API now answers alike."""
    web = Client()
    web.force_login(two_grants)
    assert web.get(f"/workers/{objs.workers['w3'].pk}/appoint/").status_code == 403
    assert web.get(f"/workers/{objs.workers['w1'].pk}/appoint/").status_code == 200
