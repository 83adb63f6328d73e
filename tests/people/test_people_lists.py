"""The worker list adopted on shegong.common.lists (issue 10, point 5): the page /workers/, its workbook
(?export=xlsx) and GET /api/v1/workers give the same filtered, sorted rows; personal data only masked;
a wrong filter value is a Chinese message naming the field, never a 500; and the per-division roll-ups
(org.community_counts, the division page's worker counts) give the numbers a plain count gives."""

from __future__ import annotations

import io

from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from shegong.access import restrict, system_actor
from shegong.common.crypto import decrypt
from shegong.org.models import Division
from shegong.org.selectors import community_counts
from shegong.people.models import Worker
from shegong.people.services import worker_update
from tests import factories


def client(world, role: str = "province") -> Client:
    c = Client()
    c.force_login(world.users[role])
    return c


def more(world) -> list[Worker]:
    made = [factories.WorkerFactory(name=f"扩{i:02d}", community=(world.c1, world.c2, world.c3)[i % 3])
            for i in range(30)]
    worker_update(actor=system_actor("command"), worker=made[0], name="=HYPERLINK(\"http://x\")")
    return made


def test_page_export_and_api_give_the_same_rows_in_the_same_order(world, api):
    more(world)
    query = "community=2201&status=在岗&sort=-name"
    page = client(world).get(f"/workers/?{query}&per_page=100")
    assert page.status_code == 200
    shown = [w.pk for w in page.context["list"].objects]
    assert len(shown) == 33  # 3 in the city + 30 more; 赵六 is outside 2201
    export = client(world).get(f"/workers/?{query}&export=xlsx")
    assert export.status_code == 200 and "filename*=utf-8''" in export["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(export.content))["社区工作者"].iter_rows(values_only=True))
    assert rows[0] == ("姓名", "性别", "出生日期", "公民身份号码", "联系电话", "街道", "所在社区", "人员类别", "状态")
    by_pk = {w.pk: w for w in Worker.objects.filter(pk__in=shown)}
    assert [r[0] for r in rows[1:]] == [by_pk[pk].name for pk in shown]
    items = api(world.users["province"]).get(f"/api/v1/workers?{query}&limit=100").json()["items"]
    assert [i["id"] for i in items] == shown


def test_export_is_masked_and_formula_safe(world):
    more(world)
    response = client(world).get("/workers/?export=xlsx")
    ws = load_workbook(io.BytesIO(response.content))["社区工作者"]
    cells = [c for row in ws.iter_rows() for c in row]
    body = " ".join(str(c.value) for c in cells)
    for w in Worker.objects.all():
        assert decrypt(w.id_number_encrypted) not in body
        if w.phone_encrypted:
            assert decrypt(w.phone_encrypted) not in body
    formula = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert formula.data_type == "s"  # text, never a live formula


def test_sortable_columns_and_page_sizes_on_the_page(world):
    more(world)
    resp = client(world).get("/workers/?sort=birth_date&per_page=25")
    result = resp.context["list"]
    assert [h.key for h in result.header if h.sortable] == ["name", "birth_date", "street", "community", "category",
                                                                 "status"]
    dates = [w.birth_date for w in result.objects]
    assert dates == sorted(dates) and len(dates) == 25
    assert [size for size, _, _ in result.pager.sizes] == [25, 50, 100]
    body = resp.content.decode()
    assert 'aria-sort="ascending"' in body and "下一页" in body
    first = result.objects[0]
    assert f'<a href="/workers/{first.pk}/">' in body
    assert f'<a href="/divisions/{first.community.code}/">{first.community.name}</a>' in body


def test_a_wrong_filter_is_a_chinese_message_naming_the_field(world, api):
    resp = client(world).get("/workers/?post_type=总经理")
    assert resp.status_code == 200
    assert resp.context["list"].objects == []
    assert "筛选条件“岗位”:岗位“总经理”不在 DB22/T 3226—2021 第 4–6 章所列岗位中" in resp.content.decode()
    bad_sort = client(world).get("/workers/?sort=salary")
    assert "排序:不能按“salary”排序" in bad_sort.content.decode()
    answer = api(world.users["province"]).get("/api/v1/workers?post_type=总经理")
    assert answer.status_code == 400 and "岗位" in answer.json()["message"]
    assert api(world.users["province"]).get("/api/v1/workers?sort=salary").status_code == 400


def test_the_post_keeps_sort_and_page_size_and_hides_the_id_number(world):
    plain = decrypt(world.w2.id_number_encrypted)
    resp = client(world).post("/workers/", {"q": plain, "sort": "-name", "per_page": "25"})
    assert resp.status_code == 302
    assert plain not in resp["Location"] and "idh=" in resp["Location"]
    assert "sort=-name" in resp["Location"] and "per_page=25" in resp["Location"]
    listing = client(world).get(resp["Location"])
    assert [w.pk for w in listing.context["list"].objects] == [world.w2.pk]


def test_community_counts_roll_up_like_a_plain_count(world):
    factories.community("220102001003", "第三社区")
    Division.objects.filter(code="220102001001").update(households=1200)
    actor = world.users["province"]
    divisions = list(Division.objects.filter(code__in=["22", "2201", "220102001", "220102002", "220202"]))
    counts = community_counts(divisions=divisions, actor=actor)
    visible = restrict(Division.objects.all(), actor).filter(level=Division.Level.COMMUNITY, is_active=True)
    for d in divisions:
        below = visible.filter(code__startswith=d.code)
        assert counts[d.code] == {"communities": below.count(),
                                  "households": below.aggregate(n=Sum("households"))["n"] or 0}, d.code
    assert counts["220102001"]["communities"] == 3


def test_division_page_worker_counts_per_child(world):
    factories.WorkerFactory(name="离岗者", community=world.c2, status="离岗")
    resp = client(world, "city").get("/divisions/220102/")
    assert resp.status_code == 200
    workers = resp.context["child_worker_counts"]
    for code in ("220102001", "220102002"):
        expected = Worker.objects.filter(community__code__startswith=code, status="在岗").count()
        assert workers.get(code, 0) == expected, code


def test_api_list_query_count_does_not_grow_with_rows(world, api):
    """The API answers fields the page does not show: its rows must not be the page's `.only()` ones
    (each deferred field would be loaded row by row)."""
    c = api(world.users["province"])
    c.get("/api/v1/workers?limit=50")
    with CaptureQueriesContext(connection) as small:
        assert c.get("/api/v1/workers?limit=50").status_code == 200
    more(world)
    with CaptureQueriesContext(connection) as large:
        assert c.get("/api/v1/workers?limit=50").status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries) <= 5


