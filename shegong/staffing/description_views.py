"""Post description pages (岗位说明书, 8.1.1.2): streets → a street's posts → one post's description, its
versions, the edit form, publishing and the PDFs. Thin: parse, call staffing.descriptions, render.

Out of scope answers 404; a user who may read a street's descriptions but not change them (a
community admin, a worker, a training admin) gets 403 on the edit form and on publishing, as on the
other pages (tests/test_web_scope.py).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shegong.common.errors import ApplicationError, ConflictError
from shegong.common.forms import VersionTokenField, conflict_form
from shegong.common.pdf import PdfUnavailable, pdf_response, render_pdf, unavailable_response
from shegong.org.models import Division
from shegong.org.selectors import division_ancestors
from shegong.staffing.descriptions import (
    description_allowed,
    description_current,
    description_draft,
    description_draft_save,
    description_edit_token,
    description_get,
    description_history,
    description_publish,
    description_statuses,
    description_street_get,
    description_street_list,
    description_token_base,
    description_versions,
)
from shegong.staffing.models import PostDescription, PostType

PAGE_SIZE = 50
NOT_FOUND = "不存在或不在您的管辖范围内"
READ_ONLY = "您可以查看但无权编辑这个街道的岗位说明书(8.1.1.2:岗位说明书由街道(乡镇)制定)"


class DescriptionForm(forms.Form):
    reporting_line = forms.CharField(label="汇报关系", widget=forms.Textarea(attrs={"rows": 2}),
                                     help_text="向谁负责、向谁报告工作,例如:街道(乡镇)党(工)委")
    added_duties = forms.CharField(label="街道增加的职责", required=False,
                                   widget=forms.Textarea(attrs={"rows": 6}),
                                   help_text="每行一条;空行会被忽略。标准规定的职责自动列入,无需重复填写")
    requirements = forms.CharField(label="任职条件", widget=forms.Textarea(attrs={"rows": 8}),
                                   help_text="每行一条")
    assessment = forms.CharField(label="考核方式", widget=forms.Textarea(attrs={"rows": 9}),
                                 help_text="每行一条;默认内容依据 9.1(德、能、勤、绩、廉)、9.2 和 9.3")
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    row_version = VersionTokenField()  # what the form was filled from (descriptions.description_edit_token)


def _street(request: HttpRequest, code: str) -> Division:
    try:
        return description_street_get(user=request.user, code=code)
    except Division.DoesNotExist as exc:
        raise Http404(NOT_FOUND) from exc


def _post_type(code: str) -> PostType:
    try:
        return PostType.objects.get(code=code)
    except PostType.DoesNotExist as exc:
        raise Http404("没有这个岗位") from exc


def _form_error(form: forms.Form, exc: ApplicationError) -> None:
    for field, msgs in exc.errors.items():
        target = field if field in form.fields else None
        for msg in msgs:
            form.add_error(target, msg)


def _lines(values: list[str]) -> str:
    return "\n".join(values)


def _filename(d: PostDescription) -> str:
    if d.is_default:
        suffix = "标准默认"
    elif d.status == PostDescription.Status.DRAFT:
        suffix = f"v{d.version}-草稿"
    else:
        suffix = f"v{d.version}"
    return f"岗位说明书-{d.street.name}-{d.post_type.name}-{suffix}.pdf"


def _pdf(request: HttpRequest, d: PostDescription) -> HttpResponse:
    try:
        data = render_pdf("staffing/description_pdf.html", {
            "d": d, "street": d.street, "post_type": d.post_type,
            "ancestors": division_ancestors(division=d.street),
        })
    except PdfUnavailable as exc:
        return unavailable_response(exc)
    return pdf_response(data, filename=_filename(d))


@login_required
def description_index(request: HttpRequest) -> HttpResponse:
    """The streets whose descriptions the user reads; a user with one street goes straight to it."""
    q = request.GET.get("q", "").strip()
    qs = description_street_list(user=request.user, q=q)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    if not q and page.paginator.count == 1:
        return redirect("description_list", street_code=page.object_list[0].code)
    return render(request, "staffing/description_streets.html", {"page": page, "q": q,
                                                                 "post_count": PostType.objects.count()})


@login_required
def description_list(request: HttpRequest, street_code: str) -> HttpResponse:
    street = _street(request, street_code)
    return render(request, "staffing/description_list.html", {
        "street": street, "ancestors": division_ancestors(division=street),
        "rows": description_statuses(user=request.user, street=street),
        "can_change": description_allowed(user=request.user, street=street, action="change"),
    })


def _detail(request: HttpRequest, street: Division, post_type: PostType, d: PostDescription) -> HttpResponse:
    can_change = description_allowed(user=request.user, street=street, action="change")
    versions = description_versions(user=request.user, street=street, post_type=post_type)
    current = next((v for v in versions if v.status == PostDescription.Status.PUBLISHED), None)
    draft = next((v for v in versions if v.status == PostDescription.Status.DRAFT), None)
    return render(request, "staffing/description_detail.html", {
        "street": street, "post_type": post_type, "d": d, "ancestors": division_ancestors(division=street),
        "versions": versions, "current": current, "draft": draft, "can_change": can_change,
        "history": description_history(user=request.user, street=street, post_type=post_type),
    })


def _version(request: HttpRequest, street: Division, post_type: PostType, version: int) -> PostDescription:
    try:
        return description_get(user=request.user, street=street, post_type=post_type, version=version)
    except PostDescription.DoesNotExist as exc:
        raise Http404(NOT_FOUND) from exc


@login_required
def description_detail(request: HttpRequest, street_code: str, post_code: str) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    d = description_current(user=request.user, street=street, post_type=post_type)
    return _detail(request, street, post_type, d)


@login_required
def description_version(request: HttpRequest, street_code: str, post_code: str, version: int) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    return _detail(request, street, post_type, _version(request, street, post_type, version))


@login_required
def description_pdf(request: HttpRequest, street_code: str, post_code: str) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    return _pdf(request, description_current(user=request.user, street=street, post_type=post_type))


@login_required
def description_version_pdf(request: HttpRequest, street_code: str, post_code: str, version: int) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    return _pdf(request, _version(request, street, post_type, version))


def _form_values(d: PostDescription) -> dict[str, str]:
    return {"reporting_line": d.reporting_line, "added_duties": _lines(d.added_duties),
            "requirements": _lines(d.requirements), "assessment": _lines(d.assessment), "note": d.note}


@login_required
def description_edit(request: HttpRequest, street_code: str, post_code: str) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    if not description_allowed(user=request.user, street=street, action="change"):
        return HttpResponseForbidden(READ_ONLY)
    draft = description_draft(user=request.user, street=street, post_type=post_type)
    base = draft or description_current(user=request.user, street=street, post_type=post_type)
    initial = {**_form_values(base), "row_version": description_edit_token(street=street, post_type=post_type)}
    form = DescriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        publish = request.POST.get("action") == "publish"
        data = dict(form.cleaned_data)
        expected = data.pop("row_version") or None
        try:
            with transaction.atomic():
                saved = description_draft_save(user=request.user, street=street, post_type=post_type,
                                               expected=expected, force=publish, **data)
                unchanged = saved.status != PostDescription.Status.DRAFT or (
                    draft is not None and saved.pk == draft.pk and saved.row_version == draft.row_version)
                if publish:
                    saved = description_publish(user=request.user, street=street, post_type=post_type)
        except ConflictError:
            draft = description_draft(user=request.user, street=street, post_type=post_type)
            base = draft or description_current(user=request.user, street=street, post_type=post_type)
            started = description_token_base(street=street, post_type=post_type, token=expected or "")
            form = conflict_form(
                form, current=_form_values(base), base=_form_values(started) if started is not None else None,
                version=description_edit_token(street=street, post_type=post_type),
                make=lambda data, initial: DescriptionForm(data, initial=initial))
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            if publish:
                messages.success(request, f"已发布{post_type.name}岗位说明书 v{saved.version}")
            elif unchanged:
                messages.info(request, "内容没有修改,未保存")
            else:
                messages.success(request, f"已保存草稿 v{saved.version},发布后才对其他人生效")
            return redirect("description_detail", street_code=street.code, post_code=post_type.code)
    return render(request, "staffing/description_edit.html", {
        "street": street, "post_type": post_type, "form": form, "draft": draft, "base": base,
        "ancestors": division_ancestors(division=street),
    })


@login_required
@require_POST
def description_publish_view(request: HttpRequest, street_code: str, post_code: str) -> HttpResponse:
    street, post_type = _street(request, street_code), _post_type(post_code)
    if not description_allowed(user=request.user, street=street, action="change"):
        return HttpResponseForbidden(READ_ONLY)
    try:
        d = description_publish(user=request.user, street=street, post_type=post_type)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已发布{post_type.name}岗位说明书 v{d.version}")
    return redirect("description_detail", street_code=street.code, post_code=post_type.code)
