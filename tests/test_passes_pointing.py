"""Pointing tables against skyfield (same timescale), Doppler and azimuth unwrapping."""
import numpy as np
import pytest

from groundseg.errors import GroundsegError
from groundseg.orbits import Constellation
from groundseg.passes import POINTING_COLUMNS, SPEED_OF_LIGHT_KM_S, pointing_table, predict_passes
from groundseg.stations import Station
from groundseg.timegrid import TimeGrid, parse_utc

START = "2026-11-26T00:00:00Z"


def _overhead_pass():
    """FS8-1 and a station placed under its ground track at a TCA: a pass near zenith."""
    c = Constellation.formosat8(START)
    grid = TimeGrid.from_utc(["2026-11-26T00:40:00Z"])
    geo = c.subset([0]).propagate(grid).geodetic()
    st = Station("Under", float(geo.latitude_deg[0, 0]), float(geo.longitude_deg[0, 0]), 0.0, 5.0)
    passes = predict_passes(c, [st], START, "2026-11-26T02:00:00Z").select(satellite="FS8-1")
    k = int(np.argmax(passes.max_elevation_deg))
    return c, st, passes, k


def test_pointing_matches_skyfield_and_doppler():
    from skyfield.api import EarthSatellite, wgs84
    c, st, passes, k = _overhead_pass()
    assert passes.max_elevation_deg[k] > 88.0
    f = 8.2e9
    table = pointing_table(c, "FS8-1", st, passes.aos_utc[k], passes.los_utc[k], step_s=1.0,
                           frequency_hz=f)
    assert table.names == list(POINTING_COLUMNS)
    times = TimeGrid.from_utc(parse_utc(list(table["time_utc"])))
    rec = c.records[0]
    sat = EarthSatellite.from_satrec(rec.satrec, times.skyfield_time.ts)
    topos = wgs84.latlon(st.latitude_deg, st.longitude_deg, st.altitude_m)
    topo = (sat - topos).at(times.skyfield_time)
    alt, az, dist = topo.altaz()
    _, _, rng_, _, _, rr = topo.frame_latlon_and_rates(topos)
    # Rows on whole seconds (the first and last are AOS / LOS, printed to the millisecond).
    i = slice(1, -1)
    np.testing.assert_allclose(table["elevation_deg"][i], alt.degrees[i], atol=5e-5)
    daz = (table["azimuth_deg"][i] - az.degrees[i] + 180.0) % 360.0 - 180.0
    high = alt.degrees[i] < 89.9          # azimuth is ill-defined at the zenith itself
    assert np.abs(daz[high]).max() < 1e-3
    np.testing.assert_allclose(table["range_km"][i], dist.km[i], atol=1e-3)
    np.testing.assert_allclose(table["range_rate_km_s"][i], rr.km_per_s[i], atol=1e-5)  # 1 cm/s
    # Doppler: one-way downlink, first order.
    np.testing.assert_allclose(table["received_frequency_hz"],
                               f * (1 - table["range_rate_km_s"] / SPEED_OF_LIGHT_KM_S), rtol=1e-12)
    np.testing.assert_allclose(table["doppler_shift_hz"], table["received_frequency_hz"] - f,
                               atol=1e-3)
    assert table["doppler_shift_hz"][0] > 0 > table["doppler_shift_hz"][-1]   # approaching, then receding
    # Elevation starts and ends on the 5 deg mask, rows on whole seconds in between.
    assert abs(table["elevation_deg"][0] - 5.0) < 1e-3 and abs(table["elevation_deg"][-1] - 5.0) < 1e-3
    assert all(r["time_utc"].endswith(".000Z") for r in table.records()[1:-1])


def test_unwrapped_azimuth_and_keyhole():
    c, st, passes, k = _overhead_pass()
    table = pointing_table(c, "FS8-1", st, passes.aos_utc[k], passes.los_utc[k], step_s=1.0)
    unwrapped = table["azimuth_unwrapped_deg"]
    assert 0.0 <= unwrapped[0] < 360.0
    assert np.abs(np.diff(unwrapped)).max() < 180.0
    np.testing.assert_allclose(np.mod(unwrapped, 360.0), table["azimuth_deg"], atol=1e-9)
    key = table["keyhole"]
    assert key.any() and np.all(table["elevation_deg"][key] >= 85.0)
    assert not np.any(table["elevation_deg"][~key] >= 85.0)
    # Near the zenith the azimuth rate is what an az/el mount cannot follow.
    assert np.abs(table["azimuth_rate_deg_s"][key]).max() > 5.0
    assert np.all(np.isnan(table["doppler_shift_hz"]))         # no carrier given
    assert ",," in table.to_csv().splitlines()[1]               # empty Doppler fields


@pytest.mark.parametrize("kwargs,match", [
    (dict(step_s=0), "step"), (dict(frequency_hz=-1.0), "frequency"),
    (dict(satellite="nope"), "unknown satellite"),
    (dict(end="2026-11-25T00:00:00Z"), "before start"),
])
def test_pointing_bad_input(kwargs, match):
    c = Constellation.formosat8(START)
    args = dict(satellite="FS8-1", end="2026-11-26T00:10:00Z")
    args.update(kwargs)
    with pytest.raises(GroundsegError, match=match):
        pointing_table(c, args.pop("satellite"), Station("A", 0, 0), START, args.pop("end"), **args)


@pytest.mark.parametrize("kwargs", [dict(step_s="1 s"), dict(keyhole_elevation_deg="high"),
                                    dict(frequency_hz=float("inf"))])
def test_pointing_wrong_types_raise_groundseg_errors(kwargs):
    c = Constellation.formosat8(START)
    with pytest.raises(GroundsegError):
        pointing_table(c, "FS8-1", Station("A", 0, 0), START, "2026-11-26T00:10:00Z", **kwargs)
    with pytest.raises(GroundsegError, match="Constellation"):
        pointing_table([c], "FS8-1", Station("A", 0, 0), START, "2026-11-26T00:10:00Z")
