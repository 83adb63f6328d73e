from django.core.management.base import BaseCommand, CommandError

from shegong.accounts.models import User
from shegong.accounts.services import token_create


class Command(BaseCommand):
    help = "API 令牌:token create USERNAME(打印令牌,只显示一次)"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        create = sub.add_parser("create", help="为用户创建一个 API 令牌")
        create.add_argument("username")
        create.add_argument("--name", default="", help="用途说明")

    def handle(self, *args, **opts):
        user = User.objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"用户 {opts['username']} 不存在或已停用")
        self.stdout.write(token_create(user=user, name=opts["name"]))
