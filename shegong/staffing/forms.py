"""Appointment forms (任命 / 离任)."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from shegong.access import Actor
from shegong.common.forms import DateInput, VersionField, VersionTokenField
from shegong.org.forms import CommunityCascadeField
from shegong.staffing.entry import CONFIRM_REASON_MAX
from shegong.staffing.models import Appointment, PostType

# ISO values in every language: a browser's date input shows and submits nothing for 2012/07/01.
DATE = DateInput()


POST_PLACEHOLDER = "请选择岗位"
USUAL_METHOD = "按岗位常用方式"
CONFIRM_FIELDS = ("confirm", "confirm_reason")


def post_type_choices(rows: list[tuple[str, str, str]]) -> list[Any]:
    """The post select's options: the placeholder, then one <optgroup> per category in the standard's
    order (党组织 4.2 · 居委会 4.3 · 社工岗 4.1 · 兼任 4.2.1/4.3.3), each in the table's order.
    `rows`: (code, name, category) in the table's order."""
    groups: list[Any] = [("", POST_PLACEHOLDER)]
    for category in PostType.Category:
        posts = [(code, name) for code, name, cat in rows if cat == category.value]
        if posts:
            groups.append((category.label, posts))
    return groups


class AppointForm(forms.Form):
    post_type = forms.ChoiceField(label="岗位", error_messages={
        "required": "请选择岗位(DB22/T 3226—2021 第 4 章所设岗位)",
        "invalid_choice": "岗位“%(value)s”不在 DB22/T 3226—2021 第 4–6 章所列岗位中"})
    community = forms.ChoiceField(label="社区")
    method = forms.ChoiceField(label="任职方式", required=False,
                               choices=[("", USUAL_METHOD), *Appointment.Method.choices],
                               help_text="留空则按岗位的常用方式(选举、聘用或兼任)")
    start_date = forms.DateField(label="任职日期", widget=DATE)
    note = forms.CharField(label="备注", max_length=200, required=False)
    confirm = forms.BooleanField(label="我已知悉上述合规错误,仍要任命", required=False)
    confirm_reason = forms.CharField(label="理由", max_length=CONFIRM_REASON_MAX, required=False,
                                     help_text="说明为何仍要任命(记入任职的变更记录)")

    def __init__(self, *args: Any, communities: list[tuple[str, str]] | None = None, actor: Actor | None = None,
                 preview_url: str = "", **kwargs: Any) -> None:
        """`actor`: the community is chosen with the division cascader over the communities the actor
        may change; without it, from `communities` (code, label) as one select. `preview_url`: the page
        that redraws the 任职方式 select for a chosen post (htmx), so that it shows the post's usual method."""
        super().__init__(*args, **kwargs)
        rows = list(PostType.objects.order_by("sort", "pk").values_list("code", "name", "category", "usual_method"))
        self.usual_methods = {code: method for code, _, _, method in rows}
        self.post_types_by_code: dict[str, PostType] = {}
        field = cast(forms.ChoiceField, self.fields["post_type"])
        field.choices = post_type_choices([(code, name, cat) for code, name, cat, _ in rows])
        if preview_url:
            field.widget.attrs.update({"hx-get": preview_url, "hx-trigger": "change", "hx-target": "#id_method",
                                       "hx-select": "#id_method", "hx-swap": "outerHTML"})
        if actor is not None:
            self.fields["community"] = CommunityCascadeField(label="社区", actor=actor)
        else:
            cast(forms.ChoiceField, self.fields["community"]).choices = communities or []

    @property
    def main_fields(self) -> list[Any]:
        return [f for f in self if f.name not in CONFIRM_FIELDS]

    @property
    def confirm_fields(self) -> list[Any]:
        return [self[name] for name in CONFIRM_FIELDS]

    def clean_post_type(self) -> PostType:
        code = self.cleaned_data["post_type"]
        try:
            return PostType.objects.get(code=code)
        except PostType.DoesNotExist:
            raise forms.ValidationError(f"岗位“{code}”不在 DB22/T 3226—2021 第 4–6 章所列岗位中") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        post = data.get("post_type")
        if isinstance(post, PostType) and not data.get("method"):
            data["method"] = post.usual_method or ""
            if not data["method"]:
                self.add_error("method", f"请选择任职方式({post.name}没有常用任职方式)")
        return data

    def given_confirm_reason(self) -> str:
        """The reason of a confirmation ("" unless 确认 is ticked)."""
        data = self.cleaned_data
        return " ".join((data.get("confirm_reason") or "").split()) if data.get("confirm") else ""


class EndForm(forms.Form):
    end_date = forms.DateField(label="离任日期", widget=DATE)
    end_reason = forms.CharField(label="离任原因", max_length=200, required=False)
    row_version = VersionField()


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
