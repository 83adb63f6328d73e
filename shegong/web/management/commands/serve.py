"""`shegong serve`: the web pages through a production WSGI server (waitress), static files by WhiteNoise.

Ready in a few seconds when nothing changed (issue 11, point 12): the static files are collected and
compressed (about 24 MB with the gzip and brotli copies, a minute on a busy machine) only when they
changed — a fingerprint of the source files (path, size, modification time of every file the static
finders list, and the storage backend) is kept next to the collected files and compared at each start.
Every step says what it is doing, in Chinese, with its time; "已启动" is printed once the port listens.

    shegong serve [--host 127.0.0.1] [--port 8000]    start (collecting static files first if they changed)
    shegong serve --static-only                        only bring the static files up to date (install, CI)
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.core.servers.basehttp import get_internal_wsgi_application
from waitress import create_server

from shegong.accounts.models import User
from shegong.roster.services import import_jobs_recover
from shegong.web.demo import DEMO_PASSWORD

STAMP = ".shegong-static-fingerprint"  # in STATIC_ROOT: the fingerprint of the sources last collected
DEMO_USERS = ["minzheng", "quzheng", "jiedao", "shequ", "peixun", "shegong"]


def static_fingerprint() -> str:
    """A hash over every source static file (its path, size and modification time) and the storage
    backend: it changes when a file is added, removed, edited or touched, or when the storage changes."""
    digest = hashlib.sha256(str(settings.STORAGES["staticfiles"]["BACKEND"]).encode())
    ignore = list(getattr(apps.get_app_config("staticfiles"), "ignore_patterns", []))  # collectstatic's own
    entries = []
    for finder in get_finders():
        for path, storage in finder.list(ignore):
            stat = os.stat(storage.path(path))
            prefix = getattr(storage, "prefix", "") or ""
            entries.append(f"{prefix}/{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode() + b"\n")
    return digest.hexdigest()


def static_is_current(fingerprint: str) -> bool:
    """The collected files are those of `fingerprint` (and the manifest, if the storage keeps one, exists)."""
    root = Path(settings.STATIC_ROOT)
    stamp = root / STAMP
    if not stamp.is_file() or stamp.read_text().strip() != fingerprint:
        return False
    manifest = getattr(staticfiles_storage, "manifest_name", None)
    return manifest is None or (root / manifest).is_file()


def prepare_static() -> bool:
    """Collect (and compress) the static files when they changed since the last collect: True when it
    collected, False when they were current."""
    fingerprint = static_fingerprint()
    if static_is_current(fingerprint):
        return False
    root = Path(settings.STATIC_ROOT)
    (root / STAMP).unlink(missing_ok=True)  # a collect that fails half-way must not look current
    call_command("collectstatic", interactive=False, verbosity=0)
    root.mkdir(parents=True, exist_ok=True)
    (root / STAMP).write_text(fingerprint + "\n")
    return True


class Command(BaseCommand):
    help = "用生产级 WSGI 服务器(waitress)提供网页服务,静态文件由 WhiteNoise 提供(仅在静态文件变化时重新收集)"
    # The system checks run in `make test` and CI; a start that must be quick does not repeat them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--static-only", action="store_true",
                            help="只检查并准备静态文件(有变化才收集、压缩),不启动服务")

    @contextmanager
    def step(self, text: str) -> Iterator[list[str]]:
        """Print `text…` now and, when the step is done, its outcome (appended by the step) and time."""
        self.stdout.write(f"  {text}…", ending="")
        self.stdout.flush()
        outcome: list[str] = []
        started = time.perf_counter()
        yield outcome
        took = time.perf_counter() - started
        self.stdout.write(f" {''.join(outcome) or '完成'}({took:.2f} 秒)")
        self.stdout.flush()

    def _static(self) -> None:
        with self.step("检查静态文件") as outcome:
            fingerprint = static_fingerprint()
            current = static_is_current(fingerprint)
            outcome.append("未改变,跳过收集" if current else "有变化,需要重新收集")
        if not current:
            with self.step("收集并压缩静态文件(只在静态文件变化后进行,可能需要一分钟)"):
                prepare_static()

    def _start_task_worker(self) -> None:
        """Background jobs (large imports) run in a worker thread of this process, so that `make run`
        needs nothing else; a deployment may run `shegong db_worker` processes instead."""
        if "django_tasks_db" not in settings.TASKS["default"]["BACKEND"]:
            return
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(queue_names=["default"], interval=1.0, batch=False, backend_name="default",
                        startup_delay=False, max_tasks=None, worker_id=f"serve-{uuid.uuid4().hex[:8]}",
                        excluded_queue_names=[])
        threading.Thread(target=worker.run, name="shegong-tasks", daemon=True).start()

    def _accounts(self, url: str) -> None:
        demo = list(User.objects.filter(username__in=DEMO_USERS)
                    .prefetch_related("grants__role", "grants__division").order_by("id"))
        if demo:
            self.stdout.write(f"演示账号(密码均为 {DEMO_PASSWORD}):")
            for u in demo:
                grants = ", ".join(f"{g.role.name} @ {g.division.name}" for g in u.grants.all())
                self.stdout.write(f"  {u.username:<10} {grants}")
        self.stdout.write(f"API 文档:{url}/api/v1/docs   数据库:{settings.DATABASES['default']['NAME']}")

    def handle(self, *args, **opts):
        started = time.perf_counter()
        self.stdout.write("社工 Shegong 正在启动:")
        self._static()
        if opts["static_only"]:
            self.stdout.write(f"静态文件已就绪:{settings.STATIC_ROOT}")
            return
        with self.step("检查上次中断的导入任务"):
            import_jobs_recover()  # an import left running by a killed process is marked failed (or finished)
        with self.step("启动后台任务线程"):
            self._start_task_worker()
        with self.step("加载网页应用"):
            # settings.WSGI_APPLICATION (config.wsgi) by name: the application never imports config.
            application = get_internal_wsgi_application()
        with self.step(f"监听 {opts['host']}:{opts['port']}"):
            server = self._listen(application, opts)
        url = f"http://{opts['host']}:{opts['port']}"
        self.stdout.write(self.style.SUCCESS(f"\n社工 Shegong 已启动:{url}(本次启动用时 "
                                             f"{time.perf_counter() - started:.1f} 秒)"))
        self._accounts(url)
        self.stdout.write("按 Ctrl+C 停止。\n")
        self.stdout.flush()
        try:
            server.run()
        except KeyboardInterrupt:
            self.stdout.write("已停止。")

    def _listen(self, application, opts):
        logging.basicConfig()  # waitress logs its warnings (queue depth, errors) through logging
        return create_server(application, host=opts["host"], port=opts["port"], threads=opts["threads"],
                             ident="shegong", **settings.WAITRESS_PROXY_OPTIONS)
