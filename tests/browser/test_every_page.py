"""Issue 11, points 2 and 13, as test families over every page of every role (the demo city of `shegong demo`,
its six accounts), in chromium at 390×844 (a phone: touch, mobile viewport) and 1440×900 (a laptop):

- LAYOUT: the page never scrolls sideways (document.scrollingElement.scrollWidth <= innerWidth; a wide table
  scrolls inside its own card), every page is in the site's frame, and nothing of the page lies over the
  navigation.
- ACCESSIBILITY: axe-core (tests/browser/vendor/, from npm) finds no "serious" or "critical" violation.

The pages are walked once (sitewalk.py: the role's menu, links to depth 2, and PAGES_WITH_ARGUMENTS); both tests
read that one walk. Each test reports all its findings in one failure message, grouped by rule and element,
naming role, size and URL. KNOWN_* excuse findings in templates the browser-test owner does not own, each with
the template and the reason; the lead empties these lists as the owners fix them (a KNOWN entry that matches
nothing any more is reported as a warning, so it can be removed).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from shegong.accounts.models import User
from shegong.accounts.services import roles_sync
from shegong.accounts.validators import DEMO_PASSWORD
from shegong.archives import services as archive_services
from shegong.archives.forms import RECORD_FORMS
from shegong.archives.models import ArchiveRecord, CorrectionRequest
from shegong.people.models import Worker
from shegong.staffing.models import Appointment
from shegong.staffing.services import post_types_sync
from shegong.web.demo import build_demo
from tests.browser.sitewalk import Walk, report, walk_role

pytestmark = [pytest.mark.browser]

# (rule, element (a substring of the CSS selector), URL pattern (regex on path?query), where and why).
# Findings in templates owned by other helpers of issue 11; see /tmp/h/browser_findings.md.
KNOWN_LAYOUT: list[tuple[str, str, str, str]] = []
KNOWN_AXE: list[tuple[str, str, str, str]] = [
    ("scrollable-region-focusable", ".card", r"^/archives/\d+/access-log/",
     "archives/templates/archives/access_log.html (archives helper): at 390 px the log table's card scrolls "
     "sideways and holds nothing the keyboard can focus; wrap the table in "
     '<div class="table-wrap" tabindex="0" role="region" aria-label="访问记录"> (app.css has .table-wrap)'),
]


def _reverse(name: str, *args: Any, query: str = "") -> str | None:
    try:
        return reverse(name, args=args) + query
    except NoReverseMatch:  # a route renamed or removed since: the walk goes on without it
        return None


def pages_with_arguments(user: User) -> list[str]:
    """Pages no link reaches within depth 2, or only for some rows: the forms of one worker, one record, one
    appointment, one correction request and one post description, each for a row the user can see."""
    worker = user.worker or (Worker.objects.restrict(user, "view").filter(archive_records__isnull=False)
                             .order_by("id").first())
    if worker is None:
        return []
    paths = [_reverse("people:worker_detail", worker.pk), _reverse("people:worker_edit", worker.pk),
             _reverse("staffing:worker_appoint", worker.pk), _reverse("archives:archive_detail", worker.pk),
             _reverse("archives:archive_transfer", worker.pk), _reverse("archives:archive_access_log", worker.pk),
             _reverse("archives:archive_correction_new", worker.pk)]
    paths += [_reverse("archives:archive_record_new", worker.pk, query=f"?kind={kind}") for kind in RECORD_FORMS]
    record = ArchiveRecord.objects.filter(worker=worker).order_by("id").first()
    if record is not None:
        paths += [_reverse("archives:archive_record", record.pk), _reverse("archives:archive_record_edit", record.pk)]
    appointment = Appointment.objects.filter(worker=worker, end_date__isnull=True).order_by("id").first()
    if appointment is not None:
        paths.append(_reverse("staffing:appointment_end", appointment.pk))
    correction = CorrectionRequest.objects.filter(worker=worker).order_by("id").first()
    if correction is not None:
        paths.append(_reverse("archives:archive_correction_decide", correction.pk))
    street = worker.community.parent
    if street is not None:
        post = worker.appointments.order_by("id").values_list("post_type__code", flat=True).first()
        if post:
            paths += [_reverse("staffing:description_detail", street.code, post),
                      _reverse("staffing:description_edit", street.code, post)]
    return [p for p in paths if p]


@pytest.fixture(scope="module")
def walk(browser: Any, live_server: Any, django_db_setup: Any, django_db_blocker: Any) -> Iterator[Walk]:
    """The demo city in the live server's database, every role walked at both sizes; the tables emptied after."""
    result = Walk()
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        roles_sync()
        post_types_sync()
        demo = build_demo()
        users = {u.username: u for u in User.objects.filter(username__in=[a[0] for a in demo.accounts])}
        own = next((u for u in users.values() if u.worker_id), None)
        if own is not None:  # a pending request, so its decision page exists
            archive_services.correction_request_create(actor=own, worker=own.worker,
                                                       text="参加工作时间应为2008年7月")
        extras = {name: pages_with_arguments(user) for name, user in users.items()}
        only = os.environ.get("SHEGONG_WALK_ROLES", "")  # while developing: a few roles, comma-separated
        for username, _role, _display in demo.accounts:
            if only and username not in only.split(","):
                continue
            walk_role(browser, result, live_server.url, username, DEMO_PASSWORD, extras[username])
        yield result
        call_command("flush", interactive=False, verbosity=0)


def test_the_walk_reached_every_role_and_many_pages(walk: Walk):
    for (role, size), paths in sorted(walk.pages.items()):
        assert len(paths) >= 8, f"{role} @ {size}px reached only {paths}"
    errors = {path: status for path, status in walk.statuses.items() if status >= 500}
    assert not errors, f"pages answering a server error: {errors}"
    total = sum(len(p) for p in walk.pages.values())
    print(f"\nwalked {total} pages ({len(walk.statuses)} distinct) in {walk.seconds:.0f} s")


def _check(walk: Walk, family: str, known: list[tuple[str, str, str, str]], title: str) -> None:
    message, stale = report(walk.of(family), known, title)
    for entry in stale:
        warnings.warn(f"KNOWN entry matches nothing any more, remove it: {entry}", stacklevel=2)
    assert not message, message


def test_no_page_scrolls_sideways_or_covers_the_navigation(walk: Walk):
    _check(walk, "layout", KNOWN_LAYOUT, "LAYOUT (390×844 and 1440×900)")


def test_no_serious_or_critical_accessibility_violation(walk: Walk):
    _check(walk, "axe", KNOWN_AXE, "ACCESSIBILITY (axe-core: serious and critical)")
