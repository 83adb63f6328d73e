"""Hostile roster files (issue 9 point 2): each must be refused with a clear Chinese message within 60 s and
1 GiB, and none may take the process down.

    python bench/hostile_files.py                 # build every file, import each in its own subprocess, print a table
    python bench/hostile_files.py --keep DIR      # also keep the files in DIR
    python bench/hostile_files.py --memory 0      # no address-space limit in the subprocesses (default 1 GiB)

Each file is imported as `shegong import --dry-run` would (`import_roster(..., dry_run=True)`) in a fresh
subprocess, whose address space is limited to --memory (so a regression shows as a failed row, not a
dead machine); the table gives the outcome (the first error's message), the seconds and the peak RSS
(`ru_maxrss` of that subprocess). The files are built here by hand (zipfile and minimal SpreadsheetML),
so that tests/roster/test_roster_limits.py builds exactly the same ones.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GiB = 1 << 30

# ---- a minimal .xlsx, written by hand ----------------------------------------------------------------

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="人员" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               '{dimension}<sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"


def cell(ref: str, value: str | int) -> str:
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def row(number: int, cells: Iterable[tuple[str, str | int]]) -> str:
    return f'<row r="{number}">' + "".join(cell(f"{col}{number}", v) for col, v in cells) + "</row>"


HEADER = row(1, [("A", "姓名"), ("B", "公民身份号码"), ("C", "所在社区代码")])
PERSON = row(2, [("A", "张三"), ("B", "220102198001011234"), ("C", "220102001001")])


def workbook(rows: str | Iterable[str], *, dimension: str | None = "A1:C2", doctype: str = "",
             compresslevel: int = 6) -> bytes:
    """A one-sheet .xlsx (sheet 人员) whose sheetData holds `rows` (a string or an iterable of strings,
    streamed into the zip so that a million rows need no big string)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            declared = f'<dimension ref="{dimension}"/>' if dimension else ""
            fh.write(_SHEET_HEAD.format(doctype=doctype, dimension=declared).encode())
            for piece in ([rows] if isinstance(rows, str) else rows):
                fh.write(piece.encode())
            fh.write(_SHEET_TAIL.encode())
    return buf.getvalue()


# ---- the hostile files ---------------------------------------------------------------------------------


def far_cell() -> bytes:
    """2 KB: one cell at XFD1048576 (calamine would allocate 1,048,576 × 16,384 cells: 512 GiB)."""
    return workbook(HEADER + PERSON + row(1048576, [("XFD", "x")]), dimension="A1:XFD1048576")


def far_cell_hidden() -> bytes:
    """The same far cell, its dimension honest-looking and the cell written without `r`: calamine places
    it after the previous cell of a row that `<row r>` puts at 1,048,576."""
    return workbook(HEADER + PERSON + '<row r="1048576"><c r="XFC1048576" t="inlineStr"><is><t>x</t></is></c>'
                    '<c t="inlineStr"><is><t>y</t></is></c></row>', dimension="A1:C2")


def declared_dimension() -> bytes:
    """A sheet that declares A1:XFD1048576 but holds two small rows."""
    return workbook(HEADER + PERSON, dimension="A1:XFD1048576")


def dtd_entity() -> bytes:
    """A sheet XML with a DTD that defines nested entities (billion laughs) and uses one in a cell."""
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    doctype = f"<!DOCTYPE worksheet [{entities}]>"
    return workbook(HEADER + row(2, [("A", "&lol9;")]), doctype=doctype)


def _spaces(total: int, step: int = 1 << 20) -> Iterator[str]:
    piece = " " * step
    for _ in range(total // step):
        yield piece


def zip_bomb() -> bytes:
    """A sheet of 320 MB of blanks between two rows, deflated to a few hundred KB (ratio ≈ 1000)."""
    return workbook(_chain([HEADER], _spaces(320 << 20), [PERSON]), compresslevel=9)


def zip_bomb_lying() -> bytes:
    """The same kind of sheet (64 MB of blanks), its zip directory declaring it 4 KB: only inflating it
    shows how big it is."""
    data = bytearray(workbook(_chain([HEADER], _spaces(64 << 20), [PERSON]), compresslevel=9))
    name = b"xl/worksheets/sheet1.xml"
    # central directory entry: signature, ... sizes at +20 (compressed) and +24 (uncompressed), name at +46
    at = data.find(b"PK\x01\x02" + b"", 0)
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len] == name:
            extra_len = struct.unpack_from("<H", data, at + 30)[0]
            usize = struct.unpack_from("<I", data, at + 24)[0]
            if usize == 0xFFFFFFFF or extra_len:  # zip64: the sizes are in the extra field
                extra = at + 46 + name_len
                end = extra + extra_len
                while extra < end:
                    tag, size = struct.unpack_from("<HH", data, extra)
                    if tag == 1:
                        struct.pack_into("<Q", data, extra + 4, 4096)
                    extra += 4 + size
            if usize != 0xFFFFFFFF:
                struct.pack_into("<I", data, at + 24, 4096)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def _chain(*parts: Iterable[str]) -> Iterator[str]:
    for part in parts:
        yield from part


