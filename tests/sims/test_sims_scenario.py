"""Scenario files: the bundled one, every satellite source, and clear errors for bad input."""
import re
import textwrap

import numpy as np
import pytest

from groundseg.cli import main
from groundseg.orbits import Constellation
from sims import scenario as sc
from sims.errors import ScenarioError, SimulationError
from sims.scenario import bundled_scenario, load_scenario, parse_scenario

GOOD = textwrap.dedent("""
    [window]
    start = 2026-11-26T00:00:00Z
    duration_h = 6
    step_s = 30

    [[satellites]]
    kind = "sso"
    count = 4
    altitude_km = 600
    ltan_h = 13.5
    first_norad_id = 91001

    [[satellites]]
    kind = "walker"
    inclination_deg = 53
    total = 6
    planes = 3
    phasing = 1
    altitude_km = 550
    first_norad_id = 92001

    [stations]
    bundled = true
    use = ["Hsinchu", "Svalbard"]
    [[stations.station]]
    name = "Kiruna"
    latitude_deg = 67.86
    longitude_deg = 20.96
    downlink_rate_mbps = 150

    [targets]
    file = "targets.csv"

    [spacecraft]
    swath_km = 12
    field_of_regard_deg = 30
    memory_capacity_gbit = 256
    image_volume_gbit = 6
    image_duration_s = 10
    downlink_rate_mbps = 200
    solar_array_power_w = 250
    battery_capacity_wh = 400
    [spacecraft.agility]
    model = "rate_acceleration"
    rate_deg_s = 1.0
    accel_deg_s2 = 0.5
    [spacecraft.loads_w]
    idle = 80
    imaging = 200
    downlink = 150
    slew = 120
""")


def _write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_bundled_scenario_resolves():
    s = bundled_scenario()
    assert len(s.constellation) == 8 and s.constellation.names[0] == "FS8-1"
    assert [st.name for st in s.stations] == ["Hsinchu", "Taoyuan", "Tainan", "Svalbard", "Troll"]
    assert s.targets.source == "bundled:taiwan"
    assert s.window.duration_s == 86400.0 and s.window.step_s == 10.0
    assert len(s.time_grid()) == 8641
    sp = s.spacecraft
    assert sp.gsd_m == 1.0 and sp.field_of_regard_deg == 45.0 and sp.loads_w["imaging"] > sp.loads_w["idle"]
    # The same satellites as the orbit core's bundled constellation at the window start.
    ref = Constellation.formosat8(s.window.start)
    assert [r.tle for r in s.constellation.records] == [r.tle for r in ref.records]
    # Mean altitude ~561 km (public figure) after one propagation.
    r = s.constellation.propagate(s.time_grid()[:: 360]).position_km
    assert abs(np.linalg.norm(r, axis=-1).mean() - 6378.137 - 561) < 15
    assert s.fleet().n_sat == 8


def test_bundled_numbers_are_all_commented():
    """Every number in formosat8.toml says whether it is public or an assumption."""
    lines = sc.bundled_scenario_path().read_text().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"\s*(\w+)\s*=\s*([-0-9.\[]|20\d\d-)", line)
        if m:
            noted = "#" in line or lines[i - 1].lstrip().startswith("#")
            assert noted, f"line {i + 1} has no comment: {line}"
    text = "\n".join(lines)
    assert "PUBLIC: 1 m panchromatic" in text and text.count("assumption") > 15


def test_custom_scenario_groups_stations_and_volume(tmp_path):
    p = _write(tmp_path, GOOD)
    (tmp_path / "targets.csv").write_text("name,latitude_deg,longitude_deg\nA,24,121\n")
    s = load_scenario(p)
    assert len(s.constellation) == 10
    assert list(s.constellation.norad_ids[:4]) == [91001, 91002, 91003, 91004]
    assert [st.name for st in s.stations] == ["Hsinchu", "Svalbard"]   # 'use' filters inline too
    assert s.spacecraft.image_data_rate_gbit_s == pytest.approx(0.6)
    assert s.targets.path() == tmp_path / "targets.csv"
    assert s.downlink_rate_mbps("Hsinchu") == 200.0      # min(station 300, transmitter 200)
    assert s.window.time_grid().seconds[-1] == 6 * 3600
    d = s.to_dict()
    assert d["satellite_groups"][1]["total"] == 6 and d["spacecraft"]["agility"] == {
        "model": "rate_acceleration", "rate_deg_s": 1.0, "accel_deg_s2": 0.5, "settle_s": 0.0}


