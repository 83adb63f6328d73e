"""Import jobs (issue 9 point 9): two imports of the same new people at the same time end in one import and
one clear conflict, never a 500 or a duplicate; a job whose process died is found and marked failed (or is
finished, when its transaction committed), and can be validated and imported again — from the web and
from `shegong importjobs`. Runs on SQLite and PostgreSQL (`make test-pg`)."""

from __future__ import annotations

import datetime as dt
import io
import os
import sqlite3
import subprocess
import sys
import threading

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, connection, connections
from django.test import Client
from django.utils import timezone

from shegong.access import system_actor
from shegong.common.crypto import search_hash
from shegong.people.models import Worker
from shegong.roster import imports, services
from shegong.roster.imports import CONFLICT, RosterImport, import_roster
from shegong.roster.models import ImportJob
from tests import factories

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def people_file(numbers: list[str], community: str) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["姓名", "公民身份号码", "人员类别", "所在社区代码"])
    for i, number in enumerate(numbers):
        ws.append([f"新人{i}", number, "专职", community])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def new_numbers(n: int) -> list[str]:
    numbers: set[str] = set()
    while len(numbers) < n:
        numbers.add(factories.id_number(birth=dt.date(1980, 1, 1) + dt.timedelta(days=len(numbers) * 37)))
    return sorted(numbers)


def dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# ================================================================ two imports of the same people at once


def _file_database(tmp_path) -> str | None:
    """On SQLite the suite's database lives in memory, where two connections lock each other out at once;
    production runs on a file in WAL mode. So the threads work on a file copy of the test database."""
    if connection.vendor != "sqlite":
        return None
    connection.ensure_connection()
    path = str(tmp_path / "concurrent.sqlite3")
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return path


def _use(path: str | None) -> None:
    """In this thread, connect to `path` (a file copy) instead of the test database."""
    if path is None:
        return
    from django.db.backends.sqlite3.base import DatabaseWrapper

    connections["default"] = DatabaseWrapper({**connections.settings["default"], "NAME": path}, "default")


