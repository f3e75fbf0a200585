"""Imaging plans checked by an independent checker.

The checker recomputes every acquisition with skyfield (satellite states from the TLEs,
target positions from wgs84) and astropy (the Sun): off-nadir within the target's limit,
the Sun above its minimum, nadir rotated by the reported roll / pitch points at the target.
It re-derives per-satellite non-overlap and slew times with its own piecewise formula,
memory bounds from the acquisitions and downlinks, and that every downlink lies inside a
real pass of that satellite over that station (skyfield elevation above the mask).
"""
import json

import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84

from groundseg import Constellation, bundled_stations
from groundseg.access import Sensor, find_opportunities
from groundseg.contacts import plan_contacts
from groundseg.passes import passes_from_ephemeris
from groundseg.errors import GroundsegError
from groundseg.planning import ImagingSpacecraft, PiecewiseLinear, plan_imaging, verify_plan
from groundseg.targets import bundled_targets, parse_targets_csv, parse_targets_geojson
from groundseg.timegrid import TimeGrid, parse_utc, timescale

from planning._brute import piecewise_s  # tests/ is on sys.path (conftest)

START, END = "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z"


def _seconds(iso):
    return (parse_utc(iso)[0] - parse_utc(START)[0]) / np.timedelta64(1, "s")


@pytest.fixture(scope="module")
def planned():
    c = Constellation.formosat8(START)
    targets = bundled_targets()
    stations = bundled_stations()
    eph = c.propagate(TimeGrid.range(START, END, 60.0))
    opp = find_opportunities(eph, targets, sensor=Sensor())
    contacts = plan_contacts(passes_from_ephemeris(eph, stations), stations, satellite_exclusive=True)
    sc = ImagingSpacecraft(memory_capacity_gbit=15.0)   # two scenes: memory binds
    result = plan_imaging(opp, contacts, spacecraft=sc, time_limit_s=60.0, method="lns", iterations=200)
    return c, targets, stations, opp, result, sc


def test_model_level_verifier_accepts_the_plan(planned):
    *_, result, _ = planned
    assert verify_plan(result.problem, result.plan) == []
    d = json.loads(result.to_json())
    assert d["acquisitions"] and d["downlinks"]
    assert 0 <= d["gap"] < 1 and d["objective"] <= d["upper_bound"] + 1e-9
    keys = ["satellite", "norad_id", "target", "start_utc", "end_utc", "roll_start_deg",
            "pitch_start_deg", "roll_end_deg", "pitch_end_deg", "off_nadir_deg",
            "sun_elevation_deg", "data_gbit", "weight"]
    assert list(d["acquisitions"][0])[:len(keys)] == keys
    assert list(d["downlinks"][0])[:6] == ["satellite", "norad_id", "station", "start_utc",
                                            "end_utc", "data_gbit"]
    assert all(set(u) >= {"target", "reason"} for u in d["unscheduled"])


def test_geometry_of_every_acquisition_with_skyfield_and_astropy(planned):
    from astropy import units as u
    from astropy.coordinates import AltAz, EarthLocation, get_sun
    from astropy.time import Time
    c, targets, stations, opp, result, sc = planned
    ts = timescale()
    sats = {r.name: EarthSatellite(*r.tle, r.name, ts) for r in c.records}
    acq = result.to_dict()["acquisitions"]
    oc = opp.columns
    worst_point = 0.0
    for a in acq:
        row = np.flatnonzero((oc["target"] == a["target"]) & (oc["satellite"] == a["satellite"]))
        assert row.size, a
        i_t = int(oc["target_index"][row[0]])
        limit = float(targets.max_off_nadir_deg[i_t])
        min_sun = float(targets.min_sun_elevation_deg[i_t])
        for when, roll, pitch, key in (("start_utc", a["roll_start_deg"], a["pitch_start_deg"], "start"),
                                       ("end_utc", a["roll_end_deg"], a["pitch_end_deg"], "end")):
            lat = float(oc[f"aim_{key}_latitude_deg"][row[0]])
            lon = float(oc[f"aim_{key}_longitude_deg"][row[0]])
            alt_m = float(targets.altitude_m[i_t])
            t = ts.utc(*_ymdhms(a[when]))
            sat = sats[a["satellite"]].at(t)
            r, v = sat.position.km, sat.velocity.km_per_s
            p = wgs84.latlon(lat, lon, alt_m).at(t).position.km
            los = (p - r) / np.linalg.norm(p - r)
            z = -r / np.linalg.norm(r)
            off = np.degrees(np.arccos(np.clip(los @ z, -1, 1)))
            assert off <= limit + 1e-3, (a, off)
            x = v - (v @ z) * z
            x /= np.linalg.norm(x)
            y = np.cross(z, x)
            ph, th = np.radians(roll), np.radians(pitch)
            boresight = (np.cos(ph) * np.sin(th)) * x + np.sin(ph) * y + (np.cos(ph) * np.cos(th)) * z
            err = np.degrees(np.arccos(np.clip(boresight @ los, -1, 1))) * 3600
            worst_point = max(worst_point, err)
            loc = EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, alt_m * u.m)
            at = Time(a[when].replace("Z", ""), scale="utc")
            sun_alt = get_sun(at).transform_to(AltAz(obstime=at, location=loc)).alt.deg
            assert sun_alt >= min_sun - 0.01, (a, sun_alt)
    assert worst_point < 5.0     # arcsec