def million_rows(dimension: str | None = "A1:C1048576") -> bytes:
    """1,048,575 rows (a number in column A of each), ≈ 7 MB: the whole height of a sheet."""
    def rows() -> Iterator[str]:
        yield HEADER
        batch = []
        for n in range(2, 1048577):
            batch.append(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>')
            if len(batch) == 10000:
                yield "".join(batch)
                batch = []
        yield "".join(batch)
    return workbook(rows(), dimension=dimension)


def million_rows_undeclared() -> bytes:
    """The same without a <dimension> element: only the cells tell."""
    return million_rows(dimension=None)


def long_cell() -> bytes:
    """A name of 100,000 characters."""
    return workbook(HEADER + row(2, [("A", "张" * 100_000), ("B", "220102198001011234"), ("C", "220102001001")]))


def csv_million_rows() -> bytes:
    """A CSV of a million rows (≈ 40 MB would be refused by size alone; this one is 4 MB of short rows)."""
    return ("姓名,公民身份号码\n" + "甲,1\n" * 1_000_000).encode("utf-8")


def csv_wide_line() -> bytes:
    """A CSV whose second line has 2,000,000 columns."""
    return ("姓名,公民身份号码\n" + "," * 2_000_000 + "\n").encode("utf-8")


def xls_far_cell() -> bytes:
    """An .xls (BIFF8) with a cell at IV65536, its last row and column."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("人员")
    for c, text in enumerate(["姓名", "公民身份号码", "所在社区代码"]):
        ws.write(0, c, text)
    ws.write(65535, 255, "x")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HOSTILE: dict[str, tuple[str, Callable[[], bytes]]] = {
    # name: (file name, builder)
    "far cell XFD1048576": ("far-cell.xlsx", far_cell),
    "far cell, implied position": ("far-cell-hidden.xlsx", far_cell_hidden),
    "dimension A1:XFD1048576": ("dimension.xlsx", declared_dimension),
    "DTD entity": ("dtd.xlsx", dtd_entity),
    "zip bomb (320 MB)": ("bomb.xlsx", zip_bomb),
    "zip bomb, lying sizes": ("bomb-lying.xlsx", zip_bomb_lying),
    "1,048,575 rows": ("million-rows.xlsx", million_rows),
    "1,048,575 rows, no dimension": ("million-rows-undeclared.xlsx", million_rows_undeclared),
    "100,000-character cell": ("long-cell.xlsx", long_cell),
    "CSV, 1,000,000 rows": ("million-rows.csv", csv_million_rows),
    "CSV, 2,000,000 columns": ("wide.csv", csv_wide_line),
    "xls, cell at IV65536": ("far-cell.xls", xls_far_cell),
}


# ---- measuring ---------------------------------------------------------------------------------------------

_CHILD = r"""
import json, os, resource, sys, time
memory = int(sys.argv[2])
if memory:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
sys.path.insert(0, sys.argv[3])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from shegong.access import system_actor
from shegong.roster.imports import import_roster
path = sys.argv[1]
data = open(path, "rb").read()
t0 = time.perf_counter()
result = import_roster(data, os.path.basename(path), dry_run=True, actor=system_actor("command"))
seconds = time.perf_counter() - t0
first = result.errors[0].message if result.errors else ""
print(json.dumps({"ok": result.ok, "message": first, "errors": result.error_count, "seconds": seconds,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, ensure_ascii=False))
"""


def measure(path: str | Path, *, memory: int = GiB, timeout: float = 120) -> dict:
    """Import one file (dry run) in a fresh subprocess limited to `memory` bytes of address space.
    Returns ok, message, errors, seconds, rss_mib — or crashed with the exit code and stderr's tail.
    The subprocess uses an empty SQLite file of its own: a refused file never reaches the database."""
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite:///{tempfile.gettempdir()}/shegong-hostile-unused.sqlite3"
    env["SHEGONG_TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(memory), str(ROOT)], env=env,
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"crashed": True, "code": None, "stderr": f"timed out after {timeout} s",
                "seconds": time.perf_counter() - started}
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"crashed": True, "code": done.returncode, "stderr": done.stderr.decode("utf-8", "replace")[-2000:],
                "seconds": time.perf_counter() - started, "rss_mib": usage.ru_maxrss / 1024}
    return {"crashed": False, **json.loads(lines[-1])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="keep the files in this directory")
    parser.add_argument("--memory", type=int, default=GiB, help="address-space limit of each subprocess (0: none)")
    parser.add_argument("--only", help="only the files whose name contains this")
    args = parser.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="shegong-hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    print("| file | size | outcome | errors | seconds | peak RSS MiB |")
    print("|---|---:|---|---:|---:|---:|")
    failures = 0
    for label, (filename, build) in HOSTILE.items():
        if args.only and args.only not in label and args.only not in filename:
            continue
        path = folder / filename
        path.write_bytes(build())
        size = path.stat().st_size
        out = measure(path, memory=args.memory)
        if out["crashed"]:
            failures += 1
            outcome = f"CRASHED (exit {out['code']}): {out['stderr'].strip().splitlines()[-1] if out['stderr'].strip() else ''}"
            print(f"| {label} | {_size(size)} | {outcome} | | {out['seconds']:.1f} | |")
            continue
        if out["ok"]:
            failures += 1
        outcome = "ACCEPTED" if out["ok"] else out["message"]
        print(f"| {label} | {_size(size)} | {outcome} | {out['errors']} | {out['seconds']:.2f} | {out['rss_mib']:.0f} |")
    if not args.keep:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
    return 1 if failures else 0


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n / 1024:.1f} KB"


if __name__ == "__main__":
    sys.exit(main())
