"""Faults and telemetry in scenarios: parsed with their defaults, bad ones rejected clearly;
fault effects on the housekeeping values."""
import textwrap

import numpy as np
import pytest

from sims.faults import Fault
from sims.housekeeping import apply_faults
from sims.scenario import ScenarioError, parse_scenario

BASE = textwrap.dedent("""
    [window]
    start = 2026-11-26T00:00:00Z
    duration_h = 2
    step_s = 10

    [[satellites]]
    kind = "sso"
    count = 3
    altitude_km = 561
    ltdn_h = 10.5
    first_norad_id = 95001

    [stations]
    bundled = true

    [spacecraft]
    swath_km = 10
    field_of_regard_deg = 45
    memory_capacity_gbit = 100
    image_data_rate_gbit_s = 0.6
    downlink_rate_mbps = 300
    solar_array_power_w = 300
    battery_capacity_wh = 500
    [spacecraft.loads_w]
    idle = 80
    imaging = 170
    downlink = 130
    slew = 110

    [telemetry]
    hk_period_s = 30

    [[faults]]
    kind = "wheel_overspeed"
    satellite = "SSO-2"
    start_s = 600
    duration_s = 300
    wheel = 4

    [[faults]]
    kind = "battery_cell_drop"
    satellite = 95003
    start = 2026-11-26T01:00:00Z

    [[faults]]
    kind = "stuck_temperature"
    satellite = "SSO-1"
    start_s = 0
""")


def _parse(text):
    return parse_scenario(text, source="f.toml")


def test_faults_and_telemetry_parse_with_defaults():
    s = _parse(BASE)
    assert s.hk_period_s == 30.0 and s.telemetry.seed == 0
    w, c, t = s.faults
    assert (w.kind, w.satellite, w.satellite_index, w.start_s, w.end_s) == ("wheel_overspeed", "SSO-2", 1, 600.0, 900.0)
    assert w.parameters == {"wheel": 4, "speed_rpm": 7000.0, "ramp_s": 60.0} and w.parameter == "rw4_speed"
    assert (c.satellite, c.start_s, c.end_s, c.parameters) == ("SSO-3", 3600.0, None, {"cells_lost": 1})
    assert c.parameter == "battery_voltage"
    assert t.parameter == "battery_temp" and t.start_s == 0.0
    assert s.to_dict()["faults"][0]["parameter"] == "rw4_speed"
    # without [telemetry] the housekeeping period is the step
    no_tm = BASE.replace("[telemetry]\nhk_period_s = 30\n", "")
    assert _parse(no_tm).hk_period_s == 10.0 and _parse(no_tm).telemetry is None


