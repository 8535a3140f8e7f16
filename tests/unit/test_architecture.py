"""Layering: the domain core and the protocol definition never import the outer layers, and `mibg dose`
starts without Django, scipy, matplotlib or pydantic."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mibg"
FORBIDDEN = ("django", "ninja", "mibg.web", "mibg.cli", "mibg.commands", "mibg.reports")


def imported_modules(path):
    """Every module an import statement in ``path`` names (relative imports resolved against its package)."""
    package = ".".join(("mibg", *path.relative_to(SRC).parent.parts))
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source, package):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:
                yield f"{module}.{alias.name}", node.lineno


def is_forbidden(module):
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def source_files(package):
    files = sorted((SRC / package).rglob("*.py"))
    assert files, f"no source found under {SRC / package}"
    return files


@pytest.mark.parametrize("package", ["core", "protocol"])
def test_the_core_and_protocol_packages_never_import_the_outer_layers(package):
    offending = [f"{path.relative_to(SRC)}:{line} imports {module}"
                 for path in source_files(package)
                 for module, line in imported_modules(path) if is_forbidden(module)]
    assert offending == []


def test_the_protocol_package_imports_nothing_of_the_core():
    offending = [f"{path.relative_to(SRC)}:{line} imports {module}"
                 for path in source_files("protocol")
                 for module, line in imported_modules(path) if module == "mibg.core" or module.startswith("mibg.core.")]
    assert offending == []


@pytest.mark.parametrize(
    "source",
    [
        "import django",
        "import django.db.models as m",
        "from ninja import Router",
        "from mibg import cli",
        "from mibg.commands.dose import run",
        "from .. import web",
        "from ..reports import pdf",
        "def f():\n    import mibg.web.settings",
    ],
)
def test_the_import_checker_catches_every_form_of_a_forbidden_import(source):
    assert any(is_forbidden(module) for module, _ in imports_in(source, "mibg.core"))


@pytest.mark.parametrize("source", ["import djangoish", "from mibg.core import units", "from . import units", "import decimal"])
def test_the_import_checker_lets_allowed_imports_through(source):
    assert not any(is_forbidden(module) for module, _ in imports_in(source, "mibg.core"))


def test_mibg_dose_imports_no_django_scipy_matplotlib_or_pydantic():
    code = ("import mibg.commands.dose, mibg.core.dosing; import sys; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django','scipy','matplotlib','pydantic')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_running_mibg_dose_imports_no_django_scipy_matplotlib_or_pydantic():
    code = ("import sys; from mibg.cli import main; "
            "status = main(['dose', '--weight-kg', '22', '--mci-per-kg', '18', '--cd34-per-kg', '3e6', '--json']); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'django','scipy','matplotlib','pydantic'}), "
            "file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "[]"


def test_running_mibg_dose_neither_parses_nor_builds_the_sections_it_does_not_read():
    # The care plan, the event-report clocks and the translations are parsed when first read (issue 14: start-up);
    # the dose command reads none of them.
    code = ("import sys; from mibg.cli import main; "
            "status = main(['dose', '--weight-kg', '22', '--mci-per-kg', '18', '--cd34-per-kg', '3e6', '--json']); "
            "print('mibg.protocol.sections' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "False"


def _calls(path, name):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == name]


@pytest.mark.parametrize("helper", ["consume_form_token", "check_signature"])
def test_every_save_and_signature_of_the_web_layer_goes_through_the_one_signed_action_helper(helper):
    # Password re-entry, the one-time form token and the transaction are done in one place (mibg.web.safety:
    # once, signed, save_once); a page or an API operation that did them by hand could leave one out.
    by_hand = [f"{path.relative_to(SRC)}:{line}" for path in source_files("web") if path.name != "safety.py"
               for line in _calls(path, helper)]
    assert by_hand == []


def test_the_shared_refusal_lives_in_the_one_error_module_not_in_a_step():
    defined = [f"{path.relative_to(SRC)}" for path in source_files("web")
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.ClassDef) and node.name in {"Refused", "Conflict", "AlreadySubmitted",
                                                                     "SignatureRefused", "ErrorOut"}]
    assert sorted(defined) == ["web/api_types.py", *["web/errors.py"] * 4]


def test_no_module_of_the_project_imports_itself_back_through_others():
    # Tarjan's strongly connected components over the import graph (grimp, as import-linter reads it): a circle
    # of imports (audit/chain.py <-> audit/models.py was one) is a component of more than one module.
    import grimp

    graph = grimp.build_graph("mibg", cache_dir=None)
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert circles == []


CORE_MODULES = sorted(p.stem for p in (SRC / "core").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("name", CORE_MODULES)
def test_every_core_module_declares_its_public_surface_and_every_declared_name_exists(name):
    import importlib

    module = importlib.import_module(f"mibg.core.{name}")
    declared = getattr(module, "__all__", None)
    assert declared, f"mibg.core.{name} declares no __all__"
    assert len(set(declared)) == len(declared)
    assert [n for n in declared if not hasattr(module, n)] == []
    assert [n for n in declared if n.startswith("_")] == []


def test_the_outer_layers_import_from_the_core_only_what_it_declares():
    # The reports, the web layer and the commands use the core through its declared surface, nothing private.
    undeclared = []
    for path in sorted(SRC.rglob("*.py")):
        if path.is_relative_to(SRC / "core"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("mibg.core."):
                import importlib

                declared = set(getattr(importlib.import_module(node.module), "__all__", ()))
                undeclared += [f"{path.relative_to(SRC)}:{node.lineno} {node.module}.{a.name}"
                               for a in node.names if a.name not in declared]
    assert undeclared == []


def _is_views_module(module):
    return module.startswith("mibg.") and "views" in module.split(".")


def test_no_api_module_imports_a_views_module():
    # An API operation and a page are two doors onto the same service: what they share (the course calendar, the
    # .ics answer) lives in a service or helper module, so the API never depends on a page's code.
    offending = [f"{path.relative_to(SRC)}:{line} imports {module}"
                 for path in sorted(SRC.rglob("api.py"))
                 for module, line in imported_modules(path) if _is_views_module(module)]
    assert offending == []


@pytest.mark.parametrize(("source", "caught"), [
    ("from mibg.web.plan.views import user_feed", True),
    ("from mibg.web.plan import views", True),
    ("import mibg.web.views", True),
    ("from django.views.decorators.http import require_safe", False),
    ("from mibg.web.plan.calendars import user_feed", False),
])
def test_the_api_check_tells_a_views_import_from_others(source, caught):
    assert any(_is_views_module(module) for module, _ in imports_in(source, "mibg.web.plan")) is caught



def _mypy_config():
    import tomllib

    return tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]


def _is_mibg_pattern(module):
    return module == "mibg" or module.startswith(("mibg.", "mibg*"))


def silenced_modules(config):
    """The mibg module patterns for which the mypy config turns errors off, with how."""
    silencing = {"ignore_errors": lambda v: v is True, "disable_error_code": bool,
                 "follow_imports": lambda v: v in ("skip", "silent"), "strict": lambda v: v is False,
                 "check_untyped_defs": lambda v: v is False, "disallow_untyped_defs": lambda v: v is False}
    found = [f"(global) {key} = {config[key]!r}" for key, is_silencing in silencing.items()
             if key in config and is_silencing(config[key])]
    for override in config.get("overrides", []):
        modules = override.get("module", [])
        modules = [modules] if isinstance(modules, str) else modules
        found += [f"{module}: {key} = {override[key]!r}" for module in modules if _is_mibg_pattern(module)
                  for key, is_silencing in silencing.items() if key in override and is_silencing(override[key])]
    return found


def test_the_mypy_config_silences_no_error_of_any_mibg_module():
    config = _mypy_config()
    assert config.get("strict") is True
    assert silenced_modules(config) == []


def test_the_mypy_files_cover_every_module_of_src_mibg_but_the_migrations():
    import re

    config = _mypy_config()
    root = SRC.parents[1]
    covered = [root / entry for entry in config["files"]]
    excludes = config.get("exclude", [])
    excludes = [excludes] if isinstance(excludes, str) else excludes
    left_out = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if "migrations" in path.relative_to(SRC).parts:
            continue
        if not any(path == entry or path.is_relative_to(entry) for entry in covered):
            left_out.append(f"{name}: not under files")
        elif any(re.search(pattern, name) for pattern in excludes):
            left_out.append(f"{name}: excluded")
    assert left_out == []


@pytest.mark.parametrize(("config", "silenced"), [
    ({"strict": True, "overrides": [{"module": ["mibg.web.api"], "ignore_errors": True}]}, True),
    ({"strict": True, "overrides": [{"module": "mibg.web.*", "disable_error_code": ["union-attr"]}]}, True),
    ({"strict": True, "overrides": [{"module": ["mibg.reports.pdf"], "follow_imports": "skip"}]}, True),
    ({"strict": True, "ignore_errors": True}, True),
    ({"strict": True, "overrides": [{"module": ["scipy.*"], "ignore_missing_imports": True}]}, False),
    ({"strict": True, "overrides": [{"module": ["segno.*"], "ignore_errors": True}]}, False),
])
def test_the_mypy_config_check_catches_a_silenced_mibg_module(config, silenced):
    assert bool(silenced_modules(config)) is silenced
