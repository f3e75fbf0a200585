"""One base error: every package's errors derive from GroundsegError, and public entry points
raise it (never a bare ValueError / TypeError / IndexError / RecursionError / MemoryError) on
bad input, so the command line turns each into one line and exit status 2."""
import dataclasses

import pytest

from groundseg import catalog
from groundseg.contacts import plan_contacts
from groundseg.errors import CatalogError, GroundsegError, StationError, TimeError
from groundseg.mission_plan import MissionInputs, plan_mission
from groundseg.orbits import Constellation
from groundseg.passes import predict_passes
from groundseg.planning.errors import PlanningError
from groundseg.stations import bundled_stations, parse_stations_toml
from groundseg.targets import TargetDefaults, TargetError, bundled_targets, parse_targets_geojson
from groundseg.targets import Targets
from groundseg.timegrid import TimeGrid, format_utc, parse_utc
from sims.errors import ScenarioError, SimulationError
from sims.scenario import bundled_scenario, bundled_scenario_path, parse_scenario
from telemetry.errors import ArchiveError, DictionaryError, PacketError, StreamError, TelemetryError

START = "2026-11-26T00:00:00Z"
DAY = "2026-11-27T00:00:00Z"
DEEP = 100_000


def test_every_package_error_is_a_groundseg_error():
    for cls in (CatalogError, TimeError, StationError, TargetError, PlanningError,
                TelemetryError, DictionaryError, PacketError, StreamError, ArchiveError,
                SimulationError, ScenarioError):
        assert issubclass(cls, GroundsegError) and issubclass(cls, ValueError), cls


@pytest.fixture(scope="module")
def small():
    """One satellite, one station, two hours: an ephemeris and its passes."""
    c = Constellation.formosat8(START).subset(["FS8-1"])
    stations = bundled_stations()[:1]
    eph = c.propagate(TimeGrid.range(START, "2026-11-26T02:00:00Z", 60.0))
    return c, stations, eph, predict_passes(c, stations, START, "2026-11-26T12:00:00Z")


def _scenario_text(old, new):
    text = bundled_scenario_path().read_text()
    assert old in text
    return text.replace(old, new)


BAD_INPUT = {
    "time None": lambda s: parse_utc(None),
    "time number": lambda s: parse_utc(5),
    "grid step too small for memory": lambda s: TimeGrid.range(START, DAY, 1e-9),
    "grid step infinite": lambda s: TimeGrid.range(START, DAY, float("inf")),
    "grid step text": lambda s: TimeGrid.range(START, DAY, "60"),
    "seconds text": lambda s: TimeGrid.from_seconds(START, ["a"]),
    "julian date text": lambda s: TimeGrid.from_jd("x"),
    "format text": lambda s: format_utc("x"),
    "catalog not text": lambda s: catalog.parse_catalog(5),
    "catalog format": lambda s: catalog.parse_catalog("x", fmt="nope"),
    "omm format": lambda s: catalog.format_omm([], fmt="nope"),
    "walker past the NORAD ids": lambda s: Constellation.walker(53, 10**11, 1, 0, 550, START),
    "records not records": lambda s: Constellation.from_records([1]),
    "minutes text": lambda s: s[0].propagate(minutes_since_epoch=["x"]),
    "interpolate satellite": lambda s: s[2].interpolate([1.0], satellites=[5]),
    "interpolate text": lambda s: s[2].interpolate(["x"]),
    "geojson nested": lambda s: parse_targets_geojson("[" * DEEP + "]" * DEEP),
    "stations toml nested": lambda s: parse_stations_toml("a = " + "[" * DEEP + "]" * DEEP),
    "scenario toml nested": lambda s: parse_scenario("a = " + "[" * DEEP + "]" * DEEP),
    "scenario window of 1e300 h": lambda s: parse_scenario(
        _scenario_text("duration_h = 24.0", "duration_h = 1e300"), source="s.toml",
        base_dir=bundled_scenario_path().parent),
    "target latitude text": lambda s: Targets.from_points(["a"], ["x"], [0.0]),
    "target index": lambda s: bundled_targets().take([9999]),
    "strips index": lambda s: bundled_targets().strips(9999, 0.0, 10.0),
    "target default text": lambda s: TargetDefaults(priority="x"),
    "contacts duration text": lambda s: plan_contacts(s[3], s[1], min_duration_s="x"),
    "contacts default priority": lambda s: plan_contacts(s[3], s[1], default_priority="x"),
    "contacts priority overflow": lambda s: plan_contacts(s[3], s[1], priorities={"FS8-1": 10**20}),
    "spacecraft text": lambda s: dataclasses.replace(bundled_scenario().spacecraft,
                                                     field_of_regard_deg="x"),
    "spacecraft loads": lambda s: dataclasses.replace(bundled_scenario().spacecraft, loads_w=None),
    "pipeline time limit": lambda s: plan_mission(
        MissionInputs(s[0], bundled_targets(), s[1], None, None, START, DAY), time_limit_s="1"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_raises_a_groundseg_error(case, small):
    with pytest.raises(GroundsegError):
        BAD_INPUT[case](small)
