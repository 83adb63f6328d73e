"""Test data through the real services (validation, encryption and history apply)."""

from __future__ import annotations

import datetime as dt
import itertools

import factory

from shegong.access import system_actor
from shegong.accounts.models import User
from shegong.accounts.services import user_create
from shegong.org.models import Division
from shegong.org.services import division_create
from shegong.people.idnumber import make_id_number
from shegong.people.models import Worker
from shegong.people.services import worker_create
from shegong.staffing.models import Appointment
from shegong.staffing.services import appointment_create

_seq = itertools.count(1)


def id_number(region: str = "220102", birth: dt.date = dt.date(1985, 3, 14), gender: str = "男") -> str:
    """A fresh checksum-valid ID number (unique per call)."""
    n = next(_seq)
    day = birth + dt.timedelta(days=n // 40)
    return make_id_number(region, day, n % 40 * 2 + (1 if gender == "男" else 0), gender)


def community(code: str, name: str = "", households: int | None = 2500, **attrs) -> Division:
    existing = Division.objects.filter(code=code).first()
    if existing:
        return existing
    street = code[:9]
    return division_create(actor=system_actor("command"), code=code, name=name or f"测试{code[-3:]}社区", households=households,
                           parent_names={street: f"测试{street[-3:]}街道"}, **attrs)


class WorkerFactory(factory.Factory):
    class Meta:
        model = Worker

    name = factory.Sequence(lambda n: f"测试人{n}")
    id_number = factory.LazyFunction(id_number)
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    ethnicity = "汉族"
    political_status = "中共党员"
    education = "本科"
    category = "专职社区工作者"
    work_start_date = dt.date(2008, 7, 1)
    post_start_date = dt.date(2015, 3, 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if "community" not in kwargs:
            kwargs["community"] = community("220102001001")
        return worker_create(actor=system_actor("command"), **kwargs)


def appoint(worker: Worker, post: str, community_obj: Division | None = None, start: dt.date = dt.date(2021, 1, 5),
            method: str = "选举") -> Appointment:
    return appointment_create(actor=system_actor("command"), worker=worker, community=community_obj or worker.community, post_type=post,
                              method=method, start_date=start)


def user(username: str, role: str, scope: str, worker: Worker | None = None, password: str = "Test-pass-2021") -> User:
    return user_create(actor=system_actor("command"), username=username, password=password, role=role, scope=scope, worker=worker, validate=False)


def world_users(worker: Worker) -> dict[str, User]:
    """The seven accounts of the test world (tests/conftest.py `world`, the route matrix): a civil-affairs admin
    on the province and on 长春市, a street admin on 220102001, a community admin on 东风社区, a view-only training
    admin on 长春市, `worker`'s own account, and a user without any grant."""
    return {
        "province": user("province", "civil_affairs", "22"),
        "city": user("city", "civil_affairs", "2201"),
        "street": user("street", "street_admin", "220102001"),
        "community": user("community", "community_admin", "220102001001"),
        "training": user("training", "training_admin", "2201"),
        "worker": user("worker", "worker", "220102001001", worker=worker),
        "nobody": User.objects.create_user("nobody", password="Test-pass-2021"),
    }
