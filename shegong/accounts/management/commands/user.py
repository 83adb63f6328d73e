import sys

from django.core.management.base import BaseCommand, CommandError

from shegong.accounts.models import User
from shegong.accounts.services import grant_add, user_create
from shegong.common.errors import ApplicationError


class Command(BaseCommand):
    help = "管理用户:user create USERNAME --role ROLE --scope CODE --password-stdin"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        create = sub.add_parser("create", help="创建用户并授予一个角色")
        create.add_argument("username")
        create.add_argument("--role", required=True,
                            help="civil_affairs / street_admin / community_admin / training_admin / worker")
        create.add_argument("--scope", required=True, help="区划代码(自然长度或 12 位)")
        create.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
        create.add_argument("--name", default="", help="显示姓名")
        create.add_argument("--worker-id-number", default="", help="worker 角色:关联的社区工作者身份证号")
        grant = sub.add_parser("grant", help="给已有用户再授予一个角色")
        grant.add_argument("username")
        grant.add_argument("--role", required=True)
        grant.add_argument("--scope", required=True)

    def handle(self, *args, **opts):
        try:
            if opts["sub"] == "create":
                self._create(opts)
            else:
                user = User.objects.filter(username=opts["username"]).first()
                if user is None:
                    raise CommandError(f"用户 {opts['username']} 不存在")
                grant_add(user=user, role=opts["role"], scope=opts["scope"])
                self.stdout.write(f"已授予 {opts['username']} 角色 {opts['role']} 于 {opts['scope']}")
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _create(self, opts):
        if not opts["password_stdin"]:
            raise CommandError("请用 --password-stdin 从标准输入提供密码")
        password = sys.stdin.readline().rstrip("\n")
        worker = None
        if opts["worker_id_number"]:
            from shegong.people.selectors import worker_find_by_id_number

            worker = worker_find_by_id_number(id_number=opts["worker_id_number"])
            if worker is None:
                raise CommandError("没有这个身份证号的社区工作者")
        user = user_create(username=opts["username"], password=password, role=opts["role"],
                           scope=opts["scope"], display_name=opts["name"], worker=worker)
        self.stdout.write(f"已创建用户 {user.username}({opts['role']} @ {opts['scope']})")
