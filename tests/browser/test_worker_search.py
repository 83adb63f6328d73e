"""A user logs in, searches a worker by full ID number and by name, and opens the worker page."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_search_and_open_worker(page, live_server):
    c1 = factories.community("220102001001", "东风社区")
    other = factories.community("220102002001", "春光社区")
    id_number = factories.id_number("220102")
    target = factories.WorkerFactory(name="欧阳晓明", id_number=id_number, community=c1)
    factories.appoint(target, "书记")
    factories.WorkerFactory(name="欧阳不在", community=other)  # outside the street admin's scope
    factories.user("jd", "street_admin", "220102001")

    login(page, live_server, "jd")
    assert page.locator("h1").first.inner_text().startswith("概览")

    # Search by the full ID number (lower-case x would be accepted too): exactly one row.
    page.get_by_role("link", name="社区工作者", exact=True).click()
    page.wait_for_url(f"{live_server.url}/workers/")
    page.fill("input[name=q]", id_number)
    page.click("button:has-text('筛选')")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "欧阳晓明" in rows.first.inner_text()
    assert id_number not in page.content()  # masked in the list

    # Search by name: the out-of-scope namesake is not listed.
    page.fill("input[name=q]", "欧阳")
    page.click("button:has-text('筛选')")
    text = page.locator("table tbody").inner_text()
    assert "欧阳晓明" in text and "欧阳不在" not in text

    page.click("text=欧阳晓明")
    page.wait_for_url(f"{live_server.url}/workers/{target.pk}/")
    body = page.locator("main").inner_text()
    assert "东风社区" in body and "党组织书记" in body
    masked = page.locator("#id-number").inner_text()
    assert "********" in masked and id_number not in page.content()

    # Reveal the number (htmx POST); it is logged.
    page.click("#id-number + button")
    page.wait_for_function("document.querySelector('#id-number').innerText.indexOf('*') === -1")
    assert page.locator("#id-number").inner_text().strip() == id_number
    from shegong.common.models import AccessLog

    assert AccessLog.objects.filter(object_id=str(target.pk), action="reveal_id_number").count() == 1
    page.screenshot(path="test-results/worker-page.png", full_page=True)
