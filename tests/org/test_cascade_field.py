"""The cascader as a form field (org/forms.py): it renders the selects for the communities the actor may
CHANGE and cleans to a community's code; anything else is refused in Chinese naming the field."""

from __future__ import annotations

from django import forms
from django.http import QueryDict
from django.test import Client

from shegong.access import system_actor
from shegong.org.forms import NOT_IN_SCOPE, CommunityCascadeField
from shegong.org.services import division_update
from shegong.people.forms import WorkerForm


class One(forms.Form):
    community = CommunityCascadeField(label="社区")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].bind(actor)


def _form(actor, *values: str) -> One:
    data = QueryDict(mutable=True)
    data.setlist("community", list(values))
    return One(data, actor=actor)


def test_cleans_to_the_deepest_community(world):
    form = _form(world.users["city"], "220102", "220102001", world.c2.code)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["community"] == world.c2.code


def test_a_street_is_not_a_community(world):
    form = _form(world.users["city"], "220102", "220102001", "220102001")  # the community select's 请选择
    assert not form.is_valid()
    assert form.errors["community"] == ["社区:请继续选择到社区一级(“测试001街道”是街道/乡镇,不是社区)"]


def test_nothing_chosen_is_required(world):
    form = _form(world.users["city"], "")
    assert not form.is_valid() and "请选择社区" in form.errors["community"][0]


def test_only_communities_the_actor_may_change(world):
    assert _form(world.users["street"], world.c3.code).errors["community"] == [NOT_IN_SCOPE]
    assert _form(world.users["training"], world.c3.code).errors["community"] == [NOT_IN_SCOPE]  # view only
    division_update(division=world.c2, actor=system_actor("command"), is_active=False)
    assert "已撤销" in _form(world.users["street"], world.c2.code).errors["community"][0]


def test_renders_the_change_scope_with_a_prompt(world):
    html = str(_form(world.users["street"], world.c1.code)["community"])
    assert 'id="id_community"' in html and "请选择" in html and "全部" not in html
    assert "action=change" in html and world.c1.code in html and world.c3.code not in html
    # A community admin has one community: nothing to choose, it is given.
    html = str(One(actor=world.users["community"], initial={"community": world.c1.code})["community"])
    assert f'<input type="hidden" name="community" value="{world.c1.code}">' in html and "东风社区" in html


def test_cascade_endpoint_keeps_the_form_mode(world):
    client = Client()
    client.force_login(world.users["street"])
    resp = client.get("/divisions/cascade/", {"field": "community", "action": "change", "blank": "choose",
                                              "id": "id_community", "community": "220102001"})
    body = resp.content.decode()
    assert resp.status_code == 200 and "请选择" in body and 'id="id_community"' in body
    assert "action=change&amp;blank=choose&amp;id=id_community" in body


def test_worker_form_uses_the_cascader_when_given_the_actor(world):
    form = WorkerForm(actor=world.users["street"], initial={"community": world.c1.code})
    assert isinstance(form.fields["community"], CommunityCascadeField)
    assert "hx-get" in str(form["community"])
    legacy = WorkerForm(communities=[(world.c1.code, "东风社区")])
    assert legacy.fields["community"].choices == [(world.c1.code, "东风社区")]
