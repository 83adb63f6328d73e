"""Clauses 4–6: the seeded post types carry the standard's posts, layers and every duty item."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shegong.staffing.models import PostType
from shegong.staffing.services import post_type_code

STANDARD = Path(__file__).resolve().parents[3] / "shared" / "standard" / "DB22T3226-2021.md"


def _duty_items() -> dict[str, str]:
    """Every numbered duty item of clauses 5 and 6 in the standard's text."""
    if not STANDARD.exists():
        pytest.skip(f"standard text not found at {STANDARD}")
    items = {}
    for line in STANDARD.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^- ([56]\.\d\.\d+) (.+)$", line)
        if m:
            items[m.group(1)] = m.group(2).strip()
    return items


@pytest.mark.django_db
def test_every_duty_item_of_clauses_5_and_6_is_seeded():
    items = _duty_items()
    assert len(items) >= 50  # 5.1.1 … 6.7.3
    seeded = {clause: text for pt in PostType.objects.all() for clause, text in pt.duties}
    missing = sorted(set(items) - set(seeded))
    assert not missing, f"duty items not seeded: {missing}"
    for clause, text in items.items():
        assert seeded[clause] == text, clause


@pytest.mark.django_db
def test_canonical_posts_categories_and_layers():
    rows = {pt.name: (pt.category, pt.layer) for pt in PostType.objects.all()}
    assert rows["党组织书记"] == ("党组织", "正职")
    assert rows["居委会主任"] == ("居委会", "正职")
    assert rows["党组织副书记"] == ("党组织", "副职")
    assert rows["居委会副主任"] == ("居委会", "副职")
    assert rows["普通社工"] == ("社工岗", "普通")
    assert rows["网格长"][0] == "兼任"
    assert len(rows) == 14


@pytest.mark.django_db
@pytest.mark.parametrize("variant,canonical", [
    ("书记", "party_secretary"), ("社区书记", "party_secretary"), ("副书记", "party_deputy_secretary"),
    ("专职副书记", "party_deputy_secretary"), ("兼职委员", "party_parttime_member"),
    ("党建社工岗", "party_building_worker"), ("党建专干", "party_building_worker"),
    ("居民委员会主任", "rc_director"), ("主任", "rc_director"), ("副主任", "rc_deputy_director"),
    ("居民委员会委员", "rc_member"), ("普通社工岗", "social_worker"), ("社工", "social_worker"),
    ("监委会主任", "supervision_director"), ("党群服务中心主任", "service_center_director"),
    ("网格长", "grid_leader"), ("工作委员会主任", "work_committee_director"), ("居委会兼职委员", "rc_parttime_member"),
])
def test_design_variants_resolve(variant, canonical):
    assert post_type_code(variant) == canonical
    assert post_type_code(f" {variant} ") == canonical


@pytest.mark.django_db
def test_post_types_page_shows_duties(world, client):
    client.force_login(world.users["community"])
    html = client.get("/post-types/").content.decode()
    assert "5.1.2" in html and "主持本社区党组织的全面工作" in html
    assert "6.7.1" in html and "网格巡查" in html
