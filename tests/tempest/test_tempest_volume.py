"""tempest.api.volume against a real ferrostack on SQLite, compared with
known-failures-volume.txt (see runner.py for the knobs).

Volume tests that make volumes from an image read `[compute] image_ref`: a
public 1 MiB raw image is created for them."""

import pytest

import runner


def _prepare(srv):
    image = runner.create_image(srv, runner.admin_headers(srv), "tempest-volume-image",
                                data=b"\0" * 1048576)
    return {"compute": {"image_ref": image["id"], "image_ref_alt": image["id"]}}


@pytest.mark.timeout(runner.PYTEST_TIMEOUT)
def test_tempest_volume(tmp_path):
    runner.run_service("volume", tmp_path, _prepare)
