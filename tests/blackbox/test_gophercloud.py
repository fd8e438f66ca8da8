"""gophercloud's own acceptance tests (Debian's 0.12.0 sources, Go 1.19,
built offline in GOPATH mode) against the server: identity v3, compute v2,
networking v2, imageservice v2 and blockstorage v3.

The test starts the server, creates what the acceptance tests expect to
find (an image, a private network and subnet, an external network as the
floating IP pool; flavors 1 and 2 are seeded), sets the OS_* environment
acceptance/clients/clients.go reads, and runs
tests/clients/gophercloud/run.sh. It passes when no test fails that
tests/clients/gophercloud/baseline.txt does not list, and no package passes
fewer tests than its `min-pass` line there. Per-package counts are written
to tests/clients/gophercloud/results/summary.txt.

SQLite only: the run takes minutes and exercises the APIs, not storage."""

import collections
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
CLIENT = HERE.parent / "clients" / "gophercloud"
RUNNER = CLIENT / "run.sh"
BASELINE = CLIENT / "baseline.txt"
SOURCES = Path("/usr/share/gocode/src/github.com/gophercloud/gophercloud/acceptance")
TIMEOUT = 30

pytestmark = pytest.mark.skipif(
    not shutil.which("go") or not SOURCES.is_dir(),
    reason="needs golang-go and golang-github-gophercloud-gophercloud-dev (.ci/run installs them)")


def _post(server, tok, path, body, status=201):
    r = requests.post(server.url + path, json=body, headers={"X-Auth-Token": tok},
                      timeout=TIMEOUT)
    assert r.status_code == status, (path, r.status_code, r.text)
    return r.json()


def _image(server, tok, tmp_path):
    """A public qcow2 image (a real, tiny one: volumes may be made from it)."""
    disk = tmp_path / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1M"], check=True)
    img = _post(server, tok, "/image/v2/images", {
        "name": "cirros", "disk_format": "qcow2", "container_format": "bare",
        "visibility": "public"})
    r = requests.put(f"{server.url}/image/v2/images/{img['id']}/file", data=disk.read_bytes(),
                     headers={"X-Auth-Token": tok,
                              "Content-Type": "application/octet-stream"}, timeout=TIMEOUT)
    assert r.status_code == 204, r.text
    return img["id"]


def _networks(server, tok):
    """DevStack's `private` (with a subnet) and `public` (external) networks."""
    net = "/networking/v2.0"
    private = _post(server, tok, net + "/networks", {"network": {"name": "private"}})["network"]
    subnet = _post(server, tok, net + "/subnets", {"subnet": {
        "name": "private-subnet", "network_id": private["id"], "ip_version": 4,
        "cidr": "10.0.0.0/24"}})["subnet"]
    public = _post(server, tok, net + "/networks", {"network": {
        "name": "public", "router:external": True}})["network"]
    _post(server, tok, net + "/subnets", {"subnet": {
        "name": "public-subnet", "network_id": public["id"], "ip_version": 4,
        "cidr": "172.24.4.0/24", "enable_dhcp": False}})
    return private, subnet, public


def _environment(server, tmp_path):
    tok = server.admin_token()
    private, subnet, public = _networks(server, tok)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update({
        "OS_AUTH_URL": server.identity_url + "/v3",
        "OS_USERNAME": "admin",
        "OS_PASSWORD": server.admin_password,
        "OS_PROJECT_NAME": "admin",
        "OS_DOMAIN_ID": "default",
        "OS_REGION_NAME": "RegionOne",
        "OS_IMAGE_ID": _image(server, tok, tmp_path),
        "OS_FLAVOR_ID": "1",
        "OS_FLAVOR_ID_RESIZE": "2",
        "OS_NETWORK_NAME": private["name"],
        "OS_NETWORK_ID": private["id"],
        "OS_SUBNET_ID": subnet["id"],
        "OS_POOL_NAME": public["name"],
        "OS_EXTGW_ID": public["id"],
        "GOCACHE": env.get("GOCACHE") or str(Path.home() / ".cache" / "go-build"),
    })
    return env


def read_baseline(path=BASELINE):
    """({(package, test): reason}, {package: minimum passes})."""
    failures, min_pass = {}, {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 2)
        if fields[0] == "min-pass":
            min_pass[fields[1]] = int(fields[2])
        elif fields[0] != "exclude":  # run.sh reads those
            failures[(fields[0], fields[1])] = fields[2] if len(fields) > 2 else ""
    return failures, min_pass


def read_results(path):
    """{package: {status: [test, ...]}} from run.sh's results.txt."""
    out = collections.defaultdict(lambda: collections.defaultdict(list))
    for line in path.read_text().splitlines():
        pkg, status, name = line.split()
        out[pkg][status].append(name)
    return out


def summary(results):
    lines = []
    for pkg, by in sorted(results.items()):
        counts = " ".join(f"{s.lower()}={len(by.get(s, []))}" for s in ("PASS", "FAIL", "SKIP"))
        crash = " CRASHED" if by.get("CRASH") else ""
        lines.append(f"{pkg}: {counts}{crash}")
        lines += [f"  FAIL {t}" for t in by.get("FAIL", [])]
    return "\n".join(lines) + "\n"


def test_gophercloud_acceptance(sqlite_server, tmp_path):
    env = _environment(sqlite_server, tmp_path)
    out = tmp_path / "gophercloud"
    p = subprocess.run(["bash", str(RUNNER), str(out)], env=env, capture_output=True,
                       text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr[-3000:]
    results = read_results(out / "results.txt")
    (CLIENT / "results").mkdir(exist_ok=True)
    report = summary(results)
    (CLIENT / "results" / "summary.txt").write_text(report)
    for log in out.glob("*.log"):
        shutil.copy(log, CLIENT / "results" / log.name)

    expected, min_pass = read_baseline()
    new = [(pkg, t) for pkg, by in results.items() for t in by.get("FAIL", [])
           if (pkg, t) not in expected]
    crashed = [pkg for pkg, by in results.items() if by.get("CRASH")]
    fewer = {pkg: (len(results.get(pkg, {}).get("PASS", [])), want)
             for pkg, want in min_pass.items()
             if len(results.get(pkg, {}).get("PASS", [])) < want}
    assert not new and not crashed and not fewer, (
        f"new failures {new}, crashed {crashed}, fewer passes (got, want) {fewer}\n{report}")
