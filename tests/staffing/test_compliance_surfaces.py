"""The compliance check through its surfaces: rule sets as data, `shegong check` / `shegong quota`, the
web pages and the API, and the demo city's deliberate problems."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from openpyxl import load_workbook

from shegong.common.errors import ApplicationError
from shegong.staffing.compliance import evaluate
from shegong.staffing.rules import RULESETS_DIR, load_rule_set
from tests.staffing.test_compliance_rules import AS_OF, build

DEFAULT = (RULESETS_DIR / "db22t3226-2021.toml").read_text(encoding="utf-8")


def other_region(tmp_path: Path) -> Path:
    """A second rule set with other numbers: quota 8–12 (+1 per 400 / 250 households over 2,000) and a
    party committee of 3–5; nothing else changed."""
    text = (DEFAULT.replace('code = "DB22/T 3226—2021"', 'code = "DB99/T 0001—2024"')
            .replace("base_households = 3000", "base_households = 2000")
            .replace("min_base = 10", "min_base = 8").replace("max_base = 15", "max_base = 12")
            .replace("min_step = 500", "min_step = 400").replace("max_step = 300", "max_step = 250")
            .replace("min = 5\nmax = 7", "min = 3\nmax = 5"))
    assert text.count("DB99") == 1 and "min = 3\nmax = 5" in text
    path = tmp_path / "db99-2024.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("compliance", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


# ---- rule sets --------------------------------------------------------------------------------------------

def test_a_second_rule_set_changes_the_findings_without_code(db, tmp_path):
    b = build(households=2200, full_time=12)  # 12 + 2 委员 below = 14: within 10–15 under the standard
    for _ in range(2):
        b.add("党组织委员")  # committee of 7: fine under the standard
    assert evaluate(as_of=AS_OF).findings == []
    other = load_rule_set(str(other_region(tmp_path)))
    findings = {f.rule: f for f in evaluate(as_of=AS_OF, rule_set=other).findings}
    assert set(findings) == {"quota_max", "party_committee_size"}
    assert (findings["quota_max"].expected, findings["quota_max"].actual) == ("8–12", 14)
    assert other.quota.range_for(2500) == (9, 14)
    assert (findings["party_committee_size"].expected, findings["party_committee_size"].actual) == ("3–5", 7)
    # The setting picks the rule set for every surface.
    with override_settings(SHEGONG_RULE_SET=str(other_region(tmp_path))):
        assert {f.rule for f in evaluate(as_of=AS_OF).findings} == {"quota_max", "party_committee_size"}
        code, out, _ = run("--format", "json", "--as-of", AS_OF.isoformat())
    assert code == 1 and json.loads(out)["rule_set"] == "DB99/T 0001—2024 (2021.1)"


def test_rule_set_mistakes_name_the_file_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT.replace('"party_committee_member"]', '"party_member"]', 1), encoding="utf-8")
    with pytest.raises(ApplicationError, match=r"bad\.toml:headcount\[0\]\.posts 中的岗位代码“party_member”不存在"):
        load_rule_set(str(bad))
    bad.write_text(DEFAULT.replace("min_base = 10", "min_base = -1"), encoding="utf-8")
    with pytest.raises(ApplicationError, match=r"quota\.min_base 应为非负整数"):
        load_rule_set(str(bad))
    bad.write_text(DEFAULT.replace('level = "warning"', 'level = "notice"', 1), encoding="utf-8")
    with pytest.raises(ApplicationError, match="应为 error 或 warning"):
        load_rule_set(str(bad))
    bad.write_text(DEFAULT + "\nunknown_key = 1\n", encoding="utf-8")
    with pytest.raises(ApplicationError, match="unknown_key 不是可识别的规则项"):
        load_rule_set(str(bad))
    with pytest.raises(ApplicationError, match="找不到规则集“nowhere”"):
        load_rule_set("nowhere")


def test_every_number_of_the_standard_is_in_the_rule_set():
    rs = load_rule_set()
    assert rs.code == "DB22/T 3226—2021"
    assert (rs.quota.base_households, rs.quota.min_base, rs.quota.max_base, rs.quota.min_step,
            rs.quota.max_step) == (3000, 10, 15, 500, 300)
    sizes = {r.id: (r.clause, r.min, r.max) for r in rs.headcounts}
    assert sizes["party_committee_size"] == ("4.2.1", 5, 7)
    assert sizes["party_parttime_members"] == ("4.2.1", 3, 6)
    assert sizes["residents_committee_size"] == ("4.3.2", 5, 9)
    assert sizes["rc_deputy_directors"] == ("4.3.2", 1, 2)
    assert rs.clauses() == ["3.2", "4.1", "4.2.1", "4.2.2", "4.3.2", "4.3.3"]


# ---- the command line ----------------------------------------------------------------------------------

def test_check_json_and_exit_codes(db):
    b = build()
    code, out, _ = run("--format", "json", "--as-of", AS_OF.isoformat())
    data = json.loads(out)
    assert code == 0
    assert data == {"rule_set": "DB22/T 3226—2021 (2021.1)", "as_of": "2026-06-30", "scope": "", "communities": 1,
                    "communities_with_errors": 0, "communities_with_warnings": 0, "findings": []}
    b.add("居委会副主任")
    b.add("居委会副主任")
    code, out, _ = run("--format", "json", "--as-of", AS_OF.isoformat(), "--scope", "220102")
    data = json.loads(out)
    assert code == 1
    assert data["findings"] == [{
        "community": "220102001001", "name": b.community.name, "clause": "4.3.2", "level": "error",
        "message": "居委会副主任 3 名,应为 1–2 名", "expected": "1–2", "actual": 3, "rule": "rc_deputy_directors",
        "worker": None}]


def test_warnings_alone_exit_zero(db):
    build(full_time=9)
    code, out, _ = run("--as-of", AS_OF.isoformat())
    assert code == 0
    assert "4.1" in out and "提示" in out and "专职社区工作者 9 名" in out


def test_check_table_xlsx_and_bad_options(db, tmp_path):
    build(households=None)
    code, out, _ = run("--as-of", AS_OF.isoformat())
    assert code == 0 and "户数未填写" in out and "1 个社区" in out
    target = tmp_path / "findings.xlsx"
    code, _, err = run("--format", "xlsx", "--output", str(target), "--as-of", AS_OF.isoformat())
    assert code == 0 and "已写入" in err
    wb = load_workbook(target)
    rows = list(wb["问题清单"].iter_rows(values_only=True))
    assert rows[0][:5] == ("区划代码", "社区", "条款", "级别", "问题")
    assert rows[1][:4] == ("220102001001", "测试001社区", "4.1", "提示")
    summary = dict(wb["概况"].iter_rows(min_row=2, values_only=True))
    assert summary["社区数"] == 1 and summary["核查日期"] == "2026-06-30"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="xlsx 格式需要 --output"):
        run("--format", "xlsx")
    with pytest.raises(CommandError, match="--as-of 日期“2026-13-01”无效"):
        run("--as-of", "2026-13-01")
    with pytest.raises(CommandError, match="区划代码 2299 不存在"):
        run("--scope", "2299")


def test_quota_command():
    out = io.StringIO()
    call_command("quota", "4500", "--format", "json", stdout=out)
    assert json.loads(out.getvalue()) == {"households": 4500, "min": 13, "max": 20, "clause": "4.1"}
    out = io.StringIO()
    call_command("quota", "3000", stdout=out)
    assert "10–15" in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="户数“-5”无效"):
        call_command("quota", "-5")


def test_console_script_maps_check_to_the_compliance_command(monkeypatch):
    from shegong import cli

    seen = []
    monkeypatch.setattr("django.core.management.execute_from_command_line", lambda argv: seen.append(argv))
    monkeypatch.setattr("sys.argv", ["shegong", "check", "--format", "json"])
    cli.main()
    monkeypatch.setattr("sys.argv", ["shegong", "systemcheck"])
    cli.main()
    assert seen == [["shegong", "compliance", "--format", "json"], ["shegong", "check"]]


# ---- the demo city ------------------------------------------------------------------------------------

def test_the_demo_citys_deliberate_problems_are_found(db):
    from shegong.web.demo import build_demo

    build_demo()
    report = evaluate()
    errors = {(f.name, f.clause, f.rule, f.actual) for f in report.findings if f.level == "error"}
    assert errors == {
        ("和平社区", "4.2.1", "party_secretary", 0),
        ("和平社区", "4.2.1", "party_committee_size", 4),
        ("安康社区", "4.1", "quota_max", 20),
        ("文化社区", "4.3.2", "rc_deputy_directors", 3),
    }
    warnings = {(f.name, f.clause, f.rule) for f in report.findings if f.level == "warning"}
    assert warnings == {("和平社区", "4.2.2", "director_not_secretary")}
    code, out, _ = run("--format", "json")
    assert code == 1
    assert {(f["name"], f["clause"], f["level"]) for f in json.loads(out)["findings"]} == \
        {(n, c, "error") for n, c, _, _ in errors} | {(n, c, "warning") for n, c, _ in warnings}
    # The district admin of the demo sees all of them, with their clauses, on the compliance page.
    from shegong.accounts.models import User

    response = login(User.objects.get(username="quzheng")).get("/compliance/")
    page = response.context["page"].object_list
    assert response.context["division"].name == "南关区"
    assert {(f.name, f.clause, f.level) for f in page} == \
        {(n, c, "error") for n, c, _, _ in errors} | {(n, c, "warning") for n, c, _ in warnings}
    html = response.content.decode()
    for text in ("党组织书记空缺(0 名,应为 1 名)", "居委会副主任 3 名,应为 1–2 名", "超过 1200 户社区核定的上限 15 名"):
        assert text in html


# ---- web ------------------------------------------------------------------------------------------------

def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def problems(world):
    """world's 东风社区 (c1) with three 副主任; 幸福社区 (c2) has nobody; 春光社区 (c3) is in another street."""
    b = build(code="220102001001")
    b.add("居委会副主任")
    b.add("居委会副主任")
    return world


