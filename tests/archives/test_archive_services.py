"""The archive of clause 8.1.2 through its services and selectors: every record kind, attachments checked
by content, voiding, transfers and scope, read-only after leaving, the access log, corrections."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from shegong.access import Forbidden, system_actor
from shegong.archives import selectors, services, storage
from shegong.archives.models import ArchiveRecord, Attachment, Transfer, attachment_path
from shegong.common.errors import ApplicationError
from shegong.common.models import AccessLog
from shegong.people.services import worker_reveal, worker_update
from shegong.staffing.services import appointment_end
from tests import factories
from tests.files import JPEG, PDF, png


def doc(world, **kw) -> ArchiveRecord:
    data = {"archive_class": 10, "title": "居民身份证复印件", "date": "2020-05-01", "issuer": "东风社区"} | kw
    return services.record_create(actor=world.users["community"], worker=world.w1, **data)


# ---- records of every kind ---------------------------------------------------------------------------

def test_every_structured_kind(world):
    admin, w = world.users["community"], world.w1
    edu = services.record_create(actor=admin, worker=w, kind="education", details={
        "school": "吉林大学", "major": "社会工作", "level": "本科", "degree": "法学学士", "full_time": True,
        "start_date": "2004-09-01", "end_date": "2008-07-01"})
    assert (edu.archive_class, edu.date, edu.education.level, edu.education.full_time) == (
        4, dt.date(2008, 7, 1), "21", True)
    assert edu.title == "吉林大学 社会工作 学历证书"
    work = services.record_create(actor=admin, worker=w, kind="work", details={
        "organisation": "长春市南关区自强街道东风社区", "position": "社区工作者", "start_date": "2012-03-01"})
    assert (work.archive_class, work.date, work.work.end_date) == (1, dt.date(2012, 3, 1), None)
    qual = services.record_create(actor=admin, worker=w, kind="qualification", details={
        "level": "助理社会工作师", "certificate_no": "Z2019220100123", "obtained_on": "2019-06-20",
        "registered_on": "2024-01-10", "hours_done": 30})
    status = selectors.qualification_status(qual.qualification, dt.date(2026, 11, 29))
    assert (status.expires_on, status.hours_owed, status.hours_done) == (dt.date(2027, 1, 10), 72, 30)
    assert status.days_left == 42 and "还需继续教育 42 学时" in status.warning
    assert selectors.qualification_status(qual.qualification, dt.date(2026, 11, 10)).warning == ""  # 61 days out
    assert "剩 60 天" in selectors.qualification_status(qual.qualification, dt.date(2026, 11, 11)).warning
    assert "已于 2027-01-10 到期" in selectors.qualification_status(qual.qualification, dt.date(2027, 1, 11)).warning
    senior = services.record_create(actor=admin, worker=w, kind="qualification", details={
        "level": "社会工作师", "certificate_no": "S1", "obtained_on": "2021-06-01", "registered_on": "2021-08-01"})
    assert selectors.qualification_status(senior.qualification).hours_owed == 90
    reward = services.record_create(actor=admin, worker=w, kind="reward", date="2023-12-30", issuer="南关区民政局",
                                    details={"name": "优秀社区工作者", "level": "区级"})
    assert (reward.archive_class, reward.title, reward.reward.level) == (7, "优秀社区工作者", "区级")
    sanction = services.record_create(actor=admin, worker=w, kind="sanction", issuer="自强街道",
                                      details={"sanction_type": "警告", "start_date": "2024-03-15"})
    assert (sanction.archive_class, sanction.sanction.end_date) == (8, dt.date(2024, 9, 14))
    assert sanction.sanction.in_force(dt.date(2024, 9, 14)) and not sanction.sanction.in_force(dt.date(2024, 9, 15))
    longer = services.record_create(actor=admin, worker=w, kind="sanction", details={
        "sanction_type": "记大过", "start_date": "2024-08-31"})
    assert longer.sanction.end_date == dt.date(2026, 2, 27)  # 18 months, the day before
    # The history records who added each record.
    assert edu.history.get().history_user == admin


@pytest.mark.parametrize(("kind", "details", "field", "message"), [
    ("education", {"school": "吉林大学", "level": "博士后"}, "level", "“博士后”不是GB/T 4658中的学历"),
    ("education", {"school": "吉林大学", "level": "本科", "start_date": "2008-09-01", "end_date": "2004-07-01"},
     "end_date", "毕业日期 2004-07-01 早于入学日期 2008-09-01"),
    ("qualification", {"level": "社工", "certificate_no": "X", "obtained_on": "2020-01-01"}, "level",
     "职业资格等级“社工”无效,应为 助理社会工作师、社会工作师、高级社会工作师"),
    ("sanction", {"sanction_type": "批评", "start_date": "2024-01-01"}, "sanction_type", "处分种类“批评”无效"),
    ("work", {"organisation": "东风社区", "start_date": "2012-13-01"}, "start_date", "起始日期“2012-13-01”无效"),
    ("work", {"organisation": "东风社区", "start_date": 20120301}, "start_date", "起始日期“20120301”无效"),
    ("work", {"organisation": ["东风社区"], "start_date": "2012-03-01"}, "organisation", "工作单位应为单个值"),
    ("work", {"organisation": "社" * 201, "start_date": "2012-03-01"}, "organisation", "工作单位不能超过 200 字"),
    ("qualification", {"level": ["社会工作师"], "certificate_no": "X", "obtained_on": "2020-01-01"}, "level",
     "等级应为单个值"),
    ("qualification", {"level": "社会工作师", "certificate_no": "X", "obtained_on": "2020-01-01", "hours_done": 1.9},
     "hours_done", "应为整数"),
    ("sanction", {"sanction_type": {"a": 1}, "start_date": "2024-01-01"}, "sanction_type", "处分种类应为单个值"),
    ("sanction", {"sanction_type": "警告", "start_date": "2024-01-01", "lifted_on": "2023-12-31"}, "lifted_on",
     "解除日期 2023-12-31 早于处分期起 2024-01-01"),
    ("education", {"school": "吉林大学", "level": "本科", "end_date": "2999-07-01"}, "end_date",
     "毕业日期 2999-07-01 晚于今天"),
])
def test_bad_details_are_refused_in_chinese(world, kind, details, field, message):
    with pytest.raises(ApplicationError) as exc:
        services.record_create(actor=world.users["community"], worker=world.w1, kind=kind, details=details)
    assert exc.value.field == field and message in exc.value.message
    assert not ArchiveRecord.objects.exists()


def test_qualifications_due_skip_superseded_ones_and_keep_29_february(world):
    admin = world.users["community"]

    def qualification(worker, level, registered):
        return services.record_create(actor=admin, worker=worker, kind="qualification", details={
            "level": level, "certificate_no": f"{level}{registered}", "obtained_on": registered,
            "registered_on": registered})

    old = qualification(world.w1, "助理社会工作师", "2020-02-29")  # expires 2023-02-28
    due = selectors.qualifications_due(actor=admin, as_of=dt.date(2022, 12, 30))  # 60 days before
    assert [q.qualification.record_id for q in due] == [old.pk]
    assert selectors.qualifications_due(actor=admin, as_of=dt.date(2022, 12, 29)) == []  # 61 days before
    qualification(world.w1, "社会工作师", "2022-06-01")  # a higher level registered later supersedes it
    assert selectors.qualifications_due(actor=admin, as_of=dt.date(2023, 3, 1)) == []


@pytest.mark.parametrize(("kind", "data", "field", "message"), [
    ("reward", {"details": {"name": "先进个人", "bogus": 1}}, "bogus", "奖励记录没有这些字段:bogus"),
    ("reward", {"details": {"name": "先进个人"}, "archive_class": 2}, "archive_class",
     "奖励记录归入第 7 类(奖励),不能放在第 2 类"),
    ("document", {"archive_class": 10, "title": "其他", "details": {"name": "y"}}, "kind", "普通材料没有结构化字段"),
])
def test_details_must_fit_the_kind(world, kind, data, field, message):
    with pytest.raises(ApplicationError) as exc:
        services.record_create(actor=world.users["community"], worker=world.w1, kind=kind, **data)
    assert exc.value.field == field and message in exc.value.message
    assert not ArchiveRecord.objects.exists()


def test_changing_a_sanction_start_moves_its_period_and_catalogue_date(world):
    record = services.record_create(actor=world.users["community"], worker=world.w1, kind="sanction",
                                    details={"sanction_type": "警告", "start_date": "2024-03-15"})
    assert (record.date, record.sanction.end_date) == (dt.date(2024, 3, 15), dt.date(2024, 9, 14))
    services.record_update(actor=world.users["community"], record=record, details={"start_date": "2024-05-01"})
    record.refresh_from_db()
    record.sanction.refresh_from_db()
    assert (record.date, record.sanction.end_date) == (dt.date(2024, 5, 1), dt.date(2024, 10, 31))
    services.record_update(actor=world.users["community"], record=record, details={"end_date": "2024-12-31"})
    services.record_update(actor=world.users["community"], record=record, details={"start_date": "2024-06-01"})
    record.sanction.refresh_from_db()
    assert record.sanction.end_date == dt.date(2024, 12, 31)  # an end typed by hand is kept


def test_a_sanction_changed_to_one_without_a_period_runs_until_lifted(world):
    record = services.record_create(actor=world.users["community"], worker=world.w1, kind="sanction",
                                    details={"sanction_type": "警告", "start_date": "2024-01-01"})
    assert record.sanction.end_date == dt.date(2024, 6, 30)
    services.record_update(actor=world.users["community"], record=record, details={"sanction_type": "开除"})
    record.sanction.refresh_from_db()
    assert record.sanction.end_date is None and record.sanction.in_force(dt.date(2026, 1, 1))


def test_notes_and_file_names_are_bounded(world, settings, tmp_path):
    settings.UPLOAD_ROOT = str(tmp_path)
    with pytest.raises(ApplicationError, match="备注不能超过 2000 字") as exc:
        doc(world, notes="注" * 2001)
    assert exc.value.field == "notes"
    record = doc(world)
    a = services.attachment_add(actor=system_actor("command"), record=record, name="扫" * 300 + ".pdf", data=PDF)
    assert len(a.original_name) == 200 and a.original_name.endswith(".pdf")


def test_document_needs_a_class_and_title(world):
    with pytest.raises(ApplicationError, match="档案类别“11”无效"):
        doc(world, archive_class=11)
    with pytest.raises(ApplicationError, match="材料名称不能为空"):
        doc(world, title="  ")
    with pytest.raises(ApplicationError, match="必备材料代码“passport”无效"):
        doc(world, required_item="passport")
    assert doc(world, archive_class="党团").archive_class == 6  # the class by its name


# ---- attachments ---------------------------------------------------------------------------------------

def test_attachments_are_checked_by_content_and_stored_by_digest(world, settings, tmp_path):
    settings.UPLOAD_ROOT = str(tmp_path)  # count this test's files alone
    record = doc(world, required_item="id_card")
    for name, data, kind in [("scan.pdf", PDF, "application/pdf"), ("photo.png", png(), "image/png"),
                             ("photo.jpeg", JPEG, "image/jpeg")]:
        a = services.attachment_add(actor=world.users["community"], record=record, name=name, data=data)
        assert (a.content_type, a.size, a.sha256) == (kind, len(data), hashlib.sha256(data).hexdigest())
        assert storage.verify(a.sha256)
    # The same PDF on another record (named without an extension): read by content, stored once.
    other = doc(world, title="学历证明", archive_class=4)
    a = services.attachment_add(actor=world.users["community"], record=other, name="名字无扩展名", data=PDF)
    assert a.content_type == "application/pdf"
    stored = list((storage.root() / "archives").rglob("*"))
    assert len([p for p in stored if p.is_file()]) == 3  # the same PDF twice is stored once
    # The same file again on the same record is refused (nothing added) ...
    with pytest.raises(ApplicationError, match=r"已经上传到这份材料\(“scan\.pdf”,.*\),不必重复上传"):
        services.attachment_add(actor=world.users["community"], record=record, name="again.pdf", data=PDF)
    assert record.attachments.count() == 3
    # ... unless the stored copy was damaged: the same bytes repair it.
    path = storage.root() / attachment_path(a.sha256)
    path.write_bytes(b"damaged")
    repaired = services.attachment_add(actor=world.users["community"], record=record, name="again.pdf", data=PDF)
    assert repaired.original_name == "scan.pdf" and storage.verify(a.sha256) and record.attachments.count() == 3


@pytest.mark.parametrize(("data", "what"), [
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "Windows 可执行程序"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 32, "Linux 可执行程序"),
    (b"PK\x03\x04" + b"\x00" * 32, "ZIP 压缩包"),
    (b"<html><script>alert(1)</script>", "网页"),
])
def test_a_renamed_executable_is_refused(world, data, what):
    record = doc(world)
    with pytest.raises(ApplicationError) as exc:
        services.attachment_add(actor=world.users["community"], record=record, name="扫描件.pdf", data=data)
    assert exc.value.field == "file"
    assert "扫描件.pdf" in exc.value.message and what in exc.value.message and "按文件内容识别" in exc.value.message
    assert not Attachment.objects.exists()


def test_size_limit_and_empty_file(world, settings):
    record = doc(world)
    with pytest.raises(ApplicationError, match="超过 20 MB 的上限"):
        services.attachment_add(actor=world.users["community"], record=record, name="big.pdf",
                                data=PDF + b"\x00" * (20 * 2**20))
    with pytest.raises(ApplicationError, match="是空的"):
        services.attachment_add(actor=world.users["community"], record=record, name="empty.pdf", data=b"")


def test_download_is_logged_and_checks_scope(world):
    record = doc(world)
    a = services.attachment_add(actor=world.users["community"], record=record, name="scan.pdf", data=PDF)
    with services.attachment_download(actor=world.users["street"], attachment=a, ip="10.0.0.8") as fh:
        assert fh.read() == PDF
    log = AccessLog.objects.get(action=AccessLog.Action.ATTACHMENT_DOWNLOAD)
    assert (log.user, log.worker, log.ip) == (world.users["street"], world.w1, "10.0.0.8")
    assert "scan.pdf" in log.object_label
    with pytest.raises(Forbidden, match="无权查看"):
        services.attachment_download(actor=world.users["nobody"], attachment=a)
    assert AccessLog.objects.count() == 1
    # A damaged file is refused rather than served.
    path = storage.root() / a.path
    path.write_bytes(PDF + b"tampered")
    with pytest.raises(ApplicationError, match="SHA-256 不符"):
        services.attachment_download(actor=world.users["street"], attachment=a)


# ---- void, read-only, nothing deleted ---------------------------------------------------------------------

def test_void_keeps_the_record_with_its_reason(world):
    record = doc(world)
    with pytest.raises(ApplicationError, match="作废原因不能为空"):
        services.record_void(actor=world.users["community"], record=record, reason=" ")
    services.record_void(actor=world.users["community"], record=record, reason="录错了人")
    record.refresh_from_db()
    assert record.is_voided and record.void_reason == "录错了人" and record.voided_by == world.users["community"]
    assert ArchiveRecord.objects.filter(pk=record.pk).exists()
    assert record.history.first().history_change_reason == "作废:录错了人"
    entry = next(e for e in selectors.catalogue(worker=world.w1) if e.record == record)
    assert entry.voided and entry.number == 0
    with pytest.raises(ApplicationError, match="已经作废"):
        services.record_void(actor=world.users["community"], record=record, reason="again")
    with pytest.raises(ApplicationError, match="已作废的材料不能再上传附件"):
        services.attachment_add(actor=world.users["community"], record=record, name="x.pdf", data=PDF)


def test_a_worker_who_left_has_a_read_only_archive(world):
    record = doc(world)
    worker_update(actor=system_actor("command"), worker=world.w1, status="辞职")
    with pytest.raises(ApplicationError, match="已辞职,档案只读"):
        doc(world)
    with pytest.raises(ApplicationError, match="档案只读"):
        services.record_void(actor=world.users["community"], record=record, reason="x")
    assert selectors.catalogue(worker=world.w1)[0].record == record  # still readable


def test_only_admins_in_scope_write(world):
    for role in ("training", "worker", "nobody"):
        with pytest.raises(Forbidden, match="无权修改"):
            services.record_create(actor=world.users[role], worker=world.w1, archive_class=10, title="x")
    with pytest.raises(Forbidden, match="无权修改"):
        services.record_create(actor=world.users["community"], worker=world.w3, archive_class=10, title="x")


# ---- the catalogue and completeness ---------------------------------------------------------------------

def test_catalogue_order_and_appointments_from_staffing(world):
    admin = world.users["community"]
    services.record_create(actor=admin, worker=world.w1, archive_class=9, title="聘用合同", date="2015-03-01",
                           required_item="labour_contract")
    services.record_create(actor=admin, worker=world.w1, kind="work", details={
        "organisation": "长春市第一中学", "start_date": "2008-07-01", "end_date": "2012-02-28"})
    doc(world)
    a = factories.appoint(world.w1, "普通社工", start=dt.date(2021, 1, 5), method="聘用")
    appointment_end(actor=system_actor("command"), appointment=a, end_date=dt.date(2023, 12, 31), end_reason="换岗")
    entries = selectors.catalogue(worker=world.w1)
    assert [(e.archive_class, e.number, e.source) for e in entries] == [
        (1, 1, "record"), (9, 1, "record"), (9, 2, "appointment"), (10, 1, "record")]
    assert entries[2].title == "任东风社区普通社工(聘用),2023-12-31 离任(换岗)"


def test_completeness_needs_a_scan_of_each_required_item(world):
    c = selectors.completeness(worker=world.w1)
    assert [i.code for i in c.missing] == ["id_card", "photo", "highest_diploma", "appointment_document",
                                           "labour_contract", "resume_form"]
    record = doc(world, required_item="id_card")
    assert "id_card" in {i.code for i in selectors.completeness(worker=world.w1).missing}  # no scan yet
    services.attachment_add(actor=world.users["community"], record=record, name="id.pdf", data=PDF)
    c = selectors.completeness(worker=world.w1)
    assert "id_card" not in {i.code for i in c.missing} and round(c.rate, 2) == round(1 / 6, 2)
    services.record_void(actor=world.users["community"], record=record, reason="复印件不清晰")
    assert "id_card" in {i.code for i in selectors.completeness(worker=world.w1).missing}


def test_completeness_rates_per_division(world):
    admin = world.users["community"]
    for code in ("id_card", "photo", "highest_diploma", "appointment_document", "labour_contract", "resume_form"):
        record = doc(world, required_item=code, title=code)
        services.attachment_add(actor=admin, record=record, name=f"{code}.pdf", data=PDF + code.encode())
    rows = selectors.completeness_rates(actor=world.users["city"])
    assert [(r["division"].code, r["workers"], r["complete"]) for r in rows] == [("2201", 3, 1)]
    from shegong.org.models import Division

    street = Division.objects.get(code="220102001")
    rows = selectors.completeness_rates(actor=world.users["city"], parent=street)
    assert [(r["division"].code, r["workers"], r["complete"], r["rate"]) for r in rows] == [
        ("220102001001", 1, 1, 1.0), ("220102001002", 1, 0, 0.0)]
    assert dict((i.code, n) for i, n in rows[0]["items"])["photo"] == 1


def test_completeness_counts_only_scanned_records_that_stand(world):
    """A record without a scan, a voided one and a second scan of the same item change nothing; a worker
    who left is not counted (8.1.2)."""
    admin, codes = world.users["community"], ("id_card", "photo", "highest_diploma", "appointment_document",
                                              "labour_contract", "resume_form")
    for code in codes:
        record = doc(world, required_item=code, title=code)
        for n in range(2 if code == "photo" else 1):
            services.attachment_add(actor=admin, record=record, name=f"{code}{n}.pdf", data=PDF + f"{code}{n}".encode())
    doc(world, required_item="id_card", title="第二份身份证复印件(无扫描件)")

    def street_row():
        (row,) = [r for r in selectors.completeness_rates(actor=world.users["street"]) if r["division"].code == "220102001"]
        return row["workers"], row["complete"], dict((i.code, n) for i, n in row["items"])

    assert street_row()[:2] == (2, 1) and street_row()[2]["photo"] == 1
    contract = ArchiveRecord.objects.get(worker=world.w1, required_item="labour_contract")
    services.record_void(actor=admin, record=contract, reason="签错了人")
    workers, complete, items = street_row()
    assert (workers, complete, items["labour_contract"], items["id_card"]) == (2, 0, 0, 1)
    worker_update(actor=system_actor("command"), worker=world.w2, status="辞职", reason="辞职")
    assert street_row()[:2] == (1, 0)


def test_completeness_for_grants_at_two_levels(world):
    """A street admin also granted a community of another street sees both, each counted."""
    from shegong.accounts.services import grant_add

    admin = world.users["street"]
    for code in ("id_card", "photo", "highest_diploma", "appointment_document", "labour_contract", "resume_form"):
        record = services.record_create(actor=system_actor("command"), worker=world.w3, archive_class=10, title=code, required_item=code)
        services.attachment_add(actor=system_actor("command"), record=record, name=f"{code}.pdf", data=PDF + code.encode())
    grant_add(actor=system_actor("command"), user=admin, role="street_admin", scope=world.c3.code)
    admin = type(admin).objects.get(pk=admin.pk)
    rows = {r["division"].code: (r["workers"], r["complete"]) for r in selectors.completeness_rates(actor=admin)}
    assert rows == {"220102001": (2, 0), world.c3.code: (1, 1)}


# ---- transfers: the archive moves, access follows ------------------------------------------------------

def test_transfer_moves_the_archive_and_access(world):
    record = doc(world)
    a = services.attachment_add(actor=world.users["community"], record=record, name="scan.pdf", data=PDF)
    other_street = factories.user("street2", "street_admin", "220102002")
    # The community admin cannot move a worker out to a community outside their scope.
    with pytest.raises(Forbidden, match="无权把档案转入“春光社区”"):
        services.archive_transfer(actor=world.users["community"], worker=world.w1, to_community=world.c3,
                                  reason="调动")
    post = factories.appoint(world.w1, "普通社工")
    with pytest.raises(ApplicationError, match="仍在东风社区任普通社工"):
        services.archive_transfer(actor=world.users["city"], worker=world.w1, to_community=world.c3, reason="调动")
    appointment_end(actor=system_actor("command"), appointment=post, end_date=dt.date(2026, 6, 30), end_reason="调动")
    t = services.archive_transfer(actor=world.users["city"], worker=world.w1, to_community=world.c3,
                                  date=dt.date(2026, 7, 1), reason="工作调动")
    world.w1.refresh_from_db()
    assert world.w1.community == world.c3 and (t.from_community, t.to_community) == (world.c1, world.c3)
    # The old community and street keep no access; the new street has it.
    for role in ("community", "street"):
        with pytest.raises(world.w1.DoesNotExist):
            selectors.archive_worker(actor=world.users[role], pk=world.w1.pk)
        with pytest.raises(Forbidden):
            services.attachment_download(actor=world.users[role], attachment=a)
    assert selectors.archive_worker(actor=other_street, pk=world.w1.pk) == world.w1
    with services.attachment_download(actor=other_street, attachment=a) as fh:
        assert fh.read() == PDF
    entries = selectors.catalogue(worker=world.w1)
    assert entries[-1].title == "档案转递:东风社区 → 春光社区" and entries[-1].archive_class == 10
    assert Transfer.objects.restrict(world.users["community"]).count() == 0
    assert world.w1.history.first().history_change_reason == "档案转递:工作调动"
    # The worker's own login follows them: they still see their archive and its scans.
    me = type(world.users["worker"]).objects.get(pk=world.users["worker"].pk)
    assert [g.division for g in me.grants.all()] == [world.c3]
    assert selectors.archive_worker(actor=me, pk=world.w1.pk) == world.w1
    with services.attachment_download(actor=me, attachment=a) as fh:
        assert fh.read() == PDF


def test_a_worker_moved_by_an_import_still_sees_their_own_archive(world):
    """A roster import moves workers in bulk, without the service: the worker's own scope is their record,
    wherever it lies, and never anyone else's there."""
    from shegong.people.models import Worker

    Worker.objects.filter(pk=world.w1.pk).update(community=world.c3)
    me = world.users["worker"]
    assert selectors.archive_worker(actor=me, pk=world.w1.pk) == world.w1
    with pytest.raises(Worker.DoesNotExist):
        selectors.archive_worker(actor=me, pk=world.w3.pk)  # w3 lives in c3 too


