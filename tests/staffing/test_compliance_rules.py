"""The staffing rules of DB22/T 3226—2021 (3.2, 4.1, 4.2.1, 4.2.2, 4.3.2, 4.3.3), each at and around its
boundaries, on a community built through the real services and checked by the real aggregate queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.staffing.compliance import ERROR, WARNING, Finding, evaluate
from shegong.staffing.models import Appointment
from shegong.staffing.rules import load_rule_set
from tests import factories

AS_OF = dt.date(2026, 6, 30)
START = dt.date(2021, 1, 5)


@dataclass
class Built:
    community: Division
    people: list[Worker] = field(default_factory=list)

    def add(self, *posts: str, category: str = "专职社区工作者", start: dt.date = START) -> Worker:
        w = factories.WorkerFactory(community=self.community, category=category)
        for post in posts:
            factories.appoint(w, post, self.community, start=start)
        self.people.append(w)
        return w


def build(code: str = "220102001001", households: int | None = 2500, party_org_type: str = "党总支",
          full_time: int = 10) -> Built:
    """A community that meets every rule: 10 full-time workers for 2,500 households (10–15), party committee
    of 5 (书记, 副书记, 3 委员), residents' committee of 6 (主任 = 书记, 1 副主任, 4 委员)."""
    c = factories.community(code, households=households, party_org_type=party_org_type)
    b = Built(c)
    b.add("党组织书记", "居委会主任")
    b.add("党组织副书记")
    b.add("党组织委员", "居委会副主任")
    b.add("党组织委员", "居委会委员")
    b.add("党组织委员", "居委会委员")
    b.add("居委会委员")
    b.add("居委会委员")
    for _ in range(full_time - 7):
        b.add("普通社工")
    return b


def check(**kwargs) -> list[Finding]:
    return evaluate(as_of=kwargs.pop("as_of", AS_OF), **kwargs).findings


def rules_of(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted((f.clause, f.rule, f.level) for f in findings)


def only(findings: list[Finding], rule: str) -> Finding:
    matching = [f for f in findings if f.rule == rule]
    assert len(matching) == 1, findings
    return matching[0]


@pytest.fixture
def base(db) -> Built:
    return build()


def test_the_baseline_community_meets_every_rule(base):
    report = evaluate(as_of=AS_OF, with_staffing=True)
    assert report.communities == 1
    assert report.findings == []
    assert report.staffing[base.community.code].full_time == 10
    assert (report.staffing[base.community.code].lo, report.staffing[base.community.code].hi) == (10, 15)


# ---- 4.1 quota ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("households", "expected"), [
    (0, (10, 15)), (2999, (10, 15)), (3000, (10, 15)), (3299, (10, 15)), (3300, (10, 16)), (3499, (10, 16)),
    (3500, (11, 16)), (3599, (11, 16)), (3600, (11, 17)), (4000, (12, 18)), (6000, (16, 25)),
])
def test_quota_range_of_clause_4_1(households, expected):
    assert load_rule_set().quota.range_for(households) == expected


def test_quota_at_the_maximum_is_fine_and_one_more_is_an_error(base):
    for _ in range(5):
        base.add("普通社工")
    assert check() == []  # 15 for 2,500 households
    base.add("普通社工")
    f = only(check(), "quota_max")
    assert (f.clause, f.level, f.expected, f.actual) == ("4.1", ERROR, "10–15", 16)
    assert f.message == "专职社区工作者 16 名,超过 2500 户社区核定的上限 15 名(应为 10–15 名)"


def test_quota_below_the_minimum_is_a_warning(db):
    b = build(full_time=9)
    f = only(check(), "quota_min")
    assert (f.level, f.actual, f.expected) == (WARNING, 9, "10–15")
    assert "低于 2500 户社区核定的下限 10 名" in f.message
    assert b.community.code == f.community


def test_quota_grows_with_households(db):
    build(households=3600, full_time=17)  # 11–17
    assert check() == []
    Division.objects.update(households=3599)  # 11–16
    f = only(check(), "quota_max")
    assert (f.actual, f.expected) == (17, "11–16")


def test_missing_households_is_a_warning(db):
    build(households=None)
    f = only(check(), "quota_households")
    assert (f.clause, f.level, f.actual) == ("4.1", WARNING, 10)
    assert "户数未填写" in f.message


def test_who_counts_as_full_time(base):
    """Distinct 专职社区工作者 with an active post other than the part-time members' (3.2, 4.1)."""
    for _ in range(5):
        base.add("普通社工")
    # None of these counts: a part-timer's post, a 专职 person holding only a part-time member's post,
    # a 兼职 person, a 公益性岗位 person (an error of its own), a post that ended, one that has not begun.
    base.add("居委会兼职委员")
    base.add("党组织兼职委员", category="兼职")
    base.add("普通社工", category="兼职")
    ended = base.add("普通社工")
    Appointment.objects.filter(worker=ended).update(end_date=AS_OF)
    base.add("普通社工", start=AS_OF + dt.timedelta(days=1))
    # A second post of someone already counted does not count twice.
    factories.appoint(base.people[-7], "网格长", base.community)
    report = evaluate(as_of=AS_OF, with_staffing=True)
    assert report.staffing[base.community.code].full_time == 15
    assert "quota_max" not in {f.rule for f in report.findings}


