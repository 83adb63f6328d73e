"""Scope matrix for the server-rendered pages (DESIGN habit 4): role x page x inside/outside.

Pages for objects inside a user's scope answer 200; objects outside answer 404 (never 403, never a
leak of the name); a user who may view but not change a worker gets 403 on the edit, appoint and end
forms and on reveal; lists show only rows in scope; anonymous users are sent to /login/.

The fixture world (tests/conftest.py): c1, c2 under street 220102001, c3 under street 220102002, all in
长春 (2201); `other` in 吉林市 (2202). One worker per community: w1 (c1), w2 (c2), w3 (c3), w_other.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from shegong.common.models import AccessLog
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.staffing.models import Appointment
from tests import factories

ROLES = ["province", "city", "street", "community", "training", "worker", "nobody"]
WORKERS = ["w1", "w2", "w3", "w_other"]
COMMUNITIES = ["c1", "c2", "c3", "other"]
NAMES = {"w1": "张三", "w2": "李四", "w3": "王五", "w_other": "赵六"}
COMMUNITY_NAMES = {"c1": "东风社区", "c2": "幸福社区", "c3": "春光社区", "other": "吉林测试社区"}
COMMUNITY_OF = {"w1": "c1", "w2": "c2", "w3": "c3", "w_other": "other"}

ALL = set(WORKERS)
CHANGCHUN = {"w1", "w2", "w3"}           # everything in 长春 (2201)
# Which workers each role may view / change / reveal (roles.py: training_admin is view-only,
# worker is view + reveal on the own record only).
VIEW = {"province": ALL, "city": CHANGCHUN, "street": {"w1", "w2"}, "community": {"w1"},
        "training": CHANGCHUN, "worker": {"w1"}, "nobody": set()}
CHANGE = {"province": ALL, "city": CHANGCHUN, "street": {"w1", "w2"}, "community": {"w1"},
          "training": set(), "worker": set(), "nobody": set()}
REVEAL = {"province": ALL, "city": CHANGCHUN, "street": {"w1", "w2"}, "community": {"w1"},
          "training": set(), "worker": {"w1"}, "nobody": set()}
# Community pages: Division has no owner field, so the worker's grant on c1 shows the c1 page.
VIEW_COMMUNITY = {"province": set(COMMUNITIES), "city": {"c1", "c2", "c3"}, "street": {"c1", "c2"},
                  "community": {"c1"}, "training": {"c1", "c2", "c3"}, "worker": {"c1"}, "nobody": set()}
# Divisions above community level, by code, and the roles that may view each.
DIVISION_VIEWERS = {
    "22": {"province"},
    "2201": {"province", "city", "training"},
    "220102": {"province", "city", "training"},
    "220102001": {"province", "city", "street", "training"},
    "220102002": {"province", "city", "training"},
    "2202": {"province"},
    "220202001": {"province"},
}

MATRIX = [(role, target) for role in ROLES for target in WORKERS]
COMMUNITY_MATRIX = [(role, target) for role in ROLES for target in COMMUNITIES]
DIVISION_MATRIX = [(role, code) for role in ROLES for code in DIVISION_VIEWERS]


def expected(role: str, target: str, allowed: dict[str, set[str]]) -> int:
    """200 when allowed; 403 when visible but the action is not allowed; 404 when out of scope."""
    if target in allowed[role]:
        return 200
    if target in VIEW[role]:
        return 403
    return 404


def client_for(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def worker(world, name: str) -> Worker:
    return getattr(world, name)


@pytest.fixture
def appointments(world) -> dict[str, Appointment]:
    """One current appointment per worker, in the worker's own community."""
    return {name: factories.appoint(worker(world, name), "普通社工", method="聘用") for name in WORKERS}


# ---- worker pages ---------------------------------------------------------------------------------
# The status of every page for every role, inside and outside its scope, and anonymous, is in
# tests/access/test_route_matrix.py (generated from the URL patterns). Here: what the pages show and change.


@pytest.mark.parametrize(("role", "target"), MATRIX)
def test_worker_edit_post_changes_only_in_scope(world, role, target):
    w = worker(world, target)
    data = {"name": "改名测试", "community": w.community.code, "category": w.category, "status": w.status,
            "ethnicity": w.ethnicity, "political_status": w.political_status, "education": w.education,
            "work_start_date": "2008-07-01", "post_start_date": "2015-03-01"}
    resp = client_for(world, role).post(f"/workers/{w.pk}/edit/", data)
    want = expected(role, target, CHANGE)
    w.refresh_from_db()
    if want == 200:
        assert resp.status_code == 302, resp.content.decode()[:2000]
        assert resp["Location"] == f"/workers/{w.pk}/"
        assert w.name == "改名测试"
    else:
        assert resp.status_code == want
        assert w.name == NAMES[target]


