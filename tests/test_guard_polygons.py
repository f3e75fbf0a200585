"""Polygon targets through GEOS and PROJ: areas against PROJ's geodesic polygon area (an
independent algorithm, Karney's), self-intersections reported where the edges really cross
(computed here by hand), and polygons of tens of thousands of vertices (an O(n^2) check
took 17 s for 20,000 and 14 minutes for 100,000)."""
import json

import numpy as np
import pytest
from pyproj import Geod

from groundseg.targets import TargetError, parse_targets_geojson


def _feature(rings):
    return json.dumps({"type": "Feature", "properties": {"id": "p"},
                       "geometry": {"type": "Polygon", "coordinates": rings}})


def _star(radius_deg, n, lobes=5):
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = radius_deg * (1 + 0.3 * np.sin(lobes * a))
    return 121 + r * np.cos(a), 24 + r * np.sin(a)


def _closed(lon, lat):
    ring = np.stack([lon, lat], 1).tolist()
    return ring + ring[:1]


@pytest.mark.parametrize("radius_deg, tol", [(0.1, 1e-7), (0.5, 1e-6), (2.0, 2e-6)])
def test_area_is_the_ellipsoidal_area(radius_deg, tol):
    """The orthographic plane of before shrank areas by 2e-5 at 50 km, 3e-4 at 200 km."""
    lon, lat = _star(radius_deg, 200)
    t = parse_targets_geojson(_feature([_closed(lon, lat)]))
    ref_km2 = abs(Geod(ellps="WGS84").polygon_area_perimeter(lon, lat)[0]) / 1e6
    assert abs(t.area_km2[0] / ref_km2 - 1) < tol


def test_area_with_a_hole():
    lon, lat = _star(0.5, 120)
    hlon, hlat = _star(0.1, 40)
    t = parse_targets_geojson(_feature([_closed(lon, lat), _closed(hlon, hlat)]))
    g = Geod(ellps="WGS84")
    ref_km2 = (abs(g.polygon_area_perimeter(lon, lat)[0])
               - abs(g.polygon_area_perimeter(hlon, hlat)[0])) / 1e6
    assert abs(t.area_km2[0] / ref_km2 - 1) < 1e-6


def _crossing(p1, p2, p3, p4):
    """Where segment p1-p2 meets p3-p4 (straight in longitude / latitude)."""
    def cross(a, b):
        return a[0] * b[1] - a[1] * b[0]
    d1, d2 = np.subtract(p2, p1), np.subtract(p4, p3)
    s = cross(np.subtract(p3, p1), d2) / cross(d1, d2)
    return np.add(p1, s * d1)


def _reported(message):
    lon = float(message.split("longitude ")[1].split(",")[0])
    lat = float(message.split("latitude ")[1].split()[0])
    return np.array([lon, lat])


def test_self_intersection_is_reported_at_the_crossing():
    # Edges 2 (121.3 24, 121.05 24.25) and 4 (121.2 24.3, 121 24.1) cross away from any vertex.
    ring = [[121, 24], [121.3, 24], [121.05, 24.25], [121.2, 24.3], [121, 24.1], [121, 24]]
    with pytest.raises(TargetError, match="self-intersects") as exc:
        parse_targets_geojson(_feature([ring]))
    ref = _crossing(ring[1], ring[2], ring[3], ring[4])
    # Straight lines in the plane and in longitude / latitude part by metres over 30 km.
    assert np.abs(_reported(str(exc.value)) - ref).max() < 2e-4


def test_hole_crossing_its_shell_is_reported_at_the_crossing():
    shell = [[121, 24], [121.2, 24], [121.2, 24.2], [121, 24.2], [121, 24]]
    hole = [[121.1, 24.05], [121.3, 24.1], [121.1, 24.15], [121.1, 24.05]]
    with pytest.raises(TargetError, match="self-intersects") as exc:
        parse_targets_geojson(_feature([shell, hole]))
    first = _crossing(shell[1], shell[2], hole[0], hole[1])
    second = _crossing(shell[1], shell[2], hole[1], hole[2])
    got = _reported(str(exc.value))
    assert min(np.abs(got - first).max(), np.abs(got - second).max()) < 2e-4


@pytest.mark.parametrize("n", [20_000, 100_000])
def test_polygons_of_many_vertices_load(n):
    lon, lat = _star(0.3, n, lobes=7)
    t = parse_targets_geojson(_feature([_closed(lon, lat)]))
    ref_km2 = abs(Geod(ellps="WGS84").polygon_area_perimeter(lon, lat)[0]) / 1e6
    assert abs(t.area_km2[0] / ref_km2 - 1) < 1e-6
    assert len(t.strips(0, 10.0, 10.0)) >= 6


def test_a_many_vertex_polygon_crossing_itself_once_is_found():
    lon, lat = _star(0.3, 50_000, lobes=7)
    k = 20_000
    lon[k], lon[k + 1] = lon[k + 1], lon[k]       # two neighbours swapped: a tiny bow tie
    lat[k], lat[k + 1] = lat[k + 1], lat[k]
    with pytest.raises(TargetError, match="self-intersects") as exc:
        parse_targets_geojson(_feature([_closed(lon, lat)]))
    ref = _crossing((lon[k - 1], lat[k - 1]), (lon[k], lat[k]), (lon[k + 1], lat[k + 1]),
                    (lon[k + 2], lat[k + 2]))
    assert np.abs(_reported(str(exc.value)) - ref).max() < 1e-5
