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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet
from django.utils import timezone

from shegong.org.codes import DivisionCodeError, normalize_code
from shegong.org.models import Division
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
        return asdict(self)

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


class _Plan:
    """The flags and sums of the aggregate query, built from the rule set: each distinct post set
    becomes one flag column of the per-person rows, each rule one sum of the per-community rows."""

    def __init__(self, rule_set: RuleSet, post_ids: dict[str, int]) -> None:
        self.rule_set = rule_set
        self.post_ids = post_ids
        self.flags: dict[tuple[str, tuple[int, ...]], str] = {}
        self.sums: list[str] = []
        self.params: list[Any] = []
        self.headcount_cols: list[tuple[Headcount, int]] = []
        self.holder_cols: list[tuple[Holder, int, str]] = []

        excluded = self._ids(rule_set.full_time.excluded_posts)
        ft_flag = self.flag("not in", excluded) if excluded else "1"
        self.full_time_col = self.add_sum(f"CASE WHEN {self.category_in(rule_set.full_time.categories)} "
                                          f"AND {ft_flag} = 1 THEN 1 ELSE 0 END")
        for rule in rule_set.headcounts:
            self.headcount_cols.append((rule, self.add_sum(self.flag("in", self._ids(rule.posts)))))
        for holder in rule_set.holders:
            breach = []
            if holder.forbid_categories:
                breach.append(self.category_in(holder.forbid_categories))
            if holder.require_categories:
                breach.append("NOT " + self.category_in(holder.require_categories))
            if holder.require_posts == ANY:
                breach.append(self.flag("not in", self._ids([holder.post])) + " = 0")
            elif holder.require_posts:
                breach.append(self.flag("in", self._ids(holder.require_posts)) + " = 0")
            condition = "(" + " OR ".join(breach) + ")"
            if holder.post != ANY:
                condition = f"({self.flag('in', self._ids([holder.post]))} = 1 AND {condition})"
            self.holder_cols.append((holder, self.add_sum(f"CASE WHEN {condition} THEN 1 ELSE 0 END"), condition))

    def _ids(self, codes: Iterable[str]) -> tuple[int, ...]:
        # A post of the rule set that is not in the table yet matches nothing (-1 is no id).
        return tuple(sorted(self.post_ids.get(code, -1) for code in codes))

    def flag(self, op: str, ids: tuple[int, ...]) -> str:
        key = (op, ids)
        if key not in self.flags:
            self.flags[key] = f"h.f{len(self.flags)}"
        return self.flags[key]

    def category_in(self, categories: Sequence[str]) -> str:
        self.params.extend(categories)
        return "wk.category IN (" + ", ".join(["%s"] * len(categories)) + ")"

    def add_sum(self, expression: str) -> int:
        self.sums.append(f"SUM({expression})")
        return len(self.sums)  # column 0 is the community id

    def inner_columns(self) -> str:
        cols = []
        for (op, ids), alias in self.flags.items():
            test = "IN" if op == "in" else "NOT IN"
            cols.append(f"MAX(CASE WHEN a.post_type_id {test} ({', '.join(map(str, ids))}) THEN 1 ELSE 0 END)"
                        f" AS {alias.split('.')[1]}")
        return ", ".join(cols) if cols else "1 AS f_none"


def _tables() -> dict[str, str]:
    return {"a": Appointment._meta.db_table, "wk": Worker._meta.db_table, "d": Division._meta.db_table}


def _inner_sql(plan: _Plan, community_filter: str, extra: str = "") -> str:
    t = _tables()
    return (f"SELECT a.community_id AS c, a.worker_id AS w, {plan.inner_columns()}{extra} "
            f"FROM {t['a']} a WHERE a.start_date <= %s AND (a.end_date IS NULL OR a.end_date > %s)"
            f"{community_filter} GROUP BY a.community_id, a.worker_id")


def communities_in_scope(*, user: Any = None, scope: str = "") -> QuerySet[Division]:
    """Active communities under `scope` (a division code, any length) that `user` may view (all without user)."""
    qs = Division.objects.filter(level=Division.Level.COMMUNITY, is_active=True)
    if user is not None:
        qs = qs.restrict(user, "view")
    if scope:
        try:
            qs = qs.filter(code__startswith=normalize_code(scope))
        except DivisionCodeError:
            return qs.none()
    return qs


