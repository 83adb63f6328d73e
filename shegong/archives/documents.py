"""The two printed archive documents (8.1.2), as PDF bytes:

* 档案目录 — the catalogue of the archive in the ten classes (selectors.catalogue), every class listed
  even when empty, appointments from staffing in class 9 and transfers in class 10. Voided records
  stay in the catalogue, struck through, unnumbered, with 作废 and the reason: the archive never loses
  an item (DESIGN habit 7) and a printed catalogue must match what the archive holds.
* 社区工作者信息表 — one A4 page in the layout of the 干部任免审批表: basic facts, photo, education,
  qualification, current posts, résumé, rewards and sanctions. Every box has a fixed height (LAYOUT)
  and its text the largest font size that fits it (estimated from the text, fit_lines / fit_cell);
  what would not fit even at 6.5 pt — the oldest jobs or honours — is summarised ("……更早的 N 段工作
  经历从略,详见档案第一类"), never spilled onto a second page. The current résumé of 15 jobs prints at
  10.5 pt.

Only the masked ID number is printed; the encrypted one is never read here. The photo is never the scan
itself: it is the scan's print rendition (storage.photo_rendition: made once from the bytes whose SHA-256
is checked, at most 600 × 800 pixels, a JPEG without metadata), handed to the PDF helper as the resource
`photo.jpg` — so a 9000 × 9000 scan costs its decoding once, not on every print, and nothing that could
fail to load is embedded as a data: URL (WeasyPrint would log the whole URL). A scan that cannot be used
(too many pixels, undecodable) leaves the box empty with a short Chinese note; the form still prints.
The rendition and the rendering share one of the PDF helper's render slots (info_form_pdf).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from shegong.archives import selectors, storage
from shegong.archives.models import ArchiveRecord, Attachment, Education
from shegong.archives.rules import archive_rules
from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS
from shegong.common.images import ImageRefused
from shegong.common.pdf import render_pdf, render_slot
from shegong.people.models import Worker
from shegong.staffing.models import Appointment

logger = logging.getLogger(__name__)

CLASS_NUMERALS = "一二三四五六七八九十"
PHOTO_TYPES = ("image/jpeg", "image/png")
PHOTO_RESOURCE = "photo.jpg"
# The short forms a 任免审批表 prints for the long GB/T 4762 names.
POLITICAL_SHORT = {"01": "中共党员", "02": "中共预备党员", "03": "共青团员"}

# The information form's boxes (mm). The template takes its heights from here (LAYOUT), so the text
# is fitted into exactly the boxes it is printed in, and the page's height is fixed whatever the data:
# every cell clips at its box, after its font size was chosen to fit.
PT_MM = 25.4 / 72
FONT_SIZES = (10.5, 10, 9.5, 9, 8.5, 8, 7.5, 7, 6.5)
CELL_SIZES = (*FONT_SIZES, 6.0, 5.5, 5.0)
LINE_HEIGHT = 1.4            # the lists (résumé, rewards and sanctions, qualification, posts)
CELL_LINE_HEIGHT = 1.25      # the cells of the grid
PAD_MM = 2.0                 # left and right padding of a cell
COLUMNS_MM: tuple[float, ...] = (20, 24, 18, 26, 22, 28, 36)   # 174 mm: A4 less 18 mm margins
WIDE_MM = sum(COLUMNS_MM[1:]) - 2 * PAD_MM    # a value spanning the six columns right of the label
LAYOUT = {"basic_mm": 9.5, "edu_mm": 10.0, "short_mm": 12.0, "resume_mm": 106.0, "honours_mm": 30.0}
RESUME_DATE_EM = 9.0         # "2008.07—2012.05" and a gap
HONOUR_DATE_EM = 5.0         # "2019.12" and a gap


def ym(day: dt.date | None) -> str:
    return f"{day.year}.{day.month:02d}" if day else ""


def ymd(day: dt.date | None) -> str:
    return f"{day.year}.{day.month:02d}.{day.day:02d}" if day else ""


def _today() -> dt.date:
    return timezone.localdate()


# ------------------------------------------------------------------------------------------- 档案目录


@dataclass
class CatalogueRow:
    class_no: int
    number: str
    title: str
    date: str
    issuer: str
    copies: str
    notes: str
    voided: bool = False
    void_reason: str = ""


@dataclass
class CatalogueClass:
    number: int
    heading: str
    rows: list[CatalogueRow] = field(default_factory=list)


def catalogue_classes(*, worker: Worker) -> list[CatalogueClass]:
    """The ten classes with their rows, in catalogue order."""
    classes = {n: CatalogueClass(n, f"第{CLASS_NUMERALS[n - 1]}类 {name}")
               for n, name in sorted(archive_rules().classes.items())}
    for e in selectors.catalogue(worker=worker):
        copies = f"{len(e.attachments)} 份" if e.source == "record" else "—"
        reason = e.record.void_reason if e.record is not None else ""
        classes[e.archive_class].rows.append(CatalogueRow(
            e.archive_class, str(e.number) if e.number else "—", e.title, ymd(e.date), e.issuer, copies, e.notes,
            e.voided, reason))
    return list(classes.values())


def catalogue_pdf(*, worker: Worker) -> bytes:
    """档案目录 of the worker's archive (A4, page numbers, printed date)."""
    classes = catalogue_classes(worker=worker)
    rows = [r for c in classes for r in c.rows]
    return render_pdf("archives/pdf_catalogue.html", {
        "worker": worker, "classes": classes, "printed_on": _today(),
        "total": sum(1 for r in rows if not r.voided), "voided": sum(1 for r in rows if r.voided),
    })


