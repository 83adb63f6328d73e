"""One set of write rules for both paths (issue 10, point 3): every bad case goes through the single-row
service (worker_create / worker_update / appointment_create, as a community administrator) and through
the roster import (a real .xlsx written here with openpyxl, imported by the same user), and both answer
with the same Chinese message (the import's report adds sheet, row and column) and change nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest

from shegong.common.crypto import decrypt
from shegong.common.errors import ApplicationError
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.people.services import worker_create, worker_update
from shegong.roster.imports import import_roster
from shegong.staffing.models import Appointment
from shegong.staffing.services import appointment_create
from shegong.staffing.validators import Term, check_overlap, overlapping_pairs
from tests import factories

pytestmark = pytest.mark.django_db

START = dt.date(2021, 1, 5)
PEOPLE_HEADERS = ["姓名", "公民身份号码", "所在社区代码", "联系电话", "参加工作日期", "社工岗入职日期", "状态"]
APPOINTMENT_HEADERS = ["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期", "离任日期"]


def xlsx(name: str, headers: list[str], row: list[Any]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = name
    ws.append(headers)
    ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def state() -> dict[str, Any]:
    """Every row's version and the history counts: equal before and after means nothing was written."""
    return {m.__name__: (sorted(m.objects.values_list("pk", *(["row_version"] if m is not Division else []))),
                         m.history.count()) for m in (Division, Worker, Appointment)}


@dataclass
class Case:
    """`setup(world)` returns the worker the case is about (made as the rule needs it); `service(world,
    worker, actor)` makes the bad write; `sheet(world, worker)` is the same write as one import row:
    (sheet name, headers, row). `column`: the header the import names."""

    id: str
    setup: Callable[[Any], Worker]
    service: Callable[[Any, Worker, Any], Any]
    sheet: Callable[[Any, Worker], tuple[str, list[str], list[Any]]]
    column: str


def the_worker(world: Any) -> Worker:
    return world.w1


def minor(world: Any) -> Worker:
    birth = dt.date(2005, 3, 14)  # 15 on START
    return factories.WorkerFactory(name="小明", community=world.c1, id_number=factories.id_number(birth=birth),
                                   work_start_date=None, post_start_date=None)


def retired(world: Any) -> Worker:
    return factories.WorkerFactory(name="老赵", community=world.c1, status="退休")


def holding_a_post(world: Any) -> Worker:
    factories.appoint(world.w1, "普通社工", start=START, method="聘用")
    return Worker.objects.get(pk=world.w1.pk)


def ident(worker: Worker) -> str:
    return decrypt(worker.id_number_encrypted)


def appoint_service(start: Any = START, end: Any = None, method: str = "聘用") -> Callable[[Any, Worker, Any], Any]:
    def call(world: Any, worker: Worker, actor: Any) -> Any:
        return appointment_create(actor=actor, worker=worker, community=world.c1, post_type="普通社工",
                                  method=method, start_date=start, end_date=end)
    return call


def appoint_row(start: Any = START, end: Any = None, method: str = "聘用"
                ) -> Callable[[Any, Worker], tuple[str, list[str], list[Any]]]:
    def row(world: Any, worker: Worker) -> tuple[str, list[str], list[Any]]:
        return "任职", APPOINTMENT_HEADERS, [ident(worker), world.c1.code, "普通社工", method, start, end]
    return row


def person_row(name: str | None = "新人", phone: str = "13900000000", work: Any = None, post: Any = None,
               status: str = "在岗", number: str | None = None
               ) -> Callable[[Any, Worker], tuple[str, list[str], list[Any]]]:
    def row(world: Any, worker: Worker) -> tuple[str, list[str], list[Any]]:
        return "人员", PEOPLE_HEADERS, [name, number or worker.test_id_number, world.c1.code, phone, work, post, status]
    return row


def new_person(world: Any) -> Worker:
    """Not registered: a Worker object only to carry the ID number of the person the case registers."""
    unsaved = Worker(name="新人", community=world.c1)
    unsaved.test_id_number = factories.id_number()  # type: ignore[attr-defined]
    return unsaved


def create_service(**fields: Any) -> Callable[[Any, Worker, Any], Any]:
    def call(world: Any, worker: Worker, actor: Any) -> Any:
        data = {"name": "新人", "id_number": worker.test_id_number, "community": world.c1,  # type: ignore[attr-defined]
                "phone": "13900000000", **fields}
        return worker_create(actor=actor, **data)
    return call


