"""The write rules of a worker that are not about a single field, once (issue 10, point 3).

The field rules (ID number, phone, code tables, choices) are `normalize_worker_input` in
shegong/people/services.py and the date rules `worker_date_errors` in shegong/people/models.py; both are
already shared by the services and the roster import. What lives here is checked against other rows:
`worker_update` calls it for one worker with its own query, the roster import for every row with the
current posts it preloaded. Each returns the Chinese message (or None).
"""

from __future__ import annotations

from collections.abc import Sequence

from shegong.people.models import Worker


def check_not_in_post(status: str, current_posts: Sequence[str], *, name: str) -> str | None:
    """Field status: a worker who leaves (离岗/退休/辞职/解聘) must first be released from every current
    post; `current_posts` are the names of the posts still held (after what the same change ends)."""
    if status in (None, "", Worker.Status.ACTIVE) or not current_posts:
        return None
    return f"{name}仍任{'、'.join(current_posts)};请先办理离任(填写离任日期),再将状态改为“{status}”"


def check_required(data: dict[str, object], fields: Sequence[str], labels: dict[str, str]) -> dict[str, str]:
    """{field: "<label>不能为空"} for each of `fields` missing or empty in `data`."""
    return {f: f"{labels[f]}不能为空" for f in fields if data.get(f) in (None, "")}
