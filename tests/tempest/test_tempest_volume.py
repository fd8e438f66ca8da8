"""Run tempest's volume API tests (tempest.api.volume) against a real
ferrostack on SQLite and compare the outcome with known-failures-volume.txt.

  * fails when a test fails that is not listed in known-failures-volume.txt
    (a regression or a newly broken area) or when nothing passed at all;
  * writes a summary to tests/tempest/results/volume-latest.txt (and the raw
    subunit stream next to it) and prints it;
  * skipped only when FERROSTACK_SKIP_TEMPEST=1.

Knobs (environment):
  FERROSTACK_TEMPEST_CONCURRENCY  number of tempest workers; unset/0/1 = --serial
  FERROSTACK_TEMPEST_REGEX        test selection (default '^tempest\\.api\\.volume\\.')
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

KNOWN_FAILURES = HERE / "known-failures-volume.txt"
RESULTS_DIR = HERE / "results"
DEFAULT_REGEX = r"^tempest\.api\.volume\."
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


# pytest.ini sets a 300 s per-test timeout (pytest-timeout); a full volume run
# takes longer, so allow the tempest budget plus server start/stop and parsing.
def _public_image(srv):
    import requests

    h = {"X-Auth-Token": srv.admin_token()}
    r = requests.post(srv.url + "/image/v2/images", headers=h, timeout=30, json={
        "name": "tempest-volume-image", "disk_format": "raw", "container_format": "bare",
        "visibility": "public"})
    r.raise_for_status()
    image_id = r.json()["id"]
    r = requests.put(f"{srv.url}/image/v2/images/{image_id}/file", data=b"\0" * 1048576, timeout=30,
                     headers=dict(h, **{"Content-Type": "application/octet-stream"}))
    r.raise_for_status()
    return image_id


@pytest.mark.timeout(TEMPEST_TIMEOUT + 120)
def test_tempest_volume(tmp_path):
    if os.environ.get("FERROSTACK_SKIP_TEMPEST") == "1":
        pytest.skip("FERROSTACK_SKIP_TEMPEST=1")

    regex = os.environ.get("FERROSTACK_TEMPEST_REGEX", DEFAULT_REGEX)
    timeout = TEMPEST_TIMEOUT
    workroot = Path(os.environ.get("FERROSTACK_TEMPEST_WORKDIR", tmp_path))
    workspace = workroot / "tempest-volume"
    RESULTS_DIR.mkdir(exist_ok=True)
    out_subunit = RESULTS_DIR / "volume-latest.subunit"
    out_summary = RESULTS_DIR / "volume-latest.txt"

    srv = ferro.Server(tmp_path / "data")  # SQLite: no database_url
    srv.start()
    try:
        # Volume tests that make volumes from an image read [compute] image_ref.
        image_id = _public_image(srv)
        conf = gen_conf.generate(srv.url, srv.admin_password, workspace, force=True,
                                 extra_sections={"compute": {"image_ref": image_id,
                                                             "image_ref_alt": image_id}})
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
    text = tempest_results.summary_text(report, known, title="tempest.api.volume", extra_lines=extra)
    out_summary.write_text(text)
    print("\n" + text)

    if rc == "timeout":
        pytest.fail(f"tempest run timed out after {timeout:.0f}s; partial summary in {out_summary}")
    if not report.results:
        stderr = (workspace / "tempest-run.stderr").read_text(errors="replace")[-4000:]
        pytest.fail(f"tempest produced no results (rc={rc}); stderr tail:\n{stderr}")

    new, _old, _fixed = tempest_results.compare(report, known)
    assert not new, (
        f"{len(new)} tempest volume failure(s) not in {KNOWN_FAILURES.name}:\n"
        + "\n".join(f"  {r.id}: {r.reason}" for r in new)
        + f"\nfull summary: {out_summary}")
    assert len(report.passed) > 0, f"no tempest volume test passed; see {out_summary}"


if __name__ == "__main__":  # allow `python tests/tempest/test_tempest_volume.py`
    sys.exit(pytest.main([__file__, "-s", "-v"]))
