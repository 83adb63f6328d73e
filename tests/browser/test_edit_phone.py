"""Issue 9 in a real browser: a community admin changes only a worker's phone, in Chinese; 参加工作日期 and
社工岗入职日期 stay as they were. (The edit form rendered value="2012/07/01" in zh-hans, which a date input
shows empty and submits empty.)"""

from __future__ import annotations

import datetime as dt

import pytest

from shegong.common.crypto import decrypt
from shegong.people.models import Worker
from tests import factories
from tests.browser.helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editing_only_the_phone_keeps_both_dates(page, live_server):
    c1 = factories.community("220102001001", "东风社区")
    worker = factories.WorkerFactory(name="欧阳晓明", community=c1, phone="13900000001",
                                     work_start_date=dt.date(2012, 7, 1), post_start_date=dt.date(2016, 3, 15))
    factories.user("sq", "community_admin", c1.code)

    login(page, live_server, "sq")
    page.goto(f"{live_server.url}/workers/{worker.pk}/edit/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    # The browser shows the stored dates (an input that rejected its value would read "").
    assert page.input_value("#id_work_start_date") == "2012-07-01"
    assert page.input_value("#id_post_start_date") == "2016-03-15"

    page.fill("#id_phone", "13912345678")
    page.click("button[type=submit]:has-text('保存')")
    page.wait_for_url(f"{live_server.url}/workers/{worker.pk}/")
    assert "已保存" in page.locator(".messages").inner_text()

    worker = Worker.objects.get(pk=worker.pk)
    assert decrypt(worker.phone_encrypted) == "13912345678"
    assert worker.work_start_date == dt.date(2012, 7, 1)
    assert worker.post_start_date == dt.date(2016, 3, 15)
    latest = worker.history.order_by("-history_id").first()
    assert latest.history_change_reason == "网页修改" and latest.work_start_date == dt.date(2012, 7, 1)
    page.screenshot(path="test-results/edit-phone.png", full_page=True)