def test_street_column_sorted_and_read_in_the_same_query(world):
    """街道 (the community's parent) is a column of the page and the workbook, sortable, and costs no
    query per row: the page's query count does not grow with its rows."""
    c = client(world)
    c.get("/workers/")
    with CaptureQueriesContext(connection) as few:
        assert c.get("/workers/?per_page=100").status_code == 200
    more(world)
    with CaptureQueriesContext(connection) as many:
        resp = c.get("/workers/?per_page=100&sort=-street")
    assert len(many.captured_queries) == len(few.captured_queries)
    result = resp.context["list"]
    streets = [w.community.parent.name for w in result.objects]
    codes = [w.community.parent.code for w in result.objects]
    assert codes == sorted(codes, reverse=True) and len(streets) == 34
    assert set(codes) == {"220102001", "220102002", "220202001"}
    body = resp.content.decode()
    assert '<th scope="col" aria-sort="descending"><a' in body and ">街道<" in body
    assert "<td>测试002街道</td>" in body
    rows = list(load_workbook(io.BytesIO(c.get("/workers/?sort=street&export=xlsx").content))["社区工作者"]
                .iter_rows(values_only=True))
    by_name = {w.name: w.community.parent.code for w in Worker.objects.select_related("community__parent")}
    assert rows[0][5] == "街道"
    exported = [by_name[r[0]] for r in rows[1:]]
    assert exported == sorted(exported) and len(exported) == 34 and exported[-1] == "220202001"  # 赵六


def test_page_jump_on_the_worker_list_keeps_filters_and_sort(world):
    more(world)
    c = client(world)
    resp = c.get("/workers/?community=2201&sort=name&per_page=25")
    body = resp.content.decode()
    assert 'class="page-jump"' in body and '<input type="hidden" name="community" value="2201">' in body
    fields = dict(resp.context["list"].pager.jump_fields)
    jumped = c.get("/workers/", {**fields, "page": "2"})
    result = jumped.context["list"]
    assert result.pager.number == 2 and result.sort == "name" and result.pager.per_page == 25
    assert len(result.objects) == 8  # 33 in 2201, 25 on page 1
