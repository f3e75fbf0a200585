"""Targets: CSV / GeoJSON readers, validation, polygons and their strips."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundseg.targets import (TargetDefaults, TargetError, Targets, bundled_targets,
                               load_targets, parse_targets_csv, parse_targets_geojson)

_A = 6378.137
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)


def _fc(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _poly(fid, ring, **props):
    return {"type": "Feature", "properties": {"id": fid, **props},
            "geometry": {"type": "Polygon", "coordinates": [ring] if not isinstance(ring[0][0], list)
                         else ring}}


def _ellipsoid_rect_area_km2(lat0, lat1, dlon_deg):
    """Area of a latitude/longitude box on WGS84 (authalic latitude formula)."""
    e = np.sqrt(_E2)

    def q(phi):
        s = np.sin(np.radians(phi))
        return (1 - _E2) * (s / (1 - _E2 * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))
    return _A * _A / 2 * (q(lat1) - q(lat0)) * np.radians(dlon_deg)


def _geodetic(p):
    """ECEF km -> (lat, lon) deg, by fixed-point iteration (independent of groundseg.earth)."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    lon = np.arctan2(y, x)
    r = np.hypot(x, y)
    lat = np.arctan2(z, r * (1 - _E2))
    for _ in range(10):
        n = _A / np.sqrt(1 - _E2 * np.sin(lat) ** 2)
        h = r / np.cos(lat) - n
        lat = np.arctan2(z, r * (1 - _E2 * n / (n + h)))
    return np.degrees(lat), np.degrees(lon)


# -- CSV ---------------------------------------------------------------------------------

def test_csv_defaults_fill_optional_columns():
    text = ("# a comment\n"
            "id,latitude_deg,longitude_deg,altitude_m,priority,mode\n"
            "A,24.5,121.0,100,3,stereo\n"
            "B,-10,-170.5,0,,\n")
    d = TargetDefaults(priority=2.0, min_sun_elevation_deg=15.0, max_off_nadir_deg=25.0)
    t = parse_targets_csv(text, "t.csv", d)
    assert t.ids == ["A", "B"]
    assert list(t.priority) == [3.0, 2.0]
    assert list(t.mode) == ["stereo", "mono"]
    assert list(t.min_sun_elevation_deg) == [15.0, 15.0]
    assert list(t.max_off_nadir_deg) == [25.0, 25.0]
    assert list(t.kind) == ["point", "point"]
    assert t.altitude_m[0] == 100.0


@pytest.mark.parametrize("row, fragment", [
    ("X,91,121,0", "t.csv:3 (X): latitude 91"),
    ("X,24,-180.5,0", "t.csv:3 (X): longitude -180.5"),
    ("X,24,121,0,1,10,30,tri", "mode 'tri'"),
    ("X,24,121,0,-1,10,30,mono", "priority -1"),
    ("X,24,121,0,1,10,95,mono", "max_off_nadir_deg 95"),
    ("X,24,121,0,1,120,30,mono", "min_sun_elevation_deg 120"),
    ("X,abc,121,0", "latitude_deg 'abc' is not a number"),
    ("X,nan,121,0", "not finite"),
    ("X,24,121", "3 fields, header has"),
])
def test_csv_bad_values_name_the_line(row, fragment):
    header = "id,latitude_deg,longitude_deg,altitude_m"
    if row.count(",") == 7:
        header += ",priority,min_sun_elevation_deg,max_off_nadir_deg,mode"
    text = f"{header}\nOK,24,121,0{',1,10,30,mono' if row.count(',') == 7 else ''}\n{row}\n"
    with pytest.raises(TargetError) as exc:
        parse_targets_csv(text, "t.csv")
    assert fragment in str(exc.value)
    assert "t.csv:3" in str(exc.value)


@pytest.mark.parametrize("text, fragment", [
    ("", "no targets"),
    ("id,latitude_deg,longitude_deg,altitude_m\n", "no targets"),
    ("id,latitude_deg,longitude_deg\nA,1,2\n", "header lacks altitude_m"),
    ("id,latitude_deg,longitude_deg,altitude_m,colour\nA,1,2,0,red\n", "unknown column"),
    ("id,latitude_deg,longitude_deg,altitude_m\nA,1,2,0\nA,3,4,0\n", "already used at t.csv:2"),
])
def test_csv_bad_files(text, fragment):
    with pytest.raises(TargetError) as exc:
        parse_targets_csv(text, "t.csv")
    assert fragment in str(exc.value)


