"""tempest.api.image against a real ferrostack on SQLite, compared with
known-failures-image.txt (see runner.py for the knobs)."""

import pytest

import runner


@pytest.mark.timeout(runner.PYTEST_TIMEOUT)
def test_tempest_image(tmp_path):
    runner.run_service("image", tmp_path)
