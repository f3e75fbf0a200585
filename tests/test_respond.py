"""Disaster-response options against independent computations.

Each option is rechecked: the acquisition starts after the satellite's first command uplink
(from the contact table), SAR scenes are inside the mode's incidence band and optical ones in
daylight (skyfield geometry, astropy's Sun), the delivery is what a step-by-step first-in
first-out simulation of the on-board memory over the contacts gives, the covered fraction is
a Monte Carlo estimate's. A request at night over a cloudy area is served by SAR first.
"""
import json
import subprocess
import sys

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import AltAz, EarthLocation, get_sun
from astropy.time import Time
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import itrs as sf_itrs

from dataclasses import replace

from groundseg.cli import main
from groundseg.contacts import plan_contacts
from groundseg.fleet import Fleet
from groundseg.passes import passes_from_ephemeris
from groundseg.response import (OPTION_COLUMNS, OnBoardData, ResponseError, ResponseSettings,
                                onboard_from_plan, response_options)
from groundseg.targets import Targets, parse_targets_geojson
from groundseg.timegrid import TimeGrid, parse_utc, timescale
from sims.planning_inputs import fleet as scenario_fleet
from sims.scenario import bundled_scenario

AT = "2026-11-26T02:00:00Z"
HUALIEN = {"type": "Feature", "properties": {"id": "hualien", "max_off_nadir_deg": 45,
                                             "min_sun_elevation_deg": 10},
           "geometry": {"type": "Polygon", "coordinates": [[[121.45, 23.85], [121.75, 23.85],
                                                            [121.75, 24.15], [121.45, 24.15],
                                                            [121.45, 23.85]]]}}


@pytest.fixture(scope="module")
def scenario():
    return bundled_scenario("formosat8_sar")


@pytest.fixture(scope="module")
def fleet(scenario):
    return scenario_fleet(scenario)


@pytest.fixture(scope="module")
def aoi():
    return parse_targets_geojson(json.dumps(HUALIEN))


def _seconds(iso, at=AT):
    return float((parse_utc(iso)[0] - parse_utc(at)[0]) / np.timedelta64(1, "ns")) / 1e9


def _plan(at=AT):
    """A current plan with data on board of FS8-7 (the fastest satellite) and FS8-6."""
    return {"acquisitions": [
        {"satellite": "FS8-7", "start_utc": "2026-11-26T01:00:00Z", "end_utc": "2026-11-26T01:00:10Z",
         "data_gbit": 400.0},
        {"satellite": "FS8-7", "start_utc": "2026-11-26T02:41:00Z", "end_utc": "2026-11-26T02:41:05Z",
         "data_gbit": 30.0},
        {"satellite": "FS8-6", "start_utc": "2026-11-26T01:30:00Z", "end_utc": "2026-11-26T01:30:10Z",
         "data_gbit": 60.0}],
        "downlinks": [
        {"satellite": "FS8-6", "start_utc": "2026-11-26T01:40:00Z", "end_utc": "2026-11-26T01:50:00Z",
         "drain_stop_utc": "2026-11-26T01:41:40Z", "data_gbit": 30.0},
        {"satellite": "FS8-7", "start_utc": "2026-11-26T01:55:00Z", "end_utc": "2026-11-26T02:05:00Z",
         "drain_stop_utc": "2026-11-26T02:05:00Z", "data_gbit": 100.0}]}


def test_onboard_from_plan(fleet):
    names = fleet.constellation.names
    ob = onboard_from_plan(_plan(), AT, names, np.full(len(names), 5.0))
    i7, i6 = names.index("FS8-7"), names.index("FS8-6")
    # FS8-7: 5 + 400 recorded, half of a 100 Gbit downlink done at the request; 30 to come
    assert ob.backlog_gbit[i7] == pytest.approx(5 + 400 - 50)
    assert ob.backlog_gbit[i6] == pytest.approx(5 + 60 - 30)
    np.testing.assert_allclose(ob.items[i7][2], [30.0])
    np.testing.assert_allclose(ob.items[i7][0], [_seconds("2026-11-26T02:41:00Z")])
    bad = _plan()
    bad["acquisitions"][0]["satellite"] = "NOPE-1"
    with pytest.raises(ResponseError, match=r"acquisitions\[0\]\.satellite"):
        onboard_from_plan(bad, AT, names, np.zeros(len(names)))
    bad = _plan()
    bad["downlinks"][1]["data_gbit"] = float("nan")
    with pytest.raises(ResponseError, match="data_gbit"):
        onboard_from_plan(bad, AT, names, np.zeros(len(names)))


