"""The printed archive documents (8.1.2): 档案目录 and 社区工作者信息表 as PDFs, their scope and their log."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

import config.urls
from shegong.access import Actor, system_actor
from shegong.archives import documents, services
from shegong.archives.models import ArchiveRecord
from shegong.common.models import AccessLog
from shegong.people.models import Worker
from tests import factories
from tests.files import png

urlpatterns = config.urls.urlpatterns  # the documents are in archives/urls.py now
handler403, handler404 = config.urls.handler403, config.urls.handler404
pytestmark = pytest.mark.urls(__name__)

ID_NUMBER = factories.id_number("220102", dt.date(1986, 4, 9), "女")
# One record title per class, in catalogue order (class 9 also holds the appointment from staffing).
CLASS_TITLES = {
    2: "自传材料", 3: "2022年度考核登记表", 5: "政审材料", 6: "入党志愿书", 9: "社区工作者聘用合同", 10: "近期免冠照片",
}
ORGANISATIONS = ["长春市朝阳区红旗街道办事处", "长春市朝阳区红旗街道东风社区居民委员会", "吉林省长春市南关区民康街道幸福社区党委",
                 "长春市朝阳区社会工作服务中心(民办非企业单位)", "长春市宽城区团山街道春光社区居民委员会"]


@pytest.fixture(autouse=True)
def own_upload_root(settings: Any, tmp_path: Any) -> None:
    """Scans go to this test's own directory, not the session's shared one other tests count files in."""
    settings.UPLOAD_ROOT = str(tmp_path / "uploads")


def pdf(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() or "" for page in reader.pages)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def client_for(world: Any, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def fill(worker: Worker, actor: Actor, *, work_rows: int = 15, photo: bool = True) -> dict[str, Any]:
    """A full archive through the services: a document in every class, education (full-time and
    in-service), `work_rows` jobs, a qualification, a reward, a sanction, a photo with a PNG scan, a
    voided record, and the 书记 appointment in staffing."""
    create = services.record_create
    out: dict[str, Any] = {}
    for n, title in CLASS_TITLES.items():
        if n != 10:
            create(actor=actor, worker=worker, archive_class=n, title=title, date="2022-01-10", issuer="东风社区")
    create(actor=actor, worker=worker, kind="education", issuer="吉林大学",
           details={"school": "吉林大学", "major": "社会工作", "level": "本科", "degree": "法学学士",
                    "full_time": True, "start_date": "2004-09-01", "end_date": "2008-07-01"})
    create(actor=actor, worker=worker, kind="education", issuer="东北师范大学",
           details={"school": "东北师范大学", "major": "公共管理", "level": "硕士", "degree": "公共管理硕士",
                    "full_time": False, "start_date": "2015-09-01", "end_date": "2018-06-30"})
    out["work"] = []
    for i in range(work_rows):
        start = dt.date(2008, 7, 1) + dt.timedelta(days=365 * i)
        end = None if i == work_rows - 1 else dt.date(2008, 7, 1) + dt.timedelta(days=365 * (i + 1) - 20)
        org = ORGANISATIONS[i % len(ORGANISATIONS)]
        position = ["社区工作者", "网格员兼党建专干", "居委会委员", "党组织副书记、居委会副主任"][i % 4]
        create(actor=actor, worker=worker, kind="work",
               details={"organisation": org, "position": position, "start_date": start, "end_date": end})
        out["work"].append((start, end, org, position))
    create(actor=actor, worker=worker, kind="qualification", issuer="人力资源和社会保障部",
           details={"level": "社会工作师", "certificate_no": "SW2019220100123", "obtained_on": "2019-06-15",
                    "registered_on": "2019-09-01"})
    create(actor=actor, worker=worker, kind="reward", date="2020-12-20", issuer="长春市民政局",
           details={"name": "优秀社区工作者", "level": "市级"})
    create(actor=actor, worker=worker, kind="sanction", issuer="红旗街道党工委",
           details={"sanction_type": "警告", "start_date": "2021-03-01"})
    wrong = create(actor=actor, worker=worker, archive_class=3, title="重复的考核表", date="2022-01-11")
    services.record_void(actor=actor, record=wrong, reason="重复录入")
    if photo:
        record = create(actor=actor, worker=worker, archive_class=10, title=CLASS_TITLES[10], date="2023-05-01",
                        required_item="photo")
        services.attachment_add(actor=actor, record=record, name="photo.png", data=png())
    factories.appoint(worker, "书记")
    return out


@pytest.fixture
def person(world) -> Worker:
    worker = factories.WorkerFactory(name="陈晓梅", community=world.c1, id_number=ID_NUMBER, gender="女")
    fill(worker, world.users["community"])
    return worker


def url(worker: Worker, kind: str) -> str:
    return f"/archives/{worker.pk}/{kind}.pdf"


# ---- 档案目录 ------------------------------------------------------------------------------------------


def test_catalogue_lists_every_class_in_order_with_the_appointment_in_class_9(world, person):
    reader, text = pdf(documents.catalogue_pdf(worker=person))
    flat = squash(text)
    assert "陈晓梅档案目录" in flat
    headings = [f"第{n}类" for n in "一二三四五六七八九十"]
    positions = [flat.index(h) for h in headings]
    assert positions == sorted(positions)
    expected = [
        (1, "长春市朝阳区红旗街道办事处社区工作者工作经历"),
        (2, CLASS_TITLES[2]), (3, CLASS_TITLES[3]), (4, "吉林大学社会工作学历证书"),
        (4, "社会工作师职业水平证书"), (5, CLASS_TITLES[5]), (6, CLASS_TITLES[6]), (7, "优秀社区工作者"),
        (8, "警告处分决定"), (9, "任东风社区党组织书记(选举)"), (9, CLASS_TITLES[9]), (10, CLASS_TITLES[10]),
    ]
    last = -1
    for n, title in expected:
        at = flat.index(squash(title), last + 1)
        assert positions[n - 1] < at, (n, title)
        if n < 10:
            assert at < positions[n], (n, title)
        last = at
    # The voided record stays, marked, with its reason; page numbers and the printed date.
    assert "重复的考核表" in flat and "作废:重复录入" in flat
    assert f"第1页共{len(reader.pages)}页" in flat
    assert "打印日期" in flat and "2023.05.01" in flat


def test_catalogue_of_an_empty_archive_lists_the_ten_classes(world):
    _, text = pdf(documents.catalogue_pdf(worker=world.w2))
    assert squash(text).count("本类暂无材料") == 10


# ---- 社区工作者信息表 ----------------------------------------------------------------------------------


def test_info_form_is_one_page_with_every_section(world, person):
    data = documents.info_form_pdf(worker=person)
    reader, text = pdf(data)
    flat = squash(text)
    assert len(reader.pages) == 1
    for needle in ["社区工作者信息表", "陈晓梅", "女", "中共党员", "汉族", "2008.07", person.id_number_masked,
                   "吉林大学社会工作", "大学本科", "东北师范大学公共管理", "硕士研究生", "社会工作师", "SW2019220100123",
                   "登记有效期至2022.09.01", "优秀社区工作者", "长春市民政局", "受警告处分", "处分期2021.03.01—2021.08.31",
                   "东风社区党组织书记(2021.01起,选举)", "东风社区"]:
        assert squash(needle) in flat, needle
    # The résumé: every job, in date order, "2008.07—2009.06 单位 职务".
    last = -1
    for start, end, org, position in fill_rows(person):
        line = squash(f"{start:%Y.%m}—{end:%Y.%m}" if end else f"{start:%Y.%m}—") + squash(org)
        at = flat.index(line, last + 1)
        assert squash(position) in flat[at: at + 80]
        last = at
    assert "更早的" not in flat                      # 15 rows fit without leaving any out


def fill_rows(worker: Worker) -> list[tuple[dt.date, dt.date | None, str, str]]:
    records = ArchiveRecord.objects.filter(worker=worker, kind="work").select_related("work")
    return sorted((r.work.start_date, r.work.end_date, r.work.organisation, r.work.position) for r in records)


def test_info_form_embeds_the_photo(world, person):
    reader, _ = pdf(documents.info_form_pdf(worker=person))
    images = reader.pages[0].images
    assert len(images) == 1 and images[0].image is not None
    assert images[0].image.size == (24, 32)          # a small scan is never enlarged
    assert images[0].name.endswith(".jpg")           # the print rendition (a JPEG), not the PNG scan


def test_info_form_without_photo_or_with_a_voided_one_shows_the_empty_box(world):
    worker = world.w2
    record = services.record_create(actor=system_actor("command"), worker=worker, archive_class=10, title="照片", required_item="photo")
    services.attachment_add(actor=system_actor("command"), record=record, name="p.png", data=png())
    services.record_void(actor=system_actor("command"), record=record, reason="照片不合格")
    reader, text = pdf(documents.info_form_pdf(worker=worker))
    assert not reader.pages[0].images and "照片" in squash(text)
    assert "无" in text and "档案中尚无工作经历" in squash(text)


def test_info_form_stays_on_one_page_whatever_the_length_of_the_data(world):
    worker = factories.WorkerFactory(name="阿卜杜热合曼·买买提艾力·吐尔逊巴克", community=world.c1)
    fill(worker, system_actor("command"), work_rows=15, photo=False)
    for i in range(12):
        services.record_create(actor=system_actor("command"), worker=worker, kind="work", details={
            "organisation": "吉林省长春市朝阳区红旗街道办事处东风社区党群服务中心暨新时代文明实践站" * 2,
            "position": f"第{i}网格网格长兼综合治理专干", "start_date": dt.date(1990 + i, 1, 1),
            "end_date": dt.date(1990 + i, 12, 1)})
    services.record_create(actor=system_actor("command"), worker=worker, kind="education", details={
        "school": "吉林省长春市某某职业技术学院继续教育学院函授站(长春市朝阳区教学点)", "level": "大专",
        "major": "社会工作与管理(社区服务与管理方向)", "degree": "无", "full_time": False})
    for i in range(40):
        services.record_create(actor=system_actor("command"), worker=worker, kind="reward", date=dt.date(2000 + i % 20, 1, 1),
                               details={"name": f"第{i}届长春市社区服务标兵暨优秀网格员称号(表彰决定附件)",
                                        "level": "市级"})
    form = documents.info_form(worker=worker)
    assert form.name.font_pt < documents.FONT_SIZES[0]
    assert form.resume.omitted > 0 and form.honours.omitted > 0
    reader, text = pdf(documents.info_form_pdf(worker=worker))
    assert len(reader.pages) == 1
    flat = squash(text)
    assert f"更早的{form.resume.omitted}段工作经历从略" in flat
    assert f"更早的{form.honours.omitted}项奖惩从略" in flat
    assert "2022.06—长春市宽城区团山街道春光社区居民委员会" in flat    # the newest job is kept


def test_info_form_of_fifteen_jobs_keeps_them_all_at_a_readable_size(world, person):
    form = documents.info_form(worker=person)
    assert len(form.resume.lines) == 15 and form.resume.omitted == 0 and form.resume.font_pt >= 9


def test_fit_lines_shrinks_then_leaves_out_the_oldest():
    line = documents.Line("2008.07—2012.05", "长春市朝阳区红旗街道东风社区居民委员会 社区工作者")
    short = documents.fit_lines([line] * 3, height_mm=100, date_em=9)
    assert short.font_pt == documents.FONT_SIZES[0] and short.omitted == 0
    many = documents.fit_lines([line] * 24, height_mm=100, date_em=9)
    assert documents.FONT_SIZES[-1] <= many.font_pt < short.font_pt and many.omitted == 0
    too_many = documents.fit_lines([line] * 200, height_mm=100, date_em=9, overflow="略 {n}")
    assert too_many.omitted > 0 and too_many.note == f"略 {too_many.omitted}"
    assert too_many.lines == [line] * (200 - too_many.omitted)


# ---- views: scope, log, filename ------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "title"), [("catalogue", "档案目录"), ("info-form", "社区工作者信息表")])
def test_download_is_logged_and_never_shows_the_full_id_number(world, person, kind, title):
    client = client_for(world, "street")
    for n in (1, 2):
        response = client.get(url(person, kind), REMOTE_ADDR="10.1.2.3")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline")
        assert response["Cache-Control"] == "private, no-store"  # personal data: never cached
        assert "filename*=utf-8''" in response["Content-Disposition"]
        assert "%E9%99%88%E6%99%93%E6%A2%85_" in response["Content-Disposition"]   # 陈晓梅_
        _, text = pdf(response.content)
        assert ID_NUMBER not in squash(text) and ID_NUMBER.encode() not in response.content
        assert person.id_number_masked in squash(text) or kind == "catalogue"
        logs = AccessLog.objects.filter(action="archive_print", worker=person)
        assert logs.count() == n
    log = logs.latest("id")
    assert log.user == world.users["street"] and log.ip == "10.1.2.3" and title in log.object_label


@pytest.mark.parametrize("kind", ["catalogue", "info-form"])
@pytest.mark.parametrize("role", ["nobody", "training"])
def test_out_of_scope_answers_404_and_logs_nothing(world, person, kind, role):
    other = factories.WorkerFactory(name="外地人", community=world.other)
    for worker in (person, other) if role == "nobody" else (other,):
        assert client_for(world, role).get(url(worker, kind)).status_code == 404
    assert not AccessLog.objects.filter(action="archive_print").exists()


@pytest.mark.parametrize("kind", ["catalogue", "info-form"])
def test_worker_sees_their_own_documents_only(world, kind):
    client = client_for(world, "worker")
    assert client.get(url(world.w2, kind)).status_code == 404
    response = client.get(url(world.w1, kind))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert list(AccessLog.objects.filter(action="archive_print").values_list("worker", "user")) == [
        (world.w1.pk, world.users["worker"].pk)]


def test_anonymous_is_sent_to_log_in(world):
    response = Client().get(url(world.w1, "catalogue"))
    assert response.status_code == 302 and not AccessLog.objects.exists()


def test_without_the_pdf_libraries_answers_503_and_logs_nothing(world, monkeypatch):
    from shegong.common.pdf import PDF_UNAVAILABLE, PdfUnavailable

    def unavailable(*args: Any, **kwargs: Any) -> bytes:
        raise PdfUnavailable(PDF_UNAVAILABLE)

    monkeypatch.setattr(documents, "render_pdf", unavailable)
    response = client_for(world, "community").get(url(world.w1, "info-form"))
    assert response.status_code == 503 and "libpango" in response.content.decode()
    assert response["Content-Type"].startswith("text/plain")
    assert not AccessLog.objects.filter(action="archive_print").exists()
