"""The one list machinery (shegong.common.lists) over real Worker rows: filter, sort, page sizes, the pager's
query strings, the workbook and the API filter — the steps every list will share."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlencode

import django_filters
import pytest
from django import forms as django_forms
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import RequestFactory
from openpyxl import load_workbook

from shegong.access import restrict
from shegong.accounts.models import User
from shegong.common.lists import (
    Column,
    Exporter,
    ListDeclaration,
    ListError,
    ListPage,
    MemoryFilter,
    api_queryset,
    mask,
    run_list,
    run_rows,
)
from shegong.people.models import Worker
from tests import factories
from tests.common import division, worker


class World:
    """Like tests/conftest.py's world, made through the ORM: four communities, one worker in each,
    users with a grant on the province, the city 2201, the street 220102001, and none."""

    def __init__(self) -> None:
        self.c1 = division("220102001001", name="东风社区")
        self.c2 = division("220102001002", name="幸福社区")
        self.c3 = division("220102002001", name="春光社区")
        self.other = division("220202001001", name="吉林测试社区")
        for c, name in ((self.c1, "张三"), (self.c2, "李四"), (self.c3, "王五"), (self.other, "赵六")):
            worker(c, name=name)
        self.users = {
            "province": factories.user("province", "civil_affairs", "22"),
            "city": factories.user("city", "civil_affairs", "2201"),
            "street": factories.user("street", "street_admin", "220102001"),
            "nobody": User.objects.create_user("nobody", password="Test-pass-2021"),
        }


@pytest.fixture
def world(db) -> World:
    return World()


class WorkerFilter(django_filters.FilterSet):
    community = django_filters.CharFilter(label="社区", method="below")
    category = django_filters.ChoiceFilter(label="人员类别", choices=Worker.Category.choices)
    q = django_filters.CharFilter(label="姓名", field_name="name", lookup_expr="contains")
    born_after = django_filters.DateFilter(label="出生不早于", field_name="birth_date", lookup_expr="gte")

    class Meta:
        model = Worker
        fields: list[str] = []

    def below(self, queryset, name, value):
        return queryset.filter(community__code__startswith=value)


WORKERS = ListDeclaration(
    name="workers", model=Worker, filterset=WorkerFilter,
    base=lambda: Worker.objects.select_related("community"),
    columns=[
        Column("name", "姓名", sortable=True, href=lambda w: f"/workers/{w.pk}/"),
        Column("birth_date", "出生日期", sortable=True),
        Column("id_number", "公民身份号码", value="id_number_masked", personal=True,
               export_value="id_number_masked", css="mono"),
        Column("phone", "联系电话", value=lambda w: "13900001111", personal=True),
        Column("community", "所在社区", value="community.name", sortable=True, order_by=("community__code",)),
        Column("category", "人员类别"),
    ],
    ordering=("community__code", "name"),
    export=Exporter(sheet="社区工作者", filename="社区工作者.xlsx", max_rows=100),
)

rf = RequestFactory()


def run(world, query: str = "", user: str = "province", declaration: ListDeclaration = WORKERS):
    request = rf.get("/workers/?" + query)
    actor = world.users[user]
    request.user = actor
    return run_list(declaration, request, restrict(declaration.queryset(), actor, declaration.action))


def names(result: ListPage) -> list[str]:
    return [w.name for w in result.objects]


@pytest.fixture
def many(world):
    """Twelve more workers in 东风社区 (c1), named so that sorting by name is checkable."""
    made = [worker(world.c1, name=f"测试{i:02d}") for i in range(12)]
    return world, made


def test_restricted_then_default_order(world):
    assert names(run(world)) == ["张三", "李四", "王五", "赵六"]  # by community code, then name
    assert names(run(world, user="street")) == ["张三", "李四"]
    assert names(run(world, user="nobody")) == []


def test_filter_and_invalid_filter_value(world):
    assert names(run(world, "community=220102001")) == ["张三", "李四"]
    assert names(run(world, "q=王")) == ["王五"]
    bad = run(world, "born_after=去年&category=不存在")
    assert bad.objects == [] and bad.count == 0
    assert any(e.startswith("筛选条件“出生不早于”") for e in bad.errors), bad.errors
    assert any(e.startswith("筛选条件“人员类别”") for e in bad.errors), bad.errors
    html = render_to_string("common/list_table.html", {"list": bad})
    assert "筛选条件“出生不早于”" in html


def test_sort_both_ways_with_a_stable_tiebreak(many):
    world, made = many
    asc = names(run(world, "community=220102001001&sort=name&per_page=25"))
    assert asc == sorted(asc) and len(asc) == 13
    desc = names(run(world, "community=220102001001&sort=-name&per_page=25"))
    assert desc == list(reversed(asc))
    # Equal sort values (same community) still page without overlap: the primary key breaks ties.
    first = run(world, "sort=community&per_page=25")
    assert first.objects == sorted(first.objects, key=lambda w: (w.community.code, w.pk))
    last = run(world, "sort=-community&per_page=25")
    assert last.objects == sorted(first.objects, key=lambda w: (w.community.code, w.pk), reverse=True)
    header = {h.key: h for h in run(world, "sort=name").header}
    assert header["name"].direction == "asc" and parse_qs(header["name"].url[1:])["sort"] == ["-name"]
    assert header["id_number"].sortable is False and header["id_number"].url == ""


def test_unknown_or_unsortable_column_is_refused_clearly(world):
    for key in ("salary", "id_number", "-phone"):
        result = run(world, f"sort={key}")
        assert names(result) == ["张三", "李四", "王五", "赵六"]  # the default order
        assert result.errors == [f"排序:不能按“{key.removeprefix('-')}”排序,已按默认顺序显示"]
        assert result.sort == ""


def test_page_sizes_and_out_of_range_pages(many):
    world, _ = many  # 16 workers in all
    small = ListDeclaration(name="small", model=Worker, columns=WORKERS.columns, filterset=WorkerFilter,
                            page_sizes=(5, 10), page_size=5, ordering=("name",))
    assert len(run(world, declaration=small).objects) == 5
    assert len(run(world, "per_page=10", declaration=small).objects) == 10
    assert len(run(world, "per_page=7", declaration=small).objects) == 5  # not a declared size: the default
    assert len(run(world, "per_page=abc", declaration=small).objects) == 5
    last = run(world, "page=999", declaration=small)
    assert last.pager.number == 4 and len(last.objects) == 1 and last.pager.next_url == ""
    assert run(world, "page=-3", declaration=small).pager.number == 1
    assert run(world, "page=x", declaration=small).pager.number == 1
    sizes = run(world, "per_page=10", declaration=small).pager.sizes
    assert [(s, current) for s, _, current in sizes] == [(5, False), (10, True)]
    with pytest.raises(ValueError):
        ListDeclaration(name="bad", model=Worker, columns=[], page_sizes=(25,), page_size=50)


def test_pager_keeps_filters_and_sort_url_escaped(world):
    for i in range(60):
        worker(world.c1, name=f"周&吴{i}")
    result = run(world, "q=%E5%91%A8%26%E5%90%B4&sort=-name")  # q=周&吴
    assert result.count == 60 and result.pager.num_pages == 2
    nxt = result.pager.next_url
    assert nxt.startswith("?") and "&吴" not in nxt
    assert parse_qs(nxt[1:]) == {"q": ["周&吴"], "sort": ["-name"], "page": ["2"]}
    second = run(world, nxt[1:])
    assert second.pager.number == 2 and len(second.objects) == 10
    assert parse_qs(second.pager.previous_url[1:]) == {"q": ["周&吴"], "sort": ["-name"]}
    html = render_to_string("common/list_pager.html", {"list": result})
    assert 'href="?q=%E5%91%A8%26%E5%90%B4&amp;sort=-name&amp;page=2"' in html
    assert "共 60 条" in html


def test_rows_are_escaped_and_linked(world):
    worker(world.c1, name="<b>坏</b>")
    result = run(world, "q=坏")
    assert "&lt;b&gt;坏&lt;/b&gt;" in result.rows[0] and "<b>" not in result.rows[0]
    assert f'<a href="/workers/{result.objects[0].pk}/">' in result.rows[0]
    assert '<td class="mono">' in result.rows[0]
    html = render_to_string("common/list_table.html", {"list": result})
    assert "<table>" in html and "&lt;b&gt;" in html


def test_export_has_every_filtered_row_in_order_masked(many):
    world, made = many
    made[0].name = "=HYPERLINK(\"http://x\")"
    Worker.objects.filter(pk=made[0].pk).update(name=made[0].name)
    query = "community=220102001&sort=-name&per_page=25&page=1"
    response = run(world, query + "&export=xlsx")
    assert isinstance(response, HttpResponse)
    assert "filename*=utf-8''" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content))["社区工作者"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "出生日期", "公民身份号码", "联系电话", "所在社区", "人员类别")
    page = run(world, query)
    assert [r[0] for r in rows[1:]] == [w.name for w in page.objects]  # all 14, same order
    assert len(rows) - 1 == page.count == 14
    formula = next(c for c in ws["A"] if c.value == made[0].name)
    assert formula.data_type == "s"  # text, not a live formula
    for r, w in zip(rows[1:], page.objects, strict=True):
        assert r[2] == w.id_number_masked and "*" in r[2]
        assert r[3] == mask("13900001111") == "139******11"
        assert r[1] == w.birth_date.isoformat()


def test_export_over_the_cap_is_refused_with_a_message(world):
    tiny = ListDeclaration(name="tiny", model=Worker, columns=WORKERS.columns,
                           export=Exporter(sheet="人员", filename="人员.xlsx", max_rows=2))
    result = run(world, "export=xlsx", declaration=tiny)
    assert isinstance(result, ListPage)
    assert result.errors == ["导出:符合条件的共 4 行,超过单次导出上限 2 行,请缩小筛选范围后再导出"]


def test_api_queryset_filters_and_sorts_like_the_page(world):
    rows = restrict(WORKERS.queryset(), world.users["city"], "view")
    api = api_queryset(WORKERS, rows, rf.get("/api/v1/workers?community=220102&sort=-name&limit=50").GET)
    page = run(world, "community=220102&sort=-name", user="city")
    assert list(api) == page.objects
    with pytest.raises(ListError) as err:
        api_queryset(WORKERS, rows, rf.get("/api/v1/workers?born_after=x&sort=salary").GET)
    assert any("出生不早于" in m for m in err.value.messages)
    assert any("salary" in m for m in err.value.messages)


def test_fifty_rows_render_fast(world):
    """The worker list renders 50 rows: cells are prepared once, the partial joins them (budget 5 ms)."""
    import time

    from shegong.common.lists import render_rows

    objects = list(WORKERS.queryset().all()) * 13  # 52 rows
    render_rows(WORKERS.columns, objects)
    t0 = time.perf_counter()
    for _ in range(10):
        render_rows(WORKERS.columns, objects[:50])
    assert (time.perf_counter() - t0) / 10 < 0.005


def test_options_html_escapes_and_selects():
    from shegong.common.lists import options_html

    html = options_html([("220102001001", "东风<社区>"), ("2201&1", "甲\"乙")], "2201&1")
    assert html == ('<option value="">全部</option><option value="220102001001">东风&lt;社区&gt;</option>'
                    '<option value="2201&amp;1" selected>甲&quot;乙</option>')
    assert options_html([(1, "一")], 1, blank="") == '<option value="1" selected>一</option>'


def test_display_spells_dates_once():
    import datetime as dt

    from django.utils import timezone

    from shegong.common.lists import display

    assert display(dt.date(2021, 3, 4)) == "2021-03-04"
    aware = dt.datetime(2021, 3, 4, 23, 30, tzinfo=dt.UTC)
    assert display(aware) == timezone.localtime(aware).strftime("%Y-%m-%d %H:%M") == "2021-03-05 07:30"
    assert (display(None), display(True), display(3)) == ("", "是", "3")


# ---- rows computed in memory (run_rows) -------------------------------------------------------------------

class _Min(django_forms.Form):
    at_least = django_forms.IntegerField(label="最小值", required=False)


MEMORY = ListDeclaration(
    name="memory", model=None,
    memory_filter=MemoryFilter(form=_Min, apply=lambda rows, data: [
        r for r in rows if data["at_least"] is None or (r["n"] or 0) >= data["at_least"]]),
    columns=[Column("label", "名称", value=lambda r: r["label"], sortable=True),
             Column("n", "数量", value=lambda r: r["n"], sortable=True),
             Column("hidden", "备注", value=lambda r: "x", page=False)],
    page_sizes=(2, 10), page_size=2, export=Exporter(sheet="内存", filename="内存.xlsx"),
)
ROWS = [{"label": "乙", "n": 3}, {"label": "甲", "n": None}, {"label": "丙", "n": 1}, {"label": "丁", "n": 3}]


def test_rows_in_memory_filter_sort_page_and_export():
    rf = RequestFactory()
    page = run_rows(MEMORY, rf.get("/", {"sort": "-n"}), ROWS)
    assert isinstance(page, ListPage)
    # Descending, equal values in their computed order (stable), None at the end; two per page.
    assert [r["label"] for r in page.objects] == ["乙", "丁"] and page.pager.num_pages == 2
    assert [h.label for h in page.header] == ["名称", "数量"]  # the workbook-only column is not shown
    last = run_rows(MEMORY, rf.get("/", {"sort": "-n", "page": "2"}), ROWS)
    assert [r["label"] for r in last.objects] == ["丙", "甲"]  # type: ignore[union-attr]
    response = run_rows(MEMORY, rf.get("/", {"sort": "n", "at_least": "2", "export": "xlsx"}), ROWS)
    assert isinstance(response, HttpResponse)
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [tuple(c.value for c in r) for r in ws.iter_rows()] == [("名称", "数量", "备注"), ("乙", 3, "x"),
                                                                  ("丁", 3, "x")]
    bad = run_rows(MEMORY, rf.get("/", {"at_least": "many"}), ROWS)
    assert isinstance(bad, ListPage) and bad.objects == [] and bad.errors[0].startswith("筛选条件“最小值”")


def _jump(result: ListPage, page: int) -> str:
    """The query string the pager's page-jump form (a plain GET form) submits when page `page` is typed."""
    return urlencode([*result.pager.jump_fields, ("page", str(page))])