def _fifo_delivery(span, rates, ready, volume, ours, dt=0.25):
    """Step-by-step memory: in a contact, drain ``rate dt`` from the oldest ready data; the
    contact in which item ``ours`` is gone. Returns that contact's end (s)."""
    left = np.array(volume, dtype=float)
    order = np.argsort(ready, kind="stable")
    for (c0, c1), rate in zip(span, rates):
        for t in np.arange(c0, c1, dt):
            budget = rate * min(dt, c1 - t)
            for i in order:
                if budget <= 0:
                    break
                if ready[i] <= t and left[i] > 0:
                    take = min(left[i], budget)
                    left[i] -= take
                    budget -= take
            if left[ours] <= 1e-9:
                return c1
    return np.inf


def _skyfield_state(constellation, sat, seconds, at=AT):
    ts = timescale()
    t0 = parse_utc(at)[0].astype("datetime64[s]").astype(object)
    t = ts.utc(t0.year, t0.month, t0.day, t0.hour, t0.minute, t0.second + np.atleast_1d(seconds))
    pos, vel = EarthSatellite.from_satrec(constellation.satrecs[sat], ts).at(t).frame_xyz_and_velocity(sf_itrs)
    return pos.km.T, vel.km_per_s.T


def test_options_against_independent_checks(scenario, fleet, aoi):
    names = fleet.constellation.names
    settings = ResponseSettings(horizon_h=36.0)
    initial = np.zeros(len(names))
    onboard = onboard_from_plan(_plan(), AT, names, initial)
    res = response_options(fleet, list(scenario.stations), aoi, AT, settings, onboard)
    t = res.table
    assert tuple(t.names) == OPTION_COLUMNS
    assert len(res) >= 6 and set(t["sensor"]) == {"optical", "sar"}
    assert np.all(np.diff(t["hours_to_delivery"]) >= 0)                     # sorted by delivery
    # one row per satellite and mode
    assert len({(a, b) for a, b in zip(t["satellite"], t["mode"])}) == len(res)

    # the same contact plan, and the command rule from it
    at = parse_utc(AT)[0]
    eph = fleet.constellation.propagate(TimeGrid.range(at, at + np.timedelta64(36 * 3600, "s"), 60.0))
    contacts = plan_contacts(passes_from_ephemeris(eph, list(scenario.stations)),
                             list(scenario.stations), satellite_exclusive=True)
    p = contacts.passes
    lat, lon = aoi.latitude_deg[0], aoi.longitude_deg[0]
    target = wgs84.latlon(lat, lon).itrs_xyz.km
    la, lo = np.radians(lat), np.radians(lon)
    normal = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    where = EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, 0 * u.m)
    modes = {m.name: m for m in scenario.sar.sensor.modes}
    for i in range(len(res)):
        s = names.index(t["satellite"][i])
        k = np.flatnonzero(contacts.scheduled & (p.satellite_index == s))
        aos = (p.aos_utc[k] - at) / np.timedelta64(1, "s")
        los = (p.los_utc[k] - at) / np.timedelta64(1, "s")
        ready = 1800.0
        first = np.flatnonzero(los - np.maximum(aos, ready) >= 60.0)[0]
        command = max(aos[first], ready) + 60.0
        t0, t1 = _seconds(t["start_utc"][i]), _seconds(t["end_utc"][i])
        assert t0 >= command - 1e-3, (t["satellite"][i], t0, command)
        r, v = _skyfield_state(fleet.constellation, s, [0.5 * (t0 + t1)])
        d = r[0] - target
        incidence = np.degrees(np.arccos(d @ normal / np.linalg.norm(d)))
        assert incidence == pytest.approx(t["incidence_deg"][i], abs=2e-3)
        when = Time(t["start_utc"][i], scale="utc")
        sun = get_sun(when).transform_to(AltAz(obstime=when, location=where)).alt.deg
        if t["sensor"][i] == "sar":
            m = modes[t["mode"][i]]
            assert m.incidence_min_deg - 1e-6 <= incidence <= m.incidence_max_deg + 1e-6
            side = np.sign(np.dot(-d, np.cross(v[0], r[0])))
            assert t["look_side"][i] == ("right" if side > 0 else "left")
            gbit = m.data_rate_gbit_s * (t1 - t0)
        else:
            assert sun >= 10.0 - 0.05 and t["look_side"][i] == ""            # daylight
            gbit = fleet.payload_of(s).spacecraft.image_data_rate_gbit_s * (t1 - t0)
        assert sun == pytest.approx(t["sun_elevation_deg"][i], abs=0.1)
        # delivery: a step-by-step FIFO over this satellite's contacts
        rate = np.array([min(300.0, scenario.station(str(p.station[j])).downlink_rate_mbps or 300.0)
                         for j in k]) / 1000.0
        a0, a1, vol = onboard.items[s]
        ready_s = np.concatenate([[0.0], a1, [t1]])
        volume = np.concatenate([[onboard.backlog_gbit[s]], vol, [gbit]])
        done = _fifo_delivery(np.stack([aos, los], -1), rate, ready_s, volume, ready_s.size - 1)
        assert _seconds(t["delivery_utc"][i]) == pytest.approx(done + 3600.0, abs=1e-3)
        assert str(p.station[k[np.flatnonzero(los == done)[0]]]) == t["first_downlink_station"][i]
    # the backlog delays FS8-7: without the plan its image comes down in the same pass
    fast = response_options(fleet, list(scenario.stations), aoi, AT, settings)
    row = lambda r: int(np.flatnonzero((r.table["satellite"] == "FS8-7") & (r.table["mode"] == "mono"))[0])
    assert fast.delivery_s[row(fast)] < res.delivery_s[row(res)]


