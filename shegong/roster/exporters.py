"""Writing the canonical workbook: the template (shegong.roster.template), and every list exported in the same form, so
that export → import changes nothing. Rows are streamed from the database into a write-only
workbook on disk; a 100,000-row export never holds all rows in memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.db.models import QuerySet
from openpyxl import Workbook

from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS
from shegong.common.crypto import decrypt
from shegong.common.xlsx import safe_row, write_row
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.roster.columns import APPOINTMENTS, COMMUNITIES, PEOPLE, SheetSpec
from shegong.roster.template import write_template
from shegong.staffing.models import Appointment

CHUNK = 2000


def _header(ws: Any, spec: SheetSpec, extra: Iterable[str] = ()) -> None:
    write_row(ws, [c.header for c in spec.template_columns()] + list(extra), header=True)


def _sheet(wb: Workbook, spec: SheetSpec, extra: Iterable[str] = ()) -> Any:
    ws = wb.create_sheet(spec.name)
    ws.column_dimensions["A"].width = 22
    for letter in "BCDEFGHIJKLM":
        ws.column_dimensions[letter].width = 16
    _header(ws, spec, extra)
    return ws


def _text(value: Any) -> Any:
    return "" if value is None else value


def community_rows(qs: QuerySet[Division]) -> Iterator[list[Any]]:
    for d in qs.select_related("parent").order_by("code").iterator(chunk_size=CHUNK):
        yield [d.code, d.name, d.parent.name if d.parent else "", _text(d.households),
               _text(d.resident_population), d.party_org_type, d.address]


def people_rows(qs: QuerySet[Worker], *, full: bool) -> Iterator[list[Any]]:
    for w in qs.select_related("community").order_by("community__code", "id").iterator(chunk_size=CHUNK):
        yield [w.name, decrypt(w.id_number_encrypted) if full else w.id_number_masked,
               ETHNICITY.label(w.ethnicity), POLITICAL_STATUS.label(w.political_status), EDUCATION.label(w.education),
               decrypt(w.phone_encrypted) if full else w.phone_masked, w.category,
               w.work_start_date, w.post_start_date, w.community.code, w.gender, w.birth_date, w.status]


def appointment_rows(qs: QuerySet[Appointment], *, full: bool) -> Iterator[list[Any]]:
    qs = qs.select_related("worker", "community", "post_type").order_by("community__code", "post_type__sort", "id")
    for a in qs.iterator(chunk_size=CHUNK):
        yield [decrypt(a.worker.id_number_encrypted) if full else a.worker.id_number_masked, a.community.code,
               a.post_type.name, a.method, a.start_date, a.end_date, a.worker.name]


def write_workbook(out: IO[bytes], *, communities: QuerySet[Division] | None = None,
                   people: QuerySet[Worker] | None = None, appointments: QuerySet[Appointment] | None = None,
                   full: bool = False, template: bool = False) -> None:
    """Write the sheets given (with `template`, the template of shegong.roster.template instead). Dates
    are real Excel dates; ID numbers and phones are text (masked unless `full`)."""
    if template:
        write_template(out)
        return
    wb = Workbook(write_only=True)
    if communities is not None:
        ws = _sheet(wb, COMMUNITIES, ["地址"])
        for row in community_rows(communities):
            ws.append(safe_row(ws, row))
    if people is not None:
        ws = _sheet(wb, PEOPLE, ["性别", "出生日期", "状态"])
        for row in people_rows(people, full=full):
            ws.append(safe_row(ws, row))
    if appointments is not None:
        ws = _sheet(wb, APPOINTMENTS, ["姓名"])
        for row in appointment_rows(appointments, full=full):
            ws.append(safe_row(ws, row))
    wb.save(out)


def export_to_tempfile(**kwargs: Any) -> IO[bytes]:
    """The workbook in a spooled temporary file (on disk past 16 MiB), rewound for streaming."""
    tmp = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (returned open)
    write_workbook(tmp, **kwargs)  # type: ignore[arg-type]
    tmp.seek(0)
    return tmp  # type: ignore[return-value]

