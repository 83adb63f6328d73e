"""The demo city: 长春市 with its real district codes, six streets, 40 communities and about 600 people.

Deterministic (seeded), built through the same services as the web and the API, so history and
validation apply. It carries three deliberate problems for the compliance work to find:
a community with no 党组织书记, one over its 社工岗 quota (4.1) and one with three 居委会副主任 (4.3.2).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from shegong.access import system_actor
from shegong.accounts.services import user_create
from shegong.accounts.validators import DEMO_PASSWORD
from shegong.archives.demo import build_archive_demo
from shegong.org.models import Division
from shegong.org.services import division_create, division_load_reference
from shegong.people.idnumber import make_id_number
from shegong.people.models import Worker
from shegong.people.services import worker_create
from shegong.staffing.models import PostType
from shegong.staffing.rules import quota_range
from shegong.staffing.services import appointment_create, post_types_sync

REASON = "演示数据(shegong demo)"
DEMO = system_actor("demo")

STREETS = [
    ("220102001", "自强街道", 7), ("220102002", "民康街道", 7), ("220103001", "新发街道", 7),
    ("220104001", "重庆街道", 7), ("220104002", "南湖街道", 6), ("220106001", "正阳街道", 6),
]
COMMUNITY_NAMES = ["东风", "幸福", "明珠", "春光", "和平", "繁荣", "阳光", "富裕", "长青", "文化", "胜利", "安康", "新华", "光明", "永安", "锦绣", "南湖", "清华", "红旗", "兴隆", "华阳", "欣园", "民丰", "青年", "丰收", "桃源", "松苑", "芳草", "福祉", "平安", "春城", "湖滨", "柳影", "北安", "东盛", "西苑", "汇泉", "翠林", "朝晖", "友谊"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏建华红梅宇浩凯莉晶丹玲颖雪琳博文亮欣怡佳慧婷"

NO_SECRETARY = 4       # community index with no 党组织书记
OVER_QUOTA = 11        # community index with more full-time workers than 4.1 allows
THREE_DEPUTIES = 9     # community index with three 居委会副主任 (文化社区, 南关区 like the two above)


@dataclass
class DemoResult:
    communities: int = 0
    workers: int = 0
    appointments: int = 0
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    archive_records: int = 0


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq: dict[tuple[str, dt.date], int] = {}

    def name(self) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
        return self.rng.choice(SURNAMES) + given

    def id_number(self, region: str, birth: dt.date, gender: str) -> str:
        n = self.seq.get((region, birth), 0)
        self.seq[(region, birth)] = n + 1
        return make_id_number(region, birth, n * 2 + (0 if gender == "女" else 1) + 10, gender)

    def phone(self) -> str:
        return self.rng.choice(["138", "139", "135", "186", "158", "131", "177"]) + f"{self.rng.randrange(10**8):08d}"

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))


class _Builder:
    """The demo city, built community by community in named steps. The order of the random draws is
    the demo's identity (same seed, same people): every step draws in the order the single loop did."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.people = _People(self.rng)
        self.posts = {p.code: p for p in PostType.objects.all()}
        self.result = DemoResult()
        self.as_of = timezone.localdate()

    def community(self, index: int, street_code: str, street_name: str, number: int) -> Division:
        rng = self.rng
        households = rng.randrange(800, 6001)
        if index == OVER_QUOTA:
            households = 1200
        return division_create(
            code=f"{street_code}{number:03d}", name=f"{COMMUNITY_NAMES[index]}社区", actor=DEMO, reason=REASON,
            parent_names={street_code: street_name}, households=households,
            resident_population=int(households * rng.uniform(2.3, 2.9)),
            party_org_type="党委" if households > 3000 else rng.choice(["党总支", "党支部"]),
            address=f"长春市{street_name}{COMMUNITY_NAMES[index]}路{rng.randrange(1, 999)}号",
        )

    def person(self, community: Division, category: str = "专职社区工作者", young: bool = False) -> Worker:
        rng, people = self.rng, self.people
        gender = rng.choice(["男", "女", "女"])
        birth = people.date_between(dt.date(1968 if not young else 1988, 1, 1), dt.date(1998, 12, 31))
        work_start = people.date_between(birth.replace(year=birth.year + 20, day=1),
                                         min(self.as_of, birth.replace(year=birth.year + 26, day=1)))
        worker = worker_create(
            name=people.name(), id_number=people.id_number(community.code[:6], birth, gender), phone=people.phone(),
            ethnicity=rng.choice(["01"] * 12 + ["10", "11", "03", "02"]),
            political_status=rng.choice(["01", "01", "01", "03", "13", "13"]),
            education=rng.choice(["21", "21", "21", "31", "31", "14", "61"]),
            category=category, work_start_date=work_start,
            post_start_date=people.date_between(max(work_start, dt.date(2012, 1, 1)),
                                                max(work_start, dt.date(2023, 6, 30))),
            community=community, actor=DEMO, reason=REASON)
        self.result.workers += 1
        return worker

    def appoint(self, worker: Worker, community: Division, code: str, method: str) -> None:
        start = max(worker.post_start_date or dt.date(2021, 1, 1), dt.date(2021, 1, 5))
        appointment_create(worker=worker, community=community, post_type=self.posts[code], method=method,
                           start_date=start, actor=DEMO, reason=REASON)
        self.result.appointments += 1

    def staff(self, community: Division, index: int) -> list[Worker]:
        """The full-time workers of a community: within the 4.1 range, or over it for OVER_QUOTA."""
        lo, hi = quota_range(community.households or 0)
        n_full = hi + 5 if index == OVER_QUOTA else self.rng.randrange(lo, (lo + hi) // 2 + 1)
        return [self.person(community) for _ in range(n_full)]

    def posts_of(self, staff: list[Worker], community: Division, index: int) -> None:
        """The posts of 4.2/4.3, with the deliberate gaps: no secretary, three deputies."""
        households = community.households or 0

        def appoint(w: Worker, code: str, method: str) -> None:
            self.appoint(w, community, code, method)

        if index != NO_SECRETARY:
            appoint(staff[0], "party_secretary", "选举")
            appoint(staff[0], "service_center_director", "兼任")
        appoint(staff[0], "rc_director", "选举")
        appoint(staff[1], "party_deputy_secretary", "选举")
        appoint(staff[1], "supervision_director", "兼任")
        for w in staff[2:5]:
            appoint(w, "party_committee_member", "选举")
        deputies = staff[2:5] if index == THREE_DEPUTIES else staff[2:3 + (households > 3000)]
        for w in deputies:
            appoint(w, "rc_deputy_director", "选举")
        for w in staff[3:7]:
            appoint(w, "rc_member", "选举")
        appoint(staff[7], "party_building_worker", "聘用")
        for w in staff[8:]:
            appoint(w, "social_worker", "聘用")
        for w in staff[7 : 7 + max(2, households // 1500)]:
            appoint(w, "grid_leader", "兼任")

    def others(self, community: Division) -> None:
        """Part-time party committee members (where the party organisation is a 党委) and people on
        public-welfare posts, who are on the roster but are not community workers."""
        if community.party_org_type == "党委":
            for _ in range(3):
                self.appoint(self.person(community, category="兼职"), community, "party_parttime_member", "兼任")
        for _ in range(self.rng.randrange(0, 3)):
            self.person(community, category="公益性岗位", young=True)

    def accounts(self, first_community: Division, account_worker: Worker) -> dict[str, Any]:
        """One account per role, scoped around the first community (and the demo worker's own)."""
        street = first_community.parent
        assert street is not None
        accounts = [
            ("minzheng", "civil_affairs", "2201", "长春市民政局 管理员", None),
            ("quzheng", "civil_affairs", street.code[:6], "南关区民政局 管理员", None),
            ("jiedao", "street_admin", street.code, f"{street.name} 管理员", None),
            ("shequ", "community_admin", first_community.code, f"{first_community.name} 书记", None),
            ("peixun", "training_admin", "2201", "长春市社区工作者培训中心", None),
            ("shegong", "worker", account_worker.community.code, account_worker.name, account_worker),
        ]
        users = {}
        for username, role, scope, display, worker in accounts:
            users[username] = user_create(username=username, password=DEMO_PASSWORD, role=role, scope=scope,
                                          display_name=display, worker=worker, validate=False, demo=True,
                                          actor=DEMO)
            self.result.accounts.append((username, role, display))
        return users


@transaction.atomic
def build_demo(*, seed: int = 2021) -> DemoResult:
    post_types_sync()
    division_load_reference(actor=DEMO)
    builder = _Builder(seed)
    result = builder.result
    communities: list[Division] = []
    account_worker: Worker | None = None
    for street_code, street_name, n_communities in STREETS:
        for number in range(1, n_communities + 1):
            index = len(communities)
            community = builder.community(index, street_code, street_name, number)
            staff = builder.staff(community, index)
            builder.posts_of(staff, community, index)
            builder.others(community)
            if index == 2:
                account_worker = staff[9]
            communities.append(community)
    assert account_worker is not None
    result.communities = len(communities)
    first_community = communities[0]
    users = builder.accounts(first_community, account_worker)
    # Archives (8.1.2) for the community admin's community and the demo worker, partly complete; the street
    # admin has opened some of them, so the workers see who did.
    archive_workers = [*Worker.objects.filter(community=first_community, status=Worker.Status.ACTIVE)
                       .exclude(category=Worker.Category.PUBLIC_WELFARE).order_by("id"), account_worker]
    result.archive_records = build_archive_demo(workers=archive_workers, rng=builder.rng, as_of=builder.as_of,
                                                opened_by=users["jiedao"])
    return result