def test_transfer_dates_and_target(world):
    city = world.users["city"]
    with pytest.raises(ApplicationError, match="晚于今天") as exc:
        services.archive_transfer(actor=city, worker=world.w1, to_community=world.c2,
                                  date=timezone.localdate() + dt.timedelta(days=1), reason="调动")
    assert exc.value.field == "date"
    services.archive_transfer(actor=city, worker=world.w1, to_community=world.c2, date=dt.date(2026, 7, 1),
                              reason="调动")
    with pytest.raises(ApplicationError, match=r"早于上一次转递\(2026-07-01 转入幸福社区\)"):
        services.archive_transfer(actor=city, worker=world.w1, to_community=world.c1, date=dt.date(2026, 6, 1),
                                  reason="调回")
    world.c1.is_active = False
    world.c1.save()
    with pytest.raises(ApplicationError, match="“东风社区”已撤销"):
        services.archive_transfer(actor=city, worker=world.w1, to_community=world.c1, reason="调回")
    assert Transfer.objects.count() == 1


# ---- the access log and the worker's own view ------------------------------------------------------------

def test_every_kind_of_access_is_logged_with_the_worker(world):
    record = doc(world)
    a = services.attachment_add(actor=world.users["community"], record=record, name="scan.pdf", data=PDF)
    street = world.users["street"]
    services.archive_open(actor=street, worker=world.w1, ip="10.1.1.1")
    worker_reveal(worker=world.w1, actor=street, field="id_number")
    worker_reveal(worker=world.w1, actor=street, field="phone")
    services.attachment_download(actor=street, attachment=a).close()
    services.archive_print(actor=street, worker=world.w1, document="社区工作者信息表")
    log = selectors.access_log_for(worker=world.w1)
    assert sorted(entry.action for entry in log) == sorted(["archive_open", "reveal_id_number", "reveal_phone",
                                                            "attachment_download", "archive_print"])
    assert {entry.user for entry in log} == {street}
    assert selectors.access_log_for(worker=world.w2) == []
    # The audit: admins see the accesses to archives in their change scope; a worker sees none there.
    assert selectors.access_log_list(actor=world.users["city"]).count() == 5
    assert selectors.access_log_list(actor=world.users["city"], action="archive_print").count() == 1
    assert selectors.access_log_list(actor=world.users["worker"]).count() == 0
    with pytest.raises(Forbidden):
        services.archive_open(actor=world.users["nobody"], worker=world.w1)