def test_file_satellites_relative_and_select(tmp_path):
    c = Constellation.walker(60, 4, 2, 0, 700, "2026-11-26T00:00:00Z", first_norad_id=93001)
    (tmp_path / "orbits").mkdir()
    (tmp_path / "orbits" / "fleet.tle").write_text(c.to_tle())
    text = GOOD.replace('kind = "sso"\n    count = 4\n    altitude_km = 600\n    ltan_h = 13.5\n'
                        '    first_norad_id = 91001',
                        'kind = "file"\n    path = "orbits/fleet.tle"\n    select = ["93002", "WALKER-4"]')
    text = textwrap.dedent(text)
    text = text.replace('kind = "sso"\ncount = 4\naltitude_km = 600\nltan_h = 13.5\nfirst_norad_id = 91001',
                        'kind = "file"\npath = "orbits/fleet.tle"\nselect = ["93002", "WALKER-4"]')
    s = load_scenario(_write(tmp_path, text))
    assert list(s.constellation.norad_ids[:2]) == [93002, 93004]


def test_stations_from_a_file(tmp_path):
    (tmp_path / "st.csv").write_text("name,latitude_deg,longitude_deg,altitude_m\nX,10,20,0\n")
    text = GOOD.replace('bundled = true\nuse = ["Hsinchu", "Svalbard"]', 'file = "st.csv"')
    s = load_scenario(_write(tmp_path, text))
    assert [st.name for st in s.stations] == ["X", "Kiruna"]


BAD = [
    # (old text, new text, expected pieces of the message)
    ("swath_km = 12", 'swath_km = "12 km"', ["spacecraft.swath_km", "must be a number of kilometres",
                                              "units are part of the key name"]),
    ("swath_km = 12", "swath_m = 12000", ["spacecraft.swath_km", "missing", "found 'swath_m'",
                                          "kilometres"]),
    ("battery_capacity_wh = 400", "battery_capacity_wh = -400",
     ["spacecraft.battery_capacity_wh", "must be > 0"]),
    ("memory_capacity_gbit = 256", "memory_capacity_gbit = 0", ["spacecraft.memory_capacity_gbit"]),
    ("battery_capacity_wh = 400", "battery_capacity_kwh = 0.4",
     ["battery_capacity_wh", "missing", "battery_capacity_kwh"]),
    ("downlink_rate_mbps = 200", "downlink_rate_mbps = 200\ndownlink_rate_gbps = 1",
     ["spacecraft.downlink_rate_gbps", "unknown key", "did you mean 'downlink_rate_mbps'"]),
    ('use = ["Hsinchu", "Svalbard"]', 'use = ["Hsinchu", "Atlantis"]',
     ["stations.use", "unknown station 'Atlantis'"]),
    ('model = "rate_acceleration"', 'model = "magic"',
     ["spacecraft.agility.model", "unknown agility model", "piecewise, rate_acceleration"]),
    ('model = "rate_acceleration"', 'model = "rate_accel"', ["spacecraft.agility.model", "unknown"]),
    ("accel_deg_s2 = 0.5", "", ["spacecraft.agility.accel_deg_s2", "missing"]),
    ("rate_deg_s = 1.0", "max_rate_deg_s = 1.0",
     ["spacecraft.agility.rate_deg_s", "missing", "found 'max_rate_deg_s'"]),
    ("accel_deg_s2 = 0.5", "accel_deg_s2 = -0.5", ["spacecraft.agility.accel_deg_s2", "must be > 0"]),
    ('model = "rate_acceleration"', 'model = "piecewise"',
     ["spacecraft.agility.rate_deg_s", "unknown key", "takes no parameters"]),
    ("downlink = 150", "downlink = 50", ["spacecraft.loads_w.downlink", "below idle 80 W"]),
    ("slew = 120", "", ["spacecraft.loads_w.slew", "missing"]),
    ("slew = 120", "slew = 120\nsafe = 30", ["spacecraft.loads_w.safe", "unknown key"]),
    ("duration_h = 6", "duration_h = 6\nend = 2026-11-27T00:00:00Z", ["window", "exactly one"]),
    ("duration_h = 6", "duration_h = 0", ["window.duration_h", "must be > 0"]),
    ("step_s = 30", "step_s = true", ["window.step_s", "must be a number of seconds"]),
    ("start = 2026-11-26T00:00:00Z", 'start = "yesterday"', ["window.start", "not an ISO 8601"]),
    ('file = "targets.csv"', 'file = "bundled:mars"', ["targets.file", "unknown bundled target set"]),
    ("first_norad_id = 92001", "first_norad_id = 91001", ["satellites", "NORAD id 91001 appears twice"]),
    ("total = 6", "total = 7", ["satellites[1]", "multiple of P"]),
    ('kind = "walker"', 'kind = "magic"', ["satellites[1].kind", "unknown kind"]),
    ("ltan_h = 13.5", "ltan_h = 13.5\nltdn_h = 1.5", ["satellites[0]", "exactly one of ltdn_h and ltan_h"]),
    ("ltan_h = 13.5", "ltan_h = 25", ["satellites[0].ltan_h", "must be < 24"]),
    ("image_volume_gbit = 6\nimage_duration_s = 10", "image_volume_gbit = 6",
     ["spacecraft.image_duration_s", "missing"]),
    ("image_volume_gbit = 6\nimage_duration_s = 10", "",
     ["spacecraft", "exactly one of image_data_rate_gbit_s and image_volume_gbit"]),
    ("field_of_regard_deg = 30", "field_of_regard_deg = 95",
     ["spacecraft.field_of_regard_deg", "must be < 90"]),
    ("latitude_deg = 67.86", "latitude_deg = 167.86", ["stations.station[0]", "latitude 167.86"]),
    ("[window]", "[windw]\nx = 1\n[window]", ["windw", "unknown key", "did you mean 'window'"]),
    ("[window]", "[window\n", ["TOML syntax"]),
]


