"""The division cascader (市 → 区县 → 街道 → 社区): how a division is chosen in a filter.

One <select> per level, from the top of the actor's scope down to the chosen division, each listing the
children of the one above it. A province's 750 communities are never listed at once: the page renders
the path to the current choice (a few dozen options), and choosing at one level asks the server for the
next level (`org:division_cascade`, through htmx; without JavaScript the 筛选 button does the same).

Every select of a cascade has the same name. The blank option of a lower select ("全部") carries its
parent's code, so each select's value is a whole choice; the submitted values are read top-down by
`chosen()`, which keeps the deepest one that lies under the one above it (a stale lower choice left
behind after changing a higher one is dropped).
"""

from __future__ import annotations

import html as stdhtml
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q
from django.utils.safestring import SafeString, mark_safe

from shegong.access import Actor, grant_codes, is_operator, scope_roots
from shegong.common.divcodes import DivisionCodeError, ancestor_codes, normalize_code
from shegong.org.models import Division

FIELD_NAME = re.compile(r"^[a-z][a-z_]{0,29}$")
HTML_ID = re.compile(r"^id_[a-z][a-z0-9_]{0,39}$")
ACTIONS = ("view", "change")  # a filter shows what the actor may view; a form offers what they may change
BLANKS = {"all": "全部", "choose": "请选择"}  # the blank option's text: a filter's "全部", a form's "请选择"


@dataclass(frozen=True)
class CascadeLevel:
    label: str  # the level of the options: 市, 区县, 街道/乡镇, 社区
    options: SafeString


@dataclass(frozen=True)
class Cascade:
    field: str
    selected: str  # the chosen code ("" for everything in scope)
    levels: list[CascadeLevel]
    action: str = "view"
    blank: str = "all"
    fixed: tuple[str, str] | None = None  # (code, name): the one division the actor has (nothing to choose)
    html_id: str = ""  # the first select's id, which the form field's <label for> names

    @property
    def query(self) -> str:
        """The cascade's own parameters for the htmx request that redraws it."""
        extra = "" if self.action == "view" else f"&action={self.action}"
        extra += "" if self.blank == "all" else f"&blank={self.blank}"
        extra += f"&id={self.html_id}" if self.html_id else ""
        return f"field={self.field}{extra}"


def chosen(values: Sequence[str]) -> str:
    """The deepest code among a cascade's submitted values (top-down), each under the one before it;
    anything that is not a division code is ignored."""
    result = ""
    for value in values:
        value = (value or "").strip()
        if not value:
            continue
        try:
            code = normalize_code(value)
        except DivisionCodeError:
            continue
        if result and not code.startswith(result):
            break
        result = code
    return result


