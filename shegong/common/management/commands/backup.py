"""`shegong backup FILE`: the database, the uploads and the keys (under a passphrase) in one file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from shegong.common.backup import BackupError, BackupFileCommand, backup_create


class Command(BackupFileCommand):
    help = ("备份数据库、上传的扫描件和密钥(密钥用备份口令加密)到一个文件:shegong backup 文件或目录。"
            "给出目录时在其中按时间命名(shegong-YYYYMMDD-HHMMSS.tar.gz)。见 docs/backup.md")

    file_help = "备份文件,或一个已存在的目录"
    new = True

    def add_options(self, parser):
        parser.add_argument("--keep", type=int, metavar="N",
                            help="目标是目录时,备份完成后只保留其中最新的 N 份 shegong-*.tar.gz")
        parser.add_argument("--overwrite", action="store_true", help="覆盖已存在的同名文件")

    def handle(self, *args, **opts):
        try:
            result = backup_create(target=Path(opts["file"]), passphrase=self.passphrase(opts), keep=opts["keep"],
                                   overwrite=opts["overwrite"], progress=self._progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        m = result.manifest
        rows = sum(m["tables"].values())
        self.stdout.write(self.style.SUCCESS(f"已备份到 {result.path}({_size(result.size)},权限 600)"))
        self.stdout.write(f"  数据库 {m['database']['engine']}:{len(m['tables'])} 张表,{rows} 行")
        self.stdout.write(f"  上传文件:{m['uploads']['files']} 个,{_size(m['uploads']['bytes'])}")
        self.stdout.write(f"  密钥:{'、'.join(m['keys'])}(已用备份口令加密)")
        for path in result.removed:
            self.stdout.write(f"  已删除旧备份 {path.name}")
        for warning in result.warnings:
            self._warn(warning)
        self.stdout.write("请把备份口令另行妥善保管:没有口令就恢复不了密钥,没有密钥身份证号码就无法解密。")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