def test_compliance_page_for_a_street_admin(problems):
    c = login(problems.users["street"])
    html = c.get("/compliance/").content.decode()
    assert "居委会副主任 3 名,应为 1–2 名" in html
    assert "党组织书记空缺" in html  # 幸福社区
    assert "春光社区" not in html  # outside the street
    html = c.get("/compliance/?level=warning").content.decode()
    assert "居委会副主任 3 名" not in html
    page = c.get("/compliance/?clause=4.3.2&q=东风").context["page"]
    assert [f.message for f in page.object_list] == ["居委会副主任 3 名,应为 1–2 名"]
    response = c.get("/compliance/")  # one grant: the street is the page's scope, its communities the rows
    assert response.context["division"].code == "220102001"
    assert [d.code for d, _ in response.context["children"]] == ["220102001001", "220102001002"]
    assert c.get("/compliance/?scope=220102002").status_code == 404
    assert c.get("/compliance/?scope=220102001001").status_code == 200


def test_compliance_roll_up_for_the_city(problems):
    c = login(problems.users["city"])
    response = c.get("/compliance/?scope=2201")
    html = response.content.decode()
    assert response.status_code == 200
    assert "南关区" in html  # the district 220102 as a child row
    children = dict((d.code, counts) for d, counts in response.context["children"])
    assert children["220102"]["errors"] == 3  # 东风, 幸福, 春光 all have errors
    assert response.context["report"].communities == 3


