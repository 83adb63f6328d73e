"""Appointment forms (任命 / 离任)."""

from __future__ import annotations

from typing import cast

from django import forms

from shegong.common.forms import DateInput, VersionField, VersionTokenField
from shegong.staffing.models import Appointment, PostType

# ISO values in every language: a browser's date input shows and submits nothing for 2012/07/01.
DATE = DateInput()



class AppointForm(forms.Form):
    post_type = forms.ModelChoiceField(label="岗位", queryset=PostType.objects.all(), to_field_name="code")
    community = forms.ChoiceField(label="社区")
    method = forms.ChoiceField(label="任职方式", choices=Appointment.Method.choices)
    start_date = forms.DateField(label="任职日期", widget=DATE)
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, communities: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["community"]).choices = communities


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
