"""Roster import at scale (issue 3, point 7): a workbook of 100,000 people, 120,000 appointments and 1,000
communities, imported into an empty SQLite and an empty PostgreSQL database, next to a bare bulk insert
of the same rows into the same (equally empty) database.

    python bench/import_bench.py                                  # both databases, full size
    python bench/import_bench.py --database sqlite --people 10000 # communities and posts scale along
    python bench/import_bench.py --repeat 3 --no-heap             # median of three timed runs per step
    python bench/import_bench.py --profile                        # also a cProfile run of the import
    python bench/import_bench.py --database sqlite --only-diagnostics --heap-sites 15   # where the memory is

Goals (issue 3): under 60 s for the whole workbook on each database, within 3× of the bare insert, under
1 GiB peak memory.

How it measures. The workbook is made by bench/roster_workbook.py (cached under the temp directory by
size, seed and generator source, as openpyxl takes about a minute to write the full size). For every
database and step, a fresh empty database is created (a new SQLite file in WAL mode as the settings
configure it; on PostgreSQL a dedicated database, default name shegong_bench_import_<pid>, created and
dropped through the server's `postgres` database — the suite's `test` database is never touched), migrated in
one subprocess, and measured in another, so that no two peaks mix:

- **import**: `import_roster(data, filename, actor=system_actor("command"), progress=…)` as `shegong
  import` calls it without --user (a system import, no scope checks), from the workbook's bytes already in memory (reading the file is not
  timed), with its stage timings from the progress callback and, wrapped around RosterImport's
  parse / validate / plan / commit, its phases.
- **bare insert**: the same rows, generated in memory by the same generator with the same seed (not
  timed), then in one transaction the ancestor divisions, streets, communities, workers and
  appointments with `bulk_create` (batch 2,000, as the import) — no parsing, no validation, no history
  records — but with the ID numbers and phones encrypted, hashed and masked exactly as the import does
  them (shegong.common.crypto), which is part of the timed work.
- **raw insert**: the same again, but workers and appointments go through the driver — executemany on
  SQLite, COPY on PostgreSQL — with explicit keys (the sequences are moved past them afterwards): the
  floor for any writer, as the import itself no longer writes through bulk_create.

Peak RSS is `resource.getrusage(RUSAGE_SELF).ru_maxrss` of the measuring process (so it includes Django,
the workbook bytes or the generated rows); the Python-heap peak is `tracemalloc`'s, taken in a second
run of the same step (tracemalloc slows allocation-heavy code 2–4×, so the timed run is untraced;
--no-heap skips those runs). --heap-sites N runs the import once more with tracemalloc snapshots after
validation, after the people are written and at the end, and lists the N biggest live allocation sites
with the shegong/ line that made them; --profile runs it under cProfile. The machine is shared: each
import's table notes the load average when it started, and --repeat N reports the median of N runs.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shegong.access import system_actor

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pages import PG_BENCH_DB, _pg_admin_url, _pg_recreate  # noqa: E402

# Its own database per run (shegong_bench_import_<pid>), so that two benches running at once (this one,
# or bench/pages.py on shegong_bench) never drop each other's database.
PG_DEFAULT = f"postgresql://postgres@127.0.0.1:5432/{PG_BENCH_DB}_import_{{pid}}"
BATCH = 2000                       # the import's batch size (shegong/roster/imports.py)
GOAL_SECONDS = 60.0
GOAL_RATIO = 3.0
GOAL_RSS_MIB = 1024.0
STEP_LABELS = {"import": "import", "bare": "bare insert (bulk_create)", "raw": "bare insert (executemany / COPY)"}


# ---- the parent: workbook, databases, subprocesses, tables ----------------------------------------


def _sizes(people: int) -> dict[str, int]:
    return {"people": people, "appointments": round(people * 1.2), "communities": max(1, people // 100)}


def _workbook(args: argparse.Namespace) -> Path:
    """The workbook for these sizes and seed: --workbook, or a cached copy, or a new one."""
    if args.workbook:
        path = Path(args.workbook)
        if not path.exists():
            raise SystemExit(f"{path} does not exist")
        return path
    sizes = _sizes(args.people)
    source = hashlib.sha256((ROOT / "bench" / "roster_workbook.py").read_bytes()).hexdigest()[:10]
    cache = Path(tempfile.gettempdir()) / "shegong_bench_roster"
    cache.mkdir(exist_ok=True)
    path = cache / f"roster-{sizes['people']}p-{sizes['appointments']}a-{sizes['communities']}c-s{args.seed}-{source}.xlsx"
    if path.exists():
        print(f"workbook: {path} (cached, {path.stat().st_size / 2**20:.1f} MiB)", file=sys.stderr)
        return path
    from bench.roster_workbook import generate, write_workbook

    t0 = time.perf_counter()
    roster = generate(seed=args.seed, **sizes)
    t1 = time.perf_counter()
    tmp = path.with_suffix(".part")
    write_workbook(roster, tmp)
    tmp.rename(path)
    print(f"workbook: {roster.summary()}; generated in {t1 - t0:.1f} s, written in {time.perf_counter() - t1:.1f} s: "
          f"{path} ({path.stat().st_size / 2**20:.1f} MiB)", file=sys.stderr)
    return path


def _fresh_database(kind: str, pg_url: str, workdir: Path, tag: str) -> tuple[str, Any]:
    """A new empty database: its URL and a cleanup callable."""
    if kind == "postgresql":
        admin_url, name = _pg_admin_url(pg_url.replace("{pid}", str(os.getpid())))
        _pg_recreate(admin_url, name)
        url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
        return url, lambda: _pg_recreate(admin_url, name, drop_only=True)
    path = workdir / f"{tag}.sqlite3"

    def cleanup() -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    cleanup()
    return f"sqlite:///{path}", cleanup


def _child_env(workdir: Path, db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": db_url,
        # Own keys and var dir: the run neither reads nor writes the repository's var/keys.json.
        "SHEGONG_VAR_DIR": str(workdir),
        "SHEGONG_LOG_LEVEL": "WARNING",
    })
    for key in ("SHEGONG_SECRET_KEY", "SHEGONG_FIELD_KEY", "SHEGONG_HASH_KEY"):
        env[key] = os.environ[key]
    return env


def _run_child(step: str, db_url: str, workdir: Path, args: argparse.Namespace, workbook: Path, *,
               trace: bool = False, profile: str = "", sites: bool = False) -> dict[str, Any]:
    out = workdir / f"result-{step}-{time.monotonic_ns()}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--workbook", str(workbook),
           "--people", str(args.people), "--seed", str(args.seed), "--result", str(out)]
    if trace:
        cmd.append("--trace")
    if profile:
        cmd += ["--profile-out", profile]
    if sites:
        cmd += ["--heap-sites", str(args.heap_sites), "--frames", str(args.frames)]
    proc = subprocess.run(cmd, env=_child_env(workdir, db_url), cwd=ROOT)
    if proc.returncode != 0 or not out.exists():
        raise SystemExit(f"the {step} subprocess failed (exit {proc.returncode})")
    return json.loads(out.read_text())


def _measure(kind: str, step: str, args: argparse.Namespace, workdir: Path, workbook: Path, *,
             trace: bool = False, profile: str = "", sites: bool = False) -> dict[str, Any]:
    tag = f"{step}{'-trace' if trace else ''}{'-profile' if profile else ''}{'-sites' if sites else ''}"
    db_url, cleanup = _fresh_database(kind, args.pg_url, workdir, tag)
    try:
        migrate = _run_child("migrate", db_url, workdir, args, workbook)
        result = _run_child(step, db_url, workdir, args, workbook, trace=trace, profile=profile, sites=sites)
        result["migrate_seconds"] = migrate["seconds"]
        return result
    finally:
        cleanup()


def _fmt_rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "–"


def _print_tables(runs: dict[str, dict[str, dict[str, Any]]], args: argparse.Namespace) -> None:
    if not any("import" in steps or "bare" in steps for steps in runs.values()):
        return
    several = args.repeat > 1
    print(f"\n| database | step | rows | seconds{' (median)' if several else ''} | rows/s | peak RSS MiB | "
          f"Python heap peak MiB | ratio to bare insert | ratio to raw insert |{' runs (s) |' if several else ''}")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|" + ("---|" if several else ""))
    for steps in runs.values():
        bare, raw = steps.get("bare"), steps.get("raw")
        for step in ("import", "bare", "raw"):
            r = steps.get(step)
            if r is None:
                continue
            traced = steps.get(f"{step}-trace")
            heap = f"{traced['heap_peak_mib']:.0f}" if traced else "–"
            ratio = f"{r['seconds'] / bare['seconds']:.2f}×" if bare else "–"
            ratio_raw = f"{r['seconds'] / raw['seconds']:.2f}×" if raw else "–"
            runs_s = " · ".join(f"{x:.1f}" for x in r["all_seconds"]) + " |" if several else ""
            print(f"| {r['database']} | {STEP_LABELS[step]} | {r['rows']:,} | {r['seconds']:.1f} | "
                  f"{_fmt_rate(r['rows'], r['seconds'])} | {r['peak_rss_mib']:.0f} | {heap} | {ratio} | {ratio_raw} |"
                  f"{runs_s}")

    print("\nGoals: under 60 s per database, within 3× of the bare insert (bulk_create), under 1 GiB peak memory. "
          "The raw insert is the floor: the same rows through the driver's executemany (SQLite) or COPY "
          "(PostgreSQL), with explicit keys.\n")
    for steps in runs.values():
        r, bare = steps.get("import"), steps.get("bare")
        if r is None:
            continue
        checks = [f"{r['seconds']:.1f} s {'✓' if r['seconds'] < GOAL_SECONDS else '✗'} (< 60 s)"]
        if bare:
            ratio = r["seconds"] / bare["seconds"]
            checks.append(f"{ratio:.2f}× bare {'✓' if ratio <= GOAL_RATIO else '✗'} (≤ 3×)")
        checks.append(f"peak RSS {r['peak_rss_mib']:.0f} MiB {'✓' if r['peak_rss_mib'] < GOAL_RSS_MIB else '✗'} (< 1024)")
        print(f"- {r['database']}: " + "; ".join(checks))

    for steps in runs.values():
        r = steps.get("import")
        if r is None:
            continue
        total = r["seconds"]
        print(f"\n**{r['database']} — import stages** (from the progress callback; {total:.1f} s in all; "
              f"RSS {r['rss_before_mib']:.0f} MiB before the import, {r['peak_rss_mib']:.0f} MiB peak; "
              f"1-min load average {r.get('load_before', 0):.2f} when it started)\n")
        print("| stage | seconds | share | RSS MiB at its end |")
        print("|---|---:|---:|---:|")
        for name, seconds, rss in r["stages"]:
            print(f"| {name} | {seconds:.1f} | {seconds / total:.0%} | {rss:.0f} |")
        print("\n| phase (RosterImport method) | seconds | share |")
        print("|---|---:|---:|")
        for name, seconds in r["phases"].items():
            print(f"| {name} | {seconds:.1f} | {seconds / total:.0%} |")
        created = r["result"]["created"]
        print(f"\ncreated: {created}; warnings {r['result']['warnings']}; "
              f"rows in the database afterwards: {r['counts']}")
        for step in ("bare", "raw"):
            bare = steps.get(step)
            if not bare:
                continue
            print(f"\n**{bare['database']} — {STEP_LABELS[step]} stages** ({bare['seconds']:.1f} s; the rows were "
                  f"generated in {bare['prepare_seconds']:.1f} s before the clock started)\n")
            print("| stage | seconds |")
            print("|---|---:|")
            for name, seconds in bare["stages"]:
                print(f"| {name} | {seconds:.1f} |")
            print(f"\nrows in the database afterwards: {bare['counts']}")
        for step in ("import-trace", "bare-trace", "raw-trace"):
            t = steps.get(step)
            if t:
                print(f"\n(tracemalloc run of the {STEP_LABELS[step.split('-')[0]]}: {t['seconds']:.1f} s, "
                      f"Python heap peak {t['heap_peak_mib']:.0f} MiB, peak RSS {t['peak_rss_mib']:.0f} MiB)")


def _print_heap_sites(r: dict[str, Any]) -> None:
    print(f"\n**{r['database']} — live Python heap during the import, by allocating line** (tracemalloc with "
          f"{r['frames']} frames, a separate run; heap peak {r['heap_peak_mib']:.0f} MiB)")
    for snap in r["heap_sites"]:
        print(f"\n{snap['where']}: {snap['total_mib']:.0f} MiB live (peak so far {snap['traced_peak_mib']:.0f} MiB)\n")
        print("| allocated at | innermost shegong/ line on the stack | MiB | share | blocks |")
        print("|---|---|---:|---:|---:|")
        for inner, own, mib, count in snap["sites"]:
            print(f"| {inner} | {own} | {mib:.1f} | {mib / snap['total_mib']:.0%} | {count:,} |")


def _short(filename: str) -> str:
    """A file name as short as it stays unambiguous: repository-relative, package-relative or stdlib/…"""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if filename.startswith(str(ROOT) + "/"):
        return filename[len(str(ROOT)) + 1:]
    stdlib = os.path.dirname(os.__file__)
    if filename.startswith(stdlib + "/"):
        return "stdlib/" + filename[len(stdlib) + 1:]
    return filename


def _print_profile(path: str, database: str, top: int) -> None:
    import pstats

    stats = pstats.Stats(path)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"\n**{database} — cProfile of the import** ({total:.1f} s of profiled time; {path})\n")
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        print(f"\nTop {top} by {title}:\n")
        print("| function | file:line | calls | own s | own share | cumulative s | cum. share |")
        print("|---|---|---:|---:|---:|---:|---:|")
        rows = sorted(stats.stats.items(),  # type: ignore[attr-defined]
                      key=lambda kv: -(kv[1][2] if key == "tottime" else kv[1][3]))
        for (filename, line, func), (_cc, nc, tt, ct, _callers) in rows[:top]:
            short = _short(filename)
            print(f"| `{func}` | {short}:{line} | {nc:,} | {tt:.2f} | {tt / total:.1%} | {ct:.2f} | {ct / total:.1%} |")


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="shegong_import_bench_", dir="/tmp"))
    os.environ.setdefault("SHEGONG_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("SHEGONG_FIELD_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("SHEGONG_HASH_KEY", secrets.token_urlsafe(32))
    (workdir / "static").mkdir(exist_ok=True)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    profiles: list[tuple[str, str]] = []
    try:
        workbook = _workbook(args)
        for kind in kinds:
            steps: dict[str, dict[str, Any]] = {}
            runs[kind] = steps
            plan = [("import", False), ("bare", False), ("raw", False)] if not args.only_diagnostics else []
            if not args.no_heap and not args.only_diagnostics:
                plan += [("import", True), ("bare", True), ("raw", True)]
            for step, trace in plan:
                repeats = []
                for n in range(1 if trace else args.repeat):
                    print(f"{kind}: {step}{' (tracemalloc)' if trace else ''}"
                          f"{f' {n + 1}/{args.repeat}' if args.repeat > 1 and not trace else ''} …", file=sys.stderr)
                    r = _measure(kind, step, args, workdir, workbook, trace=trace)
                    print(f"  {r['seconds']:.1f} s, peak RSS {r['peak_rss_mib']:.0f} MiB", file=sys.stderr)
                    repeats.append(r)
                # the median run (by time) stands for the step; the peak RSS is the highest of all runs
                repeats.sort(key=lambda x: x["seconds"])
                r = repeats[(len(repeats) - 1) // 2]
                r["all_seconds"] = [x["seconds"] for x in repeats]
                r["peak_rss_mib"] = max(x["peak_rss_mib"] for x in repeats)
                steps[f"{step}-trace" if trace else step] = r
            if args.heap_sites:
                print(f"{kind}: import with tracemalloc snapshots …", file=sys.stderr)
                steps["import-sites"] = _measure(kind, "import", args, workdir, workbook, sites=True)
                steps["import-sites"]["frames"] = args.frames
            if args.profile:
                prof = str(workdir / f"import-{kind}.prof")
                print(f"{kind}: import under cProfile …", file=sys.stderr)
                profiled = _measure(kind, "import", args, workdir, workbook, profile=prof)
                profiles.append((profiled["database"], prof))
        sizes = _sizes(args.people)
        print(f"\nWorkbook `{workbook.name}`: {sizes['communities']:,} communities, {sizes['people']:,} people, "
              f"{sizes['appointments']:,} appointments ({workbook.stat().st_size / 2**20:.1f} MiB); "
              f"{os.cpu_count()} CPUs; each step in a fresh subprocess on a fresh, migrated, empty database.")
        _print_tables(runs, args)
        for steps in runs.values():
            if "import-sites" in steps:
                _print_heap_sites(steps["import-sites"])
        for database, prof in profiles:
            _print_profile(prof, database, args.top)
    finally:
        if args.keep_workdir or args.profile:
            print(f"\nworking directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


# ---- the children: one measurement each, in a fresh process --------------------------------------


def _rss_now_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _database_label() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
        cursor.execute("select sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def _counts() -> dict[str, int]:
    from shegong.org.models import Division
    from shegong.people.models import Worker
    from shegong.staffing.models import Appointment

    return {"communities": Division.objects.filter(level="community").count(),
            "streets": Division.objects.filter(level="street").count(),
            "workers": Worker.objects.count(), "appointments": Appointment.objects.count(),
            "history": Division.history.count() + Worker.history.count() + Appointment.history.count()}


def _stages(events: list[tuple[str, int, int, float, float]], total: float,
            end_rss: float) -> list[tuple[str, float, float]]:
    """(stage, seconds, RSS MiB when it ended): from the stage's first progress call to the next stage's first."""
    starts: list[tuple[str, float, float]] = []
    for stage, _done, _total, t, rss in events:
        if not starts or starts[-1][0] != stage:
            starts.append((stage, t, rss))
    first = starts[0] if starts else ("", total, end_rss)
    out = [("读取工作簿、找表头、建行 (before the first progress call)", first[1], first[2])]
    for (stage, t, _rss), nxt in zip(starts, [*starts[1:], ("", total, end_rss)], strict=True):
        label = stage + (" (+ plan)" if stage == "校验任职" else "")
        out.append((label, nxt[1] - t, nxt[2]))
    return out


def _heap_sites(snapshot: Any, top: int) -> dict[str, Any]:
    """The biggest live allocations, by the line that allocated them and the innermost shegong/ line
    on their stack (which of the import's own lines kept them alive or made them)."""
    sites: dict[tuple[str, str], list[int]] = {}
    total = 0

    def where(filename: str, lineno: int) -> str:
        return f"{_short(filename)}:{lineno}"

    def key(frames: Any) -> tuple[str, str]:  # frames: innermost first
        own = next((where(*f) for f in frames if "/shegong/" in f[0]), "–")
        return where(*frames[0]), own

    raw = getattr(snapshot.traces, "_traces", None)
    if raw is not None:
        # Fast path: the snapshot's raw (domain, size, frames, nframe) tuples, frames innermost first; the
        # frame tuples are shared between traces, so the key is computed once per distinct stack.
        keys: dict[int, tuple[str, str]] = {}
        for trace in raw:
            frames = trace[2]
            k = keys.get(id(frames))
            if k is None:
                k = keys[id(frames)] = key(frames)
            entry = sites.setdefault(k, [0, 0])
            entry[0] += trace[1]
            entry[1] += 1
            total += trace[1]
    else:
        for stat in snapshot.statistics("traceback"):
            k = key([(f.filename, f.lineno) for f in reversed(stat.traceback)])
            entry = sites.setdefault(k, [0, 0])
            entry[0] += stat.size
            entry[1] += stat.count
            total += stat.size
    ranked = sorted(sites.items(), key=lambda kv: -kv[1][0])[:top]
    return {"total_mib": total / 2**20,
            "sites": [(inner, own, size / 2**20, count) for (inner, own), (size, count) in ranked]}


def _instrument(cls: Any, names: tuple[str, ...]) -> dict[str, float]:
    """Time some of a class's methods (in this process only; the source is not touched)."""
    phases: dict[str, float] = {}
    for name in names:
        original = getattr(cls, name, None)
        if original is None:
            continue

        def wrapper(self: Any, *a: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _original(self, *a, **kw)
            finally:
                phases[_name] = phases.get(_name, 0.0) + time.perf_counter() - t0

        setattr(cls, name, wrapper)
    return phases


def _child_import(args: argparse.Namespace, out: dict[str, Any]) -> None:
    import tracemalloc

    from shegong.roster.imports import RosterImport, import_roster

    phases = _instrument(RosterImport, ("parse", "validate", "plan", "commit"))
    workbook = Path(args.workbook)
    data = workbook.read_bytes()
    events: list[tuple[str, int, int, float, float]] = []
    snapshots: list[dict[str, Any]] = []
    gc.collect()
    out["rss_before_mib"] = _rss_now_mib()
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - t0
        new_stage = not events or events[-1][0] != stage
        events.append((stage, done, total, now, _rss_now_mib()))
        # --heap-sites: what is alive after validation, after the people are written, at the end
        if args.heap_sites and ((new_stage and stage in ("写入社区", "写入任职")) or
                                (stage == "写入任职" and total > 1 and done == total)):
            where = {"写入社区": "after validation and planning (写入社区 starts)",
                     "写入任职": "after the people are written (写入任职 starts)"}.get(stage, "")
            if not new_stage:
                where = "when the last appointment batch is written (写入任职 done)"
            report = _heap_sites(tracemalloc.take_snapshot(), args.heap_sites)
            report["where"] = where
            report["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            snapshots.append(report)

    profiler = None
    if args.profile_out:
        import cProfile

        profiler = cProfile.Profile()
    if args.heap_sites:
        tracemalloc.start(args.frames)
    elif args.trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    result = import_roster(data, workbook.name, progress=progress, actor=system_actor("command"))
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - t0
    if args.trace or args.heap_sites:
        out["heap_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out["peak_rss_mib"] = _maxrss_mib()
    if profiler:
        profiler.dump_stats(args.profile_out)
    if not result.ok:
        for e in result.errors[:20]:
            print(f"  {e.sheet} row {e.row} {e.column} {e.value!r}: {e.message}", file=sys.stderr)
        raise SystemExit(f"the import rejected the workbook with {len(result.errors)} errors")
    out["seconds"] = seconds
    out["rows"] = sum(result.created.values()) + sum(result.updated.values()) + sum(result.unchanged.values())
    out["stages"] = _stages(events, seconds, _rss_now_mib())
    out["phases"] = dict(phases)
    out["phases"]["other (run: sort, wrap-up)"] = seconds - sum(phases.values())
    out["result"] = {"created": result.created, "updated": result.updated, "warnings": len(result.warnings)}
    out["heap_sites"] = snapshots


def _raw_write(model: Any, fields: list[Any], rows: list[list[Any]]) -> None:
    """INSERT rows (values in `fields` order) through the driver: executemany on SQLite, COPY on PostgreSQL."""
    from django.db import connection

    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})", rows)


def _raw_rows(model: Any, items: list[dict[str, Any]], now: Any) -> tuple[list[Any], list[list[Any]]]:
    """Rows of every concrete field: the given values, else the field's default; auto_now(_add) = now.
    On SQLite, dates and date-times are adapted as Django adapts them (PostgreSQL takes the objects)."""
    from django.db import connection, models

    fields = list(model._meta.concrete_fields)
    defaults = [now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else f.get_default() for f in fields]  # "" for a blank CharField, as the ORM writes it
    adapt: list[Any] = [None] * len(fields)
    if connection.vendor != "postgresql":
        for i, f in enumerate(fields):
            if isinstance(f, models.DateTimeField):
                adapt[i] = connection.ops.adapt_datetimefield_value
            elif isinstance(f, models.DateField):
                adapt[i] = connection.ops.adapt_datefield_value
        defaults = [a(d) if a and d is not None else d for a, d in zip(adapt, defaults, strict=True)]
    names = [f.attname for f in fields]
    dated = [(i, a) for i, a in enumerate(adapt) if a is not None]
    rows = []
    for item in items:
        row = [item.get(n, d) for n, d in zip(names, defaults, strict=True)]
        for i, a in dated:
            if names[i] in item and row[i] is not None:
                row[i] = a(row[i])
        rows.append(row)
    return fields, rows


def _bare_insert(roster: Any, stages: list[tuple[str, float]], *, raw: bool = False) -> None:
    """The same rows with bulk_create (or, `raw`, through the driver with explicit keys): no parsing,
    validation or history; personal data encrypted, hashed and masked as the import does it."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from shegong.common.crypto import encrypt, mask_id_number, mask_phone, search_hash
    from shegong.common.divcodes import LEVEL_BY_LENGTH, reference_names
    from shegong.org.models import Division
    from shegong.people.models import Worker
    from shegong.staffing.models import Appointment, PostType

    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        stages.append((name, now - t))
        t = now

    with transaction.atomic():
        reference = reference_names()
        by_code: dict[str, Division] = {}
        ancestors = {s[:n] for s in roster.streets for n in (2, 4, 6)}
        for n in (2, 4, 6):
            level = [Division(code=c, name=reference[c], level=LEVEL_BY_LENGTH[n], parent=by_code.get(c[: n - 2]))
                     for c in sorted(ancestors) if len(c) == n]
            for d in Division.objects.bulk_create(level, batch_size=BATCH):
                by_code[d.code] = d
        streets = [Division(code=c, name=name, level=Division.Level.STREET, parent=by_code[c[:6]])
                   for c, name in roster.streets.items()]
        for d in Division.objects.bulk_create(streets, batch_size=BATCH):
            by_code[d.code] = d
        communities = [Division(code=c.code, name=c.name, level=Division.Level.COMMUNITY, parent=by_code[c.code[:9]],
                                households=c.households, resident_population=c.resident_population,
                                party_org_type=c.party_org_type, address=c.address) for c in roster.communities]
        for d in Division.objects.bulk_create(communities, batch_size=BATCH):
            by_code[d.code] = d
        lap("社区 (and ancestors, streets)")

        people = [dict(
            name=p.name, gender=p.gender, birth_date=p.birth_date,
            id_number_encrypted=encrypt(p.id_number), id_number_hash=search_hash(p.id_number),
            id_number_masked=mask_id_number(p.id_number),
            phone_encrypted=encrypt(p.phone), phone_hash=search_hash(p.phone.replace("-", "")),
            phone_masked=mask_phone(p.phone), ethnicity=p.ethnicity, political_status=p.political_status,
            education=p.education, category=p.category, status=p.status, work_start_date=p.work_start_date,
            post_start_date=p.post_start_date, community_id=by_code[p.community].pk) for p in roster.people]
        posts = {p.code: p.pk for p in PostType.objects.all()}
        if raw:
            now = timezone.now()
            for i, item in enumerate(people, start=1):
                item["id"] = i
            fields, rows = _raw_rows(Worker, people, now)
            lap("人员: encrypt, hash, mask; rows")
            _raw_write(Worker, fields, rows)
            lap("人员: executemany / COPY")
            items = [dict(id=i, worker_id=a.person + 1, community_id=by_code[a.community].pk,
                          post_type_id=posts[a.post], method=a.method, start_date=a.start_date, end_date=a.end_date)
                     for i, a in enumerate(roster.appointments, start=1)]
            fields, rows = _raw_rows(Appointment, items, now)
            lap("任职: rows")
            _raw_write(Appointment, fields, rows)
            with connection.cursor() as cursor:  # explicit keys: move the sequences past them
                for sql in connection.ops.sequence_reset_sql(no_style(), [Worker, Appointment]):
                    cursor.execute(sql)
            lap("任职: executemany / COPY")
        else:
            workers = [Worker(**item) for item in people]
            lap("人员: encrypt, hash, mask; build")
            workers = Worker.objects.bulk_create(workers, batch_size=BATCH)
            lap("人员: bulk_create")
            appointments = [Appointment(worker_id=workers[a.person].pk, community_id=by_code[a.community].pk,
                                        post_type_id=posts[a.post], method=a.method, start_date=a.start_date,
                                        end_date=a.end_date) for a in roster.appointments]
            lap("任职: build")
            Appointment.objects.bulk_create(appointments, batch_size=BATCH)
            lap("任职: bulk_create")
    lap("commit")


def _child_bare(args: argparse.Namespace, out: dict[str, Any]) -> None:
    import tracemalloc

    from bench.roster_workbook import generate

    t0 = time.perf_counter()
    roster = generate(seed=args.seed, **_sizes(args.people))
    out["prepare_seconds"] = time.perf_counter() - t0
    gc.collect()
    out["rss_before_mib"] = _rss_now_mib()
    stages: list[tuple[str, float]] = []
    if args.trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    _bare_insert(roster, stages, raw=args.child == "raw")
    out["seconds"] = time.perf_counter() - t0
    if args.trace:
        out["heap_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out["peak_rss_mib"] = _maxrss_mib()
    out["rows"] = roster.rows
    out["stages"] = stages


def child(args: argparse.Namespace) -> int:
    import django

    django.setup()
    out: dict[str, Any] = {"step": args.child}
    if args.child == "migrate":
        from django.core.management import call_command

        t0 = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        out["seconds"] = time.perf_counter() - t0
    else:
        from shegong.people.models import Worker

        if Worker.objects.exists():
            raise SystemExit("the bench needs an empty database")
        out["database"] = _database_label()
        out["load_before"] = os.getloadavg()[0]
        {"import": _child_import, "bare": _child_bare, "raw": _child_bare}[args.child](args, out)
        out["counts"] = _counts()
    from django.db import connections

    connections.close_all()
    Path(args.result).write_text(json.dumps(out, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--people", type=int, default=100_000,
                        help="people in the workbook; appointments are 1.2×, communities 1/100 of it")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--workbook", help="use this workbook (made by bench/roster_workbook.py with the same "
                        "--people and --seed, which the bare insert regenerates)")
    parser.add_argument("--pg-url", default=PG_DEFAULT,
                        help=f"PostgreSQL server and bench database, created and dropped ({{pid}} is this "
                        f"process's id; default {PG_DEFAULT})")
    parser.add_argument("--repeat", type=int, default=1,
                        help="timed runs per step, each on a fresh database (the median is reported)")
    parser.add_argument("--no-heap", action="store_true", help="skip the tracemalloc runs (Python-heap peak)")
    parser.add_argument("--profile", action="store_true", help="also run the import under cProfile and print "
                        "its top functions (the .prof files are kept)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per profile table")
    parser.add_argument("--heap-sites", type=int, default=0, metavar="N",
                        help="also run the import with tracemalloc snapshots and list the N biggest allocation sites")
    parser.add_argument("--frames", type=int, default=12, help="stack frames kept per allocation for --heap-sites")
    parser.add_argument("--keep-workdir", action="store_true")
    parser.add_argument("--only-diagnostics", action="store_true",
                        help="skip the timed and tracemalloc runs; only --profile and --heap-sites")
    # internal: one measurement in a subprocess
    parser.add_argument("--child", choices=["migrate", "import", "bare", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.child:
        return child(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
