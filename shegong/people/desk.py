"""people's part of the administrator's work desk (built by shegong.web.desk): charts of the team in the
actor's view scope — age bands, education (GB/T 4658), gender, party membership — all from ONE aggregate
query over the active workers, whatever their number. Each bar links to the worker list filtered to it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from shegong.common.codes import EDUCATION
from shegong.common.menus import Bar, Chart, DeskCharts, per_request
from shegong.people.filters import AGE_BANDS, PARTY_MEMBERS, age_band_text, born_in_band
from shegong.people.models import Worker


def _band_label(lo: int | None, hi: int | None) -> str:
    if lo is None:
        return f"{hi + 1 if hi is not None else 0}岁以下"
    if hi is None:
        return f"{lo}岁及以上"
    return f"{lo}–{hi}岁"


def team_counts(request: HttpRequest) -> dict[str, int]:
    """The active workers of the actor's view scope, counted by age band, education, gender and party
    membership: one aggregate query (kept for the request: several charts read it)."""
    def build() -> dict[str, int]:
        today = timezone.localdate()
        counts: dict[str, Any] = {"total": Count("id")}
        for i, (lo, hi) in enumerate(AGE_BANDS):
            counts[f"age{i}"] = Count("id", filter=Q(**born_in_band(lo, hi, today)))
        for code, _ in EDUCATION.entries:
            counts[f"edu{code}"] = Count("id", filter=Q(education=code))
        counts["edu_none"] = Count("id", filter=Q(education=""))
        for gender in Worker.Gender.values:
            counts[f"gender_{gender}"] = Count("id", filter=Q(gender=gender))
        counts["party"] = Count("id", filter=Q(political_status__in=PARTY_MEMBERS))
        return dict(Worker.objects.restrict(request.user, "view").filter(status=Worker.Status.ACTIVE)
                    .aggregate(**counts))
    result: dict[str, int] = per_request(request, "people.team_counts", build)
    return result


def workers_url(**params: str) -> str:
    return f"{reverse('people:worker_index')}?{urlencode({'status': Worker.Status.ACTIVE, **params})}"


def _nonzero(bars: list[Bar]) -> list[Bar]:
    return [b for b in bars if b.value]


def team_charts(request: HttpRequest) -> list[Chart]:
    c = team_counts(request)
    total = c["total"]
    if not total:
        return []
    ages = [Bar(_band_label(lo, hi), c[f"age{i}"], workers_url(age=age_band_text(lo, hi)))
            for i, (lo, hi) in enumerate(AGE_BANDS)]
    education = [Bar(name, c[f"edu{code}"], workers_url(education=code)) for code, name in EDUCATION.entries]
    education.append(Bar("未填", c["edu_none"], workers_url(education="none")))
    genders = [Bar(g, c[f"gender_{g}"], workers_url(gender=g)) for g in Worker.Gender.values]
    party = [Bar("中共党员(含预备)", c["party"], workers_url(political="party")),
             Bar("其他", total - c["party"], workers_url(political="other"))]
    note = f"在岗 {total} 人"
    return [
        Chart("age", "年龄结构", "bar", _nonzero(ages), note=note, total=total),
        Chart("education", "学历(GB/T 4658)", "hbar", _nonzero(education), note=note, total=total),
        Chart("party", "党员比例", "pie", _nonzero(party), note=note, total=total),
        Chart("gender", "性别", "pie", _nonzero(genders), note=note, total=total),
    ]


CHARTS = [DeskCharts(20, team_charts)]
DESK: list[Any] = []  # nothing to do of its own: corrections are the archive's
