"""`shegong check` (this command; `shegong compliance` is the same): every community in a scope checked
against the staffing rule set (clauses 3.2, 4). Exit 0 when there is no error-level finding, 1 otherwise."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shegong.common.commands import scope_option, table_lines
from shegong.common.errors import ApplicationError
from shegong.org.models import Division
from shegong.staffing.compliance import LEVEL_NAMES, Report, evaluate
from shegong.staffing.exporters import write_report
from shegong.staffing.rules import load_rule_set


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of 日期“{value}”无效,应为 YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "按规则集(默认 DB22/T 3226—2021)核查范围内每个社区的岗位设置;有错误级问题时退出码为 1"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scope", default="", help="区划代码(省、市、区、街道或社区);默认全部")
        parser.add_argument("--as-of", default="", help="核查日期 YYYY-MM-DD,默认今天")
        parser.add_argument("--format", choices=["table", "json", "xlsx"], default="table")
        parser.add_argument("--output", default="", help="输出文件(xlsx 必须给出);默认标准输出")
        parser.add_argument("--rule-set", default="", help="规则集名称或 .toml 文件路径;默认 SHEGONG_RULE_SET")

    def handle(self, *args: Any, **opts: Any) -> None:
        as_of = _date(opts["as_of"]) if opts["as_of"] else None
        scope = scope_option(opts["scope"])
        if scope and not Division.objects.filter(code=scope).exists():
            raise CommandError(f"区划代码 {scope} 不存在")
        if opts["format"] == "xlsx" and not opts["output"]:
            raise CommandError("xlsx 格式需要 --output 文件名")
        try:
            rule_set = load_rule_set(opts["rule_set"] or None)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        report = evaluate(scope=scope, as_of=as_of, rule_set=rule_set)
        if opts["format"] == "xlsx":
            with open(opts["output"], "wb") as fh:
                write_report(fh, report)
            self.stderr.write(f"已写入 {opts['output']}:{_summary(report)}")
        else:
            text = _json(report) if opts["format"] == "json" else _table(report)
            if opts["output"]:
                with open(opts["output"], "w", encoding="utf-8") as fh:
                    fh.write(text)
                self.stderr.write(f"已写入 {opts['output']}:{_summary(report)}")
            else:
                self.stdout.write(text, ending="")
        if report.errors:
            sys.exit(1)


def _json(report: Report) -> str:
    """The report as JSON, one finding per line: readable, and written by the C encoder (a nation's
    36,000 findings in a few hundredths of a second, where indent= would take the pure-Python one)."""
    head = report.as_dict()
    findings = head.pop("findings")
    lines = [json.dumps(f, ensure_ascii=False) for f in findings]
    body = json.dumps(head, ensure_ascii=False)[:-1]
    return body + ', "findings": [' + ("\n  " + ",\n  ".join(lines) + "\n" if lines else "") + "]}\n"


def _summary(report: Report) -> str:
    return (f"{report.communities} 个社区,{report.communities_with('error')} 个有错误、"
            f"{report.communities_with('warning')} 个有提示;错误 {report.errors} 条,提示 {report.warnings} 条")


def _table(report: Report) -> str:
    lines = [f"规则集 {report.rule_set.label} · 核查日期 {report.as_of.isoformat()} · 范围 {report.scope or '全部'}",
             _summary(report), ""]
    if not report.findings:
        lines.append("未发现问题。")
        return "\n".join(lines) + "\n"
    rows = [(f.community, f.name, f.clause, LEVEL_NAMES[f.level], f.message) for f in report.findings]
    head = ("区划代码", "社区", "条款", "级别", "问题")
    lines += table_lines([head, *rows], last_free=True)
    return "\n".join(lines) + "\n"
