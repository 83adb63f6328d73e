"""Issue 11 on the archive pages, through the test client on the real database: editing a record of every
kind with a reason kept in history (and optimistic concurrency), carrying out an accepted correction
request (落实), a decision that must be chosen, the worker told of the decision until they mark it seen,
the desk selectors, the access audit's filters, the completeness table's missing counts, and labels and
header scopes on the archive pages.

The fixture world (tests/conftest.py): c1, c2 under street 220102001, c3 under 220102002 (长春 2201);
w1 in c1 is the `worker` user; `community` administers c1, `city` 2201, `training` views 2201.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shegong.access import system_actor
from shegong.archives import selectors, services
from shegong.archives.models import ArchiveRecord, CorrectionRequest, Education
from shegong.archives.rules import archive_rules
from shegong.common.models import AccessLog
from tests.files import png

SYSTEM = system_actor("command")


# The archive web tests' own helpers and their per-test upload directory (an autouse fixture, used here by name).
from tests.archives.test_archive_web import client_for, text_of, upload_root  # noqa: E402, F401


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def education(worker) -> ArchiveRecord:
    return services.record_create(actor=SYSTEM, worker=worker, kind="education", details={
        "school": "吉林大学", "major": "社会工作", "level": "本科", "degree": "学士", "full_time": True,
        "start_date": "2003-09-01", "end_date": "2007-07-01"}, notes="第一行\n第二行")


def shown(client: Client, path: str) -> dict[str, str]:
    """The edit form's fields as a browser would post them unchanged (text, hidden, date, select, textarea)."""
    body = client.get(path).content.decode()
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", body):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or (kind and kind.group(1) in ("file", "submit")):
            continue
        if kind and kind.group(1) == "checkbox":
            if "checked" in tag:
                data[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', body, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', options) or re.search(r'<option value="([^"]*)"', options)
        data[name] = html.unescape(chosen.group(1)) if chosen else ""
    for name, text in re.findall(r'<textarea name="([^"]+)"[^>]*>\n?(.*?)</textarea>', body, re.S):
        data[name] = html.unescape(text).replace("\n", "\r\n")
    data.pop("csrfmiddlewaretoken", None)
    return data


# ---- point 6: editing a record ------------------------------------------------------------------------


def test_edit_changes_only_what_changed_and_keeps_the_reason_in_history(world):
    r = education(world.w1)
    admin = client_for(world, "community")
    edit = url("archives:archive_record_edit", r.pk)
    data = shown(admin, edit)
    assert data["school"] == "吉林大学" and data["end_date"] == "2007-07-01" and data["level"] == Education.objects.get(pk=r.pk).level
    # Submitted as shown: nothing changes, no reason needed, no history written.
    before = (r.history.count(), Education.history.count())
    resp = admin.post(edit, data)
    assert resp.status_code == 302
    assert (r.history.count(), Education.history.count()) == before
    # A change without a reason is refused, naming the field.
    changed = {**data, "end_date": "2007-06-30"}
    body = text_of(admin.post(edit, changed))
    assert "请填写修改原因" in body
    assert Education.objects.get(pk=r.pk).end_date == dt.date(2007, 7, 1)
    # With a reason: saved, the catalogue date follows, the reason is in the history of both rows.
    resp = admin.post(edit, {**changed, "reason": "按毕业证书更正毕业日期"})
    assert resp.status_code == 302 and resp["Location"] == url("archives:archive_record", r.pk)
    r.refresh_from_db()
    assert r.education.end_date == dt.date(2007, 6, 30) and r.date == dt.date(2007, 6, 30)
    assert r.notes == "第一行\n第二行"  # the textarea's CR LF did not count as a change
    assert r.history.first().history_change_reason == "按毕业证书更正毕业日期"
    assert r.history.first().history_user == world.users["community"]
    detail = Education.history.filter(record_id=r.pk).first()
    assert (detail.history_change_reason, detail.end_date) == ("按毕业证书更正毕业日期", dt.date(2007, 6, 30))
    # The record page shows the change of the detail field with its reason.
    page = text_of(admin.get(url("archives:archive_record", r.pk)))
    assert "毕业日期:2007-07-01 → 2007-06-30" in re.sub(r"<[^>]+>", "", page)
    assert "按毕业证书更正毕业日期" in page and url("archives:archive_record_edit", r.pk) in page