@pytest.mark.parametrize(("role", "target"), MATRIX)
def test_appointment_end_form(world, appointments, role, target):
    appt = appointments[target]
    client = client_for(world, role)
    want = expected(role, target, CHANGE)
    assert client.get(f"/appointments/{appt.pk}/end/").status_code == want
    resp = client.post(f"/appointments/{appt.pk}/end/", {"end_date": "2024-06-30", "end_reason": "矩阵测试"})
    appt.refresh_from_db()
    if want == 200:
        assert resp.status_code == 302
        assert appt.end_date == dt.date(2024, 6, 30)
    else:
        assert resp.status_code == want
        assert appt.end_date is None


@pytest.mark.parametrize(("role", "target"), MATRIX)
@pytest.mark.parametrize("field", ["id_number", "phone"])
def test_reveal(world, role, target, field):
    w = worker(world, target)
    client = client_for(world, role)
    resp = client.post(f"/workers/{w.pk}/reveal/{field}/")
    want = expected(role, target, REVEAL)
    assert resp.status_code == want
    logs = AccessLog.objects.filter(object_type="people.worker", object_id=str(w.pk))
    if want == 200:
        assert logs.filter(user=world.users[role]).count() == 1
        assert "*" not in resp.content.decode()
    else:
        assert not logs.exists()
        assert NAMES[target] not in resp.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_reveal_is_post_only(world, role):
    resp = client_for(world, role).get(f"/workers/{world.w1.pk}/reveal/id_number/")
    assert resp.status_code == 405
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_unknown_worker_is_404(world, role):
    missing = Worker.objects.order_by("-pk").first().pk + 1000
    client = client_for(world, role)
    for url in (f"/workers/{missing}/", f"/workers/{missing}/edit/", f"/workers/{missing}/appoint/",
                f"/appointments/{missing}/end/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/workers/{missing}/reveal/id_number/").status_code == 404


# ---- the worker role sees only the own record --------------------------------------------------


def test_worker_role_sees_own_page_and_nothing_else(world, appointments):
    client = client_for(world, "worker")
    own = client.get(f"/workers/{world.w1.pk}/")
    assert own.status_code == 200
    assert own.context["can_change"] is False
    assert own.context["can_reveal"] is True
    assert [a.pk for a in own.context["current"]] == [appointments["w1"].pk]
    colleague = factories.WorkerFactory(name="孙七", community=world.c1)
    assert client.get(f"/workers/{colleague.pk}/").status_code == 404
    listing = client.get("/workers/").content.decode()
    assert "张三" in listing
    assert "孙七" not in listing


def test_worker_role_community_page_lists_only_own_record(world):
    colleague = factories.WorkerFactory(name="孙七", community=world.c1)
    factories.appoint(colleague, "党组织书记")
    resp = client_for(world, "worker").get(f"/divisions/{world.c1.code}/")
    assert resp.status_code == 200
    assert [w.pk for w in resp.context["workers"]] == [world.w1.pk]
    # The 现任岗位 table must not name a colleague whose record the user may not open either.
    assert "孙七" not in resp.content.decode()


# ---- community and division pages ----------------------------------------------------------------


@pytest.mark.parametrize(("role", "target"), COMMUNITY_MATRIX)
@pytest.mark.parametrize("padded", [False, True], ids=["natural", "padded"])
def test_community_page(world, role, target, padded):
    code = getattr(world, target).code  # communities are 12 digits either way
    url = f"/divisions/{code}/" if not padded else f"/divisions/{code.ljust(12, '0')}/"
    resp = client_for(world, role).get(url)
    want = 200 if target in VIEW_COMMUNITY[role] else 404
    assert resp.status_code == want
    body = resp.content.decode()
    if want == 200:
        assert COMMUNITY_NAMES[target] in body
        assert "现任岗位" in body
    else:
        assert COMMUNITY_NAMES[target] not in body


@pytest.mark.parametrize(("role", "code"), DIVISION_MATRIX)
@pytest.mark.parametrize("padded", [False, True], ids=["natural", "padded"])
def test_division_page(world, role, code, padded):
    url = f"/divisions/{code.ljust(12, '0') if padded else code}/"
    resp = client_for(world, role).get(url)
    want = 200 if role in DIVISION_VIEWERS[code] else 404
    assert resp.status_code == want
    if want == 200:
        assert resp.context["division"].code == code


@pytest.mark.parametrize(("role", "target"), COMMUNITY_MATRIX)
def test_community_page_lists_only_workers_in_scope(world, role, target):
    community = getattr(world, target)
    resp = client_for(world, role).get(f"/divisions/{community.code}/")
    if resp.status_code == 404:
        assert target not in VIEW_COMMUNITY[role]
        return
    shown = {w.name for w in resp.context["workers"]}
    assert shown == {NAMES[w] for w in VIEW[role] if COMMUNITY_OF[w] == target}