def test_target_error_is_a_value_error():
    from groundseg.errors import GroundsegError
    assert issubclass(TargetError, GroundsegError) and issubclass(TargetError, ValueError)


def test_from_points_validates_the_batch():
    with pytest.raises(TargetError, match="target 'b': latitude -95"):
        Targets.from_points(["a", "b"], [10, -95], [0, 0])
    with pytest.raises(TargetError, match="no targets"):
        Targets.from_points([], [], [])


# -- GeoJSON -----------------------------------------------------------------------------

def test_geojson_points_polygons_and_multis(tmp_path):
    ring = [[121.0, 24.0], [121.2, 24.0], [121.2, 24.2], [121.0, 24.2], [121.0, 24.0]]
    text = _fc(
        {"type": "Feature", "id": "p1", "properties": {"priority": 4, "mode": "stereo"},
         "geometry": {"type": "Point", "coordinates": [121.5, 25.0, 30.0]}},
        _poly("box", ring, max_off_nadir_deg=20),
        {"type": "Feature", "properties": {"id": "mp"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[ring], [[[p[0] + 1, p[1]] for p in ring]]]}},
    )
    path = tmp_path / "t.geojson"
    path.write_text(text)
    t = load_targets(path)
    assert t.ids == ["p1", "box", "mp-1", "mp-2"]
    assert list(t.kind) == ["point", "polygon", "polygon", "polygon"]
    assert t.altitude_m[0] == 30.0 and t.priority[0] == 4 and t.mode[0] == "stereo"
    assert t.max_off_nadir_deg[1] == 20.0
    # Centroid of a lat/lon box: mid longitude, latitude near the middle.
    assert abs(t.longitude_deg[1] - 121.1) < 1e-6
    assert abs(t.latitude_deg[1] - 24.1) < 2e-3
    ref = _ellipsoid_rect_area_km2(24.0, 24.2, 0.2)
    assert abs(t.area_km2[1] / ref - 1) < 2e-4


