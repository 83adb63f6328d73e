from django.core.management.base import BaseCommand, CommandError

from shegong.people.models import Worker
from shegong.web.demo import DEMO_PASSWORD, build_demo


class Command(BaseCommand):
    help = "载入演示数据:长春市 6 个街道、40 个社区、约 600 名社区工作者,并打印各角色的演示账号"

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="数据库已有社区工作者时什么也不做")
        parser.add_argument("--seed", type=int, default=2021)

    def handle(self, *args, **opts):
        if Worker.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("数据库已有数据,跳过演示数据。")
                return
            raise CommandError("数据库已有社区工作者;演示数据只载入空数据库(或使用 --if-empty)")
        result = build_demo(seed=opts["seed"])
        self.stdout.write(f"已载入演示数据:{result.communities} 个社区,{result.workers} 人,{result.appointments} 条任职,"
                          f"{result.archive_records} 份档案材料。")
        self.stdout.write(f"演示账号(密码均为 {DEMO_PASSWORD}):")
        for username, role, display in result.accounts:
            self.stdout.write(f"  {username:<10} {role:<16} {display}")
