"""The archive rules as data (data/archive_rules.toml): class names, the required items, the
qualification cycle, attachment limits and sanction periods."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

RULES_FILE = Path(__file__).parent / "data" / "archive_rules.toml"


@dataclass(frozen=True)
class RequiredItem:
    code: str
    name: str
    archive_class: int


@dataclass(frozen=True)
class ArchiveRules:
    version: str
    classes: dict[int, str]
    required: tuple[RequiredItem, ...]
    cycle_years: int
    warn_days: int
    qualification_hours: dict[str, int]
    max_bytes: int
    types: tuple[str, ...]
    sanction_months: dict[str, int]

    def required_item(self, code: str) -> RequiredItem | None:
        return next((r for r in self.required if r.code == code), None)


@functools.lru_cache(maxsize=1)
def archive_rules() -> ArchiveRules:
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    return ArchiveRules(
        version=data["version"],
        classes={int(k): v for k, v in data["classes"].items()},
        required=tuple(RequiredItem(r["code"], r["name"], int(r["class"])) for r in data["required"]),
        cycle_years=int(data["qualification"]["cycle_years"]),
        warn_days=int(data["qualification"]["warn_days"]),
        qualification_hours={lv["name"]: int(lv["hours"]) for lv in data["qualification"]["levels"]},
        max_bytes=int(data["attachments"]["max_bytes"]),
        types=tuple(data["attachments"]["types"]),
        sanction_months={k: int(v) for k, v in data["sanctions"].items()},
    )
