"""Ansible (12.3, its bundled openstack.cloud 2.5.0 collection) against the
server: tests/clients/ansible/create.yml makes a tenant's resources (image
from a file, network, subnet, router to an admin-made external network,
keypair, security group and rule, volume, a server with `wait: true`, the
volume attached, a floating IP on it), delete.yml removes them; the test
checks both playbooks succeed and that nothing is left.

The collection reads `openstack.version` without importing it (openstacksdk
4.x no longer imports it itself): the modules run under
tests/clients/ansible/interpreter.py, which imports it first (see there).

Known gap: openstack.cloud.server always sends `"tags": []`, valid from
compute 2.52 on; while the server's compute maximum is below 2.52 the server
task fails with 400, and the test is a strict xfail (it must fail, and only
at that task)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import openstack
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
import pytest
import requests
import yaml

from kshelp import Identity

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE.parent / "clients" / "ansible"
ANSIBLE = Path(sys.executable).parent / "ansible-playbook"
SERVER_TASK = "Server"
TAGS_MIN = (2, 52)

pytestmark = pytest.mark.skipif(
    not ANSIBLE.exists(), reason="ansible-playbook not in the test venv (tests/setup-venv.sh)")


def _compute_max(server):
    r = requests.get(server.url + "/compute/v2.1", timeout=10)
    assert r.status_code == 200, r.text
    major, minor = r.json()["version"]["version"].split(".")
    return int(major), int(minor)


def _clouds(server, tmp_path):
    ks = Identity(server, server.admin_token())
    user, project, _ = ks.user_with_role("member")
    auth_url = server.identity_url
    common = {"region_name": "RegionOne", "identity_api_version": 3, "interface": "public"}
    clouds = {"clouds": {
        "admin": dict(common, auth={
            "auth_url": auth_url, "username": "admin", "password": server.admin_password,
            "project_name": "admin", "user_domain_id": "default",
            "project_domain_id": "default"}),
        "demo": dict(common, auth={
            "auth_url": auth_url, "username": user["name"], "password": user["_password"],
            "project_id": project["id"], "user_domain_id": "default"}),
    }}
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds))
    return path


def _public_key():
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode() + " ansible-test"


def _interpreter(tmp_path):
    """interpreter.py with a `#!` line naming this venv's Python."""
    path = tmp_path / "python"
    path.write_text(f"#!{sys.executable}\n" + (PLAYBOOKS / "interpreter.py").read_text())
    path.chmod(0o755)
    return path


class Playbooks:
    def __init__(self, server, tmp_path):
        self.tmp = tmp_path
        home = tmp_path / "ansible-home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ANSIBLE_"))}
        env.update({
            "OS_CLIENT_CONFIG_FILE": str(_clouds(server, tmp_path)),
            "ANSIBLE_HOME": str(home),
            "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_PYTHON_INTERPRETER": str(_interpreter(tmp_path)),
            "PATH": f"{ANSIBLE.parent}:{env.get('PATH', '/usr/bin:/bin')}",
        })
        self.env = env
        image = tmp_path / "tiny.img"
        image.write_bytes(b"\0" * 65536)
        self.extra = {"image_file": str(image), "public_key": _public_key()}

    def run(self, name):
        """Run one playbook; returns (task name -> result, stderr text)."""
        cmd = [str(ANSIBLE), "-i", "localhost,", str(PLAYBOOKS / name),
               "-e", json.dumps(self.extra)]
        p = subprocess.run(cmd, env=self.env, cwd=self.tmp, capture_output=True, text=True,
                           timeout=600, stdin=subprocess.DEVNULL)
        try:
            doc = json.loads(p.stdout[p.stdout.index("{"):])
        except ValueError as e:
            raise AssertionError(f"{name}: no JSON output ({e})\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        results = {}
        for play in doc["plays"]:
            for t in play["tasks"]:
                results[t["task"]["name"]] = t["hosts"]["localhost"]
        return results, p.stderr


def _failed(results):
    return {name: r for name, r in results.items() if r.get("failed")}


def _msg(result):
    return json.dumps({k: result.get(k) for k in ("msg", "exception", "extra_data")})[:3000]


def _inventory(server):
    """Ids of everything a playbook could leave behind, across projects."""
    conn = openstack.connect(auth_url=server.identity_url, username="admin",
                             password=server.admin_password, project_name="admin",
                             user_domain_id="default", project_domain_id="default",
                             region_name="RegionOne")
    try:
        return {
            "servers": {s.id for s in conn.compute.servers(all_projects=True)},
            "volumes": {v.id for v in conn.block_storage.volumes(all_projects=True)},
            "images": {i.id for i in conn.image.images()},
            "networks": {n.id for n in conn.network.networks()},
            "subnets": {s.id for s in conn.network.subnets()},
            "routers": {r.id for r in conn.network.routers()},
            "ports": {p.id for p in conn.network.ports()},
            "floating_ips": {f.id for f in conn.network.ips()},
            "security_groups": {g.id for g in conn.network.security_groups()
                                if g.name != "default"},
            "security_group_rules": {r.id for r in conn.network.security_group_rules()
                                     if r.remote_ip_prefix == "0.0.0.0/0"
                                     and r.port_range_min == 22},
        }
    finally:
        conn.close()


def _keypairs(play):
    env_file = play.env["OS_CLIENT_CONFIG_FILE"]
    cfg = yaml.safe_load(Path(env_file).read_text())["clouds"]["demo"]
    c = openstack.connect(region_name=cfg["region_name"], **cfg["auth"])
    try:
        return {k.name for k in c.compute.keypairs()}
    finally:
        c.close()


def test_playbook_creates_and_deletes_everything(server, tmp_path, request):
    compute_max = _compute_max(server)
    play = Playbooks(server, tmp_path)
    before = _inventory(server)

    created, _ = play.run("create.yml")
    failed = _failed(created)
    deleted, _ = play.run("delete.yml")

    # The clean-up must work whatever create.yml did, and leave nothing.
    assert not _failed(deleted), {n: _msg(r) for n, r in _failed(deleted).items()}
    assert _inventory(server) == before
    assert _keypairs(play) == set()

    # Every task before the server's ran and succeeded.
    names = list(created)
    upto = names.index(SERVER_TASK) if SERVER_TASK in names else len(names)
    early = {n: _msg(r) for n, r in failed.items() if names.index(n) < upto}
    assert not early, early
    if compute_max < TAGS_MIN:
        # Only the server task may fail, and only for its `tags`.
        if failed:
            assert list(failed) == [SERVER_TASK], list(failed)
            assert "tags" in _msg(failed[SERVER_TASK]), _msg(failed[SERVER_TASK])
        request.node.add_marker(pytest.mark.xfail(
            strict=True, reason=f"compute max {compute_max} < 2.52: openstack.cloud.server "
                                f"sends \"tags\": [] (valid from 2.52)"))
    assert not failed, {n: _msg(r) for n, r in failed.items()}
    assert names[-1] == "Floating IP on the server", names
    srv = created[SERVER_TASK]["server"]
    assert srv["status"] == "ACTIVE", srv
    attachments = created["Volume attached to the server"]["volume"]["attachments"]
    assert [a["server_id"] for a in attachments] == [srv["id"]], attachments
    fip = created["Floating IP on the server"]["floating_ip"]
    assert fip["port_id"] and fip["fixed_ip_address"].startswith("10.30.0."), fip
    assert fip["floating_ip_address"].startswith("172.24.4."), fip
