"""Staffing compliance (clauses 3.2 and 4): every community in a scope checked against a rule set.

Set-based (DESIGN habit 9): whatever the size of the scope, the check runs

1. one query for the communities (code, name, 户数, 党组织类型);
2. one aggregate query: active appointments grouped by (community, person) into one row per person
   with a flag per post set the rules ask about, then summed per community with the person's category —
   head counts of distinct people, the full-time count, and the number of people breaking each holder
   rule;
3. only where (2) counted a breach of a holder rule, one more query for those people (name, category)
   and one for the posts they hold, so that the finding can name them.

The numbers come from the rule set (shegong/staffing/rules.py); this module holds no number of the
standard.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone

from shegong.access import Actor
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.common.rollup import bucket
from shegong.org.models import Division
from shegong.org.selectors import division_get
from shegong.people.models import Worker
from shegong.staffing.models import Appointment
from shegong.staffing.rules import (
    ANY,
    Headcount,
    Holder,
    RuleSet,
    expected_phrase,
    expected_text,
    load_rule_set,
)
from shegong.staffing.services import post_type_index

ERROR, WARNING = "error", "warning"
LEVEL_NAMES = {ERROR: "错误", WARNING: "提示"}


@dataclass(frozen=True, slots=True)
class Finding:
    community: str          # division code
    name: str               # community name
    clause: str             # clause of the standard, "4.2.1"
    level: str              # "error" | "warning"
    message: str            # Chinese, with the numbers
    expected: str           # "5–7", "1", "10–15", or the holder rule in words
    actual: int | str | None
    rule: str               # id of the rule in the rule set
    worker: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"community": self.community, "name": self.name, "clause": self.clause, "level": self.level,
                "message": self.message, "expected": self.expected, "actual": self.actual, "rule": self.rule,
                "worker": self.worker}

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]


@dataclass(frozen=True, slots=True)
class Staffing:
    """A community's full-time count against its 4.1 range (lo/hi None when 户数 is missing)."""

    full_time: int
    households: int | None
    lo: int | None
    hi: int | None


@dataclass
class Report:
    rule_set: RuleSet
    as_of: dt.date
    scope: str
    communities: int
    findings: list[Finding]
    staffing: dict[str, Staffing] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.level == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.level == WARNING)

    def communities_with(self, level: str) -> int:
        return len({f.community for f in self.findings if f.level == level})

    def as_dict(self) -> dict[str, Any]:
        return {"rule_set": self.rule_set.label, "as_of": self.as_of.isoformat(), "scope": self.scope,
                "communities": self.communities,
                "communities_with_errors": self.communities_with(ERROR),
                "communities_with_warnings": self.communities_with(WARNING),
                "findings": [f.as_dict() for f in self.findings]}


class _Category:
    """The category of the person in a condition: a column of the query, or a constant known in Python
    (then a category test folds to TRUE or FALSE and needs no join)."""

    def __init__(self, column: str = "", constant: str = "") -> None:
        self.column, self.constant = column, constant

    def among(self, categories: Sequence[str]) -> tuple[str, list[Any]]:
        if not self.column:
            return ("1 = 1" if self.constant in categories else "1 = 0"), []
        return f"{self.column} IN ({', '.join(['%s'] * len(categories))})", list(categories)


