"""What the management commands (`shegong user`, `token`, `backup`, `restore`, `export`, `check`) share:
the dispatch of subcommands, the reading of a --scope option and of a user name, progress and warnings
on standard error, and the padding of a plain-text table whose cells hold Chinese.

Here, below every app (docs/architecture.md), so that each app's commands use it without importing
each other; nothing here decides access (the commands act as `system_actor("command")`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from shegong.common.divcodes import DivisionCodeError, normalize_code
from shegong.common.errors import ApplicationError


class SubcommandCommand(BaseCommand):
    """A command of subcommands (`shegong user create …`): the subclass adds them in `add_subcommands`
    (`sub.add_parser("create", …)`), `handle` runs the method `_<sub>(opts)` in the site's language, and a
    service's refusal (ApplicationError) becomes the command's error with the service's own Chinese message."""

    def add_arguments(self, parser: CommandParser) -> None:
        self.add_subcommands(parser.add_subparsers(dest="sub", required=True))

    def add_subcommands(self, sub: Any) -> None:
        raise NotImplementedError

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            try:
                getattr(self, "_" + opts["sub"])(opts)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc


class ReportingCommand(BaseCommand):
    """A long command that tells its progress on standard error (only at verbosity ≥ 1, so that
    `-v 0` in a cron job is silent) and its warnings (always)."""

    verbosity = 1

    def execute(self, *args: Any, **options: Any) -> Any:
        self.verbosity = options.get("verbosity", 1)
        return super().execute(*args, **options)

    def _progress(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stderr.write(message)

    def _warn(self, message: str) -> None:
        self.stderr.write(self.style.WARNING(f"警告:{message}"))


def scope_option(raw: str) -> str:
    """A --scope option as a division code at its natural length; "" (no option) is everything.
    A code that is not one stops the command with the reason (shegong.common.divcodes' message)."""
    if not raw:
        return ""
    try:
        return normalize_code(raw)
    except DivisionCodeError as exc:
        raise CommandError(str(exc)) from exc


def user_named(username: str, *, active: bool = False) -> Any:
    """The account with this user name (through the user model the settings name, so that a command of a
    lower app needs no import of accounts); `active`: a deactivated account counts as missing."""
    user = get_user_model()._default_manager.filter(username=username).first()
    if user is None or (active and not user.is_active):
        raise CommandError(f"用户 {username} 不存在或已停用" if active else f"用户 {username} 不存在")
    return user


def user_subcommand(sub: Any, name: str, description: str) -> Any:
    """A subcommand about one account (`user password USERNAME`, `token create USERNAME`): its parser,
    with the user name as its first argument, for the caller to add the rest."""
    parser = sub.add_parser(name, help=description)
    parser.add_argument("username")
    return parser


def display_width(text: str) -> int:
    """Columns the text takes in a terminal: a wide (CJK) or full-width character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """The text filled with spaces to `width` display columns."""
    return text + " " * max(0, width - display_width(text))


def table_lines(rows: Sequence[Sequence[str]], *, last_free: bool = False) -> list[str]:
    """The rows (the head first) as lines of columns two spaces apart, each column as wide as its widest
    cell. `last_free`: the last column is not padded nor counted (a long message ends the line)."""
    padded = len(rows[0]) - 1 if last_free else len(rows[0])
    widths = [max(display_width(r[i]) for r in rows) for i in range(padded)]
    lines = []
    for row in rows:
        cells = [pad(cell, widths[i]) if i < padded else cell for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return lines
