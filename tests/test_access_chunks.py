"""Access searched in chunks of aim points gives exactly the windows of one search over all.

The 1,000,000-target job (benchmarks/bench_access.py --large) holds only one chunk of points
at a time; each point is searched on its own, so the chunking must change nothing, to the bit.
"""
import numpy as np
import pytest

from groundseg.access_search import access_windows, angle_bound_windows, points_per_chunk
from groundseg.bounds import IncidenceBound
from groundseg.earth import geodetic_to_ecef
from groundseg.imaging_geometry import ImagingGeometry
from groundseg.orbits import Constellation
from groundseg.timegrid import TimeGrid

EPOCH = "2026-11-26T00:00:00Z"


@pytest.fixture(scope="module")
def geo():
    c = Constellation.formosat8(EPOCH)
    return ImagingGeometry(c.propagate(TimeGrid.range(EPOCH, "2026-11-27T00:00:00Z", 60.0)))


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(5)
    n = 600
    lat = np.arcsin(rng.uniform(-1, 1, n))
    lon = rng.uniform(-np.pi, np.pi, n)
    aim = geodetic_to_ecef(lat, lon, rng.uniform(0, 3, n))
    eta = np.radians(rng.choice([15.0, 30.0, 45.0, 55.0], n))
    sun = np.radians(rng.choice([-90.0, 0.0, 10.0], n))
    return aim, eta, sun


def _same(a, b):
    for name in ("sat", "point", "start_s", "end_s", "geometric"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name


def test_optical_access_in_chunks_equals_one_search(geo, points):
    aim, eta, sun = points
    whole = access_windows(geo, aim, eta, sun, chunk_points=len(aim))
    assert len(whole.sat) > 1000 and len(np.unique(whole.point)) > 400
    for size in (1, 7, 250):
        _same(access_windows(geo, aim, eta, sun, chunk_points=size), whole)
    seen = []
    access_windows(geo, aim, eta, sun, chunk_points=250, progress=lambda *a: seen.append(a))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    _same(access_windows(geo, aim, eta, sun, satellites=[1, 4], chunk_points=13),
          access_windows(geo, aim, eta, sun, satellites=[1, 4], chunk_points=len(aim)))


def test_incidence_band_in_chunks_equals_one_search(geo, points):
    aim = points[0][:200]
    band = IncidenceBound(np.full(200, np.radians(20.0)), np.full(200, np.radians(45.0)))
    whole = angle_bound_windows(geo, aim, band, chunk_points=200)
    assert whole[0].size > 200
    for got, want in zip(angle_bound_windows(geo, aim, band, chunk_points=9), whole):
        assert np.array_equal(got, want)


def test_default_chunk_bounds_the_products(geo):
    n = points_per_chunk(geo)
    assert 1 <= n * geo.n_sat * len(geo.grid_s) <= 100_000_000 < (n + 1) * geo.n_sat * len(geo.grid_s)
