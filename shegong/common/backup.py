"""Backup and restore: the database, the uploaded scans and the three keys in one file.

A backup is a gzip-compressed tar:

    database.sqlite3 | database.dump   SQLite's online backup (consistent under WAL while the server runs)
                                       or `pg_dump -Fc` inside an exported REPEATABLE READ snapshot
    uploads/...                        every file under settings.UPLOAD_ROOT (archive scans, by SHA-256)
    keys.enc                           SHEGONG_SECRET_KEY, SHEGONG_FIELD_KEY, SHEGONG_HASH_KEY under a
                                       passphrase (scrypt + AES-256-GCM), with the digests of the members
    manifest.json                      format, created at, app version, engine, migrations, row counts per
                                       table (counted in the same snapshot), SHA-256 and size of every member

Restoring checks everything first — the gzip stream to its CRC, every member against the manifest, the
passphrase, and the encrypted copy of the digests against the manifest — and changes nothing unless all of it
holds. The database is snapshotted before the uploads are read: a scan is stored before its row commits and
is never deleted, so every scan the snapshot refers to is in the upload copy.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import getpass
import gzip
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from shegong.common.commands import ReportingCommand

FORMAT = "shegong-backup"
VERSION = 1
MIN_PASSPHRASE = 12
# scrypt cost: 2**17 x 8 x 128 bytes = 128 MiB and a second or two; the cost is stored in keys.enc, and a
# restore accepts 2**14 .. 2**20 so a forged header cannot make it allocate without bound.
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_N_RANGE = (2**14, 2**20)
KEY_NAMES = {  # the name in the environment and in var/keys.json -> the Django setting
    "SHEGONG_SECRET_KEY": "SECRET_KEY",
    "SHEGONG_FIELD_KEY": "FIELD_ENCRYPTION_KEY",
    "SHEGONG_HASH_KEY": "SEARCH_HASH_KEY",
}
KEY_EFFECT = {
    "SHEGONG_SECRET_KEY": "登录会话和重置链接失效",
    "SHEGONG_FIELD_KEY": "身份证号码和联系电话无法解密",
    "SHEGONG_HASH_KEY": "按身份证号码、电话查找和查重失效",
}
DB_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
MANIFEST = "manifest.json"
KEYS = "keys.enc"
UPLOADS = "uploads/"
FILE_PATTERN = re.compile(r"^shegong-\d{8}-\d{6}\.tar\.gz$")
SMALL_MEMBER = 64 * 2**20  # manifest.json and keys.enc are read into memory; anything larger is not ours
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator, in Chinese."""


@dataclass
class BackupResult:
    path: Path
    size: int
    manifest: dict[str, Any]
    warnings: list[str]
    removed: list[Path] = field(default_factory=list)


@dataclass
class VerifiedBackup:
    path: Path
    manifest: dict[str, Any]
    keys: dict[str, str]


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    counts: dict[str, int]  # row counts per table after the restore
    uploads: int
    keys_path: Path
    replaced_keys: Path | None
    warnings: list[str]


# ---- passphrase and sealing --------------------------------------------------------------------------------

def check_passphrase(passphrase: str, *, new: bool) -> str:
    if not passphrase:
        raise BackupError("备份口令不能为空")
    if new and len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"备份口令太短:至少 {MIN_PASSPHRASE} 个字符(现在 {len(passphrase)} 个)")
    return passphrase


PASSPHRASE_ENV = "SHEGONG_BACKUP_PASSPHRASE"


