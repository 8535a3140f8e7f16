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
