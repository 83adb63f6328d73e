"""Post descriptions (岗位说明书, DB22/T 3226—2021 8.1.1.2): the default from the standard, drafts and
published versions, scope (view from the street or any community under it; change on the street
itself), input errors, the PDF, the pages and their query counts.

The fixture world (tests/conftest.py): street A 220102001 (communities c1, c2), street B 220102002
(c3), both in 长春 (2201); street 220202001 in 吉林市. Users: province (civil affairs @22), city
(civil affairs @2201), street (street admin @A), community (community admin @c1), training (@2201,
view only), worker (self @c1), nobody.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from shegong.access import Forbidden, NotVisible
from shegong.common.errors import ApplicationError
from shegong.org.models import Division
from shegong.staffing.descriptions import (
    DEFAULTS_FILE,
    description_current,
    description_default,
    description_draft,
    description_draft_save,
    description_get,
    description_publish,
    description_statuses,
    description_streets,
    description_versions,
    descriptions_for_appointments,
)
from shegong.staffing.models import Appointment, PostDescription, PostType
from shegong.staffing.services import POST_TYPES_FILE
from tests import factories

A, B, JILIN = "220102001", "220102002", "220202001"
ROLES = ["province", "city", "street", "community", "training", "worker", "nobody"]
VIEW = {A: {"province", "city", "street", "community", "training", "worker"},
        B: {"province", "city", "training"},
        JILIN: {"province"}}
CHANGE = {A: {"province", "city", "street"}, B: {"province", "city"}, JILIN: {"province"}}
SECRETARY = "party_secretary"


def street(code: str) -> Division:
    return Division.objects.get(code=code)


def post(code: str = SECRETARY) -> PostType:
    return PostType.objects.get(code=code)


def client_for(world, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def save(world, code: str = SECRETARY, street_code: str = A, role: str = "street", **overrides) -> PostDescription:
    data: dict[str, Any] = {"reporting_line": "街道党工委", "added_duties": ["负责本社区疫情防控工作的统筹协调。"],
            "requirements": ["中共党员。"], "assessment": ["按 9.1 全面考核德、能、勤、绩、廉。"], "note": ""}
    data.update(overrides)
    data.setdefault("force", True)  # a draft even when the content equals the current version
    return description_draft_save(actor=world.users[role], street=street(street_code), post_type=post(code), **data)


def publish(world, code: str = SECRETARY, street_code: str = A, role: str = "street") -> PostDescription:
    return description_publish(actor=world.users[role], street=street(street_code), post_type=post(code))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() or "" for page in reader.pages)


@pytest.fixture
def jilin_street(world) -> Division:
    return street(JILIN)


# ---- defaults ----------------------------------------------------------------------------------------


def test_defaults_file_covers_every_post_type():
    codes = {row["code"] for row in json.loads(POST_TYPES_FILE.read_text(encoding="utf-8"))}
    data = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    assert set(data["posts"]) == codes and len(codes) == 14
    for code, post_data in data["posts"].items():
        assert post_data["reporting_line"].strip(), code
        assert post_data["requirements"], code
    assessment = "".join(data["assessment"])
    for word in ("德", "能", "勤", "绩", "廉", "政治素质", "工作实绩", "日常考核", "定期考核",
                 "优秀", "合格", "基本合格", "不合格", "9.1", "9.2", "9.3"):
        assert word in assessment, word


def test_default_is_generated_from_the_standard_and_not_saved(world):
    user = world.users["community"]
    d = description_current(actor=user, street=street(A), post_type=SECRETARY)
    assert d.is_default and d.pk is None and d.status_label == "标准默认"
    clauses = [c for c, _ in d.standard_duties]
    assert clauses == [f"5.1.{i}" for i in range(1, 10)]
    assert d.standard_duties == post().duties
    assert d.reporting_line.startswith("街道(乡镇)党(工)委")
    requirements = "".join(d.requirements)
    assert "4.2.2" in requirements and "3.2" in requirements and "公益性岗位" in requirements
    assert "每年向上级党组织和党组织党员大会述职" in "".join(d.assessment)  # the secretary's own line (5.1.3)
    assert PostDescription.objects.count() == 0


def test_defaults_per_post(world):
    s = street(A)
    deputy = description_default(street=s, post_type=post("party_deputy_secretary"))
    assert deputy.reporting_line.startswith("社区党组织书记")
    assert [c for c, _ in deputy.standard_duties] == [f"5.2.{i}" for i in range(1, 7)]
    director = description_default(street=s, post_type=post("rc_director"))
    assert "社区党组织" in director.reporting_line and "居民会议" in director.reporting_line
    assert "街道办事处" in director.reporting_line
    assert "4.2.2" in "".join(director.requirements)
    grid = description_default(street=s, post_type=post("grid_leader"))
    assert grid.reporting_line.startswith("社区党组织书记")
    assert "4.3.3" in "".join(grid.requirements)
    member = description_default(street=s, post_type=post("rc_member"))
    assert "4.3.3" in "".join(member.requirements)
    part_time = description_default(street=s, post_type=post("party_parttime_member"))
    assert not any("专职" in line for line in part_time.requirements)  # a part-time post is not full time
    assert "3—6" in "".join(part_time.requirements) or "3 名—6 名" in "".join(part_time.requirements)


# ---- drafts, publishing, versions --------------------------------------------------------------------


def test_draft_publish_and_versions(world):
    s, street_user, community_user = street(A), world.users["street"], world.users["community"]
    draft = save(world)
    assert (draft.version, draft.status, draft.created_by) == (1, "draft", street_user)
    assert draft.standard_duties == post().duties
    # A draft is not what viewers see, and only editors see it at all.
    assert description_current(actor=community_user, street=s, post_type=SECRETARY).is_default
    assert description_draft(actor=community_user, street=s, post_type=SECRETARY) is None
    assert description_draft(actor=street_user, street=s, post_type=SECRETARY).pk == draft.pk
    assert description_versions(actor=community_user, street=s, post_type=SECRETARY) == []

    # Saving again updates the same draft.
    again = save(world, reporting_line="街道党工委(书记)")
    assert again.pk == draft.pk and again.version == 1
    assert PostDescription.objects.count() == 1

    v1 = publish(world)
    assert (v1.version, v1.status, v1.published_by) == (1, "published", street_user)
    assert v1.published_at is not None
    current = description_current(actor=community_user, street=s, post_type=SECRETARY)
    assert current.pk == v1.pk and current.reporting_line == "街道党工委(书记)"

    # Edit again: draft v2, while v1 stays current.
    v2 = save(world, added_duties=["负责老旧小区改造的组织协调。"])
    assert (v2.version, v2.status) == (2, "draft")
    assert description_current(actor=community_user, street=s, post_type=SECRETARY).pk == v1.pk
    assert [d.version for d in description_versions(actor=community_user, street=s, post_type=SECRETARY)] == [1]
    assert [d.version for d in description_versions(actor=street_user, street=s, post_type=SECRETARY)] == [2, 1]
    with pytest.raises(PostDescription.DoesNotExist):
        description_get(actor=community_user, street=s, post_type=SECRETARY, version=2)

    publish(world)
    v1.refresh_from_db()
    assert v1.status == "superseded"
    current = description_current(actor=community_user, street=s, post_type=SECRETARY)
    assert current.version == 2 and current.added_duties == ["负责老旧小区改造的组织协调。"]
    old = description_get(actor=community_user, street=s, post_type=SECRETARY, version=1)
    assert old.status == "superseded" and old.added_duties == ["负责本社区疫情防控工作的统筹协调。"]
    assert [(d.version, d.status) for d in description_versions(actor=community_user, street=s,
                                                                  post_type=SECRETARY)] == [(2, "published"),
                                                                                            (1, "superseded")]
    # A third draft is numbered after the last version.
    assert save(world).version == 3


def test_history_records_who_and_why(world):
    save(world)
    v1 = publish(world)
    save(world)
    publish(world)
    records = list(PostDescription.history.filter(id=v1.pk).order_by("history_date", "history_id"))
    assert [r.status for r in records] == ["draft", "published", "superseded"]
    assert all(r.history_user_id == world.users["street"].pk for r in records)
    assert records[0].history_change_reason == "起草党组织书记岗位说明书 v1"
    assert records[1].history_change_reason == "发布党组织书记岗位说明书 v1"
    assert records[2].history_change_reason == "被 v2 替代"


def test_streets_are_independent(world):
    save(world, role="city")
    publish(world, role="city")
    save(world, street_code=B, role="city", reporting_line="春光街道党工委")
    assert description_current(actor=world.users["city"], street=street(B), post_type=SECRETARY).is_default
    assert description_current(actor=world.users["street"], street=street(A), post_type=SECRETARY).version == 1
    assert save(world, code="rc_director").version == 1


def test_publish_without_draft_is_an_error(world):
    with pytest.raises(ApplicationError, match="没有待发布的草稿"):
        publish(world)
    save(world)
    publish(world)
    with pytest.raises(ApplicationError, match="没有待发布的草稿"):
        publish(world)


def test_database_allows_one_draft_and_unique_versions(world):
    d = save(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        PostDescription.objects.create(street=d.street, post_type=d.post_type, version=2, status="draft",
                                       reporting_line="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        PostDescription.objects.create(street=d.street, post_type=d.post_type, version=1, status="superseded",
                                       reporting_line="x", published_at=d.created_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        PostDescription.objects.create(street=d.street, post_type=d.post_type, version=5, status="published",
                                       reporting_line="x")  # published without a publish time


# ---- scope -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_scope_matrix(world, jilin_street, role):
    user = world.users[role]
    for code in (A, B, JILIN):
        s = street(code)
        for action, allowed in (("view", VIEW), ("change", CHANGE)):
            found = description_streets(actor=user, action=action).filter(pk=s.pk).exists()
            assert found == (role in allowed[code]), (role, code, action)
        if role in VIEW[code]:
            assert description_current(actor=user, street=s, post_type=SECRETARY).is_default
        else:
            # not visible is not found (shegong.access.NotVisible, a 404)
            with pytest.raises(NotVisible):
                description_current(actor=user, street=s, post_type=SECRETARY)
            with pytest.raises(NotVisible):
                description_versions(actor=user, street=s, post_type=SECRETARY)
        if role in CHANGE[code]:
            assert save(world, street_code=code, role=role).version == 1
        else:
            # visible but not changeable: shegong.access.Forbidden (403; was a 400 ApplicationError)
            with pytest.raises(Forbidden, match="无权"):
                save(world, street_code=code, role=role)
            with pytest.raises(Forbidden, match="无权"):
                publish(world, street_code=code, role=role)


@pytest.mark.parametrize("role", ROLES)
def test_scope_matrix_pages(world, jilin_street, role):
    client = client_for(world, role)
    for code in (A, B, JILIN):
        view = 200 if role in VIEW[code] else 404
        edit = 200 if role in CHANGE[code] else (403 if role in VIEW[code] else 404)
        assert client.get(f"/descriptions/{code}/").status_code == view, (role, code)
        assert client.get(f"/descriptions/{code}/{SECRETARY}/").status_code == view, (role, code)
        assert client.get(f"/descriptions/{code}/{SECRETARY}/edit/").status_code == edit, (role, code)
        resp = client.post(f"/descriptions/{code}/{SECRETARY}/edit/", edit_form())
        assert resp.status_code == (302 if edit == 200 else edit), (role, code)
        resp = client.post(f"/descriptions/{code}/{SECRETARY}/publish/")
        assert resp.status_code == (302 if edit == 200 else edit), (role, code)
    saved = set(PostDescription.objects.values_list("street__code", flat=True))
    assert saved == {code for code in (A, B, JILIN) if role in CHANGE[code]}


def test_street_admin_edits_own_street_and_gets_404_on_another(world):
    client = client_for(world, "street")
    resp = client.post(f"/descriptions/{A}/{SECRETARY}/edit/", edit_form())
    assert resp.status_code == 302
    assert client.get(f"/descriptions/{B}/{SECRETARY}/edit/").status_code == 404
    assert client.post(f"/descriptions/{B}/{SECRETARY}/edit/", edit_form()).status_code == 404
    assert client.get(f"/descriptions/{B}/{SECRETARY}.pdf").status_code == 404
    assert not PostDescription.objects.filter(street__code=B).exists()


def test_community_admin_and_worker_view_but_do_not_edit(world):
    save(world)
    publish(world)
    save(world, added_duties=["草稿里的职责"])
    for role in ("community", "worker"):
        client = client_for(world, role)
        body = client.get(f"/descriptions/{A}/{SECRETARY}/").content.decode()
        assert "负责本社区疫情防控工作的统筹协调。" in body and "草稿里的职责" not in body
        assert f"/descriptions/{A}/{SECRETARY}/edit/" not in body and "/publish/" not in body
        assert client.get(f"/descriptions/{A}/{SECRETARY}/v2/").status_code == 404  # the draft
        assert client.get(f"/descriptions/{A}/{SECRETARY}/v2.pdf").status_code == 404
        assert client.get(f"/descriptions/{A}/{SECRETARY}/v1/").status_code == 200
        assert client.get(f"/descriptions/{A}/{SECRETARY}/edit/").status_code == 403
        assert client.post(f"/descriptions/{A}/{SECRETARY}/publish/").status_code == 403
    assert description_current(actor=world.users["worker"], street=street(A), post_type=SECRETARY).version == 1


def test_nobody_sees_nothing(world):
    client = client_for(world, "nobody")
    resp = client.get("/descriptions/")
    assert resp.status_code == 200 and resp.context["page"].paginator.count == 0
    assert "您的管辖范围内没有街道" in resp.content.decode()
    assert client.get(f"/descriptions/{A}/{SECRETARY}.pdf").status_code == 404
    assert Client().get(f"/descriptions/{A}/").status_code == 302  # anonymous: to the login page


# ---- bad input ---------------------------------------------------------------------------------------


def test_empty_lines_are_dropped_and_spaces_tidied(world):
    d = save(world, added_duties="\n  负责 甲 工作。 \n\n\t\n负责乙工作。\n", requirements=["", "中共党员。", "  "],
             reporting_line="  街道   党工委 ")
    assert d.added_duties == ["负责 甲 工作。", "负责乙工作。"]
    assert d.requirements == ["中共党员。"]
    assert d.reporting_line == "街道 党工委"


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"reporting_line": "  "}, "reporting_line", "汇报关系不能为空(8.1.1.2)"),
    ({"reporting_line": "街" * 201}, "reporting_line", "汇报关系有 201 字,超过 200 字的上限"),
    ({"added_duties": ["好" * 301]}, "added_duties", "街道增加的职责第 1 条有 301 字,超过 300 字的上限"),
    ({"added_duties": ["一条"] * 31}, "added_duties", "街道增加的职责共 31 条,超过 30 条的上限"),
    ({"requirements": ["", " "]}, "requirements", "任职条件至少要有一条(8.1.1.2)"),
    ({"assessment": []}, "assessment", "考核方式至少要有一条"),
    ({"note": "注" * 1001}, "note", "备注有 1001 字,超过 1000 字的上限"),
    ({"requirements": ["中共党员。", 5]}, "requirements", "任职条件的每一条应为文字"),
])
def test_bad_input_is_rejected_in_chinese_naming_the_field(world, overrides, field, message):
    with pytest.raises(ApplicationError) as info:
        save(world, **overrides)
    assert info.value.field == field
    assert message in info.value.message
    assert PostDescription.objects.count() == 0


def test_only_a_street_has_descriptions(world):
    with pytest.raises(ApplicationError, match=r"不是街道\(乡镇\).*8\.1\.1\.2"):
        description_draft_save(actor=world.users["city"], street=world.c1, post_type=post(), reporting_line="x",
                               requirements=["x"], assessment=["x"])
    d = PostDescription(street=world.c1, post_type=post(), version=1, reporting_line="x")
    with pytest.raises(Exception) as info:
        d.full_clean()
    assert "8.1.1.2" in str(info.value)


def test_edit_page_shows_errors_next_to_the_field(world):
    client = client_for(world, "street")
    resp = client.post(f"/descriptions/{A}/{SECRETARY}/edit/", edit_form(added_duties="长" * 301))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "街道增加的职责第 1 条有 301 字,超过 300 字的上限" in body
    assert not PostDescription.objects.exists()


# ---- the PDF -----------------------------------------------------------------------------------------


def test_pdf_of_a_published_description(world):
    save(world, added_duties=["负责本社区疫情防控工作的统筹协调。"])
    publish(world)
    resp = client_for(world, "community").get(f"/descriptions/{A}/{SECRETARY}.pdf")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''" in resp["Content-Disposition"]
    data = resp.content
    assert data.startswith(b"%PDF")
    pages, text = pdf_text(data)
    flat = squash(text)
    assert "党组织书记岗位说明书" in flat
    assert "测试001街道" in flat
    for clause, duty in post().duties[:4] + post().duties[-1:]:
        assert clause in flat
        assert squash(duty)[:30] in flat, duty
    assert "负责本社区疫情防控工作的统筹协调。" in flat
    assert f"第1页共{pages}页" in flat
    assert "v1" in flat and "已发布" in flat and "草稿" not in flat
    assert "德、能、勤、绩、廉" in flat


def test_pdf_of_a_draft_is_marked_and_of_the_default_says_so(world):
    save(world)
    street_client = client_for(world, "street")
    _, text = pdf_text(street_client.get(f"/descriptions/{A}/{SECRETARY}/v1.pdf").content)
    assert "草稿" in squash(text) and "未发布" in squash(text)
    _, text = pdf_text(street_client.get(f"/descriptions/{A}/{SECRETARY}.pdf").content)
    assert "标准默认" in squash(text) and "草稿" not in squash(text)


def test_pdf_of_a_long_description_has_page_numbers_on_every_page(world):
    save(world, added_duties=[f"第{i}项增加的职责:" + "负责社区综合治理和便民服务的具体工作," * 6 for i in range(1, 31)])
    resp = client_for(world, "street").get(f"/descriptions/{A}/{SECRETARY}/v1.pdf")
    pages, text = pdf_text(resp.content)
    assert pages >= 2
    flat = squash(text)
    for n in range(1, pages + 1):
        assert f"第{n}页共{pages}页" in flat


def test_pdf_helper_embeds_the_noto_cjk_font_and_loads_nothing_from_disk(tmp_path, caplog):
    from shegong.common.pdf import html_to_pdf

    secret = tmp_path / "secret.css"
    secret.write_text("p { color: red }")
    data = html_to_pdf(f'<link rel="stylesheet" href="file://{secret}"><img src="file:///etc/hostname">'
                       "<p>岗位说明书 第 1 页</p>")
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    fonts = {str(f["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].get_object().values()}
    assert any(re.search(r"Noto-?S(ans|erif)-?CJK-?SC", f) for f in fonts), fonts
    assert "岗位说明书" in squash(reader.pages[0].extract_text())
    assert caplog.text.count("disallowed protocol") == 2


# ---- the pages ---------------------------------------------------------------------------------------


def edit_form(**overrides) -> dict[str, str]:
    data = {"reporting_line": "街道党工委", "added_duties": "负责辖区内的疫情防控统筹。\n\n负责老旧小区改造。",
            "requirements": "中共党员。\n熟悉社区工作。", "assessment": "按 9.1 全面考核。\n结果分四个等次(9.3)。",
            "note": "", "action": "save"}
    data.update(overrides)
    return data


def test_index_sends_a_street_admin_to_their_street_and_lets_others_choose(world, jilin_street):
    resp = client_for(world, "street").get("/descriptions/")
    assert resp.status_code == 302 and resp["Location"] == f"/descriptions/{A}/"
    resp = client_for(world, "community").get("/descriptions/")
    assert resp.status_code == 302 and resp["Location"] == f"/descriptions/{A}/"
    resp = client_for(world, "province").get("/descriptions/")
    assert resp.status_code == 200
    assert [s.code for s in resp.context["page"].object_list] == [A, B, JILIN]
    resp = client_for(world, "city").get("/descriptions/?q=220102002")
    assert [s.code for s in resp.context["page"].object_list] == [B]


def test_list_page(world):
    save(world)
    publish(world)
    save(world, code="rc_director")
    client = client_for(world, "street")
    resp = client.get(f"/descriptions/{A}/")
    assert resp.status_code == 200
    rows = {r.post_type.code: r for r in resp.context["rows"]}
    assert len(rows) == 14
    assert rows[SECRETARY].status_label == "已发布 v1"
    assert rows["rc_director"].status_label == "标准默认" and rows["rc_director"].draft_version == 1
    body = resp.content.decode()
    assert "已发布 v1" in body and "草稿 v1" in body and "标准默认" in body and "编辑" in body
    # Readers do not see drafts or edit buttons.
    body = client_for(world, "community").get(f"/descriptions/{A}/").content.decode()
    assert "草稿 v1" not in body and "/edit/" not in body
    # The 12-digit form of the code names the same street.
    assert client.get(f"/descriptions/{A}000/").status_code == 200


def test_edit_save_publish_through_the_pages(world):
    client = client_for(world, "street")
    resp = client.get(f"/descriptions/{A}/{SECRETARY}/edit/")
    assert resp.status_code == 200
    assert resp.context["form"].initial["reporting_line"].startswith("街道(乡镇)党(工)委")  # from the default
    resp = client.post(f"/descriptions/{A}/{SECRETARY}/edit/", edit_form())
    assert resp.status_code == 302 and resp["Location"] == f"/descriptions/{A}/{SECRETARY}/"
    d = PostDescription.objects.get()
    assert (d.version, d.status) == (1, "draft")
    assert d.added_duties == ["负责辖区内的疫情防控统筹。", "负责老旧小区改造。"]

    detail = client.get(f"/descriptions/{A}/{SECRETARY}/").content.decode()
    assert "尚未发布这个岗位的说明书" in detail and "有未发布的草稿 v1" in detail
    draft_page = client.get(f"/descriptions/{A}/{SECRETARY}/v1/").content.decode()
    assert "发布 v1" in draft_page and "负责老旧小区改造。" in draft_page

    resp = client.post(f"/descriptions/{A}/{SECRETARY}/publish/")
    assert resp.status_code == 302
    d.refresh_from_db()
    assert d.status == "published"
    detail = client.get(f"/descriptions/{A}/{SECRETARY}/", follow=True).content.decode()
    assert "已发布 v1" in detail and "负责老旧小区改造。" in detail
    for clause, _ in post().duties:
        assert clause in detail

    # The edit form starts from the current version; "save and publish" makes v2 at once.
    resp = client.get(f"/descriptions/{A}/{SECRETARY}/edit/")
    assert resp.context["form"].initial["reporting_line"] == "街道党工委"
    resp = client.post(f"/descriptions/{A}/{SECRETARY}/edit/",
                       edit_form(reporting_line="街道党工委书记", action="publish"), follow=True)
    assert "已发布党组织书记岗位说明书 v2" in resp.content.decode()
    assert list(PostDescription.objects.order_by("version").values_list("version", "status")) == [
        (1, "superseded"), (2, "published")]
    old = client_for(world, "worker").get(f"/descriptions/{A}/{SECRETARY}/v1/").content.decode()
    assert "此版本已被替代" in old and "查看现行版本 v2" in old

    # Editors see who did what; readers do not (the records hold draft text).
    detail = client.get(f"/descriptions/{A}/{SECRETARY}/").content.decode()
    assert "变更记录" in detail and "发布党组织书记岗位说明书 v2" in detail and "被 v2 替代" in detail
    assert "变更记录" not in client_for(world, "community").get(f"/descriptions/{A}/{SECRETARY}/").content.decode()

    # Publishing with no draft leaves everything as it was.
    resp = client.post(f"/descriptions/{A}/{SECRETARY}/publish/", follow=True)
    assert "没有待发布的草稿" in resp.content.decode()


def test_unknown_post_or_version_is_404(world):
    client = client_for(world, "street")
    assert client.get(f"/descriptions/{A}/no_such_post/").status_code == 404
    assert client.get(f"/descriptions/{A}/{SECRETARY}/v9/").status_code == 404
    assert client.get("/descriptions/12345/").status_code == 404
    assert client.get(f"/descriptions/{world.c1.code}/").status_code == 404  # a community is not a street


def count_queries(client: Client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return len(ctx.captured_queries), [q["sql"][:160] for q in ctx.captured_queries]


@pytest.mark.parametrize("role", ["city", "street", "community"])
def test_list_page_query_count_does_not_grow_with_posts_and_versions(world, role):
    client = client_for(world, role)
    url = f"/descriptions/{A}/"
    client.get(url)
    small, small_sql = count_queries(client, url)
    for code in ("party_secretary", "rc_director", "social_worker", "grid_leader"):
        for _ in range(3):
            save(world, code=code)
            publish(world, code=code)
        save(world, code=code)
    for i in range(3, 7):
        factories.community(f"22010200100{i}", f"扩充{i}社区")
    large, large_sql = count_queries(client, url)
    assert large == small, "\n".join(["small:", *small_sql, "large:", *large_sql])
    assert small <= 8, "\n".join(small_sql)


def test_detail_page_query_count_does_not_grow_with_versions(world):
    client = client_for(world, "street")
    url = f"/descriptions/{A}/{SECRETARY}/"
    save(world)
    publish(world)
    client.get(url)
    small, small_sql = count_queries(client, url)
    for _ in range(4):
        save(world)
        publish(world)
    save(world)
    large, large_sql = count_queries(client, url)
    assert large == small, "\n".join(["small:", *small_sql, "large:", *large_sql])


def test_statuses_selector(world):
    save(world)
    publish(world)
    save(world)
    rows = description_statuses(actor=world.users["street"], street=street(A))
    assert [r.post_type.code for r in rows][:2] == [SECRETARY, "party_deputy_secretary"]
    assert (rows[0].published_version, rows[0].draft_version) == (1, 2)
    rows = description_statuses(actor=world.users["worker"], street=street(A))
    assert (rows[0].published_version, rows[0].draft_version) == (1, None)


# ---- the worker page's selector ----------------------------------------------------------------------


def test_descriptions_for_appointments(world):
    a1 = factories.appoint(world.w1, "党组织书记")
    a2 = factories.appoint(world.w2, "网格长")
    a3 = factories.appoint(world.w3, "普通社工")
    save(world)
    publish(world)
    save(world)
    publish(world)
    save(world, code="grid_leader")  # a draft only: readers still see the default
    appointments = list(Appointment.objects.filter(pk__in=[a1.pk, a2.pk, a3.pk])
                        .select_related("community", "post_type"))
    with CaptureQueriesContext(connection) as ctx:
        found = descriptions_for_appointments(appointments=appointments)
    assert len(ctx.captured_queries) == 1
    assert found == {a1.pk: (A, SECRETARY, 2), a2.pk: (A, "grid_leader", None), a3.pk: (B, "social_worker", None)}
    # Without the related rows loaded it still answers, in a fixed number of queries.
    plain = list(Appointment.objects.filter(pk__in=[a1.pk, a2.pk, a3.pk]))
    with CaptureQueriesContext(connection) as ctx:
        assert descriptions_for_appointments(appointments=plain) == found
    assert len(ctx.captured_queries) == 3
    assert descriptions_for_appointments(appointments=[]) == {}


def test_worker_page_links_to_the_description_of_each_post_held(world):
    factories.appoint(world.w1, "党组织书记")
    factories.appoint(world.w1, "网格长", method="兼任")
    save(world)
    publish(world)
    html = client_for(world, "worker").get(f"/workers/{world.w1.pk}/").content.decode()
    assert f'href="/descriptions/{A}/{SECRETARY}/">v1</a>' in html
    assert f'href="/descriptions/{A}/grid_leader/">标准默认</a>' in html
    page = client_for(world, "worker").get(f"/descriptions/{A}/{SECRETARY}/")
    assert page.status_code == 200 and "负责本社区疫情防控工作的统筹协调" in page.content.decode()


def test_pdf_without_the_system_libraries_says_what_to_install(world, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name.startswith("weasyprint"):
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    response = client_for(world, "street").get(f"/descriptions/{A}/{SECRETARY}.pdf")
    assert response.status_code == 503
    assert "libpango-1.0-0" in response.content.decode() and "fonts-noto-cjk" in response.content.decode()
