"""NameChoices (shegong/common/codes.py): choices whose stored value is the name shown, written once."""

from __future__ import annotations

from shegong.common.codes import NameChoices
from shegong.org.models import Division
from shegong.people.models import Worker
from shegong.staffing.models import Appointment, PostType


class _Shift(NameChoices):
    DAY = "白班"
    NIGHT_SHIFT = "夜班"


def test_the_label_is_the_value_not_the_member_name():
    assert _Shift.NIGHT_SHIFT.label == "夜班"  # not Django's default "Night Shift"
    assert _Shift.choices == [("白班", "白班"), ("夜班", "夜班")]
    assert _Shift.labels == _Shift.values == ["白班", "夜班"]
    assert _Shift("夜班") is _Shift.NIGHT_SHIFT and str(_Shift.DAY) == "白班"


def test_the_models_choices_are_unchanged():
    assert Worker.Status.choices == [("在岗", "在岗"), ("离岗", "离岗"), ("退休", "退休"), ("辞职", "辞职"),
                                     ("解聘", "解聘")]
    assert Worker.Category.FULL_TIME.label == "专职社区工作者"
    assert Worker(status=Worker.Status.AWAY).get_status_display() == "离岗"
    assert PostType.Layer.labels == ["正职", "副职", "普通"]
    assert Appointment.Method.ASSIGNED.label == "组织指派"
    assert Division.PartyOrgType.choices[-1] == ("党支部", "党支部")
    for choices in (Worker.Gender, Worker.Category, Worker.Status, PostType.Category, PostType.Layer,
                    Appointment.Method, Division.PartyOrgType):
        assert all(label == value for value, label in choices.choices), choices