class BackupFileCommand(ReportingCommand):
    """What `shegong backup FILE` and `shegong restore FILE` share: the file, the --passphrase-file option
    as `passphrase()` reads it (with a warning when others can read that file), then the command's own
    options (`add_options`). `new`: the passphrase of a new backup, held to MIN_PASSPHRASE characters and
    asked twice at the terminal."""

    new = False
    file_help = ""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", metavar="FILE", help=self.file_help)
        rule = f"(至少 {MIN_PASSPHRASE} 个字符)" if self.new else ""
        parser.add_argument("--passphrase-file", metavar="FILE",
                            help=f"从文件第一行读取备份口令{rule};否则用环境变量 {PASSPHRASE_ENV},再否则在终端询问")
        self.add_options(parser)

    def add_options(self, parser: Any) -> None:
        """The command's own options, after the file and the passphrase."""

    def passphrase(self, opts: dict[str, Any]) -> str:
        return read_passphrase(opts["passphrase_file"], new=self.new, notice=self._warn)


def read_passphrase(passphrase_file: str | None, *, new: bool, notice: Callable[[str], None] | None = None) -> str:
    """From --passphrase-file (its first line), else $SHEGONG_BACKUP_PASSPHRASE, else asked at the terminal
    (twice for a new backup)."""
    if passphrase_file:
        path = Path(passphrase_file)
        try:
            text = path.read_text(encoding="utf-8")
            loose = path.stat().st_mode & 0o077
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupError(f"无法读取口令文件 {path}:{exc}") from None
        if loose and notice:
            notice(f"口令文件 {path} 其他用户也能读取;建议 chmod 600 {path}")
        lines = text.splitlines()
        return check_passphrase(lines[0] if lines else "", new=new)
    if os.environ.get(PASSPHRASE_ENV):
        return check_passphrase(os.environ[PASSPHRASE_ENV], new=new)
    if not sys.stdin.isatty():
        raise BackupError(f"需要备份口令:用 --passphrase-file 文件 或环境变量 {PASSPHRASE_ENV} 提供,"
                          f"或在终端中运行以输入口令")
    first = check_passphrase(getpass.getpass("备份口令:"), new=new)
    if new and getpass.getpass("再输入一次:") != first:
        raise BackupError("两次输入的口令不一致")
    return first


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _aad(backup_id: str) -> bytes:
    return f"{FORMAT} {VERSION} {KEYS} {backup_id}".encode()


def seal(payload: dict[str, Any], passphrase: str, backup_id: str) -> bytes:
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    ciphertext = AESGCM(key).encrypt(nonce, json.dumps(payload).encode(), _aad(backup_id))
    box = {"kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt),
           "cipher": "AES-256-GCM", "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}
    return json.dumps(box, indent=1).encode()


def unseal(data: bytes, passphrase: str, backup_id: str) -> dict[str, Any]:
    try:
        box = json.loads(data)
        n, r, p = int(box["n"]), int(box["r"]), int(box["p"])
        salt, nonce, ciphertext = (base64.b64decode(box[k]) for k in ("salt", "nonce", "ciphertext"))
        ok = box["kdf"] == "scrypt" and box["cipher"] == "AES-256-GCM" and 1 <= r <= 32 and 1 <= p <= 16
        ok = ok and SCRYPT_N_RANGE[0] <= n <= SCRYPT_N_RANGE[1] and n & (n - 1) == 0
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"备份文件中的密钥部分(keys.enc)无法读取:{exc}") from None
    if not ok:
        raise BackupError("备份文件中的密钥部分(keys.enc)使用了不认识的加密参数")
    try:
        plain = AESGCM(_derive(passphrase, salt, n, r, p)).decrypt(nonce, ciphertext, _aad(backup_id))
    except InvalidTag:
        raise BackupError("备份口令不正确,无法解开备份中的密钥;什么也没有改动。") from None
    return json.loads(plain)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---- the database ------------------------------------------------------------------------------------------

def _vendor() -> str:
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    if vendor not in DB_MEMBERS:
        raise BackupError(f"不支持备份 {vendor} 数据库:只支持 SQLite 和 PostgreSQL")
    return vendor


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(cursor: Any, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                       "ESCAPE '\\' ORDER BY name")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def count_rows(cursor: Any, vendor: str) -> dict[str, int]:
    """Rows per table, every table of the schema (Django's, the history tables, the job queue)."""
    counts = {}
    for table in _tables(cursor, vendor):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
        counts[table] = int(cursor.fetchone()[0])
    return counts


