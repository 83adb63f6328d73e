"""The roster import (DESIGN habit 8): parse every sheet, validate every row, report every error with
sheet, Excel row, column header, value and a Chinese message, then write all or nothing.

People are matched by ID number (through its keyed hash), communities by code, appointments by
(person, community, post, start date). Importing the same file twice changes nothing the second
time; a changed value updates the row and is recorded in history. Rows are written in bulk, with
history, in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from shegong.access import Actor, can_at
from shegong.common.bulk import fast_insert, history_insert, new_rows_factory
from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS, choice_lookup
from shegong.common.crypto import mask_id_number, search_hash
from shegong.common.divcodes import DivisionCodeError, normalize_code, reference_names
from shegong.common.errors import ApplicationError, ConflictError
from shegong.common.history import person
from shegong.common.versioning import VERSION_FIELD
from shegong.org.models import Division
from shegong.org.services import division_ensure_ancestors
from shegong.people.idnumber import IdNumberError, parse_id_number
from shegong.people.models import Worker, worker_date_errors
from shegong.people.services import LABELS as WORKER_LABELS
from shegong.people.services import assign_worker_values, normalize_worker_input
from shegong.people.validators import check_not_in_post, check_required
from shegong.roster.columns import (
    APPOINTMENTS,
    COMMUNITIES,
    PEOPLE,
    SHEETS,
    Column,
    SheetSpec,
    header_score,
    normalize_header,
    spec_for_sheet_name,
)
from shegong.roster.limits import Limits, limits
from shegong.roster.spreadsheets import Table, find_header, read_sheets
from shegong.roster.template import AUXILIARY_SHEETS, EXAMPLE_MARK
from shegong.roster.values import cell_text, parse_date, parse_int
from shegong.staffing.compliance import findings_change
from shegong.staffing.models import Appointment, PostType
from shegong.staffing.services import post_type_code
from shegong.staffing.validators import (
    Term,
    check_appointment_dates,
    check_may_hold_current,
    check_min_age,
    normalize_method,
    overlap_message,
    overlapping_pairs,
)

BATCH = 2000
MAX_FINDINGS = 200      # findings added / cleared kept in the preview (all are counted)
MAX_CHANGES = 500       # rows of the preview's list of changes kept in the result (all are counted)
EXAMPLE_KEY = normalize_header(EXAMPLE_MARK)
PARTY_ORG_ALIASES = {"总支": "党总支", "党总支部": "党总支", "支部": "党支部", "党委会": "党委", "社区党委": "党委"}
Progress = Callable[[str, int, int], None]


@dataclass
class Issue:
    sheet: str
    row: int
    column: str
    value: str
    message: str
    col: int | None = None  # 1-based column number in the sheet (for marking the cell)
    name: str = ""          # the row's 姓名 (社区名称 on the 社区 sheet): how a clerk finds the row

    def as_dict(self, *, col: bool = False) -> dict[str, Any]:
        out = {"sheet": self.sheet, "row": self.row, "name": self.name, "column": self.column, "value": self.value,
               "message": self.message}
        if col:
            out["col"] = self.col
        return out


@dataclass
class ImportResult:
    ok: bool = True
    dry_run: bool = False
    created: dict[str, int] = field(default_factory=lambda: {s.key: 0 for s in SHEETS})
    updated: dict[str, int] = field(default_factory=lambda: {s.key: 0 for s in SHEETS})
    unchanged: dict[str, int] = field(default_factory=lambda: {s.key: 0 for s in SHEETS})
    errors: list[Issue] = field(default_factory=list)   # the first `max_errors` (docs/import-limits.md)
    warnings: list[Issue] = field(default_factory=list)  # as many
    error_count: int = 0                                 # all of them
    # What the import creates and updates, row by row (the first MAX_CHANGES; change_count: all of them)
    changes: list[dict[str, Any]] = field(default_factory=list)
    change_count: int = 0
    scope: str = ""             # the division code above every community the import touches
    # The compliance findings the import would add and clear (a preview: RosterImport.preview_findings)
    findings: dict[str, Any] | None = None

    def as_dict(self, *, cells: bool = False) -> dict[str, Any]:
        """The documented JSON form; `cells` adds each error's column number (to mark the workbook)."""
        return {"ok": self.ok, "dry_run": self.dry_run, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "errors": [e.as_dict(col=cells) for e in self.errors],
                "error_count": self.error_count, "warnings": [w.as_dict() for w in self.warnings],
                "changes": self.changes, "change_count": self.change_count, "scope": self.scope,
                "findings": self.findings}


class Row:
    """One data row: its Excel row number and its cells as read (looked up by column key)."""

    __slots__ = ("cells", "number", "table")

    def __init__(self, table: ParsedTable, number: int, cells: list[Any]) -> None:
        self.table = table
        self.number = number
        self.cells = cells

    def value(self, key: str) -> Any:
        i = self.table.columns.get(key)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def has(self, key: str) -> bool:
        return key in self.table.columns


@dataclass
class ParsedTable:
    spec: SheetSpec
    table: Table
    columns: dict[str, int]          # column key -> index in the row
    headers: dict[str, str]          # column key -> header as written in the file
    rows: list[Row] = field(default_factory=list)


CONFLICT = "另一导入同时登记了相同的人员、社区或任职,本次未写入任何数据;请重新校验后再导入"
BUSY = "另一导入正在写入数据库,本次未写入任何数据;请稍后重新校验后再导入"
OUT_OF_SCOPE_PERSON = "此人不能在这里导入:只能导入和修改您管辖范围内的人员"
UNKNOWN_PERSON = "此人既不在本文件的“人员”表中,也不在系统中;请先在“人员”表中登记"
UNKNOWN_PERSON_SCOPED = "此人既不在本文件的“人员”表中,也不在您管辖范围内;请先在“人员”表中登记"
ID_AS_NUMBER = "公民身份号码被存成了数字,Excel 会丢失末几位;请把该列设为文本格式后重新填写"
Committed = Callable[["ImportResult"], None]


def _natural_key(item: dict[str, Any]) -> tuple[str, str, str, dt.date]:
    """(person, community, post, start): an appointment's identity in the file and the database."""
    return item["id_hash"], item["community_code"], item["post"], item["start_date"]


