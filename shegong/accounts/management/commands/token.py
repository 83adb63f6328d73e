from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from shegong.access import system_actor
from shegong.accounts.services import token_create, token_list, token_revoke, token_revoke_all, token_status
from shegong.common.commands import SubcommandCommand, table_lines, user_named, user_subcommand


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


class Command(SubcommandCommand):
    help = ("API 令牌:token create USERNAME(打印令牌,只显示一次)| token list [USERNAME] | "
            "token revoke PREFIX | token revoke --user USERNAME --all")

    def add_subcommands(self, sub):
        create = user_subcommand(sub, "create", "为用户创建一个 API 令牌")
        create.add_argument("--name", default="", help="用途说明")
        create.add_argument("--days", type=int, default=None,
                            help=f"有效天数(默认 {settings.API_TOKEN_DAYS},即 SHEGONG_TOKEN_DAYS;0 为不过期)")
        listing = sub.add_parser("list", help="列出令牌:前缀、用途、创建、最近使用、到期、状态")
        listing.add_argument("username", nargs="?", help="只列这个用户的令牌")
        revoke = sub.add_parser("revoke", help="吊销令牌:给出前缀(见 token list),或 --user USERNAME --all")
        revoke.add_argument("prefix", nargs="?", help="令牌前缀(如 sg_Ab3dE9x)")
        revoke.add_argument("--user", dest="user", help="用户名(与 --all 一起:吊销此用户的全部令牌)")
        revoke.add_argument("--all", action="store_true", help="吊销 --user 的全部令牌")

    def _create(self, opts):
        user = user_named(opts["username"], active=True)
        self.stdout.write(token_create(actor=system_actor("command"), user=user, name=opts["name"], days=opts["days"]))

    def _list(self, opts):
        user = user_named(opts["username"]) if opts["username"] else None
        rows = list(token_list(user=user))
        if not rows:
            self.stdout.write("没有令牌")
            return
        now = timezone.now()
        table = [("前缀", "用户", "用途", "创建", "最近使用", "到期", "状态")]
        for row in rows:
            status = token_status(row, now=now)
            if row.revoked_at:
                status += " " + _when(row.revoked_at)
            table.append((row.prefix, row.user.username, row.name or "-", _when(row.created_at),
                          _when(row.last_used_at), _when(row.expires_at) if row.expires_at else "不过期", status))
        for line in table_lines(table):
            self.stdout.write(line)

    def _revoke(self, opts):
        if opts["all"] or opts["user"]:
            if opts["prefix"]:
                raise CommandError("给出前缀,或 --user USERNAME --all,不能同时给出")
            if not (opts["all"] and opts["user"]):
                raise CommandError("吊销一个用户的全部令牌须同时给出 --user USERNAME 与 --all")
            user = user_named(opts["user"])
            count = token_revoke_all(actor=system_actor("command"), user=user)
            self.stdout.write(f"已吊销 {user.username} 的 {count} 个令牌")
            return
        if not opts["prefix"]:
            raise CommandError("请给出令牌前缀(见 token list),或 --user USERNAME --all")
        row = token_revoke(actor=system_actor("command"), prefix=opts["prefix"])
        self.stdout.write(f"已吊销令牌 {row.prefix}({row.user.username}{',' + row.name if row.name else ''})")
