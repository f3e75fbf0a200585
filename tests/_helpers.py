"""Shared test helpers: reference inputs built independently of groundseg."""
import numpy as np


def random_leo_tles(rng, n, epoch_jd=2461370.5, epoch_fr=0.25, alt_km=(300.0, 1200.0),
                    ecc_max=0.01, first_id=80000):
    """Random LEO TLE line pairs built with sgp4's own initialiser and exporter."""
    from sgp4.api import Satrec, WGS72
    from sgp4.exporter import export_tle
    out = []
    for i in range(n):
        alt = rng.uniform(*alt_km)
        a = 6378.137 + alt
        n_rad_min = np.sqrt(398600.4418 / a**3) * 60.0
        s = Satrec()
        s.sgp4init(WGS72, "i", first_id + i, (epoch_jd - 2433281.5) + epoch_fr,
                   rng.uniform(0, 1e-4), 0.0, 0.0, rng.uniform(0, ecc_max),
                   rng.uniform(0, 2 * np.pi), rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi),
                   n_rad_min, rng.uniform(0, 2 * np.pi))
        l1, l2 = export_tle(s)
        out.append((f"SAT-{i}", l1, l2))
    return out