def _ymdhms(iso):
    d = parse_utc(iso)[0].astype("datetime64[us]").item()
    return d.year, d.month, d.day, d.hour, d.minute, d.second + d.microsecond / 1e6


def test_slews_and_overlaps_per_satellite(planned):
    *_, result, _ = planned
    acq = result.to_dict()["acquisitions"]
    by_sat = {}
    for a in acq:
        by_sat.setdefault(a["satellite"], []).append(a)
    for items in by_sat.values():
        items.sort(key=lambda a: a["start_utc"])
        for prev, nxt in zip(items, items[1:]):
            g = abs(nxt["roll_start_deg"] - prev["roll_end_deg"]) + \
                abs(nxt["pitch_start_deg"] - prev["pitch_end_deg"])
            gap = _seconds(nxt["start_utc"]) - _seconds(prev["end_utc"])
            assert gap >= piecewise_s(g, 0.0) - 2e-3, (prev["target"], nxt["target"], gap, piecewise_s(g, 0.0))


def _service(t, windows):
    """Cumulative downlink capacity (Gbit) by time t: windows [(start, end, rate)]."""
    return sum(rate * min(max(t - t0, 0.0), t1 - t0) for t0, t1, rate in windows)


def test_memory_bounds_from_acquisitions_and_downlinks(planned):
    """Queue arithmetic: data can go down once its acquisition has ended; the most that can
    have gone down by t is D(t) = R(t) + min(0, min over ends tau <= t of A(tau-) - R(tau),
    A(t) - R(t)) (A: data of ended acquisitions, R: cumulative link capacity)."""
    *_, result, sc = planned
    d = result.to_dict()
    rate = {s.name: min(s.downlink_rate_mbps or sc.downlink_rate_mbps, sc.downlink_rate_mbps) / 1000
            for s in bundled_stations()}
    checked = 0
    for sat in {a["satellite"] for a in d["acquisitions"]}:
        acq = [(_seconds(a["start_utc"]), _seconds(a["end_utc"]), a["data_gbit"])
               for a in d["acquisitions"] if a["satellite"] == sat]
        dls = [(_seconds(x["start_utc"]), _seconds(x["end_utc"]), rate[x["station"]], x["data_gbit"])
               for x in d["downlinks"] if x["satellite"] == sat]
        windows = [(t0, t1, r) for t0, t1, r, _ in dls]
        ends = sorted(e for _, e, _ in acq)

        def arrived(t, strict=False):
            return sum(v for _, e, v in acq if (e < t if strict else e <= t + 1e-9))

        def most_drained(t):
            cands = [0.0, arrived(t) - _service(t, windows)]
            cands += [arrived(tau, strict=True) - _service(tau, windows) for tau in ends if tau <= t]
            return _service(t, windows) + min(cands)

        for s0, _, _ in acq:   # the level peaks right after a reservation
            reserved = sum(v for s, _, v in acq if s <= s0 + 1e-9)
            assert reserved - most_drained(s0) <= sc.memory_capacity_gbit + 1e-6, (sat, s0)
            checked += 1
        reported = 0.0
        rounding = 0.5e-6 * (len(acq) + len(dls))  # plan.json volumes have 6 decimals
        for t0, t1, r, v in sorted(dls):
            assert v <= r * (t1 - t0) + 1e-6
            reported += v
            assert reported <= most_drained(t1) + 1e-6 + rounding, (sat, t1)
    assert checked > 0


def test_downlinks_lie_inside_real_passes(planned):
    c, targets, stations, opp, result, sc = planned
    ts = timescale()
    sats = {r.name: EarthSatellite(*r.tle, r.name, ts) for r in c.records}
    st = {s.name: s for s in stations}
    for x in result.to_dict()["downlinks"]:
        s = st[x["station"]]
        site = wgs84.latlon(s.latitude_deg, s.longitude_deg, s.altitude_m)
        t0, t1 = _seconds(x["start_utc"]) + 0.01, _seconds(x["end_utc"]) - 0.01
        secs = np.linspace(t0, t1, 25)
        t = ts.utc(2026, 11, 26, 0, 0, secs)
        alt, az, _ = (sats[x["satellite"]] - site).at(t).altaz()
        required = np.full(secs.shape, s.min_elevation_deg)
        if s.mask:
            m = np.array(sorted(s.mask))
            xp = np.concatenate([m[-1:, 0] - 360, m[:, 0], m[:1, 0] + 360])
            fp = np.concatenate([m[-1:, 1], m[:, 1], m[:1, 1]])
            required = np.maximum(required, np.interp(az.degrees % 360, xp, fp))
        assert np.all(alt.degrees >= required - 1e-3), x


