import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ferro  # noqa: E402


def _backends():
    return ["sqlite", "postgres"]


@pytest.fixture(params=_backends())
def backend(request):
    """Each test using `server` runs once per database backend."""
    if request.param == "postgres" and not ferro.POSTGRES_URL:
        pytest.skip("FERROSTACK_TEST_POSTGRES_URL is not set")
    return request.param


@pytest.fixture
def server(backend, tmp_path):
    """A running ferrostack on a fresh data dir (and fresh Postgres database)."""
    drop = None
    url = None
    if backend == "postgres":
        url, drop = ferro.fresh_postgres_database()
    srv = ferro.Server(tmp_path / "data", database_url=url)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        if drop:
            drop()


@pytest.fixture
def sqlite_server(tmp_path):
    """A running ferrostack on SQLite only (for tests not about storage)."""
    srv = ferro.Server(tmp_path / "data")
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
