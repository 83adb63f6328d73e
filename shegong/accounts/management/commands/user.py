import getpass
import sys
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from shegong.access import system_actor
from shegong.accounts.models import User
from shegong.accounts.selectors import access_history
from shegong.accounts.services import (
    grant_add,
    grant_remove,
    login_locks,
    login_unlock,
    user_activate,
    user_create,
    user_deactivate,
    user_set_password,
)
from shegong.common.codes import normalize_text
from shegong.common.commands import SubcommandCommand, user_named, user_subcommand
from shegong.common.crypto import search_hash


def _read_password() -> str:
    """One line from standard input; only the line ending is removed (spaces are the validators' to refuse)."""
    return sys.stdin.readline().rstrip("\r\n")


def _worker_by_id_number(raw: str) -> Any:
    """The worker with this ID number, found by its keyed hash through the model User.worker points to:
    accounts sits below people and does not import it (docs/architecture.md)."""
    worker_model = User._meta.get_field("worker").related_model
    return worker_model._default_manager.filter(  # type: ignore[union-attr]
        id_number_hash=search_hash(normalize_text(raw).upper())).first()


def _role_on_scope(parser: Any) -> None:
    """A subcommand about one grant of a user (its user name is already there): the role and the
    division it covers."""
    parser.add_argument("--role", required=True)
    parser.add_argument("--scope", required=True)


class Command(SubcommandCommand):
    help = ("管理用户:user create USERNAME --role ROLE --scope CODE --password-stdin | user grant | "
            "user password | user deactivate | user activate | user ungrant | user history | user locks | user unlock")

    def add_subcommands(self, sub):
        create = user_subcommand(sub, "create", "创建用户并授予一个角色")
        create.add_argument("--role", required=True,
                            help="civil_affairs / street_admin / community_admin / training_admin / worker")
        create.add_argument("--scope", required=True, help="区划代码(自然长度或 12 位)")
        create.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
        create.add_argument("--name", default="", help="显示姓名")
        create.add_argument("--worker-id-number", default="", help="worker 角色:关联的社区工作者身份证号")
        _role_on_scope(user_subcommand(sub, "grant", "给已有用户再授予一个角色"))
        password = user_subcommand(sub, "password", "设置新密码(从标准输入读取);该用户的 API 令牌全部吊销")
        password.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
        user_subcommand(sub, "deactivate", "停用账号:不能再登录,API 令牌全部吊销")
        user_subcommand(sub, "activate", "重新启用账号(旧令牌仍为吊销)")
        _role_on_scope(user_subcommand(sub, "ungrant", "收回用户的一个角色授权(记入历史)"))
        history = user_subcommand(sub, "history", "谁在何时改变了该用户能做什么:授权、角色、令牌、启用/停用")
        history.add_argument("--limit", type=int, default=200, help="最多显示多少条(默认 200)")
        sub.add_parser("locks", help="列出现在的登录锁定")
        unlock = sub.add_parser("unlock", help="解除登录锁定(记入审计日志)")
        unlock.add_argument("username", nargs="?", help="用户名;不给则须给 --ip(解除该地址的全部锁定)")
        unlock.add_argument("--ip", default=None, help="只解除来自这个地址的锁定")
        unlock.add_argument("--by", default="", help="操作人(记入审计日志;默认为当前系统用户)")

    def _create(self, opts):
        if not opts["password_stdin"]:
            raise CommandError("请用 --password-stdin 从标准输入提供密码")
        password = _read_password()
        worker = None
        if opts["worker_id_number"]:
            worker = _worker_by_id_number(opts["worker_id_number"])
            if worker is None:
                raise CommandError("没有这个身份证号的社区工作者")
        user = user_create(actor=system_actor("command"), username=opts["username"], password=password, role=opts["role"],
                           scope=opts["scope"], display_name=opts["name"], worker=worker)
        self.stdout.write(f"已创建用户 {user.username}({opts['role']} @ {opts['scope']})")

    def _grant(self, opts):
        user = user_named(opts["username"])
        grant_add(actor=system_actor("command"), user=user, role=opts["role"], scope=opts["scope"])
        self.stdout.write(f"已授予 {opts['username']} 角色 {opts['role']} 于 {opts['scope']}")

    def _password(self, opts):
        if not opts["password_stdin"]:
            raise CommandError("请用 --password-stdin 从标准输入提供密码")
        user = user_named(opts["username"])
        revoked = user_set_password(actor=system_actor("command"), user=user, password=_read_password())
        self.stdout.write(f"已为 {user.username} 设置新密码;吊销了 {revoked} 个 API 令牌")

    def _deactivate(self, opts):
        user = user_named(opts["username"])
        revoked = user_deactivate(actor=system_actor("command"), user=user)
        self.stdout.write(f"已停用 {user.username};吊销了 {revoked} 个 API 令牌")

    def _activate(self, opts):
        user = user_named(opts["username"])
        user_activate(actor=system_actor("command"), user=user)
        self.stdout.write(f"已启用 {user.username}(原有 API 令牌仍为吊销,需要时请重新创建)")

    def _ungrant(self, opts):
        user = user_named(opts["username"])
        grant_remove(user=user, role=opts["role"], scope=opts["scope"], actor=system_actor("command"))
        self.stdout.write(f"已收回 {opts['username']} 的角色 {opts['role']} 于 {opts['scope']}(已记入历史)")

    def _history(self, opts):
        user = user_named(opts["username"])
        entries = access_history(user, limit=opts["limit"])
        if not entries:
            self.stdout.write(f"{user.username} 没有权限变更记录")
            return
        for e in entries:
            when = timezone.localtime(e.when).strftime("%Y-%m-%d %H:%M:%S")
            changes = ";".join(f"{c.label}:{c.old} → {c.new}" for c in e.changes)
            reason = f"  [{e.reason}]" if e.reason else ""
            self.stdout.write(f"{when}  {e.who}  {e.kind} {e.subject}{reason}  {changes}".rstrip())

    def _locks(self, opts):
        locks = login_locks()
        if not locks:
            self.stdout.write("现在没有登录锁定")
            return
        for lock in locks:
            who = "(该地址的全部用户名)" if lock.whole_address else lock.username
            until = timezone.localtime(lock.until).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(f"{who}  {lock.ip}  失败 {lock.failures} 次  锁定至 {until}")

    def _unlock(self, opts):
        if not opts["username"] and not opts["ip"]:
            raise CommandError("请给出用户名,或用 --ip 给出地址")
        actor = opts["by"].strip() or f"{_os_user()}(命令行 user unlock)"
        events = login_unlock(username=opts["username"], ip=opts["ip"], actor=actor)
        target = opts["username"] or ""
        if opts["ip"]:
            target = f"{target} 自 {opts['ip']}" if target else f"地址 {opts['ip']}"
        if not events:
            self.stdout.write(f"{target} 没有被锁定;已清除其失败登录记录")
            return
        for event in events:
            who = event.username or "(该地址的全部用户名)"
            self.stdout.write(f"已解除锁定:{who} 自 {event.ip}(已记入审计日志)")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return "未知系统用户"
