import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


def _configure_astropy_offline():
    try:
        from astropy.utils import iers
    except ImportError:  # pragma: no cover
        return
    iers.conf.auto_download = False
    iers.conf.auto_max_age = None


_configure_astropy_offline()


@pytest.fixture
def rng():
    return np.random.default_rng(20261126)

