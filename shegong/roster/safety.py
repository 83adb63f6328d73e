"""Measuring an uploaded workbook before any reader sees it (docs/import-limits.md).

python-calamine allocates every sheet as one dense block from its first to its last used cell: a 2 KB
.xlsx with one cell at XFD1048576 asks for 512 GiB and the allocator aborts the whole process. So an
.xlsx is opened here with `zipfile` first, and refused with a Chinese message unless

- the zip is sound: no encrypted or unusually compressed parts, each part's real uncompressed size equal
  to the size its directory entry declares, all of them together within `max_unzipped_bytes`, none
  compressed more than `max_ratio` times (zip bombs); the parts are inflated here, by us, in chunks;
- no XML part declares a DTD (`<!DOCTYPE`, `<!ENTITY`: entity expansion), and every part is UTF-8;
- at most `max_sheets` sheets, and in each the declared `<dimension ref=…>` and the real position of
  every cell that holds a value (what calamine reads) within `max_rows` × `max_columns`.

The real positions are found without parsing in the common case: Excel, WPS, LibreOffice, openpyxl and
XlsxWriter write every cell as `<c r="B7" …>`, and one regular expression over the inflated XML finds any
cell start that is not in that form or whose reference lies beyond the limits (≈ 0.2 s for 70 MB). A
sheet with any such cell — a reference past the limits, a cell without `r` (calamine then counts on from
the row and the previous cell), a namespace prefix, a tab inside the tag — is then parsed with expat,
following calamine's own rules for implied positions, to find the exact position of every cell.

An .xls (BIFF, inside an OLE compound file) is measured by calamine in a subprocess limited to
`reader_memory` and `reader_seconds`: whatever happens there, it cannot take this process down.
"""

from __future__ import annotations

import json
import posixpath
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.parsers import expat

from shegong.common.errors import ApplicationError
from shegong.roster.limits import Limits, MiB

CHUNK = 8 * MiB
MAX_MEMBERS = 10_000
SMALL_PART = 1 * MiB      # parts up to this size are not held to the compression ratio
FULL_DTD_SCAN = 8 * MiB   # parts up to this size are searched whole for "<!"; larger ones in their prolog


def refuse(message: str) -> ApplicationError:
    return ApplicationError(f"{message};文件未导入", field="file")


# ---- cell references -------------------------------------------------------------------------------


