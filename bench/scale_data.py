"""Province-scale data for benchmarks: all of Jilin, ~100 streets, 1,500 communities, 20,000 workers.

Shaped like the demo city (shegong/web/demo.py) but loaded with bulk_create, not one service call per
row, so that the full size loads in seconds. Validation and scope checks are therefore skipped; the
values are built to satisfy them anyway (checksum-valid ID numbers whose region is the community's
county, unique keyed hashes, masked copies, dates after the 16th birthday, end >= start). Every row
gets its creation record in the history tables (simple_history's bulk_history_create), so history
queries on detail pages run against tables of realistic size.

    from bench.scale_data import load
    stats = load(n_communities=1500, n_workers=20000, seed=2021)

As a script it migrates the database named by DATABASE_URL (or --database-url) and loads into it;
it refuses a database that already holds workers.

    python bench/scale_data.py --database-url sqlite:////tmp/shegong_scale.sqlite3
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shegong.access import system_actor

ROOT = Path(__file__).resolve().parent.parent

STREET_STEMS = [
    "自强", "民康", "新发", "重庆", "南湖", "正阳", "桃源", "鸿城", "全安", "曙光", "永吉", "清和", "长通",
    "站前", "南岭", "西长春", "团山", "欣园", "春城", "合心", "东站", "吉林", "荣光", "同光", "临河", "八里堡",
    "富锋", "铁北", "兰家", "柳影", "群英", "兴业", "凯旋", "青年", "湖西", "北湖", "双德", "奋进", "东风",
    "河南", "泰山", "北安", "红旗", "胜利", "新安", "文化", "延河", "民主", "向阳", "建设", "和平", "光明",
]
COMMUNITY_PREFIX = ["东", "西", "南", "北", "新", "长", "福", "安", "华", "兴", "春", "明", "永", "和", "祥",
                    "瑞", "嘉", "宏", "锦", "金"]
COMMUNITY_SUFFIX = ["风", "华", "苑", "园", "光", "山", "城", "湖", "源", "泰", "盛", "安", "林", "河", "阳",
                    "桥", "明", "和", "丰", "康"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍鹏建红梅宇浩凯莉晶丹玲颖雪琳博文亮欣怡佳慧婷"

REASON = "规模测试数据(bench/scale_data.py)"
ELECTION_2021 = dt.date(2021, 1, 5)
ELECTION_2016 = dt.date(2016, 1, 5)


@dataclass
class LoadStats:
    divisions: int = 0
    streets: int = 0
    communities: int = 0
    workers: int = 0
    appointments: int = 0
    appointments_current: int = 0
    history_rows: int = 0
    seconds: float = 0.0
    by_post: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.divisions} divisions ({self.streets} streets, {self.communities} communities), "
                f"{self.workers} workers, {self.appointments} appointments "
                f"({self.appointments_current} current), {self.history_rows} history rows, "
                f"loaded in {self.seconds:.1f} s")


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainder; deterministic)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    order = sorted(range(len(weights)), key=lambda i: (raw[i] - out[i], -i), reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _county_weight(code: str) -> float:
    """Urban districts (区, 01–20) get more streets than development zones, county-level cities and counties."""
    tail = int(code[4:6])
    if tail <= 20:
        return 3.0
    if tail >= 71:
        return 1.5
    return 1.0


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq: dict[tuple[str, dt.date, str], int] = defaultdict(int)
        self.phones: set[str] = set()

    def name(self) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
        return self.rng.choice(SURNAMES) + given

    def id_number(self, region: str, birth: dt.date, gender: str) -> str:
        from shegong.people.idnumber import make_id_number

        key = (region, birth, gender)
        n = self.seq[key]
        if n >= 490:  # make_id_number is unique for sequences 0–499 per region, birth date and gender
            raise RuntimeError(f"too many people born {birth} in {region}")
        self.seq[key] = n + 1
        return make_id_number(region, birth, n + 10, gender)

    def phone(self) -> str:
        while True:
            p = self.rng.choice(["138", "139", "135", "186", "158", "131", "177"]) + f"{self.rng.randrange(10**8):08d}"
            if p not in self.phones:
                self.phones.add(p)
                return p

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))


def _bulk(model: Any, objs: list[Any], *, when: Any, history: bool, batch_size: int = 1000) -> list[Any]:
    """bulk_create, plus the '+' history record of every row when `history` (both are plain bulk inserts)."""
    from simple_history.utils import bulk_create_with_history

    if not objs:
        return []
    if not history:
        objs = model._default_manager.bulk_create(objs, batch_size=batch_size)
    else:
        objs = bulk_create_with_history(objs, model, batch_size=batch_size, default_date=when,
                                        default_change_reason=REASON)
    if objs[0].pk is None:
        raise RuntimeError("this database does not return primary keys from bulk inserts")
    return objs


def load(n_communities: int = 1500, n_workers: int = 20000, seed: int = 2021,
         n_streets: int | None = None, history: bool = True) -> LoadStats:
    """Load the province-scale dataset into the current (migrated, empty) database; return the counts.

    `history=False` skips the creation records in the history tables (about twice as fast to load)."""
    from django.db import transaction
    from django.utils import timezone

    from shegong.common.crypto import encrypt, mask_id_number, mask_phone, search_hash
    from shegong.org.models import Division
    from shegong.org.services import division_load_reference
    from shegong.people.models import Worker
    from shegong.staffing.models import Appointment, PostType
    from shegong.staffing.services import post_types_sync

    started = time.perf_counter()
    rng = random.Random(seed)
    people = _People(rng)
    today = timezone.localdate()
    now = timezone.now()
    n_streets = n_streets or max(1, round(n_communities / 15))
    stats = LoadStats()

    with transaction.atomic():
        if not PostType.objects.exists():
            post_types_sync()
        posts = {p.code: p for p in PostType.objects.all()}
        division_load_reference(actor=system_actor("command"))
        counties = list(Division.objects.filter(level=Division.Level.DISTRICT).order_by("code"))

        # ---- streets (9 digits) and communities (12 digits) ----------------------------------
        streets: list[Division] = []
        per_county = _apportion(n_streets, [_county_weight(c.code) for c in counties])
        stems = iter(rng.sample(STREET_STEMS, len(STREET_STEMS)) * (n_streets // len(STREET_STEMS) + 1))
        for county, k in zip(counties, per_county, strict=True):
            for i in range(k):
                streets.append(Division(code=f"{county.code}{i + 1:03d}", name=f"{next(stems)}街道",
                                        level=Division.Level.STREET, parent=county))
        streets = _bulk(Division, streets, when=now, history=history)
        per_street = _apportion(n_communities, [rng.uniform(0.6, 1.4) for _ in streets])
        communities: list[Division] = []
        for street, k in zip(streets, per_street, strict=True):
            for i in range(k):
                households = rng.randrange(800, 6001)
                name = rng.choice(COMMUNITY_PREFIX) + rng.choice(COMMUNITY_SUFFIX)
                communities.append(Division(
                    code=f"{street.code}{i + 1:03d}", name=f"{name}社区", level=Division.Level.COMMUNITY,
                    parent=street, households=households,
                    resident_population=int(households * rng.uniform(2.3, 2.9)),
                    party_org_type="党委" if households > 3000 else rng.choice(["党总支", "党支部"]),
                    address=f"{street.name}{name}路{rng.randrange(1, 999)}号",
                ))
        communities = _bulk(Division, communities, when=now, history=history)

        # ---- workers: apportioned by households, as the quota of 4.1 would ------------------------
        headcount = _apportion(n_workers, [10 + max(0, c.households - 3000) / 500 for c in communities])
        workers: list[Worker] = []
        plan: list[tuple[Division, list[tuple[str, int]]]] = []  # per community: (role, worker index)

        def person(community: Division, *, category: str = Worker.Category.FULL_TIME,
                   status: str = Worker.Status.ACTIVE, young: bool = False, old: bool = False) -> int:
            gender = rng.choice(["男", "女", "女"])
            lo = dt.date(1958, 1, 1) if old else dt.date(1988 if young else 1966, 1, 1)
            hi = dt.date(1965, 12, 31) if old else dt.date(2000, 12, 31)
            birth = people.date_between(lo, hi)
            id_number = people.id_number(community.code[:6], birth, gender)
            phone = people.phone()
            work_start = people.date_between(birth.replace(year=birth.year + 20, day=1),
                                             min(today, birth.replace(year=birth.year + 26, day=1)))
            workers.append(Worker(
                name=people.name(), gender=gender, birth_date=birth,
                id_number_encrypted=encrypt(id_number), id_number_hash=search_hash(id_number),
                id_number_masked=mask_id_number(id_number),
                phone_encrypted=encrypt(phone), phone_hash=search_hash(phone), phone_masked=mask_phone(phone),
                ethnicity=rng.choice(["01"] * 12 + ["10", "11", "03", "02"]),
                political_status=rng.choice(["01", "01", "01", "03", "13", "13"]),
                education=rng.choice(["21", "21", "21", "31", "31", "14", "61"]),
                category=category, status=status, work_start_date=work_start,
                post_start_date=people.date_between(max(work_start, dt.date(2010, 1, 1)),
                                                    max(work_start, dt.date(2024, 6, 30))),
                community=community,
            ))
            return len(workers) - 1

        for community, n in zip(communities, headcount, strict=True):
            roles: list[tuple[str, int]] = []
            party_committee = community.party_org_type == "党委"
            n_part = 2 if party_committee and n >= 12 else 0
            n_welfare = rng.choice([0, 1, 1, 2]) if n >= 11 else 0
            n_former = 1 if rng.random() < 0.35 else 0
            while n - n_part - n_welfare - n_former < 8 and n_part + n_welfare + n_former:
                if n_former:
                    n_former = 0
                elif n_welfare:
                    n_welfare -= 1
                else:
                    n_part -= 1
            n_full = max(8, n - n_part - n_welfare - n_former)  # 8 posts need a person each
            staff = [person(community) for _ in range(n_full)]
            roles += [("staff", i) for i in staff]
            for _ in range(n_part):
                roles.append(("parttime", person(community, category=Worker.Category.PART_TIME)))
            for _ in range(n_welfare):
                person(community, category=Worker.Category.PUBLIC_WELFARE, young=True)
            if n_former:
                if rng.random() < 0.4:  # the secretary before the 2021 election, now retired
                    roles.append(("former_secretary", person(community, status=Worker.Status.RETIRED, old=True)))
                else:  # a social worker who resigned
                    roles.append(("former_social", person(community, status=rng.choice(
                        [Worker.Status.RESIGNED, Worker.Status.RESIGNED, Worker.Status.DISMISSED]))))
            plan.append((community, roles))

        hashes = [w.id_number_hash for w in workers]
        if len(set(hashes)) != len(hashes):
            raise RuntimeError("duplicate ID-number hashes in the generated workers")
        workers = _bulk(Worker, workers, when=now, history=history)

        # ---- appointments ---------------------------------------------------------------------------
        appointments: list[Appointment] = []

        def appoint(index: int, community: Division, code: str, method: str, *, start: dt.date | None = None,
                    end: dt.date | None = None, end_reason: str = "") -> None:
            w = workers[index]
            if start is None:
                start = max(w.post_start_date or ELECTION_2021, ELECTION_2021) if method == "选举" else (
                    w.post_start_date or ELECTION_2021)
            appointments.append(Appointment(worker=w, community=community, post_type=posts[code], method=method,
                                            start_date=start, end_date=end, end_reason=end_reason))

        for community, roles in plan:
            staff = [i for role, i in roles if role == "staff"]
            households = community.households or 0
            no_secretary = rng.random() < 0.02
            no_director = rng.random() < 0.01
            one_shoulder = rng.random() < 0.85  # 书记、主任“一肩挑”
            if not no_secretary:
                appoint(staff[0], community, "party_secretary", "选举")
                if rng.random() < 0.5:
                    appoint(staff[0], community, "service_center_director", "兼任")
            if not no_director:
                appoint(staff[0] if one_shoulder else staff[1], community, "rc_director", "选举")
            appoint(staff[1], community, "party_deputy_secretary", "选举")
            appoint(staff[1], community, "supervision_director", "兼任")
            for i in staff[2:4]:
                appoint(i, community, "party_committee_member", "选举")
            for i in staff[2 : 3 + (households > 3000)]:
                appoint(i, community, "rc_deputy_director", "选举")
            for i in staff[4:7]:
                appoint(i, community, "rc_member", "选举")
            appoint(staff[7], community, "party_building_worker", "聘用")
            for i in staff[8:]:
                appoint(i, community, "social_worker", "聘用")
            for i in staff[7 : 7 + households // 2000]:
                appoint(i, community, "grid_leader", "兼任")
            for role, i in roles:
                if role == "parttime":
                    code = "party_parttime_member" if rng.random() < 0.5 else "rc_parttime_member"
                    appoint(i, community, code, "兼任")
                elif role == "former_secretary":
                    end = ELECTION_2021 - dt.timedelta(days=1)
                    appoint(i, community, "party_secretary", "选举", start=ELECTION_2016, end=end, end_reason="换届")
                    appoint(i, community, "rc_director", "选举", start=ELECTION_2016, end=end, end_reason="换届")
                elif role == "former_social":
                    start = workers[i].post_start_date or ELECTION_2021
                    end = people.date_between(start, today)
                    appoint(i, community, "social_worker", "聘用", start=start, end=end,
                            end_reason=f"{workers[i].status}")
            # A few current holders of older posts ended and moved on to another post.
            if len(staff) > 9 and rng.random() < 0.15:
                i = staff[9]
                start = workers[i].post_start_date or ELECTION_2016
                end = people.date_between(start, max(start, ELECTION_2021 - dt.timedelta(days=1)))
                appoint(i, community, "rc_member", "选举", start=start, end=end, end_reason="换届未连任")

        appointments = _bulk(Appointment, appointments, when=now, history=history, batch_size=2000)

    stats.streets = len(streets)
    stats.communities = len(communities)
    stats.divisions = Division.objects.count()
    stats.workers = len(workers)
    stats.appointments = len(appointments)
    stats.appointments_current = sum(1 for a in appointments if a.end_date is None)
    by_post: dict[str, int] = defaultdict(int)
    for a in appointments:
        by_post[a.post_type.name] += 1
    stats.by_post = dict(sorted(by_post.items(), key=lambda kv: -kv[1]))
    stats.history_rows = (Division.history.count() + Worker.history.count() + Appointment.history.count())
    stats.seconds = time.perf_counter() - started
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="target database (default: DATABASE_URL, else the settings' default)")
    parser.add_argument("--communities", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=20000)
    parser.add_argument("--streets", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--no-history", action="store_true", help="skip the history tables' creation records")
    args = parser.parse_args(argv)

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from shegong.people.models import Worker

    call_command("migrate", interactive=False, verbosity=0)
    if Worker.objects.exists():
        print("This database already holds workers; load scale data into an empty one.", file=sys.stderr)
        return 2
    stats = load(n_communities=args.communities, n_workers=args.workers, seed=args.seed, n_streets=args.streets,
                 history=not args.no_history)
    print(stats.summary())
    for name, n in stats.by_post.items():
        print(f"  {name}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
