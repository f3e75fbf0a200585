"""Pass prediction against independent references: brute force on SGP4 itself and skyfield."""
import re

import numpy as np
import pytest

from groundseg.catalog import parse_catalog
from groundseg.errors import GroundsegError, StationError
from groundseg.orbits import Constellation
from groundseg.passes import (PASS_COLUMNS, PASS_CSV_COLUMNS, passes_from_ephemeris,
                              predict_passes)
from groundseg.stations import Station
from groundseg.timegrid import TimeGrid, parse_utc, timescale

from _helpers import random_leo_tles
from test_passes_reference import brute_force_passes, look_angles, margin

START = "2026-11-26T06:00:00Z"


def _constellation(tles):
    text = "\n".join(f"{n}\n{a}\n{b}" for n, a, b in tles)
    return Constellation(parse_catalog(text).records)


def _seconds(t, start=START):
    return (t - parse_utc(start)[0]).astype("timedelta64[ns]").astype(np.int64) / 1e9


def _random_stations(rng, n, masks=False):
    out = []
    for i in range(n):
        lat = 89.5 if i == 0 else -87.0 if i == 1 else float(np.degrees(np.arcsin(rng.uniform(-1, 1))))
        mask = ()
        if masks:
            az = np.sort(rng.uniform(0, 360, int(rng.integers(3, 9))))
            mask = tuple((float(a), float(rng.uniform(0, 25))) for a in az)
        out.append(Station(f"S{i}", lat, float(rng.uniform(-180, 180)), float(rng.uniform(0, 2500)),
                           float(rng.uniform(-2, 10)), mask=mask))
    return out


def _compare(c, stations, passes, start, end, **ref_kwargs):
    """Every brute-force pass matches one of ours and vice versa; worst differences."""
    worst = np.zeros(4)
    for i, sat in enumerate(c.satrecs):
        for st in stations:
            ref = brute_force_passes(sat, st, start, end, **ref_kwargs)
            ours = passes.select(satellite=c.names[i], station=st.name)
            assert len(ours) == len(ref), (c.names[i], st.name, ref, _seconds(ours.aos_utc, start))
            for (aos, tca, los, el), a, t, l, e in zip(
                    ref, _seconds(ours.aos_utc, start), _seconds(ours.tca_utc, start),
                    _seconds(ours.los_utc, start), ours.max_elevation_deg):
                worst = np.maximum(worst, [abs(aos - a), abs(tca - t), abs(los - l), abs(el - e)])
    return worst


def test_matches_brute_force_on_sgp4(rng):
    """LEO 300-1200 km, all inclinations, e <= 0.01, polar and random stations, 12 h."""
    c = _constellation(random_leo_tles(rng, 6))
    stations = _random_stations(rng, 3)
    end = "2026-11-26T18:00:00Z"
    passes = predict_passes(c, stations, START, end)
    assert len(passes) > 20 and not passes.problems
    worst = _compare(c, stations, passes, START, end)
    assert worst[0] <= 0.010 and worst[2] <= 0.010, worst     # AOS, LOS within 10 ms
    assert worst[1] <= 0.100, worst                             # TCA within 100 ms
    assert worst[3] <= 0.001, worst                             # max elevation within 0.001 deg


def test_masks_against_brute_force(rng):
    c = _constellation(random_leo_tles(rng, 4, first_id=81000))
    stations = _random_stations(rng, 3, masks=True)
    end = "2026-11-26T16:00:00Z"
    passes = predict_passes(c, stations, START, end)
    assert len(passes) > 10
    # 1 s sampling, 0.02 s wherever the margin is within 1 deg of zero: dips behind the mask
    # shorter than a second are real and must be found.
    worst = _compare(c, stations, passes, START, end, fine_step_s=0.02)
    assert worst[0] <= 0.010 and worst[2] <= 0.010, worst
    assert worst[3] <= 0.001, worst
    # TCA is the maximum elevation, not the maximum margin: check it is a maximum of el.
    for k in range(len(passes)):
        sat = c.satrecs[passes.satellite_index[k]]
        st = stations[passes.station_index[k]]
        tca = _seconds(passes.tca_utc[k])
        lo, hi = _seconds(passes.aos_utc[k]), _seconds(passes.los_utc[k])
        probe = np.clip(tca + np.array([-0.5, 0.5]), lo, hi)
        el = np.degrees(look_angles(sat, st, parse_utc(START)[0], probe)[0])
        assert np.all(el <= passes.max_elevation_deg[k] + 1e-3)


