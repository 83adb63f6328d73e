"""Password rules of our own, next to Django's (config/auth.py lists them all in AUTH_PASSWORD_VALIDATORS,
so every path that validates a password — `shegong user create/password`, Django's `changepassword` and
`createsuperuser` — applies them).

- No spaces around a password, and no password of spaces only: the login form strips what is typed, so an
  account with such a password could never sign in from the web.
- Never the public demo password (DEMO_PASSWORD below, printed by `make run` and the README):
  only the demo loader gives it, to the demo accounts (user_create(..., demo=True)).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import translation

# The public demo password: defined here, in the app that refuses it, so accounts needs nothing from the
# demo loader above it (shegong.web.demo imports it from here).
DEMO_PASSWORD = "Shegong@2021"


def demo_password() -> str:
    """The public demo password."""
    return DEMO_PASSWORD


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, answering in Chinese: Django 5.2's zh_Hans catalog has this message only in its older wording,
    so it would come out in English. The text is that catalog's translation."""

    def get_error_message(self) -> str:
        if (translation.get_language() or "").lower().startswith("zh"):
            return f"密码长度太短。密码必须包含至少 {self.min_length} 个字符。"
        return super().get_error_message()


class SurroundingSpaceValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if password and not password.strip():
            raise ValidationError("密码不能全部由空格组成。", code="password_all_spaces")
        if password != password.strip():
            raise ValidationError("密码首尾不能有空格(网页登录时会去掉首尾空格,这样的密码将无法登录)。",
                                  code="password_surrounding_spaces")

    def get_help_text(self) -> str:
        return "密码首尾不能有空格,也不能全部由空格组成。"


class DemoPasswordValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if password.strip().casefold() == demo_password().casefold():
            raise ValidationError("不能使用公开的演示密码。", code="password_demo")

    def get_help_text(self) -> str:
        return "不能使用公开的演示密码。"