BAD = [
    ('satellite = "SSO-2"', 'satellite = "SSO-9"', ["faults[0].satellite", "unknown satellite 'SSO-9'", "SSO-1"]),
    ("satellite = 95003", "satellite = 95009", ["faults[1].satellite", "unknown satellite 95009"]),
    ('satellite = "SSO-2"', "satellite = 2.5", ["faults[0].satellite", "must be a satellite name or NORAD id"]),
    ('satellite = "SSO-2"\n', "", ["faults[0].satellite", "missing"]),
    ("start_s = 600", "start_s = -5", ["faults[0].start_s", "-5 s is outside the window"]),
    ("start_s = 600", "start_s = 7200", ["faults[0].start_s", "outside the window"]),
    ("start = 2026-11-26T01:00:00Z", "start = 2026-11-25T23:00:00Z",
     ["faults[1].start", "2026-11-25T23:00:00.000Z is outside the window"]),
    ("start_s = 600", "start_s = 600\nstart = 2026-11-26T01:00:00Z", ["faults[0]", "exactly one of start"]),
    ("start_s = 600\n", "", ["faults[0]", "exactly one of start"]),
    ("start_s = 600", 'start_s = "10 min"', ["faults[0].start_s", "must be a number of seconds"]),
    ("duration_s = 300", "duration_s = 0", ["faults[0].duration_s", "must be > 0"]),
    ('kind = "wheel_overspeed"', 'kind = "meteor"', ["faults[0].kind", "unknown fault kind 'meteor'",
                                                    "battery_cell_drop, wheel_overspeed, stuck_temperature"]),
    ("wheel = 4", "wheel = 5", ["faults[0].wheel", "must be 1..4"]),
    ("wheel = 4", "wheel = 0", ["faults[0].wheel", "must be >= 1"]),
    ("wheel = 4", "wheels = 4", ["faults[0].wheels", "unknown key", "did you mean 'wheel'"]),
    ("start = 2026-11-26T01:00:00Z", "start = 2026-11-26T01:00:00Z\ncells_lost = 8",
     ["faults[1].cells_lost", "must be < 8"]),
    ("start = 2026-11-26T01:00:00Z", "start = 2026-11-26T01:00:00Z\nwheel = 2",
     ["faults[1].wheel", "unknown key"]),
    ('satellite = "SSO-1"', 'satellite = "SSO-1"\nsensor = "star_tracker_temp"',
     ["faults[2].sensor", "unknown sensor 'star_tracker_temp'", "battery_temp"]),
    ("hk_period_s = 30", "hk_period_s = 25", ["telemetry.hk_period_s", "not a whole multiple of window.step_s 10"]),
    ("hk_period_s = 30", "hk_period_s = -30", ["telemetry.hk_period_s", "must be > 0"]),
    ("hk_period_s = 30", "hk_period_s = 30\nrate_hz = 1", ["telemetry.rate_hz", "unknown key"]),
    ("[[faults]]\nkind = \"wheel_overspeed\"", "[faults]\nkind = \"wheel_overspeed\"",
     ["faults", "must be an array of tables"]),
]


@pytest.mark.parametrize("old,new,pieces", BAD, ids=[b[1].split("\n")[0][:30] or "removed" for b in BAD])
def test_bad_faults_name_file_key_and_problem(old, new, pieces):
    assert old in BASE
    text = BASE.replace(old, new, 1)
    if new.startswith("[faults]"):
        text = text.split("[[faults]]\nkind = \"battery_cell_drop\"")[0]   # one table, no array
    with pytest.raises(ScenarioError) as info:
        _parse(text)
    message = str(info.value)
    assert message.startswith("f.toml: "), message
    for piece in pieces:
        assert piece in message, message


def test_fault_effects_on_housekeeping():
    t = np.arange(0.0, 1000.0, 10.0)
    n = t.size
    rng = np.random.default_rng(1)
    values = [{"battery_voltage": np.full(n, 32.0), "rw2_speed": 1500.0 + rng.normal(0, 2, n),
               "obc_temp": 20.0 + rng.normal(0, 0.03, n)}]
    faults = [Fault("battery_cell_drop", "A", 0, 300.0, 600.0, {"cells_lost": 2}),
              Fault("wheel_overspeed", "A", 0, 100.0, None, {"wheel": 2, "speed_rpm": -7000.0, "ramp_s": 100.0}),
              Fault("stuck_temperature", "A", 0, 500.0, 700.0, {"sensor": "obc_temp"})]
    v0 = {k: x.copy() for k, x in values[0].items()}
    apply_faults(values, faults, t)
    v = values[0]
    assert np.allclose(v["battery_voltage"][(t >= 300) & (t < 600)], 24.0)
    assert np.allclose(v["battery_voltage"][(t < 300) | (t >= 600)], 32.0)
    w = v["rw2_speed"]
    assert np.array_equal(w[t < 100], v0["rw2_speed"][t < 100])
    assert w[t == 150][0] == pytest.approx(0.5 * (v0["rw2_speed"][t == 100][0] - 7000.0))
    assert np.all(w[t >= 200] == -7000.0)
    stuck = v["obc_temp"][(t >= 500) & (t < 700)]
    assert np.all(stuck == v0["obc_temp"][t == 500][0])
    assert np.array_equal(v["obc_temp"][t >= 700], v0["obc_temp"][t >= 700])
