"""The archive in a browser (8.1.2): a community admin opens a worker's archive, sees what is missing,
uploads a real PNG scan through the file input, sees it listed and downloads the same bytes; the worker
then signs in and finds that download in the access log of their own archive."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shegong.access import system_actor
from shegong.archives import services
from shegong.archives.models import Attachment
from tests import factories
from tests.browser.helpers import login
from tests.files import png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def upload_root(settings, tmp_path):
    settings.UPLOAD_ROOT = str(tmp_path / "uploads")


def test_admin_uploads_and_downloads_a_scan_and_the_worker_sees_the_log(page, live_server, tmp_path):
    c1 = factories.community("220102001001", "东风社区")
    target = factories.WorkerFactory(name="欧阳晓明", community=c1)
    factories.appoint(target, "书记", start=dt.date(2021, 1, 5))
    id_card = services.record_create(actor=system_actor("command"), worker=target, title="居民身份证复印件", archive_class=10,
                                     required_item="id_card", issuer="长春市公安局南关分局")
    services.record_create(actor=system_actor("command"), worker=target, kind="education", required_item="highest_diploma",
                           details={"school": "吉林大学", "major": "社会工作", "level": "本科", "degree": "学士",
                                    "start_date": "2004-09-01", "end_date": "2008-07-01"})
    wrong = services.record_create(actor=system_actor("command"), worker=target, title="社区工作者登记表(旧)", archive_class=1)
    services.record_void(actor=system_actor("command"), record=wrong, reason="信息有误,已重新填写")
    factories.user("sq", "community_admin", c1.code)
    factories.user("sg", "worker", c1.code, worker=target)
    scan = png()
    scan_path = tmp_path / "身份证正反面.png"
    scan_path.write_bytes(scan)

    login(page, live_server, "sq")
    page.get_by_role("link", name="人事档案", exact=True).click()
    page.wait_for_url(f"{live_server.url}/archives/")
    page.click("text=欧阳晓明")
    page.wait_for_url(f"{live_server.url}/archives/{target.pk}/")

    # What is missing: every required item but the diploma record lacks a scan; the ID card record too.
    panel = page.locator("#completeness")
    assert panel.locator(".tag.red").count() == 6
    assert "居民身份证复印件" in panel.inner_text() and "缺扫描件" in panel.inner_text()
    assert page.locator(".stat .value").first.inner_text() == "0%"

    # Upload through the file input of the ID card's row.
    row = page.locator(f"#r{id_card.pk}")
    row.locator("summary:has-text('上传')").click()
    row.locator("input[type=file]").set_input_files(str(scan_path))
    row.locator("button[type=submit]:has-text('上传')").click()
    page.wait_for_url(f"{live_server.url}/archives/{target.pk}/#r{id_card.pk}")
    assert "已上传“身份证正反面.png”" in page.locator(".messages").inner_text()
    row = page.locator(f"#r{id_card.pk}")
    assert "身份证正反面.png" in row.inner_text()
    assert page.locator("#completeness .tag.green").count() == 1
    page.screenshot(path="test-results/archive-page.png", full_page=True)

    # Download it: the same bytes.
    with page.expect_download() as info:
        row.locator("a:has-text('身份证正反面.png')").click()
    download = info.value
    assert download.suggested_filename == "身份证正反面.png"
    assert Path(download.path()).read_bytes() == scan
    assert Attachment.objects.get().sha256

    # The worker signs in and sees the download in their own access log.
    page.click("button:has-text('退出')")
    page.wait_for_url(f"{live_server.url}/login/")
    login(page, live_server, "sg")
    page.get_by_role("navigation").get_by_role("link", name="我的档案", exact=True).click()
    page.wait_for_url(f"{live_server.url}/archives/{target.pk}/")
    assert "身份证正反面.png" in page.locator("#catalogue").inner_text()
    assert page.locator("text=增加材料").count() == 0
    page.get_by_role("link", name="访问记录", exact=True).click()
    page.wait_for_url(f"{live_server.url}/archives/{target.pk}/access-log/")
    log = page.locator("#access-log tbody")
    downloads = log.locator("tr", has_text="下载档案附件")
    assert downloads.count() == 1
    assert "sq" in downloads.inner_text() and "身份证正反面.png" in downloads.inner_text()
    assert log.locator("tr", has_text="打开完整档案").count() >= 2  # the admin's opening and the worker's own
    page.screenshot(path="test-results/archive-access-log.png", full_page=True)