@pytest.mark.parametrize("role", ["province", "city", "street", "training"])
def test_street_page_children_in_scope(world, role):
    resp = client_for(world, role).get("/divisions/220102001/")
    assert resp.status_code == 200
    children = {d.code for d, _, _ in resp.context["rows"]}
    assert children == {"220102001001", "220102001002"}
    counts = {d.code: n for d, _, n in resp.context["rows"]}
    assert counts == {"220102001001": 1, "220102001002": 1}


def test_district_page_for_street_admin_is_404_but_own_street_is_200(world):
    client = client_for(world, "street")
    assert client.get("/divisions/220102/").status_code == 404
    assert client.get("/divisions/220102000000/").status_code == 404
    assert client.get("/divisions/220102001000/").status_code == 200


@pytest.mark.parametrize("code", ["abc", "0000", "220102001999", "22010200100"])
def test_bad_or_unknown_division_codes_are_404(world, code):
    assert client_for(world, "province").get(f"/divisions/{code}/").status_code == 404


# ---- lists -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_worker_list_shows_only_rows_in_scope(world, role):
    resp = client_for(world, role).get("/workers/")
    assert resp.status_code == 200
    body = resp.content.decode()
    for name in WORKERS:
        if name in VIEW[role]:
            assert NAMES[name] in body, name
        else:
            assert NAMES[name] not in body, name
    assert resp.context["page"].paginator.count == len(VIEW[role])


@pytest.mark.parametrize("role", ROLES)
def test_worker_list_filters_cannot_reach_outside(world, role):
    """Filtering by an outside community, an outside name or an outside full ID number finds nothing."""
    from shegong.common.crypto import decrypt

    client = client_for(world, role)
    plain = decrypt(world.w_other.id_number_encrypted)
    for params in ({"community": world.other.code}, {"community": "2202"}, {"q": "赵"}, {"q": plain}):
        resp = client.get("/workers/", params)
        assert resp.status_code == 200
        found = "赵六" in resp.content.decode()
        assert found == ("w_other" in VIEW[role]), (role, params)


def _cascade_codes(body: str) -> set[str]:
    return {v for v in re.findall(r'<option value="(\d*)"', body) if v}


@pytest.mark.parametrize("role", ROLES)
def test_worker_list_community_choices_in_scope(world, role):
    """Walking the division cascader down from the worker list, every level included, reaches exactly the
    communities in scope and offers nothing outside it."""
    client = client_for(world, role)
    body = client.get("/workers/").content.decode()
    seen: set[str] = set()
    todo = _cascade_codes(body.split('class="cascade"', 1)[1].split("</span>", 1)[0]) if 'class="cascade"' in body else set()
    while todo:
        code = todo.pop()
        seen.add(code)
        resp = client.get("/divisions/cascade/", {"field": "community", "community": code})
        assert resp.status_code == 200
        todo |= _cascade_codes(resp.content.decode()) - seen
    communities = {c for c in seen if len(c) == 12}
    expected = {getattr(world, c).code for c in VIEW_COMMUNITY[role]}
    if len(expected) == 1:  # one community in scope: no cascade to choose from
        assert communities <= expected
    else:
        assert communities == expected
    visible = set(Division.objects.restrict(world.users[role], "view").values_list("code", flat=True))
    assert seen <= visible, seen - visible
    assert not any(c.startswith("21") for c in seen)  # 辽宁 is outside every grant


@pytest.mark.parametrize("role", ROLES)
def test_cascade_ignores_an_outside_choice(world, role):
    """Asking the cascader for a division outside the scope shows the scope's top level, nothing of it."""
    outside = {"province": None, "city": world.other, "street": world.c3, "community": world.c2,
               "training": world.other, "worker": world.c2, "nobody": world.c1}[role]
    if outside is None:
        return  # the province admin sees the whole test world
    resp = client_for(world, role).get("/divisions/cascade/", {"field": "community", "community": outside.code})
    assert resp.status_code == 200
    body = resp.content.decode()
    assert outside.code not in body and outside.name not in body


@pytest.mark.parametrize("role", ROLES)
def test_division_search_shows_only_communities_in_scope(world, role):
    resp = client_for(world, role).get("/divisions/", {"q": "社区"})
    assert resp.status_code == 200
    body = resp.content.decode()
    for c, name in COMMUNITY_NAMES.items():
        assert (name in body) == (c in VIEW_COMMUNITY[role]), (role, c)


