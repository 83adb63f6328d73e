"""The upload page in chromium: a broken workbook is rejected with every error listed and a marked
copy to download; a good one is validated, confirmed and imported."""

from __future__ import annotations

import io

import openpyxl
import pytest

from shegong.people.models import Worker
from tests import factories
from tests.browser.helpers import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _workbook(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["南关区自强街道社区工作者花名册"])
    ws.merge_cells("A1:F1")
    ws.append(["姓名", "公民身份号码", "民族", "学历", "人员类别", "所在社区代码"])
    for row in rows:
        ws.append(row)
    wb.save(path)


def test_upload_reject_then_import(page, live_server, tmp_path):
    factories.community("220102001001", "东风社区")
    factories.user("jd", "street_admin", "220102001")
    good1, good2 = factories.id_number(), factories.id_number()
    bad = good2[:17] + ("0" if good2[-1] != "0" else "1")

    login(page, live_server, "jd")
    page.get_by_role("link", name="花名册导入导出").click()

    broken = tmp_path / "花名册-有错.xlsx"
    _workbook(broken, [["甲", good1, "汉", "本科", "专职", "220102001001"],
                       ["乙", bad, "火星", "本科", "专职", "220102001001"]])
    page.set_input_files("input[type=file]", str(broken))
    page.click("button:has-text('上传并校验')")
    page.wait_for_selector("#errors")
    assert "有错误" in page.locator("#job-status").inner_text()
    rows = page.locator("#errors tbody tr")
    assert rows.count() == 2
    text = page.locator("#errors").inner_text()
    assert "校验码错误" in text and "火星" in text and "\t4\t" in text  # Excel row 4 (title + header above)
    assert Worker.objects.count() == 0

    with page.expect_download() as info:
        page.click("#marked")
    marked = openpyxl.load_workbook(io.BytesIO(info.value.path().read_bytes()))
    cell = marked["人员"]["B4"]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE") and "校验码" in cell.comment.text

    fixed = tmp_path / "花名册.xlsx"
    _workbook(fixed, [["甲", good1, "汉", "本科", "专职", "220102001001"],
                      ["乙", good2, "朝鲜", "大专", "专职", "220102001001"]])
    page.get_by_role("link", name="花名册导入导出").first.click()
    page.set_input_files("input[type=file]", str(fixed))
    page.click("button:has-text('上传并校验')")
    page.wait_for_selector("#commit")
    assert "校验通过" in page.locator("#job-status").inner_text()
    assert Worker.objects.count() == 0  # the dry run wrote nothing
    page.click("#commit")
    page.wait_for_function("document.querySelector('#job-status').innerText.indexOf('已导入') >= 0")
    counts = page.locator("#counts").inner_text()
    assert "2" in counts
    assert set(Worker.objects.values_list("name", flat=True)) == {"甲", "乙"}
    page.screenshot(path="test-results/roster-imported.png", full_page=True)
