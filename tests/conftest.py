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



@pytest.fixture(scope="session")
def postgres():
    """One throw-away PostgreSQL server for the session (tests/_postgres.py); skipped where
    PostgreSQL is not installed, except in CI (.ci/run installs it)."""
    from _postgres import PostgresServer, binaries
    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_target(request, tmp_path):
    """Where a test's archive lives: a new SQLite file, or a new schema of the session's
    PostgreSQL server (its URL). The same test runs against both back ends."""
    if request.param == "sqlite":
        return str(tmp_path / "a.sqlite")
    return request.getfixturevalue("postgres").fresh_url()