@pytest.mark.parametrize(("kind", "details", "field", "value"), [
    ("document", None, "issuer", "长春市公安局朝阳分局"),
    ("work", {"organisation": "东风社区居委会", "position": "干事", "start_date": "2008-07-01"}, "position", "主任"),
    ("qualification", {"level": "社会工作师", "certificate_no": "SW2019001", "obtained_on": "2019-06-01"},
     "certificate_no", "SW2019002"),
    ("reward", {"name": "优秀社区工作者", "level": "市级"}, "level", "省级"),
    ("sanction", {"sanction_type": "警告", "start_date": "2023-03-01"}, "lifted_on", "2023-09-01"),
])
def test_every_kind_has_an_edit_form(world, kind, details, field, value):
    extra = {"archive_class": 10, "title": "居民身份证复印件"} if kind == "document" else {}
    r = services.record_create(actor=SYSTEM, worker=world.w1, kind=kind, details=details, **extra)
    admin = client_for(world, "community")
    edit = url("archives:archive_record_edit", r.pk)
    data = shown(admin, edit)
    assert 'class="field' in admin.get(edit).content.decode()
    resp = admin.post(edit, {**data, field: value, "reason": "核对原件"})
    assert resp.status_code == 302, text_of(resp)
    r = ArchiveRecord.objects.get(pk=r.pk)
    holder = r if kind == "document" else getattr(r, kind)
    stored = getattr(holder, field)
    assert (stored.isoformat() if isinstance(stored, dt.date) else stored) == value
    assert r.history.first().history_change_reason == "核对原件"


def test_edit_is_refused_to_viewers_and_on_voided_records(world):
    r = education(world.w1)
    assert client_for(world, "training").get(url("archives:archive_record_edit", r.pk)).status_code == 403
    assert client_for(world, "worker").get(url("archives:archive_record_edit", r.pk)).status_code == 403
    assert client_for(world, "street").get(url("archives:archive_record_edit", r.pk)).status_code == 200
    services.record_void(actor=SYSTEM, record=r, reason="重复")
    assert client_for(world, "community").get(url("archives:archive_record_edit", r.pk)).status_code == 403


def test_edit_from_an_old_version_shows_the_other_change(world):
    r = education(world.w1)
    admin = client_for(world, "community")
    edit = url("archives:archive_record_edit", r.pk)
    data = shown(admin, edit)
    services.record_update(actor=SYSTEM, record=ArchiveRecord.objects.get(pk=r.pk), details={"major": "社会学"},
                           reason="他人修改")
    body = text_of(admin.post(edit, {**data, "degree": "硕士", "reason": "学位更正"}))
    assert "已被他人修改" in body
    assert Education.objects.get(pk=r.pk).degree == "学士"  # nothing overwritten


# ---- point 6: carrying out an accepted correction -------------------------------------------------------


def _accepted(world, record: ArchiveRecord | None) -> CorrectionRequest:
    req = services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="毕业日期应为 2007-06-30",
                                             record=record)
    return services.correction_request_decide(actor=world.users["community"], request=req, accept=True,
                                              reason="已核对毕业证书")