def _skyfield_passes(line1, line2, station, t0, t1, ts):
    from skyfield.api import EarthSatellite, wgs84
    sat = EarthSatellite(line1, line2, "x", ts)
    topos = wgs84.latlon(station.latitude_deg, station.longitude_deg, station.altitude_m)
    times, events = sat.find_events(topos, t0, t1, altitude_degrees=station.min_elevation_deg)
    out, rise, culm = [], None, None
    for t, e in zip(times, events):
        if e == 0:
            rise, culm = t, None
        elif e == 1:
            culm = t
        elif e == 2 and rise is not None:
            out.append((rise, culm, t))
            rise = None
    return out


def test_matches_skyfield_find_events(rng):
    """Every skyfield rise/set pair above the mask is one of ours and vice versa (within 1 s);
    passes skyfield's sampling misses must be grazing ones that SGP4 itself confirms."""
    ts = timescale()
    tles = random_leo_tles(rng, 6, first_id=82000)
    c = _constellation(tles)
    stations = [Station(s.name, s.latitude_deg, s.longitude_deg, s.altitude_m, 5.0)
                for s in _random_stations(rng, 4)]
    end = "2026-11-28T06:00:00Z"
    passes = predict_passes(c, stations, START, end)
    t0, t1 = (TimeGrid.from_utc([START, end]).skyfield_time[i] for i in (0, 1))
    epoch = parse_utc(START)[0]
    matched = 0
    for i, (_, l1, l2) in enumerate(tles):
        for st in stations:
            sky = _skyfield_passes(l1, l2, st, t0, t1, ts)
            ours = passes.select(satellite=c.names[i], station=st.name)
            ours = ours.take(ours.truncated == "none")
            aos, tca, los = (_seconds(x) for x in (ours.aos_utc, ours.tca_utc, ours.los_utc))
            used = np.zeros(len(ours), dtype=bool)
            for rise, culm, set_ in sky:
                r = _seconds(np.datetime64(rise.utc_datetime().replace(tzinfo=None), "ns"))
                s = _seconds(np.datetime64(set_.utc_datetime().replace(tzinfo=None), "ns"))
                k = np.flatnonzero((np.abs(aos - r) <= 1.0) & (np.abs(los - s) <= 1.0))
                assert k.size == 1, (c.names[i], st.name, r, s, aos, los)
                used[k] = True
                if culm is not None:
                    cs = _seconds(np.datetime64(culm.utc_datetime().replace(tzinfo=None), "ns"))
                    assert abs(cs - tca[k[0]]) <= 1.0
                matched += 1
            for k in np.flatnonzero(~used):
                # Missed by skyfield's sampling: must be real (above the mask on SGP4) and low.
                assert ours.max_elevation_deg[k] - 5.0 < 0.5, ours.max_elevation_deg[k]
                assert margin(c.satrecs[i], st, epoch, [tca[k]])[0] > 0
    assert matched > 30


