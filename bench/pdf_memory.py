"""Peak memory and time of the PDFs (issue 9, point 13): every case in a subprocess of its own, so each
peak (ru_maxrss) is that case's alone.

    python bench/pdf_memory.py                      # N=5 in sequence, 8 at once, a 9000×9000 photo
    python bench/pdf_memory.py -n 3 --threads 8 --photo 9000 --json out.json

The parent builds a fresh SQLite database and upload root in a temporary directory (its own keys: the
repository's var/ is never read or written), migrates, loads the demo city (`shegong demo`), and gives the
demo worker account's worker a full archive — 15 jobs, education, a qualification, a reward, a sanction and
a photo record whose scan is a --photo × --photo PNG (the newest, so the information form prints it).
Then each case runs in `python bench/pdf_memory.py --child CASE`:

* idle              — Django set up and WeasyPrint imported, nothing rendered (the floor);
* info-form×N       — 社区工作者信息表 with the big photo, N times in sequence;
* catalogue×N       — 档案目录, N times in sequence;
* description×N     — a post description (岗位说明书, the street's default for 党组织书记), N times;
* info-form∥T       — the information form, T threads started at once;
* mixed∥T           — the three documents round-robin over T threads started at once.

A render that the PDF helper refuses as busy (after its wait) is counted, not fatal. The table gives the
peak RSS in MiB, the wall time of the case, the median time of one render (in the cases at once, from
the call: the wait for a render slot included), and how many renders finished.

The archive's photo rendition (UPLOAD_ROOT/renditions) is kept between cases, as on a server: the first
case that prints the information form makes it (and decodes the big scan once); a case listed twice in
--cases shows the warm figure the second time.

The peak is the child's VmHWM (/proc/self/status: the high-water mark of this process image since its exec)
and ru_maxrss alongside. The parent stays small and never decodes the photo (a `--prepare` child builds the
data), because Linux carries the forking process's resident size into a child's ru_maxrss.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from shegong.access import system_actor

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ("info-form", "catalogue", "description")


def _environment(workdir: Path, keys: dict[str, str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["SHEGONG_VAR_DIR"] = str(workdir)   # keys, uploads and static under the bench's own directory
    (workdir / "static").mkdir(exist_ok=True)
    os.environ.update(keys)
    os.environ.setdefault("SHEGONG_LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def _big_photo(side: int) -> bytes:
    """A side × side RGB PNG: smooth gradients (a few MB, under the upload limit), decoded it is side² × 3 bytes."""
    import io

    from PIL import Image

    small = Image.merge("RGB", (Image.linear_gradient("L").resize((side, side)),
                                Image.radial_gradient("L").resize((side, side)),
                                Image.linear_gradient("L").rotate(90).resize((side, side))))
    out = io.BytesIO()
    small.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _prepare(photo_side: int) -> dict[str, Any]:
    """Migrate, load the demo, fill one archive; return what the children need (ids)."""
    import datetime as dt
    import io

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)
    call_command("demo", stdout=io.StringIO())
    from shegong.accounts.models import User
    from shegong.archives import services
    from shegong.staffing.models import PostType

    worker = User.objects.get(username="shegong").worker
    create = services.record_create
    for n, title in {2: "自传材料", 3: "2022年度考核登记表", 5: "政审材料", 6: "入党志愿书", 9: "聘用合同"}.items():
        create(actor=None, worker=worker, archive_class=n, title=title, date="2022-01-10", issuer="东风社区")
    for i in range(15):
        start = dt.date(2008, 7, 1) + dt.timedelta(days=365 * i)
        end = None if i == 14 else start + dt.timedelta(days=345)
        create(actor=None, worker=worker, kind="work", details={
            "organisation": "长春市朝阳区红旗街道东风社区居民委员会", "position": "社区工作者",
            "start_date": start, "end_date": end})
    create(actor=None, worker=worker, kind="reward", date="2020-12-20", issuer="长春市民政局",
           details={"name": "优秀社区工作者", "level": "市级"})
    record = create(actor=None, worker=worker, archive_class=10, title="近期免冠照片(大图)",
                    date=timezone.localdate().isoformat(), required_item="photo")
    data = _big_photo(photo_side)
    services.attachment_add(actor=system_actor("command"), record=record, name="big.png", data=data)
    post_type = PostType.objects.get(code="party_secretary")
    return {"worker": worker.pk, "street": worker.community.parent_id, "post_type": post_type.pk,
            "photo_bytes": len(data), "photo_side": photo_side}


def _vm_hwm_kib() -> int:
    """Peak resident set size of this process image (kB), or ru_maxrss where /proc is not there."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ---- child -----------------------------------------------------------------------------------------


def _renderer(kind: str, ids: dict[str, Any]) -> Any:
    from shegong.archives import documents
    from shegong.common.pdf import render_pdf
    from shegong.org.models import Division
    from shegong.people.models import Worker
    from shegong.staffing.descriptions import description_default
    from shegong.staffing.models import PostType

    if kind == "info-form":
        return lambda: documents.info_form_pdf(worker=Worker.objects.get(pk=ids["worker"]))
    if kind == "catalogue":
        return lambda: documents.catalogue_pdf(worker=Worker.objects.get(pk=ids["worker"]))

    def description() -> bytes:
        street = Division.objects.get(pk=ids["street"])
        d = description_default(street=street, post_type=PostType.objects.get(pk=ids["post_type"]))
        return render_pdf("staffing/description_pdf.html", {"d": d, "street": street, "post_type": d.post_type,
                                                            "ancestors": []})
    return description


