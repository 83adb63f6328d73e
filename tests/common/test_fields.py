"""The shared field factories (shegong/common/fields.py, people.models.worker_fk, org.models.division_fk) build
exactly the fields the models declared by hand: same deconstruction, so the migrations do not move."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shegong.archives.models import Attachment, CorrectionRequest, Transfer
from shegong.common.fields import acting_user, recorded_at
from shegong.common.models import AccessLog
from shegong.org.models import division_fk
from shegong.people.models import Worker, worker_fk
from shegong.staffing.models import Appointment


def _same(built: models.Field, by_hand: models.Field) -> None:
    assert built.deconstruct()[1:] == by_hand.deconstruct()[1:]


def test_acting_user_is_a_protected_user_key_without_reverse_accessor():
    _same(acting_user("用户"), models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                               related_name="+", verbose_name="用户"))
    _same(acting_user("上传人", optional=True),
          models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                            related_name="+", verbose_name="上传人"))


def test_recorded_at_is_set_once_on_insert():
    _same(recorded_at("时间", db_index=True), models.DateTimeField("时间", auto_now_add=True, db_index=True))
    field = recorded_at("上传时间")
    assert field.auto_now_add and not field.auto_now and not field.db_index and not field.editable


def test_worker_and_division_keys_protect_their_target():
    _same(worker_fk("appointments"), models.ForeignKey("people.Worker", on_delete=models.PROTECT,
                                                       related_name="appointments", verbose_name="社区工作者"))
    _same(division_fk("转出社区", related_name="+"),
          models.ForeignKey("org.Division", on_delete=models.PROTECT, related_name="+", verbose_name="转出社区"))


def test_the_models_use_them():
    assert Attachment._meta.get_field("uploaded_by").null
    assert not AccessLog._meta.get_field("user").null
    assert AccessLog._meta.get_field("at").db_index
    for model, name in ((Transfer, "worker"), (CorrectionRequest, "worker"), (Appointment, "worker")):
        assert model._meta.get_field(name).related_model is Worker
        assert model._meta.get_field(name).remote_field.on_delete is models.PROTECT
    assert Transfer._meta.get_field("to_community").remote_field.related_name == "+"
