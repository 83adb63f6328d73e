"""In a real browser: a district admin finds a community's staffing problems and exports them; a street
admin writes a post description, publishes it, and the worker page links to it with its PDF."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests import factories
from tests.browser.helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_district_admin_finds_and_exports_problems(page, live_server):
    c1 = factories.community("220102001001", "东风社区", households=2500, party_org_type="党总支")
    factories.community("220102002001", "春光社区", households=None)
    for _ in range(3):
        factories.appoint(factories.WorkerFactory(community=c1), "居委会副主任")
    factories.user("qz", "civil_affairs", "220102")

    login(page, live_server, "qz")
    page.get_by_role("link", name="合规检查", exact=True).click()
    page.wait_for_url(f"{live_server.url}/compliance/")
    assert "岗位设置合规检查" in page.locator("h1").inner_text()
    findings = page.locator("#findings tbody")
    assert "居委会副主任 3 名,应为 1–2 名" in findings.inner_text()
    assert "户数未填写" in findings.inner_text()

    page.select_option("select[name=clause]", "4.3.2")
    page.click("#filters button:has-text('筛选')")
    page.wait_for_url("**clause=4.3.2**")
    rows = page.locator("#findings tbody tr")
    # 4.3.2 in each community: committee size, 主任, 副主任 (three in 东风社区, none in 春光社区).
    assert rows.count() == 6
    assert all(row.locator("td").nth(1).inner_text() == "4.3.2" for row in rows.all())
    assert "户数未填写" not in page.locator("#findings tbody").inner_text()

    with page.expect_download() as info:
        page.click("text=导出 Excel")
    with open(info.value.path(), "rb") as fh:  # a temporary name without the .xlsx suffix
        sheet = load_workbook(io.BytesIO(fh.read()))["问题清单"]
    clauses = {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert clauses == {"4.3.2"}


def test_street_admin_publishes_a_description_that_the_worker_page_links(page, live_server):
    c1 = factories.community("220102001001", "东风社区")
    worker = factories.WorkerFactory(name="林晓", community=c1)
    factories.appoint(worker, "网格长", method="兼任")
    factories.user("jd", "street_admin", "220102001")

    login(page, live_server, "jd")
    page.goto(f"{live_server.url}/descriptions/220102001/grid_leader/edit/")
    page.fill("textarea[name=added_duties]", "每周巡查网格内的老旧楼院不少于两次。")
    page.click("button:has-text('保存并发布')")
    page.wait_for_url(f"{live_server.url}/descriptions/220102001/grid_leader/**")
    body = page.locator("main").inner_text()
    assert "每周巡查网格内的老旧楼院不少于两次" in body and "6.7.1" in body

    page.goto(f"{live_server.url}/workers/{worker.pk}/")
    page.click("a:has-text('v1')")
    page.wait_for_url(f"{live_server.url}/descriptions/220102001/grid_leader/")
    pdf = page.request.get(f"{live_server.url}/descriptions/220102001/grid_leader.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.body())).pages).replace("\n", "")
    assert "网格长" in text and "每周巡查网格内的老旧楼院不少于两次" in text
