"""Compliance at scale: the staffing check (shegong/staffing/compliance.py) over a national dataset on
PostgreSQL and a province on SQLite, next to the bare aggregate query it cannot beat.

    python bench/compliance_bench.py                      # nation on PostgreSQL + province on SQLite
    python bench/compliance_bench.py --reuse              # keep the national database when it holds the dataset
    python bench/compliance_bench.py --province-pg        # also the province on PostgreSQL
    python bench/compliance_bench.py --datasets province-sqlite --repeat 3
    python bench/compliance_bench.py --reuse --communities 12000 --streets 800   # a smaller "nation",
                                                          # in its own database shegong_national_12000

Datasets (made by bench/national_data.py, each in the bench's own database — never `test`):
nation-pg = 120,000 communities / ~1.8 M workers / ~2.2 M appointments in PostgreSQL database
shegong_national (dropped and regenerated unless --reuse finds it complete; generation takes minutes);
province-sqlite = Jilin, 1,500 communities, in /tmp/shegong_bench_national/province.sqlite3;
province-pg = the same province in PostgreSQL database shegong_province.

What is timed, per dataset (median of --repeat runs after one warm-up, in-process, as-of today):
- bare query: the single aggregate counting active appointments per community and post type,
  `SELECT community_id, post_type_id, COUNT(*) FROM staffing_appointment WHERE start_date <= %s AND
  (end_date IS NULL OR end_date > %s) GROUP BY 1, 2`, fetched fully through Django's connection;
- evaluate: `evaluate(scope="", as_of=…)` — every community, no user (unrestricted);
- command: `call_command("compliance", "--format", "json", "--output", FILE, "--as-of", …)`, i.e.
  `shegong check --format json --output FILE` (its SystemExit(1) on error-level findings is caught);
- API street: GET /api/v1/compliance?scope=<9-digit street>&as_of=… through django.test.Client with a
  Bearer token of a civil-affairs user scoped to the street's province.

Goals: nation on PostgreSQL under 10 s and within 3× of the bare query (the command, and evaluate);
province on SQLite under 1 s; one street through the API under 100 ms.

Every dataset runs in its own child process (Django is set up once per process, for one database); the
parent prints the markdown tables. Also printed: EXPLAIN ANALYZE of the bare query, the queries of one
evaluate() and one API request with their times, the plan of the slowest of each on PostgreSQL, and the
seeded problems of the dataset against the communities the check flagged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.utils import timezone

from shegong.access import system_actor

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import national_data as nd  # noqa: E402

PG_PROVINCE = "postgresql://postgres@127.0.0.1:5432/shegong_province"
DATASETS = {  # name -> (kind, database URL for the standard size; nd.default_url names the others)
    "nation-pg": ("national", nd.PG_NATIONAL),
    "province-sqlite": ("province", f"sqlite:///{nd.SQLITE_PROVINCE}"),
    "province-pg": ("province", PG_PROVINCE),
}
BARE_SQL = ("SELECT community_id, post_type_id, COUNT(*) FROM staffing_appointment "
            "WHERE start_date <= %s AND (end_date IS NULL OR end_date > %s) GROUP BY 1, 2")
GOAL_NATION_S = 10.0
GOAL_RATIO = 3.0
GOAL_PROVINCE_S = 1.0
GOAL_API_MS = 100.0
BENCH_USER = "bench_compliance"


# ---- the child: one dataset ---------------------------------------------------------------------------


LOADS: dict[str, tuple[float, float]] = {}  # measurement -> 1-minute load average before and after


def _timed(fn: Any, repeat: int, label: str = "") -> tuple[list[float], Any]:
    """One warm-up, then `repeat` timed calls; (seconds of each, the last result). Notes the machine's load."""
    before = os.getloadavg()[0]
    result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    if label:
        LOADS[label] = (before, os.getloadavg()[0])
    return times, result


def _captured(fn: Any) -> tuple[list[dict[str, Any]], Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return [{"sql": q["sql"], "ms": float(q["time"]) * 1000} for q in ctx.captured_queries], result


def _explain(sql: str, params: list[Any] | None = None) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            return "\n".join(r[0] for r in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(r[-1]) for r in cursor.fetchall())


def _database_info() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
            settings = {}
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather",
                         "jit"):
                cursor.execute(f"SHOW {name}")
                settings[name] = cursor.fetchone()[0]
            return {"version": version, "settings": settings}
        cursor.execute("select sqlite_version()")
        return {"version": f"SQLite {cursor.fetchone()[0]}", "settings": {}}