@pytest.mark.parametrize("feature, fragment", [
    (_poly("bow", [[121, 24], [121.2, 24.2], [121.2, 24], [121, 24.2], [121, 24]]), "self-intersects"),
    (_poly("eight", [[121, 24], [121.1, 24.1], [121.2, 24], [121.2, 24.2], [121.1, 24.1],
                     [121, 24.2], [121, 24]]), "self-intersects"),
    (_poly("spike", [[121, 24], [121.2, 24], [121.2, 24.2], [121.2, 24.1], [121.2, 24.3],
                     [121, 24.2], [121, 24]]), "self-intersects"),
    (_poly("open", [[121, 24], [121.2, 24], [121.2, 24.2], [121, 24.2]]), "must be closed"),
    (_poly("flat", [[121, 24], [121, 24.1], [121, 24.2], [121, 24]]), "self-intersects"),
    (_poly("two", [[121, 24], [121, 24.1], [121, 24.1], [121, 24]]), "fewer than 3 distinct"),
    (_poly("hole", [[[121, 24], [121.2, 24], [121.2, 24.2], [121, 24.2], [121, 24]],
                    [[122, 24], [122.1, 24], [122.1, 24.1], [122, 24]]]), "hole 1 lies outside"),
    (_poly("huge", [[110, 10], [130, 10], [130, 30], [110, 30], [110, 10]]), "split it"),
    (_poly("lat", [[121, 24], [121.2, 24], [121.2, 95], [121, 24]]), "latitude 95"),
    ({"type": "Feature", "properties": {"id": "l"},
      "geometry": {"type": "LineString", "coordinates": [[121, 24], [122, 25]]}}, "not supported"),
    ({"type": "Feature", "properties": {},
      "geometry": {"type": "Point", "coordinates": [121, 24]}}, "no id"),
    ({"type": "Feature", "properties": {"id": "m", "mode": "video"},
      "geometry": {"type": "Point", "coordinates": [121, 24]}}, "mode 'video'"),
    ({"type": "Feature", "properties": {"id": "c"},
      "geometry": {"type": "Point", "coordinates": [121]}}, "a position must be"),
])
def test_geojson_bad_features_name_the_feature(feature, fragment):
    ok = {"type": "Feature", "properties": {"id": "ok"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}
    with pytest.raises(TargetError) as exc:
        parse_targets_geojson(_fc(ok, feature), "t.geojson")
    msg = str(exc.value)
    assert fragment in msg and "t.geojson: feature 2" in msg


def test_geojson_invalid_json_has_line_number():
    with pytest.raises(TargetError, match=r"t.geojson:3:\d+: invalid JSON"):
        parse_targets_geojson('{"type": "FeatureCollection",\n "features": [\n  {,]}', "t.geojson")
    with pytest.raises(TargetError, match="no targets"):
        parse_targets_geojson(_fc(), "t.geojson")


def test_concave_polygon_and_hole_are_accepted():
    shell = [[121, 24], [121.4, 24], [121.4, 24.4], [121.2, 24.1], [121, 24.4], [121, 24]]
    hole = [[121.05, 24.05], [121.1, 24.05], [121.1, 24.1], [121.05, 24.05]]
    t = parse_targets_geojson(_fc(_poly("u", [shell, hole])))
    no_hole = parse_targets_geojson(_fc(_poly("u", shell)))
    assert 0 < t.area_km2[0] < no_hole.area_km2[0]


# -- bundled -----------------------------------------------------------------------------

def test_bundled_taiwan_set():
    t = bundled_targets()
    assert 50 <= len(t) <= 150
    kinds = set(t.kind)
    assert kinds == {"point", "polygon"}
    assert "stereo" in set(t.mode) and "mono" in set(t.mode)
    assert len(set(t.priority)) > 3
    for name in ("res-shimen", "res-sun-moon-lake", "res-tsengwen", "port-kaohsiung",
                 "port-keelung", "port-taichung", "mt-yushan", "mt-alishan", "mt-taroko"):
        assert name in t.ids
    # Taiwan and its outlying islands (Pratas is the far one).
    assert np.all((t.latitude_deg > 20) & (t.latitude_deg < 26.5))
    assert np.all((t.longitude_deg > 116) & (t.longitude_deg < 122.2))
    # Defaults apply where the file leaves the limits out.
    d = bundled_targets(TargetDefaults(max_off_nadir_deg=22.0))
    assert d.max_off_nadir_deg[d.index("taipei")] == 22.0
    assert d.max_off_nadir_deg[d.index("pratas")] == 40.0


# -- strips ------------------------------------------------------------------------------

def _box_targets(lat0=24.0, lat1=24.6, lon0=120.8, lon1=121.0):
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return parse_targets_geojson(_fc(_poly("box", ring, altitude_m=500)))


def test_strips_of_a_box_along_a_meridian():
    t = _box_targets()
    s = t.strips(0, 0.0, 10.0)         # heading north, 10 km swath
    width_km = 0.2 * np.radians(1) * _A * np.cos(np.radians(24.3)) / np.sqrt(1 - _E2 * np.sin(np.radians(24.3)) ** 2)
    assert len(s) == int(np.ceil(width_km / 10.0))
    assert abs(s.share.sum() - 1) < 1e-9
    assert abs(s.area_km2.sum() - t.area_km2[0]) < 1e-6 * t.area_km2[0]
    lat_s, lon_s = _geodetic(s.start_ecef_km)
    lat_e, lon_e = _geodetic(s.end_ecef_km)
    # Heading north: strips start at the south edge and end at the north edge.
    assert np.all(np.abs(lat_s - 24.0) < 0.003) and np.all(np.abs(lat_e - 24.6) < 0.003)
    assert np.all(np.diff(lon_s) > 0)              # left to right = west to east
    # Aim points sit at the polygon altitude.
    h = np.linalg.norm(s.start_ecef_km, axis=1)
    assert np.all(np.abs(h - np.linalg.norm(_surface(lat_s, lon_s), axis=1) - 0.5) < 1e-5)
    # Flipping the direction reverses start and end.
    back = t.strips(0, 180.0, 10.0)
    assert np.allclose(back.start_ecef_km[::-1], s.end_ecef_km, atol=1e-6)


def _surface(lat, lon):
    lat, lon = np.radians(lat), np.radians(lon)
    n = _A / np.sqrt(1 - _E2 * np.sin(lat) ** 2)
    return np.stack([n * np.cos(lat) * np.cos(lon), n * np.cos(lat) * np.sin(lon),
                     n * (1 - _E2) * np.sin(lat)], -1)


def test_strip_area_shares_against_monte_carlo():
    """Shares of a concave polygon, against point sampling in independent local coordinates."""
    shell = [[121, 24], [121.4, 24], [121.4, 24.4], [121.2, 24.1], [121, 24.4], [121, 24]]
    t = parse_targets_geojson(_fc(_poly("u", shell)))
    heading = 35.0
    s = t.strips(0, heading, 8.0)
    rng = np.random.default_rng(3)
    lon = rng.uniform(121, 121.4, 400_000)
    lat = rng.uniform(24, 24.4, 400_000)
    # Inside the polygon (even-odd rule in lon/lat, fine for a polygon this size).
    ring = np.array(shell[:-1])
    inside = np.zeros(lon.size, dtype=bool)
    for (x0, y0), (x1, y1) in zip(ring, np.roll(ring, -1, axis=0)):
        c = (y0 > lat) != (y1 > lat)
        xc = x0 + (lat - y0) * (x1 - x0) / np.where(y1 == y0, 1, y1 - y0)
        inside ^= c & (lon < xc)
    lat0, lon0 = t.latitude_deg[0], t.longitude_deg[0]
    kx = np.radians(1) * _A * np.cos(np.radians(lat0)) / np.sqrt(1 - _E2 * np.sin(np.radians(lat0)) ** 2)
    ky = np.radians(1) * _A * (1 - _E2) / (1 - _E2 * np.sin(np.radians(lat0)) ** 2) ** 1.5
    x, y = (lon - lon0) * kx, (lat - lat0) * ky
    across = x * np.cos(np.radians(heading)) - y * np.sin(np.radians(heading))
    sl, so = _geodetic(s.mid_ecef_km)
    q_mid = (so - lon0) * kx * np.cos(np.radians(heading)) - (sl - lat0) * ky * np.sin(np.radians(heading))
    band = np.argmin(np.abs(across[inside, None] - q_mid[None, :]), axis=1)
    frac = np.bincount(band, minlength=len(s)) / inside.sum()
    assert np.abs(frac - s.share).max() < 0.01
    assert abs(s.share.sum() - 1) < 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0.05, 0.4), st.floats(0, 2 * np.pi)), min_size=3, max_size=12),
       st.floats(0, 360), st.floats(2, 30))
