"""HTML → PDF with WeasyPrint and the Noto CJK fonts of Debian's fonts-noto-cjk (DESIGN: stack).

    data = render_pdf("staffing/description_pdf.html", {"d": description})
    return pdf_response(data, filename="岗位说明书.pdf")

Every document gets BASE_CSS first (A4, margins, the CJK font stack, page-number counters available
as `counter(page)` / `counter(pages)`); a template's own <style> overrides it. Rendering fetches
nothing from the network or the disk: only `data:` URLs load, so user text can never make the
server read a file or call a URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

from shegong.common.errors import ApplicationError

PDF_UNAVAILABLE = ("无法生成 PDF:服务器缺少 WeasyPrint 所需的系统库。Debian/Ubuntu 上请安装 "
                   "libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk 后重试。")


class PdfUnavailable(ApplicationError):
    pass


FONT_FAMILY = "'Noto Sans CJK SC', 'Noto Serif CJK SC', sans-serif"
SERIF_FAMILY = "'Noto Serif CJK SC', 'Noto Sans CJK SC', serif"

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


def html_to_pdf(html: str, *, stylesheets: Sequence[str] = (), base_url: str | None = None) -> bytes:
    """PDF bytes of an HTML string; `stylesheets` are CSS strings applied after BASE_CSS."""
    # Imported here: WeasyPrint loads Pango through cffi, which only the PDF pages need.
    try:
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher
    except OSError as exc:  # the system libraries are missing: say what to install
        raise PdfUnavailable(PDF_UNAVAILABLE) from exc

    fetcher = URLFetcher(allowed_protocols={"data"})
    fonts = FontConfiguration()
    css = [CSS(string=s, font_config=fonts, url_fetcher=fetcher) for s in (BASE_CSS, *stylesheets)]
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    data: bytes = document.write_pdf(stylesheets=css, font_config=fonts)
    return data


def render_pdf(template_name: str, context: Mapping[str, Any] | None = None, *, request: HttpRequest | None = None,
               stylesheets: Sequence[str] = ()) -> bytes:
    """Render a Django template to PDF bytes. The template sees `pdf_font_family` for its own CSS."""
    html = render_to_string(template_name, {"pdf_font_family": FONT_FAMILY, "pdf_serif_family": SERIF_FAMILY,
                                            **(context or {})}, request=request)
    return html_to_pdf(html, stylesheets=stylesheets)


def pdf_response(data: bytes, *, filename: str, inline: bool = True) -> HttpResponse:
    """An HTTP response with the PDF, shown in the browser (inline) or downloaded, under a UTF-8 name."""
    response = HttpResponse(data, content_type="application/pdf")
    disposition = content_disposition_header(not inline, filename)
    if disposition:
        response["Content-Disposition"] = disposition
    response["Content-Length"] = str(len(data))
    response["X-Content-Type-Options"] = "nosniff"
    return response
