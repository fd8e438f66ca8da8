"""Drive one scenario with wrk and measure the server meanwhile."""

import json
import os
import subprocess
from pathlib import Path

from . import procs

LUA = Path(__file__).resolve().parent.parent / "wrk" / "request.lua"


class Request:
    """What wrk sends: method, absolute URL, headers, optional body."""

    def __init__(self, url, method="GET", headers=None, body=None, count_status=False):
        self.url = url
        self.method = method
        self.headers = headers or {}
        self.body = body
        self.count_status = count_status


def run_wrk(req, conns, duration, raw_path, timeout_s=30):
    """wrk for `duration` seconds with `conns` connections; the parsed
    summary. The full wrk output is kept at raw_path."""
    env = dict(os.environ)
    env["WRK_METHOD"] = req.method
    env["WRK_HEADERS"] = "|".join(f"{k}: {v}" for k, v in req.headers.items())
    env["WRK_COUNT_STATUS"] = "1" if req.count_status else "0"
    env.pop("WRK_BODY_FILE", None)
    if req.body is not None:
        body_path = raw_path.with_suffix(".body")
        body_path.write_bytes(req.body if isinstance(req.body, bytes)
                              else json.dumps(req.body).encode())
        env["WRK_BODY_FILE"] = str(body_path)
    threads = 1 if conns < 4 else 2
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration:g}s",
           "--timeout", f"{timeout_s}s", "--latency", "-s", str(LUA), req.url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    raw_path.write_text(f"$ {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    for line in out.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line[len("WRK_JSON "):])
    raise RuntimeError(f"wrk gave no summary (exit {out.returncode}): {out.stderr[-500:]}")


def measure(server, req, conns, duration, raw_path):
    """One measurement: wrk's numbers plus the server's CPU and peak RSS."""
    procs.quiesce(server.pid)
    with procs.Usage(server.pid) as usage:
        w = run_wrk(req, conns, duration, raw_path)
    drain_s = procs.quiesce(server.pid)
    seconds = w["duration_us"] / 1e6
    ok = w["requests"] - w["err_status"]
    if req.count_status:
        errors = w["s3xx"] + w["s4xx"] + w["s5xx"]
    else:
        errors = w["err_status"]
    return {
        "server": server.name,
        "conns": conns,
        "requests": w["requests"],
        "rps": w["requests"] / seconds if seconds else 0.0,
        "p50_ms": w["p50_us"] / 1000,
        "p99_ms": w["p99_us"] / 1000,
        "errors": errors + w["err_timeout"] + w["err_connect"] + w["err_read"] + w["err_write"],
        "non2xx": errors,
        "s5xx": w["s5xx"],
        "socket_errors": {k: w[k] for k in ("err_connect", "err_read", "err_write", "err_timeout")},
        "ok": ok,
        "cpu_s": usage.cpu,
        "cpu_ms_per_req": (usage.cpu * 1000 / w["requests"]) if w["requests"] else None,
        "peak_rss": usage.peak_rss,
        "drain_s": drain_s,
        "mb_per_s": w["bytes"] / seconds / 1e6 if seconds else 0.0,
    }
