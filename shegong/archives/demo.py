"""Demo archives (8.1.2) for `shegong demo`: the workers of one community and the demo worker account
get archives that are partly complete — so that the pages show scans, missing items, a qualification
due for re-registration, rewards, a sanction and an access log."""

from __future__ import annotations

import datetime as dt
import random
import struct
import zlib
from collections.abc import Sequence
from typing import Any

from shegong.access import system_actor
from shegong.archives.services import archive_open, attachment_add, record_create
from shegong.people.models import Worker

SCHOOLS = [("吉林大学", "社会工作"), ("东北师范大学", "行政管理"), ("长春大学", "社会学"), ("吉林农业大学", "法学"),
           ("长春师范大学", "汉语言文学"), ("吉林财经大学", "会计学")]
EMPLOYERS = [("长春市第一百货公司", "职员"), ("南关区自强街道办事处", "协管员"), ("吉林省邮政公司长春分公司", "营业员"),
             ("长春市朝阳区某物业公司", "客服主管")]

DEMO = system_actor("demo")


def _pdf(title: str) -> bytes:
    """A one-page PDF that says what it is (stands in for a scan)."""
    text = title.encode("ascii", "ignore") or b"scan"
    stream = b"BT /F1 18 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length " + str(len(stream)).encode() + b">>stream\n" + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _photo(seed: int, width: int = 90, height: int = 120) -> bytes:
    """A small PNG portrait placeholder: a head-and-shoulders silhouette on a blue background."""
    rng = random.Random(seed)
    bg = (60 + rng.randrange(40), 110 + rng.randrange(40), 190 + rng.randrange(40))
    fg = (235, 225, 215)
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            head = (x - width / 2) ** 2 / 400 + (y - height * 0.38) ** 2 / 560 < 1
            body = y > height * 0.68 and abs(x - width / 2) < (y - height * 0.55) * 1.1
            row += bytes(fg if head or body else bg)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def _scan(record: Any, name: str, data: bytes) -> None:
    attachment_add(actor=DEMO, record=record, name=name, data=data)


def _education(w: Worker, i: int, rng: random.Random) -> dt.date:
    """The highest diploma (scanned for two archives in three); returns the graduation day."""
    school, major = SCHOOLS[i % len(SCHOOLS)]
    graduated = dt.date(max(w.birth_date.year + 22, 1990), 7, 1)
    edu = record_create(actor=DEMO, worker=w, kind="education", issuer=school, required_item="highest_diploma",
                        details={"school": school, "major": major, "level": rng.choice(["本科", "大专", "本科"]),
                                 "degree": "学士" if i % 2 == 0 else "", "full_time": i % 4 != 1,
                                 "start_date": graduated.replace(year=graduated.year - 4, month=9),
                                 "end_date": graduated})
    if i % 3 != 2:
        _scan(edu, "最高学历证书.pdf", _pdf(f"Diploma {w.pk}"))
    return graduated


def _work_history(w: Worker, i: int, graduated: dt.date, as_of: dt.date) -> tuple[int, dt.date]:
    """An earlier employer (when there was time for one) and the community post; returns the number of
    records and the day the worker joined the community."""
    made = 0
    start = w.work_start_date or graduated
    employer, position = EMPLOYERS[i % len(EMPLOYERS)]
    switch = min(w.post_start_date or as_of, as_of) if w.post_start_date else start
    if switch > start:
        record_create(actor=DEMO, worker=w, kind="work", issuer=employer,
                      details={"organisation": employer, "position": position, "start_date": start,
                               "end_date": switch - dt.timedelta(days=1)})
        made += 1
    record_create(actor=DEMO, worker=w, kind="work", issuer=w.community.name,
                  details={"organisation": f"{w.community.name}", "position": "社区工作者", "start_date": switch})
    return made + 1, switch


ITEMS = [("resume_form", 1, "社区工作者登记表", "登记表.pdf"),
         ("id_card", 10, "居民身份证复印件", "身份证.pdf"),
         ("appointment_document", 9, "聘用通知书", "聘用通知.pdf"),
         ("labour_contract", 9, "劳动合同书", "劳动合同.pdf")]


def _required_items(w: Worker, i: int, skip: set[str], switch: dt.date, as_of: dt.date) -> int:
    """The scanned required items (8.1.2) and the photo, except those in `skip` (the missing ones)."""
    made = 0
    for code, klass, title, filename in ITEMS:
        if code in skip:
            continue
        record = record_create(actor=DEMO, worker=w, archive_class=klass, title=title, required_item=code,
                               date=switch, issuer=w.community.name)
        _scan(record, filename, _pdf(f"{code} {w.pk}"))
        made += 1
    if "photo" not in skip:
        record = record_create(actor=DEMO, worker=w, archive_class=10, title="近期免冠照片", required_item="photo",
                               date=as_of - dt.timedelta(days=90 + i))
        _scan(record, "照片.png", _photo(w.pk))
        made += 1
    return made


def _distinctions(w: Worker, i: int, as_of: dt.date) -> int:
    """A qualification for every third (the first due for re-registration within the 60-day warning
    window), a reward for some, one running sanction."""
    made = 0
    if i % 3 == 0:
        registered = as_of - dt.timedelta(days=3 * 365 - 40) if i == 0 else dt.date(2024, 9, 1)
        record_create(actor=DEMO, worker=w, kind="qualification", issuer="人力资源和社会保障部",
                      details={"level": "社会工作师" if i % 2 else "助理社会工作师",
                               "certificate_no": f"{2019 + i % 4}2201{w.pk:06d}",
                               "obtained_on": registered - dt.timedelta(days=120), "registered_on": registered,
                               "hours_done": 24 + i % 40})
        made += 1
    if i % 4 == 2:
        record_create(actor=DEMO, worker=w, kind="reward", date=dt.date(2024, 12, 28), issuer="南关区民政局",
                      details={"name": "优秀社区工作者", "level": "区级"})
        made += 1
    if i == 5:
        record_create(actor=DEMO, worker=w, kind="sanction", issuer="自强街道党工委",
                      details={"sanction_type": "警告", "start_date": as_of - dt.timedelta(days=30)})
        made += 1
    return made


def build_archive_demo(*, workers: Sequence[Worker], rng: random.Random, as_of: dt.date,
                       opened_by: Any = None) -> int:
    """Archives for `workers`; returns the number of records. Every third archive is complete; the rest
    miss one to three required items. One qualification is due for re-registration, one sanction runs."""
    made = 0
    for i, w in enumerate(workers):
        # the random draws stay in this order (diploma level, then missing items): same seed, same demo
        graduated = _education(w, i, rng)
        worked, switch = _work_history(w, i, graduated, as_of)
        complete = i % 3 == 0
        skip = set() if complete else set(rng.sample([code for code, *_ in ITEMS] + ["photo"], k=1 + i % 3))
        made += 1 + worked + _required_items(w, i, skip, switch, as_of) + _distinctions(w, i, as_of)
        if opened_by is not None and (i % 2 == 0 or i == len(workers) - 1):
            archive_open(actor=opened_by, worker=w)
    return made