class _Plan:
    """The aggregate query, built from the rule set. Each person's active posts in a community become one
    bit mask (one bit per post type); each rule becomes a condition on that mask and the person's
    category, summed per community."""

    def __init__(self, rule_set: RuleSet, post_index: dict[str, tuple[int, str]]) -> None:
        self.rule_set = rule_set
        self.bits = {code: 1 << i for i, code in enumerate(post_index)}
        self.all_bits = sum(self.bits.values())
        self.post_ids = {code: pk for code, (pk, _) in post_index.items()}
        self.bit_names = [(bit, post_index[code][1]) for code, bit in self.bits.items()]
        self.default_category = rule_set.full_time.categories[0]
        self.headcounts = [(rule, self.mask(rule.posts)) for rule in rule_set.headcounts]

    def mask(self, codes: Iterable[str]) -> int:
        return sum(self.bits.get(code, 0) for code in codes)

    def post_bit_sql(self) -> str:
        whens = " ".join(f"WHEN {self.post_ids[code]} THEN {bit}" for code, bit in self.bits.items())
        return f"CASE a.post_type_id {whens} ELSE 0 END"

    def names(self, m: int) -> tuple[str, ...]:
        return tuple(name for bit, name in self.bit_names if m & bit)

    # Per-person conditions (SQL over h.m and the category) --------------------------------------

    def full_time(self, cat: _Category) -> tuple[str, list[Any]]:
        ft = self.rule_set.full_time
        among, params = cat.among(ft.categories)
        other = self.all_bits & ~self.mask(ft.excluded_posts)
        return f"({among} AND (h.m & {other}) <> 0)", params

    def breach(self, holder: Holder, cat: _Category) -> tuple[str, list[Any]]:
        parts, params = [], []
        if holder.forbid_categories:
            sql, p = cat.among(holder.forbid_categories)
            parts.append(sql)
            params += p
        if holder.require_categories:
            sql, p = cat.among(holder.require_categories)
            parts.append(f"NOT ({sql})")
            params += p
        own = self.mask([holder.post]) if holder.post != ANY else 0
        if holder.require_posts == ANY:
            parts.append(f"(h.m & {self.all_bits & ~own}) = 0")
        elif holder.require_posts:
            parts.append(f"(h.m & {self.mask(holder.require_posts)}) = 0")
        condition = "(" + " OR ".join(parts) + ")"
        if holder.post != ANY:
            condition = f"((h.m & {own}) <> 0 AND {condition})"
        return condition, params

    def category_sums(self, cat: _Category, connection: Any) -> list[tuple[str, list[Any]]]:
        """The aggregates that depend on the person's category: the full-time count, then per holder rule
        the list "worker:mask,…" of the people who break it."""
        sql, params = self.full_time(cat)
        out = [(f"SUM(CASE WHEN {sql} THEN 1 ELSE 0 END)", params)]
        person = "CAST(h.w AS TEXT) || ':' || CAST(h.m AS TEXT)"
        agg = "STRING_AGG" if connection.vendor == "postgresql" else "GROUP_CONCAT"
        for holder in self.rule_set.holders:
            sql, params = self.breach(holder, cat)
            out.append((f"{agg}(CASE WHEN {sql} THEN {person} END, ',')", params))
        return out

    def headcount_sums(self) -> list[str]:
        return [f"SUM(CASE WHEN (h.m & {mask}) <> 0 THEN 1 ELSE 0 END)" for _, mask in self.headcounts]


def _tables() -> dict[str, str]:
    return {"a": Appointment._meta.db_table, "wk": Worker._meta.db_table, "d": Division._meta.db_table}


def _inner_sql(plan: _Plan, connection: Any, where: str, *, join_worker: str = "", columns: str = "") -> str:
    """One row per (community, person) with the bit mask of the posts the person holds there on the
    as-of date (two %s: the date)."""
    t = _tables()
    bit = plan.post_bit_sql()
    # BIT_OR where the database has it; on SQLite the sum of the distinct bits is the same mask.
    agg = f"BIT_OR({bit})" if connection.vendor == "postgresql" else f"SUM(DISTINCT {bit})"
    join = f" JOIN {t['wk']} wk ON wk.id = a.worker_id{join_worker}" if join_worker or columns else ""
    group = f"a.community_id, a.worker_id{columns and ', ' + columns}"
    return (f"SELECT a.community_id AS c, a.worker_id AS w{columns and ', ' + columns}, {agg} AS m "
            f"FROM {t['a']} a{join} WHERE a.start_date <= %s AND (a.end_date IS NULL OR a.end_date > %s){where} "
            f"GROUP BY {group}")


