"""Change logs (shegong.common.history) name people and system actors as a user reads them (issue 11,
point 10): a person by their 姓名, never their login name; a command, the demo loader or an import by its
Chinese label; never a command line such as "(shegong demo)"."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shegong.access import system_actor
from shegong.accounts.services import user_create
from shegong.common.history import clean_reason, history_entries, system_who
from shegong.people.models import Worker
from shegong.people.services import worker_update

PASSWORD = "Test-pass-2021"


def _user(username: str, display_name: str = "", worker: Worker | None = None, role: str = "community_admin",
          scope: str = "220102001001"):
    return user_create(actor=system_actor("command"), username=username, password=PASSWORD, role=role,
                       scope=scope, display_name=display_name, worker=worker, validate=False)


def _entries(worker: Worker):
    records = list(worker.history.select_related("history_user").order_by("history_date", "history_id"))
    return history_entries(records, Worker)


def test_a_person_is_named_by_their_name_never_the_login(world):
    named = _user("clerk_wang", display_name="王秀兰")
    unnamed = _user("clerk_x")
    own = _user("lisi_login", worker=world.w2, role="street_admin", scope="220102")  # no display_name
    worker_update(worker=world.w1, actor=named, reason="网页修改", name="张三一")
    worker_update(worker=world.w1, actor=own, reason="网页修改", name="张三二")
    worker_update(worker=world.w1, actor=unnamed, reason="网页修改", name="张三三")
    whos = [e.who for e in _entries(world.w1)]
    assert whos[:3] == [f"未登记姓名的账号(编号 {unnamed.pk})", "李四", "王秀兰"]
    assert not {"clerk_wang", "clerk_x", "lisi_login"} & set(whos)


def test_system_actors_show_their_chinese_label(world):
    worker_update(worker=world.w2, actor=system_actor("command"), reason="更正姓名", name="李四一")
    worker_update(worker=world.w2, actor=system_actor("command"), name="李四二")
    worker_update(worker=world.w2, actor=system_actor("demo"), reason="演示数据(shegong demo)", name="李四三")
    newest = _entries(world.w2)[:3]
    assert [(e.who, e.reason) for e in newest] == [("演示数据", ""), ("命令行", "修改社区工作者信息"),
                                                    ("命令行", "更正姓名")]
    assert all("shegong" not in f"{e.who}{e.reason}" for e in _entries(world.w2))


def test_reasons_are_cleaned_and_labels_recognised():
    assert clean_reason("演示数据(shegong demo)") == "演示数据"
    assert clean_reason("演示数据(shegong demo --if-empty)") == "演示数据"
    assert clean_reason("网页修改") == "网页修改"
    assert system_who("命令行:导入 名单.xlsx") == ("命令行", "导入 名单.xlsx")
    assert system_who("后台任务:重算") == ("后台任务", "重算")
    assert system_who("花名册导入") == ("花名册导入", "")
    assert system_who("导入 名单.xlsx") == ("系统", "导入 名单.xlsx")  # no label at its head: 系统
    assert system_who("吊销令牌(abc)") == ("系统", "吊销令牌(abc)")
    assert system_who("") == ("系统", "")


def test_the_worker_page_shows_names_in_a_fixed_number_of_queries(world):
    """The names come with the records (history_user selected) and, for accounts without a 姓名, one
    query for their workers' names — not one per entry."""
    names = [_user(f"clerk{i}", worker=w, role="street_admin", scope="220102")
             for i, w in enumerate((world.w2, world.w3))]
    c = Client()
    c.force_login(world.users["community"])
    c.get(f"/workers/{world.w1.pk}/")
    worker_update(worker=world.w1, actor=names[0], reason="网页修改", name="张三一")
    with CaptureQueriesContext(connection) as one:
        c.get(f"/workers/{world.w1.pk}/")
    for i in range(6):
        worker_update(worker=world.w1, actor=names[i % 2], reason="网页修改", name=f"张三{i}")
    with CaptureQueriesContext(connection) as many:
        resp = c.get(f"/workers/{world.w1.pk}/")
    assert len(many.captured_queries) == len(one.captured_queries)
    body = resp.content.decode()
    assert "李四" in body and "王五" in body  # the accounts' workers' names
    assert "clerk0" not in body and "clerk1" not in body