def test_memory_and_cloud_and_night(scenario, fleet, aoi):
    stations = list(scenario.stations)
    # 5 Gbit of memory: a 6 Gbit optical image, a 12 Gbit spotlight or a 6 Gbit ScanSAR scene
    # never fits, a 3.6 Gbit stripmap scene does
    small = Fleet(fleet.constellation, [replace(p, spacecraft=replace(p.spacecraft, memory_capacity_gbit=5.0))
                                        for p in fleet.payloads])
    some = response_options(small, stations, aoi, AT, ResponseSettings(horizon_h=24.0))
    assert set(some.table["mode"]) == {"stripmap"} and some.infeasible["memory"] > 0
    assert "memory" in some.summary_lines()[-1]
    none = response_options(small, stations, aoi, AT, ResponseSettings(horizon_h=0.2))
    assert len(none) == 0 and none.summary_lines()[-1] == "no satellite can image it in the horizon"
    # at night over a cloudy area: radar first, optical left out
    night = "2026-11-26T13:00:00Z"                       # 21:00 in Taiwan
    cloudy = response_options(fleet, stations, aoi, night,
                              ResponseSettings(horizon_h=36.0, cloud_fraction=0.9))
    assert cloudy.table["sensor"][0] == "sar" and "optical" not in set(cloudy.table["sensor"])
    assert cloudy.dropped_optical > 0
    text = "\n".join(cloudy.summary_lines())
    assert "fastest: TSAR" in text and "optical: no option" in text and "0.90 > 0.70" in text
    # clear sky: the optical images come the next morning, after the radar's
    clear = response_options(fleet, stations, aoi, night, ResponseSettings(horizon_h=36.0))
    sar, opt = clear.best("sar"), clear.best("optical")
    assert clear.table["sensor"][0] == "sar" and clear.delivery_s[sar] < clear.delivery_s[opt]
    # half cloudy: the optical options stay, their expected coverage halves
    half = response_options(fleet, stations, aoi, night,
                            ResponseSettings(horizon_h=36.0, cloud_fraction=0.5))
    optical = clear.table["sensor"] == "optical"
    assert np.array_equal(half.table["satellite"], clear.table["satellite"])
    np.testing.assert_allclose(half.table["coverage_fraction"][optical],
                               0.5 * clear.table["coverage_fraction"][optical])
    np.testing.assert_allclose(half.table["coverage_fraction"][~optical],
                               clear.table["coverage_fraction"][~optical])