def _aggregate(plan: _Plan, connection: Any, as_of: dt.date, where: str, where_params: list[Any]
               ) -> tuple[dict[int, tuple[Any, ...]], dict[tuple[int, int], dict[int, int]]]:
    """Per community: (community id, full-time count, one breach list per holder rule, each head count),
    and the people breaking each holder rule: {(community id, rule index): {worker id: post mask}}.

    Two queries: all people counted as if of the default category (no join with the worker table),
    then the correction for the people of any other category (a join over those few only)."""
    default = _Category(constant=plan.default_category)
    assumed = plan.category_sums(default, connection)
    heads = plan.headcount_sums()
    n_holders = len(plan.rule_set.holders)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT h.c, {', '.join([sql for sql, _ in assumed] + heads)} "
                       f"FROM ({_inner_sql(plan, connection, where)}) h GROUP BY h.c", [as_of, as_of, *where_params])
        counts: dict[int, tuple[Any, ...]] = {row[0]: row for row in cursor.fetchall()}
        actual = plan.category_sums(_Category(column="h.category"), connection)
        others = [c for c in Worker.Category.values if c != plan.default_category]
        columns = [sql for sql, _ in actual] + [sql for sql, _ in assumed]
        params = [p for _, ps in actual for p in ps] + [p for _, ps in assumed for p in ps]
        inner = _inner_sql(plan, connection, where + f" AND wk.category IN ({', '.join(['%s'] * len(others))})",
                           columns="wk.category")
        cursor.execute(f"SELECT h.c, {', '.join(columns)} FROM ({inner}) h GROUP BY h.c",
                       [*params, as_of, as_of, *where_params, *others])
        corrections = cursor.fetchall()
    breaches = {(c, i): _people(row[2 + i]) for c, row in counts.items() for i in range(n_holders) if row[2 + i]}
    for c, *values in corrections:
        _correct(counts, breaches, c, values, n_holders, len(heads))
    return counts, {key: people for key, people in breaches.items() if people}


def _correct(counts: dict[int, tuple[Any, ...]], breaches: dict[tuple[int, int], dict[int, int]], c: int,
             values: list[Any], n_holders: int, n_heads: int) -> None:
    """Apply one community's correction row (the actual sums of the people of another category, then
    the sums assumed for them): the full-time count and the holder-rule breaches change by the
    difference."""
    fixed = list(counts.get(c) or (c, 0, *[None] * n_holders, *[0] * n_heads))
    width = 1 + n_holders
    fixed[1] += int(values[0] or 0) - int(values[width] or 0)  # actual minus assumed full-time
    counts[c] = tuple(fixed)
    for i in range(n_holders):
        now, was = values[1 + i], values[width + 1 + i]
        if now or was:
            people = breaches.get((c, i), {})
            for w in _people(was):
                people.pop(w, None)
            people.update(_people(now))
            breaches[(c, i)] = people


