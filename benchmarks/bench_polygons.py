"""Polygon targets: loading (validity, area, centroid) and strips, against doing the same
checks by hand with the libraries a user would reach for.

    python benchmarks/bench_polygons.py [--vertices 20000 100000] [--repeat 5]

For each size, a star-shaped ring (never self-intersecting) around Taiwan: groundseg's
``parse_targets_geojson`` (GEOS validity in the equal-area plane, area, centroid), then the
reference: shapely's ``is_valid`` on the longitude / latitude ring plus PROJ's geodesic area
(``pyproj.Geod``). Medians of ``--repeat`` runs in this process; ratio printed. The O(n^2)
edge-pair check this replaced took 17 s for 20,000 vertices and 14 minutes for 100,000.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from groundseg.targets import parse_targets_geojson  # noqa: E402


def _ring(n):
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 0.3 * (1 + 0.3 * np.sin(7 * a))
    return 121 + r * np.cos(a), 24 + r * np.sin(a)


def _median(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vertices", type=int, nargs="+", default=[20_000, 100_000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    import shapely
    from pyproj import Geod
    geod = Geod(ellps="WGS84")
    for n in args.vertices:
        lon, lat = _ring(n)
        ring = np.stack([lon, lat], 1).tolist()
        text = json.dumps({"type": "Feature", "properties": {"id": "p"},
                           "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]}})
        ours, targets = _median(lambda: parse_targets_geojson(text), args.repeat)
        strips, s = _median(lambda: targets.strips(0, 10.0, 10.0), args.repeat)

        def reference():
            assert shapely.is_valid(shapely.Polygon(np.stack([lon, lat], 1)))
            return abs(geod.polygon_area_perimeter(lon, lat)[0]) / 1e6
        ref, area = _median(reference, args.repeat)
        print(f"{n:>7,} vertices: groundseg load {ours:.3f} s (area {targets.area_km2[0]:.3f} km2, "
              f"{targets.area_km2[0] / area - 1:+.1e} from PROJ's geodesic), strips {strips:.3f} s "
              f"({len(s)} at 10 km); shapely is_valid + pyproj geodesic area {ref:.3f} s; "
              f"ratio {ours / ref:.1f}x")


if __name__ == "__main__":
    main()