def live_counts() -> dict[str, int]:
    vendor = _vendor()
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        return count_rows(cursor, vendor)


def _snapshot_facts(cursor: Any, vendor: str) -> dict[str, Any]:
    """What the manifest says about the database, read inside the snapshot that is backed up."""
    facts: dict[str, Any] = {"tables": count_rows(cursor, vendor)}
    tables = set(facts["tables"])
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        latest: dict[str, str] = {}
        for app, name in cursor.fetchall():
            latest[app] = max(latest.get(app, ""), name)
        facts["migrations"] = latest
    attachment, worker = _model_table("archives", "Attachment"), _model_table("people", "Worker")
    if attachment in tables:
        cursor.execute(f"SELECT DISTINCT sha256 FROM {_quote(attachment)}")
        facts["scans"] = sorted(row[0] for row in cursor.fetchall())
    if worker in tables:
        cursor.execute(f"SELECT id_number_encrypted FROM {_quote(worker)} "
                       f"WHERE id_number_encrypted <> '' ORDER BY id LIMIT 20")
        facts["id_samples"] = [row[0] for row in cursor.fetchall()]
    return facts


def _model_table(app_label: str, model: str) -> str:
    try:
        return apps.get_model(app_label, model)._meta.db_table
    except LookupError:
        return ""


def _sqlite_dump(target: Path) -> dict[str, Any]:
    """SQLite's online backup API, from Django's own connection: one step, so a consistent snapshot even
    while the server writes (WAL), and it also works for the in-memory database of the tests."""
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    dest = sqlite3.connect(target)
    try:
        connection.connection.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        check = dest.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"数据库自检失败(PRAGMA quick_check:{check});请先修复数据库再备份")
        facts = _snapshot_facts(dest.cursor(), "sqlite")
    finally:
        dest.close()
    facts["sqlite_version"] = sqlite3.sqlite_version
    return facts


def _pg_env(*, restore: bool = False) -> tuple[dict[str, str], str]:
    """The environment for pg_dump / pg_restore: the connection from DATABASE_URL as PG* variables, the
    password only as PGPASSWORD (never on a command line, where `ps` would show it)."""
    s = connections[DEFAULT_DB_ALIAS].settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    options = s.get("OPTIONS") or {}
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"),
                     ("sslkey", "PGSSLKEY"), ("passfile", "PGPASSFILE"), ("service", "PGSERVICE"),
                     ("connect_timeout", "PGCONNECT_TIMEOUT"), ("options", "PGOPTIONS")):
        if options.get(key):
            env[var] = str(options[key])
    if restore:  # a server still running holds locks: fail (and roll back) rather than wait forever
        env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c lock_timeout=60s").strip()
    name = s.get("NAME") or ""
    if name:
        env["PGDATABASE"] = name
    return env, name


def _pg_tool(tool: str) -> tuple[str, int, str]:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(f"找不到 {tool}:请安装与数据库服务器同一主版本的 PostgreSQL 客户端"
                          f"(Debian/Ubuntu:apt-get install postgresql-client)")
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    match = re.search(r"(\d+)(?:\.\d+)*", out)
    return path, int(match.group(1)) if match else 0, out


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise BackupError(f"{what}失败(退出码 {result.returncode}):{detail}")


