"""A roster workbook at the scale of issue 3 point 7: 1,000 communities, 100,000 people, 120,000 appointments.

    python bench/roster_workbook.py /tmp/roster.xlsx                     # the full size
    python bench/roster_workbook.py /tmp/small.xlsx --people 5000        # communities and posts scale along

    from bench.roster_workbook import generate, write_workbook
    roster = generate(people=100_000, appointments=120_000, communities=1_000, seed=2021)
    write_workbook(roster, "/tmp/roster.xlsx")

`generate()` builds the roster in memory with canonical values (code-table codes, post codes, dates), so
that bench/import_bench.py can bulk-insert exactly the same rows; `write_workbook()` writes it as an
office would (openpyxl write-only): the three sheets 社区 / 人员 / 任职 with their canonical headers (and
the optional columns the export adds), a title row above the 人员 header, mostly canonical values with
some of the short forms DESIGN.md lists (汉, 党员, 本科, 专职, 书记, 社工, 总支 …), dates mostly as Excel
dates and some as text (2019-07-01, 2019/7/1, 2019年7月1日, 20190701), a few codes and phones in number
cells and a few lowercase x in ID numbers.

The data is valid for the import: communities across Jilin's counties with 12-digit codes and street
names; unique, checksum-valid ID numbers whose region is the community's county; 性别 and 出生日期
agreeing with them; work and post dates after the 16th birthday, not in the future, post ≥ work;
appointment starts after the 18th birthday; no two spells of the same person, community and post
overlap; retired and resigned people hold only ended posts. Every community has one current 书记
(and 主任, often the same person), 副书记, committee members, a 党建社工; the rest are 普通社工 and 网格长.
Needs no Django (only shegong's pure helpers), so it runs before any database exists.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale_data import (  # noqa: E402
    COMMUNITY_PREFIX,
    COMMUNITY_SUFFIX,
    STREET_STEMS,
    _apportion,
    _county_weight,
    _People,
)

ELECTION_2016 = dt.date(2016, 1, 5)
ELECTION_2021 = dt.date(2021, 1, 5)
TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the app's clock (TIME_ZONE Asia/Shanghai); no Django here

# Canonical names (DESIGN.md) and the short forms offices type; the post codes are the seeded PostType codes.
POST_NAMES = {
    "party_secretary": ("党组织书记", ("书记", "社区书记")),
    "party_deputy_secretary": ("党组织副书记", ("副书记", "专职副书记")),
    "party_committee_member": ("党组织委员", ("党委委员",)),
    "party_parttime_member": ("党组织兼职委员", ("兼职委员",)),
    "party_building_worker": ("专职党建社工", ("党建专干", "党建社工岗")),
    "rc_director": ("居委会主任", ("主任", "居民委员会主任")),
    "rc_deputy_director": ("居委会副主任", ("副主任",)),
    "rc_member": ("居委会委员", ("居民委员会委员",)),
    "rc_parttime_member": ("居委会兼职委员", ("居民委员会兼职委员",)),
    "social_worker": ("普通社工", ("社工", "普通社工岗")),
    "service_center_director": ("党群服务中心主任", ()),
    "supervision_director": ("居务监督委员会主任", ("监委会主任",)),
    "grid_leader": ("网格长", ("社区网格长",)),
}
METHOD_SHORT = {"选举": ("选任",), "聘用": ("聘任", "招聘"), "兼任": (), "组织指派": ("委派",)}
ETHNICITY = [("01", "汉族", "汉", 80), ("11", "满族", "满", 8), ("10", "朝鲜族", "朝鲜", 6), ("03", "回族", "回", 3),
             ("02", "蒙古族", "蒙古", 2), ("38", "锡伯族", "锡伯", 1)]
POLITICAL = [("01", "中国共产党党员", ("中共党员", "党员"), 55), ("02", "中国共产党预备党员", ("预备党员",), 3),
             ("03", "中国共产主义青年团团员", ("共青团员", "团员"), 10), ("13", "群众", (), 30),
             ("12", "无党派人士", ("无党派",), 2)]
EDUCATION = [("21", "大学本科", ("本科",), 50), ("31", "大学专科", ("大专", "专科"), 35),
             ("14", "硕士研究生", ("研究生", "硕士"), 6), ("61", "普通高中", ("高中",), 5), ("41", "中等专科", ("中专",), 4)]
CATEGORY_SHORT = {"专职社区工作者": ("专职",), "公益性岗位": ("公益岗",), "兼职": ("兼职人员",)}
PARTY_ORG_SHORT = {"党委": ("社区党委",), "党总支": ("总支",), "党支部": ("支部",)}
STATUS_SHORT = {"在岗": ("在职",), "退休": (), "辞职": ("离职",)}
ROADS = ["人民大街", "解放大路", "自由大路", "亚泰大街", "同志街", "西安大路", "红旗街", "吉林大路", "卫星路", "南湖大路"]

COMMUNITY_HEADERS = ["统计用区划代码", "社区名称", "街道(乡镇)名称", "户数", "常住人口", "党组织类型", "地址"]
PEOPLE_HEADERS = ["姓名", "公民身份号码", "民族", "政治面貌", "学历", "联系电话", "人员类别", "参加工作日期",
                  "社工岗入职日期", "所在社区代码", "性别", "出生日期", "状态"]
APPOINTMENT_HEADERS = ["公民身份号码", "社区代码", "岗位", "任职方式", "任职日期", "离任日期", "姓名"]
PEOPLE_TITLE = "吉林省城市社区工作者花名册(基准测试数据,bench/roster_workbook.py 生成)"


@dataclass(slots=True)
class Community:
    code: str
    name: str
    street_name: str
    households: int
    resident_population: int
    party_org_type: str
    address: str


@dataclass(slots=True)
class Person:
    name: str
    id_number: str
    gender: str
    birth_date: dt.date
    ethnicity: str            # GB/T 3304 code
    political_status: str     # GB/T 4762 code
    education: str            # GB/T 4658 code
    phone: str
    category: str             # Worker.Category value
    status: str               # Worker.Status value
    work_start_date: dt.date
    post_start_date: dt.date
    community: str            # 12-digit code


@dataclass(slots=True)
class Post:
    person: int               # index into Roster.people
    community: str
    post: str                 # PostType code
    method: str               # Appointment.Method value
    start_date: dt.date
    end_date: dt.date | None = None


@dataclass
class Roster:
    communities: list[Community] = field(default_factory=list)
    streets: dict[str, str] = field(default_factory=dict)   # 9-digit code -> name
    people: list[Person] = field(default_factory=list)
    appointments: list[Post] = field(default_factory=list)
    seed: int = 2021

    @property
    def rows(self) -> int:
        return len(self.communities) + len(self.people) + len(self.appointments)

    def summary(self) -> str:
        current = sum(1 for a in self.appointments if a.end_date is None)
        by_post = Counter(a.post for a in self.appointments)
        top = ", ".join(f"{POST_NAMES[p][0]} {n:,}" for p, n in by_post.most_common(4))
        return (f"{len(self.communities):,} communities in {len(self.streets)} streets, {len(self.people):,} people, "
                f"{len(self.appointments):,} appointments ({current:,} current; {top} …)")


def _weighted(rng: random.Random, table: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    return rng.choices(table, weights=[t[-1] for t in table])[0]


def generate(*, people: int = 100_000, appointments: int = 120_000, communities: int = 1_000,
             seed: int = 2021) -> Roster:
    """The roster, deterministic for (sizes, seed). Raises ValueError for sizes it cannot make valid."""
    from shegong.common.divcodes import reference_names

    if communities < 1 or people < 12 * communities:
        raise ValueError("need at least 12 people per community (8 posts need a full-time worker each)")
    rng = random.Random(seed)
    gen = _People(rng)
    roster = Roster(seed=seed)
    counties = sorted(c for c in reference_names() if len(c) == 6)

    # ---- streets and communities --------------------------------------------------------------
    n_streets = max(1, round(communities / 15))
    per_county = _apportion(n_streets, [_county_weight(c) for c in counties])
    stems = iter(rng.sample(STREET_STEMS, len(STREET_STEMS)) * (n_streets // len(STREET_STEMS) + 1))
    streets = []
    for county, k in zip(counties, per_county, strict=True):
        for i in range(k):
            code = f"{county}{i + 1:03d}"
            roster.streets[code] = f"{next(stems)}街道"
            streets.append(code)
    per_street = _apportion(communities, [rng.uniform(0.6, 1.4) for _ in streets])
    for street, k in zip(streets, per_street, strict=True):
        names = rng.sample([p + s for p in COMMUNITY_PREFIX for s in COMMUNITY_SUFFIX], k)
        for i, stem in enumerate(names):
            households = rng.randrange(800, 6001)
            roster.communities.append(Community(
                code=f"{street}{i + 1:03d}", name=f"{stem}社区", street_name=roster.streets[street],
                households=households, resident_population=int(households * rng.uniform(2.3, 2.9)),
                party_org_type="党委" if households > 3000 else rng.choice(["党总支", "党支部"]),
                address=f"{roster.streets[street]}{rng.choice(ROADS)}{rng.randrange(1, 2000)}号"))

    # ---- people --------------------------------------------------------------------------------
    headcount = _apportion(people, [10 + c.households / 500 for c in roster.communities])
    if min(headcount) < 12:
        headcount = _apportion(people, [1.0] * len(roster.communities))

    def person(community: Community, *, category: str = "专职社区工作者", status: str = "在岗",
               old: bool = False, young: bool = False) -> int:
        gender = rng.choice(["男", "女", "女"])
        lo = dt.date(1958, 1, 1) if old else dt.date(1990 if young else 1966, 1, 1)
        hi = dt.date(1965, 12, 31) if old else dt.date(2000, 12, 31)
        birth = gen.date_between(lo, hi)
        work = gen.date_between(birth.replace(year=birth.year + 20, day=1),
                                min(TODAY, birth.replace(year=birth.year + 26, day=1)))
        if old:  # held a post through the 2016–2021 term
            post = gen.date_between(max(work, dt.date(2000, 1, 1)), dt.date(2015, 12, 31))
        else:
            post = gen.date_between(max(work, dt.date(2010, 1, 1)), max(work, dt.date(2024, 6, 30)))
        eth = _weighted(rng, ETHNICITY)
        pol = _weighted(rng, POLITICAL)
        edu = _weighted(rng, EDUCATION)
        roster.people.append(Person(
            name=gen.name(), id_number=gen.id_number(community.code[:6], birth, gender), gender=gender,
            birth_date=birth, ethnicity=eth[0], political_status=pol[0], education=edu[0], phone=gen.phone(),
            category=category, status=status, work_start_date=work, post_start_date=post,
            community=community.code))
        return len(roster.people) - 1

    extras: list[tuple[int, Community]] = []   # social workers who may take a second spell or post

    def appoint(index: int, community: Community, post: str, method: str, start: dt.date | None = None,
                end: dt.date | None = None) -> Post:
        p = roster.people[index]
        if start is None:
            start = max(p.post_start_date, ELECTION_2021) if method == "选举" else p.post_start_date
        a = Post(index, community.code, post, method, start, end)
        roster.appointments.append(a)
        return a

    for community, n in zip(roster.communities, headcount, strict=True):
        n_welfare = max(0, round(n * 0.03))
        n_part = 2 if community.party_org_type == "党委" else 1
        n_former = max(1, round(n * 0.03))
        n_full = n - n_welfare - n_part - n_former
        staff = [person(community) for _ in range(n_full)]
        one_shoulder = rng.random() < 0.85   # 书记、主任“一肩挑”
        appoint(staff[0], community, "party_secretary", "选举")
        appoint(staff[0] if one_shoulder else staff[1], community, "rc_director", "选举")
        if rng.random() < 0.5:
            appoint(staff[0], community, "service_center_director", "兼任")
        appoint(staff[1], community, "party_deputy_secretary", "选举")
        appoint(staff[1], community, "supervision_director", "兼任")
        for i in staff[2:4]:
            appoint(i, community, "party_committee_member", "选举")
        for i in staff[2 : 3 + (community.households > 3000)]:
            appoint(i, community, "rc_deputy_director", "选举")
        for i in staff[4:7]:
            appoint(i, community, "rc_member", "选举")
        appoint(staff[7], community, "party_building_worker", "聘用")
        for i in staff[8:]:
            appoint(i, community, "social_worker", "聘用")
            extras.append((i, community))
        for _ in range(n_part):
            i = person(community, category="兼职")
            appoint(i, community, "party_parttime_member" if rng.random() < 0.5 else "rc_parttime_member", "兼任")
        for _ in range(n_welfare):
            person(community, category="公益性岗位", young=True)
        for _ in range(n_former):
            if rng.random() < 0.3:   # a secretary-director of the 2016 term, now retired
                i = person(community, status="退休", old=True)
                end = ELECTION_2021 - dt.timedelta(days=1)
                appoint(i, community, "party_secretary", "选举", start=ELECTION_2016, end=end)
                appoint(i, community, "rc_director", "选举", start=ELECTION_2016, end=end)
            else:                    # a social worker who resigned
                i = person(community, status="辞职")
                start = roster.people[i].post_start_date
                appoint(i, community, "social_worker", "聘用", start=start, end=gen.date_between(start, TODAY))

    missing = appointments - len(roster.appointments)
    if missing < 0:
        raise ValueError(f"{appointments} appointments are too few: the posts every community needs take "
                         f"{len(roster.appointments)}")
    # The rest: grid leaders among the social workers, and earlier spells (a 2016-term committee seat, or
    # an earlier contract as a social worker ending the day before the current one began).
    rng.shuffle(extras)
    by_person = {a.person: a for a in roster.appointments if a.post == "social_worker" and a.end_date is None}
    slots = [(i, c, "grid") for i, c in extras] + [(i, c, "earlier") for i, c in extras]
    rng.shuffle(slots)
    for i, community, kind in slots:
        if missing == 0:
            break
        p = roster.people[i]
        if kind == "grid":
            appoint(i, community, "grid_leader", "兼任")
        elif p.post_start_date < ELECTION_2021:
            appoint(i, community, "rc_member", "选举", start=max(p.post_start_date, ELECTION_2016),
                    end=ELECTION_2021 - dt.timedelta(days=1))
        elif p.post_start_date < TODAY - dt.timedelta(days=400):
            current = by_person[i]
            end = gen.date_between(p.post_start_date + dt.timedelta(days=30),
                                   p.post_start_date + dt.timedelta(days=300))
            appoint(i, community, "social_worker", "聘用", start=p.post_start_date, end=end)
            current.start_date = end + dt.timedelta(days=1)
        else:
            continue
        missing -= 1
    if missing:
        raise ValueError(f"could not place {missing} more appointments; give more people per appointment")
    return roster


# ---- writing ---------------------------------------------------------------------------------------


class _Cells:
    """The office's way of typing values: mostly canonical, sometimes a short form or text."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, canonical: str, short: tuple[str, ...], p: float = 0.25) -> str:
        return self.rng.choice(short) if short and self.rng.random() < p else canonical

    def date(self, value: dt.date | None) -> Any:
        if value is None:
            return None
        r = self.rng.random()
        if r < 0.88:
            return value                                  # an Excel date
        if r < 0.91:
            return value.isoformat()                      # 2019-07-01
        if r < 0.94:
            return f"{value.year}/{value.month}/{value.day}"
        if r < 0.97:
            return f"{value.year}年{value.month}月{value.day}日"
        return value.strftime("%Y%m%d")

    def code(self, code: str) -> Any:
        return int(code) if self.rng.random() < 0.05 else code   # typed into a number cell

    def id_number(self, value: str) -> str:
        if value.endswith("X") and self.rng.random() < 0.2:
            return value[:-1] + "x"
        return value


