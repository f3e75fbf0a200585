"""The layers point down: ``groundseg.cli -> sims -> telemetry -> groundseg`` (and ``sims ->
groundseg``); nothing imports the command line.

Two independent checks: every ``import`` statement of every module file (also the ones inside
functions, resolved from relative form), and what importing every module of a package pulls
into ``sys.modules`` of a fresh interpreter.
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The application layer: the ``groundseg`` command and ``python -m groundseg``.
CLI = ("groundseg.cli", "groundseg.__main__")
#: What each library must not import.
FORBIDDEN = {
    "groundseg": ("telemetry", "sims") + CLI,
    "telemetry": ("sims",) + CLI,
    "sims": CLI,
}


def _is_under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _library_files(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if not _is_under(_module_name(path), CLI):
            yield path


def imported_names(source: str, module: str, is_package: bool = False) -> set[str]:
    """Absolute names every import statement of ``module`` may load (``from a import b``
    gives ``a`` and ``a.b``, since ``b`` may be a module)."""
    package = module if is_package else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(source, module)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", ""))
              in ("import_module", "__import__") and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    return names


def _file_imports(path: Path) -> set[str]:
    return imported_names(path.read_text(encoding="utf-8"), _module_name(path),
                          path.name == "__init__.py")


def test_the_walker_sees_relative_lazy_and_dynamic_imports():
    source = ("import numpy as np\nfrom . import cli\nfrom ..sims.x import y\n"
              "def f():\n    from ...telemetry import z\n    importlib.import_module('sims.b')\n")
    names = imported_names(source, "groundseg.planning.model")
    assert {"numpy", "groundseg.planning.cli", "groundseg.sims.x.y", "telemetry.z",
            "sims.b"} <= names
    assert "groundseg.cli" in imported_names("from . import cli", "groundseg", is_package=True)
    assert _is_under("groundseg.cli.options", CLI) and not _is_under("groundseg.clip", CLI)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_statement_points_up(package):
    files = list(_library_files(package))
    assert len(files) > 5
    bad = [f"{path.relative_to(ROOT)}: imports {name}"
           for path in files for name in sorted(_file_imports(path))
           if _is_under(name, FORBIDDEN[package])]
    assert bad == []


_IMPORT_ALL = """
import importlib, json, pkgutil, sys
skip = tuple(json.loads(sys.argv[2]))
def load(name):
    module = importlib.import_module(name)
    for info in pkgutil.iter_modules(getattr(module, "__path__", []), name + "."):
        if info.name not in skip:
            load(info.name)
load(sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_each_library_loads_nothing_above_it():
    """Each package, every module imported, in its own fresh interpreter (run side by side)."""
    procs = {package: subprocess.Popen(
        [sys.executable, "-c", _IMPORT_ALL, package, json.dumps(CLI)], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))) for package in FORBIDDEN}
    for package, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        loaded = json.loads(out)
        assert any(m.startswith(package + ".") for m in loaded)
        assert [m for m in loaded if _is_under(m, FORBIDDEN[package])] == [], package