# ---- 3.2 -------------------------------------------------------------------------------------------------

def test_public_welfare_person_holding_a_post_is_an_error(base):
    base.add(category="公益性岗位")  # on the roster without a post: fine
    assert check() == []
    w = base.add("普通社工", category="公益性岗位")
    f = only(check(), "public_welfare_holds_post")
    assert (f.clause, f.level, f.worker) == ("3.2", ERROR, w.pk)
    assert w.name in f.message and "普通社工" in f.message and "公益性岗位" in f.message


# ---- 4.2.1 -----------------------------------------------------------------------------------------------

def test_party_committee_of_seven_is_fine_and_eight_is_not(base):
    base.add("党组织委员")
    base.add("党组织委员")
    assert check() == []  # 7
    base.add("党组织委员")
    f = only(check(), "party_committee_size")
    assert (f.clause, f.level, f.expected, f.actual) == ("4.2.1", ERROR, "5–7", 8)


def test_party_committee_of_four_is_an_error(base):
    Appointment.objects.filter(worker=base.people[4], post_type__code="party_committee_member").update(
        end_date=AS_OF - dt.timedelta(days=1))
    f = only(check(), "party_committee_size")
    assert (f.actual, f.message) == (4, "社区党组织委员(含书记、副书记) 4 名,应为 5–7 名")


def test_one_person_holding_two_committee_posts_counts_once(base):
    factories.appoint(base.people[1], "党组织委员", base.community)  # 副书记 also listed as 委员
    assert check() == []


def test_secretary_vacant_and_doubled(base):
    Appointment.objects.filter(post_type__code="party_secretary").update(end_date=AS_OF)
    findings = check()
    f = only(findings, "party_secretary")
    assert (f.actual, f.expected, f.message) == (0, "1", "党组织书记空缺(0 名,应为 1 名)")
    assert only(findings, "director_not_secretary").level == WARNING  # the 主任 is no longer the 书记 (4.2.2)
    Appointment.objects.filter(post_type__code="party_secretary").update(end_date=None)
    base.add("党组织书记")
    f = only(check(), "party_secretary")
    assert (f.actual, f.message) == (2, "党组织书记 2 名,应为 1 名(多出 1 名)")


def test_deputy_secretary_vacant_and_doubled(base):
    Appointment.objects.filter(post_type__code="party_deputy_secretary").delete()
    f = only(check(), "party_deputy_secretary")
    assert (f.actual, f.level) == (0, ERROR)
    base.add("党组织副书记")
    base.add("党组织副书记")
    assert only(check(), "party_deputy_secretary").actual == 2


@pytest.mark.parametrize(("n", "finding"), [(2, True), (3, False), (6, False), (7, True)])
def test_part_time_members_of_a_party_committee(db, n, finding):
    b = build(party_org_type="党委")
    for _ in range(n):
        b.add("党组织兼职委员", category="兼职")
    found = [f for f in check() if f.rule == "party_parttime_members"]
    assert bool(found) is finding
    if finding:
        assert (found[0].clause, found[0].level, found[0].actual, found[0].expected) == ("4.2.1", ERROR, n, "3–6")


def test_part_time_members_without_a_party_committee_are_a_warning(base):
    assert check() == []  # 党总支 with none
    base.add("党组织兼职委员", category="兼职")
    f = only(check(), "party_parttime_members_not_committee")
    assert (f.level, f.actual, f.expected) == (WARNING, 1, "0")
    assert "党总支" in f.message


def test_a_party_committee_without_part_time_members_is_an_error(db):
    build(party_org_type="党委")
    f = only(check(), "party_parttime_members")
    assert (f.actual, f.message) == (0, "社区党委兼职委员 0 名,应为 3–6 名")


# ---- 4.2.2 -----------------------------------------------------------------------------------------------

def test_director_who_is_not_the_secretary_is_a_warning(base):
    Appointment.objects.filter(post_type__code="rc_director").update(end_date=AS_OF)
    director = base.add("居委会主任")
    findings = check()
    f = only(findings, "director_not_secretary")
    assert (f.clause, f.level, f.worker) == ("4.2.2", WARNING, director.pk)
    assert director.name in f.message
    assert [x for x in findings if x.level == ERROR] == []


# ---- 4.3.2 -----------------------------------------------------------------------------------------------

def test_residents_committee_of_nine_is_fine_and_ten_is_not(base):
    for _ in range(3):
        base.add("居委会委员")
    assert check() == []  # 9
    base.add("居委会委员")
    f = only(check(), "residents_committee_size")
    assert (f.clause, f.actual, f.expected) == ("4.3.2", 10, "5–9")


