import pytest

from kshelp import Identity


@pytest.fixture
def ks(server):
    """Identity client holding an admin project-scoped token (both backends)."""
    return Identity(server, server.admin_token())


@pytest.fixture
def sks(sqlite_server):
    """Identity client holding an admin token (SQLite only)."""
    return Identity(sqlite_server, sqlite_server.admin_token())