def test_grazing_passes_peaking_0_01_deg_above_the_mask_are_found(rng):
    """Stations whose minimum elevation, or mask, sits 0.01 deg below a real pass's peak (and
    a second copy 0.01 deg above it, which must see nothing of that pass)."""
    c = _constellation(random_leo_tles(rng, 5, first_id=83000))
    base = _random_stations(rng, 3)
    base = [Station(s.name, s.latitude_deg, s.longitude_deg, s.altitude_m, 0.0) for s in base]
    end = "2026-11-26T18:00:00Z"
    ref = predict_passes(c, base, START, end)
    full = ref.take((ref.truncated == "none") & (ref.max_elevation_deg > 1.0))
    pick = rng.choice(len(full), 10, replace=False)
    below, above = [], []
    for n, k in enumerate(pick):
        s = base[full.station_index[k]]
        peak = float(full.max_elevation_deg[k])
        if n % 2:
            # A V-shaped mask whose lowest point, at the TCA azimuth, sits 0.01 deg under
            # (over) the peak, rising 1 deg per 10 deg of azimuth either side.
            az = float(full.tca_azimuth_deg[k])
            v = lambda e: tuple(((az + d) % 360.0, min(e + abs(d) / 10.0, 90.0))  # noqa: E731
                                for d in (-170.0, -40.0, 0.0, 40.0, 170.0))
            below.append(Station(f"G{n}", s.latitude_deg, s.longitude_deg, s.altitude_m, 0.0,
                                 mask=v(peak - 0.01)))
            above.append(Station(f"H{n}", s.latitude_deg, s.longitude_deg, s.altitude_m, 0.0,
                                 mask=v(peak + 0.01)))
            continue
        below.append(Station(f"G{n}", s.latitude_deg, s.longitude_deg, s.altitude_m, peak - 0.01))
        above.append(Station(f"H{n}", s.latitude_deg, s.longitude_deg, s.altitude_m, peak + 0.01))
    for stations, present in ((below, True), (above, False)):
        found = predict_passes(c, stations, START, end)
        for n, k in enumerate(pick):
            sat = full.satellite[k]
            got = found.select(satellite=sat, station=stations[n].name)
            tca = _seconds(full.tca_utc[k])
            hit = np.abs(_seconds(got.tca_utc) - tca) < 60.0
            assert hit.any() == present, (n, sat, present)
            if present:
                d = float(got.duration_s[hit][0])
                # Brute-force duration of the grazing pass on SGP4 (a few seconds).
                tt = tca + np.arange(-20.0, 20.0, 0.005)
                g = margin(c.satrecs[full.satellite_index[k]], stations[n], parse_utc(START)[0], tt)
                assert abs(d - 0.005 * np.count_nonzero(g > 0)) < 0.03, (d, n)


def test_truncated_flags_and_window_edges(rng):
    c = Constellation.formosat8(START)
    st = [Station("Pole", 89.0, 0.0, 0.0, 5.0)]
    whole = predict_passes(c, st, START, "2026-11-26T12:00:00Z")
    k = int(np.argmax(whole.duration_s))
    aos, los = whole.aos_utc[k], whole.los_utc[k]
    mid = aos + (los - aos) // 2
    cut_start = predict_passes(c, st, mid, "2026-11-26T12:00:00Z").select(satellite=whole.satellite[k])
    assert cut_start.truncated[0] == "start" and cut_start.aos_utc[0] == mid
    assert abs((cut_start.los_utc[0] - los) / np.timedelta64(1, "ms")) <= 2
    both = predict_passes(c, st, aos + np.timedelta64(10, "s"), los - np.timedelta64(10, "s"))
    row = both.select(satellite=whole.satellite[k])
    assert list(row.truncated) == ["both"]
    cut_end = predict_passes(c, st, START, mid).select(satellite=whole.satellite[k])
    assert cut_end.truncated[-1] == "end" and cut_end.los_utc[-1] == mid
    assert set(whole.truncated) <= {"none", "start", "end", "both"}