def _counts() -> dict[str, int]:
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for key, sql in (("communities", "SELECT COUNT(*) FROM org_division WHERE level = 'community'"),
                         ("workers", "SELECT COUNT(*) FROM people_worker"),
                         ("appointments", "SELECT COUNT(*) FROM staffing_appointment")):
            cursor.execute(sql)
            out[key] = cursor.fetchone()[0]
    return out


def _pick_street(problems: dict[str, list[str]]) -> str:
    """A typical street of Jilin (22): at least the median number of communities, and two with a seeded problem."""
    from django.db.models import Count

    from shegong.org.models import Division

    streets = list(Division.objects.filter(level="street", code__startswith="22").order_by("code")
                   .annotate(n=Count("children")).values_list("code", "n"))
    median = statistics.median(n for _, n in streets)
    flagged: dict[str, int] = defaultdict(int)
    for codes in problems.values():
        for code in set(codes):
            flagged[code[:9]] += 1
    for code, n in streets:
        if n >= median and flagged[code] >= 2:
            return code
    return streets[len(streets) // 2][0]


def _api_user(province: str) -> str:
    from shegong.accounts.models import User
    from shegong.accounts.services import token_create, user_create

    user = User.objects.filter(username=f"{BENCH_USER}_{province}").first()
    if user is None:
        user = user_create(actor=system_actor("command"), username=f"{BENCH_USER}_{province}", password="Bench@2021-compliance",
                           role="civil_affairs", scope=province, display_name="compliance bench", validate=False)
    return token_create(actor=system_actor("command"), user=user, name="compliance bench")


def _crosscheck(findings: list[Any], problems: dict[str, list[str]]) -> dict[str, Any]:
    """Seeded problems against the communities each expected rule flagged; findings outside seeded communities."""
    by_rule: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        by_rule[f.rule].add(f.community)
    seeded_all = set().union(*map(set, problems.values())) if problems else set()
    rows = []
    for kind, codes in problems.items():
        rule = nd.EXPECTED_RULE[kind]
        codes_set = set(codes)
        rows.append({"problem": kind, "rule": rule, "seeded": len(codes_set),
                     "found": len(codes_set & by_rule[rule])})
    clean: dict[str, int] = defaultdict(int)
    for f in findings:
        if f.community not in seeded_all:
            clean[f.rule] += 1
    by_rule_counts = defaultdict(int)
    for f in findings:
        by_rule_counts[f.rule] += 1
    return {"rows": rows, "clean_findings": dict(clean), "by_rule": dict(sorted(by_rule_counts.items()))}


def child(args: argparse.Namespace) -> int:
    kind, url = DATASETS[args.child]
    base = nd.NATIONAL if kind == "national" else nd.PROVINCE
    if kind == "national" and (args.communities or args.streets):
        base = nd.Scale("national", args.communities or base.communities, args.streets or base.streets)
        url = nd.default_url(base)
    scale = nd.Scale(base.kind, base.communities, base.streets, args.seed, args.problem_rate)
    load = nd.generate(url, scale, jobs=max(1, args.jobs), reuse=args.reuse)

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from shegong.staffing.compliance import evaluate

    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else timezone.localdate()
    out: dict[str, Any] = {"dataset": args.child, "database": load.database, "info": _database_info(),
                           "load": {"reused": load.reused, "seconds": load.seconds, "counts": load.counts,
                                    "generated_at": load.generated_at, "peak_rss_mib": load.peak_rss_mib,
                                    "reuse_migrate_s": load.reuse_migrate_s},
                           "counts": _counts(), "as_of": as_of.isoformat(), "repeat": args.repeat}
    print(f"[{args.child}] dataset ready: {out['counts']}", file=sys.stderr, flush=True)

    # 1. the bare aggregate
    def bare() -> int:
        with connection.cursor() as cursor:
            cursor.execute(BARE_SQL, [as_of, as_of])
            return len(cursor.fetchall())

    times, groups = _timed(bare, args.repeat, "bare")
    out["bare"] = {"times": times, "groups": groups}
    t0 = time.perf_counter()
    out["bare"]["explain"] = _explain(BARE_SQL, [as_of, as_of])
    out["bare"]["explain_wall_ms"] = (time.perf_counter() - t0) * 1000
    print(f"[{args.child}] bare query {statistics.median(times):.3f} s", file=sys.stderr, flush=True)

    # 2. evaluate over everything
    times, report = _timed(lambda: evaluate(scope="", as_of=as_of), args.repeat, "evaluate")
    out["evaluate"] = {"times": times, "communities": report.communities, "findings": len(report.findings),
                       "errors": report.errors, "warnings": report.warnings}
    out["crosscheck"] = _crosscheck(report.findings, load.problems)
    del report
    queries, _ = _captured(lambda: evaluate(scope="", as_of=as_of))
    out["evaluate"]["queries"] = queries
    if connection.vendor == "postgresql" and queries:
        slowest = max(queries, key=lambda q: q["ms"])
        out["evaluate"]["explain_slowest"] = _explain(slowest["sql"])
    print(f"[{args.child}] evaluate {statistics.median(times):.3f} s", file=sys.stderr, flush=True)

    # 3. the whole command, as `shegong check --format json --output FILE`
    with tempfile.TemporaryDirectory(prefix="shegong_compliance_") as tmp:
        path = os.path.join(tmp, "report.json")

        def command() -> int:
            try:
                call_command("compliance", "--format", "json", "--output", path, "--as-of", as_of.isoformat(),
                             stdout=io.StringIO(), stderr=io.StringIO())
            except SystemExit as exc:
                return int(exc.code or 0)
            return 0

        times, code = _timed(command, args.repeat, "command")
        size = os.path.getsize(path)
        with open(path, encoding="utf-8") as fh:
            written = len(json.load(fh)["findings"])
    out["command"] = {"times": times, "exit": code, "bytes": size, "findings": written}
    print(f"[{args.child}] command {statistics.median(times):.3f} s", file=sys.stderr, flush=True)

    # 4. one street through the API
    street = _pick_street(load.problems)
    token = _api_user(street[:2])
    client = Client(SERVER_NAME="127.0.0.1")
    url_path = f"/api/v1/compliance?scope={street}&as_of={as_of.isoformat()}"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    times, response = _timed(lambda: client.get(url_path, **headers), args.repeat, "api")
    body = response.json() if response.status_code == 200 else {}
    queries, _ = _captured(lambda: client.get(url_path, **headers))
    out["api"] = {"times": times, "status": response.status_code, "street": street, "path": url_path,
                  "communities": body.get("communities"), "findings": len(body.get("findings", [])),
                  "queries": queries}
    if response.status_code != 200:
        out["api"]["body"] = response.content[:500].decode("utf-8", "replace")
    if connection.vendor == "postgresql" and queries:
        slowest = max(queries, key=lambda q: q["ms"])
        out["api"]["explain_slowest"] = _explain(slowest["sql"])
    print(f"[{args.child}] API street {statistics.median(times) * 1000:.1f} ms", file=sys.stderr, flush=True)

    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["loads"] = LOADS
    Path(args.result).write_text(json.dumps(out, ensure_ascii=False, default=str))
    return 0


# ---- the parent: children and tables -----------------------------------------------------------------


def _median(times: list[float]) -> float:
    return statistics.median(times)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}" if seconds >= 0.1 else f"{seconds * 1000:,.1f}"


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def _summary_lines(plan: str) -> list[str]:
    lines = plan.splitlines()
    keep = [lines[0].strip()] if lines else []
    keep += [ln.strip() for ln in lines if ln.strip().startswith(("Planning Time", "Execution Time", "JIT:"))]
    return keep


