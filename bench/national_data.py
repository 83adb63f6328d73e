"""National-scale data for the compliance bench: 31 provinces, ~8,000 streets, 120,000 communities,
~1.8 million workers and ~2.2 million appointments, written with PostgreSQL COPY in a few minutes.

    python bench/national_data.py                       # (re)create shegong_national on 127.0.0.1:5432
    python bench/national_data.py --reuse               # keep it when it already holds this dataset
    python bench/national_data.py --province            # Jilin only (1,500 communities) into a SQLite file
    python bench/national_data.py --province --database-url postgresql://postgres@127.0.0.1:5432/shegong_province
    python bench/national_data.py --communities 12000 --streets 800   # into shegong_national_12000

The target database is the bench's own: on PostgreSQL a dedicated database (default shegong_national;
`test`, `postgres` and the templates are refused) that is dropped and created through the server's
`postgres` database, on SQLite a file (default /tmp/shegong_bench_national/province.sqlite3) that is
deleted and created; another --communities gets its own (shegong_national_12000, province_3000.sqlite3).
Either is migrated with Django's `migrate`, then loaded. With --reuse nothing is generated when the
database already holds a complete dataset made with the same parameters, seed, generator version and
keys (the table bench_national_meta records them); migrations still run.

Keys. The ID numbers and phones are encrypted and hashed with shegong.common.crypto as the app stores
them, so the keys must outlive a run for the kept dataset to stay readable: the bench uses its own var
directory (SHEGONG_VAR_DIR, default /tmp/shegong_bench_national) whose keys.json the settings create once,
and ignores SHEGONG_FIELD_KEY / SHEGONG_HASH_KEY / SHEGONG_SECRET_KEY from the environment.

Shape. Codes at natural length (2/4/6/9/12 digits) with parent links; Jilin (22) uses the shipped
GB/T 2260 cities and counties, the other 30 provinces synthetic ones under their real province codes.
户数 500–9,000 (most under 3,000), 党委 mostly above 3,000 户. A community is staffed as the demo city
is (shegong/web/demo.py): 专职社区工作者 within the 4.1 quota for its 户数 — one 党组织书记 who is also
居委会主任, one 副书记, three 党组织委员 (five on the party committee, 4.2.1), one or two 居委会副主任 and
居委会委员 to a residents' committee of five or six (4.3.2, sometimes 交叉任职 with the party committee),
one 专职党建社工, the rest 普通社工; 网格长 held by a 社工 who keeps that post; sometimes a 党群服务中心主任
(the 书记), a 居务监督委员会主任 (the 副书记) and a 工作委员会主任 (a 居委会委员); 3–5 兼职委员 of category
兼职 in every 党委 community (4.2.1 allows 3–6), now and then a 居委会兼职委员; 公益性岗位 people with no
post. Ended appointments (~20 %) are those of retired secretaries and directors of the 2016 term,
resigned or dismissed 社工, members not re-elected in 2021, and the 2016-term posts of today's veterans;
a few 社工 contracts end in the future (2027–2028) and so still count as active.

Seeded problems (each in --problem-rate of the communities, 2.5 % by default; a clean community has no
finding under DB22/T 3226—2021's rule set): no 书记, two 书记, over and under the 4.1 quota, 户数 missing,
three 副主任, a 公益性岗位 person holding a post, a 网格长 with no other post, a 工作委员会主任 who is not on
the residents' committee, a 党支部 with 兼职委员. The communities of each kind are recorded in
bench_national_meta, so that a compliance run can be checked against them (bench/compliance_bench.py).

How it is fast. Divisions are written by the main process; workers and appointments by --jobs processes
(default: the CPU count), each taking whole districts (so ID-number sequences never collide across
processes) and streaming its rows into COPY on its own connection, with ids fixed in advance (the main
process plans every community once to count its people and posts). Before loading, the secondary
indexes, unique and foreign-key constraints of the three tables are dropped; they are rebuilt afterwards
from their saved definitions, then the tables are VACUUM ANALYZEd and the id sequences moved past the data.
Peak memory stays far below 1 GiB per process.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import random
import resource
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale_data import (  # noqa: E402
    COMMUNITY_PREFIX,
    COMMUNITY_SUFFIX,
    GIVEN,
    STREET_STEMS,
    SURNAMES,
    _apportion,
)

GENERATOR_VERSION = 1
PG_NATIONAL = "postgresql://postgres@127.0.0.1:5432/shegong_national"
VAR_DIR = Path("/tmp/shegong_bench_national")
SQLITE_PROVINCE = VAR_DIR / "province.sqlite3"
FORBIDDEN_DATABASES = {"test", "postgres", "template0", "template1"}
META_TABLE = "bench_national_meta"

E2016 = dt.date(2016, 1, 5)
E2021 = dt.date(2021, 1, 5)
T16_END = dt.date(2021, 1, 4)

FT, PW, PT = "专职社区工作者", "公益性岗位", "兼职"
ACTIVE, RETIRED, RESIGNED, DISMISSED = "在岗", "退休", "辞职", "解聘"

# Province codes (GB/T 2260) with a weight for their share of the streets and communities.
PROVINCES = [
    ("11", "北京市", 2.2), ("12", "天津市", 1.4), ("13", "河北省", 7.4), ("14", "山西省", 3.5),
    ("15", "内蒙古自治区", 2.4), ("21", "辽宁省", 4.2), ("22", "吉林省", 2.4), ("23", "黑龙江省", 3.1),
    ("31", "上海市", 2.5), ("32", "江苏省", 8.5), ("33", "浙江省", 6.5), ("34", "安徽省", 6.1),
    ("35", "福建省", 4.2), ("36", "江西省", 4.5), ("37", "山东省", 10.2), ("41", "河南省", 9.9),
    ("42", "湖北省", 5.8), ("43", "湖南省", 6.6), ("44", "广东省", 12.6), ("45", "广西壮族自治区", 5.0),
    ("46", "海南省", 1.0), ("50", "重庆市", 3.2), ("51", "四川省", 8.4), ("52", "贵州省", 3.9),
    ("53", "云南省", 4.7), ("54", "西藏自治区", 0.4), ("61", "陕西省", 4.0), ("62", "甘肃省", 2.5),
    ("63", "青海省", 0.6), ("64", "宁夏回族自治区", 0.7), ("65", "新疆维吾尔自治区", 2.6),
]
MUNICIPALITIES = {"11", "12", "31", "50"}
PLACE_CHARS = "安宁平昌丰泰和兴华阳山河江海湖川林城州源德武文定远清明长永新东西南北中金玉凤龙鹤松桂"

# Staffing shape, calibrated so that 120,000 communities give ~1.8 M workers, ~2.2 M appointments, ~20 % ended.
P_CROSS = 0.1          # 副主任 held by 党组织委员 (交叉任职) rather than by people of their own
P_VETERAN = 0.15       # a staff member who held another post in the 2016 term (one ended appointment)
P_CENTER = 0.1         # the 书记 is also 党群服务中心主任
P_SUPERVISION = 0.1    # the 副书记 is also 居务监督委员会主任
P_WORK_COMMITTEE = 0.1
P_RC_PARTTIME = 0.15   # one 居委会兼职委员 (category 兼职)
P_FORMER_SECRETARY = 0.3
P_FORMER_RC = 0.2
FORMER_SOCIAL = (0, 0, 1, 1, 1, 2, 2, 3)
WELFARE = (0, 0, 1, 1, 1, 2)
P_FUTURE_END = 0.03    # a 普通社工 contract that ends after today (still active)

PROBLEMS = ("no_secretary", "two_secretaries", "over_quota", "under_quota", "households_missing",
            "three_deputies", "welfare_holds_post", "grid_leader_alone", "work_committee_outsider",
            "branch_parttime")
PROBLEM_BIT = {name: 1 << i for i, name in enumerate(PROBLEMS)}
# The finding each seeded problem must produce under the DB22/T 3226—2021 rule set (the rule's id).
EXPECTED_RULE = {
    "no_secretary": "party_secretary", "two_secretaries": "party_secretary", "over_quota": "quota_max",
    "under_quota": "quota_min", "households_missing": "quota_households", "three_deputies": "rc_deputy_directors",
    "welfare_holds_post": "public_welfare_holds_post", "grid_leader_alone": "grid_leader_eligibility",
    "work_committee_outsider": "work_committee_director_eligibility",
    "branch_parttime": "party_parttime_members_not_committee",
}

DIVISION_COLUMNS = ["id", "code", "name", "level", "parent_id", "households", "resident_population",
                    "party_org_type", "address", "is_active", "created_at", "updated_at"]
WORKER_COLUMNS = ["id", "name", "id_number_encrypted", "id_number_hash", "id_number_masked", "gender", "birth_date",
                  "ethnicity", "political_status", "education", "phone_encrypted", "phone_hash", "phone_masked",
                  "category", "status", "work_start_date", "post_start_date", "community_id", "created_at",
                  "updated_at"]
APPOINTMENT_COLUMNS = ["id", "worker_id", "community_id", "post_type_id", "method", "start_date", "end_date",
                       "end_reason", "note", "created_at", "updated_at"]
TABLES = {"division": "org_division", "worker": "people_worker", "appointment": "staffing_appointment"}
# The load steps in the order they run (the meta row is jsonb on PostgreSQL, which does not keep key order).
STEP_ORDER = ["migrate", "divisions: build", "divisions: COPY", "divisions: insert", "plan (count ids)",
              "workers: generate + encrypt + COPY", "workers: generate + encrypt + insert", "appointments: COPY",
              "appointments: insert", "workers + appointments (wall, all processes)", "divisions: indexes",
              "workers: indexes", "appointments: indexes", "foreign keys (validate)", "VACUUM ANALYZE", "total"]

METHOD = {
    "party_secretary": "选举", "party_deputy_secretary": "选举", "party_committee_member": "选举",
    "party_parttime_member": "选举", "rc_director": "选举", "rc_deputy_director": "选举", "rc_member": "选举",
    "rc_parttime_member": "选举", "party_building_worker": "聘用", "social_worker": "聘用",
    "service_center_director": "兼任", "supervision_director": "兼任", "grid_leader": "兼任",
    "work_committee_director": "兼任",
}
HIRED_POSTS = {"party_building_worker", "social_worker"}


@dataclass(frozen=True)
class Scale:
    """What to generate; two datasets with equal Scales (and seeds, keys, version) are the same."""

    kind: str               # "national" | "province"
    communities: int
    streets: int
    seed: int = 2021
    problem_rate: float = 0.025

    def key(self) -> dict[str, Any]:
        return {"kind": self.kind, "communities": self.communities, "streets": self.streets, "seed": self.seed,
                "problem_rate": self.problem_rate, "version": GENERATOR_VERSION}


NATIONAL = Scale("national", 120_000, 8_000)
PROVINCE = Scale("province", 1_500, 100)


@dataclass
class LoadReport:
    scale: Scale
    database: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    by_post: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    generated_at: str = ""
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    reused: bool = False
    reuse_migrate_s: float = 0.0

    def as_meta(self, fingerprint: str) -> dict[str, Any]:
        return {"scale": self.scale.key(), "keys": fingerprint, "counts": self.counts, "seconds": self.seconds,
                "by_post": self.by_post, "by_category": self.by_category, "problems": self.problems,
                "generated_at": self.generated_at, "peak_rss_mib": self.peak_rss_mib}

    @classmethod
    def from_meta(cls, meta: dict[str, Any], database: str) -> LoadReport:
        s = meta["scale"]
        scale = Scale(s["kind"], s["communities"], s["streets"], s["seed"], s["problem_rate"])
        order = {step: i for i, step in enumerate(STEP_ORDER)}
        seconds = dict(sorted(meta["seconds"].items(), key=lambda kv: order.get(kv[0], len(order))))
        problems = {k: meta["problems"][k] for k in PROBLEMS if k in meta["problems"]}
        by_post = dict(sorted(meta["by_post"].items(), key=lambda kv: -kv[1]))
        by_category = dict(sorted(meta["by_category"].items(), key=lambda kv: -kv[1]))
        return cls(scale, database, meta["counts"], seconds, by_post, by_category, problems,
                   meta.get("generated_at", ""), meta.get("peak_rss_mib", {}), reused=True)

    def print(self) -> None:
        c = self.counts
        how = "reused" if self.reused else "generated"
        print(f"{self.scale.kind} dataset {how} in {self.database}: {c.get('divisions', 0):,} divisions "
              f"({c.get('streets', 0):,} streets, {c.get('communities', 0):,} communities), "
              f"{c.get('workers', 0):,} workers, {c.get('appointments', 0):,} appointments "
              f"({c.get('appointments_ended', 0):,} ended, {c.get('appointments_future_end', 0):,} ending later)")
        if self.generated_at:
            print(f"generated {self.generated_at}" + (f"; migrate on reuse {self.reuse_migrate_s:.1f} s"
                                                      if self.reused else ""))
        if self.peak_rss_mib:
            print("peak RSS (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in self.peak_rss_mib.items()))
        print("\n| load step | rows | seconds |\n|---|---:|---:|")
        rows = {"migrate": "", "divisions": c.get("divisions"), "workers": c.get("workers"),
                "appointments": c.get("appointments")}
        for step, secs in self.seconds.items():
            n = rows.get(step.split(":")[0], "") if ":" in step else ""
            print(f"| {step} | {n:,} | {secs:.1f} |" if isinstance(n, int) else f"| {step} | | {secs:.1f} |")
        print("\nseeded problems (communities): " + ", ".join(f"{k} {len(v):,}" for k, v in self.problems.items()))
        print("workers by category: " + ", ".join(f"{k} {v:,}" for k, v in self.by_category.items()))
        print("current appointments by post: " + ", ".join(f"{k} {v:,}" for k, v in self.by_post.items()))


# ---- environment and database (before django.setup) -----------------------------------------------


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://", "pgsql://"))


def default_url(scale: Scale) -> str:
    """shegong_national / province.sqlite3 for the standard sizes; another size gets its own database, so that
    a small trial run never drops the national dataset."""
    standard = NATIONAL if scale.kind == "national" else PROVINCE
    suffix = "" if scale.communities == standard.communities else f"_{scale.communities}"
    if scale.kind == "national":
        return PG_NATIONAL + suffix
    return f"sqlite:///{SQLITE_PROVINCE.with_name(f'province{suffix}.sqlite3')}"


def pg_names(url: str) -> tuple[str, str]:
    """(URL of the server's `postgres` database, name of the bench database)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing to use the database {name!r}; name a dedicated one such as shegong_national")
    return urlunsplit(parts._replace(path="/postgres")), name


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:") else Path(url)


def environment(db_url: str, var_dir: Path = VAR_DIR) -> None:
    """Point Django at the bench database, with the bench's own persistent keys (see the docstring)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / "static").mkdir(exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = db_url if is_postgres(db_url) else f"sqlite:///{sqlite_path(db_url)}"
    os.environ["SHEGONG_VAR_DIR"] = str(var_dir)
    for name in ("SHEGONG_SECRET_KEY", "SHEGONG_FIELD_KEY", "SHEGONG_HASH_KEY"):
        os.environ.pop(name, None)
    os.environ.setdefault("SHEGONG_LOG_LEVEL", "WARNING")


def key_fingerprint(var_dir: Path = VAR_DIR) -> str:
    path = var_dir / "keys.json"
    if not path.exists():
        return ""
    keys = json.loads(path.read_text())
    return hashlib.sha256((keys["SHEGONG_FIELD_KEY"] + keys["SHEGONG_HASH_KEY"]).encode()).hexdigest()[:16]


def read_meta(url: str) -> dict[str, Any] | None:
    """The meta row of a complete dataset in the database at `url`, or None (no database, no table)."""
    try:
        if is_postgres(url):
            import psycopg

            with psycopg.connect(url, connect_timeout=5) as conn:
                row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'dataset'").fetchone()
                return row[0] if row else None
        path = sqlite_path(url)
        if not path.exists():
            return None
        with sqlite3.connect(path) as conn:
            row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'dataset'").fetchone()
            return json.loads(row[0]) if row else None
    except Exception:  # no database, no table: nothing to reuse
        return None


def reusable(url: str, scale: Scale, var_dir: Path = VAR_DIR) -> dict[str, Any] | None:
    meta = read_meta(url)
    fingerprint = key_fingerprint(var_dir)
    if meta and fingerprint and meta.get("scale") == scale.key() and meta.get("keys") == fingerprint:
        return meta
    return None


def recreate_database(url: str) -> None:
    if is_postgres(url):
        import psycopg
        from psycopg import sql

        admin, name = pg_names(url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(sql.Identifier(name)))
        return
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)


# ---- the division tree ------------------------------------------------------------------------------


@dataclass(slots=True)
class Community:
    id: int
    code: str
    households: int          # for planning (also when the stored 户数 is missing)
    party_org_type: str
    problems: int            # PROBLEM_BIT flags


def _jilin_reference() -> tuple[list[tuple[str, str]], dict[str, list[tuple[str, str]]]]:
    path = ROOT / "shegong" / "common" / "data" / "jilin_gbt2260.csv"
    with path.open(encoding="utf-8") as fh:
        rows = [(r["code"], r["name"]) for r in csv.DictReader(fh)]
    cities = [(c, n) for c, n in rows if len(c) == 4]
    counties: dict[str, list[tuple[str, str]]] = {c: [] for c, _ in cities}
    for c, n in rows:
        if len(c) == 6:
            counties.setdefault(c[:4], []).append((c, n))
    return cities, counties


def _county_weight(code: str) -> float:
    tail = int(code[4:6])
    return 3.0 if tail <= 20 else 1.5 if tail >= 71 else 1.0


def _place(rng: random.Random) -> str:
    return rng.choice(PLACE_CHARS) + rng.choice(PLACE_CHARS)


def _tree(scale: Scale, rng: random.Random) -> list[tuple[str, str, str]]:
    """(code, name, level) of every province, city and county, top-down."""
    jilin_cities, jilin_counties = _jilin_reference()
    provinces = [p for p in PROVINCES if scale.kind == "national" or p[0] == "22"]
    out: list[tuple[str, str, str]] = []
    for code, name, weight in provinces:
        out.append((code, name, "province"))
        if code == "22":
            for city, city_name in jilin_cities:
                out.append((city, city_name, "city"))
                out.extend((c, n, "district") for c, n in jilin_counties.get(city, []))
            continue
        if code in MUNICIPALITIES:
            cities = [(f"{code}01", "市辖区", rng.randint(12, 18), 0)]
        else:
            n_cities = max(5, min(21, round(weight * 1.6) + rng.randint(2, 6)))
            cities = [(f"{code}{i:02d}", _place(rng) + "市", rng.randint(2, 6), rng.randint(2, 7))
                      for i in range(1, n_cities + 1)]
        for city, city_name, n_urban, n_county in cities:
            out.append((city, city_name, "city"))
            for i in range(n_urban):
                out.append((f"{city}{i + 2:02d}", _place(rng) + "区", "district"))
            for i in range(n_county):
                if rng.random() < 0.3:
                    out.append((f"{city}{81 + i:02d}", _place(rng) + "市", "district"))
                else:
                    out.append((f"{city}{21 + i:02d}", _place(rng) + "县", "district"))
    return out


def quota(households: int) -> tuple[int, int]:
    """4.1 (as the default rule set reads it): 10–15 up to 3,000 户, +1 per 500 / 300 户 above."""
    extra = max(0, households - 3000)
    return 10 + extra // 500, 15 + extra // 300


def _households(rng: random.Random) -> int:
    if rng.random() < 0.75:
        return int(rng.triangular(500, 3000, 1800))
    return min(9000, 3001 + int(rng.expovariate(1 / 1400)))


def _problems(rng: random.Random, rate: float) -> int:
    bits = 0
    for name in PROBLEMS:
        if rng.random() < rate:
            bits |= PROBLEM_BIT[name]
    exclusive = [("no_secretary", "two_secretaries"), ("over_quota", "under_quota", "households_missing")]
    for group in exclusive:
        present = [g for g in group if bits & PROBLEM_BIT[g]]
        for g in present[1:]:
            bits &= ~PROBLEM_BIT[g]
    return bits


def build_divisions(scale: Scale, now: Any) -> tuple[list[tuple[Any, ...]], list[Community]]:
    """Every division row (DIVISION_COLUMNS, ids from 1, top-down) and the planned communities."""
    rng = random.Random(scale.seed)
    tree = _tree(scale, rng)
    rows: list[tuple[Any, ...]] = []
    ids: dict[str, int] = {}
    names: dict[str, str] = {}

    def add(code: str, name: str, level: str, parent: str | None, households: int | None = None,
            population: int | None = None, party: str = "", address: str = "") -> int:
        pk = len(rows) + 1
        rows.append((pk, code, name, level, ids[parent] if parent else None, households, population, party,
                     address, True, now, now))
        ids[code] = pk
        names[code] = name
        return pk

    for code, name, level in tree:
        add(code, name, level, code[: {2: 0, 4: 2, 6: 4}[len(code)]] or None)

    districts = [code for code, _, level in tree if level == "district"]
    province_weight = {code: w for code, _, w in PROVINCES}
    by_province: dict[str, list[str]] = {}
    for d in districts:
        by_province.setdefault(d[:2], []).append(d)
    provinces = sorted(by_province)
    per_province = _apportion(scale.streets, [province_weight[p] for p in provinces])
    street_codes: list[str] = []
    for p, n_streets in zip(provinces, per_province, strict=True):
        ds = by_province[p]
        per_district = _apportion(n_streets, [_county_weight(d) * rng.uniform(0.7, 1.3) for d in ds])
        for d, k in zip(ds, per_district, strict=True):
            for i in range(k):
                code = f"{d}{i + 1:03d}"
                add(code, rng.choice(STREET_STEMS) + rng.choice(["街道", "街道", "街道", "镇"]), "street", d)
                street_codes.append(code)

    per_street = _apportion(scale.communities, [rng.uniform(0.5, 1.5) for _ in street_codes])
    communities: list[Community] = []
    for street, k in zip(street_codes, per_street, strict=True):
        for i in range(k):
            code = f"{street}{i + 1:03d}"
            households = _households(rng)
            problems = _problems(rng, scale.problem_rate)
            if problems & PROBLEM_BIT["branch_parttime"]:
                party = "党支部"
            elif households > 3000:
                party = "党委" if rng.random() < 0.9 else "党总支"
            else:
                party = "党委" if rng.random() < 0.05 else rng.choice(["党总支", "党支部", "党支部"])
            stored = None if problems & PROBLEM_BIT["households_missing"] else households
            population = int(households * rng.uniform(2.3, 2.9)) if stored else None
            name = rng.choice(COMMUNITY_PREFIX) + rng.choice(COMMUNITY_SUFFIX)
            pk = add(code, f"{name}社区", "community", street, stored, population, party,
                     f"{names[street]}{name}路{rng.randrange(1, 999)}号")
            communities.append(Community(pk, code, households, party, problems))
    return rows, communities


# ---- one community's staffing -----------------------------------------------------------------------

# A person: (category, status, age class); age classes: n(ormal) v(eteran, in post before 2016)
# o(ld, retired) y(oung). An appointment: (person index, post code, kind); kinds:
#   cur     current; elected and concurrent posts from the 2021 election (or the person's start, if later),
#           hired posts from the person's post start
#   t16     the 2016 term: 2016-01-05 to 2021-01-04
#   prior   a hired post from the person's post start to 2021-01-04
#   resign  a hired post from the person's post start, ended before today
#   future  a hired post that ends in 2027–2028
#   late    current, from a date in 2023–2025 (a second 书记 appointed without ending the first)


def plan_community(rng: random.Random, c: Community) -> tuple[list[tuple[str, str, str]], list[tuple[int, str, str]]]:
    h, bits = c.households, c.problems
    people: list[tuple[str, str, str]] = []
    posts: list[tuple[int, str, str]] = []

    def person(category: str = FT, status: str = ACTIVE, age: str = "n") -> int:
        people.append((category, status, age))
        return len(people) - 1

    lo, hi = quota(h)
    if bits & PROBLEM_BIT["over_quota"]:
        n = hi + rng.randint(1, 4)
    elif bits & PROBLEM_BIT["under_quota"]:
        n = max(8, lo - rng.randint(1, 3))
    else:
        n = rng.randint(lo, lo + 1 if h <= 3000 else lo + (hi - lo) // 3)
    cross = n < 10 or rng.random() < P_CROSS
    staff = [person(age="v" if rng.random() < P_VETERAN else "n") for _ in range(n)]
    held: dict[int, list[str]] = {}

    def appoint(i: int, post: str, kind: str = "cur") -> None:
        posts.append((i, post, kind))
        held.setdefault(i, []).append(post)

    s0, s1 = staff[0], staff[1]
    if not bits & PROBLEM_BIT["no_secretary"]:
        appoint(s0, "party_secretary")
        if rng.random() < P_CENTER:
            appoint(s0, "service_center_director")
    appoint(s0, "rc_director")
    appoint(s1, "party_deputy_secretary")
    if rng.random() < P_SUPERVISION:
        appoint(s1, "supervision_director")
    for i in staff[2:5]:
        appoint(i, "party_committee_member")
    if bits & PROBLEM_BIT["two_secretaries"]:
        appoint(staff[2], "party_secretary", "late")
    d = 2 if h > 3000 and rng.random() < 0.7 else 1
    if cross:
        deputies, members, nxt = staff[2 : 2 + d], staff[4:7], 7
    else:
        deputies, members, nxt = staff[5 : 5 + d], staff[5 + d : 9], 9
    for i in deputies:
        appoint(i, "rc_deputy_director")
    if bits & PROBLEM_BIT["three_deputies"]:
        for i in members[: 3 - d]:
            appoint(i, "rc_deputy_director")
    for i in members:
        appoint(i, "rc_member")
    builder, social = staff[nxt], staff[nxt + 1 :]
    appoint(builder, "party_building_worker")
    alone = None
    if bits & PROBLEM_BIT["grid_leader_alone"]:
        alone = social.pop() if social else person()
    for i in social:
        appoint(i, "social_worker", "future" if rng.random() < P_FUTURE_END else "cur")
    k = 1 + (h >= 6000)
    for i in ([builder, *social])[-k:]:
        appoint(i, "grid_leader")
    if alone is not None:
        appoint(alone, "grid_leader")
    if bits & PROBLEM_BIT["work_committee_outsider"]:
        appoint(builder, "work_committee_director")
    elif rng.random() < P_WORK_COMMITTEE:
        appoint(members[-1], "work_committee_director")

    # 2016-term posts of today's veterans
    for i in staff:
        if people[i][2] != "v":
            continue
        mine = held.get(i, [])
        if "social_worker" in mine or "party_building_worker" in mine:
            appoint(i, "social_worker" if "party_building_worker" in mine else "party_building_worker", "prior")
        else:
            appoint(i, "social_worker" if rng.random() < 0.5 or "rc_member" in mine else "rc_member",
                    "prior" if "rc_member" in mine else rng.choice(["prior", "t16"]))

    # part-time members: 3–6 in a 党委; 1–3 in a seeded 党支部; now and then one on the residents' committee
    if c.party_org_type == "党委" or bits & PROBLEM_BIT["branch_parttime"]:
        m = rng.randint(3, 5) if c.party_org_type == "党委" else rng.randint(1, 3)
        for _ in range(m):
            appoint(person(PT), "party_parttime_member")
    if rng.random() < P_RC_PARTTIME:
        appoint(person(PT), "rc_parttime_member")
    for _ in range(rng.choice(WELFARE)):
        person(PW, age="y")
    if bits & PROBLEM_BIT["welfare_holds_post"]:
        appoint(person(PW, age="y"), "social_worker")

    # people who left, with their ended posts
    if rng.random() < P_FORMER_SECRETARY:
        i = person(status=RETIRED, age="o")
        appoint(i, "party_secretary", "t16")
        appoint(i, "rc_director", "t16")
    for _ in range(rng.choice(FORMER_SOCIAL)):
        appoint(person(status=rng.choice((RESIGNED, RESIGNED, DISMISSED))), "social_worker", "resign")
    if rng.random() < P_FORMER_RC:
        appoint(person(status=RESIGNED, age="v"), "rc_member", "t16")
    return people, posts


def community_rng(seed: int, community_id: int) -> random.Random:
    return random.Random(seed * 1_000_003 + community_id)


def count_community(seed: int, c: Community) -> tuple[int, int]:
    people, posts = plan_community(community_rng(seed, c.id), c)
    return len(people), len(posts)


# ---- people and rows ----------------------------------------------------------------------------------


class People:
    """Names, dates and valid GB 11643 ID numbers; sequences unique per (region, birth date, gender)."""

    def __init__(self) -> None:
        self.seq: Counter[tuple[str, dt.date, str]] = Counter()

    @staticmethod
    def between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=rng.randrange((end - start).days + 1))

    def id_number(self, region: str, birth: dt.date, gender: str) -> str:
        from shegong.people.idnumber import make_id_number

        key = (region, birth, gender)
        n = self.seq[key]
        if n >= 490:
            raise RuntimeError(f"too many people born {birth} in {region}")
        self.seq[key] = n + 1
        return make_id_number(region, birth, n + 10, gender)


PHONE_PREFIXES = ("138", "139", "135", "186", "158", "131", "177", "150", "189", "133")


def phone_for(worker_id: int) -> str:
    """Unique per worker id (below 10^8): a prefix and a bijective scramble of the id."""
    return PHONE_PREFIXES[worker_id % len(PHONE_PREFIXES)] + f"{(worker_id * 48271 + 12345) % 10**8:08d}"


AGES = {"n": (dt.date(1966, 1, 1), dt.date(2000, 12, 31)), "v": (dt.date(1966, 1, 1), dt.date(1988, 12, 31)),
        "o": (dt.date(1958, 1, 1), dt.date(1964, 12, 31)), "y": (dt.date(1988, 1, 1), dt.date(2001, 12, 31))}
ETHNICITY = ("01",) * 12 + ("10", "11", "03", "02")
POLITICAL = ("01", "01", "01", "03", "13", "13")
EDUCATION = ("21", "21", "21", "31", "31", "14", "61")


def community_rows(seed: int, c: Community, worker_id: int, appointment_id: int, post_ids: dict[str, int],
                   people_state: People, today: dt.date, now: Any, encrypt_row: bool = True,
                   ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The worker rows (WORKER_COLUMNS) and appointment rows (APPOINTMENT_COLUMNS) of one community."""
    from shegong.common.crypto import encrypt, mask_id_number, mask_phone, search_hash

    rng = community_rng(seed, c.id)
    people, posts = plan_community(rng, c)
    region = c.code[:6]
    workers: list[tuple[Any, ...]] = []
    post_start: list[dt.date] = []
    latest_start = min(today, dt.date(2025, 12, 31))
    for offset, (category, status, age) in enumerate(people):
        pk = worker_id + offset
        gender = "女" if rng.random() < 0.62 else "男"
        lo, hi = AGES[age]
        birth = People.between(rng, lo, hi)
        work_start = People.between(rng, birth.replace(year=birth.year + 20, day=1),
                                    min(today, birth.replace(year=birth.year + 26, day=1)))
        if age == "v":
            start = People.between(rng, max(work_start, dt.date(2005, 1, 1)), dt.date(2015, 12, 31))
        elif age == "o":
            start = People.between(rng, max(work_start, dt.date(2000, 1, 1)), dt.date(2010, 12, 31))
        else:
            start = People.between(rng, max(work_start, dt.date(2010, 1, 1)), max(work_start, latest_start))
        post_start.append(start)
        id_number = people_state.id_number(region, birth, gender)
        phone = phone_for(pk)
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        workers.append((
            pk, rng.choice(SURNAMES) + given,
            encrypt(id_number) if encrypt_row else "", search_hash(id_number), mask_id_number(id_number),
            gender, birth, rng.choice(ETHNICITY), rng.choice(POLITICAL), rng.choice(EDUCATION),
            encrypt(phone) if encrypt_row else "", search_hash(phone), mask_phone(phone),
            category, status, work_start, start, c.id, now, now,
        ))
    appointments: list[tuple[Any, ...]] = []
    for j, (i, post, kind) in enumerate(posts):
        ps = post_start[i]
        end: dt.date | None = None
        reason = ""
        if kind == "cur":
            start = ps if post in HIRED_POSTS else max(ps, E2021)
        elif kind == "t16":
            start, end, reason = E2016, T16_END, "换届" if people[i][1] == ACTIVE else "换届未连任"
            if people[i][1] == RETIRED:
                reason = "换届退休"
        elif kind == "prior":
            start, end, reason = ps, T16_END, "换届转任"
        elif kind == "resign":
            start = ps
            last = today - dt.timedelta(days=30)
            end = People.between(rng, min(last, ps + dt.timedelta(days=60)), last) if last > ps else ps
            reason = people[i][1]
        elif kind == "future":
            start, end, reason = ps, People.between(rng, dt.date(2027, 1, 1), dt.date(2028, 12, 31)), "聘期届满"
        else:  # late
            start = max(ps, People.between(rng, dt.date(2023, 1, 1), dt.date(2025, 6, 30)))
        appointments.append((appointment_id + j, worker_id + i, c.id, post_ids[post], METHOD[post], start, end,
                             reason, "", now, now))
    return workers, appointments


# ---- writing ------------------------------------------------------------------------------------------


def _copy(cursor: Any, table: str, columns: list[str], rows: Any) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _load_chunk(task: tuple[Any, ...]) -> dict[str, Any]:
    """A worker process: the people and posts of whole districts, COPYed on its own connection."""
    import psycopg

    (url, seed, communities, worker_id, appointment_id, post_ids, today, now) = task
    people_state = People()
    stats: dict[str, Any] = {"workers": 0, "appointments": 0, "ended": 0, "future": 0, "by_post": Counter(),
                             "by_category": Counter(), "workers_s": 0.0, "appointments_s": 0.0}
    post_codes = {v: k for k, v in post_ids.items()}
    pending: list[tuple[Any, ...]] = []
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        t0 = time.perf_counter()
        with cur.copy(f"COPY {TABLES['worker']} ({', '.join(WORKER_COLUMNS)}) FROM STDIN") as copy:
            for c in communities:
                workers, appointments = community_rows(seed, c, worker_id, appointment_id, post_ids, people_state,
                                                       today, now)
                for row in workers:
                    copy.write_row(row)
                    stats["by_category"][row[13]] += 1
                worker_id += len(workers)
                appointment_id += len(appointments)
                stats["workers"] += len(workers)
                pending.extend(appointments)
        t1 = time.perf_counter()
        with cur.copy(f"COPY {TABLES['appointment']} ({', '.join(APPOINTMENT_COLUMNS)}) FROM STDIN") as copy:
            for row in pending:
                copy.write_row(row)
                if row[6] is None or row[6] > today:
                    stats["by_post"][post_codes[row[3]]] += 1
                    stats["future"] += row[6] is not None
                else:
                    stats["ended"] += 1
        conn.commit()
        stats["appointments"] = len(pending)
        stats["workers_s"] = t1 - t0
        stats["appointments_s"] = time.perf_counter() - t1
    return stats


def _constraints(cursor: Any, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(constraints: [(name, definition)] — unique and foreign keys; indexes: [(name, CREATE INDEX …)] that
    belong to no constraint). Primary keys and check constraints stay."""
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                   "AND contype IN ('u', 'f') ORDER BY contype DESC, conname", [table])
    constraints = [(r[0], r[1]) for r in cursor.fetchall()]
    cursor.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                   "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                   "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) ORDER BY 1", [table])
    indexes = [(r[0], r[1]) for r in cursor.fetchall()]
    return constraints, indexes


def _check_columns(cursor: Any, table: str, columns: list[str]) -> None:
    """Fail clearly when the model gained a NOT NULL column without a default that this loader does not fill."""
    cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                   "AND is_nullable = 'NO' AND column_default IS NULL", [table])
    missing = sorted({r[0] for r in cursor.fetchall()} - set(columns))
    if missing:
        raise SystemExit(f"{table} has required columns this generator does not fill: {', '.join(missing)}; "
                         f"update bench/national_data.py")


def _chunks(communities: list[Community], size: int) -> list[list[Community]]:
    """Whole districts per chunk, about `size` communities each."""
    chunks: list[list[Community]] = [[]]
    district = ""
    for c in communities:
        if c.code[:6] != district and len(chunks[-1]) >= size:
            chunks.append([])
        district = c.code[:6]
        chunks[-1].append(c)
    return [ch for ch in chunks if ch]


def generate(url: str, scale: Scale, *, jobs: int, reuse: bool, verbose: bool = True) -> LoadReport:
    """Create (or with `reuse`, keep) the dataset at `url`. Sets up Django for that database; call it once
    per process, before anything else has set Django up."""
    if reuse:
        meta = reusable(url, scale)
        if meta:
            environment(url)
            import django

            django.setup()
            from django.core.management import call_command

            t0 = time.perf_counter()
            call_command("migrate", interactive=False, verbosity=0)
            report = LoadReport.from_meta(meta, _label(url))
            report.reuse_migrate_s = time.perf_counter() - t0
            return report
    recreate_database(url)
    environment(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from shegong.staffing.models import PostType

    report = LoadReport(scale, _label(url))
    seconds = report.seconds
    started = time.perf_counter()
    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    seconds["migrate"] = time.perf_counter() - t0
    post_ids = dict(PostType.objects.values_list("code", "id"))
    today = timezone.localdate()
    now = timezone.now()
    pg = connection.vendor == "postgresql"

    def log(message: str) -> None:
        if verbose:
            print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    t0 = time.perf_counter()
    division_rows, communities = build_divisions(scale, now)
    seconds["divisions: build"] = time.perf_counter() - t0
    log(f"{len(division_rows):,} divisions, {len(communities):,} communities planned")

    saved: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
    if pg:
        with connection.cursor() as cursor:
            for table, columns in ((TABLES["division"], DIVISION_COLUMNS), (TABLES["worker"], WORKER_COLUMNS),
                                   (TABLES["appointment"], APPOINTMENT_COLUMNS)):
                _check_columns(cursor, table, columns)
            # Drop the referencing tables' constraints first, the indexes they use after.
            for table in (TABLES["appointment"], TABLES["worker"], TABLES["division"]):
                saved[table] = _constraints(cursor, table)
                for name, _ in saved[table][0]:
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                for name, _ in saved[table][1]:
                    cursor.execute(f"DROP INDEX {name}")
        log("secondary indexes and constraints dropped")

    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if pg:
            _copy(cursor.cursor, TABLES["division"], DIVISION_COLUMNS, division_rows)
        else:
            _sqlite_insert(cursor, TABLES["division"], DIVISION_COLUMNS, division_rows)
    seconds["divisions: COPY" if pg else "divisions: insert"] = time.perf_counter() - t0
    report.counts["divisions"] = len(division_rows)
    report.counts["streets"] = sum(1 for r in division_rows if r[3] == "street")
    report.counts["communities"] = len(communities)
    del division_rows
    log("divisions written")

    # Count every community's people and posts to fix the ids of each chunk in advance.
    t0 = time.perf_counter()
    chunk_size = max(200, min(2000, len(communities) // (4 * max(1, jobs))))
    chunks = _chunks(communities, chunk_size)
    tasks = []
    next_worker, next_appointment = 1, 1
    db_url = os.environ["DATABASE_URL"]
    for chunk in chunks:
        tasks.append((db_url, scale.seed, chunk, next_worker, next_appointment, post_ids, today, now))
        for c in chunk:
            w, a = count_community(scale.seed, c)
            next_worker += w
            next_appointment += a
    seconds["plan (count ids)"] = time.perf_counter() - t0
    log(f"{next_worker - 1:,} workers and {next_appointment - 1:,} appointments planned in {len(chunks)} chunks")

    totals: dict[str, Any] = {"workers": 0, "appointments": 0, "ended": 0, "future": 0, "by_post": Counter(),
                              "by_category": Counter(), "workers_s": 0.0, "appointments_s": 0.0}
    t0 = time.perf_counter()
    if pg:
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with context.Pool(processes=jobs) as pool:
            for done, stats in enumerate(pool.imap_unordered(_load_chunk, tasks), start=1):
                _merge(totals, stats)
                if done % max(1, len(tasks) // 10) == 0 or done == len(tasks):
                    log(f"chunk {done}/{len(tasks)}: {totals['workers']:,} workers, "
                        f"{totals['appointments']:,} appointments")
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            for task in tasks:
                _merge(totals, _sqlite_chunk(cursor, task))
    wall = time.perf_counter() - t0
    busy = totals["workers_s"] + totals["appointments_s"] or 1.0
    # Per-table share of the parallel phase's wall time, in proportion to the processes' time in each COPY.
    seconds["workers: generate + encrypt + " + ("COPY" if pg else "insert")] = wall * totals["workers_s"] / busy
    seconds["appointments: COPY" if pg else "appointments: insert"] = wall * totals["appointments_s"] / busy
    seconds["workers + appointments (wall, all processes)"] = wall
    log(f"workers and appointments written in {wall:.1f} s "
        f"(process time: workers {totals['workers_s']:.1f} s, appointments {totals['appointments_s']:.1f} s)")
    if totals["workers"] != next_worker - 1 or totals["appointments"] != next_appointment - 1:
        raise RuntimeError("the planned and written counts differ")

    if pg:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("SET max_parallel_maintenance_workers = 2")
            for key, table in TABLES.items():
                t0 = time.perf_counter()
                constraints, indexes = saved[table]
                for _, definition in indexes:
                    cursor.execute(definition)
                for name, definition in constraints:
                    if not definition.startswith("FOREIGN KEY"):
                        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                seconds[f"{key}s: indexes"] = time.perf_counter() - t0
                log(f"{table}: {len(indexes)} indexes and unique constraints rebuilt")
            t0 = time.perf_counter()
            for table in TABLES.values():
                for name, definition in saved[table][0]:
                    if definition.startswith("FOREIGN KEY"):
                        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            seconds["foreign keys (validate)"] = time.perf_counter() - t0
            log("foreign keys added and validated")
            for table in TABLES.values():
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
        connection.close()
        t0 = time.perf_counter()
        import psycopg

        with psycopg.connect(db_url, autocommit=True) as conn:
            for table in TABLES.values():
                conn.execute(f"VACUUM (ANALYZE) {table}")
        seconds["VACUUM ANALYZE"] = time.perf_counter() - t0
        log("vacuumed and analyzed")

    report.counts.update(workers=totals["workers"], appointments=totals["appointments"],
                         appointments_ended=totals["ended"], appointments_future_end=totals["future"])
    report.by_post = dict(totals["by_post"].most_common())
    report.by_category = dict(totals["by_category"].most_common())
    report.problems = {name: [c.code for c in communities if c.problems & bit] for name, bit in PROBLEM_BIT.items()}
    seconds["total"] = time.perf_counter() - started
    report.peak_rss_mib = {
        "main process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "largest writer process": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    report.generated_at = f"{timezone.localtime():%Y-%m-%d %H:%M} on {today.isoformat()}"
    _write_meta(report)
    return report


def _merge(totals: dict[str, Any], stats: dict[str, Any]) -> None:
    for key, value in stats.items():
        totals[key] += value


def _sqlite_insert(cursor: Any, table: str, columns: list[str], rows: Any) -> None:
    from django.db import connection

    adapt_dt = connection.ops.adapt_datetimefield_value

    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(v.isoformat() if type(v) is dt.date else adapt_dt(v) if isinstance(v, dt.datetime) else v
                     for v in row)

    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(convert(row))
        if len(batch) >= 5000:
            cursor.executemany(sql, batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)


def _sqlite_chunk(cursor: Any, task: tuple[Any, ...]) -> dict[str, Any]:
    (_, seed, communities, worker_id, appointment_id, post_ids, today, now) = task
    people_state = People()
    stats: dict[str, Any] = {"workers": 0, "appointments": 0, "ended": 0, "future": 0, "by_post": Counter(),
                             "by_category": Counter(), "workers_s": 0.0, "appointments_s": 0.0}
    post_codes = {v: k for k, v in post_ids.items()}
    all_workers: list[tuple[Any, ...]] = []
    all_appointments: list[tuple[Any, ...]] = []
    t0 = time.perf_counter()
    for c in communities:
        workers, appointments = community_rows(seed, c, worker_id, appointment_id, post_ids, people_state, today, now)
        worker_id += len(workers)
        appointment_id += len(appointments)
        all_workers.extend(workers)
        all_appointments.extend(appointments)
    _sqlite_insert(cursor, TABLES["worker"], WORKER_COLUMNS, all_workers)
    t1 = time.perf_counter()
    _sqlite_insert(cursor, TABLES["appointment"], APPOINTMENT_COLUMNS, all_appointments)
    stats["workers_s"], stats["appointments_s"] = t1 - t0, time.perf_counter() - t1
    stats["workers"], stats["appointments"] = len(all_workers), len(all_appointments)
    for row in all_workers:
        stats["by_category"][row[13]] += 1
    for row in all_appointments:
        if row[6] is None or row[6] > today:
            stats["by_post"][post_codes[row[3]]] += 1
            stats["future"] += row[6] is not None
        else:
            stats["ended"] += 1
    return stats


def _write_meta(report: LoadReport) -> None:
    from django.db import connection, transaction

    value = json.dumps(report.as_meta(key_fingerprint()), ensure_ascii=False)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key varchar(40) PRIMARY KEY, "
                       f"value {'jsonb' if connection.vendor == 'postgresql' else 'text'} NOT NULL)")
        cursor.execute(f"DELETE FROM {META_TABLE} WHERE key = 'dataset'")
        cursor.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES ('dataset', %s)", [value])


def _label(url: str) -> str:
    if is_postgres(url):
        return f"PostgreSQL database {pg_names(url)[1]}"
    return f"SQLite {sqlite_path(url)}"


def scale_from_args(args: argparse.Namespace) -> Scale:
    base = PROVINCE if args.province else NATIONAL
    return Scale(base.kind, args.communities or base.communities, args.streets or base.streets, args.seed,
                 args.problem_rate)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--communities", type=int, help="default 120,000 (national) or 1,500 (--province)")
    parser.add_argument("--streets", type=int, help="default 8,000 (national) or 100 (--province)")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--problem-rate", type=float, default=0.025,
                        help="share of the communities seeded with each kind of problem (default 0.025)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                        help="processes writing workers and appointments (PostgreSQL only)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", action="store_true",
                        help="the province-scale dataset (Jilin: 1,500 communities), into SQLite by default")
    parser.add_argument("--database-url", help=f"default {PG_NATIONAL}, or with --province sqlite:///{SQLITE_PROVINCE}")
    parser.add_argument("--reuse", action="store_true", help="keep a database that already holds this dataset")
    add_arguments(parser)
    args = parser.parse_args(argv)
    scale = scale_from_args(args)
    url = args.database_url or default_url(scale)
    report = generate(url, scale, jobs=max(1, args.jobs), reuse=args.reuse)
    report.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