def test_carrying_out_an_accepted_request_by_editing_its_record(world):
    r = education(world.w1)
    req = _accepted(world, r)
    admin = client_for(world, "community")
    decide = text_of(admin.get(url("archives:archive_correction_decide", req.pk)))
    target = url("archives:archive_record_edit", r.pk) + f"?correction={req.pk}"
    assert "按此更正" in decide and html.escape(target) in html.escape(decide)
    data = shown(admin, target)
    assert data["reason"].startswith("按更正申请更正:毕业日期应为 2007-06-30")  # prefilled, editable
    resp = admin.post(target, {**data, "end_date": "2007-06-30"})
    assert resp.status_code == 302
    req.refresh_from_db()
    assert (req.status, req.carried_out_by, req.carried_out_record_id) == ("done", world.users["community"], r.pk)
    assert req.carried_out_at is not None and req.history.first().history_change_reason.startswith("落实")
    assert Education.objects.get(pk=r.pk).end_date == dt.date(2007, 6, 30)
    page = text_of(admin.get(url("archives:archive_correction_decide", req.pk)))
    assert "已落实" in page and url("archives:archive_record", r.pk) in page and "按此更正:" not in page
    # Done once: the link now leads back to the request with a message, nothing is carried out twice.
    again = admin.get(target)
    assert again.status_code == 302 and again["Location"] == url("archives:archive_correction_decide", req.pk)


def test_an_unchanged_save_does_not_carry_out(world):
    r = education(world.w1)
    req = _accepted(world, r)
    admin = client_for(world, "community")
    target = url("archives:archive_record_edit", r.pk) + f"?correction={req.pk}"
    assert admin.post(target, shown(admin, target)).status_code == 302
    req.refresh_from_db()
    assert req.status == "accepted" and req.carried_out_at is None


def test_carrying_out_by_adding_a_record(world):
    req = _accepted(world, None)
    admin = client_for(world, "community")
    target = url("archives:archive_record_new", world.w1.pk) + f"?kind=reward&correction={req.pk}"
    assert "按更正申请更正" in text_of(admin.get(target))
    resp = admin.post(target, {"name": "优秀社区工作者", "level": "市级", "date": "2020-12-01"})
    assert resp.status_code == 302
    req.refresh_from_db()
    added = ArchiveRecord.objects.get(kind="reward")
    assert (req.status, req.carried_out_record) == ("done", added)
    assert added.history.first().history_change_reason.startswith("按更正申请更正")


def test_only_an_accepted_request_of_the_same_worker_is_carried_out(world):
    pending = services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="x")
    admin = client_for(world, "community")
    r = education(world.w1)
    resp = admin.get(url("archives:archive_record_edit", r.pk) + f"?correction={pending.pk}")
    assert resp.status_code == 302  # back to the request: it is not accepted
    other = services.record_create(actor=SYSTEM, worker=world.w2, archive_class=10, title="别人的材料")
    req = _accepted(world, r)
    city = client_for(world, "city")
    assert city.get(url("archives:archive_record_edit", other.pk) + f"?correction={req.pk}").status_code == 404
    with pytest.raises(Exception, match="不属于"):
        services.correction_carry_out(actor=world.users["city"], request=req, record=other)


# ---- point 11: the decision and the worker's notice --------------------------------------------------------


