"""shegong/common/commands.py: what the management commands share (the commands themselves are tested
through call_command in test_commands.py, test_backup.py, test_tokens.py)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from shegong.accounts.models import User
from shegong.common.commands import display_width, pad, scope_option, table_lines, user_named


def test_scope_option_gives_the_natural_length_or_stops_with_the_reason():
    assert scope_option("") == ""
    assert scope_option("220102001000") == "220102001"
    with pytest.raises(CommandError) as exc:
        scope_option("22x")
    assert "区划代码" in str(exc.value)


def test_a_chinese_table_lines_up_in_display_columns():
    rows = [("区划代码", "社区", "问题"), ("220102001001", "长春社区", "缺少书记"), ("2201", "A", "x")]
    lines = table_lines(rows, last_free=True)
    assert lines[0] == "区划代码      社区      问题"
    assert lines[1] == "220102001001  长春社区  缺少书记"
    assert lines[2] == "2201          A         x"
    assert table_lines([("前缀", "状态"), ("sg_1", "")]) == ["前缀  状态", "sg_1"]  # trailing blanks cut
    assert pad("社区", 6) == "社区  " and display_width("社区ab") == 6


@pytest.mark.django_db
def test_user_named_says_which_user_is_missing_or_deactivated():
    User.objects.create_user("carol", password="x", is_active=False)
    assert user_named("carol").username == "carol"
    with pytest.raises(CommandError, match="用户 carol 不存在或已停用"):
        user_named("carol", active=True)
    with pytest.raises(CommandError, match="^用户 nobody 不存在$"):
        user_named("nobody")


@pytest.mark.django_db
def test_a_subcommand_refusal_is_the_command_error_in_chinese():
    # token create for a deactivated user: the lookup refuses; token revoke of an unknown prefix: the
    # service refuses (ApplicationError), and the command shows the service's message.
    User.objects.create_user("dave", password="x", is_active=False)
    with pytest.raises(CommandError, match="用户 dave 不存在或已停用"):
        call_command("token", "create", "dave", stdout=io.StringIO())
    with pytest.raises(CommandError) as exc:
        call_command("token", "revoke", "sg_nothing", stdout=io.StringIO())
    assert "令牌" in str(exc.value)
