"""`shegong backup` and `shegong restore`: back up, wipe, restore, and find every row, every scan and every
decryptable ID number again; a wrong passphrase, a damaged or altered file and a database with data in it are
refused with nothing changed.

The in-process tests run on the suite's database (SQLite in memory, or PostgreSQL through pg_dump and
pg_restore); each engine also has one end-to-end run of the real `shegong` commands in subprocesses against
a file database (SQLite in WAL mode, or a scratch PostgreSQL database <name>_restore), wiped in between as a
lost machine would be: database, uploads and var/keys.json gone.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from shegong.archives import services as archive_services
from shegong.archives import storage
from shegong.archives.models import Attachment, attachment_path
from shegong.common import backup, crypto
from shegong.people.models import Worker
from tests import factories
from tests.files import PDF, png

# pg_dump reads through its own connection, so the data must be committed; the rows the migrations seed
# (roles, post types) come back after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSPHRASE = "Kx7 rainy lantern 2021"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def place(settings, tmp_path, monkeypatch):
    """Keys, uploads and backups under tmp_path (never the repository's var/); a cheap scrypt cost."""
    monkeypatch.setattr(backup, "SCRYPT_N", 2**14)
    for name in backup.KEY_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(backup.PASSPHRASE_ENV, raising=False)
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    (tmp_path / "pass").chmod(0o600)
    (tmp_path / "wrong").write_text("not the passphrase at all\n")
    return tmp_path


def scans(world) -> list[Attachment]:
    record = archive_services.record_create(actor=world.users["community"], worker=world.w1, archive_class=10,
                                           title="居民身份证复印件", date="2020-05-01", issuer="东风社区")
    return [archive_services.attachment_add(actor=world.users["community"], record=record, name=name, data=data)
            for name, data in (("身份证.pdf", PDF), ("照片.png", png()))]


def facts() -> dict:
    """Everything a restore must bring back: rows per table, scan bytes, ID numbers in clear."""
    return {
        "counts": backup.live_counts(),
        "scans": {a.sha256: hashlib.sha256(storage.open_stored(a.sha256).read()).hexdigest()
                  for a in Attachment.objects.all()},
        "ids": {pk: crypto.decrypt(token) for pk, token in Worker.objects.values_list("pk", "id_number_encrypted")},
    }


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def make_backup(place: Path, name: str = "b.tar.gz") -> Path:
    target = place / name
    run("backup", str(target), "--passphrase-file", str(place / "pass"))
    return target


def use_keys(settings, keys: dict[str, str]) -> None:
    for env_name, setting in backup.KEY_NAMES.items():
        setattr(settings, setting, keys[env_name])


# ---- the round trip ------------------------------------------------------------------------------------

def test_back_up_wipe_restore(world, place, settings, monkeypatch):
    attachments = scans(world)
    before = facts()
    assert len(before["scans"]) == 2 and len(before["ids"]) == 4
    original_keys = {env_name: getattr(settings, setting) for env_name, setting in backup.KEY_NAMES.items()}

    out, _err = run("backup", str(place / "b.tar.gz"), "--passphrase-file", str(place / "pass"))
    target = place / "b.tar.gz"
    assert "已备份到" in out and "2 个" in out
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in place.iterdir() if p.name.startswith(".")] == []  # no temporary file left behind
    with tarfile.open(target, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        sealed = tar.extractfile("keys.enc").read()
    assert names[0] == backup.DB_MEMBERS[connection.vendor] and names[-2:] == ["keys.enc", "manifest.json"]
    assert {f"uploads/archives/{a.sha256[:2]}/{a.sha256}" for a in attachments} <= set(names)
    assert manifest["tables"] == before["counts"]
    assert manifest["database"]["engine"] == connection.vendor
    assert set(manifest["members"]) == set(names) - {"manifest.json"}
    for key in original_keys.values():  # the keys are in the file only encrypted
        assert key.encode() not in sealed

    # The machine is lost: no rows, no scans, and other keys (a fresh var/keys.json, and the environment).
    call_command("flush", "--noinput")
    shutil.rmtree(settings.UPLOAD_ROOT)
    fresh = {"SHEGONG_SECRET_KEY": "s" * 50, "SHEGONG_FIELD_KEY": Fernet.generate_key().decode(),
             "SHEGONG_HASH_KEY": "h" * 40}
    use_keys(settings, fresh)
    (settings.VAR_DIR / "keys.json").write_text(json.dumps(fresh))
    monkeypatch.setenv("SHEGONG_FIELD_KEY", fresh["SHEGONG_FIELD_KEY"])
    assert not Worker.objects.exists()

    out, err = run("restore", str(target), "--passphrase-file", str(place / "pass"))
    assert f"全部 {len(before['counts'])} 张表的行数与备份一致" in out
    assert "✗" not in out
    # The environment's key wins over var/keys.json: said loudly, with what breaks.
    assert "环境变量 SHEGONG_FIELD_KEY 与备份中的密钥不同" in err and "身份证号码和联系电话无法解密" in err
    assert "SHEGONG_HASH_KEY" not in err  # only the key that is set differently

    keys_file = settings.VAR_DIR / "keys.json"
    assert keys_file.stat().st_mode & 0o777 == 0o600
    restored_keys = json.loads(keys_file.read_text())
    assert restored_keys == original_keys
    assert not list(settings.VAR_DIR.glob("keys.json.before-restore-*"))  # the database was empty
    with pytest.raises(InvalidToken):  # with the keys of the wiped machine the numbers are gone ...
        facts()
    use_keys(settings, restored_keys)  # ... with the restored ones every one is back
    after = facts()
    assert after == before
    for a in attachments:
        assert storage.verify(a.sha256)
    w = Worker.objects.get(pk=world.w1.pk)
    assert w.id_number_hash == crypto.search_hash(before["ids"][w.pk])  # the search hash key too


def test_restore_over_data_needs_yes_and_keeps_the_old_keys(world, place, settings):
    scans(world)
    target = make_backup(place)
    factories.WorkerFactory(name="后来的人", community=world.c1)
    (settings.VAR_DIR / "keys.json").write_text(json.dumps({"SHEGONG_FIELD_KEY": "old"}))
    with pytest.raises(CommandError, match=r"目标数据库已有数据(.*5 个社区工作者.*);确认要用备份替换它们,请加 --yes"):
        run("restore", str(target), "--passphrase-file", str(place / "pass"))
    assert Worker.objects.count() == 5  # nothing changed
    assert json.loads((settings.VAR_DIR / "keys.json").read_text()) == {"SHEGONG_FIELD_KEY": "old"}

    out, _err = run("restore", str(target), "--passphrase-file", str(place / "pass"), "--yes")
    assert Worker.objects.count() == 4
    kept = list(settings.VAR_DIR.glob("keys.json.before-restore-*"))
    assert len(kept) == 1 and json.loads(kept[0].read_text()) == {"SHEGONG_FIELD_KEY": "old"}
    assert kept[0].stat().st_mode & 0o777 == 0o600
    assert "原来的 keys.json 与备份不同,已另存为" in out


# ---- refusals: nothing changes --------------------------------------------------------------------------

def repack(source: Path, target: Path, change) -> None:  # noqa: ANN001 — change(name, data, manifest) -> bytes
    """The same tar with members changed, in a fresh, valid gzip stream (damage that no CRC catches)."""
    with tarfile.open(source, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    manifest = json.loads(dict((m.name, d) for m, d in members)["manifest.json"])
    with gzip.open(target, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as out:
        for m, data in members:
            data = change(m.name, data, manifest)
            m.size = len(data)
            out.addfile(m, io.BytesIO(data))


def damaged_copies(target: Path, folder: Path, db_member: str) -> dict[str, tuple[Path, str]]:
    """Damaged copies of a backup, each with the message a restore must refuse it with."""
    data = target.read_bytes()
    copies: dict[str, tuple[bytes | None, str]] = {}
    for label, at in (("a byte flipped at 1/3", len(data) // 3), ("a byte flipped at 2/3", 2 * len(data) // 3),
                      ("a byte of the gzip CRC flipped", len(data) - 6)):
        flipped = bytearray(data)
        flipped[at] ^= 0x10
        copies[label] = (bytes(flipped), "备份文件已损坏或不完整")
    copies["cut in half"] = (data[: len(data) // 2], "备份文件已损坏或不完整")
    copies["garbage appended"] = (data + b"\x00garbage", "备份文件已损坏或不完整")
    copies["not a backup"] = (PDF, "备份文件已损坏或不完整")
    out = {label: (folder / f"{n}.tar.gz", message) for n, (label, (_d, message)) in enumerate(copies.items())}
    for label, (path, _message) in out.items():
        path.write_bytes(copies[label][0])

    def flip(name, data, manifest):
        if name != db_member:
            return data
        data = bytearray(data)
        data[len(data) // 2] ^= 0x01
        return bytes(data)

    changed: dict[str, bytes] = {}

    def forge(name, data, manifest):  # changed, and the manifest rewritten to match, without the passphrase
        if name == db_member:
            changed[name] = flip(name, data, manifest)
            return changed[name]
        if name == "manifest.json":  # the last member: the database's new bytes are known by now
            manifest["members"][db_member]["sha256"] = hashlib.sha256(changed[db_member]).hexdigest()
            return json.dumps(manifest).encode()
        return data

    repack(target, folder / "changed.tar.gz", flip)
    out["a member changed"] = (folder / "changed.tar.gz", re.escape(f"1 个成员的校验和不符(如 {db_member})"))
    repack(target, folder / "forged.tar.gz", forge)
    out["a member changed, the manifest forged"] = (folder / "forged.tar.gz",
                                                    "备份文件被改动过:加密保存的校验和与 manifest.json 不一致")
    with tarfile.open(target, "r:gz") as tar, tarfile.open(folder / "escape.tar.gz", "w:gz") as evil:
        for m in tar.getmembers():
            evil.addfile(m, tar.extractfile(m))
        info = tarfile.TarInfo("uploads/../../escape")
        info.size = 1
        evil.addfile(info, io.BytesIO(b"x"))
    out["a member outside the backup"] = (folder / "escape.tar.gz", "不安全的成员名 'uploads/../../escape'")
    out["no such file"] = (folder / "nothing.tar.gz", "找不到备份文件")
    return out


def test_refusals_change_nothing(world, place, settings):
    scans(world)
    target = make_backup(place)
    factories.WorkerFactory(name="后来的人", community=world.c1)  # so that a restore would show
    before = facts()
    folder = place / "damaged"
    folder.mkdir()
    cases = {"the wrong passphrase": (target, "备份口令不正确,无法解开备份中的密钥;什么也没有改动")}
    cases |= damaged_copies(target, folder, backup.DB_MEMBERS[connection.vendor])
    for label, (path, message) in cases.items():
        passphrase = place / ("wrong" if label == "the wrong passphrase" else "pass")
        for check in ([], ["--check"]):
            with pytest.raises(CommandError, match=message):
                run("restore", str(path), "--passphrase-file", str(passphrase), "--yes", *check)
        assert facts() == before, label
        assert not (settings.VAR_DIR / "keys.json").exists(), label
        assert not (place / "escape").exists() and not (place.parent / "escape").exists()
    assert sorted(p.name for p in settings.VAR_DIR.iterdir()) == []  # no staging left behind


# ---- the passphrase, the file, the schedule -------------------------------------------------------------

def test_passphrase_rules(world, place, monkeypatch):
    (place / "short").write_text("too short\n")
    with pytest.raises(CommandError, match=re.escape("备份口令太短:至少 12 个字符(现在 9 个)")):
        run("backup", str(place / "b.tar.gz"), "--passphrase-file", str(place / "short"))
    (place / "empty").write_text("")
    with pytest.raises(CommandError, match="备份口令不能为空"):
        run("backup", str(place / "b.tar.gz"), "--passphrase-file", str(place / "empty"))
    with pytest.raises(CommandError, match="需要备份口令:用 --passphrase-file"):  # not a terminal: no prompt
        run("backup", str(place / "b.tar.gz"))
    assert not (place / "b.tar.gz").exists()
    # From the environment; the file must not be overwritten by accident.
    monkeypatch.setenv(backup.PASSPHRASE_ENV, PASSPHRASE)
    run("backup", str(place / "b.tar.gz"))
    with pytest.raises(CommandError, match="已存在"):
        run("backup", str(place / "b.tar.gz"))
    out, _err = run("restore", str(place / "b.tar.gz"), "--check")
    assert "备份完好" in out
    # A passphrase file others can read is used, with a warning.
    (place / "pass").chmod(0o644)
    _out, err = run("restore", str(place / "b.tar.gz"), "--check", "--passphrase-file", str(place / "pass"))
    assert "其他用户也能读取" in err


def test_a_directory_gets_dated_files_and_keep_prunes_only_ours(world, place):
    folder = place / "backups"
    folder.mkdir()
    for old in ("shegong-20240101-020000.tar.gz", "shegong-20240102-020000.tar.gz"):
        (folder / old).write_bytes(b"old")
    (folder / "notes.txt").write_text("keep me")
    out, _err = run("backup", str(folder), "--passphrase-file", str(place / "pass"), "--keep", "2")
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 3 and "notes.txt" in names and "shegong-20240102-020000.tar.gz" in names
    assert backup.FILE_PATTERN.match(names[-2]) and names[-2] > "shegong-2024"
    assert "已删除旧备份 shegong-20240101-020000.tar.gz" in out
    with pytest.raises(CommandError, match="--keep 只能与目录一起使用"):
        run("backup", str(place / "x.tar.gz"), "--passphrase-file", str(place / "pass"), "--keep", "2")


def test_a_backup_warns_of_keys_that_cannot_read_the_data_and_of_missing_scans(world, place, settings):
    lost = scans(world)[0]
    (storage.root() / attachment_path(lost.sha256)).unlink()
    use_keys(settings, {"SHEGONG_SECRET_KEY": settings.SECRET_KEY, "SHEGONG_FIELD_KEY": Fernet.generate_key().decode(),
                        "SHEGONG_HASH_KEY": settings.SEARCH_HASH_KEY})
    _out, err = run("backup", str(place / "b.tar.gz"), "--passphrase-file", str(place / "pass"))
    assert "当前的 SHEGONG_FIELD_KEY 解不开数据库中 4/4 个抽查的身份证号码" in err
    assert f"数据库登记的 1 个扫描件在上传目录中找不到(例如 {lost.sha256})" in err


# ---- end to end: the real commands against a file database ---------------------------------------------

POPULATE = """
import django
django.setup()
from shegong.access import system_actor
from shegong.archives.services import attachment_add, record_create
from tests import factories
from tests.files import PDF, png
c1 = factories.community("220102001001", "东风社区")
c2 = factories.community("220102002001", "春光社区")
workers = [factories.WorkerFactory(name=n, community=c) for n, c in (("张三", c1), ("李四", c1), ("王五", c2))]
factories.user("street", "street_admin", "220102001")
record = record_create(actor=system_actor("command"), worker=workers[0], archive_class=10, title="居民身份证复印件",
                       date="2020-05-01", issuer="东风社区")
attachment_add(actor=system_actor("command"), record=record, name="身份证.pdf", data=PDF)
attachment_add(actor=system_actor("command"), record=record, name="照片.png", data=png())
"""

FACTS = """
import django, hashlib, json
django.setup()
from shegong.archives import storage
from shegong.archives.models import Attachment
from shegong.common import backup, crypto
from shegong.people.models import Worker
print(json.dumps({
    "counts": backup.live_counts(),
    "scans": {s: hashlib.sha256(storage.open_stored(s).read()).hexdigest()
              for s in Attachment.objects.values_list("sha256", flat=True)},
    "ids": {str(pk): crypto.decrypt(t) for pk, t in Worker.objects.values_list("pk", "id_number_encrypted")},
}))
"""


def shegong(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """The `shegong` console script (shegong/cli.py), as an operator runs it."""
    result = subprocess.run([sys.executable, "-m", "shegong.cli", *args], env=env, cwd=REPO, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result


def python(env: dict[str, str], code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def end_to_end(tmp_path: Path, database_url: str, wipe_database) -> None:  # noqa: ANN001
    """Data through the services, `shegong backup DIR`, everything gone, `shegong restore FILE`, the same data.
    The database starts as a copy of the migrated test database (running `migrate` again costs ~10 s)."""
    var = tmp_path / "e2e-var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEGONG_") and k != "DATABASE_URL"}
    env |= {"DATABASE_URL": database_url, "SHEGONG_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "config.settings",
            "SHEGONG_BACKUP_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(REPO)}
    before = json.loads(python(env, POPULATE + FACTS))
    assert len(before["scans"]) == 2 and len(before["ids"]) == 3
    out = shegong(env, "backup", str(tmp_path)).stdout
    file = next(tmp_path.glob("shegong-*.tar.gz"))
    assert "已备份到" in out and file.stat().st_mode & 0o777 == 0o600

    shutil.rmtree(var)  # the machine is lost: database (with -wal and -shm), uploads, var/keys.json
    wipe_database()
    restored = shegong(env, "restore", str(file)).stdout
    assert re.search(r"全部 \d+ 张表的行数与备份一致", restored) and "✗" not in restored, restored
    assert json.loads(python(env, FACTS)) == before
    assert json.loads((var / "keys.json").read_text()).keys() == set(backup.KEY_NAMES)


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
                    reason="the suite runs on PostgreSQL: its end-to-end test is the one below")
def test_end_to_end_sqlite_file_in_wal_mode(tmp_path):
    database = tmp_path / "e2e-var" / "shegong.sqlite3"
    database.parent.mkdir()
    connection.ensure_connection()
    copy = sqlite3.connect(database)
    connection.connection.backup(copy)  # the migrated in-memory test database, as a file
    copy.close()
    end_to_end(tmp_path, f"sqlite:///{database}", lambda: None)


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
                    reason="needs the suite on PostgreSQL (DATABASE_URL=postgresql://...)")
def test_end_to_end_postgresql(tmp_path):
    """In a scratch database <name>_restore beside the suite's; dropped and made empty for the restore."""
    import psycopg

    base = dj_database_url.parse(os.environ["DATABASE_URL"])
    scratch = f"{base['NAME']}_restore"
    params = {k: v for k, v in {"host": base["HOST"], "port": base["PORT"], "user": base["USER"],
                                "password": base["PASSWORD"]}.items() if v}

    def sql(*statements: str) -> None:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as pg:
            for statement in statements:
                pg.execute(statement)

    template = connection.settings_dict["NAME"]
    connections.close_all()  # a template database must have no other session
    sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)', f'CREATE DATABASE "{scratch}" TEMPLATE "{template}"')
    try:
        end_to_end(tmp_path, urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{scratch}")),
                   lambda: sql(f'DROP DATABASE "{scratch}" WITH (FORCE)', f'CREATE DATABASE "{scratch}"'))
    finally:
        sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
