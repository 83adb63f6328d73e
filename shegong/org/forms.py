"""Division forms: the cascader as a form field (choosing a community in a form: 市 → 区县 → 街道 → 社区),
and the edit form of a division (a community's 户数, which sets its 4.1 quota, 常住人口, 党组织类型, 地址, 名称).

`CommunityCascadeField` renders org/cascade.py's selects for the communities the actor may CHANGE (the
top of their change scope down to the current choice; choosing a level asks /divisions/cascade/ for the
next, through htmx) and cleans to the chosen community's code. Only a community is a value: a street
chosen without going on to its community, a code outside the actor's change scope or a deactivated
community are refused with a Chinese message naming the field. Give the field its actor with
`field.bind(actor)` (the forms that use it take `actor=`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from shegong.access import Actor
from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.org.cascade import FIELD_NAME, HTML_ID, chosen, division_cascade
from shegong.org.models import Division

NOT_IN_SCOPE = "所选社区不在您可管理的范围内"


class CascadeSelect(forms.Widget):
    """The cascader's selects (all named like the field); the submitted value is the deepest consistent
    choice (org.cascade.chosen)."""

    def __init__(self, attrs: dict[str, Any] | None = None, deepest: str = Division.Level.COMMUNITY) -> None:
        super().__init__(attrs)
        self.actor: Actor | None = None
        self.deepest = deepest

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name, "")
        if not isinstance(values, list | tuple):
            values = [values]
        return chosen([str(v) for v in values if v is not None])

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        if self.actor is None:
            raise RuntimeError("CascadeSelect needs an actor: call the field's bind(actor)")
        if not FIELD_NAME.match(name):
            raise ValueError(f"not a field name: {name!r}")
        html_id = (attrs or {}).get("id", "") or self.attrs.get("id", "")
        cascade = division_cascade(actor=self.actor, field=name, selected=str(value or ""), deepest=self.deepest,
                                   action="change", blank="choose",
                                   html_id=html_id if HTML_ID.match(html_id) else "")
        return render_to_string("org/cascade.html", {"cascade": cascade})


class CommunityCascadeField(forms.CharField):
    """A community the actor may change, chosen with the cascader; cleans to its code."""

    widget = CascadeSelect
    default_error_messages = {"required": "请选择社区(逐级选择到社区一级)"}

    def __init__(self, *, actor: Actor | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.actor: Actor | None = None
        if actor is not None:
            self.bind(actor)

    def bind(self, actor: Actor) -> None:
        self.actor = actor
        self.widget.actor = actor  # type: ignore[attr-defined]

    def to_python(self, value: Any) -> str:
        if isinstance(value, list | tuple):
            return chosen([str(v) for v in value])
        text = super().to_python(value) or ""
        try:
            return normalize_code(text) if text else ""
        except DivisionCodeError:
            return text

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value in self.empty_values:
            return
        if self.actor is None:
            raise RuntimeError("CommunityCascadeField needs an actor: call bind(actor)")
        label = self.label or "社区"
        division = Division.objects.restrict(self.actor, "change").filter(code=value).first()
        if division is None:
            raise forms.ValidationError(NOT_IN_SCOPE, code="scope")
        if not division.is_community:
            raise forms.ValidationError(
                f"{label}:请继续选择到社区一级(“{division.name}”是{division.get_level_display()},不是社区)",
                code="level")
        if not division.is_active:
            raise forms.ValidationError(f"{label}:“{division.name}”已撤销,不能选择", code="inactive")


def _blank(choices: Any) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


class DivisionForm(forms.Form):
    """Edit a division: a community's numbers and party organisation type, any division's name (and
    address). Only the fields that were changed are saved (org.services.division_update)."""

    name = forms.CharField(label="名称", max_length=100)
    households = forms.IntegerField(label="户数", min_value=0, max_value=10_000_000, required=False,
                                    help_text="“社工岗”数量按户数核定(4.1)")
    resident_population = forms.IntegerField(label="常住人口", min_value=0, max_value=100_000_000, required=False)
    party_org_type = forms.ChoiceField(label="党组织类型", choices=_blank(Division.PartyOrgType.choices), required=False,
                                       help_text="党委架构设兼职委员 3–6 名(4.2.1)")
    address = forms.CharField(label="地址", max_length=200, required=False)
    reason = forms.CharField(label="修改理由", max_length=80, required=False,
                             help_text="记入变更记录;留空则记为“网页修改区划”")

    COMMUNITY_ONLY = ("households", "resident_population", "party_org_type")

    def __init__(self, *args: Any, community: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not community:
            for name in self.COMMUNITY_ONLY:
                del self.fields[name]

    def changes(self) -> dict[str, Any]:
        """The changed values in division_update's terms (an empty number is None, an empty text "")."""
        return {k: v for k, v in self.cleaned_data.items() if k in self.changed_data and k != "reason"}
