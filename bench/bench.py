#!/usr/bin/env python3
"""Benchmark driver (run it through bench/run.sh, which installs what it
needs). Full mode: upstream Keystone+Glance and ferrostack, one after the
other; --smoke: ferrostack only, a tiny data set, seconds."""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from harness import dataplane, guests, machine, report, runner, servers, transfer

BENCH = Path(__file__).resolve().parent


def parse():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--binary", required=True, help="the ferrostack binary")
    ap.add_argument("--venv", default=str(BENCH / ".work" / "venv"))
    ap.add_argument("--no-upstream", action="store_true", help="ferrostack only")
    ap.add_argument("--duration", type=int, help="whole seconds per measurement")
    ap.add_argument("--size", type=int,
                    help="users = projects = images (default 1000; smoke 20); servers: 10 per project")
    ap.add_argument("--no-pin", action="store_true",
                    help="let servers and load generator share every CPU (default: the "
                         "load generator gets the last CPU, the servers the others)")
    ap.add_argument("--out", help="results directory (default bench/results/DATE)")
    ap.add_argument("--no-guests", action="store_true", help="skip the real-guest scenarios")
    ap.add_argument("--guests-only", action="store_true",
                    help="only the real-guest scenarios (default out: bench/results/DATE-guests)")
    ap.add_argument("--accel", choices=["auto", "kvm", "tcg"],
                    default=os.environ.get("FERROSTACK_COMPUTE_ACCEL") or "tcg",
                    help="QEMU accelerator for both sides of the real-guest scenarios "
                         "(default: $FERROSTACK_COMPUTE_ACCEL, else tcg; auto lets ferrostack "
                         "probe KVM, ~5 s when it fails, and plain QEMU follows its choice)")
    ap.add_argument("--guest-boots", type=int,
                    help="sequential boots per side (default 10, smoke 1)")
    ap.add_argument("--guest-concurrency", type=int,
                    help="guests booted at once per side (default 8, smoke 2)")
    ap.add_argument("--no-dataplane", action="store_true",
                    help="skip the data-plane scenarios (namespaces, routers, floating IPs)")
    ap.add_argument("--dataplane-only", action="store_true",
                    help="only the data-plane scenarios (default out: "
                         "bench/results/DATE-dataplane)")
    ap.add_argument("--dataplane-rounds", type=int,
                    help="create -> SSH rounds and security-group rule changes (default 5)")
    return ap.parse_args()


class Config:
    def __init__(self, a):
        smoke = a.smoke
        self.smoke = smoke
        self.duration = a.duration or (1 if smoke else 5)
        self.concurrency = [1, 8] if smoke else [1, 8, 32]
        self.write_concurrency = [1, 8] if smoke else [1, 8, 32]
        self.users = self.projects = self.images = 20 if smoke else 1000
        self.server_projects = 3 if smoke else 1000   # × 10 servers each
        if a.size:
            self.users = self.projects = self.images = self.server_projects = a.size
        self.rounds = 4 if smoke else 12               # bcrypt cost
        self.settle = 0.5 if smoke else 5.0
        self.blob_size = (8 if smoke else 100) << 20
        self.transfer_rounds = 1 if smoke else 3
        self.skip_compute = False
        self.accel = a.accel
        self.guest_boots = a.guest_boots or (1 if smoke else 10)
        self.guest_concurrency = a.guest_concurrency or (2 if smoke else 8)
        self.guest_rounds = 1 if smoke else 2   # of the concurrent boots, per side
        self.dp_rounds = a.dataplane_rounds or 5
        self.blob = BENCH / ".work" / f"blob-{self.blob_size >> 20}MiB.bin"

    def public(self):
        return {k: v for k, v in vars(self).items() if k != "blob"}


def main():
    a = parse()
    cfg = Config(a)
    stamp = time.strftime("%Y-%m-%d")
    default = BENCH / ".work" / "smoke-results" if cfg.smoke else BENCH / "results" / stamp
    if a.guests_only and not cfg.smoke:
        default = BENCH / "results" / f"{stamp}-guests"
    if a.dataplane_only and not cfg.smoke:
        default = BENCH / "results" / f"{stamp}-dataplane"
    if a.dataplane_only:
        a.guests_only, a.no_guests = True, True   # neither the API nor the guest scenarios
    out = Path(a.out) if a.out else default
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    work = BENCH / ".work"
    work.mkdir(exist_ok=True)
    log_lines = []

    def log(msg):
        print(msg, flush=True)
        log_lines.append(msg)

    started = time.monotonic()
    res = {"machine": machine.describe(a.binary), "config": cfg.public()}
    split = machine.cpu_split(not a.no_pin)
    res["machine"]["cpu_split"] = split
    server_cores = res["machine"]["nproc"]
    if split:
        os.sched_setaffinity(0, split["load"])   # wrk and the Python clients inherit it
        servers.pin_servers(split["server"])
        server_cores = len(split["server"])
        log(f"servers on CPU {split['server']}, load generator on CPU {split['load']}")
    only_dp = a.dataplane_only
    if not a.guests_only:
        cfg.blob_md5, cfg.blob_sha256 = transfer.make_blob(cfg.blob, cfg.blob_size)
    failures = runner.Failures()
    upstream = not (cfg.smoke or a.no_upstream or a.guests_only)
    if upstream:
        t = machine.bcrypt_hash_seconds(Path(a.venv) / "bin" / "python", 12)
        res["bcrypt"] = {"cost": 12, "hash_s": t, "cores": server_cores,
                         "bound_rps": server_cores / t if t else None}
        if t:
            log(f"bcrypt cost 12: {t * 1000:.0f} ms per hash; bound "
                f"{res['bcrypt']['bound_rps']:.1f} token issues/s on {server_cores} server cores")

    if not a.guests_only:
        log("== ferrostack")
        data = work / ("ferro-smoke" if cfg.smoke else "ferro-data")
        if data.exists():
            shutil.rmtree(data)
        res["ferrostack"] = runner.run_side(
            lambda: servers.ferrostack(a.binary, data, raw, cfg.rounds), cfg, raw, log, failures,
            True)

    if not a.no_guests:
        # Guests and plain QEMU get every CPU (the same on both sides).
        cpus = sorted(split["server"] + split["load"]) if split else None
        res["guests"] = guests.run(a.binary, cfg, work, raw, log, failures, cpus)

    if not a.no_dataplane:
        cpus = sorted(split["server"] + split["load"]) if split else None
        res["dataplane"] = dataplane.run(a.binary, cfg, work, raw, log, failures, cpus)

    if upstream:
        log("== upstream keystone + glance")
        up = servers.Upstream(a.venv, work / "upstream-data", raw)
        up.setup()
        res["upstream"] = runner.run_side(up.target, cfg, raw, log, runner.Failures(), False)
        res["machine"]["upstream_versions"] = servers.versions(a.venv)

    res["dataplane_only"] = only_dp
    res["machine"]["loadavg_end"] = machine.loadavg()
    res["elapsed_s"] = time.monotonic() - started
    res["failures"] = list(failures)
    res["config"]["blob_size"] = cfg.blob_size
    (raw / "results.json").write_text(json.dumps(res, indent=2, default=str))
    (raw / "log.txt").write_text("\n".join(log_lines) + "\n")
    md = report.render(res)
    (out / "RESULTS.md").write_text(md)
    log(f"results: {out / 'RESULTS.md'} ({res['elapsed_s']:.0f} s)")
    if failures:
        print("FAILED scenarios on ferrostack:", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
