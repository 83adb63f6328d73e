"""The accounts app's forms: sign in, 修改密码, API tokens, and the administrator's user and grant forms.
Each form only parses; the services decide (scope, rank, password rules) and their Chinese messages go
next to the field they name (shegong.common.formviews.submit)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html

from shegong.accounts.models import Role


class LoginForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label="密码", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


def _password(label: str, autocomplete: str, **kwargs: Any) -> forms.CharField:
    # strip=False: a password is checked as typed (the validators refuse surrounding spaces with a message)
    return forms.CharField(label=label, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
                           error_messages={"required": f"请填写{label}"}, **kwargs)


class PasswordChangeForm(forms.Form):
    old_password = _password("原密码", "current-password")
    new_password1 = _password("新密码", "new-password", help_text=password_validators_help_text_html)
    new_password2 = _password("再次输入新密码", "new-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", "两次输入的新密码不一致")
        return data


LIFETIMES = (("30", "30 天"), ("90", "90 天"), ("180", "180 天"), ("365", "一年"), ("0", "永不过期"))


class TokenCreateForm(forms.Form):
    name = forms.CharField(label="用途", max_length=100, help_text="例如:统计报表系统、数据交换",
                           error_messages={"required": "请填写令牌的用途,便于日后识别和吊销"})
    days = forms.TypedChoiceField(label="有效期", choices=LIFETIMES, coerce=int, initial="90")


def _role_field(roles: list[Role]) -> forms.ChoiceField:
    return forms.ChoiceField(
        label="角色", choices=[("", "请选择角色"), *[(r.code, r.name) for r in roles]],
        error_messages={"required": "请选择角色",
                        "invalid_choice": "角色:您不能授予该角色(只能授予不高于自己的角色)"})


class GrantForm(forms.Form):
    """A role on a division; the division comes from the cascader (its values are read by the view)."""

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"] = _role_field(roles)


class UserCreateForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150, help_text="登录时使用,建议用拼音或工号",
                               error_messages={"required": "请填写用户名"},
                               widget=forms.TextInput(attrs={"autocomplete": "off"}))
    display_name = forms.CharField(label="姓名", max_length=50, error_messages={"required": "请填写姓名"})
    password = _password("初始密码", "new-password", help_text="请告知本人,并请其登录后在“修改密码”中更改")
    worker_id_number = forms.CharField(label="关联社区工作者的公民身份号码", max_length=18, required=False,
                                       help_text="角色为“社区工作者”时必填:账号只能查看本人的信息和档案",
                                       widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args: Any, roles: list[Role], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"] = _role_field(roles)