def test_decayed_satellite_is_reported_not_raised(rng):
    from sgp4.api import WGS72, Satrec
    from sgp4.exporter import export_tle
    s = Satrec()
    a = 6378.137 + 250.0
    s.sgp4init(WGS72, "i", 77001, (2461370.5 - 2433281.5) + 0.25, 0.02, 0.0, 0.0, 0.001, 0.5,
               1.0, 0.3, np.sqrt(398600.4418 / a**3) * 60.0, 0.1)
    l1, l2 = export_tle(s)
    tles = [("DECAYING", l1, l2)] + random_leo_tles(rng, 2, first_id=84000)
    c = _constellation(tles)
    st = _random_stations(rng, 3)
    passes = predict_passes(c, st, START, "2026-11-27T06:00:00Z")
    assert len(passes.problems) == 1 and "DECAYING" in passes.problems[0]
    assert "decayed" in passes.problems[0]
    others = passes.take(passes.satellite != "DECAYING")
    assert len(others) > 5 and set(others.status) == {"ok"}
    cut = passes.take(passes.status != "ok")
    assert all(s.startswith("cut by propagation failure") for s in cut.status)
    assert all(t in ("end", "both") for t in cut.truncated)


@pytest.mark.parametrize("kwargs,match", [
    (dict(start="2026-11-26T01:00:00Z", end="2026-11-26T00:00:00Z"), "before start"),
    (dict(start="2026-11-26T00:00:00Z", end="2026-11-26T00:00:00Z"), "zero length"),
    (dict(min_elevation_deg=-5.5), r"outside \[-5, 90\]"),
    (dict(min_elevation_deg=90.5), r"outside \[-5, 90\]"),
    (dict(stations=[]), "no stations"),
    (dict(stations=["Hsinchu"]), "expected Station"),
    (dict(stations=[Station("V", 10, 10, 0, 0, mask=((90, 5), (90, 20), (200, 3)))]), "vertical step"),
    (dict(step_s=0), "grid step"),
])
def test_bad_input_raises_clear_errors(kwargs, match):
    c = Constellation.formosat8(START)
    args = dict(stations=[Station("A", 10, 10)], start=START, end="2026-11-26T08:00:00Z")
    args.update(kwargs)
    with pytest.raises(GroundsegError, match=match):
        predict_passes(c, args.pop("stations"), args.pop("start"), args.pop("end"), **args)
    assert issubclass(StationError, GroundsegError)


def test_from_ephemeris_equals_predict(rng):
    c = _constellation(random_leo_tles(rng, 4, first_id=85000))
    st = _random_stations(rng, 3)
    grid = TimeGrid.range(START, "2026-11-26T14:00:00Z", 60.0)
    a = passes_from_ephemeris(c.propagate(grid), st)
    b = predict_passes(c, st, START, "2026-11-26T14:00:00Z")
    assert len(a) == len(b) > 5
    for x, y in ((a.aos_utc, b.aos_utc), (a.los_utc, b.los_utc)):
        assert np.abs((x - y) / np.timedelta64(1, "us")).max() < 5000
    assert np.abs(a.max_elevation_deg - b.max_elevation_deg).max() < 1e-3
    with pytest.raises(GroundsegError, match="too coarse"):
        passes_from_ephemeris(c.propagate(TimeGrid.range(START, "2026-11-26T14:00:00Z", 600.0)), st)


def test_sunlit_matches_eclipse_state(rng):
    from groundseg.sun import SUNLIT, UMBRA, eclipse_state, sun_position_km
    c = _constellation(random_leo_tles(rng, 6, first_id=86000))
    st = _random_stations(rng, 4)
    passes = predict_passes(c, st, START, "2026-11-27T06:00:00Z")
    times = TimeGrid.from_utc(passes.tca_utc)
    checked = 0
    for k in range(len(passes)):
        one = c.subset([int(passes.satellite_index[k])]).propagate(times[k:k + 1])
        state = eclipse_state(one.position_km, sun_position_km(times[k:k + 1], "teme"))[0, 0]
        if state == SUNLIT:
            assert passes.sunlit_at_tca[k]
            checked += 1
        elif state == UMBRA:
            assert not passes.sunlit_at_tca[k]
            checked += 1
    assert checked > 0.9 * len(passes) and passes.sunlit_at_tca.any() and (~passes.sunlit_at_tca).any()


