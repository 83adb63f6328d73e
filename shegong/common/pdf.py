"""HTML → PDF with WeasyPrint and the Noto CJK fonts of Debian's fonts-noto-cjk (DESIGN: stack).

    data = render_pdf("staffing/description_pdf.html", {"d": description})
    return pdf_response(data, filename="岗位说明书.pdf")

Every PDF of the project goes through here (`grep -rn weasyprint shegong` finds only this file).

* Styles. Every document gets BASE_CSS first (A4, margins, the CJK font, page-number counters available
  as `counter(page)` / `counter(pages)`); a template's own <style> overrides it. One font family only,
  Noto Sans CJK SC, regular and bold: each further family or weight is one more 20–27 MB font collection
  that WeasyPrint copies and subsets on every render (measured: ~90 MiB of peak memory and ~0.25 s per
  render each). `pdf_serif_family` (titles, in older templates) names the same family. Fonts are always
  subset (`full_fonts=False`, no hinting) with HarfBuzz (libharfbuzz-subset0).
* What loads. Nothing from the network or the disk: only `data:` URLs and the caller's own `resources`,
  named in the HTML as `resource:NAME` (e.g. `<img src="resource:photo.jpg">`, with
  `resources={"photo.jpg": ("image/jpeg", data)}`). So user text can never make the server read a file
  or call a URL, and a log line about a resource names it in a few characters.
* How many at once. A render takes about 100 MiB while it runs (mostly the two font files, read and
  subset; bench/pdf_memory.py measures it), and threads add up, so at most
  settings.PDF_MAX_CONCURRENT_RENDERS (default 2) run at once in the process; another waits up to
  settings.PDF_RENDER_WAIT_SECONDS (default 15) for a slot and is then refused with PdfBusy (a
  PdfUnavailable: the views answer 503 with its Chinese message). `render_slot()` holds a slot around
  more than the rendering itself (the archive documents prepare their photo inside it); it is re-entrant
  in a thread.
* One FontConfiguration per slot. Each slot keeps its WeasyPrint FontConfiguration from one render to
  the next (font_config()): a new one per render was freed only by the cyclic garbage collector, so a
  process grew by 20–40 MiB per PDF (20 post descriptions in a row: 644 MiB; now 189 MiB).
* Logs. WeasyPrint (and fontTools and Pillow, which it drives) log through their own loggers, which
  get SafeLogFilter: a record is cut to LOG_LIMIT characters and any data: URL or long base64 run in it
  is replaced by its length, so a failed image can never write its bytes — a photo — into the log.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

from shegong.common.errors import ApplicationError

PDF_UNAVAILABLE = ("无法生成 PDF:服务器缺少 WeasyPrint 所需的系统库。Debian/Ubuntu 上请安装 "
                   "libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk 后重试。")
PDF_BUSY = "系统繁忙:正在生成的 PDF 文件较多,请稍后(约半分钟后)再试。"
RETRY_AFTER_SECONDS = 30


class PdfUnavailable(ApplicationError):
    pass


class PdfBusy(PdfUnavailable):
    """Every render slot stayed taken for the whole wait (answered 503, like a missing library)."""


FONT_FAMILY = "'Noto Sans CJK SC', sans-serif"
SERIF_FAMILY = FONT_FAMILY   # titles too: a serif family would be two more font files per render

BASE_CSS = f"""
@page {{
  size: A4;
  margin: 22mm 18mm 20mm 18mm;
  @bottom-center {{ content: "第 " counter(page) " 页 共 " counter(pages) " 页";
                    font-family: {FONT_FAMILY}; font-size: 8.5pt; color: #555; }}
}}
html {{ font-family: {FONT_FAMILY}; font-size: 10.5pt; line-height: 1.6; color: #111; }}
body {{ margin: 0; }}
"""

RESOURCE_SCHEME = "resource"
# (content type, bytes), by the name that follows "resource:" in the HTML.
Resources = Mapping[str, tuple[str, bytes]]


# ---- how many at once ----------------------------------------------------------------------------


class RenderSlots:
    """A counting semaphore whose size is read at each acquire (settings may change it, tests do), and
    which says how many hold a slot and how many wait."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.active = 0
        self.waiting = 0

    def acquire(self, limit: int, timeout: float) -> bool:
        with self._cond:
            self.waiting += 1
            try:
                ok = self._cond.wait_for(lambda: self.active < limit, timeout=timeout)
            finally:
                self.waiting -= 1
            if ok:
                self.active += 1
            return ok

    def release(self) -> None:
        with self._cond:
            self.active -= 1
            self._cond.notify_all()


SLOTS = RenderSlots()
_held = threading.local()
# WeasyPrint FontConfigurations that are free, one per slot that has rendered (see font_config()).
_font_pool: list[Any] = []
_font_pool_lock = threading.Lock()
# Called with no argument once a render holds its slot, before it renders (tests observe concurrency).
render_hook: Callable[[], None] | None = None


def max_concurrent_renders() -> int:
    return max(1, int(getattr(settings, "PDF_MAX_CONCURRENT_RENDERS", 2)))


def render_wait_seconds() -> float:
    return float(getattr(settings, "PDF_RENDER_WAIT_SECONDS", 15))


@contextmanager
def render_slot() -> Iterator[None]:
    """Hold one of the process's render slots (re-entrant in a thread); PdfBusy when none frees in time."""
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    if not SLOTS.acquire(max_concurrent_renders(), render_wait_seconds()):
        raise PdfBusy(PDF_BUSY)
    _held.depth, _held.fonts = 1, None
    try:
        if render_hook is not None:
            render_hook()
        yield
    finally:
        fonts, _held.depth, _held.fonts = _held.fonts, 0, None
        if fonts is not None:
            with _font_pool_lock:
                if len(_font_pool) < max_concurrent_renders():
                    _font_pool.append(fonts)
        SLOTS.release()


def font_config() -> Any:
    """The WeasyPrint FontConfiguration of the slot this thread holds: taken from the pool (made the first
    time) and given back with the slot, so each one serves one render at a time and the pool holds at
    most one per slot. A new one per render would cost ~20–40 MB each until the cyclic garbage collector
    happens to free it (its Pango font map sits in a reference cycle with the fonts it loaded), which
    made memory grow from render to render; reused, the fonts are loaded once per slot."""
    from weasyprint.text.fonts import FontConfiguration

    fonts = getattr(_held, "fonts", None)
    if fonts is None:
        with _font_pool_lock:
            fonts = _font_pool.pop() if _font_pool else None
        fonts = fonts if fonts is not None else FontConfiguration()
        if getattr(_held, "depth", 0):
            _held.fonts = fonts
    return fonts


# ---- logs ----------------------------------------------------------------------------------------

LOG_LIMIT = 300
TRACEBACK_LIMIT = 1500
LOGGERS = ("weasyprint", "weasyprint.progress", "fontTools", "PIL")
_DATA_URL = re.compile(r"data:[^,\s'\"]{0,200},[^\s'\")]*", re.IGNORECASE)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=_-]{120,}")


def scrub(text: str, limit: int) -> str:
    """`text` without embedded data (data: URLs, long base64 runs), cut to `limit` characters."""
    text = _DATA_URL.sub(lambda m: f"[内嵌数据 {len(m.group())} 字符,已略去]", text)
    text = _BASE64_RUN.sub(lambda m: f"[{len(m.group())} 字符的编码数据,已略去]", text)
    if len(text) > limit:
        text = f"{text[:limit]}…[共 {len(text)} 字符,已截断]"
    return text


class SafeLogFilter(logging.Filter):
    """Rewrites each record of the PDF libraries in place: message and traceback scrubbed and cut."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a record whose arguments do not format: keep the template only
            message = str(record.msg)
        record.msg, record.args = scrub(message, LOG_LIMIT), None
        if record.exc_info:
            formatter = logging.Formatter()
            text = formatter.formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = scrub(text[-TRACEBACK_LIMIT:], TRACEBACK_LIMIT)
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text[-TRACEBACK_LIMIT:], TRACEBACK_LIMIT)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info[-TRACEBACK_LIMIT:], TRACEBACK_LIMIT)
        return True


_FILTER = SafeLogFilter()


def install_log_filter() -> None:
    """Put SafeLogFilter on the PDF libraries' loggers and on each of their child loggers that exists
    (a logger's filters apply only to its own records). Idempotent; called before every render, so child
    loggers created since (modules imported later) get it too."""
    names = [n for n in list(logging.root.manager.loggerDict)
             if any(n == p or n.startswith(p + ".") for p in LOGGERS)]
    for name in {*LOGGERS, *names}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


# ---- rendering -----------------------------------------------------------------------------------


@functools.cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ResourceFetcher(URLFetcher):
        """data: URLs and `resource:NAME` from the caller's mapping; every other URL is refused."""

        def __init__(self, resources: Resources) -> None:
            super().__init__(allowed_protocols={"data"})
            self._resources = dict(resources)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(RESOURCE_SCHEME + ":"):
                name = url[len(RESOURCE_SCHEME) + 1:]
                if name not in self._resources:
                    raise ValueError(f"no resource named {name[:60]!r}")
                content_type, body = self._resources[name]
                return URLFetcherResponse(url, body, {"Content-Type": content_type})
            if not url[:5].lower() == "data:":
                raise ValueError(f"URI uses disallowed protocol: {url.split(':', 1)[0][:20]}:")
            return super().fetch(url, headers)

    return ResourceFetcher


def html_to_pdf(html: str, *, stylesheets: Sequence[str] = (), base_url: str | None = None,
                resources: Resources | None = None) -> bytes:
    """PDF bytes of an HTML string; `stylesheets` are CSS strings applied after BASE_CSS; `resources`
    are what the HTML may load as `resource:NAME`. Holds a render slot (PdfBusy when none frees)."""
    # Imported here: WeasyPrint loads Pango through cffi, which only the PDF pages need.
    try:
        from weasyprint import CSS, HTML
    except OSError as exc:  # the system libraries are missing: say what to install
        raise PdfUnavailable(PDF_UNAVAILABLE) from exc

    install_log_filter()
    with render_slot():
        fetcher = _fetcher_class()(resources or {})
        fonts = font_config()
        css = [CSS(string=s, font_config=fonts, url_fetcher=fetcher) for s in (BASE_CSS, *stylesheets)]
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        data: bytes = document.write_pdf(stylesheets=css, font_config=fonts, full_fonts=False, hinting=False)
    return data


def render_pdf(template_name: str, context: Mapping[str, Any] | None = None, *, request: HttpRequest | None = None,
               stylesheets: Sequence[str] = (), resources: Resources | None = None) -> bytes:
    """Render a Django template to PDF bytes. The template sees `pdf_font_family` for its own CSS."""
    html = render_to_string(template_name, {"pdf_font_family": FONT_FAMILY, "pdf_serif_family": SERIF_FAMILY,
                                            **(context or {})}, request=request)
    return html_to_pdf(html, stylesheets=stylesheets, resources=resources)


def unavailable_response(exc: PdfUnavailable) -> HttpResponse:
    """503 with the Chinese reason (missing libraries, or busy: then with Retry-After)."""
    response = HttpResponse(exc.message, status=503, content_type="text/plain; charset=utf-8")
    if isinstance(exc, PdfBusy):
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def pdf_response(data: bytes, *, filename: str, inline: bool = True) -> HttpResponse:
    """An HTTP response with the PDF, shown in the browser (inline) or downloaded, under a UTF-8 name."""
    response = HttpResponse(data, content_type="application/pdf")
    disposition = content_disposition_header(not inline, filename)
    if disposition:
        response["Content-Disposition"] = disposition
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    return response
