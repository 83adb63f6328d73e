"""Implausible dates are refused (issue 16), by the services, so the web and the API alike: nothing before
1900; nothing after today for dates that cannot lie ahead (参加工作日期, 社工岗入职日期, a document's date, an
enrolment …); nothing more than a year ahead for the others (an appointment's start or end). The message
is Chinese and names the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from shegong.access import system_actor
from shegong.archives import services as archive_services
from shegong.common.dates import date_error, one_year_after
from shegong.common.errors import ApplicationError
from shegong.people.services import worker_create, worker_update
from shegong.staffing.services import appointment_create, appointment_end
from tests import factories

TODAY = timezone.localdate()
FAR = dt.date(9999, 12, 31)
OLD = dt.date(1899, 12, 31)
NEXT_YEAR = one_year_after(TODAY)


def test_the_shared_rule():
    assert date_error(TODAY, "参加工作日期") is None
    assert date_error(TODAY + dt.timedelta(days=1), "参加工作日期") == (
        f"参加工作日期 {(TODAY + dt.timedelta(days=1)).isoformat()} 晚于今天")
    assert date_error(NEXT_YEAR, "任职日期", future=True) is None
    assert "晚于" in date_error(NEXT_YEAR + dt.timedelta(days=1), "任职日期", future=True)
    assert date_error(FAR, "离任日期", future=True) == f"离任日期 9999-12-31 晚于 {NEXT_YEAR.isoformat()},请检查"
    assert date_error(OLD, "出生日期") == "出生日期 1899-12-31 早于 1900 年,请检查"
    assert date_error(dt.date(1900, 1, 1), "出生日期") is None
    assert date_error(None, "出生日期") is None


# ---- workers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field,label", [("work_start_date", "参加工作日期"), ("post_start_date", "社工岗入职日期")])
@pytest.mark.parametrize("value,words", [(FAR, "9999-12-31 晚于今天"), (OLD, "1899-12-31 早于 1900 年")])
def test_worker_service_refuses(world, field, label, value, words):
    with pytest.raises(ApplicationError) as exc:
        worker_update(worker=world.w1, actor=world.users["street"], **{field: value})
    assert exc.value.field == field and f"{label} {words}" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), name="新人", id_number=factories.id_number(), community=world.c1,
                      **{"work_start_date": None, "post_start_date": None, field: value})
    assert exc.value.field == field and label in exc.value.message
    world.w1.refresh_from_db()
    assert getattr(world.w1, field) not in (FAR, OLD)


def test_worker_api_refuses_naming_the_field(world, api):
    client = api(world.users["street"])
    resp = client.patch(f"/api/v1/workers/{world.w1.pk}", {"work_start_date": "9999-12-31"},
                        content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["field"] == "work_start_date" and "参加工作日期 9999-12-31 晚于今天" in resp.json()["message"]
    resp = client.post("/api/v1/workers", {"name": "新人", "id_number": factories.id_number(),
                                           "community": world.c1.code, "post_start_date": "1850-01-01"},
                       content_type="application/json")
    assert resp.status_code == 400 and resp.json()["field"] == "post_start_date"
    assert "社工岗入职日期 1850-01-01 早于 1900 年" in resp.json()["message"]


def test_worker_web_form_refuses_naming_the_field(world):
    client = Client()
    client.force_login(world.users["street"])
    url = f"/workers/{world.w1.pk}/edit/"
    data = {"name": "张三", "community": world.c1.code, "category": "专职社区工作者", "status": "在岗",
            "work_start_date": "2008-07-01", "post_start_date": "9999-12-31"}
    resp = client.post(url, data)
    assert resp.status_code == 200
    assert "社工岗入职日期 9999-12-31 晚于今天" in resp.content.decode()
    world.w1.refresh_from_db()
    assert world.w1.post_start_date == dt.date(2015, 3, 1)


# ---- appointments ------------------------------------------------------------------------------------------


def test_appointment_service_refuses(world):
    for start, words in ((FAR, "任职日期 9999-12-31 晚于"), (OLD, "任职日期 1899-12-31 早于 1900 年")):
        with pytest.raises(ApplicationError) as exc:
            appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type="书记", method="选举", start_date=start)
        assert exc.value.field == "start_date" and words in exc.value.message
    planned = appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type="书记", method="选举",
                                 start_date=TODAY + dt.timedelta(days=30))  # a planned start, within a year
    assert planned.pk
    current = factories.appoint(world.w2, "主任")
    with pytest.raises(ApplicationError) as exc:
        appointment_end(actor=system_actor("command"), appointment=current, end_date=FAR)
    assert exc.value.field == "end_date" and "离任日期 9999-12-31 晚于" in exc.value.message
    current.refresh_from_db()
    assert current.end_date is None


def test_appointment_api_refuses_naming_the_field(world, api):
    client = api(world.users["street"])
    resp = client.post("/api/v1/appointments", {"worker_id": world.w1.pk, "community": world.c1.code,
                                                "post_type": "书记", "method": "选举", "start_date": "9999-12-31"},
                       content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["field"] == "start_date" and "任职日期 9999-12-31 晚于" in resp.json()["message"]
    current = factories.appoint(world.w1, "书记")
    resp = client.post(f"/api/v1/appointments/{current.pk}/end", {"end_date": "9999-12-31"},
                       content_type="application/json")
    assert resp.status_code == 400 and resp.json()["field"] == "end_date"


def test_appointment_web_forms_refuse(world):
    client = Client()
    client.force_login(world.users["street"])
    resp = client.post(f"/workers/{world.w1.pk}/appoint/", {"post_type": "party_secretary",
                                                             "community": world.c1.code, "method": "选举",
                                                             "start_date": "9999-12-31"})
    assert resp.status_code == 200 and "任职日期 9999-12-31 晚于" in resp.content.decode()
    current = factories.appoint(world.w1, "书记")
    resp = client.post(f"/appointments/{current.pk}/end/", {"end_date": "1899-01-01"})
    assert resp.status_code == 200 and "离任日期 1899-01-01 早于 1900 年" in resp.content.decode()


# ---- archive records -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,details,data,field,words", [
    ("document", None, {"title": "登记表", "archive_class": 1, "date": FAR}, "date", "材料日期 9999-12-31 晚于今天"),
    ("document", None, {"title": "登记表", "archive_class": 1, "date": OLD}, "date", "材料日期 1899-12-31 早于 1900 年"),
    ("education", {"school": "吉林大学", "level": "本科", "start_date": "1800-09-01", "end_date": "2007-07-01"}, {},
     "start_date", "入学日期 1800-09-01 早于 1900 年"),
    ("work", {"organisation": "某单位", "start_date": "9999-01-01"}, {}, "start_date", "起始日期 9999-01-01 晚于"),
    ("work", {"organisation": "某单位", "start_date": "2010-01-01", "end_date": "9999-12-31"}, {}, "end_date",
     "截止日期 9999-12-31 晚于"),
    ("qualification", {"level": "社会工作师", "certificate_no": "X1", "obtained_on": "9999-12-31"}, {},
     "obtained_on", "取得日期 9999-12-31 晚于"),
    ("sanction", {"sanction_type": "警告", "start_date": "2023-01-01", "end_date": "9999-12-31"}, {}, "end_date",
     "处分期止 9999-12-31 晚于"),
])
def test_archive_service_refuses(world, kind, details, data, field, words):
    with pytest.raises(ApplicationError) as exc:
        archive_services.record_create(actor=world.users["community"], worker=world.w1, kind=kind, details=details,
                                       **data)
    assert exc.value.field == field and words in exc.value.message


def test_a_sanction_may_run_past_next_year(world):
    """A 24-month sanction that started today ends in two years: its derived end is not refused."""
    record = archive_services.record_create(actor=system_actor("command"), worker=world.w1, kind="sanction", details={
        "sanction_type": "撤职", "start_date": TODAY.isoformat()})
    assert record.sanction.end_date > NEXT_YEAR


def test_archive_record_update_refuses(world):
    record = archive_services.record_create(actor=system_actor("command"), worker=world.w1, title="登记表", archive_class=1)
    with pytest.raises(ApplicationError) as exc:
        archive_services.record_update(actor=system_actor("command"), record=record, date=FAR)
    assert exc.value.field == "date"
    record.refresh_from_db()
    assert record.date is None and record.row_version == 1


def test_archive_api_refuses_naming_the_field(world, api):
    client = api(world.users["province"])
    resp = client.post(f"/api/v1/workers/{world.w1.pk}/archive/records",
                       {"title": "登记表", "archive_class": 1, "date": "9999-12-31"}, content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["field"] == "date" and "材料日期 9999-12-31 晚于今天" in resp.json()["message"]
    record = archive_services.record_create(actor=system_actor("command"), worker=world.w1, kind="work", details={
        "organisation": "某单位", "start_date": "2010-01-01"})
    resp = client.patch(f"/api/v1/archive/records/{record.pk}", {"details": {"start_date": "1800-01-01"}},
                        content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["field"] == "start_date" and "起始日期 1800-01-01 早于 1900 年" in resp.json()["message"]


def test_archive_web_form_refuses(world):
    client = Client()
    client.force_login(world.users["community"])
    resp = client.post(f"/archives/{world.w1.pk}/records/new/?kind=document",
                       {"archive_class": "1", "title": "登记表", "date": "9999-12-31"})
    assert resp.status_code == 200 and "材料日期 9999-12-31 晚于今天" in resp.content.decode()