def test_residents_committee_of_four_is_an_error(base):
    Appointment.objects.filter(post_type__code="rc_member", worker__in=base.people[5:7]).update(end_date=AS_OF)
    f = only(check(), "residents_committee_size")
    assert f.actual == 4


def test_director_count(base):
    Appointment.objects.filter(post_type__code="rc_director").update(end_date=AS_OF)
    findings = check()
    assert only(findings, "rc_director").actual == 0
    base.add("居委会主任")
    base.add("居委会主任")
    assert only(check(), "rc_director").actual == 2


def test_deputy_directors_one_to_two(base):
    base.add("居委会副主任")
    assert check() == []  # 2
    base.add("居委会副主任")
    f = only(check(), "rc_deputy_directors")
    assert (f.actual, f.expected, f.message) == (3, "1–2", "居委会副主任 3 名,应为 1–2 名")
    Appointment.objects.filter(post_type__code="rc_deputy_director").update(end_date=AS_OF)
    assert only(check(), "rc_deputy_directors").actual == 0


# ---- 4.3.3 -----------------------------------------------------------------------------------------------

def test_grid_leader_must_be_a_full_time_worker_with_another_post(base):
    factories.appoint(base.people[8], "网格长", base.community, method="兼任")
    assert check() == []
    alone = base.add("网格长")
    f = only(check(), "grid_leader_eligibility")
    assert (f.clause, f.level, f.worker) == ("4.3.3", ERROR, alone.pk)
    assert alone.name in f.message and "网格长" in f.message
    Appointment.objects.filter(worker=alone).update(end_date=AS_OF)
    part_timer = base.add("居委会兼职委员", "网格长", category="兼职")
    f = only(check(), "grid_leader_eligibility")
    assert f.worker == part_timer.pk and "兼职" in f.message


def test_grid_leader_whose_other_post_is_elsewhere_is_an_error(base):
    other = build(code="220102001002")
    w = other.people[9]  # a 普通社工 of the other community
    factories.appoint(w, "网格长", base.community, method="兼任")
    f = only(check(), "grid_leader_eligibility")
    assert (f.community, f.worker) == (base.community.code, w.pk)


def test_work_committee_director_must_sit_on_the_residents_committee(base):
    factories.appoint(base.people[5], "工作委员会主任", base.community, method="兼任")  # a 居委会委员
    assert check() == []
    w = base.people[8]  # a 普通社工
    factories.appoint(w, "工作委员会主任", base.community, method="兼任")
    f = only(check(), "work_committee_director_eligibility")
    assert (f.clause, f.level, f.worker) == ("4.3.3", ERROR, w.pk)
    assert "不是本社区居委会成员" in f.message


# ---- the as-of date -------------------------------------------------------------------------------------

def test_as_of_date_decides_which_appointments_count(base):
    assert check(as_of=START) == []  # started on the day: active
    before = check(as_of=START - dt.timedelta(days=1))
    assert {"party_secretary", "rc_director", "party_committee_size", "quota_min"} <= {f.rule for f in before}
    Appointment.objects.filter(post_type__code="party_secretary").update(end_date=AS_OF)
    assert check(as_of=AS_OF - dt.timedelta(days=1)) == []  # still in post the day before it ended
    assert "party_secretary" in {f.rule for f in check(as_of=AS_OF)}  # ended by the as-of date


# ---- scope and the set-based evaluation ------------------------------------------------------------------

def test_scope_limits_the_communities(db):
    build(code="220102001001")
    build(code="220102002001", households=None)
    assert evaluate(as_of=AS_OF).communities == 2
    report = evaluate(as_of=AS_OF, scope="220102001")
    assert (report.communities, report.findings) == (1, [])
    assert evaluate(as_of=AS_OF, scope="220102002").findings[0].rule == "quota_households"
    assert evaluate(as_of=AS_OF, scope="2202").communities == 0


def test_user_scope(world):
    report = evaluate(as_of=AS_OF, actor=world.users["street"])
    assert report.communities == 2
    assert {f.community for f in report.findings} == {"220102001001", "220102001002"}
    assert evaluate(as_of=AS_OF, actor=world.users["nobody"]).communities == 0
    assert evaluate(as_of=AS_OF, actor=world.users["province"]).communities == 4


def test_query_count_does_not_grow_with_communities(db):
    build(code="220102001001")
    with CaptureQueriesContext(connection) as one:
        evaluate(as_of=AS_OF)
    for i in range(2, 6):
        b = build(code=f"220102001{i:03d}")
        b.add("网格长")  # a holder-rule breach in every community: the people query runs once for all
    with CaptureQueriesContext(connection) as five:
        report = evaluate(as_of=AS_OF)
    assert report.communities == 5
    assert len([f for f in report.findings if f.rule == "grid_leader_eligibility"]) == 4
    assert len(one.captured_queries) <= 3  # communities, the aggregate, the other-category correction
    assert len(five.captured_queries) == len(one.captured_queries) + 1  # + the people behind the breaches
