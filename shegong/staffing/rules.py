"""Rule sets: the numbers of the standard as data (DESIGN habit 6).

A rule set is a TOML file (`rulesets/*.toml` beside this module, or any path). The default is
DB22/T 3226—2021; settings.SHEGONG_RULE_SET names another. Loading checks every key, post code,
category and level, so a mistyped rule set fails with the file and key named instead of producing
silently wrong findings.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from shegong.common.errors import ApplicationError
from shegong.people.models import Worker

RULESETS_DIR = Path(__file__).parent / "rulesets"
DEFAULT_RULE_SET = "db22t3226-2021"
LEVELS = ("error", "warning")
POST_CODES_FILE = Path(__file__).parent / "data" / "post_types.json"
ANY = "*"


class RuleSetError(ApplicationError):
    pass


@dataclass(frozen=True)
class Quota:
    clause: str
    base_households: int
    min_base: int
    max_base: int
    min_step: int
    max_step: int
    above_max: str
    below_min: str
    households_missing: str

    def range_for(self, households: int) -> tuple[int, int]:
        """The 社工岗 range for a community of `households` (4.1)."""
        extra = max(0, households - self.base_households)
        return self.min_base + extra // self.min_step, self.max_base + extra // self.max_step


@dataclass(frozen=True)
class FullTime:
    clause: str
    label: str
    categories: tuple[str, ...]
    excluded_posts: tuple[str, ...]


@dataclass(frozen=True)
class Headcount:
    id: str
    clause: str
    label: str
    posts: tuple[str, ...]
    level: str
    min: int | None = None
    max: int | None = None
    party_org_types: tuple[str, ...] | None = None
    party_org_types_not: tuple[str, ...] | None = None
    message: str = ""

    def applies_to(self, party_org_type: str) -> bool:
        if self.party_org_types is not None and party_org_type not in self.party_org_types:
            return False
        return not (self.party_org_types_not is not None and party_org_type in self.party_org_types_not)

    @property
    def expected(self) -> str:
        return expected_text(self.min, self.max)

    def violated(self, actual: int) -> bool:
        return (self.min is not None and actual < self.min) or (self.max is not None and actual > self.max)


@dataclass(frozen=True)
class Holder:
    id: str
    clause: str
    post: str
    level: str
    forbid_categories: tuple[str, ...] = ()
    require_categories: tuple[str, ...] = ()
    require_posts: tuple[str, ...] | str = ()
    message: str = ""

    def expected(self, post_name: Any) -> str:
        """What every holder must be, in words (post codes through post_name)."""
        parts = []
        if self.forbid_categories:
            parts.append("非" + "、".join(self.forbid_categories))
        if self.require_categories:
            parts.append("、".join(self.require_categories))
        if self.require_posts == ANY:
            parts.append("兼任本社区其他岗位")
        elif self.require_posts:
            parts.append("兼任" + "或".join(post_name(code) for code in self.require_posts))
        return ";".join(parts)


@dataclass(frozen=True)
class RuleSet:
    code: str
    version: str
    title: str
    source: str
    full_time: FullTime
    quota: Quota
    headcounts: tuple[Headcount, ...]
    holders: tuple[Holder, ...]
    post_names: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        return f"{self.code} ({self.version})"

    def post_name(self, code: str) -> str:
        return self.post_names.get(code, code)

    def clauses(self) -> list[str]:
        found = {"3.2", self.quota.clause, *(r.clause for r in self.headcounts), *(r.clause for r in self.holders)}
        return sorted(found, key=lambda c: [int(p) for p in c.split(".") if p.isdigit()])


def expected_text(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return str(lo) if lo == hi else f"{lo}–{hi}"
    if hi is not None:
        return "0" if hi == 0 else f"≤{hi}"
    if lo is not None:
        return f"≥{lo}"
    return ""


def expected_phrase(lo: int | None, hi: int | None) -> str:
    """The expected head count in words: "1 名", "5–7 名", "不超过 6 名", "不少于 3 名", "不设"."""
    if hi == 0:
        return "不设"
    if lo is not None and hi is not None:
        return f"{expected_text(lo, hi)} 名"
    return f"不超过 {hi} 名" if hi is not None else f"不少于 {lo} 名"


def _post_names() -> dict[str, str]:
    import json

    rows = json.loads(POST_CODES_FILE.read_text(encoding="utf-8"))
    return {row["code"]: row["name"] for row in rows}


class _Reader:
    """Reads one table of the file, naming the file and key in every error."""

    def __init__(self, source: str, where: str, table: Any) -> None:
        if not isinstance(table, dict):
            raise RuleSetError(f"规则集 {source}:{where} 应为表(table)")
        self.source, self.where, self.table = source, where, dict(table)

    def fail(self, key: str, rule: str) -> RuleSetError:
        return RuleSetError(f"规则集 {self.source}:{self.where}.{key} {rule}", field=key)

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "缺失")
            return default
        value = self.table.pop(key)
        if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise self.fail(key, f"应为非负整数,而不是 {value!r}")
        if kind is str and not isinstance(value, str):
            raise self.fail(key, f"应为文字,而不是 {value!r}")
        if kind is list and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise self.fail(key, f"应为文字列表,而不是 {value!r}")
        return tuple(value) if kind is list else value

    def tables(self, key: str) -> list[Any]:
        value = self.table.pop(key, [])
        if not isinstance(value, list):
            raise self.fail(key, "应为表数组([[...]])")
        return value

    def level(self, key: str = "level") -> str:
        value = self.get(key, str)
        if value not in LEVELS:
            raise self.fail(key, f"应为 error 或 warning,而不是 {value!r}")
        return str(value)

    def posts(self, key: str, names: dict[str, str], *, allow_any: bool = False, default: Any = ...) -> Any:
        raw = self.table.get(key, default)
        if allow_any and raw == ANY:
            self.table.pop(key, None)
            return ANY
        value = self.get(key, list, default)
        for code in value:
            if code not in names:
                raise self.fail(key, f"中的岗位代码“{code}”不存在(可用:{'、'.join(names)})")
        return value

    def categories(self, key: str, default: Any = ...) -> tuple[str, ...]:
        value: tuple[str, ...] = self.get(key, list, default)
        for category in value:
            if category not in Worker.Category.values:
                raise self.fail(key, f"中的人员类别“{category}”不存在(可用:{'、'.join(Worker.Category.values)})")
        return value

    def done(self) -> None:
        if self.table:
            raise self.fail(next(iter(self.table)), "不是可识别的规则项")


def parse_rule_set(data: dict[str, Any], *, source: str) -> RuleSet:
    names = _post_names()
    top = _Reader(source, "(顶层)", data)
    code, version, title = top.get("code", str), top.get("version", str), top.get("title", str, "")

    r = _Reader(source, "full_time", top.table.pop("full_time", None))
    full_time = FullTime(clause=r.get("clause", str), label=r.get("label", str, "专职社区工作者"),
                         categories=r.categories("categories"), excluded_posts=r.posts("excluded_posts", names))
    r.done()

    r = _Reader(source, "quota", top.table.pop("quota", None))
    quota = Quota(clause=r.get("clause", str), base_households=r.get("base_households", int),
                  min_base=r.get("min_base", int), max_base=r.get("max_base", int),
                  min_step=r.get("min_step", int), max_step=r.get("max_step", int),
                  above_max=r.level("above_max"), below_min=r.level("below_min"),
                  households_missing=r.level("households_missing"))
    if quota.min_step == 0 or quota.max_step == 0:
        raise r.fail("min_step", "与 max_step 不能为 0")
    if quota.min_base > quota.max_base:
        raise r.fail("min_base", f"({quota.min_base})大于 max_base({quota.max_base})")
    r.done()

    ids: set[str] = set()

    def unique_id(reader: _Reader) -> str:
        value = str(reader.get("id", str))
        if value in ids:
            raise reader.fail("id", f"“{value}”重复")
        ids.add(value)
        return value

    headcounts = []
    for i, table in enumerate(top.tables("headcount")):
        r = _Reader(source, f"headcount[{i}]", table)
        rule = Headcount(id=unique_id(r), clause=r.get("clause", str), label=r.get("label", str),
                         posts=r.posts("posts", names), level=r.level(),
                         min=r.get("min", int, None), max=r.get("max", int, None),
                         party_org_types=r.get("party_org_types", list, None),
                         party_org_types_not=r.get("party_org_types_not", list, None),
                         message=r.get("message", str, ""))
        if rule.min is None and rule.max is None:
            raise r.fail("min", "与 max 至少要有一个")
        if rule.min is not None and rule.max is not None and rule.min > rule.max:
            raise r.fail("min", f"({rule.min})大于 max({rule.max})")
        if not rule.posts:
            raise r.fail("posts", "不能为空")
        r.done()
        headcounts.append(rule)

    holders = []
    for i, table in enumerate(top.tables("holder")):
        r = _Reader(source, f"holder[{i}]", table)
        post = r.table.get("post")
        if post != ANY and post not in names:
            raise r.fail("post", f"岗位代码“{post}”不存在")
        r.table.pop("post", None)
        holder = Holder(id=unique_id(r), clause=r.get("clause", str), post=str(post), level=r.level(),
                        forbid_categories=r.categories("forbid_categories", ()),
                        require_categories=r.categories("require_categories", ()),
                        require_posts=r.posts("require_posts", names, allow_any=True, default=()),
                        message=r.get("message", str, ""))
        if not (holder.forbid_categories or holder.require_categories or holder.require_posts):
            raise r.fail("require_posts", "、require_categories、forbid_categories 至少要有一个")
        r.done()
        holders.append(holder)
    top.done()
    return RuleSet(code=code, version=version, title=title, source=source, full_time=full_time, quota=quota,
                   headcounts=tuple(headcounts), holders=tuple(holders), post_names=names)


def rule_set_path(name: str) -> Path:
    candidate = Path(name)
    if candidate.suffix == ".toml" and candidate.exists():
        return candidate
    bundled = RULESETS_DIR / f"{name}.toml"
    if bundled.exists():
        return bundled
    available = "、".join(sorted(p.stem for p in RULESETS_DIR.glob("*.toml")))
    raise RuleSetError(f"找不到规则集“{name}”(内置:{available};也可以给出 .toml 文件路径)", field="rule_set")


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime: float) -> RuleSet:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"规则集 {Path(path).name} 不是有效的 TOML:{exc}") from exc
    return parse_rule_set(data, source=Path(path).name)


def load_rule_set(name: str | None = None) -> RuleSet:
    """The rule set `name` (a bundled name such as "db22t3226-2021", or a .toml path); default from settings."""
    path = rule_set_path(name or getattr(settings, "SHEGONG_RULE_SET", "") or DEFAULT_RULE_SET)
    return _load(str(path.resolve()), path.stat().st_mtime)


def quota_range(households: int, rule_set: RuleSet | None = None) -> tuple[int, int]:
    return (rule_set or load_rule_set()).quota.range_for(households)
