"""Issue 11, "done when": a worker on a 390-px phone reads their archive and files a correction request
(个人信息保护法 第四十六条; the archive is 8.1.2) — end to end in chromium, as a phone (touch, 390×844)."""

from __future__ import annotations

import datetime as dt

import pytest

from shegong.access import system_actor
from shegong.archives import services
from shegong.archives.models import CorrectionRequest
from tests import factories
from tests.browser.helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                                  locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def no_sideways_scroll(page) -> None:
    width, inner = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}: the page scrolls sideways at 390 px ({width} > {inner})"


def test_a_worker_reads_their_archive_and_files_a_correction_on_a_phone(phone, live_server):
    c1 = factories.community("220102001001", "东风社区")
    me = factories.WorkerFactory(name="欧阳晓明", community=c1)
    factories.appoint(me, "普通社工", start=dt.date(2021, 1, 5))
    command = system_actor("command")
    services.record_create(actor=command, worker=me, kind="education", required_item="highest_diploma",
                           details={"school": "吉林大学", "major": "社会工作", "level": "本科", "degree": "学士",
                                    "start_date": "2004-09-01", "end_date": "2008-07-01"})
    wrong = services.record_create(actor=command, worker=me, title="社区工作者登记表", archive_class=1)
    factories.user("sg", "worker", c1.code, worker=me)

    login(phone, live_server, "sg")
    no_sideways_scroll(phone)
    # The menu strip of the phone layout leads to the worker's own archive.
    phone.get_by_role("navigation").get_by_role("link", name="我的档案", exact=True).click()
    phone.wait_for_url(f"{live_server.url}/archives/{me.pk}/")
    no_sideways_scroll(phone)
    assert "欧阳晓明" in phone.locator("h1").first.inner_text()
    catalogue = phone.locator("#catalogue")
    assert "社区工作者登记表" in catalogue.inner_text() and "吉林大学" in phone.content()
    # Readable on a phone: the catalogue is not squeezed to a column of single characters.
    assert catalogue.bounding_box()["width"] >= 300
    phone.screenshot(path="test-results/phone-archive.png", full_page=True)

    # File a correction about one record, with the phone's keyboard.
    form = phone.locator("#corrections form").first
    form.locator("textarea[name=text]").fill("登记表中的参加工作时间应为2008年7月,不是2009年7月")
    form.locator("select[name=record]").select_option(str(wrong.pk))
    box = form.locator("button[type=submit]").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "the submit button is off the screen"
    form.locator("button[type=submit]").tap()
    phone.wait_for_url(f"{live_server.url}/archives/{me.pk}/#corrections")
    assert "已提交更正申请" in phone.locator(".messages").inner_text()
    no_sideways_scroll(phone)

    request = CorrectionRequest.objects.get(worker=me)
    assert request.status == CorrectionRequest.Status.PENDING and request.record_id == wrong.pk
    assert request.requested_by.username == "sg"
    row = phone.locator("#corrections tbody tr").first
    assert "2008年7月" in row.inner_text() and "待处理" in row.inner_text()
    phone.screenshot(path="test-results/phone-correction.png", full_page=True)
