"""Lost updates (issue 9): two simultaneous PATCHes of one record must never lose a change silently.

Each pair runs in two threads, each with its own database connection, released together by a barrier.
Without If-Match both writers change different fields and both changes must be there afterwards; with
the same If-Match (both read version N) exactly one wins and the other answers 412 — its change is
refused, not silently lost. The suite runs on SQLite (here on a database file, as served: WAL, BEGIN
IMMEDIATE) and, with DATABASE_URL, on PostgreSQL (row locks).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend
from django.test import Client

from shegong.access import system_actor
from shegong.accounts.services import token_create
from shegong.archives import services as archive_services
from shegong.archives.models import ArchiveRecord
from shegong.common.crypto import decrypt
from shegong.people.models import Worker
from tests import factories

PAIRS = 50
# Transactional (the threads see each other's commits); serialized_rollback brings the seeded rows (roles,
# post types) back and keeps the flush from re-creating content types that a later serialized test
# restores (tests/accounts/test_login_throttle.py).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


ON_FILE: dict[str, Any] = {}  # the settings of the SQLite database file, while a test runs on one


def _use_file() -> None:
    """Point this thread's connection at the database file (if the test runs on one)."""
    if ON_FILE:
        backend = load_backend(ON_FILE["ENGINE"])
        connections[DEFAULT_DB_ALIAS] = backend.DatabaseWrapper(dict(ON_FILE), DEFAULT_DB_ALIAS)


@pytest.fixture
def database_file(transactional_db) -> Iterator[None]:
    """On SQLite, run the test on a database file, as a server does (the test database is in memory,
    where SQLite's shared cache locks whole tables instead of waiting): the test database is copied to
    a file and this thread and the request threads connect to it. PostgreSQL is used as it is."""
    if connection.vendor != "sqlite":
        yield
        return
    folder = Path(tempfile.mkdtemp(prefix="shegong-concurrency-"))
    path = folder / "db.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(path)])
    memory = connections[DEFAULT_DB_ALIAS]  # kept open: closing it would drop the in-memory database
    ON_FILE.update(connection.settings_dict, NAME=str(path))
    _use_file()
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS].close()
        connections[DEFAULT_DB_ALIAS] = memory
        ON_FILE.clear()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def admin(database_file) -> Any:
    factories.community("220102001001", "东风社区")
    return factories.user("concurrent", "street_admin", "220102001")


