"""Catalog reading speed: groundseg.catalog vs bare sgp4 and skyfield on the same TLE / OMM text.

Run: /work/venv/bin/python benchmarks/bench_catalog.py [n_records]
"""
import io
import json
import sys
import time

from sgp4 import omm as sgp4_omm
from sgp4.api import Satrec
from skyfield.api import load
from skyfield.iokit import parse_tle_file

sys.path.insert(0, '.')
from groundseg.catalog import format_omm, format_tle, parse_catalog, record_from_elements  # noqa: E402


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n=10000):
    records = [record_from_elements(
        norad_id=40000 + i, name=f'SAT {i}', epoch_jd=2461005.5, epoch_fr=0.25 + i * 1e-5,
        inclination_deg=97.6, raan_deg=i * 0.036, eccentricity=0.0012, arg_perigee_deg=90.0,
        mean_anomaly_deg=i * 0.7, mean_motion_rev_day=15.1 + i * 1e-6, bstar=3.1e-4, ndot=1.2e-5,
        intl_designator='2026-001A', rev_at_epoch=i % 100000) for i in range(n)]
    tle_text = format_tle(records)
    lines = tle_text.splitlines()
    data = tle_text.encode()
    ts = load.timescale(builtin=True)

    ours = best(lambda: parse_catalog(tle_text))
    bare = best(lambda: [Satrec.twoline2rv(lines[i + 1], lines[i + 2]) for i in range(0, len(lines), 3)])
    sky = best(lambda: list(parse_tle_file(io.BytesIO(data), ts)))
    print(f'TLE, {n} records (3-line):')
    print(f'  groundseg parse_catalog (validated) {ours * 1e3:8.1f} ms  {ours / n * 1e6:6.2f} us/record')
    print(f'  sgp4 Satrec.twoline2rv loop (no checks) {bare * 1e3:8.1f} ms  ratio ours/sgp4 {ours / bare:5.2f}')
    print(f'  skyfield parse_tle_file             {sky * 1e3:8.1f} ms  ratio ours/skyfield {ours / sky:5.2f}')

    for fmt in ('json', 'csv', 'xml'):
        text = format_omm(records, fmt=fmt)
        ours = best(lambda: parse_catalog(text), repeat=2)
        if fmt == 'json':
            def reference():
                for fields in json.loads(text):
                    sgp4_omm.initialize(Satrec(), fields)
        else:
            parse = sgp4_omm.parse_csv if fmt == 'csv' else sgp4_omm.parse_xml

            def reference():
                for fields in parse(io.StringIO(text)):
                    sgp4_omm.initialize(Satrec(), fields)
        ref = best(reference, repeat=2)
        print(f'OMM {fmt:4}: groundseg {ours * 1e3:7.1f} ms  sgp4.omm (no checks) {ref * 1e3:7.1f} ms  '
              f'ratio {ours / ref:5.2f}')


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
