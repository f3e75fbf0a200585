import os

import pytest

from .spot5_check import spot5_dir as _spot5_dir


@pytest.fixture(scope="session")
def spot5_dir():
    """The SPOT5 instance folder (see ``spot5_check.spot5_dir``); skips when absent."""
    path = _spot5_dir()
    if not os.path.isdir(path):
        pytest.skip(f"SPOT5 files not available in {path}")
    return path
