"""`shegong quota HOUSEHOLDS`: the 社工岗 range of clause 4.1 for a community of that many households."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shegong.common.errors import ApplicationError
from shegong.staffing.rules import load_rule_set


class Command(BaseCommand):
    help = "按规则集(默认 DB22/T 3226—2021 第 4.1 条)给出某户数社区的社工岗数量范围"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("households", help="社区户数")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--rule-set", default="", help="规则集名称或 .toml 文件路径")

    def handle(self, *args: Any, **opts: Any) -> None:
        raw = str(opts["households"]).strip()
        if not raw.isdigit():
            raise CommandError(f"户数“{raw}”无效,应为非负整数")
        households = int(raw)
        try:
            rule_set = load_rule_set(opts["rule_set"] or None)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        lo, hi = rule_set.quota.range_for(households)
        if opts["format"] == "json":
            self.stdout.write(json.dumps({"households": households, "min": lo, "max": hi,
                                          "clause": rule_set.quota.clause}, ensure_ascii=False))
        else:
            self.stdout.write(f"{households} 户:社工岗 {lo}–{hi} 个({rule_set.code} 第 {rule_set.quota.clause} 条)")
