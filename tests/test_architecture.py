"""The dependency direction of docs/architecture.md, checked by the suite as well as by CI.

- import-linter's contracts (pyproject.toml, [tool.importlinter]): the layers common < access < org <
  accounts < people < staffing < archives < roster < (web | api), no cycles between sibling modules, and
  shegong never importing config.
- No function-level import of a shegong module: a lower package reaching a higher one from inside a
  function, or an import moved into a function to dodge a cycle, hides the real dependency graph.
  (import-linter sees those imports too; this test also refuses the allowed-direction ones, so that the
  graph is read at the top of each module.) AppConfig.ready() is the one place where Django wants it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from simple_history.models import HistoricalChanges

from shegong.access.models import RestrictedQuerySet, ScopeDeclaration
from shegong.people.models import Worker

ROOT = Path(__file__).resolve().parent.parent
SHEGONG = ROOT / "shegong"

# (file relative to shegong/, imported module) → why the import must stay inside a function.
FUNCTION_LEVEL_EXEMPT: dict[tuple[str, str], str] = {
    # Django's documented place for signal registration: apps.py's AppConfig.ready() (handled below for
    # every app, listed here only when an import outside ready() must stay).
}

# Models that hold rows without a history of their own, and why. Every other model of shegong keeps its
# history (django-simple-history): who changed what, and when, is part of the record (DESIGN, issue 10).
NO_HISTORY: dict[str, str] = {
    "common.AccessLog": "a log itself: its rows are written once and never changed",
    "accounts.LoginLockEvent": "a log itself: every lock and unlock is a new row, never changed",
    "accounts.LoginEvent": "a log itself: every sign-in and failed attempt is a new row, never changed",
    "roster.ImportJob": "a log of one upload's progress; what it imports is kept in the history of the "
                        "rows it writes",
}

# Top-level entries of shegong/ that are not apps and so sit in no layer.
NOT_LAYERED = {"cli", "locale", "__init__"}


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def test_import_linter_contracts_are_kept():
    """`lint-imports` as CI runs it; its report (the offending file:line → module) is the failure message."""
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "broken" in result.stdout and ", 0 broken" in result.stdout


def test_every_app_has_a_layer():
    """A new package under shegong/ must be placed in the layers (docs/architecture.md) before it is used."""
    layers = next(c for c in _config()["contracts"] if c["type"] == "layers")
    named = {name.strip() for layer in layers["layers"] for name in layer.replace(":", "|").split("|")}
    packages = {p.name for p in SHEGONG.iterdir() if (p / "__init__.py").exists()}
    assert packages - NOT_LAYERED == named, f"not in a layer: {packages - NOT_LAYERED - named}; " \
                                            f"layer without a package: {named - packages}"
    assert layers["containers"] == ["shegong"]
    assert _config()["exclude_type_checking_imports"] is True
    kinds = {c["type"] for c in _config()["contracts"]}
    assert {"layers", "acyclic_siblings", "forbidden"} <= kinds


class _FunctionLevelImports(ast.NodeVisitor):
    def __init__(self, package: str) -> None:
        self.package = package  # "shegong.accounts" for relative imports
        self.stack: list[str] = []
        self.found: list[tuple[int, str, str]] = []  # line, imported module, enclosing function

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            for child in node.orelse:  # the `if TYPE_CHECKING:` body is for annotations only
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        if self.stack:
            for alias in node.names:
                if alias.name.split(".")[0] in ("shegong", "config"):
                    self.found.append((node.lineno, alias.name, self.stack[-1]))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if not self.stack:
            return
        module = node.module or ""
        if node.level:
            base = self.package.split(".")[: len(self.package.split(".")) - (node.level - 1)]
            module = ".".join([*base, module] if module else base)
        if module.split(".")[0] in ("shegong", "config"):
            self.found.append((node.lineno, module, self.stack[-1]))


def function_level_imports() -> list[str]:
    problems = []
    for path in sorted(SHEGONG.rglob("*.py")):
        rel = path.relative_to(SHEGONG)
        if "migrations" in rel.parts:
            continue  # migrations import what they need when they run, by Django's design
        package = ".".join(("shegong", *rel.parent.parts))
        visitor = _FunctionLevelImports(package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for line, module, function in visitor.found:
            if path.name == "apps.py" and function == "ready":
                continue  # signal registration in AppConfig.ready()
            if (rel.as_posix(), module) in FUNCTION_LEVEL_EXEMPT:
                continue
            problems.append(f"shegong/{rel.as_posix()}:{line} imports {module} inside {function}()")
    return problems


def test_no_function_level_imports_of_shegong_modules():
    problems = function_level_imports()
    assert not problems, "move these imports to the top of the module (or, when the direction forbids it, " \
                         "move the code to the app that owns it):\n" + "\n".join(problems)


def test_the_exemptions_are_still_needed():
    """An exemption whose import is gone is removed from the list (the list only shrinks)."""
    seen = set()
    for path in SHEGONG.rglob("*.py"):
        rel = path.relative_to(SHEGONG)
        visitor = _FunctionLevelImports(".".join(("shegong", *rel.parent.parts)))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        seen |= {(rel.as_posix(), module) for _line, module, _f in visitor.found}
    assert set(FUNCTION_LEVEL_EXEMPT) <= seen, set(FUNCTION_LEVEL_EXEMPT) - seen


def test_the_checker_finds_what_it_should():
    """The AST walk itself: a function-level import is found, a module-level or TYPE_CHECKING one is not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from shegong.common import errors\n"
        "if TYPE_CHECKING:\n    from shegong.web import views\n"
        "def f():\n    from shegong.staffing.models import Appointment\n    from . import selectors\n"
        "class A:\n    def m(self):\n        import shegong.roster.tasks\n"
    )
    visitor = _FunctionLevelImports("shegong.people")
    visitor.visit(ast.parse(source))
    assert [(m, f) for _line, m, f in visitor.found] == [
        ("shegong.staffing.models", "f"), ("shegong.people", "f"), ("shegong.roster.tasks", "m")]