def _sql_head(sql: str, n: int = 160) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= n else flat[:n] + " …"


def report(results: list[dict[str, Any]], args: argparse.Namespace, load_at_start: float) -> None:
    print(f"## Compliance bench — as of {results[0]['as_of']}, median of {args.repeat} after one warm-up "
          f"(1-minute load average {load_at_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end; "
          f"{os.cpu_count()} CPUs)\n")
    print("| dataset | database | communities | workers | appointments | findings (error / warning) "
          "| bare query ms | evaluate ms | command ms | evaluate ÷ bare | command ÷ bare | API one street ms |")
    print("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        c, b, e, m, a = r["counts"], _median(r["bare"]["times"]), _median(r["evaluate"]["times"]), \
            _median(r["command"]["times"]), _median(r["api"]["times"])
        ev = r["evaluate"]
        print(f"| {r['dataset']} | {r['info']['version']} | {c['communities']:,} | {c['workers']:,} | "
              f"{c['appointments']:,} | {ev['findings']:,} ({ev['errors']:,} / {ev['warnings']:,}) | {_ms(b)} | "
              f"{_ms(e)} | {_ms(m)} | {e / b:.1f}× | {m / b:.1f}× | {a * 1000:.1f} |")

    print("\n### Goals\n\n| goal | measured | met |\n|---|---|:-:|")
    by = {r["dataset"]: r for r in results}
    if "nation-pg" in by:
        r = by["nation-pg"]
        b, e, m = _median(r["bare"]["times"]), _median(r["evaluate"]["times"]), _median(r["command"]["times"])
        print(f"| nation on PostgreSQL: command under {GOAL_NATION_S:.0f} s | {m:.2f} s | {_mark(m < GOAL_NATION_S)} |")
        print(f"| nation on PostgreSQL: evaluate under {GOAL_NATION_S:.0f} s | {e:.2f} s | {_mark(e < GOAL_NATION_S)} |")
        print(f"| nation on PostgreSQL: command within {GOAL_RATIO:.0f}× of the bare query ({b:.2f} s) "
              f"| {m / b:.1f}× | {_mark(m / b <= GOAL_RATIO)} |")
        print(f"| nation on PostgreSQL: evaluate within {GOAL_RATIO:.0f}× of the bare query | {e / b:.1f}× "
              f"| {_mark(e / b <= GOAL_RATIO)} |")
    if "province-sqlite" in by:
        r = by["province-sqlite"]
        e, m = _median(r["evaluate"]["times"]), _median(r["command"]["times"])
        print(f"| province on SQLite: command under {GOAL_PROVINCE_S:.0f} s | {m:.3f} s | {_mark(m < GOAL_PROVINCE_S)} |")
        print(f"| province on SQLite: evaluate under {GOAL_PROVINCE_S:.0f} s | {e:.3f} s | {_mark(e < GOAL_PROVINCE_S)} |")
    for r in results:
        a = _median(r["api"]["times"]) * 1000
        print(f"| {r['dataset']}: one street through the API under {GOAL_API_MS:.0f} ms | {a:.1f} ms "
              f"| {_mark(a < GOAL_API_MS)} |")

    for r in results:
        print(f"\n### {r['dataset']} — {r['database']} ({r['info']['version']})\n")
        if r["info"]["settings"]:
            print("server settings: " + ", ".join(f"{k} {v}" for k, v in r["info"]["settings"].items()))
        load = r["load"]
        how = (f"reused (generated {load['generated_at']}; migrate on reuse {load['reuse_migrate_s']:.1f} s)"
               if load["reused"] else "generated in this run")
        print(f"dataset {how}; measuring process peak RSS {r['peak_rss_mib']:.0f} MiB")
        print("1-minute load average before → after each measurement: "
              + ", ".join(f"{k} {a:.2f} → {b:.2f}" for k, (a, b) in r["loads"].items()))
        if load["peak_rss_mib"]:
            print("generation peak RSS (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in load["peak_rss_mib"].items()))
        print("\n| generation step | seconds |\n|---|---:|")
        for step, secs in load["seconds"].items():
            print(f"| {step} | {secs:.1f} |")
        ev, cmd, api = r["evaluate"], r["command"], r["api"]
        print(f"\nbare query: {r['bare']['groups']:,} groups; times (s) "
              + ", ".join(f"{t:.3f}" for t in r["bare"]["times"]))
        print("EXPLAIN ANALYZE of the bare query (summary):" if r["info"]["settings"] else
              "query plan of the bare query (SQLite has no EXPLAIN ANALYZE; its times are above):")
        print("```\n" + "\n".join(_summary_lines(r["bare"]["explain"])) + "\n```")
        print(f"evaluate: {ev['communities']:,} communities, {ev['findings']:,} findings; times (s) "
              + ", ".join(f"{t:.3f}" for t in ev["times"]))
        in_db = sum(q["ms"] for q in ev["queries"])
        print(f"evaluate's queries (one captured run): {len(ev['queries'])}, {in_db:,.0f} ms in the database")
        for q in sorted(ev["queries"], key=lambda q: -q["ms"])[:5]:
            print(f"- {q['ms']:,.1f} ms: `{_sql_head(q['sql'])}`")
        print(f"\ncommand: exit {cmd['exit']}, {cmd['bytes'] / 1e6:.1f} MB of JSON with {cmd['findings']:,} findings; "
              "times (s) " + ", ".join(f"{t:.3f}" for t in cmd["times"]))
        print(f"\nAPI `{api['path']}`: status {api['status']}, {api['communities']} communities, "
              f"{api['findings']} findings, {len(api['queries'])} queries "
              f"({sum(q['ms'] for q in api['queries']):.1f} ms in the database); times (ms) "
              + ", ".join(f"{t * 1000:.1f}" for t in api["times"]))
        if api.get("body"):
            print(f"response: {api['body']}")
        for q in sorted(api["queries"], key=lambda q: -q["ms"])[:3]:
            print(f"- {q['ms']:,.1f} ms: `{_sql_head(q['sql'])}`")
        cc = r["crosscheck"]
        print("\nseeded problems against findings:\n\n| seeded problem | expected rule | communities seeded | flagged |\n"
              "|---|---|---:|---:|")
        for row in cc["rows"]:
            print(f"| {row['problem']} | {row['rule']} | {row['seeded']:,} | {row['found']:,} |")
        clean = ", ".join(f"{k} {v}" for k, v in cc["clean_findings"].items()) or "none"
        print(f"\nfindings in communities seeded with no problem: {clean}")
        print("findings by rule: " + ", ".join(f"{k} {v:,}" for k, v in cc["by_rule"].items()))
        if args.plans:
            print("\n<details><summary>plans</summary>\n")
            print("bare query:\n```\n" + r["bare"]["explain"] + "\n```")
            if ev.get("explain_slowest"):
                print("slowest query of evaluate:\n```\n" + ev["explain_slowest"] + "\n```")
            if api.get("explain_slowest"):
                print("slowest query of the API request:\n```\n" + api["explain_slowest"] + "\n```")
            print("</details>")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="nation-pg,province-sqlite",
                        help=f"comma-separated, of {', '.join(DATASETS)} (default nation-pg,province-sqlite)")
    parser.add_argument("--province-pg", action="store_true", help="also the province on PostgreSQL")
    parser.add_argument("--reuse", action="store_true",
                        help="keep a database that already holds its dataset (same size, seed, version, keys)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--as-of", default="", help="YYYY-MM-DD (default today)")
    parser.add_argument("--plans", action="store_true", help="print the full plans (bare, slowest evaluate and API query)")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--child", choices=list(DATASETS), help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    nd.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.child:
        return child(args)

    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    if args.province_pg and "province-pg" not in names:
        names.append("province-pg")
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset(s): {', '.join(unknown)}")
    results = []
    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="shegong_compliance_bench_") as tmp:
        for name in names:
            path = os.path.join(tmp, f"{name}.json")
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--result", path,
                   "--repeat", str(args.repeat), "--seed", str(args.seed), "--problem-rate", str(args.problem_rate),
                   "--jobs", str(args.jobs)]
            for flag, value in (("--as-of", args.as_of), ("--communities", args.communities),
                                ("--streets", args.streets)):
                if value:
                    cmd += [flag, str(value)]
            if args.reuse:
                cmd.append("--reuse")
            print(f"== {name}", file=sys.stderr, flush=True)
            done = subprocess.run(cmd, cwd=ROOT, stdout=sys.stderr, check=False)
            if done.returncode != 0:
                print(f"{name}: the child failed with exit code {done.returncode}", file=sys.stderr)
                return done.returncode
            results.append(json.loads(Path(path).read_text()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    report(results, args, load_at_start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
