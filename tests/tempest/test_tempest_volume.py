"""tempest.api.volume against a real ferrostack on SQLite, compared with
known-failures-volume.txt (see runner.py for the knobs).

The volume tests that attach volumes to servers, back up attached volumes or
make volumes from an image run with compute (the fake driver), networking and
the image service on, as in a full cloud. Before tempest starts this creates
(as admin, over HTTP):
  * a public 1 MiB raw image (`[compute] image_ref`, `image_ref_alt`);
  * a shared network "private" with an IPv4 subnet (`[compute]
    fixed_network_name`) and an external network "public";
  * a volume type "multiattach" (`[volume] volume_type_multiattach`).
The [volume-feature-enabled] flags are tempest's defaults (gen_conf.py says
which are kept off and why)."""

import pytest

import gen_conf
import runner


def _prepare(srv):
    h = runner.admin_headers(srv)
    image = runner.create_image(srv, h, "tempest-volume-image", data=b"\0" * 1048576)
    runner.create_network(srv, h, "private", "10.0.0.0/24", shared=True)
    public = runner.create_public_network(srv, h)
    runner._post(srv, "/volume/v3/types",
                 {"volume_type": {"name": "multiattach",
                                  "extra_specs": {"multiattach": "<is> True"}}},
                 dict(h, **{"OpenStack-API-Version": "volume 3.67"}))
    sections = gen_conf.compute_sections(
        image["id"], image["id"], flavor_ref="42", flavor_ref_alt="84",
        fixed_network_name="private", public_network_id=public["id"],
        floating_network_name=public["name"])
    sections["volume"] = {"volume_type_multiattach": "multiattach"}
    return sections


@pytest.mark.timeout(runner.PYTEST_TIMEOUT)
def test_tempest_volume(tmp_path):
    runner.run_service("volume", tmp_path, _prepare)
