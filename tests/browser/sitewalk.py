"""Walking the whole site as each role, at a phone's and a laptop's size, and checking every page reached:
the layout (no sideways scrolling of the page, nothing over the navigation) and accessibility (axe-core, no
serious or critical violation). Used by tests/browser/test_every_page.py.

"Every page" is what a user can reach: the role's menu, the links on the pages the menu leads to, and the
links on those (depth 2; same-origin GET links, no downloads, no sign-out), plus pages with arguments that no
link reaches within that depth (named by the test). A route is visited at most MAX_PER_ROUTE times per role
(the 600 workers of the demo share one page template), so a walk stays within a few minutes.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.urls import Resolver404, resolve

AXE = Path(__file__).parent / "vendor" / "axe.min.js"   # axe-core from npm (vendor/README.md); test-only
SIZES = {"390": {"width": 390, "height": 844}, "1440": {"width": 1440, "height": 900}}
MAX_PER_ROUTE = 2
DEPTH = 2
SKIP_PATHS = ("/api/", "/i18n/", "/logout/", "/static/", "/admin/")   # /api/v1/docs is Swagger's own page
SKIP_SUFFIXES = (".xlsx", ".pdf", ".csv", ".zip", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".docx")
SKIP_QUERY = ("export",)

# The layout of one page: does the page itself scroll sideways, and does anything drawn in the main part lie
# over the navigation? An element clipped by a scrolling container (a wide table in its card) counts with
# the part that is visible.
LAYOUT_JS = """() => {
  const se = document.scrollingElement;
  const out = {scrollWidth: se.scrollWidth, innerWidth: window.innerWidth, overlaps: []};
  const side = document.querySelector('.sidebar'), main = document.querySelector('.main');
  if (!side || !main) { out.frame = false; return out; }
  out.frame = true;
  const s = side.getBoundingClientRect();
  const clip = (el, r) => {
    let box = {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') {
        const q = p.getBoundingClientRect();
        box = {left: Math.max(box.left, q.left), right: Math.min(box.right, q.right),
               top: Math.max(box.top, q.top), bottom: Math.min(box.bottom, q.bottom)};
      }
    }
    return box;
  };
  for (const el of [main, ...main.querySelectorAll('*')]) {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    if (Math.min(r.right, s.right) - Math.max(r.left, s.left) < 2) continue;
    if (Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top) < 2) continue;
    const b = clip(el, r);
    if (Math.min(b.right, s.right) - Math.max(b.left, s.left) < 2) continue;
    if (Math.min(b.bottom, s.bottom) - Math.max(b.top, s.top) < 2) continue;
    const cls = el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    out.overlaps.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + ' "' +
                      (el.innerText || '').trim().slice(0, 30) + '"');
    if (out.overlaps.length >= 5) break;
  }
  return out;
}"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 8).map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                                           summary: (n.failureSummary || '').split('\\n').slice(0, 2).join(' ')}))
  }));
}"""


@dataclass(frozen=True)
class Finding:
    family: str        # "layout" or "axe"
    role: str          # the demo account
    size: str          # "390" or "1440"
    url: str           # path and query
    rule: str          # "scroll", "overlap" or the axe rule id
    target: str        # the element (a CSS selector for axe)
    detail: str

    def known_by(self, known: Iterable[tuple[str, str, str, str]]) -> tuple[str, str, str, str] | None:
        for entry in known:
            rule, target, url_pattern, _reason = entry
            if rule == self.rule and target in self.target and re.search(url_pattern, self.url):
                return entry
        return None


@dataclass
class Walk:
    pages: dict[tuple[str, str], list[str]] = field(default_factory=dict)   # (role, size) -> paths checked
    findings: list[Finding] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)                   # path -> last HTTP status
    axed: set[tuple[str, str]] = field(default_factory=set)                   # (route or named page, size)
    seconds: float = 0.0

    def of(self, family: str) -> list[Finding]:
        return [f for f in self.findings if f.family == family]


def report(findings: list[Finding], known: list[tuple[str, str, str, str]], title: str) -> tuple[str, list[str]]:
    """One message with every new finding grouped by rule and element (with where: role @ size URL), and the
    KNOWN entries that matched nothing any more (so the list can be emptied)."""
    new: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    used: set[tuple[str, str, str, str]] = set()
    for f in findings:
        entry = f.known_by(known)
        if entry is None:
            new[(f.rule, f.target)].append(f)
        else:
            used.add(entry)
    stale = [f"{rule} {target!r} {pattern!r}" for rule, target, pattern, _ in known
             if (rule, target, pattern, _) not in used]
    if not new:
        return "", stale
    lines = [f"{title}: {sum(len(v) for v in new.values())} finding(s) in {len(new)} group(s)"]
    for (rule, target), group in sorted(new.items()):
        where = sorted({f"{f.role} @ {f.size}px {f.url}" for f in group})
        lines.append(f"- [{rule}] {target}: {group[0].detail}")
        lines.extend(f"    {w}" for w in where[:6])
        if len(where) > 6:
            lines.append(f"    … and {len(where) - 6} more")
    return "\n".join(lines), stale


def route_key(path: str) -> str:
    """The URL pattern a path answers to (its query left out): pages of one route share one template."""
    parts = urlsplit(path)
    try:
        return resolve(parts.path).route
    except Resolver404:
        return f"404:{parts.path}"


def wanted(href: str, origin: str) -> str | None:
    """The path and query of a link worth visiting, or None."""
    parts = urlsplit(href)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    if parts.path.startswith(SKIP_PATHS) or parts.path.lower().endswith(SKIP_SUFFIXES):
        return None
    if any(k in SKIP_QUERY for k, _ in parse_qsl(parts.query)):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login(page: Any, origin: str, username: str, password: str) -> None:
    page.goto(f"{origin}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    if urlsplit(page.url).path.startswith("/login"):
        raise AssertionError(f"{username} could not sign in")


def open_page(page: Any, origin: str, path: str) -> int | None:
    """Go to the page; the HTTP status, or None for a download or a page that is not HTML."""
    try:
        response = page.goto(origin + path, wait_until="load")
    except Exception as exc:  # noqa: BLE001 — Playwright raises for a download ("Download is starting")
        if "Download" in str(exc) or "download" in str(exc):
            return None
        raise
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return None
    return int(response.status)


def check_page(page: Any, walk: Walk, role: str, size: str, path: str, named: bool = False) -> None:
    """The layout on every page of every role; axe once per route (or named page) and size, for the first role
    that reaches it (a template's findings do not change with the rows, and axe is the slow part)."""
    started = time.monotonic()
    layout = page.evaluate(LAYOUT_JS)
    if layout["scrollWidth"] > layout["innerWidth"]:
        walk.findings.append(Finding("layout", role, size, path, "scroll", "page",
                                     f"the page scrolls sideways: {layout['scrollWidth']} px wide in a "
                                     f"{layout['innerWidth']} px window"))
    if not layout.get("frame"):
        walk.findings.append(Finding("layout", role, size, path, "frame", "page", "no .sidebar/.main frame"))
    for element in layout.get("overlaps", []):
        walk.findings.append(Finding("layout", role, size, path, "overlap", element.split(" ")[0],
                                     f"lies over the navigation: {element}"))
    query = urlsplit(path).query
    key = (route_key(path) + (f"?{query}" if named and query else ""), size)
    ran_axe = key not in walk.axed
    if ran_axe:
        walk.axed.add(key)
        page.add_script_tag(path=str(AXE))
        for violation in page.evaluate(AXE_JS):
            for node in violation["nodes"]:
                walk.findings.append(Finding("axe", role, size, path, violation["id"], node["target"],
                                             f"({violation['impact']}) {violation['help']} — {node['html']} "
                                             f"{node['summary']}"))
    _trace(f"{role} {size} {path} {time.monotonic() - started:.2f} s{' with axe' if ran_axe else ''}")


def links(page: Any, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return [p for p in (wanted(h.split("#")[0], origin) for h in hrefs) if p]


def new_contexts(browser: Any) -> dict[str, Any]:
    """One browser context per size (a phone: touch and a mobile viewport); CSP bypassed to inject axe."""
    return {size: browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True,
                                      is_mobile=size == "390", has_touch=size == "390")
            for size, viewport in SIZES.items()}


def _trace(message: str) -> None:
    if os.environ.get("SHEGONG_WALK_TRACE"):
        print(message, flush=True)


def walk_role(browser: Any, walk: Walk, origin: str, role: str, password: str, extra: list[str]) -> None:
    """Crawl at the laptop size from the menu (depth 2), then check the same pages at the phone size; one
    browser context per role and size."""
    started = time.monotonic()
    contexts = new_contexts(browser)
    pages = {size: ctx.new_page() for size, ctx in contexts.items()}
    for pg in pages.values():
        pg.set_default_timeout(20000)
        login(pg, origin, role, password)
    first = pages["1440"]
    menu = first.eval_on_selector_all("nav a[href]", "els => els.map(e => e.href)")
    # (path, depth, named): the named pages with arguments are checked even when their route was seen
    queue: list[tuple[str, int, bool]] = [(p, DEPTH, True) for p in extra] + [("/", 0, False)]
    queue += [(p, 0, False) for p in (wanted(h, origin) for h in menu) if p]
    seen: set[str] = set()
    per_route: Counter[str] = Counter()
    checked: list[str] = []
    while queue:
        path, depth, named = queue.pop(0)
        if path in seen or (not named and per_route[route_key(path)] >= MAX_PER_ROUTE):
            continue
        seen.add(path)
        status = open_page(first, origin, path)
        if status is None:
            continue
        final = wanted(first.url, origin) or path
        if final != path and (final in checked or per_route[route_key(final)] >= MAX_PER_ROUTE and not named):
            continue
        per_route[route_key(final)] += 1
        walk.statuses[final] = status
        checked.append(final)
        check_page(first, walk, role, "1440", final, named)
        if depth < DEPTH:
            queue += [(p, depth + 1, False) for p in links(first, origin) if p not in seen]
    walk.pages[(role, "1440")] = checked
    named_paths = set(extra)
    # The phone: one page per route (the layout differs by template far more than by row).
    phone_checked: list[str] = []
    phone_routes: set[str] = set()
    for path in checked:
        if route_key(path) in phone_routes:
            continue
        phone_routes.add(route_key(path))
        if open_page(pages["390"], origin, path) is not None:
            phone_checked.append(path)
            check_page(pages["390"], walk, role, "390", path, path in named_paths)
    walk.pages[(role, "390")] = phone_checked
    for ctx in contexts.values():
        ctx.close()
    _trace(f"{role}: {len(checked)} pages in {time.monotonic() - started:.0f} s")
    walk.seconds += time.monotonic() - started
