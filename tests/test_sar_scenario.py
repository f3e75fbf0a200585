"""The scenario's SAR section: the bundled optical + SAR example, and one-line errors."""
import re
import textwrap

import numpy as np
import pytest

from groundseg.sar import SarSensor
from sims.errors import ScenarioError
from sims.planning_inputs import fleet
from sims.scenario import bundled_scenario, bundled_scenario_path, parse_scenario

BASE = textwrap.dedent("""
    [window]
    start = 2026-11-26T00:00:00Z
    duration_h = 6
    step_s = 30

    [[satellites]]
    kind = "sso"
    count = 2
    altitude_km = 600
    ltan_h = 10.5
    first_norad_id = 91001

    [[satellites]]
    kind = "sso"
    count = 2
    altitude_km = 560
    ltan_h = 18
    first_norad_id = 92001
    name_prefix = "RADAR"
    sensor = "sar"

    [stations]
    bundled = true

    [spacecraft]
    swath_km = 12
    field_of_regard_deg = 30
    memory_capacity_gbit = 256
    image_data_rate_gbit_s = 0.6
    downlink_rate_mbps = 200
    solar_array_power_w = 250
    battery_capacity_wh = 400
    [spacecraft.loads_w]
    idle = 80
    imaging = 200
    downlink = 150
    slew = 120

    [sar]
    max_radar_on_s_per_orbit = 120
    radar_energy_wh_per_orbit = 40
    memory_capacity_gbit = 128
    downlink_rate_mbps = 150
    [sar.modes.spotlight]
    incidence_min_deg = 22
    [sar.modes.wide]
    swath_km = 200
    scene_length_km = 200
    scene_duration_s = 28
    resolution_m = 30
    incidence_min_deg = 25
    incidence_max_deg = 50
    max_squint_deg = 1
    data_rate_gbit_s = 0.3
    radar_power_w = 900
""")


def test_bundled_optical_and_sar():
    s = bundled_scenario("formosat8_sar")
    kinds = s.satellite_sensors
    assert kinds.count("optical") == 8 and kinds.count("sar") == 4
    assert [n for n, k in zip(s.constellation.names, kinds) if k == "sar"] == \
        ["TSAR-A-1", "TSAR-A-2", "TSAR-B-1", "TSAR-B-2"]
    assert isinstance(s.sar.sensor, SarSensor) and s.sar.sensor.look_side == "both"
    # two dawn-dusk planes at ~560 km: the ascending node 6 h of local time from the Sun's
    # meridian, the planes' nodes 180 deg apart
    rec = [s.constellation.records[i] for i in range(8, 12)]
    raan = np.degrees([r.satrec.nodeo for r in rec])
    assert abs(((raan[2] - raan[0]) % 360) - 180) < 1e-6 and raan[0] == pytest.approx(raan[1])
    f = fleet(s)
    assert [p.kind for p in f.payloads] == ["optical", "sar"]
    assert f.payload_of(9).spacecraft.memory_capacity_gbit == 256.0
    assert f.payload_of(9).spacecraft.agility.rate_deg_s == 1.0
    assert s.to_dict()["sar"]["modes"]["spotlight"]["incidence_max_deg"] == 35.0
    # every number of the file says where it comes from
    lines = bundled_scenario_path("formosat8_sar").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*(\w+)\s*=\s*([-0-9.\[]|20\d\d-)", line):
            assert "#" in line or lines[i - 1].lstrip().startswith("#"), f"line {i + 1}: {line}"
    assert "THE SAR PART IS AN ASSUMPTION" in "\n".join(lines)


def test_custom_sar_section():
    s = parse_scenario(BASE)
    assert s.satellite_sensors == ("optical", "optical", "sar", "sar")
    sensor = s.sar.sensor
    assert sensor.mode("spotlight").incidence_min_deg == 22.0
    assert sensor.mode("spotlight").incidence_max_deg == 35.0          # the rest kept
    assert sensor.mode("wide").swath_km == 200.0 and sensor.max_radar_on_s_per_orbit == 120.0
    assert s.sar.agility is s.spacecraft.agility                          # default: the optical one
    assert s.to_dict()["satellite_groups"][1]["sensor"] == "sar"


@pytest.mark.parametrize("edit,message", [
    (lambda t: t.split("[sar]")[0], "sar: missing table"),
    (lambda t: t.replace('sensor = "sar"', 'sensor = "lidar"'), "satellites[1].sensor: unknown sensor"),
    (lambda t: t.replace('sensor = "sar"', ''), 'sar: no satellite group has sensor = "sar"'),
    (lambda t: t.replace("incidence_min_deg = 22", "incidence_min_deg = 40"), "sar.modes.spotlight: "),
    (lambda t: t.replace("resolution_m = 30\n", ""), "sar.modes.wide.resolution_m: missing"),
    (lambda t: t.replace("max_radar_on_s_per_orbit = 120", "max_radar_on_s_per_orbit = -1"),
     "sar.max_radar_on_s_per_orbit"),
    (lambda t: t.replace("[sar]\n", "[sar]\nlook_side = \"up\"\n"), "look side"),
    (lambda t: t.replace("[sar]\n", "[sar]\npoint_mode = \"x\"\n"), "unknown SAR mode"),
    (lambda t: t.replace("[sar]\n", "[sar]\nduty = 3\n"), "sar.duty: unknown key"),
])
def test_sar_section_errors(edit, message):
    with pytest.raises(ScenarioError, match=re.escape(message)):
        parse_scenario(edit(BASE), source="s.toml")
