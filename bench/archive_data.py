"""Archive data (8.1.2) for the page bench: a realistic archive for every worker already loaded.

Per active worker, loaded with bulk_create (no service calls, no history rows — the archive pages read the
records, not their history): each required item of the archive rules with a probability of 85 %, of which
80 % carry a scan; a 学历 record (class 4) and two 工作经历 records (class 1); a 社会工作职业资格 for one
worker in four (some expiring within the warning period); a few documents of other classes; one voided
record in twenty; and some access log rows. The scans all point at one stored file (content-addressed
storage keeps one copy per digest anyway).

    from bench.archive_data import load_archives
    stats = load_archives(seed=2021)
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from typing import Any

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
SCHOOLS = ["吉林大学", "东北师范大学", "长春理工大学", "吉林财经大学", "长春工业大学", "北华大学", "长春大学"]
MAJORS = ["社会工作", "行政管理", "会计学", "汉语言文学", "法学", "计算机科学与技术", "公共事业管理"]
LEVELS = ["大学本科", "大学专科", "硕士研究生", "中等专科"]
OTHER = [(2, "个人重大事项报告"), (3, "年度考核登记表"), (5, "政审材料"), (6, "入党志愿书"), (9, "工资审批表")]


@dataclass
class ArchiveStats:
    records: int
    attachments: int
    qualifications: int
    access_logs: int
    seconds: float


def load_archives(*, viewer: Any, seed: int = 2021, today: dt.date | None = None) -> ArchiveStats:
    """`viewer`: the user the access log rows name (an admin who opened the archives)."""
    from django.db import transaction
    from django.utils import timezone

    from shegong.archives import storage
    from shegong.archives.models import ArchiveRecord, Attachment, Education, Qualification, WorkHistory
    from shegong.archives.rules import archive_rules
    from shegong.common.models import AccessLog
    from shegong.people.models import Worker

    t0 = time.perf_counter()
    rng = random.Random(seed)
    today = today or timezone.localdate()
    rules = archive_rules()
    sha = storage.store(PDF)  # under UPLOAD_ROOT, i.e. the bench's own var dir
    now = timezone.now()
    workers = list(Worker.objects.filter(status=Worker.Status.ACTIVE).values_list("id", "name", "work_start_date"))
    records: list[ArchiveRecord] = []
    details: list[tuple[int, str, dict]] = []  # (index into records, kind, fields)
    scanned: list[int] = []
    for worker_id, _name, work_start in workers:
        start = work_start or dt.date(2015, 3, 1)
        for item in rules.required:
            if rng.random() < 0.85:
                records.append(ArchiveRecord(worker_id=worker_id, archive_class=item.archive_class, kind="document",
                                             title=item.name, date=start, issuer="社区", required_item=item.code))
                if rng.random() < 0.8:
                    scanned.append(len(records) - 1)
        end = dt.date(start.year - rng.randint(1, 6), 7, 1)
        records.append(ArchiveRecord(worker_id=worker_id, archive_class=4, kind="education", date=end,
                                     title="学历证书", issuer=rng.choice(SCHOOLS)))
        details.append((len(records) - 1, "education", {
            "school": records[-1].issuer, "major": rng.choice(MAJORS), "level": _level(rng),
            "full_time": rng.random() < 0.7, "start_date": dt.date(end.year - 4, 9, 1), "end_date": end}))
        for j, (org, position) in enumerate([("街道办事处", "协管员"), ("社区", "社区工作者")]):
            begin = dt.date(start.year - 4 + 4 * j, 3, 1)
            records.append(ArchiveRecord(worker_id=worker_id, archive_class=1, kind="work", date=begin,
                                         title=f"{org} {position} 工作经历", issuer=org))
            details.append((len(records) - 1, "work", {
                "organisation": org, "position": position, "start_date": begin,
                "end_date": start if j == 0 else None}))
        if rng.random() < 0.25:
            obtained = today - dt.timedelta(days=rng.randint(30, 3 * 365))
            level = rng.choice(list(rules.qualification_hours))
            records.append(ArchiveRecord(worker_id=worker_id, archive_class=4, kind="qualification", date=obtained,
                                         title=f"{level}职业水平证书", issuer="人力资源和社会保障部"))
            details.append((len(records) - 1, "qualification", {
                "level": level, "certificate_no": f"B{worker_id:09d}", "obtained_on": obtained,
                "registered_on": obtained, "hours_done": rng.randint(0, 90)}))
        for archive_class, title in rng.sample(OTHER, rng.randint(0, 3)):
            records.append(ArchiveRecord(worker_id=worker_id, archive_class=archive_class, kind="document",
                                         title=title, date=start, issuer="街道"))
        if rng.random() < 0.05:
            records.append(ArchiveRecord(worker_id=worker_id, archive_class=1, kind="document", title="登记表(旧)",
                                         date=start, voided_at=now, void_reason="信息有误,已重新填写"))
    with transaction.atomic():
        records = ArchiveRecord.objects.bulk_create(records, batch_size=2000)
        models = {"education": Education, "work": WorkHistory, "qualification": Qualification}
        by_kind: dict[str, list] = {k: [] for k in models}
        for index, kind, fields in details:
            by_kind[kind].append(models[kind](record=records[index], **fields))
        for kind, objs in by_kind.items():
            models[kind].objects.bulk_create(objs, batch_size=2000)
        attachments = [Attachment(record=records[i], original_name=f"{records[i].title}.pdf",
                                  content_type="application/pdf", size=len(PDF), sha256=sha) for i in scanned]
        Attachment.objects.bulk_create(attachments, batch_size=2000)
        logs = [AccessLog(user=viewer, action="archive_open", worker_id=worker_id, object_type="people.worker",
                          object_id=str(worker_id), object_label=f"{name}的档案")
                for worker_id, name, _ in rng.sample(workers, min(len(workers), 5000))]
        AccessLog.objects.bulk_create(logs, batch_size=2000)
    return ArchiveStats(len(records), len(attachments), len(by_kind["qualification"]), len(logs),
                        time.perf_counter() - t0)


def _level(rng: random.Random) -> str:
    from shegong.common.codes import EDUCATION

    return EDUCATION.lookup(rng.choice(LEVELS))