class RosterImport:
    def __init__(self, data: bytes, filename: str, *, actor: Actor, progress: Progress | None = None,
                 lim: Limits | None = None) -> None:
        self.data = data
        self.filename = filename
        self.actor = actor
        self.progress = progress or (lambda stage, done, total: None)
        self.limits = lim or limits()
        self.result = ImportResult()
        self.tables: list[ParsedTable] = []
        self.today = timezone.localdate()
        self.with_history = True  # False while a preview makes the writes (rolled back)

    # ---- reporting ------------------------------------------------------------------------------

    def error(self, row: Row | None, key: str | None, message: str, *, table: ParsedTable | None = None,
              value: Any = None) -> None:
        table = table or (row.table if row else None)
        sheet = table.table.name if table else ""
        header = ""
        index = None
        if table is not None and key is not None:
            header = table.headers.get(key) or next((c.header for c in table.spec.columns if c.key == key), key)
            index = table.columns.get(key)
            if index is not None:
                index += table.table.first_col + 1
        if row is not None and key is not None and value is None:
            value = row.value(key)
        self.result.error_count += 1
        if len(self.result.errors) >= self.limits.max_errors:
            return  # counted, not kept: a file wrong in every cell must not become a huge report
        shown = cell_text(value)
        if key == "id_number" and len(shown) >= 15:
            shown = mask_id_number(shown)  # error reports are masked like every other page
        self.result.errors.append(Issue(sheet, row.number if row else (table.table.header_row if table else 0),
                                        header, shown[:200], message, index, self._row_name(row)))

    def _row_name(self, row: Row | None) -> str:
        """The 姓名 of a row (the 社区名称 of a 社区 row): written in the row, or else, on a 任职 row, the
        name of its person in the file's 人员 sheet or in the system. Only for rows with an error."""
        if row is None:
            return ""
        name = cell_text(row.value("name"))
        if name or row.table.spec is not APPOINTMENTS:
            return name[:50]
        try:
            id_hash = search_hash(parse_id_number(row.value("id_number")).value)
        except (IdNumberError, TypeError, ValueError):
            return ""
        worker = getattr(self, "existing_workers", {}).get(id_hash)
        return str(getattr(self, "file_names", {}).get(id_hash) or (worker.name if worker is not None else ""))[:50]

    def file_error(self, sheet: str, row: int, message: str) -> None:
        """An error of the file or a sheet as a whole (no cell to mark)."""
        self.result.error_count += 1
        if len(self.result.errors) < self.limits.max_errors:
            self.result.errors.append(Issue(sheet, row, "", "", message))

    def warn(self, sheet: str, row: int, column: str, message: str, value: str = "") -> None:
        self.result.warnings.append(Issue(sheet, row, column, value, message))

    # ---- scope ----------------------------------------------------------------------------------

    def in_scope(self, code: str) -> bool:
        # A system actor (`shegong import` without --user) or a superuser imports anywhere; a user within
        # the divisions where they hold `change` (shegong.access, the same grants as every page).
        return can_at(self.actor, "change", code)

    # ---- parsing --------------------------------------------------------------------------------

    def parse(self) -> None:
        """Each sheet is a 社区, 人员 or 任职 table: by its name, or else by the headers it has."""
        for raw in read_sheets(self.data, self.filename):
            if normalize_header(raw.name) in AUXILIARY_SHEETS:
                continue  # the template's 填写说明 and 代码表
            named = spec_for_sheet_name(raw.name)
            specs = [named] if named is not None else list(SHEETS)
            table = find_header(raw, lambda headers, specs=specs: max(header_score(s, headers) for s in specs))
            if table is None:
                if named is not None:
                    required = "、".join(c.header for c in named.columns if c.required)
                    self.file_error(raw.name, 1, f"工作表“{raw.name}”中找不到表头行(应包含 {required})")
                else:
                    self.warn(raw.name, 1, "", f"工作表“{raw.name}”无法识别为社区、人员或任职表,已跳过")
                continue
            spec = named or max(SHEETS, key=lambda s: header_score(s, table.headers))
            self.tables.append(self._columns(spec, table))

    def _columns(self, spec: SheetSpec, table: Table) -> ParsedTable:
        columns: dict[str, int] = {}
        headers: dict[str, str] = {}
        for index, header in enumerate(table.headers):
            norm = normalize_header(header)
            if not norm:
                continue
            col: Column | None = spec.match(header)
            if col is None:
                self.warn(table.name, table.header_row, header.strip(), f"未知列“{header.strip()}”已忽略")
                continue
            if col.key in columns:
                self.warn(table.name, table.header_row, header.strip(),
                          f"列“{header.strip()}”与“{headers[col.key]}”重复,只读取前者")
                continue
            columns[col.key] = index
            headers[col.key] = header.strip()
        parsed = ParsedTable(spec, table, columns, headers)
        for col in spec.columns:
            if col.required and col.key not in columns:
                self.error(None, col.key, f"“{table.name}”表缺少必需的列“{col.header}”", table=parsed, value="")
        parsed.rows = [Row(parsed, number, cells) for number, cells in table.rows if not self._example(table, number, cells)]
        table.rows = []  # the rows live on in `parsed` only
        return parsed

    def _example(self, table: Table, number: int, cells: list[Any]) -> bool:
        """The template's example row (its first cell starts with “示例:”) is skipped, with a warning."""
        first = cells[0] if cells else None
        if not isinstance(first, str) or not normalize_header(first).startswith(EXAMPLE_KEY):
            return False
        self.warn(table.name, number, table.headers[0].strip() if table.headers else "",
                  "这是模板的示例行(第一格以“示例:”开头),已跳过,未导入")
        return True

    def rows(self, spec: SheetSpec) -> Iterable[Row]:
        for t in self.tables:
            if t.spec is spec:
                yield from t.rows

    # ---- the run --------------------------------------------------------------------------------

    def run(self, *, dry_run: bool = False, committed: Committed | None = None, preview: bool = False) -> ImportResult:
        """Check, then (unless dry_run) write. `committed(result)` runs inside the import's transaction,
        after its writes: what it writes (a job's status) is committed with them, or not at all. A dry run
        with `preview` also finds the compliance findings the import would add and clear."""
        self.check(dry_run=dry_run)
        if self.result.ok and not dry_run:
            self.write(committed=committed)
        elif self.result.ok and preview:
            self.preview_findings()
        return self.result

    def preview_findings(self) -> None:
        """The compliance findings this import would add and clear, with their clauses: its very writes
        (commit) made inside a savepoint, the communities it touches checked before and after
        (findings_change), and rolled back. Run last: the writes leave this object's state used up."""
        if not self.touched:
            return
        self.progress("检查对合规的影响", 0, 1)
        progress, self.progress = self.progress, lambda stage, done, total: None
        self.with_history = False
        driver: Any = connection.Database  # type: ignore[attr-defined]
        try:
            change = findings_change(change=self.commit, scope=self.result.scope, actor=self.actor)
        except (ApplicationError, DatabaseError, driver.DatabaseError) as exc:
            text = exc.message if isinstance(exc, ApplicationError) else type(exc).__name__
            self.warn(self.filename, 0, "", f"未能预估导入对合规检查的影响({text});导入本身不受影响")
            return
        finally:
            self.progress = progress

        def listed(findings: list[Any]) -> list[dict[str, Any]]:
            return [{"community": f.community, "name": f.name, "clause": f.clause, "level": f.level,
                     "message": f.message} for f in findings[:MAX_FINDINGS]]

        self.result.findings = {"added": listed(change.added), "cleared": listed(change.cleared),
                                "added_count": len(change.added), "cleared_count": len(change.cleared),
                                "adds_errors": change.adds_errors}

    def check(self, *, dry_run: bool = False) -> ImportResult:
        """Parse, validate and plan, writing nothing."""
        self.result.dry_run = dry_run
        try:
            self.parse()
        except ApplicationError as exc:
            self.file_error(self.filename, 0, exc.message)
        if not self.tables and not self.result.errors:
            self.file_error(self.filename, 0, "文件中没有社区、人员或任职表")
        if not self.result.errors:
            self.validate()
        order = {t.table.name: i for i, t in enumerate(self.tables)}
        self.result.errors.sort(key=lambda e: (order.get(e.sheet, -1), e.row))
        self.result.ok = not self.result.errors
        if self.result.ok:
            self.plan()
        return self.result

    def write(self, *, committed: Committed | None = None) -> ImportResult:
        """Commit the plan in one transaction. Another import that wrote the same people, communities
        or appointments since this one was checked makes it fail as a whole, with a clear message (the
        unique constraints hold); nothing of it is written."""
        # fast_insert's COPY (PostgreSQL) raises the driver's own errors, not Django's wrappers of them
        driver: Any = connection.Database  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                self.commit()
                self._link_people()
                if committed is not None:
                    committed(self.result)
        except ConflictError as exc:
            self._conflict(exc.message)
        except (IntegrityError, driver.IntegrityError):
            self._conflict(CONFLICT)
        except (OperationalError, driver.OperationalError) as exc:
            text = str(exc).lower()
            if "locked" not in text and "deadlock" not in text and "could not serialize" not in text:
                raise
            self._conflict(BUSY)
        return self.result

    def _conflict(self, message: str) -> None:
        self.result.ok = False
        self.result.created = {k: 0 for k in self.result.created}
        self.result.updated = {k: 0 for k in self.result.updated}
        self.result.unchanged = {k: 0 for k in self.result.unchanged}
        self.file_error(self.filename, 0, message)

    # ---- validation -----------------------------------------------------------------------------

    def validate(self) -> None:
        self.progress("校验社区", 0, 1)
        self._validate_communities()
        self.progress("校验人员", 0, 1)
        self._validate_people()
        self.progress("校验任职", 0, 1)
        self._validate_appointments()

    def _code(self, row: Row, key: str, *, level: str = "community") -> str | None:
        raw = row.value(key)
        if raw is None:
            self.error(row, key, "区划代码不能为空")
            return None
        if isinstance(raw, float) and raw != int(raw):
            self.error(row, key, "区划代码应为数字")
            return None
        try:
            code = normalize_code(cell_text(raw))
        except DivisionCodeError as exc:
            self.error(row, key, str(exc))
            return None
        if level == "community" and len(code) != 12:
            self.error(row, key, f"代码 {code} 不是社区代码(社区为 12 位)")
            return None
        return code

    def _duplicates(self, keyed: dict[Any, list[Row]], key: str, what: str) -> set[Any]:
        dup = set()
        for value, rows in keyed.items():
            if len(rows) > 1:
                dup.add(value)
                numbers = "、".join(str(r.number) for r in rows)
                for r in rows:
                    self.error(r, key, f"{what}在文件中重复出现(第 {numbers} 行)")
        return dup

    def _report(self, row: Row, problems: dict[str, str]) -> bool:
        """Report {key: message}; True when there was nothing to report."""
        for key, message in problems.items():
            self.error(row, key, message)
        return not problems

    # 社区 ---------------------------------------------------------------------------------------

    def _validate_communities(self) -> None:
        self.new_streets: dict[str, str] = {}
        self.community_rows: dict[str, dict[str, Any]] = {}
        by_code: dict[str, list[Row]] = defaultdict(list)
        parsed: list[tuple[Row, str, dict[str, Any]]] = []
        for row in self.rows(COMMUNITIES):
            code = self._code(row, "code")
            values = self._community_values(row)
            if code is None:
                continue
            if not self.in_scope(code):
                self.error(row, "code", f"社区 {code} 不在您可管理的范围内")
                continue
            by_code[code].append(row)
            parsed.append((row, code, values))
        dup = self._duplicates(by_code, "code", "区划代码")
        codes = {code for _, code, _ in parsed}
        self.existing_divisions = {d.code: d for d in Division.objects.filter(
            code__in=list(codes | {c[:9] for c in codes} | {c[:6] for c in codes}))}
        reference = reference_names()
        for row, code, values in parsed:
            if code not in dup and self._community_fits(row, code, reference):
                self.community_rows[code] = values

    def _community_values(self, row: Row) -> dict[str, Any]:
        """The values of one 社区 row (errors of single cells reported)."""
        values: dict[str, Any] = {}
        name = cell_text(row.value("name"))
        if not name:
            self.error(row, "name", "社区名称不能为空")
        values["name"] = name
        for key, label in (("households", "户数"), ("resident_population", "常住人口")):
            if row.has(key):
                try:
                    values[key] = parse_int(row.value(key), label)
                except ValueError as exc:
                    self.error(row, key, str(exc))
        if row.has("party_org_type") and row.value("party_org_type") is not None:
            try:
                values["party_org_type"] = choice_lookup(row.value("party_org_type"),
                                                         list(Division.PartyOrgType.choices),
                                                         PARTY_ORG_ALIASES, "党组织类型")
            except ValueError as exc:
                self.error(row, "party_org_type", str(exc))
        if row.has("address"):
            address = row.value("address")
            values["address"] = "" if address is None else str(address).strip()  # free text keeps its spaces
        return values

    def _community_fits(self, row: Row, code: str, reference: Any) -> bool:
        """The community's place in the tree: not another level's code, a known county, a street that
        exists or is named in the file (consistently)."""
        existing = self.existing_divisions.get(code)
        if existing is not None and existing.level != Division.Level.COMMUNITY:
            self.error(row, "code", f"代码 {code} 已是“{existing.name}”,不是社区")
            return False
        if code[:6] not in self.existing_divisions and code[:6] not in reference:
            self.error(row, "code", f"区县代码 {code[:6]} 不在 GB/T 2260 吉林省代码表中,也不在系统中")
            return False
        street = code[:9]
        if street in self.existing_divisions:
            return True
        street_name = cell_text(row.value("street_name"))
        if not street_name:
            if street not in self.new_streets:
                self.error(row, "street_name", f"街道 {street} 尚未建立,请填写街道(乡镇)名称")
                return False
            return True
        if self.new_streets.setdefault(street, street_name) != street_name:
            self.error(row, "street_name", f"街道 {street} 的名称与前面的行不一致(“{self.new_streets[street]}”)")
            return False
        return True

    def _community_exists(self, code: str) -> bool:
        return code in self.community_rows or (
            code in self.existing_divisions and self.existing_divisions[code].level == Division.Level.COMMUNITY)

    def _load_communities(self, codes: set[str]) -> None:
        missing = [c for c in codes if c not in self.existing_divisions]
        for i in range(0, len(missing), BATCH):
            for d in Division.objects.filter(code__in=missing[i:i + BATCH]):
                self.existing_divisions[d.code] = d

    def _load_workers(self, hashes: Iterable[str]) -> None:
        """The registered workers of these ID-number hashes (those not loaded yet), in batches."""
        missing = [h for h in hashes if h not in self.existing_workers]
        for i in range(0, len(missing), BATCH):
            for w in Worker.objects.filter(id_number_hash__in=missing[i:i + BATCH]).select_related("community"):
                self.existing_workers[w.id_number_hash] = w

    # 人员 ---------------------------------------------------------------------------------------

    def _validate_people(self) -> None:
        rows = list(self.rows(PEOPLE))
        self.people: dict[str, dict[str, Any]] = {}   # id hash -> normalised values
        self.people_rows: dict[str, Row] = {}
        self.invalid_people: set[str] = set()
        self.existing_workers: dict[str, Worker] = {}
        self.file_names: dict[str, str] = {}          # id hash -> 姓名 on the 人员 sheet (rows with errors too)
        by_id: dict[str, list[Row]] = defaultdict(list)
        pending: list[tuple[Row, str, dict[str, Any], str]] = []
        total = len(rows)
        for n, row in enumerate(rows, start=1):
            if n % 5000 == 0:
                self.progress("校验人员", n, total)
            found = self._person_row(row, by_id)
            if found is not None:
                pending.append(found)
        dup = self._duplicates(by_id, "id_number", "公民身份号码")
        self._load_communities({code for _, code, _, _ in pending})
        self._load_workers(h for _, _, _, h in pending if h not in dup)
        for row, code, values, id_hash in pending:
            if id_hash not in dup and self._person_fits(row, code, values, id_hash):
                self.people[id_hash] = values
                self.people_rows[id_hash] = row

    def _person_data(self, row: Row) -> tuple[dict[str, Any], bool]:
        """The cells of one 人员 row as the worker services take them, and whether a cell was unreadable."""
        data: dict[str, Any] = {}
        cell_errors = False
        for key in ("name", "ethnicity", "political_status", "education", "category", "status", "gender"):
            if row.has(key) and row.value(key) is not None:
                data[key] = cell_text(row.value(key))
        raw_id = row.value("id_number")
        if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
            self.error(row, "id_number", ID_AS_NUMBER)
            cell_errors = True
        else:
            data["id_number"] = raw_id or ""
        if row.has("phone") and row.value("phone") is not None:
            data["phone"] = cell_text(row.value("phone"))
        for key in ("work_start_date", "post_start_date", "birth_date"):
            if row.has(key):
                try:  # implausible dates are refused later (worker_date_errors)
                    value = parse_date(row.value(key))
                except ValueError as exc:
                    self.error(row, key, str(exc))
                    cell_errors = True
                    continue
                if value is not None:
                    data[key] = value
        if not self._report(row, check_required(data, ("name",), WORKER_LABELS)):
            cell_errors = True
        return data, cell_errors

    def _person_row(self, row: Row, by_id: dict[str, list[Row]]) -> tuple[Row, str, dict[str, Any], str] | None:
        """The field rules of one 人员 row (normalize_worker_input, as worker_create applies them)."""
        data, cell_errors = self._person_data(row)
        code = self._code(row, "community")
        values, errors = normalize_worker_input(data)
        for key, messages in errors.items():
            for message in messages:
                self.error(row, key, message)
        id_hash = search_hash(values["id_number"].value) if "id_number" in values else ""
        if id_hash:
            by_id[id_hash].append(row)  # duplicates are reported even on rows with other errors
            self.file_names.setdefault(id_hash, str(values.get("name") or ""))  # names 任职 rows, even if wrong
        if errors or cell_errors or code is None:
            if id_hash:
                self.invalid_people.add(id_hash)
            return None
        if not self.in_scope(code):
            self.error(row, "community", f"社区 {code} 不在您可管理的范围内")
            return None
        return row, code, values, id_hash

    def _person_fits(self, row: Row, code: str, values: dict[str, Any], id_hash: str) -> bool:
        """The rules of one person against the database and the rest of the file."""
        if not self._community_exists(code):
            self.error(row, "community", f"社区 {code} 既不在本文件的“社区”表中,也不在系统中")
            return False
        existing = self.existing_workers.get(id_hash)
        if existing is not None and not self.in_scope(existing.community.code):
            self.error(row, "id_number", OUT_OF_SCOPE_PERSON)
            return False
        values["community_code"] = code
        return self._report(row, worker_date_errors(
            values["id_number"].birth_date,
            values.get("work_start_date", existing.work_start_date if existing else None),
            values.get("post_start_date", existing.post_start_date if existing else None), self.today))

    def _check_leavers(self) -> None:
        """A person whose 状态 becomes 离岗/退休/辞职/解聘 must leave every current post first — in the
        database or by an end date in this file (check_not_in_post, as worker_update applies it)."""
        leavers = {id_hash: values["status"] for id_hash, values in self.people.items()
                   if values.get("status") not in (None, "", Worker.Status.ACTIVE) and id_hash in self.existing_workers}
        if not leavers:
            return
        ended = {(a["id_hash"], a["community_code"], a["post"], a["start_date"])
                 for a in self.appointments if a["end_date"] is not None}
        current: dict[int, list[tuple[tuple[str, str, dt.date], Appointment]]] = defaultdict(list)
        for (wid, code, post, start), a in self.existing_appointments.items():
            if a.end_date is None:
                current[wid].append(((code, post, start), a))
        for id_hash, status in leavers.items():
            worker = self.existing_workers[id_hash]
            holding = [a.post_type.name for key, a in current[worker.pk] if (id_hash, *key) not in ended]
            problem = check_not_in_post(status, holding, name=self.people[id_hash].get("name") or worker.name)
            if problem:
                self.error(self.people_rows[id_hash], "status", problem)

    # 任职 ---------------------------------------------------------------------------------------

    def _validate_appointments(self) -> None:
        posts = {p.code: p for p in PostType.objects.all()}
        self.appointments: list[dict[str, Any]] = []
        keyed: dict[tuple[str, str, str, dt.date], list[Row]] = defaultdict(list)
        pending: list[dict[str, Any]] = []
        for row in self.rows(APPOINTMENTS):
            item = self._appointment_item(row)
            if item is None:
                continue
            if not self.in_scope(item["community_code"]):
                self.error(row, "community", f"社区 {item['community_code']} 不在您可管理的范围内")
                continue
            keyed[_natural_key(item)].append(row)
            pending.append(item)
        dup = self._duplicates(keyed, "start_date", "同一人、同一社区、同一岗位、同一任职日期的任职")
        self._load_communities({item["community_code"] for item in pending})
        self._load_workers({item["id_hash"] for item in pending if item["id_hash"] not in self.people})
        terms = self._load_terms()
        for item in pending:
            if _natural_key(item) not in dup and self._appointment_fits(item):
                item["post_type"] = posts[item["post"]]
                # a row with the start of a registered term is that term (an update): it replaces it
                terms[_natural_key(item)[:3]][item["start_date"]] = Term(item["start_date"], item["end_date"], item)
                self.appointments.append(item)
        self._check_leavers()
        self._check_overlaps(terms)

    def _appointment_item(self, row: Row) -> dict[str, Any] | None:
        """The cell rules of one 任职 row (normalize_method, check_appointment_dates: the rules
        appointment_create applies); None when the row has errors."""
        id_hash, birth = self._appointment_person(row)
        code = self._code(row, "community")
        post = method = None
        try:
            post = post_type_code(row.value("post_type"))
        except ApplicationError as exc:
            self.error(row, "post_type", exc.message)
        try:
            method = normalize_method(row.value("method"))
        except ApplicationError as exc:
            self.error(row, "method", exc.message)
        dates = self._appointment_dates(row)
        if not id_hash or code is None or post is None or method is None or dates is None:
            return None
        return {"id_hash": id_hash, "birth": birth, "community_code": code, "post": post, "method": method,
                "start_date": dates["start_date"], "end_date": dates["end_date"], "row": row}

    def _appointment_person(self, row: Row) -> tuple[str, dt.date | None]:
        """The ID-number hash and birth date of the row's person; ("", None) when the number is wrong."""
        raw_id = row.value("id_number")
        if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
            self.error(row, "id_number", ID_AS_NUMBER)
            return "", None
        try:
            parsed_id = parse_id_number(raw_id)
        except IdNumberError as exc:
            self.error(row, "id_number", str(exc))
            return "", None
        return search_hash(parsed_id.value), parsed_id.birth_date

    def _appointment_dates(self, row: Row) -> dict[str, dt.date | None] | None:
        dates: dict[str, dt.date | None] = {}
        unreadable: set[str] = set()
        for key in ("start_date", "end_date"):
            try:
                dates[key] = parse_date(row.value(key)) if row.has(key) else None
            except ValueError as exc:
                self.error(row, key, str(exc))
                unreadable.add(key)
                dates[key] = None
        problems = check_appointment_dates(dates["start_date"], dates["end_date"], as_of=self.today)
        self._report(row, {k: m for k, m in problems.items() if k not in unreadable})
        return None if unreadable or problems else dates

    def _load_terms(self) -> dict[tuple[str, str, str], dict[dt.date, Term]]:
        """The registered appointments of every person in the file (a few batched queries), by natural
        key for planning and as terms by (person, community, post) for the overlap rule."""
        worker_ids = [w.pk for w in self.existing_workers.values()]
        self.existing_appointments: dict[tuple[int, str, str, dt.date], Appointment] = {}
        terms: dict[tuple[str, str, str], dict[dt.date, Term]] = defaultdict(dict)
        for i in range(0, len(worker_ids), BATCH):
            for a in (Appointment.objects.filter(worker_id__in=worker_ids[i:i + BATCH])
                      .select_related("community", "post_type", "worker")):
                self.existing_appointments[(a.worker_id, a.community.code, a.post_type.code, a.start_date)] = a
                terms[(a.worker.id_number_hash, a.community.code, a.post_type.code)][a.start_date] = Term(
                    a.start_date, a.end_date, a)
        return terms

    def _appointment_fits(self, item: dict[str, Any]) -> bool:
        """The rules of one term against its person (check_may_hold_current, check_min_age: as
        appointment_create applies them)."""
        row = item["row"]
        in_file = self.people.get(item["id_hash"])
        existing_worker = self.existing_workers.get(item["id_hash"])
        if in_file is None and item["id_hash"] in self.invalid_people:
            self.error(row, "id_number", "此人在“人员”表中的行有错误;请先更正那一行")
            return False
        if in_file is None and (existing_worker is None or not self.in_scope(existing_worker.community.code)):
            # one message for "unknown" and "registered elsewhere": whether an ID number exists
            # outside the importer's scope must not be learnt from an import
            self.error(row, "id_number", UNKNOWN_PERSON_SCOPED if not self.in_scope("") else UNKNOWN_PERSON)
            return False
        if not self._community_exists(item["community_code"]):
            self.error(row, "community", f"社区 {item['community_code']} 既不在本文件的“社区”表中,也不在系统中")
            return False
        known: Any = existing_worker
        name = (in_file or {}).get("name") or known.name
        status = (in_file or {}).get("status") or (known.status if known else Worker.Status.ACTIVE)
        item["name"] = name
        return self._report(row, {key: problem for key, problem in (
            ("end_date", check_may_hold_current(status, item["end_date"], name=name)),
            ("start_date", check_min_age(item["birth"], item["start_date"], name=name))) if problem})

    def _check_overlaps(self, terms: dict[tuple[str, str, str], dict[dt.date, Term]]) -> None:
        """check_overlap for the whole file at once: per person, community and post, the registered
        terms and the file's (overlapping_pairs); each row of the file is reported once."""
        reported: set[int] = set()
        for spans in terms.values():
            if len(spans) < 2:
                continue
            for earlier, later in overlapping_pairs(list(spans.values())):
                mine, other = (earlier, later) if isinstance(earlier.ref, dict) else (later, earlier)
                if not isinstance(mine.ref, dict) or id(mine.ref) in reported:
                    continue
                reported.add(id(mine.ref))
                item = mine.ref
                self.error(item["row"], "start_date",
                           overlap_message(name=item["name"], post_name=item["post_type"].name, other=other))

    # ---- planning and writing --------------------------------------------------------------------

    def plan(self) -> None:
        """Decide, without writing, what each row creates, updates or leaves as it is."""
        self.plan_divisions: list[tuple[str, dict[str, Any], Division | None]] = []
        for code, values in self.community_rows.items():
            existing = self.existing_divisions.get(code)
            self._plan_row(self.plan_divisions, "communities", code, values, existing, _changed_values)
        self.plan_workers: list[tuple[str, dict[str, Any], Worker | None]] = []
        for id_hash, values in self.people.items():
            self._plan_row(self.plan_workers, "people", id_hash, values, self.existing_workers.get(id_hash),
                           self._worker_diff)
        self.plan_appointments: list[tuple[dict[str, Any], dict[str, Any], Appointment | None]] = []
        for item in self.appointments:
            holder = self.existing_workers.get(item["id_hash"])
            appointment = None
            if holder is not None:
                appointment = self.existing_appointments.get(
                    (holder.pk, item["community_code"], item["post"], item["start_date"]))
            # a new appointment is built from the item itself (the key), the values are for the diff only
            self._plan_row(self.plan_appointments, "appointments", item, item, appointment, _appointment_diff)
        self._list_changes()

    # ---- the list of changes (the preview's names) --------------------------------------------------

    def _community_name(self, code: str) -> str:
        known = self.existing_divisions.get(code)
        return str(self.community_rows.get(code, {}).get("name") or (known.name if known else code))

    def _list_changes(self) -> None:
        """Every planned row as the preview lists it (新增/更新, 姓名, 社区, what changes), the first
        MAX_CHANGES kept; and the communities touched, for the compliance preview and the link after."""
        self.touched: set[str] = set()
        self._change_people: list[tuple[dict[str, Any], str]] = []  # entries to link to the person, after
        for code, values, division in self.plan_divisions:
            self.touched.add(code)
            self._change("社区", division, self._community_name(code), code,
                         _describe(values, division, Division) if division else _community_summary(values))
        for id_hash, values, worker in self.plan_workers:
            self.touched.update({values.get("community_code") or "", worker.community.code if worker else ""} - {""})
            code = values.get("community_code") or (worker.community.code if worker else "")
            name = values.get("name") or (worker.name if worker else "")
            self._change("人员", worker, name, code, self._worker_change(values, worker), id_hash)
        for item, values, appointment in self.plan_appointments:
            self.touched.add(item["community_code"])
            text = (_describe(values, appointment, Appointment) if appointment else
                    f"{item['post_type'].name} · {item['method']} · {item['start_date']:%Y-%m-%d} 起"
                    + (f",{item['end_date']:%Y-%m-%d} 离任" if item["end_date"] else ""))
            self._change("任职", appointment, item.get("name", ""), item["community_code"], text, item["id_hash"])
        self.result.scope = _common_division(self.touched)

    def _change(self, sheet: str, existing: Any, name: str, code: str, change: str, id_hash: str = "") -> None:
        self.result.change_count += 1
        if len(self.result.changes) >= MAX_CHANGES:
            return
        entry = {"sheet": sheet, "action": "更新" if existing is not None else "新增", "name": name,
                 "community": code, "community_name": self._community_name(code), "change": change}
        self.result.changes.append(entry)
        if id_hash:
            self._change_people.append((entry, id_hash))

    def _worker_change(self, values: dict[str, Any], existing: Worker | None) -> str:
        if existing is None:
            return str(values.get("category") or "")
        parts = []
        for key, value in values.items():
            label = WORKER_LABELS.get(key, "所在社区" if key == "community_code" else key)
            if key == "phone":
                parts.append(f"{label}已更改")
            elif key == "community_code":
                parts.append(f"{label}:{existing.community.name} → {self._community_name(value)}")
            else:
                parts.append(f"{label}:{_shown(key, getattr(existing, key))} → {_shown(key, value)}")
        return ";".join(parts)

    def _link_people(self) -> None:
        """After the writes: each listed person's key, so that the page after the import links to them."""
        for entry, id_hash in getattr(self, "_change_people", ()):
            worker = self.existing_workers.get(id_hash)
            if worker is not None and worker.pk is not None:
                entry["worker"] = worker.pk

    def _plan_row(self, plan: list[Any], kind: str, key: Any, values: dict[str, Any], existing: Any,
                  diff_of: Callable[[Any, dict[str, Any]], dict[str, Any]]) -> None:
        """One row of the plan, counted: new (`values` to create it with), changed (only the differences
        `diff_of(existing, values)` finds on the row that exists), or unchanged (not planned)."""
        if existing is None:
            plan.append((key, values, None))
            self.result.created[kind] += 1
            return
        diff = diff_of(existing, values)
        if diff:
            plan.append((key, diff, existing))
            self.result.updated[kind] += 1
        else:
            self.result.unchanged[kind] += 1

    def commit(self) -> None:
        """The writes; `write` runs them in one transaction."""
        reason = f"导入 {self.filename}"
        user = person(self.actor)  # the bulk history rows name a person; a system actor is no row
        kwargs = {"default_user": user, "default_change_reason": reason, "batch_size": BATCH}
        self._commit_divisions(user, reason, kwargs)
        self._commit_workers(user, reason, kwargs)
        self._commit_appointments(user, reason, kwargs)

    def _commit_divisions(self, actor: Actor, reason: str, kwargs: dict[str, Any]) -> None:
        self.progress("写入社区", 0, len(self.plan_divisions))
        for street, name in sorted(self.new_streets.items()):
            if street not in self.existing_divisions:
                self.existing_divisions[street] = division_ensure_ancestors(
                    code=street + "001", actor=self.actor, reason=reason, names={street: name})  # type: ignore[assignment]
        streets = {code[:9] for code, _, existing in self.plan_divisions if existing is None}
        for d in Division.objects.filter(code__in=list(streets - set(self.existing_divisions))):
            self.existing_divisions[d.code] = d
        new = [Division(code=code, level=Division.Level.COMMUNITY, parent=self.existing_divisions[code[:9]], **values)
               for code, values, existing in self.plan_divisions if existing is None]
        changed, fields = _apply_diffs(self.plan_divisions)
        if new:
            self._create(new, Division, actor, reason)
            for d in Division.objects.filter(code__in=[d.code for d in new]):
                self.existing_divisions[d.code] = d
        if changed:
            self._update(changed, Division, sorted(fields), kwargs)

    def _commit_workers(self, actor: Actor, reason: str, kwargs: dict[str, Any]) -> None:
        total = len(self.plan_workers)
        self.progress("写入人员", 0, total)
        new_workers: list[Any] = []
        changed_workers, worker_fields = [], set()
        new_worker = new_rows_factory(Worker)
        for _, planned, known in self.plan_workers:
            values = dict(planned)
            code = values.pop("community_code", None)
            if code is not None:
                values["community"] = self.existing_divisions[code]
            if known is None:
                worker = new_worker(community_id=values.pop("community").pk)
                assign_worker_values(worker, values)
                new_workers.append(worker)
            else:
                assign_worker_values(known, values)
                worker_fields |= {f for k in values for f in _WORKER_FIELDS.get(k, (k,))}
                changed_workers.append(known)
        self._write(Worker, "人员", new_workers, changed_workers, worker_fields,
                    insert=lambda chunk: self._insert_workers(chunk, actor, reason), total=total, kwargs=kwargs)

    def _insert_workers(self, chunk: list[Any], actor: Actor, reason: str) -> None:
        """Insert new workers, read their keys back by ID-number hash, write their creation history."""
        fast_insert(Worker, chunk)
        by_hash = {w.id_number_hash: w for w in chunk}
        for j in range(0, len(chunk), BATCH):
            hashes = [w.id_number_hash for w in chunk[j:j + BATCH]]
            for pk, id_hash in Worker.objects.filter(id_number_hash__in=hashes).values_list("pk", "id_number_hash"):
                by_hash[id_hash].set_pk(pk)
        self._history(Worker, chunk, actor, reason)
        self.existing_workers.update(by_hash)

    def _commit_appointments(self, actor: Actor, reason: str, kwargs: dict[str, Any]) -> None:
        total = len(self.plan_appointments)
        self.progress("写入任职", 0, total)
        new_appointment = new_rows_factory(Appointment)
        new_appts = [new_appointment(
            worker_id=self.existing_workers[item["id_hash"]].pk,
            community_id=self.existing_divisions[item["community_code"]].pk,
            post_type_id=item["post_type"].pk, method=item["method"], start_date=item["start_date"],
            end_date=item["end_date"]) for item, _, appointment in self.plan_appointments if appointment is None]
        changed_appts, appt_fields = _apply_diffs(self.plan_appointments)
        self._write(Appointment, "任职", new_appts, changed_appts, appt_fields,
                    insert=lambda chunk: self._insert_appointments(chunk, actor, reason), total=total, kwargs=kwargs)

    def _write(self, model: Any, label: str, new: list[Any], changed: list[Any], fields: set[str], *,
               insert: Callable[[list[Any]], None], total: int, kwargs: dict[str, Any]) -> None:
        """The set-based write of one kind of row: the new ones inserted in chunks (`insert`, with progress
        after each), the changed ones claimed at the version read when checked and updated in bulk with
        their history."""
        step = BATCH * 5
        for i in range(0, len(new), step):
            insert(new[i:i + step])
            self.progress(f"写入{label}", min(i + step, total), total)
        if changed:
            self._claim_versions(changed, model, label)
            self._update(changed, model, sorted(fields | {VERSION_FIELD}), kwargs)

    def _history(self, model: Any, objs: list[Any], actor: Actor, reason: str) -> None:
        """The creation history of new rows (who, when, the file) — not in a preview, whose writes are
        rolled back: history rows change no compliance finding, and they are half the writing."""
        if self.with_history:
            history_insert(model, objs, actor=actor, reason=reason)

    def _update(self, objs: list[Any], model: Any, fields: list[str], kwargs: dict[str, Any]) -> None:
        """A bulk update with its history (without, in a preview: see _history)."""
        if self.with_history:
            bulk_update_with_history(objs, model, fields, **kwargs)
        else:
            model.objects.bulk_update(objs, fields, batch_size=BATCH)

    def _insert_appointments(self, appts: list[Any], actor: Actor, reason: str) -> None:
        """Insert new appointments, read their keys back by natural key, write their creation history."""
        fast_insert(Appointment, appts)
        keyed = {(a.worker_id, a.community_id, a.post_type_id, a.start_date): a for a in appts}
        worker_ids = sorted({a.worker_id for a in appts})
        for j in range(0, len(worker_ids), BATCH):
            rows = Appointment.objects.filter(worker_id__in=worker_ids[j:j + BATCH]).values_list(
                "pk", "worker_id", "community_id", "post_type_id", "start_date")
            for pk, *key in rows:
                found = keyed.get(tuple(key))  # type: ignore[arg-type]
                if found is not None:
                    found.set_pk(pk)
        self._history(Appointment, appts, actor, reason)

    @staticmethod
    def _claim_versions(objs: list[Any], model: Any, label: str) -> None:
        """Optimistic concurrency for the bulk path (shegong/common/versioning.py): the rows this import
        changes are locked and must still be at the version read when the file was checked; each goes
        up by one, as a save() would. A row edited meanwhile fails the import as a whole."""
        by_pk = {o.pk: o for o in objs}
        pks = sorted(by_pk)
        moved = 0
        for i in range(0, len(pks), BATCH):
            rows = model.objects.select_for_update().filter(pk__in=pks[i:i + BATCH]).values_list("pk", VERSION_FIELD)
            moved += sum(1 for pk, version in rows if version != getattr(by_pk[pk], VERSION_FIELD))
        if moved:
            raise ConflictError(f"校验之后有 {moved} 条{label}记录已被他人修改,本次未写入任何数据;请重新校验后再导入")
        for o in objs:
            setattr(o, VERSION_FIELD, getattr(o, VERSION_FIELD) + 1)

    def _create(self, objs: list[Any], model: Any, actor: Actor, reason: str) -> None:
        """Insert new rows and their creation history (who, when, the file) in bulk."""
        model.objects.bulk_create(objs, batch_size=BATCH)
        if any(o.pk is None for o in objs):
            raise RuntimeError("this database backend does not return primary keys from bulk inserts")
        self._history(model, objs, actor, reason)

    @staticmethod
    def _worker_diff(worker: Worker, values: dict[str, Any]) -> dict[str, Any]:
        diff: dict[str, Any] = {}
        for key, value in values.items():
            if key == "id_number":
                continue  # matched by it: the same number
            if key == "community_code":
                if worker.community.code != value:
                    diff[key] = value
            elif key == "phone":
                if worker.phone_hash != search_hash(value.replace("-", "")):
                    diff[key] = value
            elif getattr(worker, key) != value:
                diff[key] = value
        return diff


