"""The command as a whole: help, the two ``python -m`` entry points, bad input as one line and
exit status 2 (whatever package the error comes from)."""
import subprocess
import sys
from pathlib import Path

import pytest

from groundseg.cli import main

ROOT = Path(__file__).resolve().parents[1]
WINDOW = ["--start", "2026-11-26T00:00:00Z", "--end", "2026-11-26T06:00:00Z"]


def test_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "groundseg" in capsys.readouterr().out


def test_each_command_parses_with_its_module_alone():
    """``main`` builds only the named command's module: the map says which module that is, and
    its parser for the command is the full parser's."""
    import argparse
    from groundseg.cli import _MODULE_OF, build_parser

    def commands(parser):
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return sub.choices

    full = commands(build_parser())
    assert set(full) == set(_MODULE_OF)
    for name in full:
        alone = commands(build_parser(name))
        assert name in alone and set(alone) <= set(full)
        assert alone[name].format_help() == full[name].format_help()


@pytest.mark.parametrize("module", ["groundseg", "groundseg.cli"])
def test_python_dash_m_runs_the_command(module):
    proc = subprocess.run([sys.executable, "-m", module, "ephemeris", *WINDOW, "--step", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "groundseg: error: --step must be positive, got 0\n"


@pytest.mark.parametrize("argv,piece", [
    (["ephemeris", *WINDOW, "--step", "1e-9"], "--step 1e-09: 2.16e+13 times over 21600 s"),
    (["ephemeris", *WINDOW, "--step", "inf"], "--step must be a finite number, got inf"),
    (["access", *WINDOW, "--step", "nan"], "--step must be a finite number, got nan"),
    (["track", "--satellite", "FS8-1", "--station", "Hsinchu", *WINDOW, "--step", "1e-9"],
     "--step 1e-09: "),
    (["contacts", *WINDOW, "--priority", "FS8-1=99999999999999999999"], "at most 1,000,000"),
    (["constellation", "walker", "--inclination", "53", "--total", "100000000000", "--planes", "1",
      "--altitude-km", "550", "--epoch", "2026-11-26T00:00:00Z"], "pass 339999"),
    (["plan", "--scenario", "bundled", "--start", "2026-11-26", "--output", "x"], "both --start"),
    (["coverage", "--region=20,26,118,124", "--resolution-deg", "1", "--output", "x"],
     "--start and --end are required"),
    (["scenario", "no-such.toml"], "no such scenario file"),              # sims error
    (["telemetry", "stats", "--archive", "no-such.sqlite"], "no such archive"),  # telemetry error
])
def test_bad_input_is_one_line_and_exit_2(argv, piece, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and piece in lines[0], err
    assert lines[0].startswith("groundseg: error: ")