@pytest.mark.parametrize("role", ROLES)
def test_division_search_by_outside_code_finds_nothing(world, role):
    resp = client_for(world, role).get("/divisions/", {"q": "2202"})
    assert resp.status_code == 200
    found = {d.code for d, _ in resp.context["rows"]}
    if role == "province":
        assert found == {"2202", "220202", "220202001", "220202001001"}
    else:
        assert found == set()


ROOTS = {"province": {"22"}, "city": {"2201"}, "street": {"220102001"}, "community": {"220102001001"},
         "training": {"2201"}, "worker": {"220102001001"}, "nobody": set()}


@pytest.mark.parametrize("role", ROLES)
def test_division_index_roots(world, role):
    resp = client_for(world, role).get("/divisions/")
    assert resp.status_code == 200
    assert {d.code for d, _ in resp.context["rows"]} == ROOTS[role]


@pytest.mark.parametrize("role", ROLES)
def test_home_counts_only_scope(world, role, appointments):
    """The home (issue 11): an administrator's work desk counts only their scope; a worker's home is
    their own record; an account without a grant is told so."""
    resp = client_for(world, role).get("/")
    assert resp.status_code == 200
    if role in ("worker", "nobody"):
        own = resp.context["own"]
        assert (own.worker.pk if own else None) == (world.w1.pk if role == "worker" else None)
        assert [a.worker_id for a in own.posts] == [world.w1.pk] if own else True
        if role == "nobody":
            assert "您还没有被授予任何管辖范围" in resp.content.decode()
        return
    assert {d.code for d in resp.context["roots"]} == ROOTS[role]
    charts = {c.key: c for c in resp.context["charts"]}
    assert charts["gender"].total == len(VIEW[role])  # the active workers in scope
    # No 党组织书记 anywhere: every community in scope has a 4.2.1 error.
    assert sum(b.value for b in charts["clauses"].bars if b.label == "4.2.1") >= len(VIEW_COMMUNITY[role])
    todos = {t.label: t.count for t in resp.context["todos"]}
    if CHANGE[role]:
        assert todos["有合规错误的社区"] == len(VIEW_COMMUNITY[role])
    else:
        assert todos == {}  # view only: nothing to do


# ---- new worker form ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_worker_new_form_needs_change_scope(world, role):
    resp = client_for(world, role).get("/workers/new/")
    can_change = bool(CHANGE[role])
    assert resp.status_code == (200 if can_change else 403)
    if can_change:
        offered = {code for code, _ in resp.context["form"].fields["community"].choices}
        assert offered == {getattr(world, COMMUNITY_OF[w]).code for w in CHANGE[role]}


@pytest.mark.parametrize("role", ["city", "street", "community"])
def test_worker_new_rejects_outside_community(world, role):
    before = Worker.objects.count()
    resp = client_for(world, role).post("/workers/new/", {
        "name": "越界登记", "id_number": factories.id_number(), "community": world.other.code,
        "category": "专职社区工作者", "status": "在岗"})
    assert resp.status_code == 200
    assert resp.context["form"].errors.get("community")
    assert Worker.objects.count() == before


def test_appoint_rejects_outside_community(world):
    """A street admin may appoint w1 in c2 (same street) but not in c3 (another street)."""
    client = client_for(world, "street")
    base = {"post_type": "social_worker", "method": "兼任", "start_date": "2022-01-01"}
    resp = client.post(f"/workers/{world.w1.pk}/appoint/", {**base, "community": world.c3.code})
    assert resp.status_code == 200
    assert resp.context["form"].errors.get("community")
    assert not Appointment.objects.filter(worker=world.w1).exists()
    resp = client.post(f"/workers/{world.w1.pk}/appoint/", {**base, "community": world.c2.code})
    assert resp.status_code == 302
    assert Appointment.objects.filter(worker=world.w1, community=world.c2).count() == 1


# ---- anonymous ---------------------------------------------------------------------------------------


def test_anonymous_posts_are_redirected_and_change_nothing(world, appointments):
    client = Client()
    pk = world.w1.pk
    for url in (f"/workers/{pk}/reveal/id_number/", f"/workers/{pk}/edit/", "/workers/new/",
                f"/appointments/{appointments['w1'].pk}/end/"):
        resp = client.post(url, {"name": "匿名", "end_date": "2024-01-01"})
        assert resp.status_code == 302, url
        assert resp["Location"].startswith("/login/?next="), url
    assert not AccessLog.objects.exists()
    world.w1.refresh_from_db()
    assert world.w1.name == "张三"
    assert Appointment.objects.get(pk=appointments["w1"].pk).end_date is None


def test_login_page_open_to_anonymous(world):
    resp = Client().get("/login/")
    assert resp.status_code == 200
    assert 'name="password"' in resp.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_post_types_page_for_every_signed_in_user(world, role):
    resp = client_for(world, role).get("/post-types/")
    assert resp.status_code == 200
    assert "党组织书记" in resp.content.decode()
