from django.core.management.base import BaseCommand, CommandError

from shegong.access import system_actor
from shegong.common.errors import ApplicationError
from shegong.roster.models import ImportJob
from shegong.roster.services import import_job_retry, import_jobs_recover


class Command(BaseCommand):
    help = ("花名册导入任务:列出进行中和失败的任务(先把处理进程已不在的任务标为失败);"
            "--retry 编号 重新校验一个失败或有错误的任务(之后在网页上确认导入)")

    def add_arguments(self, parser):
        parser.add_argument("--retry", type=int, metavar="编号", help="重新校验这个任务")
        parser.add_argument("--all", action="store_true", help="也列出已完成的任务")

    def handle(self, *args, **opts):
        marked = import_jobs_recover()
        if marked:
            self.stdout.write(f"{marked} 个任务的处理进程已不在,已标为失败。")
        if opts["retry"]:
            job = ImportJob.objects.filter(pk=opts["retry"]).first()
            if job is None:
                raise CommandError(f"没有编号为 {opts['retry']} 的导入任务")
            try:
                import_job_retry(job=job, actor=system_actor("command"))
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            job.refresh_from_db()
            self.stdout.write(f"#{job.pk} {job.filename}:{job.get_status_display()} {job.message}".rstrip())
            return
        jobs = ImportJob.objects.select_related("user").defer("result").order_by("-created_at")
        if not opts["all"]:
            jobs = jobs.exclude(status__in=[ImportJob.Status.DONE, ImportJob.Status.VALIDATED])
        for job in jobs[:200]:
            self.stdout.write(f"#{job.pk}\t{job.created_at:%Y-%m-%d %H:%M}\t{job.user.username}\t"
                              f"{job.get_status_display()}\t{job.filename}\t{job.message}".rstrip())