def evaluate(*, scope: str = "", as_of: dt.date | None = None, rule_set: RuleSet | None = None, user: Any = None,
             community: Division | None = None) -> Report:
    """Check every community of the scope on `as_of` (default today) against the rule set (default from
    settings). With `user`, only the communities that user may view; with `community`, that one alone
    (the caller has checked scope)."""
    rule_set = rule_set or load_rule_set()
    as_of = as_of or timezone.localdate()
    community_filter, filter_params = "", []
    if community is not None:
        rows = [(community.pk, community.code, community.name, community.households, community.party_org_type)]
        community_filter = f" AND a.community_id = {int(community.pk)}"
    else:
        qs = communities_in_scope(user=user, scope=scope)
        rows = list(qs.order_by("code").values_list("id", "code", "name", "households", "party_org_type"))
        if rows and (user is not None or scope):
            sub_sql, sub_params = qs.order_by().values("id").query.sql_with_params()
            community_filter, filter_params = f" AND a.community_id IN ({sub_sql})", list(sub_params)
    report = Report(rule_set=rule_set, as_of=as_of, scope=scope, communities=len(rows), findings=[])
    if not rows:
        return report

    index = post_type_index()
    plan = _Plan(rule_set, {code: pk for code, (pk, _) in index.items()})
    connection = connections[router.db_for_read(Appointment)]
    inner = _inner_sql(plan, community_filter)
    t = _tables()
    sql = (f"SELECT h.c, {', '.join(plan.sums)} FROM ({inner}) h JOIN {t['wk']} wk ON wk.id = h.w GROUP BY h.c")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*plan.params, as_of, as_of, *filter_params])
        counts = {row[0]: row for row in cursor.fetchall()}

    # A single community always runs the people query, so that its page runs a fixed number of queries.
    people = _holder_breaches(plan, counts, as_of, connection, always=[community.pk] if community else []) \
        if plan.holder_cols else {}
    zero = (0,) * (len(plan.sums) + 1)
    quota = rule_set.quota
    ft_label = rule_set.full_time.label
    findings = report.findings
    for cid, code, name, households, party_org_type in rows:
        row = counts.get(cid, zero)
        full_time = row[plan.full_time_col]
        if households is None:
            report.staffing[code] = Staffing(full_time, None, None, None)
            findings.append(Finding(code, name, quota.clause, quota.households_missing,
                                    f"户数未填写,无法按 {quota.clause} 核定社工岗数量(现有{ft_label} {full_time} 名)",
                                    "", full_time, "quota_households"))
        else:
            lo, hi = quota.range_for(households)
            report.staffing[code] = Staffing(full_time, households, lo, hi)
            if full_time > hi:
                findings.append(Finding(code, name, quota.clause, quota.above_max,
                                        f"{ft_label} {full_time} 名,超过 {households} 户社区核定的上限 {hi} 名"
                                        f"(应为 {lo}–{hi} 名)", f"{lo}–{hi}", full_time, "quota_max"))
            elif full_time < lo:
                findings.append(Finding(code, name, quota.clause, quota.below_min,
                                        f"{ft_label} {full_time} 名,低于 {households} 户社区核定的下限 {lo} 名"
                                        f"(应为 {lo}–{hi} 名)", f"{lo}–{hi}", full_time, "quota_min"))
        for rule, col in plan.headcount_cols:
            actual = row[col]
            if rule.violated(actual) and rule.applies_to(party_org_type):
                findings.append(Finding(code, name, rule.clause, rule.level,
                                        _headcount_message(rule, actual, name, party_org_type, households),
                                        rule.expected, actual, rule.id))
        for holder, col, _ in plan.holder_cols:
            if row[col]:
                for worker_id, worker_name, category, posts in people.get((cid, holder.id), ()):
                    post_names = "、".join(posts)
                    message = (holder.message or "{worker}({category})不符合 {clause} 的任职条件").format(
                        worker=worker_name, category=category, posts=post_names, name=name, clause=holder.clause)
                    findings.append(Finding(code, name, holder.clause, holder.level, message,
                                            holder.expected(rule_set.post_name), f"{category};{post_names}",
                                            holder.id, worker_id))
    findings.sort(key=lambda f: (f.level != ERROR, f.community, _clause_key(f.clause)))
    return report


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