def test_orbit_number_counts_ascending_nodes_since_epoch():
    from sgp4.api import Satrec
    # A real ISS element set (revolution 20248 at epoch 2019-12-09T16:38:29Z).
    l1 = "1 25544U 98067A   19343.69339541  .00001764  00000-0  38792-4 0  9991"
    l2 = "2 25544  51.6439 211.2001 0007417  17.6667  85.6398 15.50103472202482"
    c = _constellation([("ISS", l1, l2)])
    st = [Station("Mid", 40.0, -100.0, 0.0, 0.0), Station("South", -35.0, 150.0, 0.0, 0.0)]
    start, end = "2019-12-10T12:00:00Z", "2019-12-11T12:00:00Z"
    passes = predict_passes(c, st, start, end)
    assert len(passes) > 5
    sat = Satrec.twoline2rv(l1, l2)
    epoch = TimeGrid.from_jd(sat.jdsatepoch, sat.jdsatepochF)
    for k in range(len(passes)):
        span = _seconds(passes.aos_utc[k], epoch.iso()[0])
        t = TimeGrid.from_seconds(epoch.datetime64()[0], np.arange(0.0, span, 5.0))
        _, r, _ = sat.sgp4_array(t.jd, t.fr)
        up = np.count_nonzero((r[:-1, 2] < 0) & (r[1:, 2] >= 0))
        assert passes.orbit_number[k] == 20248 + up


def test_csv_and_json_contract():
    c = Constellation.formosat8(START)
    st = [Station("Pole", 89.0, 0.0, 0.0, 5.0), Station("Mid", 24.8, 121.0, 60.0, 5.0)]
    passes = predict_passes(c, st, START, "2026-11-26T12:00:00Z")
    lines = passes.to_csv().splitlines()
    assert lines[0] == ",".join(PASS_CSV_COLUMNS)
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == len(passes) > 10
    for row in rows:
        assert all(iso.match(row[i]) for i in (3, 4, 5))
        assert row[11] in ("true", "false") and row[12] in ("none", "start", "end", "both")
    aos = [row[3] for row in rows]
    assert aos == sorted(aos)
    records = __import__("json").loads(passes.to_json())
    assert list(records[0]) == list(PASS_CSV_COLUMNS)
    assert passes.to_csv(columns="all").splitlines()[0] == ",".join(PASS_COLUMNS)


@pytest.mark.parametrize("call", [
    lambda c, e, s: passes_from_ephemeris("not an ephemeris", s),
    lambda c, e, s: predict_passes("not a constellation", s, START, "2026-11-26T07:00:00Z"),
    lambda c, e, s: predict_passes(c, s, START, "2026-11-26T07:00:00Z", tol_s=-1.0),
    lambda c, e, s: predict_passes(c, s, START, "2026-11-26T07:00:00Z", chunk_size=0),
    lambda c, e, s: predict_passes(c, s, START, "2026-11-26T07:00:00Z", workers="two"),
    lambda c, e, s: predict_passes(c, s, START, "2026-11-26T07:00:00Z", step_s="60 s"),
    lambda c, e, s: passes_from_ephemeris(e, s).take([10**6]),
])
def test_wrong_types_raise_groundseg_errors(call):
    """Bad arguments of the public entry points: a GroundsegError (exit status 2 in the
    command line), never an AttributeError, IndexError or bare ValueError."""
    c = Constellation.formosat8(START)
    eph = c.propagate(TimeGrid.range(START, "2026-11-26T07:00:00Z", 120.0))
    with pytest.raises(GroundsegError):
        call(c, eph, [Station("A", 10, 10)])