def test_coverage_against_monte_carlo(aoi, rng):
    """The scene's part of the area (GEOS on the equal-area plane) against sampling: points
    uniform on the sphere inside the area, turned into the scene's frame."""
    for heading, swath, length in ((0.0, 10.0, 70.0), (37.0, 30.0, 30.0), (-80.0, 5.0, 5.0),
                                   (15.0, 100.0, 100.0)):
        got = aoi.scene_fraction(0, heading, swath, length)
        lat0, lon0 = np.radians(aoi.latitude_deg[0]), np.radians(aoi.longitude_deg[0])
        # the square 121.45..121.75 E, 23.85..24.15 N sampled on the sphere, then rotated into
        # the scene frame (small-area approximation far below the tolerance)
        n = 200_000
        lon = np.radians(rng.uniform(121.45, 121.75, n))
        lat = np.arcsin(rng.uniform(np.sin(np.radians(23.85)), np.sin(np.radians(24.15)), n))
        east = 6371.0 * np.cos(lat) * np.sin(lon - lon0)
        north = 6371.0 * (np.sin(lat) * np.cos(lat0) - np.cos(lat) * np.sin(lat0) * np.cos(lon - lon0))
        h = np.radians(heading)
        along = east * np.sin(h) + north * np.cos(h)
        across = east * np.cos(h) - north * np.sin(h)
        inside = (np.abs(along) <= length / 2) & (np.abs(across) <= swath / 2)
        assert got == pytest.approx(inside.mean(), abs=0.01), (heading, swath, length)
    point = Targets.from_points(["p"], [24.0], [121.6])
    assert point.scene_fraction(0, 10.0, 5.0, 5.0) == 1.0


def _cli(args, tmp_path):
    return subprocess.run([sys.executable, "-m", "groundseg.cli", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=600)


def test_cli_respond(tmp_path, capsys, monkeypatch, scenario):
    from groundseg.mission_plan import plan_mission
    from sims.planning_inputs import plan_inputs
    (tmp_path / "aoi.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [HUALIEN]}))
    plan_mission(plan_inputs(scenario), time_limit_s=1.0, method="greedy").plan.to_json(tmp_path / "plan.json")
    r = _cli(["respond", "--aoi", "aoi.geojson", "--at", AT, "--plan", "plan.json", "--cloud", "0.3",
              "--horizon-h", "24", "--output", "out"], tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "out" / "options.csv").read_text().splitlines()
    assert lines[0] == ",".join(OPTION_COLUMNS) and len(lines) > 3
    assert r.stdout.startswith("request 2026-11-26T02:00:00.000Z: hualien") and "fastest:" in r.stdout
    assert "re-plan: " in r.stdout and "verify_plan: ok" in r.stdout
    changes = (tmp_path / "out" / "changes.csv").read_text().splitlines()
    assert changes[0] == "task,action,old_start_utc,new_start_utc,reason"
    assert sum(line.split(",")[1] == "added" for line in changes[1:]) >= 1
    new = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert any(a["target_group"] == "urgent:hualien" for a in new["acquisitions"])   # a target is called hualien
    (tmp_path / "other.json").write_text(json.dumps(_plan()))
    (tmp_path / "two.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        HUALIEN, dict(HUALIEN, properties={"id": "other"})]}))
    (tmp_path / "bad.json").write_text("{not json")
    monkeypatch.chdir(tmp_path)
    for args, message in (
            (["--aoi", "aoi.geojson", "--at", "yesterday"], "request time"),
            (["--aoi", "aoi.geojson", "--at", AT, "--cloud", "1.5"], "cloud fraction"),
            (["--aoi", "two.geojson", "--at", AT], "one Point or Polygon"),
            (["--aoi", "aoi.geojson", "--at", AT, "--plan", "bad.json"], "invalid JSON"),
            (["--aoi", "aoi.geojson", "--at", AT, "--plan", "other.json"],
             "other.json: acquisitions[0]"),
            (["--aoi", "missing.geojson", "--at", AT], "missing.geojson")):
        assert main(["respond", *args, "--horizon-h", "1", "--output", "o2"]) == 2, args
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, (args, err)


def test_hostile_plan_json(fleet, rng):
    """Mangled plan.json: one ResponseError naming the place, never another exception."""
    names = fleet.constellation.names
    junk = [None, 3, -1.5, "x", "2026-13-45T00:00:00Z", [], {}, float("inf"), True, "FS8-7", 1e300]
    for _ in range(300):
        plan = json.loads(json.dumps(_plan()))
        for _ in range(int(rng.integers(1, 4))):
            section = plan[str(rng.choice(["acquisitions", "downlinks"]))]
            row = section[int(rng.integers(len(section)))]
            key = str(rng.choice(["satellite", "start_utc", "end_utc", "drain_stop_utc", "data_gbit"]))
            if rng.random() < 0.2:
                row.pop(key, None)
            else:
                row[key] = junk[int(rng.integers(len(junk)))]
        if rng.random() < 0.1:
            plan["acquisitions"] = "all of them"
        try:
            onboard_from_plan(plan, AT, names, np.zeros(len(names)))
        except ResponseError as exc:
            assert str(exc).startswith("plan.json: ") and "\n" not in str(exc)
