"""The worker form (登记 / 修改社区工作者)."""

from __future__ import annotations

from typing import cast

from django import forms

from shegong.access import Actor
from shegong.common.codes import EDUCATION, ETHNICITY, POLITICAL_STATUS
from shegong.common.forms import DateInput, VersionField
from shegong.org.forms import CommunityCascadeField
from shegong.people.models import Worker

# ISO values in every language: a browser's date input shows and submits nothing for 2012/07/01.
DATE = DateInput()


def _blank(choices):
    return [("", "—")] + list(choices)


class WorkerForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(label="公民身份号码", max_length=30,
                                help_text="18 位;性别和出生日期由号码自动得出")
    community = forms.ChoiceField(label="所在社区")
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    ethnicity = forms.ChoiceField(label="民族", choices=_blank(ETHNICITY.choices), required=False)
    political_status = forms.ChoiceField(label="政治面貌", choices=_blank(POLITICAL_STATUS.choices), required=False)
    education = forms.ChoiceField(label="学历", choices=_blank(EDUCATION.choices), required=False)
    category = forms.ChoiceField(label="人员类别", choices=Worker.Category.choices,
                                 help_text="公益性岗位人员不属于城市社区工作者(3.2)")
    status = forms.ChoiceField(label="状态", choices=Worker.Status.choices)
    work_start_date = forms.DateField(label="参加工作日期", required=False, widget=DATE)
    post_start_date = forms.DateField(label="社工岗入职日期", required=False, widget=DATE)

    def __init__(self, *args, communities: list[tuple[str, str]] | None = None, editing: bool = False,
                 actor: Actor | None = None, **kwargs):
        """`actor`: 所在社区 is chosen with the division cascader (市 → 区县 → 街道 → 社区) over the communities
        the actor may change, and cleans to the community's code; without it, from `communities`
        ((code, label) pairs) as one select."""
        super().__init__(*args, **kwargs)
        if actor is not None:
            self.fields["community"] = CommunityCascadeField(label="所在社区", actor=actor)
        else:
            cast(forms.ChoiceField, self.fields["community"]).choices = communities or []
        if editing:
            self.fields["row_version"] = VersionField()
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = "留空则不修改;已登记号码为脱敏显示"
            self.fields["phone"].help_text = "留空则不修改"
