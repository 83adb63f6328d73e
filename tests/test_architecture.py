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

ROOT = Path(__file__).resolve().parent.parent
SHEGONG = ROOT / "shegong"

# (file relative to shegong/, imported module) → why the import must stay inside a function.
FUNCTION_LEVEL_EXEMPT: dict[tuple[str, str], str] = {
    # Django's documented place for signal registration: apps.py's AppConfig.ready() (handled below for
    # every app, listed here only when an import outside ready() must stay).
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