def column_number(letters: str) -> int:
    """A -> 1, Z -> 26, AA -> 27, XFD -> 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(number: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while number:
        number, rem = divmod(number - 1, 26)
        out = chr(65 + rem) + out
    return out


_REF = re.compile(r"^\$?([A-Za-z]{1,4})\$?0*([0-9]{1,9})$")


def parse_ref(ref: str) -> tuple[int, int] | None:
    """'XFD1048576' -> (1048576, 16384), both 1-based; None when it is not a cell reference."""
    m = _REF.match(ref.strip())
    if not m:
        return None
    return int(m[2]), column_number(m[1])


def _alternatives_upto(limit: str, first: str, low: str, high: str) -> str:
    """A regular expression for the strings of `limit`'s alphabet, in positional order, up to `limit`:
    shorter strings (first character from `first`), then the same length, digit by digit."""
    k = len(limit)
    parts = []
    if k > 1:
        parts.append(f"[{first}][{low}-{high}]{{0,{k - 2}}}")
    for i, ch in enumerate(limit):
        lowest = first[0] if i == 0 else low
        if ch > lowest:
            below = chr(ord(ch) - 1)
            parts.append(re.escape(limit[:i]) + f"[{lowest}-{below}]" + (f"[{low}-{high}]{{{k - i - 1}}}" if k - i - 1 else ""))
    parts.append(re.escape(limit))
    return "|".join(parts)


def _canonical_cell(lim: Limits) -> re.Pattern[bytes]:
    """Matches a cell start tag that is NOT `<c r="REF"` with REF inside the limits."""
    cols = _alternatives_upto(column_letters(lim.max_columns), "A-Z", "A", "Z")
    rows = _alternatives_upto(str(lim.max_rows), "1-9", "0", "9")
    ok = f'r="(?:{cols})(?:{rows})"'
    return re.compile(f"<c(?:[\\t\\n\\r>]| (?!{ok}))".encode())


_PREFIXED_CELL = re.compile(rb":c[\s>]")
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']+)[\"']")


# ---- the zip ---------------------------------------------------------------------------------------


@dataclass
class Part:
    info: zipfile.ZipInfo
    sheet: str | None = None   # the sheet's name when this part is a sheet


def _inflate(data: bytes, info: zipfile.ZipInfo, lim: Limits, budget: list[int]) -> Iterator[bytes]:
    """The part's bytes in chunks, inflated here (not trusting the sizes in its headers)."""
    offset = info.header_offset
    header = data[offset:offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise refuse(f"工作簿已损坏(部件 {info.filename} 的位置不对)")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_len + extra_len
    raw = memoryview(data)[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(raw[i:i + CHUNK]) for i in range(0, len(raw), CHUNK))
    else:
        pieces = _deflate(raw)
    produced = 0
    for piece in pieces:
        produced += len(piece)
        budget[0] += len(piece)
        if produced > info.file_size:
            raise refuse(f"工作簿已损坏或被刻意构造:部件 {info.filename} 解压后比声明的大")
        if budget[0] > lim.max_unzipped_bytes:
            raise refuse(f"工作簿解压后超过 {lim.max_unzipped_bytes // MiB} MB 上限(可能是“压缩炸弹”)")
        if produced > SMALL_PART and produced > lim.max_ratio * max(1, info.compress_size):
            raise refuse(f"工作簿的部件 {info.filename} 压缩比超过 {lim.max_ratio} 倍(可能是“压缩炸弹”)")
        yield piece
    if produced != info.file_size:
        raise refuse(f"工作簿已损坏:部件 {info.filename} 的大小与声明不符")


def _deflate(raw: memoryview) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-15)
    pos = 0
    pending = b""
    while True:
        if not pending:
            if pos >= len(raw):
                break
            pending = bytes(raw[pos:pos + CHUNK])
            pos += CHUNK
        try:
            out = inflater.decompress(pending, CHUNK)
        except zlib.error as exc:
            raise refuse("工作簿已损坏(压缩数据无法解开)") from exc
        pending = inflater.unconsumed_tail
        if out:
            yield out
        if inflater.eof:
            break


