"""The import rules of ARCHITECTURE.md §3, read from the source with `ast`."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from wtforms.form import BaseForm

from portal.web.baseform import PortalForm

PACKAGE = Path(__file__).resolve().parent.parent / "portal"
RANKS = {
    "core": 0, "cases": 1, "volunteers": 2, "training": 3, "supervision": 4,
    "expenses": 5, "allocation": 5, "reports": 6,
}
WEB_ONLY = (
    "flask", "flask_login", "flask_wtf", "flask_sqlalchemy", "flask_mail", "flask_migrate", "flask_limiter",
    "wtforms", "govuk_frontend_wtf", "portal.extensions", "portal.factory", "portal.web",
)
PRESENT = [module for module in RANKS if (PACKAGE / module).is_dir()]


def imports_of(path: Path, root: Path = PACKAGE):
    """Yield (line, absolute dotted name) for every import in `path`, relative ones resolved."""
    package = ["portal", *path.relative_to(root).parent.parts]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            yield node.lineno, ".".join([*base, *(node.module or "").split(".")]).strip(".")


def is_edge(path: Path, root: Path = PACKAGE) -> bool:
    relative = path.relative_to(root)
    return "web" in relative.parts or path.name == "cli.py"


def upward_imports(module: str, root: Path = PACKAGE) -> list[str]:
    offences = []
    for path in sorted((root / module).rglob("*.py")):
        for line, name in imports_of(path, root):
            parts = name.split(".")
            if parts[0] == "portal" and len(parts) > 1 and parts[1] in RANKS and RANKS[parts[1]] > RANKS[module]:
                offences.append(f"{path.relative_to(root)}:{line} imports {name}")
    return offences


def flask_outside_the_edge(module: str, root: Path = PACKAGE) -> list[str]:
    offences = []
    for path in sorted((root / module).rglob("*.py")):
        if is_edge(path, root):
            continue
        for line, name in imports_of(path, root):
            if any(name == banned or name.startswith(banned + ".") for banned in WEB_ONLY):
                offences.append(f"{path.relative_to(root)}:{line} imports {name}")
    return offences


def test_the_rules_see_the_modules_that_exist():
    assert "core" in PRESENT


@pytest.mark.parametrize("module", PRESENT)
def test_no_module_imports_a_higher_ranked_module(module):
    assert upward_imports(module) == []


@pytest.mark.parametrize("module", PRESENT)
def test_flask_is_imported_only_by_the_web_edge_and_cli(module):
    assert flask_outside_the_edge(module) == []


# Imports deliberately left until first use, each for a heavy library most web workers never need (issue 15:
# a worker's memory). Keyed by file and imported module; nothing else may import inside a function.
DEFERRED_IMPORTS = {
    ("core/files.py", "portal.core.pdf_content"): "pypdf, about 17 MB, only for PDF uploads",
}


def test_no_imports_hidden_inside_functions():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        names = [inner.module] if isinstance(inner, ast.ImportFrom) else [a.name for a in inner.names]
                        if all((str(path.relative_to(PACKAGE)), name) in DEFERRED_IMPORTS for name in names):
                            continue
                        offences.append(f"{path.relative_to(PACKAGE)}:{inner.lineno} in {node.name}()")
    assert offences == []


def test_the_rules_catch_deliberate_violations(tmp_path):
    (tmp_path / "cases" / "web").mkdir(parents=True)
    (tmp_path / "cases" / "services.py").write_text(
        "from flask import current_app\nfrom ..volunteers import queries\nimport portal.training.models\n"
    )
    (tmp_path / "cases" / "web" / "routes.py").write_text("from flask import Blueprint\n")
    assert upward_imports("cases", tmp_path) == [
        "cases/services.py:2 imports portal.volunteers",
        "cases/services.py:3 imports portal.training.models",
    ]
    assert flask_outside_the_edge("cases", tmp_path) == ["cases/services.py:1 imports flask"]


@pytest.mark.parametrize("module", ["portal.core.account_services", "portal.core.outbox", "portal.cases.services"])
def test_services_import_without_flask(module):
    if module.startswith("portal.cases") and not (PACKAGE / "cases" / "services.py").exists():
        pytest.skip("portal.cases.services does not exist yet")
    code = f"import sys, {module}; sys.exit('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr or f"importing {module} pulled in flask"


# Form bases other than PortalForm: a form built on one of them would skip the portal's rules for every
# field (portal/web/baseform.py: numbers the database can hold, dates 1900-2199, no line breaks in
# single-line answers, blank checkbox values dropped).
OTHER_FORM_BASES = {("flask_wtf", "FlaskForm"), ("flask_wtf.form", "FlaskForm"), ("wtforms", "Form"),
                    ("wtforms.form", "Form"), ("wtforms", "BaseForm"), ("wtforms.form", "BaseForm")}
BASEFORM = PACKAGE / "web" / "baseform.py"


def other_form_bases(root: Path = PACKAGE) -> list[str]:
    offences = []
    for path in sorted(root.rglob("*.py")):
        if path == BASEFORM:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level:
                offences.extend(f"{path.relative_to(root)}:{node.lineno} imports {node.module}.{alias.name}"
                                for alias in node.names if (node.module, alias.name) in OTHER_FORM_BASES)
            elif isinstance(node, ast.Attribute) and node.attr in {"FlaskForm", "Form", "BaseForm"}:
                offences.append(f"{path.relative_to(root)}:{node.lineno} uses .{node.attr}")
    return offences


def test_every_form_is_a_portal_form():
    assert other_form_bases() == []
    portal = importlib.import_module("portal")
    forms = set()
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, type) and issubclass(value, BaseForm) and value.__module__.startswith("portal."):
                forms.add(value)
    forms.discard(PortalForm)
    assert len(forms) > 100
    assert sorted(f"{form.__module__}.{form.__name__}" for form in forms if not issubclass(form, PortalForm)) == []


def test_the_form_rule_catches_another_base(tmp_path):
    (tmp_path / "forms.py").write_text("from flask_wtf import FlaskForm\nimport wtforms\nX = wtforms.Form\n")
    assert other_form_bases(tmp_path) == ["forms.py:1 imports flask_wtf.FlaskForm", "forms.py:3 uses .Form"]
