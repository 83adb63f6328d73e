"""`shegong restore FILE`: check a backup completely, then restore the database, the uploads and the keys."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from shegong.common.backup import (
    BackupError,
    BackupFileCommand,
    backup_restore,
    backup_verify,
    pending_migrations,
)


class Command(BackupFileCommand):
    help = ("从备份文件恢复数据库、上传的扫描件和密钥(var/keys.json):shegong restore 文件 [--yes]。"
            "先完整校验,校验不过什么也不改。请先停止服务。见 docs/backup.md")

    file_help = "shegong backup 生成的备份文件"

    def add_options(self, parser):
        parser.add_argument("--yes", action="store_true", help="目标数据库已有数据时,确认用备份替换")
        parser.add_argument("--check", action="store_true",
                            help="只校验备份(校验和、口令)并列出内容,不恢复")

    def handle(self, *args, **opts):
        source = Path(opts["file"])
        try:
            passphrase = self.passphrase(opts)
            if opts["check"]:
                verified = backup_verify(source, passphrase)
                self._describe(verified.manifest)
                self.stdout.write(self.style.SUCCESS("备份完好:校验和全部一致,口令正确,密钥可以解开。"))
                return
            result = backup_restore(path=source, passphrase=passphrase, replace=opts["yes"],
                                    progress=self._progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        m = result.manifest
        self._describe(m)
        self.stdout.write("行数对比(备份 → 恢复后):")
        expected, actual = m["tables"], result.counts
        differ = 0
        for table in sorted(set(expected) | set(actual)):
            before, after = expected.get(table), actual.get(table)
            if before == after and not before:
                continue
            same = before == after
            differ += not same
            mark = "✓" if same else "✗"
            line = f"  {mark} {table:<44} {_n(before):>9} → {_n(after):>9}"
            self.stdout.write(line if same else self.style.ERROR(line))
        if differ:
            self.stderr.write(self.style.ERROR(f"{differ} 张表的行数与备份不一致,请检查上面标 ✗ 的表。"))
        else:
            self.stdout.write(self.style.SUCCESS(f"全部 {len(expected)} 张表的行数与备份一致"
                                                 f"(共 {sum(expected.values())} 行)。"))
        self.stdout.write(f"上传文件:恢复 {result.uploads} 个到上传目录。")
        self.stdout.write(f"密钥:已写入 {result.keys_path}(权限 600)。")
        if result.replaced_keys:
            self.stdout.write(f"  原来的 keys.json 与备份不同,已另存为 {result.replaced_keys}。")
        for warning in result.warnings:
            self.stderr.write(self.style.ERROR(f"!!! 警告:{warning}"))
        pending, unknown = pending_migrations()
        if pending:
            self.stdout.write(self.style.WARNING(f"备份比本程序旧:还有 {len(pending)} 个迁移未执行,"
                                                 f"请运行 shegong migrate。"))
        if unknown:
            self.stderr.write(self.style.ERROR(f"备份来自更新的版本(数据库里有本程序不认识的迁移,如 {unknown[0]});"
                                               f"请用 {m.get('app_version')} 或更新的版本运行。"))
        self.stdout.write("恢复完成;请重启服务,使其读取恢复的数据库和密钥。")

    def _describe(self, m: dict) -> None:
        self.stdout.write(f"备份 {m['backup_id']}:{m['created_at']} 由 shegong {m['app_version']} 生成,"
                          f"数据库 {m['database']['engine']},{len(m['tables'])} 张表 {sum(m['tables'].values())} 行,"
                          f"上传文件 {m['uploads']['files']} 个。")
        for warning in m.get("warnings") or []:
            self._warn(f"备份时:{warning}")


def _n(value: int | None) -> str:
    return "—" if value is None else str(value)
