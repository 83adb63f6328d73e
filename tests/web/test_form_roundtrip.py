"""Every form of the project, submitted exactly as a browser shows it, changes nothing (issue 9).

The pages are found from the URL configuration, not from a list of forms: every page is opened (GET) by
a logged-in admin on the world fixture, in Chinese and in English, its HTML parsed as a browser reads it
(text and hidden inputs, date inputs, checked boxes, the selected option, textarea text — file inputs
left out), and every <form method="post"> on it is classified by the URL it posts to:

* an edit form (EDIT_FORMS) is submitted with exactly the values shown, pressing its default button:
  the answer must be a redirect (accepted), no row of any model may change and no history entry be
  written. This is what caught 参加工作日期 and 社工岗入职日期 being erased: zh-hans rendered
  value="2012/07/01", which a date input shows empty and submits empty.
* any other form (creating, uploading, deciding, switching the language …) is listed in
  NOT_EDIT_FORMS with the reason it is not a round trip.

Guards: a URL pattern the crawl cannot open (it takes arguments) must be given arguments in PAGES or be
listed in NOT_CRAWLED; a form that posts to a URL in neither list fails the test, so a new form is
either covered or explicitly excused. Every date input on every page shows YYYY-MM-DD or nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from shegong.archives import services as archive_services
from shegong.archives.models import ArchiveRecord
from shegong.staffing.descriptions import description_draft_save, description_publish
from shegong.staffing.models import Appointment, PostType
from tests import factories

LANGUAGES = ("zh-hans", "en")
ADMIN = "city"  # civil-affairs admin of 长春 (2201): may change every worker, archive and street description there

# Forms submitted as shown: nothing may change.
EDIT_FORMS = {"worker_edit", "description_edit", "division_edit", "archive_record_edit"}

# Forms that are not a round trip, and why.
NOT_EDIT_FORMS = {
    "set_language": "switches the language of the interface (every page's top bar)",
    "logout": "signs out (every page's top bar)",
    "worker_index": "the worker search: it posts so that a full ID number never appears in a URL",
    "worker_new": "registers a new worker (create)",
    "worker_appoint": "appoints to a post (create)",
    "appointment_end": "ends a post: an action whose default is today (tested below: the default is accepted)",
    "archive_record_new": "adds an archive record (create)",
    "archive_record_upload": "uploads a scan (file input; create)",
    "archive_record_void": "voids a record: an action that needs a reason",
    "archive_transfer": "transfers the archive to another community: an action",
    "archive_correction_new": "a worker's correction request (create; only the worker themself)",
    "archive_correction_decide": "decides a correction request once: an action that needs a reason",
    "archive_corrections_seen": "知道了: the worker marks the decisions on their requests seen (an action)",
    "description_publish": "publishes the draft: an action",
    "roster_index": "uploads a roster workbook (file input; create)",
    "roster_job_commit": "confirms an import: an action",
    "roster_job_retry": "validates the same roster file again: an action",
    "roster_job_discard": "gives up a validated roster upload: an action",
    "password": "修改密码: the old and the new password must be typed (create-like)",
    "tokens": "creates an API token (create)",
    "token_revoke": "revokes an API token: an action",
    "user_new": "creates a user (create)",
    "grant_new": "grants a role (create)",
    "grant_remove": "removes a grant: an action",
    "user_deactivate": "deactivates an account: an action",
    "user_activate": "activates an account: an action",
}

# URL patterns that take arguments and are not opened by the crawl, and why.
NOT_CRAWLED = {
    "worker_reveal": "POST only (htmx): reveals a full number, no page",
    "roster_job": "exists only after an upload; its one form (roster_job_commit) is in NOT_EDIT_FORMS",
    "roster_job_commit": "POST only",
    "roster_job_retry": "POST only",
    "roster_job_discard": "POST only",
    "archive_attachment": "a file download",
    "archive_record_upload": "POST only",
    "archive_record_void": "POST only",
    "archive_corrections_seen": "POST only",
    "description_publish": "POST only",
    "token_revoke": "POST only",
    "grant_remove": "POST only",
    "user_deactivate": "POST only",
    "user_activate": "POST only",
}
DOWNLOAD = re.compile(r"\.(pdf|xlsx)$")


# ---- the data: a world with something on every page ------------------------------------------------------


@dataclass
class Rich:
    world: Any
    workers: list[Any]
    appointment: Appointment
    records: list[ArchiveRecord]
    correction: Any
    streets: list[str] = field(default_factory=list)


@pytest.fixture
def rich(world) -> Rich:
    w = world
    bare = factories.WorkerFactory(name="空白", community=w.c1, phone="", ethnicity="", political_status="",
                                   education="", work_start_date=None, post_start_date=None)
    appointment = factories.appoint(w.w1, "书记")
    factories.appoint(w.w2, "主任")
    actor = w.users["community"]
    records = [
        archive_services.record_create(actor=actor, worker=w.w1, archive_class=10, title="居民身份证复印件",
                                       date=dt.date(2019, 5, 4), issuer="长春市公安局", required_item="id_card",
                                       notes="第一行\n第二行"),
        archive_services.record_create(actor=actor, worker=w.w1, kind="education", details={
            "school": "吉林大学", "major": "社会工作", "level": "本科", "degree": "学士", "full_time": True,
            "start_date": "2003-09-01", "end_date": "2007-07-01"}),
        archive_services.record_create(actor=actor, worker=w.w1, kind="work", details={
            "organisation": "东风社区居委会", "position": "干事", "start_date": "2008-07-01"}),
        archive_services.record_create(actor=actor, worker=w.w1, kind="qualification", details={
            "level": "社会工作师", "certificate_no": "SW2019001", "obtained_on": "2019-06-01",
            "registered_on": "2019-09-01", "hours_done": 30}),
        archive_services.record_create(actor=actor, worker=w.w1, kind="reward", details={
            "name": "优秀社区工作者", "level": "市级"}, date=dt.date(2020, 12, 1)),
        archive_services.record_create(actor=actor, worker=w.w1, kind="sanction", details={
            "sanction_type": "警告", "start_date": "2023-03-01"}),
    ]
    archive_services.record_void(actor=actor, record=archive_services.record_create(
        actor=actor, worker=w.w1, archive_class=3, title="重复登记的考核表"), reason="重复")
    correction = archive_services.correction_request_create(actor=w.users["worker"], worker=w.w1,
                                                            text="学历应为本科", record=records[1])
    street = w.c1.parent
    secretary, deputy = PostType.objects.get(code="party_secretary"), PostType.objects.get(code="rc_director")
    lines = {"reporting_line": "街道党工委", "added_duties": ["负责疫情防控的统筹协调。"],
             "requirements": ["中共党员。", "大专以上学历。"], "assessment": ["按 9.1 考核德、能、勤、绩、廉。"],
             "note": "第一行\n第二行"}
    description_draft_save(actor=w.users["street"], street=street, post_type=secretary, **lines)
    description_publish(actor=w.users["street"], street=street, post_type=secretary)
    description_draft_save(actor=w.users["street"], street=street, post_type=secretary,
                           **{**lines, "reporting_line": "街道党工委书记"})  # a draft over v1
    description_draft_save(actor=w.users["street"], street=street, post_type=deputy, **lines)
    description_publish(actor=w.users["street"], street=street, post_type=deputy)  # published, no draft
    return Rich(w, [w.w1, bare, w.w2], appointment, records, correction, [street.code])


# Arguments for the patterns that take them: name -> the URLs to open.
PAGES: dict[str, Callable[[Rich], list[str]]] = {
    "roster_export": lambda r: [],  # .xlsx (downloads are recognised by their suffix)
    "division_detail": lambda r: [reverse("org:division_detail", args=[c]) for c in
                                  ("22", "2201", "220102", r.world.c1.parent.code, r.world.c1.code)],
    "division_edit": lambda r: [reverse("org:division_edit", args=[c]) for c in
                                ("220102", r.world.c1.parent.code, r.world.c1.code)],
    "worker_detail": lambda r: [reverse("people:worker_detail", args=[w.pk]) for w in r.workers],
    "worker_edit": lambda r: [reverse("people:worker_edit", args=[w.pk]) for w in r.workers],
    "worker_appoint": lambda r: [reverse("staffing:worker_appoint", args=[r.world.w1.pk])],
    "appointment_end": lambda r: [reverse("staffing:appointment_end", args=[r.appointment.pk])],
    "description_list": lambda r: [reverse("staffing:description_list", args=[s]) for s in r.streets],
    "description_detail": lambda r: [reverse("staffing:description_detail", args=[s, p]) for s in r.streets
                                     for p in ("party_secretary", "rc_director", "grid_leader")],
    "description_edit": lambda r: [reverse("staffing:description_edit", args=[s, p]) for s in r.streets
                                   for p in ("party_secretary", "rc_director", "grid_leader")],
    "description_version": lambda r: [reverse("staffing:description_version", args=[r.streets[0], "party_secretary", v])
                                      for v in (1, 2)],
    "archive_detail": lambda r: [reverse("archives:archive_detail", args=[w.pk]) for w in r.workers],
    "archive_access_log": lambda r: [reverse("archives:archive_access_log", args=[r.world.w1.pk])],
    "archive_record": lambda r: [reverse("archives:archive_record", args=[rec.pk]) for rec in r.records],
    "archive_record_new": lambda r: [reverse("archives:archive_record_new", args=[r.world.w1.pk]) + f"?kind={k}"
                                     for k in ArchiveRecord.Kind.values],
    "archive_record_edit": lambda r: [reverse("archives:archive_record_edit", args=[rec.pk]) for rec in r.records],
    "archive_transfer": lambda r: [reverse("archives:archive_transfer", args=[r.world.w1.pk])],
    "archive_correction_new": lambda r: [reverse("archives:archive_correction_new", args=[r.world.w1.pk])],
    "archive_correction_decide": lambda r: [reverse("archives:archive_correction_decide", args=[r.correction.pk])],
    "user_detail": lambda r: [reverse("accounts:user_detail", args=[r.world.users[k].pk]) for k in ("street", "city")],
    "grant_new": lambda r: [reverse("accounts:grant_new", args=[r.world.users["street"].pk])],
}


def url_patterns() -> list[tuple[str, str]]:
    """(route, name) of every named page outside the API."""
    out: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name:
                out.append((prefix + str(p.pattern), p.name))

    walk(get_resolver().url_patterns, "")
    return [(route, name) for route, name in out if not route.startswith(("api/", "static/"))]


def page_urls(r: Rich) -> list[str]:
    urls: list[str] = []
    for route, name in url_patterns():
        if DOWNLOAD.search(route) or name in NOT_CRAWLED:
            continue
        if "<" not in route:
            urls.append("/" + route)
        else:
            urls.extend(PAGES[name](r))
    return urls


# ---- a browser's reading of a form --------------------------------------------------------------------------


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # submit buttons (name, value) in order
    dates: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of <input type="date">

    def data(self) -> dict[str, list[str]]:
        """What a browser posts on an implicit submission (Enter): the fields, and the form's default
        button (its first submit button) when it has a name."""
        out: dict[str, list[str]] = {}
        for name, value in self.fields + self.buttons[:1]:
            if name:
                out.setdefault(name, []).append(value)
        return out


class FormParser(HTMLParser):
    """Collects each <form>'s successful controls as a browser would submit them."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: dict[str, Any] | None = None
        self.option: dict[str, Any] | None = None
        self.textarea: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.form = Form(self.page, urljoin(self.page, a.get("action") or self.page),
                             (a.get("method") or "get").lower())
            self.forms.append(self.form)
            return
        if self.form is None or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("file", "reset", "image"):
                return
            if kind == "submit":
                self.form.buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.form.fields.append((name, a.get("value", "on")))
            elif kind == "date":
                # A browser's value sanitization: a date input holds YYYY-MM-DD or nothing, so it shows
                # and submits "" for 2012/07/01.
                value = a.get("value", "")
                self.form.dates.append((name, value))
                self.form.fields.append((name, value if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else ""))
            else:
                self.form.fields.append((name, a.get("value", "")))
        elif tag == "button" and (a.get("type") or "submit").lower() == "submit":
            self.form.buttons.append((name, a.get("value", "")))
        elif tag == "select":
            self.select = {"name": name, "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
            self.select["options"].append(self.option)
        elif tag == "textarea":
            self.textarea = {"name": name, "text": ""}

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option["text"] += data
        if self.textarea is not None:
            self.textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "option":
            self.option = None
        elif tag == "select" and self.select is not None and self.form is not None:
            options = self.select["options"]
            chosen = [o for o in options if o["selected"]]
            if not chosen and options and not self.select["multiple"]:
                chosen = options[:1]
            for o in chosen:
                value = o["value"] if o["value"] is not None else " ".join(o["text"].split())
                self.form.fields.append((self.select["name"], value))
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            text = self.textarea["text"]
            if text.startswith("\r\n"):  # the newline right after <textarea> is not part of the value
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            # Browsers submit a textarea's line breaks as CR LF.
            self.form.fields.append((self.textarea["name"], text.replace("\r\n", "\n").replace("\n", "\r\n")))
            self.textarea = None


def post_forms(client: Client, url: str) -> list[Form]:
    resp = client.get(url)
    if resp.status_code != 200 or "html" not in resp.get("Content-Type", ""):
        return []
    parser = FormParser(url)
    parser.feed(resp.content.decode())
    return [f for f in parser.forms if f.method == "post"]


def action_name(form: Form) -> str:
    return resolve(urlsplit(form.action).path).url_name or ""


# ---- what must not change ------------------------------------------------------------------------------------


def _models() -> tuple[list[Any], list[Any]]:
    """(the project's models, their history models)."""
    ours = [m for m in apps.get_models() if m.__module__.startswith("shegong.")]
    history = [m for m in ours if m.__name__.startswith("Historical")]
    return [m for m in ours if m not in history], history


def snapshot() -> dict[str, Any]:
    rows, history = _models()
    out: dict[str, Any] = {m._meta.label: list(m._default_manager.order_by("pk").values()) for m in rows
                           if m._meta.label != "common.AccessLog"}  # opening a page is logged, by design
    out["history"] = {m._meta.label: m._default_manager.count() for m in history}
    return out


def _diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = []
    for label in before:
        if before[label] != after[label]:
            if label == "history":
                lines += [f"history {k}: {before[label][k]} -> {after[label][k]}" for k in before[label]
                          if before[label][k] != after[label][k]]
                continue
            old = {r["id"] if "id" in r else str(r): r for r in before[label]}
            for row in after[label]:
                key = row["id"] if "id" in row else str(row)
                if old.get(key) != row:
                    changed = {k: (old.get(key, {}).get(k), v) for k, v in row.items()
                               if old.get(key, {}).get(k) != v}
                    lines.append(f"{label} {key}: {changed}")
    return "\n".join(lines)


def client_in(world: Any, language: str, role: str = ADMIN) -> Client:
    client = Client()
    client.force_login(world.users[role])
    client.cookies["django_language"] = language
    return client


# ---- the tests -------------------------------------------------------------------------------------------------


def test_every_pattern_with_arguments_is_crawled_or_excused():
    names = {name for _, name in url_patterns()}
    missing = sorted(name for route, name in url_patterns()
                     if "<" in route and not DOWNLOAD.search(route) and name not in PAGES and name not in NOT_CRAWLED)
    assert not missing, f"new pages with arguments: give them arguments in PAGES or a reason in NOT_CRAWLED: {missing}"
    stale = sorted((set(PAGES) | set(NOT_CRAWLED)) - names)
    assert not stale, f"PAGES / NOT_CRAWLED name patterns that no longer exist: {stale}"
    assert not (EDIT_FORMS & set(NOT_EDIT_FORMS))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_form_is_a_round_trip_or_excused(rich, language):
    client = client_in(rich.world, language)
    found: dict[str, list[Form]] = {}
    bad_dates: list[str] = []
    for url in page_urls(rich):
        for form in post_forms(client, url):
            found.setdefault(action_name(form), []).append(form)
            bad_dates += [f"{url} {name}={value!r}" for name, value in form.dates
                          if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)]
    unknown = sorted(set(found) - EDIT_FORMS - set(NOT_EDIT_FORMS))
    assert not unknown, (f"forms posting to {unknown}: add them to EDIT_FORMS (round trip) or NOT_EDIT_FORMS "
                         f"with a reason")
    assert not bad_dates, "date inputs must show YYYY-MM-DD (a browser shows anything else empty):\n" + "\n".join(bad_dates)
    assert set(found) >= EDIT_FORMS, f"edit forms not found on any page: {EDIT_FORMS - set(found)}"

    for name in sorted(EDIT_FORMS):
        seen: set[str] = set()
        for form in found[name]:
            if form.action in seen:
                continue
            seen.add(form.action)
            before = snapshot()
            resp = client.post(form.action, form.data())
            assert resp.status_code == 302, (
                f"{form.action} ({language}) refused what it showed:\n"
                + "\n".join(re.findall(r'class="error"[^>]*>([^<]+)<', resp.content.decode())))
            after = snapshot()
            assert after == before, f"{form.action} ({language}) changed:\n{_diff(before, after)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_end_form_submits_its_default_date(rich, language):
    """The 离任 form's default (today) is shown as an ISO date, so submitting it as shown ends the post today."""
    client = client_in(rich.world, language)
    url = reverse("staffing:appointment_end", args=[rich.appointment.pk])
    (form,) = [f for f in post_forms(client, url) if action_name(f) == "appointment_end"]
    assert dict(form.dates)["end_date"] == timezone.localdate().isoformat()
    resp = client.post(form.action, form.data())
    assert resp.status_code == 302
    rich.appointment.refresh_from_db()
    assert rich.appointment.end_date == timezone.localdate()


@pytest.mark.parametrize("language", LANGUAGES)
def test_editing_only_the_phone_keeps_the_dates(rich, language):
    w1 = rich.world.w1
    client = client_in(rich.world, language)
    url = reverse("people:worker_edit", args=[w1.pk])
    (form,) = [f for f in post_forms(client, url) if action_name(f) == "worker_edit"]
    shown = dict(form.fields)
    assert shown["work_start_date"] == "2008-07-01" and shown["post_start_date"] == "2015-03-01"
    data = form.data()
    data["phone"] = ["13912345678"]
    assert client.post(form.action, data).status_code == 302
    w1.refresh_from_db()
    assert (w1.work_start_date, w1.post_start_date) == (dt.date(2008, 7, 1), dt.date(2015, 3, 1))
    assert w1.phone_masked.startswith("139") and w1.phone_masked.endswith("5678")
    latest = w1.history.order_by("-history_id").first()
    previous = w1.history.order_by("-history_id")[1]
    assert latest.work_start_date == previous.work_start_date  # the entry records the phone only
