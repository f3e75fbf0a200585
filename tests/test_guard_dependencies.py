"""astropy is a test reference, not a runtime dependency: the library needs only
``astropy-iers-data`` (the IERS table) and ``pyerfa`` (the Sun, Earth rotation)."""
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_BLOCKED = r'''
import importlib, pkgutil, sys

class _NoAstropy:
    def find_spec(self, name, path=None, target=None):
        if name == "astropy" or name.startswith("astropy."):
            raise ImportError(f"{name} is blocked: the library must not need astropy")
        return None

sys.meta_path.insert(0, _NoAstropy())
import groundseg, sims, telemetry
names = []
for package in (groundseg, telemetry, sims):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
            names.append(module.name)
# The lazy paths too: Earth orientation from the IERS table, the Sun, a pass search.
from groundseg import Constellation, bundled_stations, predict_passes
from groundseg.timegrid import TimeGrid, timescale
from groundseg.sun import sun_position_km
assert timescale().polar_motion_table is not None, "IERS table not read"
grid = TimeGrid.range("2026-11-26T00:00:00Z", "2026-11-26T01:00:00Z", 600.0)
assert sun_position_km(grid, "itrs").shape == (len(grid), 3)
passes = predict_passes(Constellation.formosat8("2026-11-26"), bundled_stations(),
                        "2026-11-26T00:00:00Z", "2026-11-26T06:00:00Z")
assert len(passes) > 0
assert not any(m == "astropy" or m.startswith("astropy.") for m in sys.modules)
print(len(names), "modules")
'''


def test_every_library_module_imports_without_astropy():
    proc = subprocess.run([sys.executable, "-c", _BLOCKED], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.split()[0]) > 40


def test_astropy_is_only_a_test_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [d.split(">")[0].split("=")[0].strip() for d in project["dependencies"]]
    assert "astropy" not in runtime
    assert {"astropy-iers-data", "pyerfa"} <= set(runtime)
    assert any(d.startswith("astropy>") for d in project["optional-dependencies"]["test"])
