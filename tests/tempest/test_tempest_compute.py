"""Run tempest's compute API tests (tempest.api.compute) against a real
ferrostack on SQLite and compare the outcome with known-failures-compute.txt.

Before tempest starts, the fixture creates (as admin, over HTTP) what
tempest's compute tests need:
  * two public images with a few bytes of data (`[compute] image_ref`,
    `image_ref_alt`);
  * a shared network "private" with an IPv4 subnet (`[compute]
    fixed_network_name`: tempest runs with create_isolated_networks=False);
  * an external network "public" with a subnet (`[network] public_network_id`,
    `floating_network_name`).
The seeded DevStack flavors 42 (m1.nano) and 84 (m1.micro) are
`flavor_ref` / `flavor_ref_alt` (resize goes from the first to the second).
The whole tempest.api.compute package runs (about 590 tests, ~4 min with
FERROSTACK_TEMPEST_CONCURRENCY=2, longer with --serial); the compute flags
in gen_conf.COMPUTE_FEATURES say what the fake-driver compute implements.

  * fails when a test fails that is not listed in known-failures-compute.txt
    (a regression or a newly broken area) or when nothing passed at all;
  * writes a summary to tests/tempest/results/compute-latest.txt (and the raw
    subunit stream next to it) and prints it;
  * skipped only when FERROSTACK_SKIP_TEMPEST=1.

Knobs (environment):
  FERROSTACK_TEMPEST_CONCURRENCY  number of tempest workers; unset/0/1 = --serial
  FERROSTACK_TEMPEST_COMPUTE_REGEX        test selection (default '^tempest\\.api\\.compute\\.')
  FERROSTACK_TEMPEST_TIMEOUT      seconds for the whole tempest run (default 1800)
  FERROSTACK_TEMPEST_WORKDIR      where to put the tempest workspace (default: pytest tmp dir)
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import ferro  # noqa: E402
import gen_conf  # noqa: E402
import tempest_results  # noqa: E402

KNOWN_FAILURES = HERE / "known-failures-compute.txt"
RESULTS_DIR = HERE / "results"
DEFAULT_REGEX = r"^tempest\.api\.compute\."
TEMPEST_TIMEOUT = float(os.environ.get("FERROSTACK_TEMPEST_TIMEOUT", "1800"))


def _tempest_cmd(regex, subunit=True):
    cmd = [str(gen_conf.VENV_BIN / "tempest"), "run", "--regex", regex]
    conc = int(os.environ.get("FERROSTACK_TEMPEST_CONCURRENCY", "0") or 0)
    cmd += ["--concurrency", str(conc)] if conc > 1 else ["--serial"]
    if subunit:
        cmd.append("--subunit")
    return cmd


def _run_tempest(workspace, regex, out_subunit, timeout):
    env = dict(os.environ)
    # Make sure nothing from the caller's shell leaks into tempest's config lookup.
    env["TEMPEST_CONFIG_DIR"] = str(workspace / "etc")
    env["TEMPEST_CONFIG"] = "tempest.conf"
    for k in [k for k in env if k.startswith("OS_")]:
        del env[k]
    env["PATH"] = str(gen_conf.VENV_BIN) + os.pathsep + env.get("PATH", "")
    cmd = _tempest_cmd(regex)
    started = time.monotonic()
    with open(out_subunit, "wb") as out, open(workspace / "tempest-run.stderr", "wb") as err:
        proc = subprocess.Popen(cmd, cwd=str(workspace), env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # our own process group only
            proc.wait()
            rc = "timeout"
    return cmd, rc, time.monotonic() - started


def _post(srv, path, body, h):
    import requests
    r = requests.post(srv.url + path, headers=h, timeout=10, json=body)
    assert r.status_code in (200, 201), f"{path}: {r.status_code} {r.text}"
    return r.json()


def _create_network(srv, h, name, cidr, **attrs):
    net = _post(srv, "/networking/v2.0/networks", {"network": dict(name=name, **attrs)},
                h)["network"]
    _post(srv, "/networking/v2.0/subnets", {"subnet": {
        "name": name + "-subnet", "network_id": net["id"], "ip_version": 4,
        "cidr": cidr, "enable_dhcp": False}}, h)
    return net


def _create_image(srv, h, name):
    import requests
    img = _post(srv, "/image/v2/images", {
        "name": name, "visibility": "public", "disk_format": "raw",
        "container_format": "bare", "min_disk": 0, "min_ram": 0}, h)
    r = requests.put(srv.url + f"/image/v2/images/{img['id']}/file", timeout=10,
                     headers=dict(h, **{"Content-Type": "application/octet-stream"}),
                     data=b"ferrostack tempest image " + name.encode() + b"\n" * 64)
    assert r.status_code == 204, r.text
    return img


def _prepare(srv):
    """Images, a shared fixed network and an external network for tempest."""
    h = {"X-Auth-Token": srv.admin_token()}
    image = _create_image(srv, h, "tempest-image")
    image_alt = _create_image(srv, h, "tempest-image-alt")
    _create_network(srv, h, "private", "10.0.0.0/24", shared=True)
    public = _create_network(srv, h, "public", "172.24.4.0/24", **{
        "router:external": True, "shared": False,
        "provider:network_type": "flat", "provider:physical_network": "public"})
    return gen_conf.compute_sections(
        image["id"], image_alt["id"], flavor_ref="42", flavor_ref_alt="84",
        fixed_network_name="private", public_network_id=public["id"],
        floating_network_name=public["name"])


# pytest.ini sets a 300 s per-test timeout (pytest-timeout); a full compute run
# takes longer, so allow the tempest budget plus server start/stop and parsing.
@pytest.mark.timeout(TEMPEST_TIMEOUT + 120)
def test_tempest_compute(tmp_path):
    if os.environ.get("FERROSTACK_SKIP_TEMPEST") == "1":
        pytest.skip("FERROSTACK_SKIP_TEMPEST=1")

    regex = os.environ.get("FERROSTACK_TEMPEST_COMPUTE_REGEX", DEFAULT_REGEX)
    timeout = TEMPEST_TIMEOUT
    workroot = Path(os.environ.get("FERROSTACK_TEMPEST_WORKDIR", tmp_path))
    workspace = workroot / "tempest-compute"
    RESULTS_DIR.mkdir(exist_ok=True)
    out_subunit = RESULTS_DIR / "compute-latest.subunit"
    out_summary = RESULTS_DIR / "compute-latest.txt"

    srv = ferro.Server(tmp_path / "data")  # SQLite: no database_url
    srv.start()
    try:
        sections = _prepare(srv)
        conf = gen_conf.generate(srv.url, srv.admin_password, workspace, force=True,
                                 extra_sections=sections)
        cmd, rc, elapsed = _run_tempest(workspace, regex, out_subunit, timeout)
    finally:
        srv.stop()

    report = tempest_results.parse(out_subunit)
    known = tempest_results.load_known_failures(KNOWN_FAILURES)
    extra = [
        f"command: {' '.join(cmd)}  (rc={rc}, {elapsed:.0f}s)",
        f"workspace: {workspace}  (tempest log: {workspace / 'logs' / 'tempest.log'})",
        f"config: {conf}",
        f"server log: {srv.log_path}",
    ]
    text = tempest_results.summary_text(report, known, title="tempest.api.compute", extra_lines=extra)
    out_summary.write_text(text)
    print("\n" + text)

    if rc == "timeout":
        pytest.fail(f"tempest run timed out after {timeout:.0f}s; partial summary in {out_summary}")
    if not report.results:
        stderr = (workspace / "tempest-run.stderr").read_text(errors="replace")[-4000:]
        pytest.fail(f"tempest produced no results (rc={rc}); stderr tail:\n{stderr}")

    new, _old, _fixed = tempest_results.compare(report, known)
    assert not new, (
        f"{len(new)} tempest compute failure(s) not in {KNOWN_FAILURES.name}:\n"
        + "\n".join(f"  {r.id}: {r.reason}" for r in new)
        + f"\nfull summary: {out_summary}")
    assert len(report.passed) > 0, f"no tempest compute test passed; see {out_summary}"


if __name__ == "__main__":  # allow `python tests/tempest/test_tempest_compute.py`
    sys.exit(pytest.main([__file__, "-s", "-v"]))