def write_workbook(roster: Roster, path: str | Path) -> Path:
    """Write the roster as an .xlsx (write-only, so memory stays flat); return the path."""
    from openpyxl import Workbook

    path = Path(path)
    rng = random.Random(roster.seed + 1)
    cells = _Cells(rng)
    wb = Workbook(write_only=True)

    ws = wb.create_sheet("社区")
    ws.append(COMMUNITY_HEADERS)
    for c in roster.communities:
        ws.append([cells.code(c.code), c.name, c.street_name, c.households, c.resident_population,
                   cells.pick(c.party_org_type, PARTY_ORG_SHORT[c.party_org_type], 0.1), c.address])

    eth = {code: (name, short) for code, name, short, _ in ETHNICITY}
    pol = {code: (name, short) for code, name, short, _ in POLITICAL}
    edu = {code: (name, short) for code, name, short, _ in EDUCATION}
    ws = wb.create_sheet("人员")
    ws.append([PEOPLE_TITLE])
    ws.append(PEOPLE_HEADERS)
    for p in roster.people:
        phone: Any = p.phone
        if rng.random() < 0.05:
            phone = int(phone)                                      # a phone in a number cell
        ws.append([
            p.name, cells.id_number(p.id_number),
            cells.pick(eth[p.ethnicity][0], (eth[p.ethnicity][1],), 0.3),
            cells.pick(*pol[p.political_status]), cells.pick(*edu[p.education]), phone,
            cells.pick(p.category, CATEGORY_SHORT[p.category]), cells.date(p.work_start_date),
            cells.date(p.post_start_date), cells.code(p.community), p.gender, cells.date(p.birth_date),
            cells.pick(p.status, STATUS_SHORT[p.status], 0.1),
        ])

    ws = wb.create_sheet("任职")
    ws.append(APPOINTMENT_HEADERS)
    for a in roster.appointments:
        p = roster.people[a.person]
        ws.append([cells.id_number(p.id_number), cells.code(a.community), cells.pick(*POST_NAMES[a.post], 0.2),
                   cells.pick(a.method, METHOD_SHORT[a.method], 0.1), cells.date(a.start_date),
                   cells.date(a.end_date), p.name])
    wb.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="the .xlsx to write")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--appointments", type=int, help="default: 1.2 × people")
    parser.add_argument("--communities", type=int, help="default: people / 100")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    communities = args.communities or max(1, args.people // 100)
    appointments = args.appointments or round(args.people * 1.2)
    t0 = time.perf_counter()
    roster = generate(people=args.people, appointments=appointments, communities=communities, seed=args.seed)
    t1 = time.perf_counter()
    path = write_workbook(roster, args.output)
    t2 = time.perf_counter()
    print(roster.summary())
    print(f"generated in {t1 - t0:.1f} s, written in {t2 - t1:.1f} s: {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
