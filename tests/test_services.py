"""The write services of org, people and staffing, through the real database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from shegong.access import Forbidden, system_actor
from shegong.common.crypto import search_hash
from shegong.common.errors import ApplicationError
from shegong.common.models import AccessLog
from shegong.org.models import Division
from shegong.org.services import division_create, division_update
from shegong.people.idnumber import make_id_number
from shegong.people.models import Worker
from shegong.people.selectors import worker_find_by_id_number, worker_list
from shegong.people.services import worker_create, worker_reveal, worker_update
from shegong.staffing.models import Appointment, PostType
from shegong.staffing.services import appointment_create, appointment_end, post_type_lookup
from tests import factories

pytestmark = pytest.mark.django_db


def _worker_data(community: Division | None, **overrides):
    data = {
        "name": "孙七",
        "id_number": make_id_number("220102", dt.date(1988, 8, 8), 3, "女"),
        "phone": "13812345678",
        "ethnicity": "汉族",
        "political_status": "中共党员",
        "education": "本科",
        "category": "专职社区工作者",
        "work_start_date": dt.date(2010, 7, 1),
        "post_start_date": dt.date(2016, 3, 1),
        "community": community,
    }
    data.update(overrides)
    return data


# ================================================================ divisions


def test_division_create_fills_ancestors_from_gbt2260():
    community = division_create(actor=system_actor("command"), code="220102003001", name="测试社区", households=1800,
                                parent_names={"220102003": "测试街道"})
    assert community.level == Division.Level.COMMUNITY
    chain = [community.parent.parent.parent.parent, community.parent.parent.parent, community.parent.parent,
             community.parent]
    assert [d.code for d in chain] == ["22", "2201", "220102", "220102003"]
    assert [d.name for d in chain] == ["吉林省", "长春市", "南关区", "测试街道"]
    assert [d.level for d in chain] == ["province", "city", "district", "street"]
    assert Division.objects.get(code="2201").parent.code == "22"


def test_division_create_accepts_padded_twelve_digit_street_code():
    street = division_create(actor=system_actor("command"), code="220103001000", name="宽城测试街道")
    assert street.code == "220103001"
    assert street.level == Division.Level.STREET
    assert street.parent.name == "宽城区"


def test_division_create_rejects_unknown_street_without_name():
    with pytest.raises(ApplicationError) as exc:
        division_create(actor=system_actor("command"), code="220102009001", name="无街道社区")
    assert exc.value.field == "code"
    assert "220102009" in exc.value.message
    assert "不存在" in exc.value.message
    assert "街道" in exc.value.message
    # all or nothing: no community, and the reference ancestors created on the way were rolled back
    assert not Division.objects.filter(code="220102009001").exists()
    assert not Division.objects.filter(code="220102009").exists()


def test_division_create_rejects_code_outside_reference_table():
    with pytest.raises(ApplicationError) as exc:
        division_create(actor=system_actor("command"), code="229901", name="不存在的县")
    assert "2299" in exc.value.message


def test_division_create_rejects_duplicate(world):
    with pytest.raises(ApplicationError) as exc:
        division_create(actor=system_actor("command"), code="220102001001", name="重复社区")
    assert exc.value.field == "code"
    assert "已存在" in exc.value.message
    # the 12-digit padded form of an existing street is the same division
    with pytest.raises(ApplicationError, match="已存在"):
        division_create(actor=system_actor("command"), code="220102001000", name="重复街道")
    assert Division.objects.get(code="220102001001").name == "东风社区"


def test_division_create_bad_code_and_empty_name():
    with pytest.raises(ApplicationError) as exc:
        division_create(actor=system_actor("command"), code="22AB", name="x")
    assert exc.value.field == "code"
    with pytest.raises(ApplicationError) as exc:
        division_create(actor=system_actor("command"), code="2201", name="  ")
    assert exc.value.field == "name"
    assert "名称不能为空" in exc.value.message


def test_division_households_only_on_community():
    with pytest.raises(ApplicationError) as exc:
        division_create(actor=system_actor("command"), code="220104", name="朝阳区", households=100)
    assert exc.value.field == "households"
    assert "只适用于社区" in exc.value.message


def test_division_update_records_history(world):
    actor = world.users["province"]
    division_update(division=world.c1, actor=actor, households=3100)
    records = list(world.c1.history.order_by("history_date"))
    assert len(records) == 2
    assert records[-1].households == 3100
    assert records[0].households == 2500
    assert records[-1].history_user == actor


# ================================================================ workers


def test_worker_create_derives_gender_and_birth(world):
    number = make_id_number("220102", dt.date(1988, 8, 8), 3, "女")
    w = worker_create(actor=system_actor("command"), **_worker_data(world.c1, id_number=number))
    w.refresh_from_db()
    assert w.gender == "女"
    assert w.birth_date == dt.date(1988, 8, 8)
    assert w.status == Worker.Status.ACTIVE


def test_worker_create_accepts_matching_gender_and_birth(world):
    number = make_id_number("220102", dt.date(1979, 1, 2), 7, "男")
    w = worker_create(actor=system_actor("command"), **_worker_data(world.c1, id_number=number, gender="男", birth_date=dt.date(1979, 1, 2)))
    assert (w.gender, w.birth_date) == ("男", dt.date(1979, 1, 2))


def test_worker_create_rejects_disagreeing_gender(world):
    number = make_id_number("220102", dt.date(1988, 8, 8), 3, "女")
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c1, id_number=number, gender="男"))
    assert exc.value.field == "gender"
    assert "与公民身份号码不符" in exc.value.message
    assert "女" in exc.value.message
    assert not Worker.objects.filter(id_number_hash=search_hash(number)).exists()


def test_worker_create_rejects_disagreeing_birth_date(world):
    number = make_id_number("220102", dt.date(1988, 8, 8), 3, "女")
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c1, id_number=number, birth_date=dt.date(1988, 8, 9)))
    assert exc.value.field == "birth_date"
    assert "1988-08-08" in exc.value.message
    assert "不符" in exc.value.message


def test_worker_create_rejects_bad_id_number(world):
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c1, id_number="220102850314001"))
    assert exc.value.field == "id_number"
    assert "15 位" in exc.value.message


def test_worker_create_rejects_duplicate_id_number(world):
    plain = worker_reveal(worker=world.w1, actor=world.users["province"], field="id_number")
    # the same number typed differently (lowercase, spaces) is still the same person
    typed = " ".join([plain[:6], plain[6:14], plain[14:].lower()])
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c2, name="冒名", id_number=typed))
    assert exc.value.field == "id_number"
    assert "公民身份号码" in exc.value.message
    assert "已登记" in exc.value.message
    assert not Worker.objects.filter(name="冒名").exists()


def test_worker_update_rejects_taking_another_workers_id_number(world):
    plain = worker_reveal(worker=world.w1, actor=world.users["province"], field="id_number")
    with pytest.raises(ApplicationError) as exc:
        worker_update(actor=system_actor("command"), worker=world.w2, id_number=plain)
    assert exc.value.field == "id_number"
    world.w2.refresh_from_db()
    assert world.w2.id_number_hash != search_hash(plain)


def test_worker_id_number_stored_encrypted(world):
    number = make_id_number("220102", dt.date(1988, 8, 8), 3, "女")
    w = worker_create(actor=system_actor("command"), **_worker_data(world.c1, id_number=number, phone="13812345678"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id_number_encrypted, id_number_hash, id_number_masked, phone_encrypted, phone_masked "
            f"FROM {Worker._meta.db_table} WHERE id = %s", [w.pk])
        enc, digest, masked, phone_enc, phone_masked = cursor.fetchone()
    assert number not in enc
    assert number[6:14] not in enc
    assert enc
    assert digest != number
    assert number not in digest
    assert len(digest) == 64
    assert masked == number[:6] + "*" * 8 + number[-4:]
    assert "13812345678" not in phone_enc
    assert phone_masked == "138****5678"
    # the history table never holds the plain number either
    for row in w.history.all().values():
        assert all(number not in str(v) for v in row.values())


def test_worker_create_accepts_short_forms(world):
    w = worker_create(actor=system_actor("command"), **_worker_data(world.c1, ethnicity="汉", political_status="党员", education="本科",
                                     category="专职"))
    w.refresh_from_db()
    assert w.ethnicity == "01"
    assert w.political_status == "01"
    assert w.education == "21"
    assert w.category == Worker.Category.FULL_TIME
    assert w.get_ethnicity_display() == "汉族"
    assert w.get_education_display() == "大学本科"


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("ethnicity", "火星", "民族"),
        ("political_status", "自由人", "政治面貌"),
        ("education", "幼儿园", "学历"),
        ("category", "临时工", "人员类别"),
        ("status", "失踪", "状态"),
        ("phone", "1381234567", "11 位"),
        ("phone", "abc", "联系电话"),
    ],
)
def test_worker_create_rejects_unknown_values(world, field, value, fragment):
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c1, **{field: value}))
    assert exc.value.field == field
    assert fragment in exc.value.message
    assert exc.value.errors == {field: [exc.value.message]}


def test_worker_create_required_fields(world):
    for field in ("name", "id_number", "community"):
        data = _worker_data(world.c1)
        data[field] = ""
        with pytest.raises(ApplicationError) as exc:
            worker_create(actor=system_actor("command"), **data)
        assert exc.value.field == field
        assert "不能为空" in exc.value.message


def test_worker_create_unknown_field(world):
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c1, shoe_size=42))
    assert exc.value.field is None
    assert "shoe_size" in exc.value.message
    assert exc.value.errors == {"__all__": [exc.value.message]}


def test_worker_create_model_rules_name_their_field(world):
    # community must be a community: a full_clean error turned into ApplicationError.field
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c1.parent))
    assert exc.value.field == "community"
    assert "不是社区" in exc.value.message
    assert "所在社区" in exc.value.message
    # post start before work start
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c1, work_start_date=dt.date(2012, 1, 1),
                                     post_start_date=dt.date(2011, 1, 1)))
    assert exc.value.field == "post_start_date"
    assert "社工岗入职日期" in exc.value.message
    # work start before 16th birthday (born 1988-08-08)
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c1, work_start_date=dt.date(2003, 1, 1)))
    assert exc.value.field == "work_start_date"
    assert "16 周岁" in exc.value.message


def test_worker_create_checks_actor_scope(world):
    # out of the actor's change scope: shegong.access.Forbidden (403; was a 400 ApplicationError)
    with pytest.raises(Forbidden, match="您无权在“幸福社区”管理社区工作者"):
        worker_create(actor=world.users["community"], **_worker_data(world.c2))
    w = worker_create(actor=world.users["community"], **_worker_data(world.c1))
    assert w.history.get().history_user == world.users["community"]


def test_application_error_from_validation_error():
    err = ApplicationError.from_validation_error(
        ValidationError({"name": "姓名不能为空", "birth_date": "太早"}), {"name": "姓名", "birth_date": "出生日期"})
    assert err.field == "name"
    assert err.message == "姓名:姓名不能为空;出生日期:太早"
    assert err.errors == {"name": ["姓名不能为空"], "birth_date": ["太早"]}
    plain = ApplicationError.from_validation_error(ValidationError("整体错误"))
    assert plain.field is None
    assert plain.errors == {"__all__": ["整体错误"]}
    assert str(ApplicationError("x", field="phone", clause="4.1")) == "x"
    assert ApplicationError("x", clause="4.1").clause == "4.1"


# ---------------------------------------------------------------- worker_list / reveal


def test_worker_list_by_full_id_number(world):
    user = world.users["province"]
    plain = worker_reveal(worker=world.w2, actor=user, field="id_number")
    assert list(worker_list(actor=user, q=plain)) == [world.w2]
    assert list(worker_list(actor=user, q=f" {plain[:9]} {plain[9:].lower()} ")) == [world.w2]
    assert worker_find_by_id_number(id_number=plain) == world.w2


def test_worker_list_by_id_number_respects_scope(world):
    plain = worker_reveal(worker=world.w_other, actor=world.users["province"], field="id_number")
    assert list(worker_list(actor=world.users["province"], q=plain)) == [world.w_other]
    assert list(worker_list(actor=world.users["city"], q=plain)) == []


def test_worker_list_by_name_fragment(world):
    factories.WorkerFactory(name="张小红", community=world.c2)
    user = world.users["city"]
    names = [w.name for w in worker_list(actor=user, q="张")]
    assert sorted(names) == ["张三", "张小红"]
    assert [w.name for w in worker_list(actor=user, q="李")] == ["李四"]
    assert list(worker_list(actor=user, q="不存在的人")) == []
    # a partial ID number does not search the encrypted column
    partial = worker_reveal(worker=world.w1, actor=world.users["province"], field="id_number")[:10]
    assert list(worker_list(actor=user, q=partial)) == []


def test_worker_list_filters_and_scope(world):
    assert set(worker_list(actor=world.users["street"])) == {world.w1, world.w2}
    assert list(worker_list(actor=world.users["city"], community="220102002000")) == [world.w3]
    assert list(worker_list(actor=world.users["nobody"])) == []
    assert list(worker_list(actor=world.users["worker"])) == [world.w1]


def test_worker_reveal_logs_and_returns_plain(world):
    number = make_id_number("220102", dt.date(1990, 10, 1), 11, "男")
    w = worker_create(actor=system_actor("command"), **_worker_data(world.c1, id_number=number.lower(), phone="138 1234 5678"))
    user = world.users["community"]
    before = AccessLog.objects.count()
    assert worker_reveal(worker=w, actor=user, field="id_number", ip="10.0.0.8") == number
    assert AccessLog.objects.count() == before + 1
    log = AccessLog.objects.latest("at")
    assert log.user == user
    assert log.action == AccessLog.Action.REVEAL_ID
    assert log.object_type == "people.worker"
    assert log.object_id == str(w.pk)
    assert log.object_label == w.name
    assert log.ip == "10.0.0.8"
    assert worker_reveal(worker=w, actor=user, field="phone") == "13812345678"
    assert AccessLog.objects.filter(action=AccessLog.Action.REVEAL_PHONE, object_id=str(w.pk)).count() == 1


@pytest.mark.parametrize(("role", "target"), [("nobody", "w1"), ("training", "w1"), ("community", "w2"),
                                              ("city", "w_other"), ("worker", "w2")])
def test_worker_reveal_refused_without_scope(world, role, target):
    user = world.users[role]
    worker = getattr(world, target)
    before = AccessLog.objects.count()
    with pytest.raises(Forbidden, match="您无权查看完整信息"):
        worker_reveal(worker=worker, actor=user, field="id_number")
    assert AccessLog.objects.count() == before


def test_worker_reveal_own_record_and_bad_field(world):
    me = world.users["worker"]
    assert worker_reveal(worker=world.w1, actor=me, field="id_number").startswith(world.w1.id_number_masked[:6])
    with pytest.raises(ApplicationError) as exc:
        worker_reveal(worker=world.w1, actor=me, field="name")
    assert exc.value.field == "field"


# ---------------------------------------------------------------- history


def test_worker_history_after_update(world):
    user = world.users["community"]
    w = worker_create(actor=system_actor("command"), **_worker_data(world.c1))
    worker_update(worker=w, actor=user, education="研究生", reason="学历提升")
    records = list(w.history.order_by("history_date", "history_id"))
    assert len(records) == 2
    first, latest = records
    assert w.history.latest().history_id == latest.history_id
    assert first.history_type == "+"
    assert first.history_user is None
    assert first.history_change_reason == "命令行:登记社区工作者"  # a system actor: its label, then the reason
    assert latest.history_type == "~"
    assert latest.history_user == user
    assert latest.history_change_reason == "学历提升"
    assert first.education == "21"
    assert latest.education == "14"
    assert latest.education != first.education
    delta = latest.diff_against(first)
    assert "education" in delta.changed_fields
    assert "id_number_hash" not in delta.changed_fields


def test_worker_update_same_id_number_keeps_ciphertext(world):
    w = world.w1
    plain = worker_reveal(worker=w, actor=world.users["province"], field="id_number")
    enc = w.id_number_encrypted
    worker_update(actor=system_actor("command"), worker=w, id_number=plain.lower(), name="张三丰")
    w.refresh_from_db()
    assert w.id_number_encrypted == enc
    assert w.name == "张三丰"


def test_worker_update_gender_checked_against_stored_id(world):
    w = world.w1  # factory numbers are male by default
    with pytest.raises(ApplicationError) as exc:
        worker_update(actor=system_actor("command"), worker=w, gender="女")
    assert exc.value.field == "gender"
    w.refresh_from_db()
    assert w.gender == "男"


# ================================================================ appointments


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("党组织书记", "party_secretary"),
        ("书记", "party_secretary"),
        ("居委会主任", "rc_director"),
        ("主任", "rc_director"),
        ("副主任", "rc_deputy_director"),
        ("居委会副主任", "rc_deputy_director"),
        ("兼职委员", "party_parttime_member"),
        ("党组织兼职委员", "party_parttime_member"),
        ("rc_member", "rc_member"),
        ("专职党建“社工岗”", "party_building_worker"),
    ],
)
def test_appointment_create_with_names_and_variants(world, value, code):
    a = appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type=value, method="选举",
                           start_date=dt.date(2021, 1, 5))
    a.refresh_from_db()
    assert a.post_type.code == code
    assert a.end_date is None
    assert a.is_current
    assert a.history.count() == 1
    assert a.history.get().history_change_reason == f"命令行:任命{a.post_type.name}"


def test_appointment_unknown_post_and_method(world):
    with pytest.raises(ApplicationError) as exc:
        appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type="总经理", method="选举",
                           start_date=dt.date(2021, 1, 5))
    assert exc.value.field == "post_type"
    assert "DB22/T 3226" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type="书记", method="抽签",
                           start_date=dt.date(2021, 1, 5))
    assert exc.value.field == "method"
    a = appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type="书记", method="指派",
                           start_date=dt.date(2021, 1, 5))
    assert a.method == Appointment.Method.ASSIGNED


def test_post_type_lookup_seeded():
    assert PostType.objects.count() >= 14
    assert post_type_lookup(" 书 记 ").code == "party_secretary"


def test_appointment_rejects_overlap_of_same_post(world):
    factories.appoint(world.w1, "书记", start=dt.date(2021, 1, 5))
    with pytest.raises(ApplicationError) as exc:
        factories.appoint(world.w1, "党组织书记", start=dt.date(2022, 3, 1))
    assert exc.value.field == "post_type"
    assert "重叠" in exc.value.message
    # a closed term that overlaps the open one is rejected too
    with pytest.raises(ApplicationError, match="重叠"):
        appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type="书记", method="选举",
                           start_date=dt.date(2020, 1, 1), end_date=dt.date(2021, 6, 1))
    # a closed term that ends on the day the open one starts does not overlap
    earlier = appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type="书记", method="选举",
                                 start_date=dt.date(2018, 1, 5), end_date=dt.date(2021, 1, 5))
    assert earlier.pk
    # a different post at the same time is fine
    assert factories.appoint(world.w1, "主任", start=dt.date(2021, 1, 5)).post_type.code == "rc_director"
    assert Appointment.objects.filter(worker=world.w1, post_type__code="party_secretary").count() == 2


def test_appointment_after_previous_term_ended(world):
    first = factories.appoint(world.w1, "主任", start=dt.date(2018, 1, 5))
    appointment_end(actor=system_actor("command"), appointment=first, end_date=dt.date(2021, 1, 5), end_reason="换届")
    second = factories.appoint(world.w1, "主任", start=dt.date(2021, 1, 5))
    assert second.pk != first.pk


def test_appointment_rejects_non_community_division(world):
    street = world.c1.parent
    assert street.level == Division.Level.STREET
    with pytest.raises(ApplicationError) as exc:
        appointment_create(actor=system_actor("command"), worker=world.w1, community=street, post_type="书记", method="选举",
                           start_date=dt.date(2021, 1, 5))
    assert exc.value.field == "community"
    assert "不是社区" in exc.value.message
    assert not Appointment.objects.filter(worker=world.w1).exists()


def test_appointment_rejects_retired_worker_for_current_post(world):
    worker_update(actor=system_actor("command"), worker=world.w1, status="退休")
    with pytest.raises(ApplicationError) as exc:
        factories.appoint(world.w1, "主任")
    assert exc.value.field == "worker"
    assert "退休" in exc.value.message
    # a past (closed) term may still be recorded for a retired worker
    past = appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type="主任", method="选举",
                              start_date=dt.date(2015, 1, 5), end_date=dt.date(2018, 1, 5))
    assert past.end_date == dt.date(2018, 1, 5)


def test_appointment_rejects_under_18(world):
    young = factories.WorkerFactory(community=world.c1,
                                    id_number=make_id_number("220102", dt.date(2004, 6, 1), 5, "女"),
                                    work_start_date=None, post_start_date=None)
    with pytest.raises(ApplicationError) as exc:
        factories.appoint(young, "社工", start=dt.date(2022, 5, 31))
    assert exc.value.field == "start_date"
    assert "18 周岁" in exc.value.message
    assert factories.appoint(young, "社工", start=dt.date(2022, 6, 1), method="聘用").pk


def test_appointment_checks_actor_scope(world):
    with pytest.raises(Forbidden, match="无权"):
        appointment_create(worker=world.w2, community=world.c2, post_type="主任", method="选举",
                           start_date=dt.date(2021, 1, 5), actor=world.users["community"])
    a = appointment_create(worker=world.w1, community=world.c1, post_type="主任", method="选举",
                           start_date=dt.date(2021, 1, 5), actor=world.users["community"])
    assert a.history.get().history_user == world.users["community"]


def test_appointment_end_keeps_row(world):
    a = factories.appoint(world.w1, "主任")
    user = world.users["street"]
    appointment_end(appointment=a, end_date=dt.date(2023, 12, 31), end_reason=" 换届 ", actor=user)
    a = Appointment.objects.get(pk=a.pk)
    assert a.end_date == dt.date(2023, 12, 31)
    assert a.end_reason == "换届"
    assert not a.is_current
    records = list(a.history.order_by("history_date", "history_id"))
    assert len(records) == 2
    assert records[-1].history_user == user
    assert records[-1].history_change_reason == "居委会主任离任"
    assert records[0].end_date is None


def test_appointment_end_same_day_as_start_allowed(world):
    a = factories.appoint(world.w1, "主任")
    appointment_end(actor=system_actor("command"), appointment=a, end_date=a.start_date)
    a.refresh_from_db()
    assert a.end_date == a.start_date


def test_appointment_end_before_start_refused(world):
    a = factories.appoint(world.w1, "主任", start=dt.date(2021, 1, 5))
    with pytest.raises(ApplicationError) as exc:
        appointment_end(actor=system_actor("command"), appointment=a, end_date=dt.date(2021, 1, 4))
    assert exc.value.field == "end_date"
    assert "早于任职日期" in exc.value.message
    a.refresh_from_db()
    assert a.end_date is None


def test_appointment_end_twice_refused(world):
    a = factories.appoint(world.w1, "主任")
    appointment_end(actor=system_actor("command"), appointment=a, end_date=dt.date(2022, 1, 1), end_reason="调动")
    with pytest.raises(ApplicationError) as exc:
        appointment_end(actor=system_actor("command"), appointment=a, end_date=dt.date(2023, 1, 1), end_reason="再次")
    assert exc.value.field == "end_date"
    assert "2022-01-01" in exc.value.message
    assert "离任" in exc.value.message
    a.refresh_from_db()
    assert a.end_date == dt.date(2022, 1, 1)
    assert a.end_reason == "调动"


def test_appointment_end_checks_scope(world):
    a = factories.appoint(world.w2, "主任")
    with pytest.raises(Forbidden, match="无权"):
        appointment_end(appointment=a, end_date=dt.date(2022, 1, 1), actor=world.users["community"])
    a.refresh_from_db()
    assert a.end_date is None


def test_active_on_semantics(world):
    closed = factories.appoint(world.w1, "主任", start=dt.date(2021, 1, 5))
    appointment_end(actor=system_actor("command"), appointment=closed, end_date=dt.date(2022, 6, 30))
    open_ = factories.appoint(world.w2, "主任", community_obj=world.c2, start=dt.date(2022, 1, 1))

    def active(day):
        return set(Appointment.objects.active_on(day))

    assert active(dt.date(2021, 1, 4)) == set()  # before start
    assert active(dt.date(2021, 1, 5)) == {closed}  # on the start day
    assert active(dt.date(2021, 12, 31)) == {closed}
    assert active(dt.date(2022, 1, 1)) == {closed, open_}
    assert active(dt.date(2022, 6, 29)) == {closed, open_}
    assert active(dt.date(2022, 6, 30)) == {open_}  # ended by the end date
    assert active(dt.date(2040, 1, 1)) == {open_}  # open-ended stays active


def test_worker_create_reports_every_bad_field_at_once(world):
    """Bad input: every field's error comes back together, naming each field; nothing is written."""
    before = Worker.objects.count()
    with pytest.raises(ApplicationError) as exc:
        worker_create(actor=system_actor("command"), **_worker_data(world.c1, id_number="220102199001011235", phone="1381234",
                                     ethnicity="火星", category="临时工"))
    assert set(exc.value.errors) == {"id_number", "phone", "ethnicity", "category"}
    assert "校验码" in exc.value.errors["id_number"][0]
    for label in ("公民身份号码", "联系电话", "民族", "人员类别"):
        assert label in exc.value.message
    assert Worker.objects.count() == before


def test_worker_cannot_leave_while_holding_a_post(world):
    appointment = appointment_create(actor=system_actor("command"), worker=world.w1, community=world.c1, post_type="书记", method="选举",
                                     start_date=dt.date(2021, 1, 5))
    with pytest.raises(ApplicationError) as exc:
        worker_update(actor=system_actor("command"), worker=world.w1, status="辞职")
    assert exc.value.field == "status" and "党组织书记" in exc.value.message
    world.w1.refresh_from_db()
    assert world.w1.status == "在岗"
    appointment_end(actor=system_actor("command"), appointment=appointment, end_date=dt.date(2024, 6, 30), end_reason="辞职")
    worker_update(actor=system_actor("command"), worker=world.w1, status="辞职")
    world.w1.refresh_from_db()
    assert world.w1.status == "辞职"