def _holder_breaches(plan: _Plan, counts: dict[int, tuple[Any, ...]], as_of: dt.date, connection: Any, *,
                     always: list[int]) -> dict[tuple[int, str], list[tuple[int, str, str, tuple[str, ...]]]]:
    """The people behind the holder-rule counts: {(community id, rule id): [(worker id, name, category,
    post names)]}; one query for the communities where the aggregate counted a breach (for all of
    `always` in any case), the posts each person holds aggregated into the same row."""
    flagged = sorted({*always, *(cid for cid, row in counts.items() if any(row[col] for _, col, _ in plan.holder_cols))})
    if not flagged:
        return {}
    t = _tables()
    names = {pk: name for pk, name in post_type_index().values()}
    if connection.vendor == "postgresql":
        post_list = "STRING_AGG(CAST(a.post_type_id AS TEXT), ',' ORDER BY a.post_type_id)"
    else:
        post_list = "GROUP_CONCAT(a.post_type_id)"
    cases = ", ".join(f"CASE WHEN {condition} THEN 1 ELSE 0 END" for _, _, condition in plan.holder_cols)
    any_breach = " OR ".join(condition for _, _, condition in plan.holder_cols)
    found: dict[tuple[int, str], list[tuple[int, str, str, tuple[str, ...]]]] = defaultdict(list)
    for chunk in _chunks(flagged, 500):
        inner = _inner_sql(plan, f" AND a.community_id IN ({', '.join(map(str, chunk))})",
                           extra=f", {post_list} AS p")
        sql = (f"SELECT h.c, h.w, wk.name, wk.category, h.p, {cases} FROM ({inner}) h "
               f"JOIN {t['wk']} wk ON wk.id = h.w WHERE {any_breach} ORDER BY h.c, wk.name, h.w")
        # The category params appear once per use: in the CASE list, then in the WHERE.
        with connection.cursor() as cursor:
            cursor.execute(sql, [*_condition_params(plan), as_of, as_of, *_condition_params(plan)])
            breaches = cursor.fetchall()
        for community_id, worker_id, worker_name, category, post_ids, *hits in breaches:
            posts = tuple(dict.fromkeys(names.get(int(p), p) for p in sorted(str(post_ids).split(","), key=int)))
            for (holder, _, _), hit in zip(plan.holder_cols, hits, strict=True):
                if hit:
                    found[(community_id, holder.id)].append((worker_id, worker_name, category, posts))
    return found


def _condition_params(plan: _Plan) -> list[Any]:
    """The category params of the holder conditions alone, in the order the conditions use them."""
    params: list[Any] = []
    for holder, _, _ in plan.holder_cols:
        params.extend(holder.forbid_categories)
        params.extend(holder.require_categories)
    return params


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def community_report(*, community: Division, as_of: dt.date | None = None,
                     rule_set: RuleSet | None = None) -> Report:
    """The findings of one community (the caller has checked scope)."""
    return evaluate(community=community, as_of=as_of, rule_set=rule_set, scope=community.code)


def compliance_report(*, user: Any, scope: str = "", as_of: dt.date | None = None,
                      rule_set: RuleSet | None = None) -> tuple[Division | None, Report]:
    """The report for `scope` as `user` sees it: Division.DoesNotExist when the scope is not theirs (404),
    every community the user may view when no scope is given."""
    from shegong.org.selectors import division_get

    division = division_get(user=user, code=scope) if scope else None
    if division is not None and division.is_community:
        return division, community_report(community=division, as_of=as_of, rule_set=rule_set)
    report = evaluate(user=user, scope=division.code if division else "", as_of=as_of, rule_set=rule_set)
    return division, report


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
    """Per child division: communities with errors, with warnings, and findings of each level."""
    out: dict[str, dict[str, Any]] = {d.code: {"errors": set(), "warnings": set(), "error_findings": 0,
                                               "warning_findings": 0} for d in children}
    lengths = sorted({len(d.code) for d in children})
    for f in report.findings:
        for n in lengths:
            entry = out.get(f.community[:n])
            if entry is not None:
                entry["errors" if f.level == ERROR else "warnings"].add(f.community)
                entry["error_findings" if f.level == ERROR else "warning_findings"] += 1
                break
    return {code: {"errors": len(e["errors"]), "warnings": len(e["warnings"]),
                   "error_findings": e["error_findings"], "warning_findings": e["warning_findings"]}
            for code, e in out.items()}


def clause_counts(findings: Iterable[Finding]) -> list[tuple[str, int, int]]:
    """(clause, errors, warnings) in clause order."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in findings:
        counts[f.clause][0 if f.level == ERROR else 1] += 1
    return [(c, e, w) for c, (e, w) in sorted(counts.items(), key=lambda kv: _clause_key(kv[0]))]


__all__ = ["clause_counts", "compliance_report", "filter_findings", "rollup", "ERROR", "WARNING", "Finding", "Report", "Staffing", "communities_in_scope", "community_report",
           "evaluate", "expected_text"]