def _options(blank_value: str, children: list[tuple[str, str]], selected: str, blank: str = "全部") -> SafeString:
    esc = stdhtml.escape
    parts = [f'<option value="{esc(blank_value)}">{esc(blank)}</option>']
    for code, name in children:
        mark = " selected" if code == selected else ""
        parts.append(f'<option value="{esc(code)}"{mark}>{esc(name)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 - every value and label escaped above


def _roots(actor: Actor, action: str) -> list[str] | None:
    """The top of the actor's scope for `action` (None: the whole tree); nested grants keep the outer one."""
    if action == "view":
        return scope_roots(actor)
    if is_operator(actor):
        return None
    codes = sorted(set(grant_codes(actor, action)), key=len)
    return [c for i, c in enumerate(codes) if not any(c.startswith(o) for o in codes[:i])]


def _path(actor: Actor, selected: str, action: str = "view") -> tuple[list[str] | None, list[str]]:
    """The actor's scope roots (None: the whole tree) and the codes from the top down to `selected`
    that lie at or below a root (a choice outside the scope, or not a code, gives an empty path)."""
    try:
        code = normalize_code(selected) if selected else ""
    except DivisionCodeError:
        code = ""
    roots = _roots(actor, action)
    path = [*ancestor_codes(code), code] if code else []
    if roots is not None:
        path = [c for c in path if any(c.startswith(r) for r in roots)]
    return roots, path


def _children(actor: Actor, roots: list[str] | None, parents: set[str], single_root: bool,
              deepest: str, action: str = "view") -> tuple[dict[str | None, list[tuple[str, str]]], dict[str | None, str]]:
    """One query: the children of every parent on the path, and the top select's options (the tree's
    top for the operator, the roots when the actor has several), keyed by parent (None: the top)."""
    wanted = Q(parent__code__in=parents)
    if roots is None:
        wanted |= Q(parent__isnull=True)
    elif not single_root:
        wanted |= Q(code__in=roots)
    order = [c.value for c in Division.Level]
    rows = (Division.objects.restrict(actor, action).filter(wanted, is_active=True)
            .filter(level__in=order[:order.index(deepest) + 1])
            .order_by("code").values_list("code", "name", "level", "parent__code"))
    children: dict[str | None, list[tuple[str, str]]] = {}
    level_of: dict[str | None, str] = {}
    for code, name, level, parent in rows:
        keys: list[str | None] = []
        if (roots is None and parent is None) or (roots and not single_root and code in roots):
            keys.append(None)
        if parent in parents:
            keys.append(parent)
        for key in keys:
            children.setdefault(key, []).append((code, name))
            level_of.setdefault(key, level)
    return children, level_of


def _chain(path: list[str], single_root: str | None, offered: set[str]) -> list[str | None]:
    """The path as far as it is real and visible: it stops at the first code that no select offers."""
    chain: list[str | None] = [single_root]
    for code in path:
        if code == single_root:
            continue
        if code not in offered:
            break
        chain.append(code)
    return chain


def _levels(chain: list[str | None], children: dict[str | None, list[tuple[str, str]]],
            level_of: dict[str | None, str], blank: str) -> list[CascadeLevel]:
    levels = []
    for i, parent in enumerate(chain):
        options = children.get(parent, [])
        if not options:
            break
        below = chain[i + 1] if i + 1 < len(chain) else None
        blank_value = (parent or "") if i else ""
        label = str(Division.Level(level_of[parent]).label)
        levels.append(CascadeLevel(label, _options(blank_value, options, below or "", BLANKS[blank])))
    return levels


def _check(field: str, action: str, blank: str, html_id: str) -> None:
    if not FIELD_NAME.match(field):
        raise ValueError(f"not a field name: {field!r}")
    if action not in ACTIONS or blank not in BLANKS or (html_id and not HTML_ID.match(html_id)):
        raise ValueError(f"not a cascade: {action!r}, {blank!r}, {html_id!r}")


def division_cascade(*, actor: Actor, field: str, selected: str = "",
                     deepest: str = Division.Level.COMMUNITY, action: str = "view", blank: str = "all",
                     html_id: str = "") -> Cascade:
    """The selects from the top of `actor`'s scope for `action` (view: a filter; change: a form) down to
    `selected` (any form of a code; one outside the scope or unknown counts as nothing chosen), in one
    query. Levels stop at `deepest`. `blank`: the blank option's text (BLANKS)."""
    _check(field, action, blank, html_id)
    roots, path = _path(actor, selected, action)
    single_root = roots[0] if roots is not None and len(roots) == 1 else None
    parents = set(path) | ({single_root} if single_root else set())
    children, level_of = _children(actor, roots, parents, single_root is not None, deepest, action)
    chain = _chain(path, single_root, {code for options in children.values() for code, _ in options})
    levels = _levels(chain, children, level_of, blank)
    fixed = None
    if not levels and single_root is not None and blank == "choose":  # a form for a community admin: their one
        fixed = next(iter(Division.objects.filter(code=single_root, level=deepest).values_list("code", "name")), None)
    chosen_code = chain[-1] if len(chain) > 1 and chain[-1] else (fixed[0] if fixed else "")
    return Cascade(field=field, selected=chosen_code, levels=levels, action=action, blank=blank, fixed=fixed,
                   html_id=html_id)