def _pg_dump(target: Path) -> dict[str, Any]:
    """pg_dump -Fc inside an exported snapshot, so the row counts in the manifest are those of the dump."""
    tool, tool_major, tool_version = _pg_tool("pg_dump")
    reader = connections[DEFAULT_DB_ALIAS].copy()
    try:
        reader.ensure_connection()
        reader.set_autocommit(True)
        with reader.cursor() as cursor:
            cursor.execute("SHOW server_version_num")
            server = int(cursor.fetchone()[0])
            if tool_major and tool_major < server // 10000:
                raise BackupError(f"{tool_version} 比数据库服务器(PostgreSQL {server // 10000})旧,不能备份;"
                                  f"请安装 postgresql-client-{server // 10000}")
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                facts = _snapshot_facts(cursor, "postgresql")
                env, _name = _pg_env()
                _run([tool, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={target}"],
                     env, "pg_dump ")
            finally:
                cursor.execute("COMMIT")
    finally:
        reader.close()
    facts["server_version"] = server
    facts["pg_dump"] = tool_version
    return facts


def _sqlite_restore(source: Path) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    name = str(connection.settings_dict["NAME"])
    if name and not name.startswith("file:") and name != ":memory:":
        Path(name).parent.mkdir(parents=True, exist_ok=True)
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("不能在事务中恢复数据库")
    src = sqlite3.connect(source)
    try:
        src.backup(connection.connection)
    finally:
        src.close()


def _pg_restore(source: Path, manifest: dict[str, Any]) -> None:
    tool, tool_major, tool_version = _pg_tool("pg_restore")
    made_by = re.search(r"(\d+)", str(manifest["database"].get("pg_dump", "")))
    if made_by and tool_major and tool_major < int(made_by.group(1)):
        raise BackupError(f"这份备份由 {manifest['database']['pg_dump']} 生成,{tool_version} 读不了;"
                          f"请安装 postgresql-client-{made_by.group(1)} 或更新的版本")
    connections.close_all()  # no lock of ours in the way of DROP TABLE
    env, name = _pg_env(restore=True)
    _run([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", f"--dbname={name}", str(source)], env,
         "pg_restore (数据库没有改动;若服务仍在运行,请先停止服务)")


def database_has_data() -> dict[str, int]:
    """Users, divisions and workers already in the configured database (what a restore would replace)."""
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        found = {}
        for label, (app_label, model) in {"用户": ("accounts", "User"), "区划": ("org", "Division"),
                                          "社区工作者": ("people", "Worker")}.items():
            table = _model_table(app_label, model)
            if table in existing:
                cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
                if n := int(cursor.fetchone()[0]):
                    found[label] = n
    return found


# ---- uploads -------------------------------------------------------------------------------------------------

def _upload_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Every stored file with its member name; half-written temporary files (.upload-*) are not stored."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(".upload-") or not path.is_file() or path.is_symlink():
                continue
            yield path, UPLOADS + path.relative_to(root).as_posix()


class _Hashing(io.RawIOBase):
    """A reader that hashes what passes through it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.sha = fh, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.sha.update(data)
        return data


# ---- writing -------------------------------------------------------------------------------------------------

def default_name(now: dt.datetime | None = None) -> str:
    now = now or timezone.localtime()
    return f"shegong-{now:%Y%m%d-%H%M%S}.tar.gz"


def backup_create(*, target: Path, passphrase: str, keep: int | None = None, overwrite: bool = False,
                  progress: Callable[[str], None] | None = None) -> BackupResult:
    """Write a backup to `target` (a file, or a directory for a time-stamped file in it); with `keep`, delete
    all but the newest `keep` shegong-*.tar.gz backups in that directory afterwards."""
    say = progress or (lambda _msg: None)
    check_passphrase(passphrase, new=True)
    vendor = _vendor()
    target = Path(target)
    if target.is_dir():
        target = target / default_name()
    elif keep is not None:
        raise BackupError("--keep 只能与目录一起使用(在目录中按时间命名,并只保留最新的几份)")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} 已存在;换一个文件名,或给出一个目录让系统按时间命名")
    if not target.parent.is_dir():
        raise BackupError(f"目录 {target.parent} 不存在")
    keys = {env_name: str(getattr(settings, setting)) for env_name, setting in KEY_NAMES.items()}
    backup_id = str(uuid.uuid4())
    warnings: list[str] = []
    members: dict[str, dict[str, Any]] = {}
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    tmp = Path(tmp_name)  # mkstemp: mode 600
    try:
        with tempfile.TemporaryDirectory(prefix=".shegong-backup-", dir=target.parent) as work, \
                os.fdopen(fd, "wb") as raw, \
                tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
            now = int(time.time())

            def add(name: str, fh: IO[bytes], size: int) -> None:
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = size, now, 0o600
                hashing = _Hashing(fh)
                tar.addfile(info, hashing)
                members[name] = {"sha256": hashing.sha.hexdigest(), "size": size}

            # 1. the database snapshot
            say(f"备份数据库({ENGINE_NAMES[vendor]})…")
            dump = Path(work) / DB_MEMBERS[vendor]
            facts = _sqlite_dump(dump) if vendor == "sqlite" else _pg_dump(dump)
            with dump.open("rb") as fh:
                add(DB_MEMBERS[vendor], fh, dump.stat().st_size)
            dump.unlink()
            # 2. the uploads, after the snapshot (see the module docstring)
            root = Path(settings.UPLOAD_ROOT)
            say(f"备份上传文件({root})…")
            upload_bytes = 0
            for path, name in _upload_files(root):
                with path.open("rb") as fh:
                    size = os.fstat(fh.fileno()).st_size
                    add(name, fh, size)
                upload_bytes += size
            warnings += _scan_warnings(members, facts.pop("scans", []))
            warnings += _key_warnings(keys, facts.pop("id_samples", []))
            # 3. the keys, sealed with the digests of everything above
            payload = {"backup_id": backup_id, "keys": keys, "members": members}
            box = seal(payload, passphrase, backup_id)
            add(KEYS, io.BytesIO(box), len(box))
            # 4. the manifest, last: it lists every member above
            manifest = {
                "format": FORMAT, "version": VERSION, "backup_id": backup_id,
                "created_at": timezone.localtime().isoformat(timespec="seconds"),
                "app_version": _app_version(),
                "database": {"engine": vendor, "member": DB_MEMBERS[vendor],
                             **{k: v for k, v in facts.items() if k not in ("tables", "migrations")}},
                "migrations": facts.get("migrations", {}),
                "tables": facts["tables"],
                "uploads": {"files": sum(1 for m in members if m.startswith(UPLOADS)), "bytes": upload_bytes},
                "keys": sorted(keys),
                "warnings": warnings,
                "members": members,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), now, 0o600
            tar.addfile(info, io.BytesIO(data))
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    removed = _prune(target.parent, keep) if keep is not None else []
    return BackupResult(path=target, size=target.stat().st_size, manifest=manifest, warnings=warnings,
                        removed=removed)


def _scan_warnings(members: dict[str, dict[str, Any]], scans: list[str]) -> list[str]:
    warnings = []
    stored = {name.rsplit("/", 1)[-1]: m["sha256"] for name, m in members.items()
              if name.startswith(UPLOADS + "archives/")}
    missing = [s for s in scans if s not in stored]
    damaged = [name for name, digest in stored.items() if re.fullmatch(r"[0-9a-f]{64}", name) and name != digest]
    if missing:
        warnings.append(f"数据库登记的 {len(missing)} 个扫描件在上传目录中找不到(例如 {missing[0]}),"
                        f"备份里也没有它们")
    if damaged:
        warnings.append(f"上传目录中有 {len(damaged)} 个扫描件的内容与其 SHA-256 不符(已损坏,例如 {damaged[0]});"
                        f"重新上传同一文件即可修复")
    return warnings


def _key_warnings(keys: dict[str, str], samples: list[str]) -> list[str]:
    if not samples:
        return []
    fernet = Fernet(keys["SHEGONG_FIELD_KEY"].encode())
    bad = 0
    for token in samples:
        try:
            fernet.decrypt(token.encode())
        except InvalidToken:
            bad += 1
    if not bad:
        return []
    return [f"当前的 SHEGONG_FIELD_KEY 解不开数据库中 {bad}/{len(samples)} 个抽查的身份证号码:"
            f"这份备份里的密钥救不回这些号码,请找到当初加密它们的密钥"]


def _app_version() -> str:
    try:
        return metadata.version("shegong")
    except metadata.PackageNotFoundError:
        return "unknown"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _prune(folder: Path, keep: int) -> list[Path]:
    if keep < 1:
        raise BackupError("--keep 至少为 1")
    backups = sorted(p for p in folder.iterdir() if FILE_PATTERN.match(p.name) and p.is_file())
    old = backups[:-keep]
    for path in old:
        path.unlink()
    return old


# ---- reading -------------------------------------------------------------------------------------------------

DAMAGED = "备份文件已损坏或不完整"


@contextlib.contextmanager
def _open_archive(path: Path) -> Iterator[tarfile.TarFile]:
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}")
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            yield tar
            # read to the end of the gzip stream, so its CRC is checked even past the last member
            while tar.fileobj is not None and tar.fileobj.read(CHUNK):
                pass
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        raise BackupError(f"{DAMAGED}({path.name}:{exc});什么也没有改动。") from None


def _member_path(name: str) -> PurePosixPath:
    """A member name we wrote ourselves, or a refusal: no absolute paths, no '..', only our members."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name != path.as_posix():
        raise BackupError(f"{DAMAGED}:不安全的成员名 {name!r};什么也没有改动。")
    if name in (MANIFEST, KEYS) or name in DB_MEMBERS.values():
        return path
    if name.startswith(UPLOADS) and len(path.parts) > 1:
        return path
    raise BackupError(f"{DAMAGED}:不认识的成员 {name!r};什么也没有改动。")


def backup_verify(path: Path, passphrase: str) -> VerifiedBackup:
    """Read the whole backup once: structure, gzip CRC, every member's SHA-256 against the manifest, the
    passphrase, and the sealed digests against the manifest. Changes nothing."""
    path = Path(path)
    check_passphrase(passphrase, new=False)
    digests, small = _read_members(path)
    manifest = _read_manifest(small)
    listed = manifest["members"]
    present = {name: d for name, d in digests.items() if name != MANIFEST}
    _check_members(listed, present)
    engine = manifest.get("database", {}).get("engine")
    if engine not in DB_MEMBERS or DB_MEMBERS[engine] not in present or KEYS not in small:
        raise BackupError(f"{DAMAGED}:缺少数据库或密钥;什么也没有改动。")
    return VerifiedBackup(path=path, manifest=manifest, keys=_sealed_keys(small[KEYS], passphrase, manifest))


def _read_members(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, bytes]]:
    """Every member's SHA-256 and size, and the bytes of the small ones (manifest, keys), in one read;
    a member that is not ours, not a file, twice there or too big for what it is stops it."""
    digests: dict[str, dict[str, Any]] = {}
    small: dict[str, bytes] = {}
    with _open_archive(path) as tar:
        for member in tar:
            _member_path(member.name)
            if not member.isfile():
                raise BackupError(f"{DAMAGED}:成员 {member.name!r} 不是普通文件;什么也没有改动。")
            if member.name in digests:
                raise BackupError(f"{DAMAGED}:成员 {member.name!r} 出现了两次;什么也没有改动。")
            keep = member.name in (MANIFEST, KEYS)
            if keep and member.size > SMALL_MEMBER:
                raise BackupError(f"{DAMAGED}:{member.name} 大得不正常;什么也没有改动。")
            fh = tar.extractfile(member)
            assert fh is not None
            sha, buf = hashlib.sha256(), bytearray()
            while chunk := fh.read(CHUNK):
                sha.update(chunk)
                if keep:
                    buf += chunk
            digests[member.name] = {"sha256": sha.hexdigest(), "size": member.size}
            if keep:
                small[member.name] = bytes(buf)
    return digests, small


def _read_manifest(small: dict[str, bytes]) -> dict[str, Any]:
    """The manifest, of our format and of the version this program reads."""
    if MANIFEST not in small:
        raise BackupError(f"{DAMAGED}:缺少 manifest.json(这不是社工系统的备份,或文件被截断);什么也没有改动。")
    try:
        manifest = json.loads(small[MANIFEST])
        ok = manifest.get("format") == FORMAT and isinstance(manifest["members"], dict)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BackupError(f"{DAMAGED}:manifest.json 无法读取;什么也没有改动。") from None
    if not ok:
        raise BackupError("这不是社工系统的备份文件(manifest.json 的格式不对);什么也没有改动。")
    if manifest.get("version") != VERSION:
        raise BackupError(f"备份格式版本 {manifest.get('version')} 不受支持(本程序读版本 {VERSION});"
                          f"请用生成它的版本恢复。什么也没有改动。")
    return manifest  # type: ignore[no-any-return]


def _check_members(listed: dict[str, Any], present: dict[str, dict[str, Any]]) -> None:
    """The members in the file are exactly those the manifest lists, with the listed checksums."""
    missing = sorted(set(listed) - set(present))
    extra = sorted(set(present) - set(listed))
    changed = sorted(n for n in set(listed) & set(present) if listed[n].get("sha256") != present[n]["sha256"])
    parts = []
    if changed:
        parts.append(f"{len(changed)} 个成员的校验和不符(如 {changed[0]})")
    if missing:
        parts.append(f"缺少 {len(missing)} 个成员(如 {missing[0]})")
    if extra:
        parts.append(f"多出 {len(extra)} 个成员(如 {extra[0]})")
    if parts:
        raise BackupError(f"{DAMAGED}:{';'.join(parts)};什么也没有改动。")


def _sealed_keys(sealed_bytes: bytes, passphrase: str, manifest: dict[str, Any]) -> dict[str, str]:
    """Open the sealed member with the passphrase: its digests must equal the manifest's (a manifest
    edited after the backup is refused) and it must hold every key."""
    payload = unseal(sealed_bytes, passphrase, str(manifest.get("backup_id")))
    listed = manifest["members"]
    if payload.get("backup_id") != manifest.get("backup_id") or payload.get("members") != {
            n: d for n, d in listed.items() if n != KEYS}:
        raise BackupError("备份文件被改动过:加密保存的校验和与 manifest.json 不一致;什么也没有改动。")
    keys = payload.get("keys") or {}
    if set(keys) != set(KEY_NAMES) or not all(isinstance(v, str) and v for v in keys.values()):
        raise BackupError(f"{DAMAGED}:备份中的密钥不完整;什么也没有改动。")
    return keys  # type: ignore[no-any-return]


# ---- restoring -----------------------------------------------------------------------------------------------

def backup_restore(*, path: Path, passphrase: str, replace: bool = False,
                   progress: Callable[[str], None] | None = None) -> RestoreResult:
    """Verify the backup (nothing changes if it fails), then restore the database, the uploads and the keys.
    A database that already has users, divisions or workers is replaced only with `replace`."""
    say = progress or (lambda _msg: None)
    vendor = _vendor()
    existing = database_has_data()  # asked first: no need to read a large file to refuse
    if existing and not replace:
        what = "、".join(f"{n} 个{label}" for label, n in existing.items())
        raise BackupError(f"目标数据库已有数据({what});确认要用备份替换它们,请加 --yes。什么也没有改动。")
    say("校验备份文件…")
    verified = backup_verify(path, passphrase)
    manifest = verified.manifest
    engine = manifest["database"]["engine"]
    if engine != vendor:
        raise BackupError(f"这份备份来自 {ENGINE_NAMES[engine]},而现在配置的数据库(DATABASE_URL)是 "
                          f"{ENGINE_NAMES[vendor]};请先把 DATABASE_URL 指向 {ENGINE_NAMES[engine]} 数据库再恢复。"
                          f"什么也没有改动。")
    keys_path = Path(settings.VAR_DIR) / "keys.json"
    keys_path.parent.mkdir(parents=True, exist_ok=True)
    root = Path(settings.UPLOAD_ROOT)
    listed = manifest["members"]
    uploads = 0
    work = Path(settings.VAR_DIR) if Path(settings.VAR_DIR).is_dir() else None
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=work) as staging, _open_archive(Path(path)) as tar:
        for member in tar:
            name = member.name
            if name in (MANIFEST, KEYS):
                continue
            fh = tar.extractfile(member)
            assert fh is not None
            if name == DB_MEMBERS[engine]:
                say(f"恢复数据库({ENGINE_NAMES[engine]})…")
                dump = Path(staging) / name
                _copy_checked(fh, dump, listed[name]["sha256"])
                if engine == "sqlite":
                    _sqlite_restore(dump)
                else:
                    _pg_restore(dump, manifest)
                dump.unlink()
                say("恢复上传文件…")
            else:
                rel = _member_path(name).relative_to(UPLOADS.rstrip("/"))
                target = root / Path(*rel.parts)
                _copy_checked(fh, target, listed[name]["sha256"])
                uploads += 1
    replaced = _write_keys(keys_path, verified.keys, keep_old=bool(existing))
    connections.close_all()
    counts = live_counts()
    warnings = _restore_warnings(verified.keys)
    return RestoreResult(manifest=manifest, counts=counts, uploads=uploads, keys_path=keys_path,
                         replaced_keys=replaced, warnings=warnings)