def test_page_jump_keeps_filters_sort_and_page_size(many):
    world, _ = many  # 16 workers; 13 in 东风社区's street 220102001
    small = ListDeclaration(name="small", model=Worker, columns=WORKERS.columns, filterset=WorkerFilter,
                            page_sizes=(2, 5), page_size=5, ordering=("name",))
    first = run(world, "community=220102001&sort=-name&per_page=2", declaration=small)
    assert first.pager.num_pages == 7
    assert sorted(first.pager.jump_fields) == [("community", "220102001"), ("per_page", "2"), ("sort", "-name")]
    jumped = run(world, _jump(first, 6), declaration=small)
    expected = sorted(Worker.objects.filter(community__code__startswith="220102001").values_list("name", flat=True),
                      reverse=True)
    assert jumped.pager.number == 6 and names(jumped) == expected[10:12]
    assert jumped.sort == "-name" and jumped.pager.per_page == 2
    past = run(world, _jump(first, 99), declaration=small)
    assert past.pager.number == 7  # a page past the end: the last one, as for links
    html = render_to_string("common/list_pager.html", {"list": jumped})
    form = re.search(r'<form method="get" class="page-jump"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None, html
    assert '<input type="hidden" name="sort" value="-name">' in form.group(1)
    assert '<input type="hidden" name="per_page" value="2">' in form.group(1)
    assert '<input type="hidden" name="community" value="220102001">' in form.group(1)
    assert 'name="page"' in form.group(1) and 'max="7"' in form.group(1) and 'value="6"' in form.group(1)
    assert "跳至第" in form.group(1) and "跳转" in form.group(1)
    assert 'name="page" value' not in form.group(1).split('type="number"')[0]  # no stale hidden page


def test_page_jump_fields_are_escaped_and_absent_on_one_page(world):
    worker(world.c1, name='"><script>')
    result = run(world, "q=%22%3E%3Cscript%3E")
    assert result.pager.num_pages == 1
    assert "page-jump" not in render_to_string("common/list_pager.html", {"list": result})
    for i in range(60):
        worker(world.c1, name=f'"><script>{i}')
    many_pages = run(world, "q=%22%3E%3Cscript%3E")
    html = render_to_string("common/list_pager.html", {"list": many_pages})
    assert 'value="&quot;&gt;&lt;script&gt;"' in html and "<script>" not in html


def test_headers_have_scope_and_say_their_sort_state(world):
    result = run(world, "sort=-name")
    html = render_to_string("common/list_table.html", {"list": result})
    heads = re.findall(r"<th\b[^>]*>", html)
    assert len(heads) == len(WORKERS.page_columns()) and all('scope="col"' in h for h in heads)
    states = {h.key: h.aria_sort for h in result.header}
    assert states == {"name": "descending", "birth_date": "none", "id_number": "", "phone": "",
                      "community": "none", "category": ""}
    assert '<th scope="col" aria-sort="descending">' in html
    assert html.count('aria-sort="none"') == 2 and html.count("aria-sort") == 3
    assert '<span aria-hidden="true"> ▼</span>' in html and "当前按此列降序,点击改为升序" in html
    ascending = render_to_string("common/list_table.html", {"list": run(world, "sort=birth_date")})
    assert '<th scope="col" aria-sort="ascending">' in ascending and "当前按此列升序,点击改为降序" in ascending
