import numpy as np
import pytest

from groundseg.errors import StationError
from groundseg.stations import (bundled_stations, load_stations, parse_stations_csv,
                                parse_stations_toml)


def test_bundled_network():
    names = [s.name for s in bundled_stations()]
    assert names == ["Hsinchu", "Taoyuan", "Tainan", "Svalbard", "Troll"]


def test_csv_with_and_without_min_elevation(tmp_path):
    p = tmp_path / "st.csv"
    p.write_text("name,latitude_deg,longitude_deg,altitude_m,min_elevation_deg\nA,10,20,30,7\nB,-10,200,0,\n")
    a, b = load_stations(p)
    assert a.min_elevation_deg == 7 and b.min_elevation_deg == 5.0
    p.write_text("name,latitude_deg,longitude_deg,altitude_m,min_elevation_deg\nA,10,20,30\n")
    assert load_stations(p)[0].min_elevation_deg == 5.0
    p.write_text("name,latitude_deg,longitude_deg,altitude_m\nA,10,20,30\n")
    assert load_stations(p)[0].altitude_m == 30


def test_mask_is_linear_and_wraps():
    s = parse_stations_toml("""
[[station]]
name = "M"
latitude_deg = 0
longitude_deg = 0
min_elevation_deg = 0
mask = [[10, 10], [90, 2], [350, 6]]
""")[0]
    el = s.mask_elevation_deg([10, 50, 90, 220, 350, 0, 5])
    np.testing.assert_allclose(el, [10, 6, 2, 4, 6, 8, 9])


@pytest.mark.parametrize("text,match", [
    ("name,latitude_deg,longitude_deg,altitude_m,min_elevation_deg\nA,10,20,0,-6\n", ":2: minimum elevation"),
    ("name,latitude_deg,longitude_deg,altitude_m\nA,95,20,0\n", ":2: latitude"),
    ("name,latitude_deg,longitude_deg,altitude_m\nA,x,20,0\n", ":2: latitude_deg 'x' is not a number"),
    ("name,latitude\nA,1\n", "header lacks"),
    ("name,latitude_deg,longitude_deg,altitude_m\nA,1,2,3\nA,1,2,3\n", "appears twice"),
    ("", "no stations"),
])
def test_bad_csv(text, match):
    with pytest.raises(StationError, match=match):
        parse_stations_csv(text, "st.csv")


def test_bad_toml():
    with pytest.raises(StationError, match="station 1: mask elevation 95"):
        parse_stations_toml('[[station]]\nname="A"\nlatitude_deg=1\nlongitude_deg=2\nmask=[[0,95]]\n', "s.toml")
    with pytest.raises(StationError, match="missing key 'latitude_deg'"):
        parse_stations_toml('[[station]]\nname="A"\nlongitude_deg=2\n', "s.toml")