def _client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _pair(requests: list[tuple[str, dict[str, Any], dict[str, str]]]) -> list[Any]:
    """Send the PATCHes at once, one thread (and database connection) each; their responses in order."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def run(i: int, token: str, url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        try:
            _use_file()
            client = _client(token)
            barrier.wait(timeout=30)
            results[i] = client.patch(url, json.dumps(body), content_type="application/json", headers=headers)
        except Exception as exc:  # reported by the assertion below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, *req)) for i, req in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _status(resp: Any) -> Any:
    return resp.status_code if hasattr(resp, "status_code") else repr(resp)


def test_worker_patches_without_if_match_lose_nothing(admin):
    token = token_create(actor=system_actor("command"), user=admin)
    lost = []
    for i in range(PAIRS):
        worker = factories.WorkerFactory(name=f"并发{i}", community=factories.community("220102001001"))
        url = f"/api/v1/workers/{worker.pk}"
        phone, name = f"1380000{i:04d}", f"改名{i}"
        a, b = _pair([(token, url, {"phone": phone}, {}), (token, url, {"name": name}, {})])
        assert (_status(a), _status(b)) == (200, 200), (a, b)
        worker.refresh_from_db()
        if decrypt(worker.phone_encrypted) != phone or worker.name != name:
            lost.append(i)
        assert worker.row_version == 3
    assert not lost, f"{len(lost)} of {PAIRS} pairs lost a change: {lost}"


def test_worker_patches_with_the_same_if_match_refuse_one(admin):
    token = token_create(actor=system_actor("command"), user=admin)
    for i in range(PAIRS):
        worker = factories.WorkerFactory(name=f"并发{i}", community=factories.community("220102001001"))
        url = f"/api/v1/workers/{worker.pk}"
        tag = _client(token).get(url)["ETag"]
        assert tag == '"1"'
        phone, name = f"1380000{i:04d}", f"改名{i}"
        a, b = _pair([(token, url, {"phone": phone}, {"If-Match": tag}),
                      (token, url, {"name": name}, {"If-Match": tag})])
        statuses = sorted([_status(a), _status(b)])
        assert statuses == [200, 412], (a, b)
        refused = a if _status(a) == 412 else b
        assert refused.json()["message"].startswith("已被他人修改") and refused.json()["field"] is None
        worker.refresh_from_db()
        kept_phone = decrypt(worker.phone_encrypted) == phone
        kept_name = worker.name == name
        assert kept_phone != kept_name, "exactly the accepted change is stored"
        assert kept_phone == (_status(a) == 200)
        assert worker.row_version == 2


def test_archive_record_patches_lose_nothing(admin):
    token = token_create(actor=system_actor("command"), user=admin)
    worker = factories.WorkerFactory(name="档案并发", community=factories.community("220102001001"))
    for i in range(PAIRS):
        record = archive_services.record_create(actor=system_actor("command"), worker=worker, kind="work", details={
            "organisation": "旧单位", "start_date": "2010-01-01"})
        url = f"/api/v1/archive/records/{record.pk}"
        a, b = _pair([(token, url, {"issuer": f"单位{i}"}, {}),
                      (token, url, {"details": {"position": f"职务{i}"}}, {})])
        assert (_status(a), _status(b)) == (200, 200), (a, b)
        record = ArchiveRecord.objects.select_related("work").get(pk=record.pk)
        assert record.issuer == f"单位{i}" and record.work.position == f"职务{i}", f"pair {i} lost a change"
        assert record.row_version == 3


def test_stale_save_is_refused_not_lost(admin):
    """The version check sits in save() itself: a row saved from an old copy raises ConflictError."""
    from shegong.common.errors import ConflictError

    worker = factories.WorkerFactory(name="旧副本", community=factories.community("220102001001"))
    stale = Worker.objects.get(pk=worker.pk)
    worker.name = "新名字"
    worker.save()
    stale.phone_masked = "x"
    with pytest.raises(ConflictError):
        stale.save()
    worker.refresh_from_db()
    assert worker.name == "新名字" and worker.row_version == 2


# ---- the API's entity tags --------------------------------------------------------------------------------------
# (not transactional: these run in the ordinary test database)


@pytest.mark.django_db
def test_worker_get_gives_the_version_and_patch_honours_if_match(world, api):
    client = api(world.users["street"])
    url = f"/api/v1/workers/{world.w1.pk}"
    resp = client.get(url)
    assert resp.status_code == 200 and resp["ETag"] == '"1"'
    resp = client.patch(url, {"name": "张三丰"}, content_type="application/json", headers={"If-Match": '"1"'})
    assert resp.status_code == 200 and resp["ETag"] == '"2"' and resp.json()["name"] == "张三丰"
    for stale in ('"1"', 'W/"1"', '"abc"'):
        resp = client.patch(url, {"phone": "13811112222"}, content_type="application/json",
                            headers={"If-Match": stale})
        assert resp.status_code == 412, stale
        body = resp.json()
        assert body["message"].startswith("已被他人修改") and '"2"' in body["message"] and body["field"] is None
    world.w1.refresh_from_db()
    assert world.w1.phone_masked != "138****2222" and world.w1.row_version == 2
    resp = client.patch(url, {"phone": "13811112222"}, content_type="application/json", headers={"If-Match": "*"})
    assert resp.status_code == 200 and resp["ETag"] == '"3"'
    # Without If-Match only the fields sent are written, on the row as it is now.
    resp = client.patch(url, {"status": "在岗"}, content_type="application/json")
    assert resp.status_code == 200 and resp["ETag"] == '"3"', "nothing changed: no new version, no history"
    assert world.w1.history.count() == 3


@pytest.mark.django_db
def test_archive_record_patch_honours_if_match(world, api):
    client = api(world.users["street"])
    record = archive_services.record_create(actor=system_actor("command"), worker=world.w1, kind="work", details={
        "organisation": "旧单位", "start_date": "2010-01-01"})
    url = f"/api/v1/archive/records/{record.pk}"
    assert client.get(url)["ETag"] == '"1"'
    resp = client.patch(url, {"details": {"position": "干事"}}, content_type="application/json",
                        headers={"If-Match": '"1"'})
    assert resp.status_code == 200 and resp["ETag"] == '"2"' and resp.json()["details"]["position"] == "干事"
    resp = client.patch(url, {"issuer": "某单位"}, content_type="application/json", headers={"If-Match": '"1"'})
    assert resp.status_code == 412 and resp.json()["message"].startswith("已被他人修改")
    record.refresh_from_db()
    assert record.issuer == "" and record.row_version == 2


@pytest.mark.django_db
def test_openapi_documents_the_412(db):
    schema = Client().get("/api/v1/openapi.json").json()
    for path in ("/api/v1/workers/{worker_id}", "/api/v1/archive/records/{record_id}"):
        assert "412" in schema["paths"][path]["patch"]["responses"]


# ---- the web forms: "已被他人修改", with the other person's values shown --------------------------------------


def _edit_form(client: Client, url: str, action: str) -> Any:
    from tests.web.test_form_roundtrip import action_name, post_forms

    (form,) = [f for f in post_forms(client, url) if action_name(f) == action]
    return form


def _web(world: Any, role: str = "city") -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


class _Notes(HTMLParser):
    """{field id: the other person's value} of the conflict notes (shegong/_field.html) on a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.label = ""
        self.notes: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.label = a["for"] or ""
        if tag == "div" and "data-other-value" in a:
            self.notes[self.label] = a["data-other-value"] or ""


def _conflicts(html: str) -> dict[str, str]:
    parser = _Notes()
    parser.feed(html)
    return parser.notes


@pytest.mark.django_db
def test_worker_form_shows_the_other_persons_change_and_keeps_both(world):
    from shegong.people.services import worker_update

    w1 = world.w1
    url = f"/workers/{w1.pk}/edit/"
    form = _edit_form(_web(world), url, "worker_edit")
    assert dict(form.fields)["row_version"] == "1"
    # Meanwhile someone else renames the worker and changes 参加工作日期.
    worker_update(worker=Worker.objects.get(pk=w1.pk), actor=world.users["street"], name="张三丰",
                  work_start_date=__import__("datetime").date(2009, 9, 1))
    data = form.data()
    data["phone"] = ["13912345678"]
    data["post_start_date"] = ["2016-01-01"]
    resp = _web(world).post(url, data)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "已被他人修改" in html
    notes = _conflicts(html)
    assert notes == {"id_name": "张三丰", "id_work_start_date": "2009-09-01"}, notes
    w1.refresh_from_db()
    assert w1.name == "张三丰" and w1.post_start_date.isoformat() == "2015-03-01", "nothing saved on a conflict"
    # The form now holds the other person's values where the user changed nothing, the user's own values
    # elsewhere, and the current version: saving it keeps both changes.
    again = FormFromHtml(url, html)
    shown = dict(again.fields)
    assert shown["name"] == "张三丰" and shown["work_start_date"] == "2009-09-01"
    assert shown["post_start_date"] == "2016-01-01" and shown["row_version"] == "2"
    resp = _web(world).post(url, {**again.data(), "phone": ["13912345678"]})
    assert resp.status_code == 302
    w1.refresh_from_db()
    assert (w1.name, w1.work_start_date.isoformat(), w1.post_start_date.isoformat()) == (
        "张三丰", "2009-09-01", "2016-01-01")
    assert decrypt(w1.phone_encrypted) == "13912345678"


@pytest.mark.django_db
def test_worker_form_same_field_changed_by_both_shows_both_values(world):
    from shegong.people.services import worker_update

    w1 = world.w1
    url = f"/workers/{w1.pk}/edit/"
    form = _edit_form(_web(world), url, "worker_edit")
    worker_update(worker=Worker.objects.get(pk=w1.pk), actor=world.users["street"], name="乙")
    resp = _web(world).post(url, {**form.data(), "name": ["甲"]})
    html = resp.content.decode()
    assert resp.status_code == 200 and "已被他人修改" in html
    assert _conflicts(html) == {"id_name": "乙"}
    assert dict(FormFromHtml(url, html).fields)["name"] == "甲", "the user's value stays in the field"
    w1.refresh_from_db()
    assert w1.name == "乙"


@pytest.mark.django_db
def test_description_form_shows_the_other_persons_draft(world):
    from shegong.staffing.descriptions import description_draft_save

    street = world.c1.parent
    url = f"/descriptions/{street.code}/party_secretary/edit/"
    form = _edit_form(_web(world, "street"), url, "description_edit")
    assert dict(form.fields)["row_version"] == "default"
    shown = dict(form.fields)
    description_draft_save(actor=world.users["city"], street=street, post_type="party_secretary",
                           reporting_line="区委组织部", requirements=shown["requirements"],
                           assessment=shown["assessment"], added_duties=shown["added_duties"], note="")
    resp = _web(world, "street").post(url, {**form.data(), "note": ["我的备注"]})
    html = resp.content.decode()
    assert resp.status_code == 200 and "已被他人修改" in html
    assert _conflicts(html) == {"id_reporting_line": "区委组织部"}
    again = FormFromHtml(url, html)
    assert dict(again.fields)["row_version"].startswith("draft-")
    assert _web(world, "street").post(url, again.data()).status_code == 302
    from shegong.staffing.models import PostDescription

    draft = PostDescription.objects.get(street=street, post_type__code="party_secretary", status="draft")
    assert draft.reporting_line == "区委组织部" and draft.note == "我的备注"


@pytest.mark.django_db
def test_appointment_is_ended_once(world):
    from shegong.staffing.services import appointment_end

    appointment = factories.appoint(world.w1, "书记")
    url = f"/appointments/{appointment.pk}/end/"
    form = _edit_form(_web(world), url, "appointment_end")
    appointment_end(appointment=appointment, end_date=__import__("datetime").date(2024, 1, 1), actor=system_actor("command"))
    resp = _web(world).post(url, form.data())
    assert resp.status_code == 200 and "已于 2024-01-01 离任" in resp.content.decode()
    appointment.refresh_from_db()
    assert appointment.end_date.isoformat() == "2024-01-01"


def FormFromHtml(url: str, html: str) -> Any:  # noqa: N802 — reads like the class it returns
    from tests.web.test_form_roundtrip import FormParser

    parser = FormParser(url)
    parser.feed(html)
    (form,) = [f for f in parser.forms if f.method == "post" and "row_version" in dict(f.fields)]
    return form