def _count_workers(path: str | None, numbers: list[str]) -> int:
    hashes = [search_hash(n) for n in numbers]
    if path is None:
        return Worker.objects.filter(id_number_hash__in=hashes).count()
    with sqlite3.connect(path) as db:
        marks = ",".join("?" * len(hashes))
        return db.execute(f"SELECT COUNT(*) FROM people_worker WHERE id_number_hash IN ({marks})", hashes).fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_imports_of_the_same_new_people(tmp_path):
    community = factories.community("220102001001", "东风社区")
    numbers = new_numbers(60)
    data = people_file(numbers, community.code)
    path = _file_database(tmp_path)
    both_checked = threading.Barrier(2, timeout=60)
    results: dict[str, imports.ImportResult] = {}
    failures: dict[str, BaseException] = {}

    def run(name: str) -> None:
        try:
            _use(path)

            def progress(stage: str, done: int, total: int) -> None:
                if stage == "校验任职":  # both have looked the people up; neither has written
                    both_checked.wait()

            results[name] = import_roster(data, f"{name}.xlsx", progress=progress, actor=system_actor("command"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures[name] = exc
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    done = [r for r in results.values() if r.ok]
    refused = [r for r in results.values() if not r.ok]
    assert len(done) == 1 and len(refused) == 1
    assert done[0].created["people"] == 60
    (error,) = refused[0].errors
    assert error.message == CONFLICT and error.row == 0
    assert refused[0].created == {"communities": 0, "people": 0, "appointments": 0}
    assert _count_workers(path, numbers) == 60


@pytest.mark.django_db
def test_a_conflict_between_check_and_write_is_answered_clearly_and_writes_nothing(world):
    numbers = new_numbers(5)
    data = people_file(numbers, world.c1.code)
    late = RosterImport(data, "晚.xlsx", actor=system_actor("command"))
    assert late.check().ok                 # checked while the people are new
    assert import_roster(data, "早.xlsx", actor=system_actor("command")).created["people"] == 5
    history = Worker.history.count()
    result = late.write()                  # the same people, written in between
    assert not result.ok and [e.message for e in result.errors] == [CONFLICT]
    assert Worker.objects.filter(id_number_hash__in=[search_hash(n) for n in numbers]).count() == 5
    assert Worker.history.count() == history


def test_an_edit_between_check_and_write_fails_the_import_instead_of_being_overwritten(world):
    """Row versions hold for the bulk path too: a worker edited on the web after the file was checked
    is not silently overwritten by the import; an import that goes through bumps the version."""
    numbers = new_numbers(2)
    assert import_roster(people_file(numbers, world.c1.code), "先.xlsx", actor=system_actor("command")).created["people"] == 2
    wb = openpyxl.load_workbook(io.BytesIO(people_file(numbers, world.c1.code)))  # the same people, renamed
    for i, row in enumerate(wb.active.iter_rows(min_row=2), start=0):
        row[0].value = f"改名{i}"
    buf = io.BytesIO()
    wb.save(buf)
    late = RosterImport(buf.getvalue(), "后.xlsx", actor=system_actor("command"))
    assert late.check().ok
    edited = Worker.objects.get(id_number_hash=search_hash(numbers[0]))
    edited.phone = "13900000000"
    edited.save()                          # someone edits one of them on the web meanwhile
    result = late.write()
    assert not result.ok and "已被他人修改" in result.errors[0].message
    assert set(Worker.objects.filter(id_number_hash__in=[search_hash(n) for n in numbers])
               .values_list("name", flat=True)) == {"新人0", "新人1"}
    again = RosterImport(buf.getvalue(), "后.xlsx", actor=system_actor("command"))
    assert again.check().ok and again.write().ok
    after = Worker.objects.get(pk=edited.pk)
    assert after.name == "改名0" and after.row_version == edited.row_version + 1


def _integrity_error_once(monkeypatch):
    real = imports.fast_insert
    calls = {"n": 0}

    def fail_first(model, objs, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise IntegrityError("UNIQUE constraint failed: people_worker.id_number_hash")
        return real(model, objs, **kwargs)

    monkeypatch.setattr(imports, "fast_insert", fail_first)


@pytest.mark.django_db
def test_a_conflict_in_the_web_is_a_message_and_a_retry_not_a_500(world, monkeypatch):
    c = Client()
    c.force_login(world.users["street"])
    numbers = new_numbers(3)
    c.post("/roster/", {"file": SimpleUploadedFile("名单.xlsx", people_file(numbers, world.c1.code), content_type=XLSX)})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.VALIDATED
    _integrity_error_once(monkeypatch)
    resp = c.post(f"/roster/jobs/{job.pk}/commit/")
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REJECTED
    assert [e["message"] for e in job.result["errors"]] == [CONFLICT]
    page = c.get(f"/roster/jobs/{job.pk}/").content.decode()
    assert "另一导入同时登记了相同的人员" in page and 'id="retry"' in page and 'id="marked"' not in page
    assert not Worker.objects.filter(name__startswith="新人").exists()
    c.post(f"/roster/jobs/{job.pk}/retry/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED
    c.post(f"/roster/jobs/{job.pk}/commit/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Worker.objects.filter(name__startswith="新人").count() == 3


@pytest.mark.django_db
def test_a_conflict_in_the_background_job_ends_the_job_clearly(world, monkeypatch, settings,
                                                                django_capture_on_commit_callbacks):
    settings.ROSTER_BACKGROUND_BYTES = 0  # every upload is a background job (run inline in tests)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_create(actor=world.users["street"], filename="名单.xlsx",
                                         data=people_file(new_numbers(2), world.c1.code))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED
    _integrity_error_once(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.import_job_commit(job=job, actor=system_actor("command"))
    assert len(callbacks) == 1  # the job was queued, then run by the task backend
    job.refresh_from_db()
    assert job.status == ImportJob.Status.REJECTED and job.result["errors"][0]["message"] == CONFLICT
    assert job.can_retry


@pytest.mark.django_db
def test_a_conflict_on_the_command_line_exits_1_with_the_message(world, monkeypatch, tmp_path, capsys):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(people_file(new_numbers(2), world.c1.code))
    _integrity_error_once(monkeypatch)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("import", str(path), stdout=out, stderr=io.StringIO())
    assert exc.value.code == 1 and CONFLICT in out.getvalue()


# ================================================================ a job whose process died


def _stuck_job(world, *, status=ImportJob.Status.IMPORTING, pid=None, host=None, silent_minutes=0) -> ImportJob:
    job = services.import_job_create(actor=world.users["street"], filename="名单.xlsx",
                                     data=people_file(new_numbers(2), world.c1.code))
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, pid=pid if pid is not None else dead_pid(), host=services.HOST if host is None else host,
        heartbeat=timezone.now() - dt.timedelta(minutes=silent_minutes))
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_a_job_left_importing_by_a_dead_process_is_failed_on_the_list_and_can_run_again(world):
    job = _stuck_job(world)
    c = Client()
    c.force_login(world.users["street"])
    assert "导入中" not in c.get("/roster/").content.decode().split("最近的导入")[1]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "中断" in job.message
    page = c.get(f"/roster/jobs/{job.pk}/").content.decode()
    assert "中断" in page and 'id="retry"' in page
    c.post(f"/roster/jobs/{job.pk}/retry/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED
    c.post(f"/roster/jobs/{job.pk}/commit/")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.pid == os.getpid() and job.host == services.HOST


@pytest.mark.django_db
def test_opening_a_stuck_job_marks_it(world):
    job = _stuck_job(world, status=ImportJob.Status.VALIDATING)
    c = Client()
    c.force_login(world.users["street"])
    assert "失败" in c.get(f"/roster/jobs/{job.pk}/").content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


@pytest.mark.django_db
def test_a_job_of_this_process_that_no_thread_runs_is_stuck(world):
    job = _stuck_job(world, pid=os.getpid())
    assert services.import_jobs_recover() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


@pytest.mark.django_db
def test_a_running_job_is_left_alone(world):
    live = _stuck_job(world, pid=os.getppid())                              # a live process on this host
    busy = _stuck_job(world, host="another-host", pid=1, silent_minutes=3)  # elsewhere, heard from lately
    assert services.import_jobs_recover() == 0
    for job in (live, busy):
        job.refresh_from_db()
        assert job.status == ImportJob.Status.IMPORTING


@pytest.mark.django_db
def test_a_silent_job_on_another_host_is_failed_after_the_timeout(world, settings):
    settings.ROSTER_JOB_STALE_SECONDS = 600
    job = _stuck_job(world, host="another-host", pid=1, silent_minutes=11)
    assert services.import_jobs_recover() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "11 分钟" in job.message


@pytest.mark.django_db
def test_a_committed_import_is_finished_by_its_own_transaction(world):
    """The job's DONE is written inside the import's transaction: a process killed after the commit
    leaves a finished job (recover does not touch it); one killed before leaves nothing written."""
    numbers = new_numbers(2)
    job = services.import_job_create(actor=world.users["street"], filename="名单.xlsx",
                                     data=people_file(numbers, world.c1.code))
    seen = {}

    def committed(result):
        seen["inside"] = connection.in_atomic_block
        seen["created"] = result.created["people"]

    import_roster(people_file(new_numbers(1), world.c1.code), "x.xlsx", committed=committed, actor=system_actor("command"))
    assert seen == {"inside": True, "created": 1}
    services.import_job_commit(job=job, actor=system_actor("command"))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    ImportJob.objects.filter(pk=job.pk).update(pid=dead_pid())  # its process dies afterwards
    assert services.import_jobs_recover() == 0
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE


@pytest.mark.django_db
def test_a_failure_after_the_writes_rolls_them_back_with_the_status(world):
    numbers = new_numbers(2)

    def boom(result):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        import_roster(people_file(numbers, world.c1.code), "x.xlsx", committed=boom, actor=system_actor("command"))
    assert not Worker.objects.filter(id_number_hash__in=[search_hash(n) for n in numbers]).exists()


@pytest.mark.django_db
def test_only_failed_or_rejected_jobs_can_be_retried(world):
    job = services.import_job_create(actor=world.users["street"], filename="名单.xlsx",
                                     data=people_file(new_numbers(1), world.c1.code))
    c = Client()
    c.force_login(world.users["street"])
    resp = c.post(f"/roster/jobs/{job.pk}/retry/", follow=True)
    assert "只有失败或有错误的导入才能重新校验" in resp.content.decode()
    other = Client()
    other.force_login(world.users["city"])
    assert other.post(f"/roster/jobs/{job.pk}/retry/").status_code == 404
    assert c.get(f"/roster/jobs/{job.pk}/retry/").status_code == 405


@pytest.mark.django_db
def test_importjobs_command_recovers_lists_and_retries(world):
    job = _stuck_job(world)
    out = io.StringIO()
    call_command("importjobs", stdout=out)
    text = out.getvalue()
    assert "1 个任务的处理进程已不在" in text and f"#{job.pk}" in text and "失败" in text
    out = io.StringIO()
    call_command("importjobs", "--retry", str(job.pk), stdout=out)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED and "校验通过" in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="只有失败"):
        call_command("importjobs", "--retry", str(job.pk), stdout=io.StringIO())
    with pytest.raises(CommandError, match="没有编号"):
        call_command("importjobs", "--retry", "999999", stdout=io.StringIO())