def _copy_checked(fh: IO[bytes], target: Path, sha256: str) -> None:
    """Write a member next to its target and move it into place only when its SHA-256 is right. A read error
    is the backup's (reported as damage by _open_archive); a write error is the disk's, and says so."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    except OSError as exc:
        raise BackupError(f"无法写入 {target.parent}:{exc}") from None
    tmp = Path(tmp_name)
    try:
        sha = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            while chunk := fh.read(CHUNK):
                sha.update(chunk)
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise BackupError(f"无法写入 {target}:{exc}") from None
        if sha.hexdigest() != sha256:
            raise BackupError(f"{DAMAGED}:{target.name} 两次读出的内容不同;请检查存储介质")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_keys(path: Path, keys: dict[str, str], *, keep_old: bool) -> Path | None:
    """var/keys.json (mode 600). When the restore replaced data, a different keys.json already there is kept
    beside it rather than overwritten (it may be the only key to that data); over an empty database it
    encrypted nothing and is simply replaced."""
    replaced = None
    if keep_old and path.exists():
        try:
            same = json.loads(path.read_text()) == keys
        except ValueError:
            same = False
        if not same:
            replaced = path.with_name(f"keys.json.before-restore-{timezone.localtime():%Y%m%d-%H%M%S}")
            os.replace(path, replaced)
            os.chmod(replaced, 0o600)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-")
    with os.fdopen(fd, "w") as fh:
        json.dump(keys, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return replaced


def _restore_warnings(keys: dict[str, str]) -> list[str]:
    warnings = []
    for name, effect in KEY_EFFECT.items():
        value = os.environ.get(name)
        if value and value != keys[name]:
            warnings.append(f"环境变量 {name} 与备份中的密钥不同,而环境变量优先于 var/keys.json:{effect}。"
                            f"请把 {name} 改为 var/keys.json 中的值(或去掉这个环境变量),再重启服务。")
    worker = _model_table("people", "Worker")
    if worker:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            if worker in connections[DEFAULT_DB_ALIAS].introspection.table_names(cursor):
                cursor.execute(f"SELECT id_number_encrypted FROM {_quote(worker)} "
                               f"WHERE id_number_encrypted <> '' ORDER BY id LIMIT 20")
                warnings += _key_warnings(keys, [row[0] for row in cursor.fetchall()])
    return warnings


def pending_migrations() -> tuple[list[str], list[str]]:
    """(migrations this code has that the restored database lacks, applied ones this code does not know)."""
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    unknown = sorted(f"{app}.{name}" for app, name in executor.loader.applied_migrations
                     if (app, name) not in executor.loader.disk_migrations
                     and app in {c.label for c in apps.get_app_configs()})
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan], unknown
