"""tempest.api.network against a real ferrostack on SQLite, compared with
known-failures-network.txt (see runner.py for the knobs).

Before tempest starts, the external flat network "public" with an IPv4 subnet
is created as `[network] public_network_id`.

The port-binding classes need a compute service (they bind ports to its
host): they run in test_tempest_compute.py, with Nova, as on DevStack."""

import pytest

import gen_conf
import runner


WITH_COMPUTE = r"admin\.test_ports\.PortsAdminExtendedAttrs"
REGEX = rf"^tempest\.api\.network\.(?!{WITH_COMPUTE})"


def _prepare(srv):
    public = runner.create_public_network(srv, runner.admin_headers(srv))
    return gen_conf.network_sections(public["id"], public["name"])


@pytest.mark.timeout(runner.PYTEST_TIMEOUT)
def test_tempest_network(tmp_path):
    runner.run_service("network", tmp_path, _prepare, default_regex=REGEX)