# ------------------------------------------------------------------------------------ 社区工作者信息表


@dataclass
class Line:
    """One line of a dated list (résumé, rewards and sanctions): the period and the text."""

    when: str
    text: str


@dataclass
class FittedLines:
    lines: list[Line]
    font_pt: float
    omitted: int = 0             # lines left out (the oldest) because even the smallest size was too big
    note: str = ""               # what says so, printed above the lines


def _text_em(text: str) -> float:
    """Width of a text in em: CJK and full-width characters 1 em, the rest about half an em."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.55 for ch in text)


def _height_mm(lines: Sequence[Line], font_pt: float, date_em: float, width_mm: float,
               line_height: float = LINE_HEIGHT) -> float:
    em_mm = font_pt * PT_MM
    text_mm = width_mm - date_em * em_mm
    rows = sum(max(1, math.ceil(_text_em(line.text) * em_mm / text_mm)) for line in lines)
    return rows * em_mm * line_height


def fit_lines(lines: list[Line], *, height_mm: float, date_em: float, width_mm: float = WIDE_MM,
              overflow: str = "") -> FittedLines:
    """The largest font size at which the lines fill at most `height_mm` (with a safety margin). When
    none does, the oldest lines give way to one summary line (`overflow` formatted with their count)."""
    budget = height_mm * 0.92
    for size in FONT_SIZES:
        if _height_mm(lines, size, date_em, width_mm) <= budget:
            return FittedLines(lines, size)
    smallest = FONT_SIZES[-1]
    for omitted in range(1, len(lines) + 1):
        note = overflow.format(n=omitted)
        height = (_height_mm([Line("", note)], smallest, 0, width_mm)
                  + _height_mm(lines[omitted:], smallest, date_em, width_mm))
        if height <= budget:
            return FittedLines(lines[omitted:], smallest, omitted, note)
    return FittedLines([], smallest, len(lines), overflow.format(n=len(lines)))


@dataclass
class Cell:
    """The text of one cell of the grid (lines split on "\\n") at the size that fits its box."""

    text: str
    font_pt: float

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def fit_cell(text: str, *, columns: slice, height_mm: float) -> Cell:
    """The largest size at which the text fits the cell spanning `columns` of the grid."""
    width = sum(COLUMNS_MM[columns]) - 2 * PAD_MM
    lines = [Line("", part) for part in text.split("\n")]
    for size in CELL_SIZES:
        if _height_mm(lines, size, 0, width, CELL_LINE_HEIGHT) <= height_mm:
            return Cell(text, size)
    return Cell(text, CELL_SIZES[-1])           # clipped at the box: a 50-character name at 5 pt still shows


@dataclass
class EducationCells:
    level: Cell
    school: Cell


def _education(rows: list[Education]) -> EducationCells:
    """The highest of the rows (GB/T 4658: the smaller code, the higher level), the latest on a tie."""
    height = LAYOUT["edu_mm"]
    if not rows:
        return EducationCells(Cell("", FONT_SIZES[0]), Cell("", FONT_SIZES[0]))
    order = [code for code, _ in EDUCATION.entries]
    best = min(rows, key=lambda e: (order.index(e.level) if e.level in order else len(order),
                                    -(e.end_date or dt.date.min).toordinal()))
    level = "\n".join(t for t in (EDUCATION.label(best.level), best.degree) if t)
    school = f"{best.school} {best.major}".strip()
    return EducationCells(fit_cell(level, columns=slice(2, 4), height_mm=height),
                          fit_cell(school, columns=slice(5, 7), height_mm=height))


@dataclass
class Photo:
    """What the photo box prints: the rendition (JPEG bytes), or nothing and maybe why."""

    jpeg: bytes = b""
    note: str = ""               # a scan was there but could not be used: why, in a few words

    @property
    def url(self) -> str:
        return f"resource:{PHOTO_RESOURCE}" if self.jpeg else ""


PHOTO_NOTE = "照片无法打印({reason}),请重新上传"


def _photo(records: list[ArchiveRecord]) -> Photo:
    """The rendition of the image attached to the newest valid photo record (its newest usable upload),
    or an empty Photo: the empty box, with a note when a scan was refused."""
    photos = [r for r in records if r.required_item == "photo" and not r.is_voided]
    photos.sort(key=lambda r: (r.date or dt.date.min, r.created_at, r.pk), reverse=True)
    refused: ImageRefused | None = None
    for record in photos:
        images: list[Attachment] = [a for a in record.attachments.all() if a.content_type in PHOTO_TYPES]
        for attachment in reversed(images):        # the newest upload first
            try:
                return Photo(storage.photo_rendition(attachment.sha256))
            except storage.ScanUnavailable:
                continue                           # missing or damaged: never print a wrong picture
            except ImageRefused as exc:            # too many pixels or undecodable: say so in the box
                logger.warning("archive photo not printed: attachment %s: %s", attachment.pk, exc.reason)
                refused = refused or exc
    return Photo(note=PHOTO_NOTE.format(reason=refused.reason)) if refused else Photo()


def _sanction_text(record: ArchiveRecord) -> str:
    s = record.sanction
    period = f"处分期 {ymd(s.start_date)}—{ymd(s.end_date) if s.end_date else '解除之日'}"
    if s.lifted_on:
        period += f",{ymd(s.lifted_on)} 解除"
    issuer = f"({record.issuer})" if record.issuer else ""
    return f"受{s.sanction_type}处分{issuer},{period}"


def _reward_text(record: ArchiveRecord) -> str:
    r = record.reward
    bits = [b for b in (record.issuer, r.level) if b]
    return f"获“{r.name}”" + (f"({','.join(bits)})" if bits else "")


@dataclass
class InfoForm:
    worker: Worker
    name: Cell
    ethnicity: Cell
    political_status: Cell
    community: Cell
    full_time: EducationCells
    in_service: EducationCells
    qualifications: FittedLines
    posts: FittedLines
    resume: FittedLines
    honours: FittedLines
    photo: Photo
    printed_on: dt.date

    @property
    def education_rows(self) -> list[EducationCells]:
        return [self.full_time, self.in_service]


def info_form(*, worker: Worker, as_of: dt.date | None = None) -> InfoForm:
    """What the information form prints, from the worker, the archive (non-voided records) and staffing."""
    as_of = as_of or _today()
    records = selectors.archive_records(worker=worker)
    valid = [r for r in records if not r.is_voided]
    by_kind: dict[str, list[ArchiveRecord]] = {}
    for r in valid:
        by_kind.setdefault(r.kind, []).append(r)

    education = [r.education for r in by_kind.get("education", [])]
    qualifications = []
    for r in sorted(by_kind.get("qualification", []), key=lambda r: (r.qualification.obtained_on, r.pk)):
        status = selectors.qualification_status(r.qualification, as_of)
        q = r.qualification
        registration = f"登记有效期至 {ymd(status.expires_on)}" if status.expires_on else "尚未登记"
        qualifications.append(Line("", f"{q.level}(证书编号 {q.certificate_no},{ymd(q.obtained_on)} 取得,"
                                       f"{registration})"))

    appointments = (Appointment.objects.filter(worker=worker).active_on(as_of)
                    .select_related("community", "post_type").order_by("start_date", "id"))
    posts = [Line("", f"{a.community.name}{a.post_type.name}({ym(a.start_date)} 起,{a.method})")
             for a in appointments]

    work = sorted(by_kind.get("work", []), key=lambda r: (r.work.start_date, r.work.end_date or dt.date.max, r.pk))
    resume = [Line(f"{ym(r.work.start_date)}—{ym(r.work.end_date)}",
                   f"{r.work.organisation} {r.work.position}".strip()) for r in work]

    honours = [Line(ym(r.date), _reward_text(r)) for r in by_kind.get("reward", [])]
    honours += [Line(ym(r.sanction.start_date), _sanction_text(r)) for r in by_kind.get("sanction", [])]
    honours.sort(key=lambda line: line.when)

    basic = LAYOUT["basic_mm"]
    political = POLITICAL_SHORT.get(worker.political_status, POLITICAL_STATUS.label(worker.political_status))
    return InfoForm(
        worker=worker,
        name=fit_cell(worker.name, columns=slice(1, 2), height_mm=basic),
        ethnicity=fit_cell(ETHNICITY.label(worker.ethnicity) or "—", columns=slice(1, 2), height_mm=basic),
        political_status=fit_cell(political or "—", columns=slice(3, 4), height_mm=basic),
        community=fit_cell(worker.community.name, columns=slice(1, 4), height_mm=basic),
        full_time=_education([e for e in education if e.full_time]),
        in_service=_education([e for e in education if not e.full_time]),
        qualifications=fit_lines(qualifications, height_mm=LAYOUT["short_mm"], date_em=0,
                                 overflow="……另有 {n} 项较早取得的资格从略"),
        posts=fit_lines(posts, height_mm=LAYOUT["short_mm"], date_em=0, overflow="……另有 {n} 个岗位从略"),
        resume=fit_lines(resume, height_mm=LAYOUT["resume_mm"], date_em=RESUME_DATE_EM,
                         overflow="……更早的 {n} 段工作经历从略,详见档案第一类(履历)"),
        honours=fit_lines(honours, height_mm=LAYOUT["honours_mm"], date_em=HONOUR_DATE_EM,
                          overflow="……更早的 {n} 项奖惩从略,详见档案第七、八类"),
        photo=_photo(records), printed_on=as_of,
    )


def info_form_pdf(*, worker: Worker) -> bytes:
    """社区工作者信息表: one A4 page. The photo's rendition is made inside the render slot, so a first print
    of a big scan counts against the same bound as the rendering."""
    with render_slot():
        form = info_form(worker=worker)
        resources = {PHOTO_RESOURCE: ("image/jpeg", form.photo.jpeg)} if form.photo.jpeg else {}
        return render_pdf("archives/pdf_info_form.html", {"f": form, "layout": LAYOUT}, resources=resources)
