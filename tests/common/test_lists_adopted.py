"""The archive and staffing lists run through shegong.common.lists (issue 10, point 5): the page, its
workbook (?export=xlsx) and the API give the same rows in the same order; sortable columns, page sizes,
Chinese errors naming the field; and the completeness workbook of an empty scope (was a 500)."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

from django.test import Client
from openpyxl import load_workbook

from shegong.archives import services
from shegong.archives.models import CorrectionRequest
from shegong.staffing.lists import rule_name
from shegong.staffing.rules import load_rule_set
from tests import factories

BASE = "/api/v1"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sheet_rows(resp) -> list[tuple]:
    assert resp.status_code == 200, resp.content[:300]
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(resp.content)).worksheets[0]
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


def open_archives(world) -> None:
    """Five accesses: the street admin opens 张三 and 李四, the province 王五 and 赵六, the community 张三 again."""
    for role, worker in (("street", world.w1), ("street", world.w2), ("province", world.w3),
                         ("province", world.w_other), ("community", world.w1)):
        services.archive_open(actor=world.users[role], worker=worker, ip="10.0.0.9")


def test_audit_page_sorts_pages_and_exports_the_same_rows(world):
    open_archives(world)
    city = client_for(world.users["city"])
    page = city.get("/archives/access-log/?sort=worker")
    names = [row.worker.name for row in page.context["page"].object_list]
    assert names == sorted(names) and len(names) == 4  # 赵六's community is outside the city
    assert 'aria-sort="ascending"' in page.content.decode()
    desc = [row.worker.name for row in city.get("/archives/access-log/?sort=-worker").context["page"].object_list]
    assert desc == sorted(names, reverse=True)
    assert city.get("/archives/access-log/?per_page=25").context["list"].pager.per_page == 25
    rows = sheet_rows(city.get("/archives/access-log/?sort=worker&export=xlsx"))
    assert rows[0] == ("时间", "用户", "操作", "所涉人员", "社区", "对象", "IP 地址")
    assert [r[3] for r in rows[1:]] == names
    # The scope filter keeps the page's spelling (digits only) and the workbook follows it.
    assert [r[3] for r in sheet_rows(city.get("/archives/access-log/?scope=2201-02-001-002&export=xlsx"))[1:]] == ["李四"]


def test_audit_filter_errors_are_chinese_and_name_the_field(world):
    open_archives(world)
    resp = client_for(world.users["city"]).get("/archives/access-log/?action=peek&sort=ip")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "筛选条件“操作”" in body and "不能按“ip”排序" in body
    assert resp.context["page"].paginator.count == 0  # a mistyped filter shows nothing, not everything


def test_access_log_api_sorts_like_the_page(world, api):
    open_archives(world)
    prov = api(world.users["province"])
    body = prov.get(f"{BASE}/archive/access-log", {"sort": "-worker"}).json()
    page = client_for(world.users["province"]).get("/archives/access-log/?sort=-worker")
    assert [i["worker_name"] for i in body["items"]] == [r.worker.name for r in page.context["page"].object_list]
    resp = prov.get(f"{BASE}/archive/access-log", {"sort": "ip"})
    assert resp.status_code == 400 and "不能按“ip”排序" in resp.json()["message"]


def test_corrections_page_export_and_api_agree(world, api):
    lisi = factories.user("lisi", "worker", "220102001002", worker=world.w2)
    for user, worker in ((world.users["worker"], world.w1), (lisi, world.w2)):
        services.correction_request_create(actor=user, worker=worker, text=f"{worker.name}的学历有误")
    admin = world.users["street"]
    page = client_for(admin).get("/archives/corrections/?sort=worker")
    assert [c.worker.name for c in page.context["page"].object_list] == sorted(["张三", "李四"])
    assert "处理</a>" in page.content.decode()  # the street admin may decide
    rows = sheet_rows(client_for(admin).get("/archives/corrections/?sort=worker&export=xlsx"))
    assert rows[0][:4] == ("申请时间", "社区工作者", "社区", "更正内容")
    assert [r[1] for r in rows[1:]] == sorted(["张三", "李四"])
    items = api(admin).get(f"{BASE}/archive/corrections", {"sort": "worker", "status": "pending"}).json()["items"]
    assert [i["worker_name"] for i in items] == sorted(["张三", "李四"])
    assert CorrectionRequest.objects.count() == 2


def test_vacancies_page_exports_its_rows(world):
    resp = client_for(world.users["city"]).get("/compliance/vacancies/?sort=-code")
    codes = [d.code for d in resp.context["page"].object_list]
    assert codes == sorted(codes, reverse=True) and len(codes) == 3  # nobody holds a post in the fixture
    rows = sheet_rows(client_for(world.users["city"]).get("/compliance/vacancies/?sort=-code&export=xlsx"))
    assert rows[0] == ("社区", "区划代码", "街道", "空缺岗位")
    assert [r[1] for r in rows[1:]] == codes
    assert "党组织书记" in rows[1][3]
    scoped = client_for(world.users["city"]).get("/compliance/vacancies/?scope=220102002")
    assert [d.code for d in scoped.context["page"].object_list] == ["220102002001"]


def test_appointments_api_sort_and_refused_sort(world, api):
    prov = api(world.users["province"])
    assert prov.get(f"{BASE}/appointments", {"sort": "-start_date"}).status_code == 200
    resp = prov.get(f"{BASE}/appointments", {"sort": "salary"})
    assert resp.status_code == 400
    assert resp.json()["field"] == "sort" and "不能按“salary”排序" in resp.json()["message"]


def test_completeness_workbook_of_an_empty_scope_has_the_headers(world):
    """Was a 500 for a user with no grant (openpyxl refused the range E2:X1 of an empty sheet)."""
    resp = client_for(world.users["nobody"]).get("/archives/export.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    sheet = wb["档案齐全情况"]
    assert [c.value for c in sheet[1]][:4] == ["区划代码", "街道", "社区", "姓名"]
    assert sheet.max_row == 1


def test_community_archives_list_sorts_and_exports(world):
    """/archives/?parent=<community>: the community's workers with the items their archive lacks, a
    declared list (sortable, paged) and the same rows as a workbook."""
    extra = factories.WorkerFactory(name="阿丽", community=world.c2)
    street = client_for(world.users["street"])
    page = street.get("/archives/?parent=220102001002&sort=-name")
    expected = sorted([("李四", world.w2.pk), ("阿丽", extra.pk)], reverse=True)  # by name, descending
    assert [w.worker_id for w in page.context["list"].objects] == [pk for _, pk in expected]
    assert (page.context["total"], page.context["complete"]) == (2, 0)
    assert [h.label for h in page.context["list"].header] == ["姓名", "状态", "缺少的必备材料"]
    # The workbook has the columns of /archives/export.xlsx's per-worker sheet (one exporter declaration).
    rows = sheet_rows(street.get("/archives/?parent=220102001002&sort=-name&export=xlsx"))
    whole = load_workbook(io.BytesIO(b"".join(street.get("/archives/export.xlsx?parent=220102001002")
                                              .streaming_content)))["档案齐全情况"]
    assert rows[0] == next(whole.iter_rows(values_only=True))
    assert rows[0][:6] == ("区划代码", "街道", "社区", "姓名", "齐备", "缺少项数")
    assert [(r[3], r[4], r[5]) for r in rows[1:]] == [(name, "否", 6) for name, _ in expected]
    assert "近期免冠照片" in rows[1][-1]


def test_compliance_findings_are_a_declared_list_in_memory(world):
    """/compliance/: the findings (computed in memory) filtered, sorted, paged and exported by the same
    machinery; the report workbook's findings sheet has the list exporter's columns."""
    city = client_for(world.users["city"])
    page = city.get("/compliance/?scope=2201&sort=-name")
    assert page.status_code == 200
    found = page.context["page"].object_list
    assert found and [(f.name, f.community) for f in found] == sorted(((f.name, f.community) for f in found),
                                                                       reverse=True)
    assert 'aria-sort="descending"' in page.content.decode()
    rows = sheet_rows(city.get("/compliance/?scope=2201&sort=-name&export=xlsx"))
    assert rows[0] == ("区划代码", "社区", "条款", "级别", "问题", "应为", "实际", "规则")
    assert [(r[1], r[4]) for r in rows[1:]] == [(f.name, f.message) for f in found]
    assert {r[3] for r in rows[1:]} <= {"错误", "提示"}
    # The rule column names the rule in Chinese, never the rule set's internal id (issue 11, point 10).
    by_message = {f.message: f for f in found}
    for r in rows[1:]:
        assert r[7] and not re.search(r"[A-Za-z_]", r[7]), r
        assert r[7] != by_message[r[4]].rule
    report = load_workbook(io.BytesIO(b"".join(city.get("/compliance/export.xlsx?scope=2201&sort=-name")
                                              .streaming_content)))
    assert [tuple(c.value for c in r) for r in report["问题清单"].iter_rows()] == rows
    # Page sizes among the declared ones; the filters as before; an invalid level names the field.
    small = city.get("/compliance/?scope=2201&per_page=50")
    assert small.context["list"].pager.per_page == 50
    errors = city.get("/compliance/?scope=2201&level=error").context["page"].object_list
    assert errors and {f.level for f in errors} == {"error"}
    bad = city.get("/compliance/?scope=2201&level=fatal")
    assert list(bad.context["page"].object_list) == []
    assert any("筛选条件“级别”" in e for e in bad.context["list"].errors)
    refused = city.get("/compliance/?scope=2201&sort=salary")
    assert any("不能按“salary”排序" in e for e in refused.context["list"].errors)


def test_every_rule_of_the_rule_set_has_a_chinese_name():
    """Each rule the compliance check can report (quota, head counts, holder rules) gets a Chinese name in
    the workbook's 规则 column; an unknown id gives an empty cell, never the id."""
    rule_set = load_rule_set()
    ids = ["quota_households", "quota_max", "quota_min", *(r.id for r in rule_set.headcounts),
           *(r.id for r in rule_set.holders)]
    names = {i: rule_name(SimpleNamespace(rule=i)) for i in ids}
    assert all(n and not re.search(r"[A-Za-z_]", n) for n in names.values()), names
    assert names["public_welfare_holds_post"] == "所有岗位的任职人员类别"
    assert names["party_secretary"] == "党组织书记人数"
    assert names["grid_leader_eligibility"] == "网格长任职条件"
    assert rule_name(SimpleNamespace(rule="made_up_rule")) == ""