@pytest.mark.parametrize("old,new,pieces", BAD, ids=[b[1].split("\n")[0][:30] for b in BAD])
def test_bad_scenarios_name_file_key_and_problem(tmp_path, old, new, pieces):
    text = textwrap.dedent(GOOD)
    assert old in text
    p = _write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    message = str(info.value)
    assert message.startswith(f"{p}: "), message
    for piece in pieces:
        assert piece in message, message
    assert isinstance(info.value, SimulationError) and isinstance(info.value, ValueError)


def test_missing_sections_and_files(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")
    text = textwrap.dedent(GOOD)

    def cut(section):
        """Drop the section header and its keys up to the next header."""
        head, _, rest = text.partition(section)
        body = rest.split("\n[", 1)
        return head + ("\n[" + body[1] if len(body) > 1 else "")
    with pytest.raises(ScenarioError, match=r"window: missing \(table"):
        parse_scenario(cut("[window]"), source="x.toml")
    # [spacecraft.agility] is optional: the planner's default, the piecewise model
    from groundseg.planning.agility import PiecewiseAgility
    s = parse_scenario(cut("[spacecraft.agility]"), source="x.toml", base_dir=tmp_path)
    assert isinstance(s.spacecraft.agility, PiecewiseAgility)
    with pytest.raises(ScenarioError, match=r"satellites\[0\]\.path: file .* does not exist"):
        parse_scenario(text.replace('kind = "sso"', 'kind = "file"\npath = "none.tle"', 1)
                       .replace("count = 4\n", "", 1), source="x.toml", base_dir=tmp_path)


def test_targets_resolve_lazily(tmp_path, monkeypatch):
    s = parse_scenario(textwrap.dedent(GOOD).replace('file = "targets.csv"', 'file = "bundled:taiwan"'),
                       source="x.toml", base_dir=tmp_path)
    monkeypatch.setitem(sc.BUNDLED_TARGETS, "taiwan", "no_such_target_file_stem")
    with pytest.raises(ScenarioError, match="bundled target set 'taiwan'.*is not installed"):
        s.targets.path()
    s2 = parse_scenario(textwrap.dedent(GOOD), source="x.toml", base_dir=tmp_path)
    with pytest.raises(ScenarioError, match="target file .* does not exist"):
        s2.targets.path()


def test_targets_load_with_scenario_defaults(tmp_path):
    (tmp_path / "targets.csv").write_text(
        "id,latitude_deg,longitude_deg,altitude_m,max_off_nadir_deg\nA,24,121,0,\nB,23,120,0,20\n")
    s = load_scenario(_write(tmp_path, GOOD))
    t = s.load_targets()
    assert len(t) == 2
    (tmp_path / "targets.csv").write_text("id,latitude_deg,longitude_deg,altitude_m\nA,124,121,0\n")
    with pytest.raises(ScenarioError, match="targets.file: .*targets.csv:2"):
        s.load_targets()
    try:
        s.targets.__class__("bundled:taiwan", tmp_path, "x").path()
    except ScenarioError:
        pytest.skip("the bundled Taiwan target set is not installed yet")
    assert len(bundled_scenario().load_targets()) > 5


def test_cli_scenario(tmp_path, capsys):
    assert main(["scenario"]) == 0
    out = capsys.readouterr().out
    assert "FORMOSAT-8-like" in out and "Svalbard" in out and "FS8-8" in out
    assert main(["scenario", "--format", "json"]) == 0
    assert '"battery_capacity_wh": 500.0' in capsys.readouterr().out
    p = _write(tmp_path, textwrap.dedent(GOOD).replace("swath_km = 12", "swath_km = -1"))
    assert main(["scenario", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "spacecraft.swath_km" in err[0] and "Traceback" not in err[0]