def _child(case: str, n: int, threads: int, ids: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    from shegong.common.pdf import PdfUnavailable

    __import__("weasyprint")   # the floor includes the library, as in a server that has printed once

    times: list[float] = []
    sizes: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()

    def one(kind: str) -> None:
        render = _renderer(kind, ids)
        t0 = time.perf_counter()
        try:
            data = render()
        except PdfUnavailable as exc:   # e.g. busy after waiting
            with lock:
                refused.append(exc.message[:40])
            return
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()
        with lock:
            times.append(time.perf_counter() - t0)
            sizes.append(len(data))

    idle_kib = _vm_hwm_kib()
    t0 = time.perf_counter()
    name, _, mode = case.partition(":")
    if name != "idle":
        if mode == "seq":
            for _ in range(n):
                one(name)
        else:
            kinds = [DOCUMENTS[i % 3] if name == "mixed" else name for i in range(threads)]
            start = threading.Barrier(len(kinds))

            def run(kind: str) -> None:
                start.wait()
                one(kind)
            workers = [threading.Thread(target=run, args=(k,)) for k in kinds]
            for t in workers:
                t.start()
            for t in workers:
                t.join()
    wall = time.perf_counter() - t0
    peak_kib = _vm_hwm_kib()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"case": case, "idle_mib": idle_kib / 1024, "peak_mib": peak_kib / 1024, "maxrss_mib": maxrss_kib / 1024,
            "wall_s": wall,
            "median_s": statistics.median(times) if times else None, "done": len(times), "refused": len(refused),
            "pdf_kib": (max(sizes) / 1024) if sizes else None, "why": refused[:1]}


# ---- parent ----------------------------------------------------------------------------------------


def _label(case: str, n: int, threads: int) -> str:
    name, _, mode = case.partition(":")
    if name == "idle":
        return "idle (Django + WeasyPrint imported)"
    return f"{name} ×{n} in sequence" if mode == "seq" else f"{name} ×{threads} at once (threads)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5, help="renders in sequence per document (default 5)")
    parser.add_argument("--threads", type=int, default=8, help="renders started at once (default 8)")
    parser.add_argument("--photo", type=int, default=9000, help="side of the square photo in pixels (default 9000)")
    parser.add_argument("--cases", default="", help="comma-separated subset, e.g. idle,info-form:seq")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.prepare:
        workdir = Path(args.workdir)
        _environment(workdir, json.loads((workdir / "keys.env.json").read_text()))
        import django

        django.setup()
        print(json.dumps(_prepare(args.photo)))
        return 0
    if args.child:
        workdir = Path(args.workdir)
        _environment(workdir, json.loads((workdir / "keys.env.json").read_text()))
        print(json.dumps(_child(args.child, args.n, args.threads, json.loads(args.ids))))
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="shegong_pdfbench_", dir="/tmp"))
    keys = {"SHEGONG_SECRET_KEY": secrets.token_urlsafe(50),
            "SHEGONG_FIELD_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "SHEGONG_HASH_KEY": secrets.token_urlsafe(32)}
    (workdir / "keys.env.json").write_text(json.dumps(keys))
    try:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--prepare", "--workdir", str(workdir), "--photo",
                              str(args.photo)], capture_output=True, text=True, cwd=ROOT, check=False)
        if out.returncode != 0:
            print(f"preparing the data failed\n{out.stderr[-3000:]}", file=sys.stderr)
            return 1
        ids = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"data ready in {time.perf_counter() - t0:.1f} s: photo {args.photo}×{args.photo} PNG, "
              f"{ids['photo_bytes'] / 2**20:.1f} MiB on disk, {args.photo ** 2 * 3 / 2**20:.0f} MiB decoded",
              flush=True)
        cases = [c for c in args.cases.split(",") if c] or [
            "idle", *(f"{d}:seq" for d in DOCUMENTS), "info-form:par", "mixed:par"]
        results = []
        for case in cases:
            out = subprocess.run(
                [sys.executable, __file__, "--child", case, "--workdir", str(workdir), "--ids", json.dumps(ids),
                 "-n", str(args.n), "--threads", str(args.threads)],
                capture_output=True, text=True, cwd=ROOT, check=False)
            if out.returncode != 0:
                print(f"{case}: failed\n{out.stderr[-3000:]}", file=sys.stderr)
                continue
            result = json.loads(out.stdout.strip().splitlines()[-1])
            result["label"] = _label(case, args.n, args.threads)
            results.append(result)
            print(f"  {result['label']}: peak {result['peak_mib']:.0f} MiB, {result['wall_s']:.1f} s", flush=True)
        print()
        print("| case | peak RSS (MiB) | over idle (MiB) | ru_maxrss (MiB) | wall (s) | one render, median (s) "
              "| done | busy |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        idle = next((r["peak_mib"] for r in results if r["case"] == "idle"), None)
        for r in results:
            over = f"{r['peak_mib'] - idle:.0f}" if idle is not None and r["case"] != "idle" else ""
            median = f"{r['median_s']:.2f}" if r["median_s"] is not None else ""
            print(f"| {r['label']} | {r['peak_mib']:.0f} | {over} | {r['maxrss_mib']:.0f} | {r['wall_s']:.1f} | {median} | "
                  f"{r['done']} | {r['refused']} |")
        if args.json:
            Path(args.json).write_text(json.dumps({"photo": args.photo, "n": args.n, "threads": args.threads,
                                                   "results": results}, ensure_ascii=False, indent=1))
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