def _open_zip(data: bytes, lim: Limits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(_BytesReader(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise refuse("无法读取工作簿:文件已损坏或不是 Excel 文件") from exc
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise refuse(f"工作簿由 {len(infos):,} 个部件组成,不像 Excel 文件")
    declared = sum(i.file_size for i in infos)
    if declared > lim.max_unzipped_bytes:
        raise refuse(f"工作簿解压后有 {declared / MiB:,.0f} MB,超过 {lim.max_unzipped_bytes // MiB} MB 上限")
    for info in infos:
        if info.flag_bits & 0x1:
            raise refuse("工作簿已加密;请取消密码保护后另存再上传")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse(f"工作簿的部件 {info.filename} 使用了不支持的压缩方式;请用 Excel 或 WPS 另存后再上传")
        if info.file_size > SMALL_PART and info.file_size > lim.max_ratio * max(1, info.compress_size):
            raise refuse(f"工作簿的部件 {info.filename} 压缩比超过 {lim.max_ratio} 倍(可能是“压缩炸弹”)")
    return archive


class _BytesReader:
    """A minimal seekable file over bytes (io.BytesIO would copy the upload)."""

    def __init__(self, data: bytes) -> None:
        self.view = memoryview(data)
        self.pos = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else (self.pos + offset if whence == 1 else len(self.view) + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, n: int = -1) -> bytes:
        end = len(self.view) if n is None or n < 0 else min(len(self.view), self.pos + n)
        out = bytes(self.view[self.pos:end])
        self.pos = end
        return out

    def seekable(self) -> bool:
        return True


def _read_small(data: bytes, archive: zipfile.ZipFile, name: str, lim: Limits, budget: list[int]) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > 16 * MiB:
        raise refuse(f"工作簿的部件 {name} 大得反常")
    text = b"".join(_inflate(data, info, lim, budget))
    _check_prolog(text, name)
    if b"<!" in text.replace(b"<!--", b"").replace(b"<![CDATA[", b""):
        raise refuse(f"工作簿的部件 {name} 含有 DTD 声明(<!DOCTYPE 或 <!ENTITY),出于安全不予读取")
    return text


def _check_prolog(head: bytes, name: str) -> None:
    """UTF-8 only, and no DTD before the root element."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:64]:
        raise refuse(f"工作簿的部件 {name} 不是 UTF-8 编码")
    m = _ENCODING.match(head.lstrip(b"\xef\xbb\xbf").lstrip())
    if m and m[1].lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise refuse(f"工作簿的部件 {name} 不是 UTF-8 编码")
    root = re.search(rb"<[A-Za-z_]", head)
    prolog = head[:root.start()] if root else head
    if re.search(rb"<!(?!--)", prolog):
        raise refuse(f"工作簿的部件 {name} 含有 DTD 声明(<!DOCTYPE 或 <!ENTITY),出于安全不予读取")


def _sheet_parts(data: bytes, archive: zipfile.ZipFile, lim: Limits, budget: list[int]) -> dict[str, str]:
    """Part name -> sheet name, as calamine finds them: xl/workbook.xml and its relationships."""
    workbook = _read_small(data, archive, "xl/workbook.xml", lim, budget)
    if workbook is None:
        raise refuse("无法读取工作簿:缺少 xl/workbook.xml,不是 Excel 文件")
    rels = _read_small(data, archive, "xl/_rels/workbook.xml.rels", lim, budget) or b""
    try:
        wb_root = ElementTree.fromstring(workbook)
        rel_root = ElementTree.fromstring(rels) if rels else None
    except ElementTree.ParseError as exc:
        raise refuse("无法读取工作簿:xl/workbook.xml 已损坏") from exc
    targets: dict[str, str] = {}
    if rel_root is not None:
        for rel in rel_root.iter():
            if rel.tag.rsplit("}", 1)[-1] == "Relationship" and rel.get("Id") and rel.get("Target"):
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
                targets[rel.get("Id", "")] = path
    sheets = [el for el in wb_root.iter() if el.tag.rsplit("}", 1)[-1] == "sheet"]
    if len(sheets) > lim.max_sheets:
        raise refuse(f"工作簿有 {len(sheets)} 张工作表,超过 {lim.max_sheets} 张上限")
    out: dict[str, str] = {}
    for el in sheets:
        rid = next((v for k, v in el.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
        if rid in targets:
            out[targets[rid]] = el.get("name", "")
    return out


# ---- one sheet -------------------------------------------------------------------------------------


def _beyond(lim: Limits, sheet: str, row: int, col: int, what: str) -> ApplicationError:
    return refuse(f"工作表“{sheet}”{what} {column_letters(col)}{row} 超出上限:每张工作表最多 {lim.max_rows:,} 行、"
                  f"{lim.max_columns} 列({column_letters(lim.max_columns)} 列);请删去多余的行列,或拆成几个文件")


def _scan_part(data: bytes, part: Part, lim: Limits, budget: list[int], canonical: re.Pattern[bytes]) -> None:
    name = part.info.filename
    label = part.sheet if part.sheet is not None else name
    tail = b""
    first = True
    suspicious = False
    full_dtd = part.info.file_size <= FULL_DTD_SCAN
    for piece in _inflate(data, part.info, lim, budget):
        buf = tail + piece
        cut = buf.rfind(b"<")
        if cut < 0 or len(buf) - cut > 4096:
            cut = len(buf)
        buf, tail = buf[:cut], buf[cut:]
        if first:
            _check_prolog(buf[:65536], name)
            first = False
            dim = _DIMENSION.search(buf[:65536])
            if dim and part.sheet is not None:
                _check_dimension(dim[1].decode("ascii", "replace"), label, lim)
        if full_dtd and re.search(rb"<!(?!--|\[CDATA\[)", buf):
            raise refuse(f"工作簿的部件 {name} 含有 DTD 声明(<!DOCTYPE 或 <!ENTITY),出于安全不予读取")
        if not suspicious:
            suspicious = _alarms(buf, canonical, lim, label) or bool(_PREFIXED_CELL.search(buf))
    if tail and not suspicious:
        suspicious = _alarms(tail, canonical, lim, label) or bool(_PREFIXED_CELL.search(tail))
    if tail and full_dtd and re.search(rb"<!(?!--|\[CDATA\[)", tail):
        raise refuse(f"工作簿的部件 {name} 含有 DTD 声明(<!DOCTYPE 或 <!ENTITY),出于安全不予读取")
    if suspicious:
        _parse_part(data, part, lim, budget)


_PLAIN_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"([^<>]*)>')
_VALUE = re.compile(rb"<(?:v|is|f)[\s>/]")


def _alarms(buf: bytes, canonical: re.Pattern[bytes], lim: Limits, sheet: str) -> bool:
    """Whether `buf` has a cell start that needs the exact parse. A plain `<c r="REF">` past the limits
    is decided here: refused if it holds a value (its content up to `</c>` has <v>, <is> or <f>),
    passed over if empty (calamine skips empty cells)."""
    for m in canonical.finditer(buf):
        plain = _PLAIN_CELL.match(buf, m.start())
        if plain is None:
            return True  # no r, r not first, a tab, quotes: parse
        row, col = int(plain[2]), column_number(plain[1].decode())
        if plain[3].endswith(b"/") or (row <= lim.max_rows and col <= lim.max_columns):
            continue     # <c r="…"/> is empty; "A01" is A1
        end = buf.find(b"</c>", plain.end(), plain.end() + 65536)
        if end < 0:
            return True  # the content runs on (past this chunk, or nested oddities): parse
        if _VALUE.search(buf, plain.end(), end):
            raise _beyond(lim, sheet, row, col, "的单元格")
    return False


def _check_dimension(ref: str, sheet: str, lim: Limits) -> None:
    end = ref.split(":")[-1]
    pos = parse_ref(end)
    if pos is None:
        return  # calamine ignores what it cannot read here; the real cells are checked anyway
    row, col = pos
    if row > lim.max_rows or col > lim.max_columns:
        raise refuse(f"工作表“{sheet}”声明的范围 {ref} 超出上限:每张工作表最多 {lim.max_rows:,} 行、{lim.max_columns} 列"
                     f"({column_letters(lim.max_columns)} 列);请删去多余的行列,或拆成几个文件")


class _CellWalk:
    """calamine's reading of cell positions (xlsx/cells_reader.rs): `<row r>` sets the row, the end of a
    row moves to the next one and column A; `<c r>` sets both, a `<c>` without `r` takes the current
    row and the column after the previous cell. Only cells with content count (empty ones are skipped)."""

    def __init__(self, lim: Limits, sheet: str) -> None:
        self.lim = lim
        self.sheet = sheet
        self.row = 0          # 0-based, as calamine
        self.col = 0
        self.cell: tuple[int, int] | None = None
        self.filled = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1]
        if self.cell is not None:
            self.filled = True  # calamine reads whatever starts inside a cell as its value
        elif local == "row":
            r = attrs.get("r")
            if r is not None:
                if not r.strip().isdigit():
                    raise refuse(f"工作表“{self.sheet}”中有无法识别的行号“{r[:20]}”")
                self.row = int(r) - 1
        elif local == "c":
            r = attrs.get("r")
            if r is not None:
                pos = parse_ref(r)
                if pos is None:
                    raise refuse(f"工作表“{self.sheet}”中有无法识别的单元格位置“{r[:20]}”")
                self.cell = (pos[0] - 1, pos[1] - 1)
                self.col = pos[1] - 1
            else:
                self.cell = (self.row, self.col)
            self.filled = False

    def end(self, name: str) -> None:
        local = name.rsplit(":", 1)[-1]
        if self.cell is not None:
            if local != "c":
                return  # inside a cell calamine looks only for the end of the cell (the first </c>)
            if self.filled:
                row, col = self.cell
                if row + 1 > self.lim.max_rows or col + 1 > self.lim.max_columns:
                    raise _beyond(self.lim, self.sheet, row + 1, col + 1, "的单元格")
            self.col += 1
            self.cell = None
        elif local == "row":
            self.row += 1
            self.col = 0


def _parse_part(data: bytes, part: Part, lim: Limits, budget: list[int]) -> None:
    label = part.sheet if part.sheet is not None else part.info.filename
    walk = _CellWalk(lim, label)
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def no_dtd(*_args: object) -> None:
        raise refuse(f"工作簿的部件 {part.info.filename} 含有 DTD 声明(<!DOCTYPE 或 <!ENTITY),出于安全不予读取")

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parser.StartElementHandler = walk.start
    parser.EndElementHandler = walk.end
    parser.buffer_text = True
    try:
        for piece in _inflate(data, part.info, lim, [0]):
            parser.Parse(piece, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        if part.sheet is not None:
            raise refuse(f"工作表“{label}”的 XML 已损坏({expat.errors.messages.get(exc.code, exc.code)},"
                         f"第 {exc.lineno} 行)") from exc
        # a part that is no sheet (a picture, a drawing) is never read as cells by calamine


def check_xlsx(data: bytes, lim: Limits) -> None:
    """Refuse (ApplicationError) an .xlsx that is beyond the limits or built to harm a reader."""
    archive = _open_zip(data, lim)
    budget = [0]
    sheets = _sheet_parts(data, archive, lim, budget)
    canonical = _canonical_cell(lim)
    names = set(archive.namelist())
    for info in archive.infolist():
        lower = info.filename.lower()
        if info.filename in sheets:
            part = Part(info, sheets[info.filename])
        elif lower.endswith((".xml", ".rels", ".vml")):
            part = Part(info)
        else:
            # pictures and binaries: only their sizes (already checked) and ratio, read as they inflate
            for _ in _inflate(data, info, lim, budget):
                pass
            continue
        if info.filename in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
            continue  # read above
        _scan_part(data, part, lim, budget, canonical)
    missing = [s for p, s in sheets.items() if p not in names]
    if missing:
        raise refuse(f"工作簿已损坏:找不到工作表“{missing[0]}”的内容")


# ---- .xls ------------------------------------------------------------------------------------------

_PROBE = r"""
import io, json, resource, sys
limit = int(sys.argv[1]); seconds = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
from python_calamine import CalamineWorkbook
data = sys.stdin.buffer.read()
try:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    out = []
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        out.append([name, sheet.height, sheet.width])
        del sheet
    print(json.dumps({"sheets": out}))
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:300]}))
"""


def measure_xls(data: bytes, lim: Limits) -> list[tuple[str, int, int]]:
    """(sheet, rows, columns) of an .xls, measured by calamine in a limited subprocess."""
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, str(lim.reader_memory), str(lim.reader_seconds)],
                              input=data, capture_output=True, timeout=lim.reader_seconds + 10, check=False)
    except subprocess.TimeoutExpired as exc:
        raise refuse(f"读取 .xls 文件超过 {lim.reader_seconds} 秒") from exc
    try:
        answer = json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise refuse(f"无法读取 .xls 文件:读取它需要超过 {lim.reader_memory // MiB} MB 内存或 {lim.reader_seconds} 秒,"
                     "或文件已损坏;请用 Excel 或 WPS 另存为 .xlsx 后再上传") from None
    if "error" in answer:
        raise refuse(f"无法读取 .xls 文件:文件已损坏或不是 Excel 文件({answer['error']})")
    sheets = [(str(n), int(h), int(w)) for n, h, w in answer["sheets"]]
    if len(sheets) > lim.max_sheets:
        raise refuse(f"工作簿有 {len(sheets)} 张工作表,超过 {lim.max_sheets} 张上限")
    for name, height, width in sheets:
        if height > lim.max_rows or width > lim.max_columns:
            raise refuse(f"工作表“{name}”有 {height:,} 行、{width} 列,超出上限:每张工作表最多 {lim.max_rows:,} 行、"
                         f"{lim.max_columns} 列;请删去多余的行列,或拆成几个文件")
    return sheets