_CODE_TABLES = {"ethnicity": ETHNICITY, "political_status": POLITICAL_STATUS, "education": EDUCATION}


def _shown(key: str, value: Any) -> str:
    """A value as the preview shows it: a code table's name, a date, or 空 for nothing."""
    if value in (None, ""):
        return "空"
    if key in _CODE_TABLES:
        return _CODE_TABLES[key].label(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _describe(diff: dict[str, Any], existing: Any, model: Any) -> str:
    """“户数:2800 → 3000;党组织类型:党支部 → 党委” for the planned differences of a row that exists."""
    return ";".join(f"{model._meta.get_field(k).verbose_name}:{_shown(k, getattr(existing, k))} → {_shown(k, v)}"
                    for k, v in diff.items())


def _community_summary(values: dict[str, Any]) -> str:
    parts = [f"户数 {values['households']}" if values.get("households") is not None else "",
             f"常住人口 {values['resident_population']}" if values.get("resident_population") is not None else "",
             values.get("party_org_type") or ""]
    return " · ".join(p for p in parts if p)


def _common_division(codes: Iterable[str]) -> str:
    """The code of the smallest division above every code given (a province, city, county, street or
    community code; "" when they lie in different provinces)."""
    codes = list(codes)
    if not codes:
        return ""
    first, last = min(codes), max(codes)
    for length in (12, 9, 6, 4, 2):
        if first[:length] == last[:length]:
            return first[:length]
    return ""


def _changed_values(existing: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The values that differ from the row's own (a community's name and the like)."""
    return {k: v for k, v in values.items() if getattr(existing, k) != v}


def _appointment_diff(appointment: Any, item: dict[str, Any]) -> dict[str, Any]:
    """What a roster row may change on an appointment it matches: the method and the end date."""
    return _changed_values(appointment, {k: item[k] for k in ("method", "end_date")})


def _apply_diffs(plan: list[tuple[Any, dict[str, Any], Any]]) -> tuple[list[Any], set[str]]:
    """The rows a plan already knows (its third item), each with its planned differences set on it, and
    the fields those differences touch (for one bulk update)."""
    changed, fields = [], set()
    for _, diff, existing in plan:
        if existing is not None:
            for k, v in diff.items():
                setattr(existing, k, v)
            fields |= set(diff)
            changed.append(existing)
    return changed, fields


_WORKER_FIELDS = {"phone": ("phone_encrypted", "phone_hash", "phone_masked"), "community": ("community",)}


def import_roster(data: bytes, filename: str, *, actor: Actor, dry_run: bool = False,
                  progress: Progress | None = None, committed: Committed | None = None,
                  preview: bool = False) -> ImportResult:
    """Import a roster workbook; with dry_run, validate and count without writing (and with preview,
    find the compliance findings the import would add and clear). A file beyond the limits
    (docs/import-limits.md), or one that another import conflicts with, comes back as a result with
    ok=False and the reason as its error; nothing is written then."""
    return RosterImport(data, filename, actor=actor, progress=progress).run(dry_run=dry_run, committed=committed,
                                                                            preview=preview)
