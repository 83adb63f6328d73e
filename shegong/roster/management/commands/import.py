import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shegong.access import Actor, system_actor
from shegong.accounts.models import User
from shegong.roster.imports import import_roster


class Command(BaseCommand):
    help = ("导入花名册(.xlsx / .xls / .csv):先校验全部行,有任何错误则不写入;导入成功退出码 0,被拒绝 1。"
            "文件的上限见 docs/import-limits.md")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="只校验并统计,不写入")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--user", default="", help="以该用户的管辖范围导入(默认:系统,不限范围)")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        if not path.exists():
            raise CommandError(f"文件不存在:{path}")
        # Without --user the import acts as the command (no scope limit), recorded as such in history.
        actor: Actor = system_actor("command")
        if opts["user"]:
            user = User.objects.filter(username=opts["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"用户 {opts['user']} 不存在或已停用")
            actor = user

        def progress(stage: str, done: int, total: int) -> None:
            if total > 1000 or done == 0:
                sys.stderr.write(f"\r{stage} {done}/{total}" + " " * 8)
                sys.stderr.flush()

        result = import_roster(path.read_bytes(), path.name, actor=actor, dry_run=opts["dry_run"], progress=progress)
        sys.stderr.write("\n")
        if opts["format"] == "json":
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
        else:
            self._text(result)
        if not result.ok:
            sys.exit(1)

    def _text(self, result):
        names = {"communities": "社区", "people": "人员", "appointments": "任职"}
        for w in result.warnings:
            self.stdout.write(f"提示 [{w.sheet} 第 {w.row} 行 {w.column}] {w.message}")
        if result.ok:
            verb = "将" if result.dry_run else "已"
            for key, label in names.items():
                self.stdout.write(f"{label}:{verb}新增 {result.created[key]},{verb}更新 {result.updated[key]},"
                                  f"未变 {result.unchanged[key]}")
            self.stdout.write("校验通过,未写入(--dry-run)。" if result.dry_run else "导入完成。")
        else:
            self.stdout.write(f"发现 {result.error_count} 处错误,未写入任何数据:")
            for e in result.errors:
                self.stdout.write(f"  [{e.sheet} 第 {e.row} 行 {e.column}] “{e.value}”:{e.message}")
            if result.error_count > len(result.errors):
                self.stdout.write(f"  ……只列出前 {len(result.errors)} 处")