# ---- correction requests -------------------------------------------------------------------------------

def test_correction_request_flow(world):
    record = doc(world, title="学历证明", archive_class=4)
    me = world.users["worker"]  # w1 themself
    with pytest.raises(Forbidden, match="只有本人"):
        services.correction_request_create(actor=world.users["community"], worker=world.w1, text="x")
    with pytest.raises(ApplicationError, match="请写明"):
        services.correction_request_create(actor=me, worker=world.w1, text=" ")
    request = services.correction_request_create(actor=me, worker=world.w1, record=record,
                                                 text="毕业日期应为 2008-07-01")
    assert request.status == "pending"
    assert list(selectors.correction_requests(actor=me)) == [request]
    with pytest.raises(ApplicationError, match="请填写处理意见"):
        services.correction_request_decide(actor=world.users["community"], request=request, accept=False, reason="")
    with pytest.raises(Forbidden, match="无权修改"):
        services.correction_request_decide(actor=me, request=request, accept=True, reason="自己批准")
    services.correction_request_decide(actor=world.users["community"], request=request, accept=False,
                                       reason="毕业证书原件显示为 2008-06-30")
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("rejected", world.users["community"])
    with pytest.raises(ApplicationError, match=r"这项申请已处理\(未采纳\)"):
        services.correction_request_decide(actor=world.users["community"], request=request, accept=True, reason="x")
    accepted = services.correction_request_decide(
        actor=world.users["street"], request=services.correction_request_create(actor=me, worker=world.w1, text="民族有误"),
        accept=True, reason="已核实户口簿,已更正")
    assert accepted.status == "accepted"
    assert selectors.correction_requests(actor=world.users["community"], status="pending").count() == 0
    services.record_void(actor=world.users["community"], record=record, reason="重复")
    with pytest.raises(ApplicationError, match="“学历证明”已作废,无需更正"):
        services.correction_request_create(actor=me, worker=world.w1, record=record, text="日期有误")


def test_the_demo_has_archives_to_show(db):
    from shegong.accounts.models import User
    from shegong.web.demo import build_demo

    result = build_demo()
    assert result.archive_records > 50
    me = User.objects.get(username="shegong").worker
    missing = selectors.completeness(worker=me).missing
    assert 1 <= len(missing) < 6  # a partly complete archive
    assert [log.user.username for log in selectors.access_log_for(worker=me)] == ["jiedao"]
    community_admin = User.objects.get(username="shequ")
    rates = selectors.completeness_rates(actor=community_admin)
    assert rates[0]["workers"] > 10 and 0 < rates[0]["complete"] < rates[0]["workers"]
    due = selectors.qualifications_due(actor=community_admin)
    assert len(due) == 1 and "剩" in due[0].warning
    photos = Attachment.objects.filter(record__required_item="photo", content_type="image/png")
    assert photos.exists() and all(storage.verify(a.sha256) for a in photos)
