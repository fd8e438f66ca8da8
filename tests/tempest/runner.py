"""Shared runner for the per-service tempest tests (test_tempest_<service>.py).

`run_service(service, tmp_path, prepare=None)` starts a real ferrostack on
SQLite, lets `prepare(srv)` create what that service's tempest tests need
(returning extra tempest.conf sections), writes tempest.conf, runs
`tempest run --regex ^tempest\\.api\\.<service>\\.` and compares the outcome
with known-failures-<service>.txt:

  * fails when a test fails that is not listed in the known-failures file (a
    regression or a newly broken area), or when nothing passed at all;
  * writes a summary to tests/tempest/results/<service>-latest.txt (and the raw
    subunit stream next to it) and prints it;
  * skipped when FERROSTACK_SKIP_TEMPEST=1.

Knobs (environment):
  FERROSTACK_TEMPEST_CONCURRENCY      number of tempest workers (default 4: the waits dominate); 0/1 = --serial
  FERROSTACK_TEMPEST_<SERVICE>_REGEX  test selection (default '^tempest\\.api\\.<service>\\.'),
                                      e.g. FERROSTACK_TEMPEST_COMPUTE_REGEX
  FERROSTACK_TEMPEST_TIMEOUT          seconds for one tempest run (default 1800)
  FERROSTACK_TEMPEST_WORKDIR          where to put the tempest workspace (default: pytest tmp dir)
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import ferro  # noqa: E402
import gen_conf  # noqa: E402
import nsforward  # noqa: E402
import tempest_results  # noqa: E402

RESULTS_DIR = HERE / "results"
TEMPEST_TIMEOUT = float(os.environ.get("FERROSTACK_TEMPEST_TIMEOUT", "1800"))
# pytest.ini sets a 300 s per-test timeout (pytest-timeout); a tempest run takes
# longer, so the runners allow the tempest budget plus server start/stop and parsing.
PYTEST_TIMEOUT = TEMPEST_TIMEOUT + 120


def _concurrency():
    return int(os.environ.get("FERROSTACK_TEMPEST_CONCURRENCY", "4") or 0)


def _tempest_cmd(regex, concurrency=None):
    cmd = [str(gen_conf.VENV_BIN / "tempest"), "run", "--regex", regex]
    conc = _concurrency() if concurrency is None else concurrency
    cmd += ["--concurrency", str(conc)] if conc > 1 else ["--serial"]
    cmd.append("--subunit")
    return cmd


def _run_tempest(workspace, regex, out_subunit, timeout, concurrency=None, namespace=None):
    env = dict(os.environ)
    # Make sure nothing from the caller's shell leaks into tempest's config lookup.
    env["TEMPEST_CONFIG_DIR"] = str(workspace / "etc")
    env["TEMPEST_CONFIG"] = "tempest.conf"
    for k in [k for k in env if k.startswith("OS_")]:
        del env[k]
    env["PATH"] = str(gen_conf.VENV_BIN) + os.pathsep + env.get("PATH", "")
    cmd = _tempest_cmd(regex, concurrency)
    if namespace:
        cmd = ["ip", "netns", "exec", namespace] + cmd
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


# --- what the services' tempest tests expect to exist (created as admin over HTTP) ---

def _post(srv, path, body, h):
    r = requests.post(srv.url + path, headers=h, timeout=30, json=body)
    assert r.status_code in (200, 201), f"{path}: {r.status_code} {r.text}"
    return r.json()


def admin_headers(srv):
    return {"X-Auth-Token": srv.admin_token()}


def create_network(srv, h, name, cidr, **attrs):
    """A network with one IPv4 subnet (no DHCP)."""
    net = _post(srv, "/networking/v2.0/networks", {"network": dict(name=name, **attrs)},
                h)["network"]
    _post(srv, "/networking/v2.0/subnets", {"subnet": {
        "name": name + "-subnet", "network_id": net["id"], "ip_version": 4,
        "cidr": cidr, "enable_dhcp": False}}, h)
    return net


def create_public_network(srv, h):
    """The external flat network "public" tempest allocates floating IPs from."""
    return create_network(srv, h, "public", "172.24.4.0/24", **{
        "router:external": True, "shared": False, "is_default": True,
        "provider:network_type": "flat", "provider:physical_network": "public"})


def create_router(srv, h, network, public):
    """A router from `network`'s subnet to `public`, as DevStack makes
    between "private" and "public" (floating IPs need one)."""
    router = _post(srv, "/networking/v2.0/routers", {"router": {
        "name": "router1", "external_gateway_info": {"network_id": public["id"]}}}, h)["router"]
    subnets = requests.get(srv.url + "/networking/v2.0/subnets", headers=h, timeout=30,
                           params={"network_id": network["id"]}).json()["subnets"]
    r = requests.put(srv.url + f"/networking/v2.0/routers/{router['id']}/add_router_interface",
                     headers=h, timeout=30, json={"subnet_id": subnets[0]["id"]})
    assert r.status_code == 200, r.text
    return router


def create_image(srv, h, name, data=None, disk_format="raw"):
    """A public image (raw unless told) with a little data (or `data`: bytes
    or an open file), active."""
    img = _post(srv, "/image/v2/images", {
        "name": name, "visibility": "public", "disk_format": disk_format,
        "container_format": "bare", "min_disk": 0, "min_ram": 0}, h)
    if data is None:
        data = b"ferrostack tempest image " + name.encode() + b"\n" * 64
    r = requests.put(srv.url + f"/image/v2/images/{img['id']}/file", timeout=120,
                     headers=dict(h, **{"Content-Type": "application/octet-stream"}),
                     data=data)
    assert r.status_code == 204, r.text
    return img


# --- the run ---

def run_service(service, tmp_path, prepare=None, name=None, default_regex=None,
                server_kwargs=None, concurrency=None, timeout=None, namespace=None):
    """Run tempest.api.<service> against a fresh server; fail on new failures.

    `name` (default: the service) names the known-failures file, the results
    and the regex variable (FERROSTACK_TEMPEST_<NAME>_REGEX); `server_kwargs`
    go to ferro.Server (e.g. driver="qemu"); `concurrency`/`timeout` override
    the environment's; `namespace(srv)` names a network namespace tempest
    runs in (the API reached through nsforward.Forwarder)."""
    if os.environ.get("FERROSTACK_SKIP_TEMPEST") == "1":
        pytest.skip("FERROSTACK_SKIP_TEMPEST=1")

    name = name or service
    timeout = TEMPEST_TIMEOUT if timeout is None else timeout
    known_failures = HERE / f"known-failures-{name}.txt"
    default_regex = default_regex or rf"^tempest\.api\.{service}\."
    regex = os.environ.get(f"FERROSTACK_TEMPEST_{name.upper()}_REGEX", default_regex)
    workroot = Path(os.environ.get("FERROSTACK_TEMPEST_WORKDIR", tmp_path))
    workspace = workroot / f"tempest-{name}"
    RESULTS_DIR.mkdir(exist_ok=True)
    out_subunit = RESULTS_DIR / f"{name}-latest.subunit"
    out_summary = RESULTS_DIR / f"{name}-latest.txt"

    srv = ferro.Server(tmp_path / "data", **(server_kwargs or {}))  # SQLite: no database_url
    srv.start()
    try:
        sections = prepare(srv) if prepare else None
        conf = gen_conf.generate(srv.url, srv.admin_password, workspace, force=True,
                                 extra_sections=sections)
        ns = namespace(srv) if namespace else None
        fwd = nsforward.Forwarder(ns, int(srv.url.rsplit(":", 1)[1])).start() if ns else None
        try:
            cmd, rc, elapsed = _run_tempest(workspace, regex, out_subunit, timeout,
                                            concurrency, namespace=ns)
        finally:
            if fwd:
                fwd.stop()
    finally:
        srv.stop(timeout=60.0)

    report = tempest_results.parse(out_subunit)
    known = tempest_results.load_known_failures(known_failures)
    extra = [
        f"command: {' '.join(cmd)}  (rc={rc}, {elapsed:.0f}s)",
        f"workspace: {workspace}  (tempest log: {workspace / 'logs' / 'tempest.log'})",
        f"config: {conf}",
        f"server log: {srv.log_path}",
    ]
    text = tempest_results.summary_text(report, known, title=("tempest.scenario" if service == "scenario"
                                               else f"tempest.api.{service}")
                                        + (f" ({name})" if name != service else ""),
                                        extra_lines=extra)
    out_summary.write_text(text)
    print("\n" + text)

    if rc == "timeout":
        pytest.fail(f"tempest run timed out after {timeout:.0f}s; "
                    f"partial summary in {out_summary}")
    if not report.results:
        stderr = (workspace / "tempest-run.stderr").read_text(errors="replace")[-4000:]
        pytest.fail(f"tempest produced no results (rc={rc}); stderr tail:\n{stderr}")

    new, _old, _fixed = tempest_results.compare(report, known)
    assert not new, (
        f"{len(new)} tempest {name} failure(s) not in {known_failures.name}:\n"
        + "\n".join(f"  {r.id}: {r.reason}" for r in new)
        + f"\nfull summary: {out_summary}")
    assert len(report.passed) > 0, f"no tempest {name} test passed; see {out_summary}"
