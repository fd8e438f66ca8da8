"""tempest.api.compute against a real ferrostack on SQLite, compared with
known-failures-compute.txt (see runner.py for the knobs).

Before tempest starts, this creates (as admin, over HTTP) what tempest's
compute tests need:
  * two public images with a few bytes of data (`[compute] image_ref`,
    `image_ref_alt`);
  * a shared network "private" with an IPv4 subnet (`[compute]
    fixed_network_name`: tempest runs with create_isolated_networks=False);
  * an external network "public" with a subnet (`[network] public_network_id`,
    `floating_network_name`), the default external network, and a router
    between the two (as DevStack's "router1": floating IPs need it);
  * a volume type "multiattach" (`[volume] volume_type_multiattach`).
The seeded DevStack flavors 42 (m1.nano) and 84 (m1.micro) are
`flavor_ref` / `flavor_ref_alt` (resize goes from the first to the second).
The whole tempest.api.compute package runs (about 590 tests, ~6 min serial);
the compute flags in gen_conf.COMPUTE_FEATURES say what the fake-driver
compute implements."""

import pytest

import gen_conf
import runner

# The one API class that logs into its guest over SSH whatever
# run_validation says (before and after rebuilding a volume-backed server):
# it runs in test_tempest_scenario.py, where guests are reachable; the API
# suites leave it out.
V293_CLASS = r"servers\.test_server_actions\.ServerActionsV293TestJSON"
V293 = r"api\.compute\." + V293_CLASS
# With Nova: the compute API, and the image and network tests that need a
# compute service (image > server > snapshot dependencies; ports bound to a
# compute host), which the image and network runs leave out.
REGEX = (rf"^tempest\.api\.(compute\.(?!{V293_CLASS}\.|admin\.test_auto_allocate_network\.)"
         r"|image\.v2\.test_images_dependency\."
         r"|network\.admin\.test_ports\.PortsAdminExtendedAttrs)")


def _prepare(srv):
    h = runner.admin_headers(srv)
    image = runner.create_image(srv, h, "tempest-image")
    image_alt = runner.create_image(srv, h, "tempest-image-alt")
    private = runner.create_network(srv, h, "private", "10.0.0.0/24", shared=True)
    public = runner.create_public_network(srv, h)
    runner.create_router(srv, h, private, public)
    # The volume type tempest's multiattach tests create their volumes of.
    runner._post(srv, "/volume/v3/types",
                 {"volume_type": {"name": "multiattach",
                                  "extra_specs": {"multiattach": "<is> True"}}},
                 dict(h, **{"OpenStack-API-Version": "volume 3.67"}))
    sections = gen_conf.compute_sections(
        image["id"], image_alt["id"], flavor_ref="42", flavor_ref_alt="84",
        fixed_network_name="private", public_network_id=public["id"],
        floating_network_name=public["name"])
    sections["volume"] = {"volume_type_multiattach": "multiattach"}
    return sections


@pytest.mark.timeout(runner.PYTEST_TIMEOUT)
def test_tempest_compute(tmp_path):
    runner.run_service("compute", tmp_path, _prepare, default_regex=REGEX)


# Nova's "get me a network" (2.37 `networks: auto`): tempest runs it only
# when its projects see no shared network, as on DevStack (whose "private"
# network is not shared). The run above shares "private", so this class runs
# against a server of its own with just the default external network.
AUTO_ALLOCATE = r"^tempest\.api\.compute\.admin\.test_auto_allocate_network\."


def _prepare_unshared(srv):
    h = runner.admin_headers(srv)
    image = runner.create_image(srv, h, "tempest-image")
    image_alt = runner.create_image(srv, h, "tempest-image-alt")
    public = runner.create_public_network(srv, h)
    return gen_conf.compute_sections(
        image["id"], image_alt["id"], flavor_ref="42", flavor_ref_alt="84",
        public_network_id=public["id"], floating_network_name=public["name"])


@pytest.mark.timeout(runner.PYTEST_TIMEOUT)
def test_tempest_compute_auto_allocate(tmp_path):
    runner.run_service("compute", tmp_path, _prepare_unshared, name="compute-auto-allocate",
                       default_regex=AUTO_ALLOCATE)