def leaver_row(world: Any, worker: Worker) -> tuple[str, list[str], list[Any]]:
    return "人员", ["姓名", "公民身份号码", "所在社区代码", "状态"], [worker.name, ident(worker), world.c1.code, "退休"]


CASES = [
    # 任职 (shegong/staffing/validators.py)
    Case("method", the_worker, appoint_service(method="抽签"), appoint_row(method="抽签"), "任职方式"),
    Case("start_missing", the_worker, appoint_service(start=None), appoint_row(start=None), "任职日期"),
    Case("start_implausible", the_worker, appoint_service(start=dt.date(1899, 12, 31)),
         appoint_row(start="1899-12-31"), "任职日期"),
    Case("end_before_start", the_worker, appoint_service(end=dt.date(2020, 1, 1)),
         appoint_row(end=dt.date(2020, 1, 1)), "离任日期"),
    Case("min_age", minor, appoint_service(), appoint_row(), "任职日期"),
    Case("not_active_current_post", retired, appoint_service(), appoint_row(), "离任日期"),
    Case("overlap", holding_a_post, appoint_service(start=dt.date(2022, 3, 1)),
         appoint_row(start=dt.date(2022, 3, 1)), "任职日期"),
    # 人员 (shegong/people/validators.py, normalize_worker_input, worker_date_errors)
    Case("name_missing", new_person, create_service(name=""), person_row(name=None), "姓名"),
    Case("phone", new_person, create_service(phone="12345"), person_row(phone="12345"), "联系电话"),
    Case("post_before_work", new_person,
         create_service(work_start_date=dt.date(2015, 1, 1), post_start_date=dt.date(2010, 1, 1)),
         person_row(work=dt.date(2015, 1, 1), post=dt.date(2010, 1, 1)), "社工岗入职日期"),
    Case("leaver_in_post", holding_a_post, lambda world, worker, actor: worker_update(
        worker=worker, actor=actor, status="退休"), leaver_row, "状态"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_service_and_the_import_refuse_with_the_same_message(world, case: Case):
    actor = world.users["community"]
    worker = case.setup(world)
    before = state()

    with pytest.raises(ApplicationError) as refused:
        case.service(world, worker, actor)
    service_message = refused.value.message
    assert state() == before

    sheet, headers, row = case.sheet(world, worker)
    result = import_roster(xlsx(sheet, headers, row), "rules.xlsx", actor=actor)
    assert not result.ok
    assert state() == before
    found = [(e.sheet, e.row, e.column, e.message) for e in result.errors]
    assert (sheet, 2, case.column, service_message) in found, (service_message, found)


def test_every_case_has_a_chinese_message_naming_something(world):
    """The table above is not vacuous: each case's message is Chinese and distinct."""
    actor = world.users["community"]
    messages = []
    for case in CASES:
        worker = case.setup(world)
        try:
            case.service(world, worker, actor)
        except ApplicationError as exc:
            messages.append(exc.message)
        Appointment.objects.filter(worker=world.w1).delete()  # the cases that appoint w1 start over
    assert len(set(messages)) == len(CASES)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in messages)


# ---- the overlap rule, single-row and set-based ------------------------------------------------------

D = dt.date


@pytest.mark.parametrize(("a", "b", "overlap"), [
    ((D(2020, 1, 1), None), (D(2021, 1, 1), None), True),
    ((D(2020, 1, 1), D(2021, 1, 1)), (D(2021, 1, 1), None), False),   # ends the day the next starts
    ((D(2020, 1, 1), D(2021, 1, 2)), (D(2021, 1, 1), None), True),
    ((D(2022, 1, 1), None), (D(2020, 1, 1), D(2021, 1, 1)), False),
    ((D(2020, 1, 1), D(2020, 6, 1)), (D(2019, 1, 1), D(2020, 2, 1)), True),
])
def test_check_overlap_and_the_sweep_agree(a, b, overlap):
    message = check_overlap([Term(*a)], Term(*b), name="张三", post_name="普通社工")
    assert (message is not None) is overlap
    assert bool(overlapping_pairs([Term(*a), Term(*b)])) is overlap


def test_the_sweep_finds_a_long_term_overlapping_a_later_non_adjacent_one():
    long = Term(D(2000, 1, 1), None, "long")
    short = Term(D(2001, 1, 1), D(2002, 1, 1), "short")
    later = Term(D(2005, 1, 1), None, "later")
    pairs = {(x.ref, y.ref) for x, y in overlapping_pairs([later, short, long])}
    assert pairs == {("long", "short"), ("long", "later")}