def _shegong_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.startswith("shegong.")
            and not issubclass(m, HistoricalChanges)]


def _resolve(model: type[models.Model], path: str) -> models.Field:
    """The field at the end of a lookup path ("record__worker__community__code"); FieldDoesNotExist when
    a step is missing."""
    field: models.Field | None = None
    for name in path.split(LOOKUP_SEP):
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)  # type: ignore[assignment]
        if field is not None and field.is_relation and field.related_model is not None:
            model = field.related_model  # type: ignore[assignment]
    assert field is not None
    return field


def test_every_scoped_model_declares_its_scope_through_the_base():
    """A model placed in the division tree (`scope_field`) inherits ScopeDeclaration (the restricted manager
    and the declaration in one place, issue 10), and its declaration names real fields: the scope path
    ends at a division code, the owner path at a worker."""
    scoped = [m for m in _shegong_models() if getattr(m, "scope_field", "")]
    assert len(scoped) >= 13, [m._meta.label for m in scoped]
    problems = []
    for model in _shegong_models():
        declared = bool(getattr(model, "scope_field", ""))
        if declared != issubclass(model, ScopeDeclaration):
            problems.append(f"{model._meta.label}: scope_field without ScopeDeclaration, or the base without "
                            "a scope_field")
            continue
        if not declared:
            continue
        try:
            end = _resolve(model, model.scope_field)  # type: ignore[attr-defined]
            if (end.model._meta.label, end.name) != ("org.Division", "code"):
                problems.append(f"{model._meta.label}.scope_field ends at {end.model._meta.label}.{end.name}")
            owner = getattr(model, "owner_field", None)
            if owner is not None and (owner == "pk") != (model is Worker):
                problems.append(f"{model._meta.label}.owner_field {owner!r}: only Worker owns itself")
            elif owner is not None and owner != "pk" and _resolve(model, owner).related_model is not Worker:
                problems.append(f"{model._meta.label}.owner_field {owner!r} does not lead to a Worker")
        except FieldDoesNotExist as exc:
            problems.append(f"{model._meta.label}: {exc}")
        if not isinstance(model._default_manager.all(), RestrictedQuerySet):
            problems.append(f"{model._meta.label}: the default manager is not restricted")
    assert not problems, "\n".join(problems)


def test_every_model_keeps_its_history_or_says_why_not():
    """Each model of shegong has a history (simple_history's `history`), unless it is a log itself, listed
    in NO_HISTORY with the reason; an exemption for a model that has history, or that is gone, is removed."""
    labels = {m._meta.label: m for m in _shegong_models()}
    without = {label for label, m in labels.items() if not hasattr(m, "history")}
    assert without == set(NO_HISTORY), (
        f"without history and not exempt: {sorted(without - set(NO_HISTORY))}; "
        f"exempt but with history or gone: {sorted(set(NO_HISTORY) - without)}")
    for label, model in labels.items():
        if label not in NO_HISTORY:
            # the history model is registered too (a missing migration would leave it without a table)
            assert apps.get_model(model._meta.app_label, f"Historical{model.__name__}"), label
