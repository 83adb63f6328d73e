"""PDF views of the archive documents. Thin: scope the worker, log the print, render, answer.

Out of scope answers 404 and logs nothing; a server without WeasyPrint's libraries answers 503 with
what to install (as the post-description PDFs do), and so does one whose render slots stayed taken
(系统繁忙, with Retry-After; shegong.common.pdf bounds the renders at once)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from shegong.archives import documents, selectors, services
from shegong.common.pdf import PdfUnavailable, pdf_response, unavailable_response
from shegong.people.models import Worker

NOT_FOUND = "不存在或不在您的管辖范围内"
CATALOGUE = "档案目录"
INFO_FORM = "社区工作者信息表"


def _document(request: HttpRequest, pk: int, title: str, render: Callable[..., bytes]) -> HttpResponse:
    try:
        worker = selectors.archive_worker(user=request.user, pk=pk)
    except Worker.DoesNotExist as exc:
        raise Http404(NOT_FOUND) from exc
    try:
        data = render(worker=worker)
    except PdfUnavailable as exc:
        return unavailable_response(exc)
    # Logged once the document exists: a failed rendering printed nothing.
    services.archive_print(actor=request.user, worker=worker, document=title, ip=request.META.get("REMOTE_ADDR"))
    response = pdf_response(data, filename=f"{worker.name}_{title}.pdf")
    response["Cache-Control"] = "private, no-store"  # personal data and the photo: never kept in a cache
    return response


@login_required
def catalogue_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _document(request, pk, CATALOGUE, documents.catalogue_pdf)


@login_required
def info_form_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _document(request, pk, INFO_FORM, documents.info_form_pdf)
