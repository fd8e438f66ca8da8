"""tempest.api.identity against a real ferrostack on SQLite, compared with
known-failures-identity.txt (see runner.py for the knobs)."""

import pytest

import runner


@pytest.mark.timeout(runner.PYTEST_TIMEOUT)
def test_tempest_identity(tmp_path):
    runner.run_service("identity", tmp_path)
