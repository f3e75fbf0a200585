import os
import subprocess

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
    """One throw-away PostgreSQL server for the session (tests/_postgres.py). A test that needs
    it fails where PostgreSQL is missing or cannot start (.ci/run installs Debian's postgresql);
    it is skipped only when GROUNDSEG_SKIP_POSTGRES=1 says so."""
    from _postgres import PostgresServer
    if os.environ.get("GROUNDSEG_SKIP_POSTGRES") == "1":
        pytest.skip("GROUNDSEG_SKIP_POSTGRES=1")
    server = None
    try:
        server = PostgresServer()
        server.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        if server is not None:
            server.stop()
        detail = getattr(exc, "stderr", "") or ""
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc} {detail.strip()}"
                    " (apt-get install postgresql, or GROUNDSEG_SKIP_POSTGRES=1 to skip these tests)")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_target(request, tmp_path):
    """Where a test's archive lives: a new SQLite file, or a new schema of the session's
    PostgreSQL server (its URL). The same test runs against both back ends."""
    if request.param == "sqlite":
        return str(tmp_path / "a.sqlite")
    return request.getfixturevalue("postgres").fresh_url()