def test_compliance_export_is_filtered_like_the_page(problems, tmp_path):
    c = login(problems.users["street"])
    response = c.get("/compliance/export.xlsx?clause=4.3.2")
    assert response.status_code == 200
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    rows = list(load_workbook(path)["问题清单"].iter_rows(min_row=2, values_only=True))
    assert rows and {r[2] for r in rows} == {"4.3.2"}
    assert "220102002001" not in {r[0] for r in rows}


def test_community_page_shows_its_findings_and_quota(problems):
    c = login(problems.users["community"])
    html = c.get("/divisions/220102001001/").content.decode()
    assert "居委会副主任 3 名,应为 1–2 名" in html
    assert "按 2,500 户核定 <strong>10–15</strong> 名" in html or "按 2500 户核定 <strong>10–15</strong> 名" in html


def test_vacancies_page(problems):
    c = login(problems.users["street"])
    response = c.get("/compliance/vacancies/")
    html = response.content.decode()
    assert response.context["count"] == 1  # 幸福社区: nobody at all
    assert "幸福社区" in html and "党组织书记" in html and "党组织副书记" in html and "居委会主任" in html
    assert "东风社区</a>" not in html
    assert login(problems.users["nobody"]).get("/compliance/vacancies/").context["count"] == 0


def test_compliance_pages_need_login(db):
    assert Client().get("/compliance/").status_code == 302


# ---- API --------------------------------------------------------------------------------------------------

def test_api_findings_for_a_scope(problems, api):
    client = api(problems.users["street"])
    data = client.get("/api/v1/compliance").json()
    assert data["communities"] == 2 and data["rule_set"].startswith("DB22/T 3226—2021")
    assert {f["community"] for f in data["findings"]} == {"220102001001", "220102001002"}
    data = client.get("/api/v1/compliance?clause=4.3.2&level=error").json()
    assert [f["message"] for f in data["findings"] if f["community"] == "220102001001"] == ["居委会副主任 3 名,应为 1–2 名"]
    assert client.get("/api/v1/compliance?scope=220102002").status_code == 404
    assert api(problems.users["nobody"]).get("/api/v1/compliance").json()["communities"] == 0
    assert Client().get("/api/v1/compliance").status_code == 401


def test_api_findings_for_one_community(problems, api):
    client = api(problems.users["community"])
    data = client.get("/api/v1/communities/220102001001/compliance").json()
    assert data["staffing"] == {"full_time": 12, "households": 2500, "min": 10, "max": 15, "clause": "4.1"}
    assert [f["rule"] for f in data["findings"]] == ["rc_deputy_directors"]
    past = client.get("/api/v1/communities/220102001001/compliance?as_of=2020-01-01").json()
    assert past["as_of"] == "2020-01-01" and "party_secretary" in {f["rule"] for f in past["findings"]}
    assert client.get("/api/v1/communities/220102001002/compliance").status_code == 404
    assert client.get("/api/v1/communities/220102001/compliance").status_code == 404


def test_as_of_parsing_on_the_page(problems):
    c = login(problems.users["street"])
    response = c.get("/compliance/?as_of=2020-01-01")
    assert response.context["as_of"] == dt.date(2020, 1, 1)
    response = c.get("/compliance/?as_of=soon")
    assert "核查日期“soon”无效" in response.content.decode()