def test_the_decision_must_be_chosen_and_every_required_field_is_marked(world):
    req = services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="民族应为满族")
    admin = client_for(world, "community")
    page = admin.get(url("archives:archive_correction_decide", req.pk)).content.decode()
    select = re.search(r'<select name="decision"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert not re.search(r'value="(accept|reject)"[^>]*selected', select)  # nothing chosen for the admin
    assert select.index('value=""') < select.index('value="accept"')
    for field in ("decision", "reason"):
        label = re.search(rf'<label for="id_{field}">(.*?)</label>', page, re.S).group(1)
        assert "*" in label, field
    resp = admin.post(url("archives:archive_correction_decide", req.pk), {"decision": "", "reason": "理由"})
    assert resp.status_code == 200 and "请选择处理结果:采纳或不予采纳" in text_of(resp)
    req.refresh_from_db()
    assert req.status == "pending"
    # The other forms whose reason the service requires mark it too.
    r = education(world.w1)
    record_page = admin.get(url("archives:archive_record", r.pk)).content.decode()
    assert re.search(r'<label for="id_reason">作废原因 <span[^>]*>\*</span>', record_page)
    transfer = client_for(world, "city").get(url("archives:archive_transfer", world.w1.pk)).content.decode()
    assert re.search(r'<label for="id_reason">转递原因 <span[^>]*>\*</span>', transfer)
    me = client_for(world, "worker").get(url("archives:archive_correction_new", world.w1.pk)).content.decode()
    assert re.search(r'<label for="id_text">需要更正的内容 <span[^>]*>\*</span>', me)


def test_the_worker_sees_each_decision_until_they_mark_it_seen(world):
    accepted = _accepted(world, None)
    rejected = services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="籍贯有误")
    services.correction_request_decide(actor=world.users["community"], request=rejected, accept=False,
                                       reason="与户籍材料一致,无需更正")
    services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="仍在处理中")
    me = client_for(world, "worker")
    assert {c.pk for c in selectors.my_decided_corrections(world.users["worker"])} == {accepted.pk, rejected.pk}
    assert selectors.my_decided_corrections(world.users["community"]) == []
    page = text_of(me.get(url("archives:archive_detail", world.w1.pk)))
    notice = page[page.index('id="decisions"'):page.index("</form>", page.index('id="decisions"'))]
    assert "已核对毕业证书" in notice and "与户籍材料一致,无需更正" in notice and "不予采纳" in notice
    assert "仍在处理中" not in notice
    # An admin opening the archive sees no notice and cannot mark it seen for the worker.
    admin = client_for(world, "community")
    assert 'id="decisions"' not in text_of(admin.get(url("archives:archive_detail", world.w1.pk)))
    assert admin.post(url("archives:archive_corrections_seen", world.w1.pk)).status_code == 403
    resp = me.post(url("archives:archive_corrections_seen", world.w1.pk))
    assert resp.status_code == 302
    assert 'id="decisions"' not in text_of(me.get(url("archives:archive_detail", world.w1.pk)))
    assert selectors.my_decided_corrections(world.users["worker"]) == []
    seen = CorrectionRequest.objects.get(pk=rejected.pk)
    assert seen.seen_at is not None and seen.history.first().history_change_reason == "本人已阅处理结果"


def test_pending_corrections_for_the_desk(world):
    req = services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="x")
    services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="y")
    todo = selectors.pending_corrections(world.users["community"])
    assert (todo.count, todo.url) == (2, url("archives:archive_corrections") + "?status=pending")
    assert client_for(world, "community").get(todo.url).context["page"].paginator.count == 2
    assert selectors.pending_corrections(world.users["training"]).count == 0  # may view, not decide
    assert selectors.pending_corrections(world.users["nobody"]).count == 0
    services.correction_request_decide(actor=world.users["community"], request=req, accept=True, reason="可以")
    assert selectors.pending_corrections(world.users["city"]).count == 1
    assert selectors.corrections_to_carry_out(world.users["city"]).count == 1


# ---- point 8: the access audit's filters -----------------------------------------------------------------


def _log(world, role: str, worker, action: str, when: dt.datetime) -> AccessLog:
    row = AccessLog.objects.create(user=world.users[role], action=action, object_type="people.worker",
                                   object_id=str(worker.pk), object_label=worker.name, worker=worker)
    AccessLog.objects.filter(pk=row.pk).update(at=when)
    return row


