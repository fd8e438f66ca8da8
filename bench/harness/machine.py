"""What the results were measured on, and the bcrypt bound."""

import os
import platform
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def _first(path, prefix):
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _cmd(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=False,
                              cwd=REPO).stdout.strip()
    except OSError:
        return "?"


def loadavg():
    return Path("/proc/loadavg").read_text().split()[:3]


def describe(binary):
    commit = _cmd("git", "rev-parse", "--short=12", "HEAD")
    if _cmd("git", "status", "--porcelain", "--untracked-files=no", "--", "crates"):
        commit += " (crates/ modified)"
    mem_kb = int(_first("/proc/meminfo", "MemTotal").split()[0])
    wrk = _cmd("wrk", "--version").splitlines()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "nproc": os.cpu_count(),
        "cpu": _first("/proc/cpuinfo", "model name"),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk[0] if wrk else "?",
        "ferrostack_commit": commit,
        "ferrostack_binary": str(binary),
        "loadavg_start": loadavg(),
    }


def cpu_split(pin):
    """Which CPUs the servers get and which the load generator gets. With
    `pin` and two or more CPUs: the load generator (this process, wrk and the
    Python clients it starts) takes the last CPU, the servers the others, so
    the client's work never competes with the server under test. None:
    everything shares every CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return None
    return {"server": cpus[:-1], "load": cpus[-1:]}


def bcrypt_hash_seconds(python, cost=12, n=5):
    """Median time of one bcrypt hash at `cost` with python's bcrypt module
    (the upstream venv has it); None when the module is missing."""
    code = (
        "import bcrypt,time,statistics\n"
        "s=bcrypt.gensalt(%d)\nts=[]\n"
        "for _ in range(%d):\n"
        "  t=time.perf_counter(); bcrypt.hashpw(b'bench-token-pw', s); ts.append(time.perf_counter()-t)\n"
        "print(statistics.median(ts))\n" % (cost, n))
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    try:
        return float(out.stdout.strip())
    except ValueError:
        return None
