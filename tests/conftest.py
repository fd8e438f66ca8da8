import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ferro  # noqa: E402


# The longest files, longest first. With `-n 2 --dist loadfile
# --no-loadscope-reorder` (tests/run.sh)
# each worker takes whole files in collection order, so these start at once
# and overlap with the hundreds of short files instead of running alone at
# the end. The rest keep their order.
SLOW_FIRST = [
    "tempest/test_tempest_scenario.py",
    "tempest/test_tempest_compute.py",
    # Runs on the scenario's worker, after it (each worker starts with two).
    "tempest/test_tempest_compute_qemu.py",
    # Beside the scenario (real guests under TCG, CPU-bound): the API
    # suites, which mostly wait; the other QEMU files come after them.
    "tempest/test_tempest_volume.py",
    "tempest/test_tempest_network.py",
    "tempest/test_tempest_identity.py",
    "tempest/test_tempest_image.py",
    "blackbox/test_qemu_guests.py",
    "blackbox/test_gophercloud.py",
    "blackbox/test_dataplane_routers.py",
]


def pytest_collection_modifyitems(session, config, items):
    here = Path(__file__).resolve().parent
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}

    def key(item):
        try:
            rel = Path(item.fspath).resolve().relative_to(here).as_posix()
        except ValueError:
            return len(SLOW_FIRST)
        return rank.get(rel, len(SLOW_FIRST))

    items.sort(key=key)


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