def test_strips_of_star_polygons_cover_the_area(spokes, heading, swath):
    """Star-shaped polygons (angles sorted: never self-intersecting) split without loss."""
    spokes = sorted(spokes, key=lambda x: x[1])
    angles = np.array([a for _, a in spokes])
    if np.any(np.diff(np.concatenate([angles, [angles[0] + 2 * np.pi]])) < 1e-3):
        return
    ring = [[121 + r * np.cos(a), 24 + r * np.sin(a)] for r, a in spokes]
    ring.append(ring[0])
    try:
        t = parse_targets_geojson(_fc(_poly("s", ring)))
    except TargetError as exc:      # degenerate (nearly collinear) stars
        assert "no area" in str(exc) or "self-intersects" in str(exc)
        return
    s = t.strips(0, heading, swath)
    assert abs(s.share.sum() - 1) < 1e-9
    assert np.all(s.length_km >= 0) and np.all(s.share > 0)
    # Consecutive strip centre lines are one swath apart.
    if len(s) > 1:
        d = np.linalg.norm(np.diff(s.mid_ecef_km, axis=0), axis=1)
        assert np.all(d > 0.999 * swath - 1e-6)


def test_strips_reject_points():
    t = Targets.from_points(["a"], [24], [121])
    with pytest.raises(TargetError, match="is a point"):
        t.strips(0, 0.0, 10.0)


def test_strips_subtract_holes():
    shell = [[121, 24], [121.4, 24], [121.4, 24.4], [121, 24.4], [121, 24]]
    hole = [[121.1, 24.1], [121.3, 24.1], [121.3, 24.3], [121.1, 24.3], [121.1, 24.1]]
    t = parse_targets_geojson(_fc(_poly("h", [shell, hole])))
    s = t.strips(0, 0.0, 5.0)
    assert abs(s.area_km2.sum() - t.area_km2[0]) < 1e-6 * t.area_km2[0]
    assert abs(s.share.sum() - 1) < 1e-9
    # A strip through the hole carries about half the area of a full strip next to the edge.
    assert s.area_km2[len(s) // 2] < 0.6 * s.area_km2[1]
    ref = _ellipsoid_rect_area_km2(24.0, 24.4, 0.4) - _ellipsoid_rect_area_km2(24.1, 24.3, 0.2)
    assert abs(t.area_km2[0] / ref - 1) < 5e-4


def test_polygon_across_the_antimeridian():
    ring = [[179.9, -17.0], [-179.9, -17.0], [-179.9, -16.8], [179.9, -16.8], [179.9, -17.0]]
    t = parse_targets_geojson(_fc(_poly("fiji", ring)))
    assert abs(abs(t.longitude_deg[0]) - 180.0) < 1e-6
    ref = _ellipsoid_rect_area_km2(-17.0, -16.8, 0.2)
    assert abs(t.area_km2[0] / ref - 1) < 5e-4
