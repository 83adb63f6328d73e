"""Home pages by role (issue 11, point 4): a worker's own page; an administrator's work desk whose to-dos
and charts come from the apps' desk.py — each to-do links to the filtered list that shows exactly those
rows, each chart's numbers equal counts computed here independently and each bar links to its list;
nothing is shown as a row of zeros; the query count does not grow with the data."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shegong.access import system_actor
from shegong.archives import services as archive_services
from shegong.org.services import division_update
from shegong.people.models import Worker
from shegong.people.services import worker_update
from shegong.roster.models import ImportJob
from shegong.staffing.compliance import ERROR, evaluate
from shegong.staffing.descriptions import description_draft_save
from tests import factories

COMMAND = system_actor("command")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def desk(client: Client):
    resp = client.get("/")
    assert resp.status_code == 200
    return resp


def todo(resp, label: str):
    return next((t for t in resp.context["todos"] if t.label == label), None)


def chart(resp, key: str):
    return next((c for c in resp.context["charts"] if c.key == key), None)


def listed(client: Client, href: str) -> int:
    """How many rows the list behind a link shows (the worker list, paged)."""
    resp = client.get(href)
    assert resp.status_code == 200, href
    return resp.context["page"].paginator.count


# ---- a worker's own home ----------------------------------------------------------------------------------


def test_worker_home_shows_own_things_and_no_admin_desk(world):
    factories.appoint(world.w1, "普通社工")
    worker = world.users["worker"]
    archive_services.correction_request_create(actor=worker, worker=world.w1, text="出生日期有误")
    decided = archive_services.correction_request_create(actor=worker, worker=world.w1, text="学历应为本科")
    archive_services.correction_request_decide(actor=world.users["community"], request=decided, accept=False,
                                               reason="学历证书与登记一致")
    resp = desk(client_for(worker))
    body = resp.content.decode()
    assert resp.templates[0].name == "shegong/home_own.html"
    for text in ("张三", "东风社区", "测试001街道", "普通社工", "必备材料齐全程度", "出生日期有误", "待处理",
                 "学历证书与登记一致", "未采纳"):
        assert text in body, text
    own = resp.context["own"]
    assert own.percent == 0 and own.completeness.missing  # no archive material yet
    for text in ("我的管辖范围", "空缺", "工作台", "合规", "desk-charts"):
        assert text not in body, text
    assert f'href="/archives/{world.w1.pk}/"' in body and f'href="/archives/{world.w1.pk}/corrections/new/"' in body


def test_account_without_grant_is_told(world):
    body = desk(client_for(world.users["nobody"])).content.decode()
    assert "您还没有被授予任何管辖范围" in body and "工作台" not in body


def test_worker_home_query_count_does_not_grow(world):
    client = client_for(world.users["worker"])
    factories.appoint(world.w1, "普通社工")
    # One record of each: Django skips the attachments' prefetch when there is no record at all.
    archive_services.record_create(actor=COMMAND, worker=world.w1, archive_class=10, title="身份证")
    archive_services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="更正")
    client.get("/")
    with CaptureQueriesContext(connection) as small:
        client.get("/")
    for post in ("网格长", "居委会委员"):
        factories.appoint(world.w1, post)
    for i in range(3):
        archive_services.correction_request_create(actor=world.users["worker"], worker=world.w1, text=f"更正{i}")
        archive_services.record_create(actor=COMMAND, worker=world.w1, archive_class=10, title=f"材料{i}")
    with CaptureQueriesContext(connection) as large:
        client.get("/")
    assert len(large.captured_queries) == len(small.captured_queries) <= 10


# ---- the administrator's to-dos ------------------------------------------------------------------------


def test_pending_corrections_link_to_the_list_that_shows_them(world):
    archive_services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="电话有误")
    client = client_for(world.users["street"])
    item = todo(desk(client), "待处理的更正申请")
    assert item is not None and item.count == 1
    assert item.href == "/archives/corrections/?status=pending"
    assert todo(desk(client), "已采纳待落实的更正申请") is None  # zero: not shown
    page = client.get(item.href)
    assert page.status_code == 200 and "电话有误" in page.content.decode()
    # Outside the request's community the desk has nothing of it; view-only admins decide nothing.
    other = factories.user("street2", "street_admin", "220102002")
    assert todo(desk(client_for(other)), "待处理的更正申请") is None
    assert desk(client_for(world.users["training"])).context["todos"] == []


def test_compliance_errors_count_communities_and_link_to_the_error_findings(world):
    client = client_for(world.users["city"])
    resp = desk(client)
    report = evaluate(actor=world.users["city"])
    with_errors = {f.community for f in report.findings if f.level == ERROR}
    assert with_errors == {world.c1.code, world.c2.code, world.c3.code}  # no 书记 anywhere: 4.2.1
    item = todo(resp, "有合规错误的社区")
    assert item.count == len(with_errors) and item.href == "/compliance/?level=error"
    page = client.get(item.href)
    assert page.context["with_errors"] == item.count
    assert {f.community for f in page.context["list"].page.object_list} == with_errors


def test_drafts_link_to_their_street(world):
    client = client_for(world.users["street"])
    assert todo(desk(client), "未发布的岗位说明书草稿") is None  # zero: not shown
    description_draft_save(actor=COMMAND, street=world.c1.parent, post_type="普通社工", reporting_line="社区党组织书记",
                           requirements=["大专及以上学历"], assessment=["年度考核"])
    item = todo(desk(client), "未发布的岗位说明书草稿")
    assert item.count == 1 and item.href == "/descriptions/220102001/"
    assert "草稿" in client.get(item.href).content.decode()
    # A community reads its street's descriptions but cannot publish them: not its to-do.
    assert todo(desk(client_for(world.users["community"])), "未发布的岗位说明书草稿") is None


def test_import_awaiting_confirmation_links_to_the_job(world):
    user = world.users["city"]
    job = ImportJob.objects.create(user=user, filename="花名册.xlsx", status=ImportJob.Status.VALIDATED)
    ImportJob.objects.create(user=world.users["street"], filename="别人的.xlsx", status=ImportJob.Status.VALIDATED)
    item = todo(desk(client_for(user)), "待确认导入的花名册")
    assert item.count == 1 and item.href == f"/roster/jobs/{job.pk}/"


def test_qualifications_due_link_to_the_reminder(world):
    client = client_for(world.users["city"])
    assert todo(desk(client), "职业资格登记即将到期或已到期") is None
    registered = timezone.localdate().replace(day=1) - dt.timedelta(days=3 * 365 - 20)
    archive_services.record_create(actor=COMMAND, worker=world.w2, kind="qualification", details={
        "level": "助理社会工作师", "certificate_no": "Z1", "obtained_on": "2015-06-20",
        "registered_on": registered.isoformat()})
    item = todo(desk(client), "职业资格登记即将到期或已到期")
    assert item.count == 1 and item.href == "/archives/#due"
    page = client.get("/archives/")
    assert page.context["due_count"] == 1 and "李四" in page.content.decode()


def test_nothing_to_do_shows_no_zero_rows(world):
    factories.community("220102009001", "空社区")
    user = factories.user("empty", "street_admin", "220102009")  # a street with one community and nobody in it
    resp = desk(client_for(user))
    body = resp.content.decode()
    assert [t.label for t in resp.context["todos"]] == ["有合规错误的社区"]  # its community has no 书记
    # No one in post: no team charts of zeros and no density bar; only the compliance errors' chart.
    assert [c.key for c in resp.context["charts"]] == ["clauses"]
    assert 'class="todo-count">0<' not in body
    assert "没有待办事项" in desk(client_for(world.users["training"])).content.decode()  # view only: nothing to do


# ---- the charts ------------------------------------------------------------------------------------------


def team(world) -> list[Worker]:
    """Workers of different ages, education, gender and party membership in the city; one outside it."""
    today = timezone.localdate()
    people = [("甲", 25, "女", "大学本科", "中共党员"), ("乙", 34, "男", "大学专科", "群众"),
              ("丙", 45, "女", "硕士研究生", "中共预备党员"), ("丁", 52, "女", "普通高中", "共青团员"),
              ("戊", 61, "男", "大学本科", "中共党员"), ("己", 29, "女", "", "群众")]
    made = []
    for i, (name, age, gender, education, political) in enumerate(people):
        birth = today.replace(year=today.year - age) - dt.timedelta(days=10 + i)
        made.append(factories.WorkerFactory(name=name, community=[world.c1, world.c2, world.c3][i % 3],
                                            id_number=factories.id_number(birth=birth, gender=gender),
                                            education=education, political_status=political,
                                            work_start_date=None, post_start_date=None))
    left = factories.WorkerFactory(name="庚", community=world.c1, education="大学本科")
    worker_update(actor=COMMAND, worker=left, status="辞职")
    return made


def age_of(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def test_team_charts_equal_independent_counts_and_drill_down(world):
    team(world)
    client = client_for(world.users["city"])
    resp = desk(client)
    today = timezone.localdate()
    active = [w for w in Worker.objects.filter(community__code__startswith="2201", status="在岗")]
    assert len(active) == 9  # 3 of the world + 6

    ages = Counter()
    for w in active:
        a = age_of(w.birth_date, today)
        ages["30岁以下" if a < 30 else "60岁及以上" if a >= 60 else f"{a // 10 * 10}–{a // 10 * 10 + 9}岁"] += 1
    age_chart = chart(resp, "age")
    assert dict(zip([b.label for b in age_chart.bars], [b.value for b in age_chart.bars], strict=True)) == ages

    education = Counter(w.get_education_display() or "未填" for w in active)
    edu_chart = chart(resp, "education")
    assert {b.label: b.value for b in edu_chart.bars} == education
    assert 0 not in [b.value for b in edu_chart.bars]  # categories without anyone are left out

    assert {b.label: b.value for b in chart(resp, "gender").bars} == Counter(w.gender for w in active)
    party = sum(1 for w in active if w.political_status in ("01", "02"))
    assert {b.label: b.value for b in chart(resp, "party").bars} == {"中共党员(含预备)": party, "其他": 9 - party}

    # Every bar opens the worker list filtered to exactly its people.
    for key in ("age", "education", "gender", "party"):
        for bar in chart(resp, key).bars:
            assert listed(client, bar.href) == bar.value, (key, bar)


def test_qualification_rate_and_archive_completeness(world):
    archive_services.record_create(actor=COMMAND, worker=world.w1, kind="qualification", details={
        "level": "社会工作师", "certificate_no": "S9", "obtained_on": "2020-06-01", "registered_on": "2020-08-01"})
    client = client_for(world.users["city"])
    resp = desk(client)
    bars = {b.label: b for b in chart(resp, "qualification").bars}
    assert bars["持证"].value == 1 and bars["未持证"].value == 2
    assert listed(client, bars["持证"].href) == 1 and listed(client, bars["未持证"].href) == 2
    completeness = chart(resp, "completeness")
    assert completeness.bars[0].label == "全部齐全" and completeness.bars[0].value == 0
    assert completeness.unit == "%" and all(b.href == "/archives/" for b in completeness.bars)


def test_density_against_the_national_target(world):
    for community, residents in ((world.c1, 5000), (world.c2, 5000), (world.c3, 10000)):
        division_update(actor=COMMAND, division=community, resident_population=residents)
    factories.community("220103001001", "无数据社区", households=None)  # a district without data
    client = client_for(world.users["city"])
    density = chart(desk(client), "density")
    assert density.target == 18 and "国办发〔2021〕56号" in density.note
    # The city's districts: 220102 has 3 full-time workers for 20,000 residents; 220103 no data: no bar.
    assert [b.value for b in density.bars] == [1.5]
    assert listed(client, density.bars[0].href) == 3
    street = chart(desk(client_for(world.users["street"])), "density")  # a street: its communities
    assert [b.value for b in street.bars] == [2.0, 2.0]


def test_compliance_chart_by_clause_links_to_the_findings(world):
    client = client_for(world.users["city"])
    resp = desk(client)
    report = evaluate(actor=world.users["city"])
    expected = Counter(f.clause for f in report.findings if f.level == ERROR)
    clauses = chart(resp, "clauses")
    assert {b.label: b.value for b in clauses.bars} == expected
    for bar in clauses.bars:
        page = client.get(bar.href)
        assert page.context["filtered"] == bar.value, bar


def test_chart_data_is_in_data_attributes_and_no_inline_script(world):
    body = desk(client_for(world.users["city"])).content.decode()
    data = [json.loads(html.unescape(raw)) for raw in re.findall(r'<div class="chart" data-chart="([^"]*)"', body)]
    assert {c["key"] for c in data} >= {"age", "education", "gender", "party", "clauses"}
    age = next(c for c in data if c["key"] == "age")
    assert len(age["labels"]) == len(age["values"]) == len(age["links"]) and age["links"][0].startswith("/workers/?")
    for tag in re.findall(r"<script[^>]*>", body):
        assert 'src="/static/' in tag, tag
    assert "/static/shegong/vendor/echarts.min.js" in body and "/static/shegong/desk.js" in body


@pytest.mark.parametrize("role", ["province", "city", "street", "community", "training"])
def test_every_admin_role_gets_a_desk(world, role):
    resp = desk(client_for(world.users[role]))
    assert resp.templates[0].name == "shegong/home_desk.html"
    assert "我的管辖范围" not in resp.content.decode()
