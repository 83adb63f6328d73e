from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from shegong.accounts.models import User
from shegong.roster.services import import_jobs_recover
from shegong.web.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "用生产级 WSGI 服务器(waitress)提供网页服务,静态文件由 WhiteNoise 提供"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def _start_task_worker(self) -> None:
        """Background jobs (large imports) run in a worker thread of this process, so that `make run`
        needs nothing else; a deployment may run `shegong db_worker` processes instead."""
        if "django_tasks_db" not in settings.TASKS["default"]["BACKEND"]:
            return
        import threading
        import uuid

        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(queue_names=["default"], interval=1.0, batch=False, backend_name="default",
                        startup_delay=False, max_tasks=None, worker_id=f"serve-{uuid.uuid4().hex[:8]}",
                        excluded_queue_names=[])
        threading.Thread(target=worker.run, name="shegong-tasks", daemon=True).start()

    def handle(self, *args, **opts):
        call_command("collectstatic", interactive=False, verbosity=0)
        url = f"http://{opts['host']}:{opts['port']}"
        demo = list(User.objects.filter(username__in=["minzheng", "quzheng", "jiedao", "shequ", "peixun", "shegong"])
                    .prefetch_related("grants__role", "grants__division").order_by("id"))
        self.stdout.write(self.style.SUCCESS(f"\n社工 Shegong 已启动:{url}"))
        if demo:
            self.stdout.write(f"演示账号(密码均为 {DEMO_PASSWORD}):")
            for u in demo:
                grants = ", ".join(f"{g.role.name} @ {g.division.name}" for g in u.grants.all())
                self.stdout.write(f"  {u.username:<10} {grants}")
        self.stdout.write(f"API 文档:{url}/api/v1/docs   数据库:{settings.DATABASES['default']['NAME']}")
        self.stdout.write("按 Ctrl+C 停止。\n")
        import_jobs_recover()  # an import left running by a killed process is marked failed (or finished)
        self._start_task_worker()
        from django.core.servers.basehttp import get_internal_wsgi_application
        from waitress import serve

        # settings.WSGI_APPLICATION (config.wsgi) by name: the application never imports config.
        application = get_internal_wsgi_application()
        serve(application, host=opts["host"], port=opts["port"], threads=opts["threads"], ident="shegong",
              **settings.WAITRESS_PROXY_OPTIONS)