def _fetch(qs: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of a values_list queryset through the cursor: 120,000 communities in a tenth of the time
    the ORM's row iterator takes (the values are plain ints and strings, nothing to convert)."""
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:
        return []
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _people(text: str | None) -> dict[int, int]:
    """"worker:mask,worker:mask" → {worker: mask}."""
    if not text:
        return {}
    return {int(w): int(m) for w, m in (pair.split(":") for pair in text.split(","))}


def communities_in_scope(*, actor: Actor | None = None, scope: str = "") -> QuerySet[Division]:
    """Active communities under `scope` (a division code, any length) that `actor` may
    view (all of them without an actor: commands and whole-province reports)."""
    qs = Division.objects.filter(level=Division.Level.COMMUNITY, is_active=True)
    if actor is not None:
        qs = qs.restrict(actor, "view")
    if scope:
        try:
            qs = qs.filter(code__startswith=normalize_code(scope))
        except DivisionCodeError:
            return qs.none()
    return qs


def evaluate(*, scope: str = "", as_of: dt.date | None = None, rule_set: RuleSet | None = None, actor: Actor | None = None,
             community: Division | None = None, with_staffing: bool = False) -> Report:
    """Check every community of the scope on `as_of` (default today) against the rule set (default from
    settings). With `actor`, only the communities the actor may view; with `community`, that one alone
    (the caller has checked scope). `report.staffing` (full-time count against the 4.1 range per
    community) is filled for a single community, or for all with `with_staffing`."""
    with_staffing = with_staffing or community is not None
    rule_set = rule_set or load_rule_set()
    as_of = as_of or timezone.localdate()
    rows, community_filter, filter_params = _community_rows(actor=actor, scope=scope, community=community)
    report = Report(rule_set=rule_set, as_of=as_of, scope=scope, communities=len(rows), findings=[])
    if not rows:
        return report

    plan = _Plan(rule_set, post_type_index())
    connection = connections[router.db_for_read(Appointment)]
    counts, breaches = _aggregate(plan, connection, as_of, community_filter, filter_params)
    zero = (0, 0, *[None] * len(rule_set.holders), *[0] * len(plan.headcounts))
    values = [counts.get(row[0], zero) for row in rows]
    _quota_findings(report, rows, values, with_staffing=with_staffing)
    _headcount_findings(report.findings, plan, rows, values)
    _holder_findings(report.findings, plan, rows, breaches, _who(breaches, single=community is not None))
    keys = {c: _clause_key(c) for c in rule_set.clauses()}
    report.findings.sort(key=lambda f: (f.level != ERROR, f.community, keys.get(f.clause) or _clause_key(f.clause)))
    return report


_Rows = list[tuple[Any, ...]]


def _community_rows(*, actor: Actor | None, scope: str, community: Division | None) -> tuple[_Rows, str, list[Any]]:
    """(id, code, name, households, party_org_type) of the communities checked, in code order, and the
    SQL condition (with its parameters) that limits the appointments aggregated to them."""
    if community is not None:
        rows = [(community.pk, community.code, community.name, community.households, community.party_org_type)]
        return rows, f" AND a.community_id = {int(community.pk)}", []
    qs = communities_in_scope(actor=actor, scope=scope)
    rows = _fetch(qs.order_by("code").values_list("id", "code", "name", "households", "party_org_type"))
    if rows and (actor is not None or scope):
        sub_sql, sub_params = qs.order_by().values("id").query.sql_with_params()
        return rows, f" AND a.community_id IN ({sub_sql})", list(sub_params)
    return rows, "", []


def _who(breaches: dict[tuple[int, int], dict[int, int]], *, single: bool) -> dict[int, tuple[str, str]]:
    """The names and categories of the people breaking holder rules: one lookup by primary key (always
    one for a single community, so that its page runs a fixed number of queries)."""
    ids = sorted({w for people in breaches.values() for w in people})
    who: dict[int, tuple[str, str]] = {}
    if ids or single:
        for chunk in _chunks(ids or [0], 5000):
            who.update((pk, (name, category)) for pk, name, category in
                       Worker.objects.filter(pk__in=chunk).values_list("pk", "name", "category"))
    return who


def _quota_findings(report: Report, rows: _Rows, values: _Rows, *, with_staffing: bool) -> None:
    """Quota (4.1): one pass; the staffing figures are kept for a single community's page."""
    quota, ft_label = report.rule_set.quota, report.rule_set.full_time.label
    for (_, code, name, households, _), row in zip(rows, values, strict=True):
        full_time = row[1]
        if households is None:
            if with_staffing:
                report.staffing[code] = Staffing(full_time, None, None, None)
            report.findings.append(Finding(
                code, name, quota.clause, quota.households_missing,
                f"户数未填写,无法按 {quota.clause} 核定社工岗数量(现有{ft_label} {full_time} 名)",
                "", full_time, "quota_households"))
            continue
        lo, hi = quota.range_for(households)
        if with_staffing:
            report.staffing[code] = Staffing(full_time, households, lo, hi)
        if full_time > hi:
            report.findings.append(Finding(code, name, quota.clause, quota.above_max,
                                           f"{ft_label} {full_time} 名,超过 {households} 户社区核定的上限 {hi} 名"
                                           f"(应为 {lo}–{hi} 名)", f"{lo}–{hi}", full_time, "quota_max"))
        elif full_time < lo:
            report.findings.append(Finding(code, name, quota.clause, quota.below_min,
                                           f"{ft_label} {full_time} 名,低于 {households} 户社区核定的下限 {lo} 名"
                                           f"(应为 {lo}–{hi} 名)", f"{lo}–{hi}", full_time, "quota_min"))


def _headcount_findings(findings: list[Finding], plan: _Plan, rows: _Rows, values: _Rows) -> None:
    """Head counts: one comprehension per rule picks the communities outside its range."""
    for i, (rule, _) in enumerate(plan.headcounts, start=2 + len(plan.rule_set.holders)):
        lo_n = rule.min if rule.min is not None else 0
        hi_n = rule.max if rule.max is not None else 1 << 62
        for k in [k for k, row in enumerate(values) if not lo_n <= row[i] <= hi_n]:
            _, code, name, households, party_org_type = rows[k]
            if rule.applies_to(party_org_type):
                actual = values[k][i]
                findings.append(Finding(code, name, rule.clause, rule.level,
                                        _headcount_message(rule, actual, name, party_org_type, households),
                                        rule.expected, actual, rule.id))


def _holder_findings(findings: list[Finding], plan: _Plan, rows: _Rows,
                     breaches: dict[tuple[int, int], dict[int, int]], who: dict[int, tuple[str, str]]) -> None:
    """Holder rules: the people the aggregate listed, by name within a community."""
    rule_set = plan.rule_set
    by_id = {row[0]: row for row in rows}
    for (community_id, i), people in breaches.items():
        if community_id not in by_id:
            continue
        holder = rule_set.holders[i]
        _, code, name, _, _ = by_id[community_id]
        for worker_id, mask in sorted(people.items(), key=lambda wm: (who.get(wm[0], ("", ""))[0], wm[0])):
            worker_name, category = who.get(worker_id, ("", ""))
            post_names = "、".join(plan.names(mask))
            message = (holder.message or "{worker}({category})不符合 {clause} 的任职条件").format(
                worker=worker_name, category=category, posts=post_names, name=name, clause=holder.clause)
            findings.append(Finding(code, name, holder.clause, holder.level, message,
                                    holder.expected(rule_set.post_name), f"{category};{post_names}",
                                    holder.id, worker_id))


def _clause_key(clause: str) -> list[int]:
    return [int(p) for p in clause.split(".") if p.isdigit()]


def _headcount_message(rule: Headcount, actual: int, name: str, party_org_type: str, households: int | None) -> str:
    if rule.message:
        return rule.message.format(label=rule.label, actual=actual, expected=expected_phrase(rule.min, rule.max),
                                   name=name, party_org_type=party_org_type or "未填写", households=households)
    expected = expected_phrase(rule.min, rule.max)
    if actual == 0 and rule.max == 1:
        return f"{rule.label}空缺(0 名,应为 {expected})"
    if rule.min == rule.max and actual > (rule.max or 0):
        return f"{rule.label} {actual} 名,应为 {expected}(多出 {actual - (rule.max or 0)} 名)"
    return f"{rule.label} {actual} 名,应为 {expected}"


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def community_report(*, community: Division, as_of: dt.date | None = None,
                     rule_set: RuleSet | None = None) -> Report:
    """The findings of one community (the caller has checked scope)."""
    return evaluate(community=community, as_of=as_of, rule_set=rule_set, scope=community.code)


def compliance_report(*, actor: Actor, scope: str = "", as_of: dt.date | None = None,
                      rule_set: RuleSet | None = None) -> tuple[Division | None, Report]:
    """The report for `scope` as `actor` sees it: Division.DoesNotExist when the scope is not theirs (404),
    every community the actor may view when no scope is given."""
    division = division_get(actor=actor, code=scope) if scope else None
    if division is not None and division.is_community:
        return division, community_report(community=division, as_of=as_of, rule_set=rule_set)
    report = evaluate(actor=actor, scope=division.code if division else "", as_of=as_of, rule_set=rule_set)
    return division, report


_RANGE = re.compile(r"^(\d+)(?:–(\d+))?$")


def _further(before: Finding, after: Finding) -> bool:
    """Whether `after` is further from the expected range than `before` (the same head-count rule of
    the same community: 3 committee members → 4 is a step towards 5–7, 8 → 9 a step away)."""
    match = _RANGE.match(after.expected)
    if match is None or not isinstance(before.actual, int) or not isinstance(after.actual, int):
        return False
    lo, hi = int(match.group(1)), int(match.group(2) or match.group(1))

    def distance(n: int) -> int:
        return lo - n if n < lo else max(0, n - hi)

    return distance(after.actual) > distance(before.actual)


@dataclass(frozen=True)
class FindingsChange:
    """What a change would do to the findings: the ones it adds and the ones it clears. A finding whose
    numbers change ("2 名" → "3 名") counts as cleared and added; `changed` pairs them up."""

    added: list[Finding]
    cleared: list[Finding]

    def _before(self) -> dict[tuple[Any, ...], Finding]:
        return {(f.community, f.rule, f.worker): f for f in self.cleared}

    @property
    def new_errors(self) -> list[Finding]:
        """The errors this change brings about: an error the community did not have, or one it had that
        moves further from what the standard expects. An error that only moves towards the expected
        range (the 4th of 5–7 committee members) is not new: entering the staff one by one needs no
        confirmation at every step."""
        before = self._before()
        out = []
        for f in self.added:
            if f.level != ERROR:
                continue
            old = before.get((f.community, f.rule, f.worker))
            if old is None or old.level != ERROR or _further(old, f):
                out.append(f)
        return out

    @property
    def adds_errors(self) -> bool:
        return bool(self.new_errors)

    @property
    def changed(self) -> list[tuple[Finding, Finding]]:
        """(before, after) of the findings whose numbers change."""
        before = self._before()
        return [(before[k], f) for f in self.added if (k := (f.community, f.rule, f.worker)) in before]

    @property
    def only_added(self) -> list[Finding]:
        before = self._before()
        return [f for f in self.added if (f.community, f.rule, f.worker) not in before]

    @property
    def only_cleared(self) -> list[Finding]:
        after = {(f.community, f.rule, f.worker) for f in self.added}
        return [f for f in self.cleared if (f.community, f.rule, f.worker) not in after]

    @property
    def is_empty(self) -> bool:
        return not self.added and not self.cleared


def _finding_key(f: Finding) -> tuple[Any, ...]:
    return f.community, f.rule, f.worker, f.message


def findings_change(*, change: Callable[[], Any], scope: str = "", actor: Actor | None = None,
                    as_of: dt.date | None = None, rule_set: RuleSet | None = None) -> FindingsChange:
    """The findings `change` would add and clear in `scope` (or all the actor may view), found by making
    the change inside a savepoint, checking, and rolling it back: the rules at entry time are exactly
    the rules of the compliance page (issue 11: an appointment, or an import's preview, shows what it
    would do before it is done). An error raised by `change` (a validation error) propagates."""
    with transaction.atomic():
        before = evaluate(scope=scope, actor=actor, as_of=as_of, rule_set=rule_set).findings
        savepoint = transaction.savepoint()
        try:
            change()
            after = evaluate(scope=scope, actor=actor, as_of=as_of, rule_set=rule_set).findings
        finally:
            transaction.savepoint_rollback(savepoint)
    old = {_finding_key(f) for f in before}
    new = {_finding_key(f) for f in after}
    return FindingsChange(added=[f for f in after if _finding_key(f) not in old],
                          cleared=[f for f in before if _finding_key(f) not in new])


def filter_findings(findings: Iterable[Finding], *, level: str = "", clause: str = "", q: str = "") -> list[Finding]:
    """Findings of one level, one clause (and its sub-clauses), and/or whose community code, community
    name or message contains q."""
    q = q.strip()
    out = []
    for f in findings:
        if level and f.level != level:
            continue
        if clause and not (f.clause == clause or f.clause.startswith(clause + ".")):
            continue
        if q and q not in f.community and q not in f.name and q not in f.message:
            continue
        out.append(f)
    return out


def rollup(report: Report, children: Sequence[Division]) -> dict[str, dict[str, int]]:
    """Per child division: communities with errors, with warnings, and findings of each level (the
    findings are in memory: shegong.common.rollup.bucket, the same prefix rule as the SQL roll-ups)."""
    out = {}
    for code, findings in bucket(report.findings, attrgetter("community"), [d.code for d in children]).items():
        errors = [f for f in findings if f.level == ERROR]
        warnings = [f for f in findings if f.level != ERROR]
        out[code] = {"errors": len({f.community for f in errors}), "warnings": len({f.community for f in warnings}),
                     "error_findings": len(errors), "warning_findings": len(warnings)}
    return out


def clause_counts(findings: Iterable[Finding]) -> list[tuple[str, int, int]]:
    """(clause, errors, warnings) in clause order."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in findings:
        counts[f.clause][0 if f.level == ERROR else 1] += 1
    return [(c, e, w) for c, (e, w) in sorted(counts.items(), key=lambda kv: _clause_key(kv[0]))]


__all__ = ["clause_counts", "compliance_report", "filter_findings", "rollup", "ERROR", "WARNING", "Finding", "Report", "Staffing", "communities_in_scope", "community_report",
           "evaluate", "expected_text"]