def test_memory_binds_in_the_fixture(planned):
    *_, result, sc = planned
    d = result.to_dict()
    peak = max(x["data_gbit"] for x in d["downlinks"])
    assert peak > sc.memory_capacity_gbit * 0.5
    assert any(u["reason"] == "memory" for u in d["unscheduled"]) or \
        sum(a["data_gbit"] for a in d["acquisitions"]) > sc.memory_capacity_gbit


def test_stereo_pairs_share_a_pass_and_look_both_ways():
    c = Constellation.formosat8(START)
    targets = parse_targets_csv(
        "id,latitude_deg,longitude_deg,altitude_m,priority,min_sun_elevation_deg,max_off_nadir_deg,mode\n"
        "yushan,23.47,120.96,3952,9,10,30,stereo\n"
        "taroko,24.16,121.62,500,8,10,30,stereo\n"
        "alishan,23.51,120.80,2200,7,10,30,stereo\n"
        "taipei,25.04,121.56,10,1,10,30,mono\n", "s.csv")
    eph = c.propagate(TimeGrid.range(START, END, 60.0))
    sc = ImagingSpacecraft()
    result = plan_imaging(find_opportunities(eph, targets), None, spacecraft=sc, time_limit_s=60.0,
                          iterations=300)
    assert verify_plan(result.problem, result.plan) == []
    acq = result.to_dict()["acquisitions"]
    parts = {}
    for a in acq:
        if a["part"] in ("fore", "aft"):
            parts.setdefault(a["target"], {})[a["part"]] = a
    assert len(parts) >= 2
    for name, pair in parts.items():
        assert set(pair) == {"fore", "aft"}, name        # all or nothing
        f, b = pair["fore"], pair["aft"]
        assert f["satellite"] == b["satellite"]
        assert abs(_seconds(f["start_utc"]) - _seconds(b["start_utc"])) < 600
        assert min(f["pitch_start_deg"], f["pitch_end_deg"]) >= sc.stereo_pitch_deg - 1e-3
        assert max(b["pitch_start_deg"], b["pitch_end_deg"]) <= -sc.stereo_pitch_deg + 1e-3


def test_targets_without_opportunity_keep_their_reason():
    c = Constellation.formosat8(START)
    # Antarctica in (southern) summer is sunlit but never under a 10:30 pass near the pole
    # with a 5 deg limit; the Arctic in November is dark.
    targets = parse_targets_csv(
        "id,latitude_deg,longitude_deg,altitude_m,priority,min_sun_elevation_deg,max_off_nadir_deg,mode\n"
        "taipei,25.04,121.56,10,5,10,30,mono\n"
        "arctic,80.0,20.0,0,1,10,30,mono\n", "t.csv")
    eph = c.propagate(TimeGrid.range(START, END, 60.0))
    opp = find_opportunities(eph, targets)
    result = plan_imaging(opp, None, time_limit_s=60.0, iterations=50)
    un = {u["target"]: u["reason"] for u in result.to_dict()["unscheduled"]}
    assert un.get("arctic") == "sun"


def test_polygons_become_requests_valued_by_covered_area():
    c = Constellation.formosat8(START)
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "field", "priority": 6},
         "geometry": {"type": "Polygon", "coordinates": [[[120.2, 23.0], [120.9, 23.0], [120.9, 23.6],
                                                          [120.2, 23.6], [120.2, 23.0]]]}},
        {"type": "Feature", "properties": {"id": "taipei", "priority": 2},
         "geometry": {"type": "Point", "coordinates": [121.56, 25.04]}}]}
    targets = parse_targets_geojson(json.dumps(fc), "t.geojson")
    opp = find_opportunities(c.propagate(TimeGrid.range(START, END, 60.0)), targets)
    convex = PiecewiseLinear([0, 0.5, 1], [0, 0.2, 1])
    result = plan_imaging(opp, None, time_limit_s=60.0, iterations=100, area_value=convex)
    p = result.problem
    assert verify_plan(p, result.plan) == []
    assert p.request_id == ["field"] and p.request_curve[0].total == 6
    strips = [p.task_id[t] for t in p.request_tasks[0]]
    assert all(p.task_weight[p.task_index[s]] == 0 for s in strips)
    d = result.to_dict()
    (req,) = d["requests"]
    taken = {a["target"] for a in d["acquisitions"] if a["target_group"] == "field"}
    oc = opp.columns
    share = {str(t): float(s) for t, s in zip(oc["target"], oc["share"])}
    f = sum(share[s] for s in taken)
    assert len(strips) >= 2 and taken and req["covered_fraction"] == pytest.approx(f)
    assert req["value"] == pytest.approx(6 * float(np.interp(f, [0, 0.5, 1], [0, 0.2, 1])))
    with pytest.raises(GroundsegError, match="area_value"):
        plan_imaging(opp, None, iterations=1, area_value=PiecewiseLinear([0, 1], [0, 2]))