def test_the_audit_filters_by_date_user_action_and_division(world):
    tz = timezone.get_current_timezone()
    old = _log(world, "community", world.w1, AccessLog.Action.ARCHIVE_OPEN, dt.datetime(2024, 3, 1, 9, tzinfo=tz))
    late = _log(world, "street", world.w2, AccessLog.Action.ARCHIVE_PRINT, dt.datetime(2024, 3, 5, 23, 30, tzinfo=tz))
    far = _log(world, "city", world.w3, AccessLog.Action.ARCHIVE_OPEN, dt.datetime(2024, 4, 1, 8, tzinfo=tz))
    city = client_for(world, "city")
    audit = url("archives:archive_audit")

    def ids(query: str) -> set[int]:
        resp = city.get(audit + query)
        assert resp.status_code == 200
        return {row.pk for row in resp.context["page"].object_list}

    assert ids("") == {old.pk, late.pk, far.pk}
    assert ids("?since=2024-03-01&until=2024-03-05") == {old.pk, late.pk}  # both ends included, local dates
    assert ids("?since=2024-03-02") == {late.pk, far.pk}
    assert ids("?user=stre") == {late.pk}  # a login-name fragment
    world.users["community"].display_name = "王社区"
    world.users["community"].save()
    assert ids("?user=社区") == {old.pk}  # a 姓名 fragment
    assert ids("?action=archive_open") == {old.pk, far.pk}
    assert ids(f"?scope={world.c3.code[:9]}") == {far.pk}  # typed
    assert ids(f"?scope=2201&scope={world.c1.code[:6]}&scope={world.c1.code[:9]}") == {old.pk, late.pk}  # cascader
    assert ids("?since=2024-03-01&action=archive_open&user=comm") == {old.pk}
    resp = city.get(audit + "?since=2024-03-05&until=2024-03-01")
    assert "截止日期 2024-03-01 早于起始日期 2024-03-05" in text_of(resp)
    assert "日期" in text_of(city.get(audit + "?since=2024-13-01"))
    page = city.get(audit).content.decode()
    for name in ("since", "until", "user", "action", "scope"):
        assert f'name="{name}"' in page
    # The workbook takes the same filters.
    xlsx = city.get(audit + "?user=stre&export=xlsx")
    assert xlsx.status_code == 200 and "spreadsheet" in xlsx["Content-Type"]


# ---- point 14: the completeness table shows what is missing ------------------------------------------------


def test_completeness_table_counts_people_without_each_item(world):
    required = archive_rules().required
    first = required[0]
    r = services.record_create(actor=SYSTEM, worker=world.w1, archive_class=first.archive_class, title=first.name,
                               required_item=first.code)
    services.attachment_add(actor=SYSTEM, record=r, name="a.png", data=png(3, 3))
    page = client_for(world, "street").get(url("archives:archive_index") + f"?parent={world.c1.code[:9]}")
    body = text_of(page)
    assert "缺少该项必备材料的人数" in body
    rows = {row["division"].code: row for row in page.context["rows"]}
    c1 = dict((item.code, n) for item, n in rows[world.c1.code]["lacking"])
    c2 = dict((item.code, n) for item, n in rows[world.c2.code]["lacking"])
    assert c1[first.code] == 0 and c2[first.code] == 1  # w1 holds it; w2 in c2 does not
    assert all(n == 1 for code, n in c1.items() if code != first.code)
    cells = re.findall(r'<td class="num">(.*?)</td>', page.content.decode())
    assert any('color:var(--accent)' in c and ">1<" in c for c in cells)
    assert any('class="muted">0<' in c for c in cells)  # none missing: not red


# ---- accessibility: labels and header scopes ---------------------------------------------------------------


class Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.inputs: list[dict[str, str]] = []
        self.headers: list[dict[str, str]] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "label":
            self.depth += 1
            if a.get("for"):
                self.labels.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.inputs.append({**a, "wrapped": "1" if self.depth else ""})
        elif tag == "th":
            self.headers.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.depth -= 1


def test_every_input_is_labelled_and_every_header_has_a_scope(world):
    r = education(world.w1)
    req = services.correction_request_create(actor=world.users["worker"], worker=world.w1, text="x", record=r)
    services.attachment_add(actor=SYSTEM, record=r, name="a.png", data=png(4, 4))
    admin = client_for(world, "community")
    pages = [url("archives:archive_detail", world.w1.pk), url("archives:archive_record", r.pk),
             url("archives:archive_record_edit", r.pk), url("archives:archive_audit"),
             url("archives:archive_access_log", world.w1.pk), url("archives:archive_index"),
             url("archives:archive_correction_decide", req.pk),
             url("archives:archive_index") + f"?parent={world.c1.code[:9]}"]
    for path in pages:
        parser = Controls()
        parser.feed(admin.get(path).content.decode())
        unlabelled = [c for c in parser.inputs if not c["wrapped"] and c.get("id") not in parser.labels
                      and not c.get("aria-label")]
        assert not unlabelled, (path, unlabelled)
        assert all(h.get("scope") in ("col", "row", "colgroup", "rowgroup") for h in parser.headers), path
