"""Time the main pages and API lists on a province-scale dataset (DESIGN habit 10: timing goals live here).

    python bench/pages.py                                   # fresh SQLite file under /tmp
    python bench/pages.py --database-url postgresql://postgres@127.0.0.1:5432/shegong_bench
    python bench/pages.py --communities 300 --workers 4000 --repeat 3
    python bench/pages.py --only workers --workers 10000 --communities 750 --repeat 20 --profile 25

`--only workers` times just the worker list and a worker page (and skips loading the archives);
`--profile N` runs each timed page once more under cProfile and prints its N costliest functions
(cumulative time), to see where a page's time goes (templates, decryption, history, queries).

Each run builds a fresh database: a new SQLite file, or on PostgreSQL a dedicated database (default
name shegong_bench) that is created, and dropped afterwards, through the server's `postgres`
database. The database named `test` (the suite's) is never touched. Then it migrates, loads
bench/scale_data.py, creates one civil-affairs admin on the province, one street admin and one
community admin with an API token each, and requests every page as every user with django.test.Client:
one warm-up, one request that counts queries, then --repeat timed requests (median and p95).

Pages whose median is over --slow ms are listed with their slowest queries; --explain adds the
database's plan of the slowest one.
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shegong.access import system_actor

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "shegong_bench"
FORBIDDEN_DATABASES = {"test", "postgres", "template0", "template1"}


@dataclass
class Result:
    page: str
    user: str
    status: int
    queries: int
    times_ms: list[float]
    captured: list[dict[str, Any]] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)

    @property
    def cpu_median(self) -> float:
        """This process's CPU time: on a machine shared with other jobs, steadier than the wall clock
        (SQLite's work is in-process and counted; a PostgreSQL server's is not)."""
        return statistics.median(self.cpu_ms)

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


# ---- database setup (before django.setup) ---------------------------------------------------------


def _pg_admin_url(url: str) -> tuple[str, str]:
    """(URL of the server's `postgres` database, name of the bench database) for a PostgreSQL URL."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or PG_BENCH_DB
    if name == "postgres":
        name = PG_BENCH_DB
    if name in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing to use the database {name!r}; pick a dedicated one such as {PG_BENCH_DB}")
    return urlunsplit(parts._replace(path="/postgres")), name


def _pg_recreate(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0")
                         .format(sql.Identifier(name)))


def _prepare_database(url: str | None, workdir: Path) -> tuple[str, Any]:
    """Point DATABASE_URL at a fresh database; return it and a cleanup callable."""
    if url and url.startswith(("postgres://", "postgresql://", "pgsql://")):
        admin_url, name = _pg_admin_url(url)
        _pg_recreate(admin_url, name)
        db_url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
        return db_url, lambda: _pg_recreate(admin_url, name, drop_only=True)
    if url:
        path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:") else Path(url)
        if path.exists():
            raise SystemExit(f"{path} exists; the benchmark needs a fresh database file")
        return f"sqlite:///{path}", lambda: None
    path = workdir / "bench.sqlite3"
    return f"sqlite:///{path}", lambda: None


def _environment(db_url: str, workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = db_url
    # Own keys and var dir, so the run neither reads nor writes the repository's var/keys.json.
    os.environ["SHEGONG_VAR_DIR"] = str(workdir)
    (workdir / "static").mkdir(exist_ok=True)  # STATIC_ROOT; WhiteNoise warns when it is missing
    os.environ.setdefault("SHEGONG_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("SHEGONG_FIELD_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("SHEGONG_HASH_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("SHEGONG_LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


# ---- after django.setup ---------------------------------------------------------------------------


def _database_label() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
        cursor.execute("select sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def _fixtures() -> dict[str, Any]:
    """The three users, their tokens, and the pages below the community admin's community."""
    from shegong.accounts.services import token_create, user_create
    from shegong.org.models import Division
    from shegong.people.models import Worker
    from shegong.staffing.models import Appointment

    # The community admin's community: in 南关区 (220102), a typical one with a current secretary.
    candidates = list(Division.objects.filter(level="community", code__startswith="220102").order_by("code"))
    with_secretary = set(Appointment.objects.filter(post_type__code="party_secretary", end_date__isnull=True,
                                                    community__in=candidates).values_list("community_id", flat=True))
    candidates = [c for c in candidates if c.pk in with_secretary] or candidates
    community = candidates[len(candidates) // 2]
    street = community.parent
    district = street.parent
    secretary = (Appointment.objects.filter(community=community, post_type__code="party_secretary",
                                            end_date__isnull=True).select_related("worker").first())
    worker = secretary.worker if secretary else Worker.objects.filter(community=community).first()
    # A name fragment that exists in every user's scope: the given name's first character of a worker there.
    fragment = worker.name[1]
    specs = [("province", "civil_affairs", "22"), ("street", "street_admin", street.code),
             ("community", "community_admin", community.code)]
    users, tokens = {}, {}
    for username, role, scope in specs:
        users[username] = user_create(actor=system_actor("command"), username=f"bench_{username}", password="Bench@2021-pages", role=role,
                                      scope=scope, display_name=f"bench {username}", validate=False)
        tokens[username] = token_create(actor=system_actor("command"), user=users[username], name="bench")
    pages = [
        "/", "/divisions/", "/divisions/22/", f"/divisions/{district.code}/", f"/divisions/{street.code}/",
        f"/divisions/{community.code}/", "/workers/", f"/workers/?q={fragment}", "/workers/?page=50",
        f"/workers/{worker.pk}/",
    ]
    api = ["/api/v1/workers?limit=50", "/api/v1/appointments?limit=50&current=true", "/api/v1/communities?limit=50"]
    return {"users": users, "tokens": tokens, "pages": pages, "api": api,
            "community": community, "street": street, "district": district, "worker": worker, "fragment": fragment}


def _measure(client: Any, url: str, user: str, repeat: int, **extra: Any) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url, **extra)  # warm-up: caches, compiled templates, token last_used_at
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    captured = list(ctx.captured_queries)  # a view of connection.queries: copy before the next request resets it
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url, **extra)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return Result(url, user, response.status_code, len(captured), times, captured, cpu)


def _profile(client: Any, url: str, top: int, **extra: Any) -> str:
    """One request under cProfile (after _measure's warm-up): its `top` costliest functions, cumulative."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    for _ in range(5):  # five requests, so one-off costs do not dominate
        profiler.enable()
        client.get(url, **extra)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


ONLY = {
    # the worker list (page 1 and a deep page) and a worker page: the issue-10 goal of ≤ 25 ms median
    "workers": lambda url: url == "/workers/" or url.startswith("/workers/?page=") or
    (url.startswith("/workers/") and url.rstrip("/").split("/")[-1].isdigit()),
}


def _explain(sql: str) -> str:
    from django.db import connection

    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            rows = cursor.fetchall()
    except Exception as exc:  # the captured text is for reading; not every one re-executes verbatim
        return f"(EXPLAIN failed: {exc})"
    if connection.vendor == "postgresql":
        return "\n".join(r[0] for r in rows)
    return "\n".join(str(r[-1]) for r in rows)


def _counts() -> dict[str, int]:
    from shegong.org.models import Division
    from shegong.people.models import Worker
    from shegong.staffing.models import Appointment

    return {
        "communities": Division.objects.filter(level="community").count(),
        "streets": Division.objects.filter(level="street").count(),
        "workers": Worker.objects.count(),
        "appointments": Appointment.objects.count(),
        "current appointments": Appointment.objects.filter(end_date__isnull=True).count(),
    }


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="shegong_bench_", dir="/tmp"))
    db_url, cleanup = _prepare_database(args.database_url, workdir)
    _environment(db_url, workdir)
    import django

    django.setup()
    try:
        return _run(args, db_url)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            cleanup()
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"\nkept the database: {db_url}")


def _run(args: argparse.Namespace, db_url: str) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    # Render without a collectstatic manifest (as the test suite does); {% static %} is a path join either way.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

    from bench.scale_data import load

    t0 = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_s = time.perf_counter() - t0
    stats = load(n_communities=args.communities, n_workers=args.workers, seed=args.seed, history=not args.no_history)
    from django.db import connection

    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load (PostgreSQL ≥ 13 vacuums insert-only tables too): the
        # statistics, and the visibility map that lets a count over workers be an index-only scan (10 ms →
        # 3 ms for 10,000 workers; without it every count reads the whole heap).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    fx = _fixtures()
    profiles: list[tuple[str, str, str]] = []
    if args.only:
        keep = ONLY[args.only]
        fx["pages"] = [u for u in fx["pages"] if keep(u)]
        fx["api"] = [u for u in fx["api"] if u.startswith("/api/v1/workers?")]
        counts = _counts()
        archive_stats = None
    else:
        counts, archive_stats = _load_archives(fx, args)
    results: list[Result] = []
    for username, user in fx["users"].items():
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(user)
        for url in fx["pages"]:
            results.append(_measure(client, url, username, args.repeat))
            if args.profile:
                profiles.append((url, username, _profile(client, url, args.profile)))
        api_client = Client(SERVER_NAME="127.0.0.1")
        for url in fx["api"]:
            auth = f"Bearer {fx['tokens'][username]}"
            results.append(_measure(api_client, url, username, args.repeat, HTTP_AUTHORIZATION=auth))
            if args.profile:
                profiles.append((url, username, _profile(api_client, url, args.profile, HTTP_AUTHORIZATION=auth)))

    archives = (f" + archives {archive_stats.seconds:.1f} s" if archive_stats else "")
    print(f"**{_database_label()}** — {', '.join(f'{v:,} {k}' for k, v in counts.items())}; "
          f"migrate {migrate_s:.1f} s, data load {stats.seconds:.1f} s{archives}; "
          f"{args.repeat} timed requests after 1 warm-up; Django test client, in-process")
    _report(fx, results, args)
    for url, username, text in profiles:
        print(f"\n### cProfile: `{url}` as {username} (5 requests)\n\n```\n{text.strip()}\n```")
    return 0


def _load_archives(fx: dict[str, Any], args: argparse.Namespace) -> tuple[dict[str, int], Any]:
    from django.db import connection

    from bench.archive_data import load_archives

    archive_stats = load_archives(viewer=fx["users"]["province"], seed=args.seed)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    w, d, c = fx["worker"].pk, fx["district"].code, fx["community"].code
    fx["pages"] += ["/archives/", f"/archives/?parent={d}", f"/archives/?parent={c}", f"/archives/{w}/",
                    f"/archives/{w}/access-log/", "/archives/access-log/", "/archives/export.xlsx"]
    fx["api"] += [f"/api/v1/workers/{w}/archive", "/api/v1/archive/access-log?limit=50"]
    counts = _counts() | {"archive records": archive_stats.records, "scans": archive_stats.attachments}
    return counts, archive_stats


def _report(fx: dict[str, Any], results: list[Result], args: argparse.Namespace) -> None:
    print(f"\ncommunity admin on {fx['community'].code} {fx['community'].name}, street admin on "
          f"{fx['street'].code} {fx['street'].name}, district page {fx['district'].code} {fx['district'].name}; "
          f"worker page #{fx['worker'].pk}; name fragment “{fx['fragment']}”\n")
    print("| page | user | queries | median ms | p95 ms | CPU median ms | status |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        flag = " ⚠" if r.median > args.slow else ""
        print(f"| `{r.page}` | {r.user} | {r.queries} | {r.median:.1f}{flag} | {r.p95:.1f} | {r.cpu_median:.1f} "
              f"| {r.status} |")

    if args.show_queries:
        for r in results:
            print(f"\n#### Queries of `{r.page}` as {r.user}\n")
            for q in r.captured:
                print(f"- {float(q['time']) * 1000:.1f} ms: `{q['sql'][: args.sql_chars]}`")
    slow = [r for r in results if r.median > args.slow]
    if slow:
        print(f"\n### Over {args.slow:.0f} ms (median)\n")
    for r in slow:
        total = sum(float(q["time"]) for q in r.captured) * 1000
        print(f"- `{r.page}` as {r.user}: median {r.median:.0f} ms, {r.queries} queries, "
              f"{total:.0f} ms in the database (counting request)")
        for q in sorted(r.captured, key=lambda q: -float(q["time"]))[:3]:
            print(f"    - {float(q['time']) * 1000:.0f} ms: {q['sql'][: args.sql_chars]}")
        if args.explain and r.captured:
            worst = max(r.captured, key=lambda q: float(q["time"]))
            plan = _explain(worst["sql"])
            print("      ```\n" + "\n".join("      " + line for line in plan.splitlines()) + "\n      ```")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time Shegong's pages on a province-scale dataset.")
    parser.add_argument("--database-url", help=f"PostgreSQL URL (a dedicated database, default name "
                        f"{PG_BENCH_DB}, is created and dropped) or a new SQLite file; default: a SQLite file in /tmp")
    parser.add_argument("--communities", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--slow", type=float, default=300.0, help="flag pages whose median exceeds this (ms)")
    parser.add_argument("--explain", action="store_true", help="print the plan of each slow page's slowest query")
    parser.add_argument("--sql-chars", type=int, default=400, help="how much of a slow query's SQL to print")
    parser.add_argument("--no-history", action="store_true", help="load without history records (faster)")
    parser.add_argument("--only", choices=sorted(ONLY), help="time only these pages (no archives loaded)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print each page's N costliest functions under cProfile")
    parser.add_argument("--show-queries", action="store_true", help="print every query of each page")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
