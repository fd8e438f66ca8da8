"""The test guest on a real L2 network (issue 11's data plane will rely on
it): tests/guest/smoke_net.py boots two guests with plain QEMU in a network
namespace of its own — DHCP from dnsmasq, a metadata service on
169.254.169.254, a static address from network_data.json — and logs in over
SSH as tempest's scenario tests do. Needs root (namespaces, taps)."""

import os
import shutil
import subprocess
import sys

import pytest

from guesthelp import GUEST_DIR, REPO, guest_image, requires_qemu

pytestmark = [
    requires_qemu,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespace, taps)"),
    pytest.mark.skipif(
        any(shutil.which(t) is None for t in ("ip", "dnsmasq", "ping", "ssh", "ssh-keygen",
                                              "genisoimage")),
        reason="needs ip, dnsmasq, ping, ssh, ssh-keygen, genisoimage (.ci/run installs them)"),
]


def test_guest_dhcp_metadata_ssh_in_a_namespace():
    guest_image()
    r = subprocess.run([sys.executable, str(REPO / "tests" / "guest" / "smoke_net.py"),
                        str(GUEST_DIR)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-4000:]
    assert "guest network smoke: all ok" in r.stdout
