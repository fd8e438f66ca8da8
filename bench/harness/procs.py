"""Process measurements from /proc: RSS and CPU time summed over a server's
whole process tree (gunicorn master + workers, or the one ferrostack
process), a background peak-RSS sampler, and start-up timing."""

import os
import threading
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name is in parentheses and may contain spaces.
    return text[text.rindex(")") + 2:].split()


def tree(root):
    """root and all its descendants that are alive now."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid = int(_stat(name)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def rss_bytes(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def cpu_seconds(pids):
    """utime + stime of each process (its own, not its reaped children)."""
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / CLK_TCK


class Usage:
    """CPU seconds and peak RSS of a process tree over a `with` block."""

    def __init__(self, root, interval=0.1):
        self.root = root
        self.interval = interval
        self.peak_rss = 0
        self.cpu = 0.0
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, rss_bytes(tree(self.root)))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._pids = tree(self.root)
        self._cpu0 = cpu_seconds(self._pids)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        # The processes that were there at the start (gunicorn keeps its
        # workers unless one times out; then its CPU time is lost here).
        self.cpu = cpu_seconds(self._pids) - self._cpu0
        return False


def wait_for_200(url, t0, proc, timeout=120.0):
    """Poll url until it answers 200; seconds since t0 (time.monotonic())."""
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer 200 within {timeout}s")


def quiesce(root, idle_share=0.05, window=0.25, timeout=60.0):
    """Wait until the tree uses under idle_share of one core over `window`
    seconds (work queued by a finished measurement, e.g. bcrypt hashes of
    requests wrk abandoned, must not slow the next one); seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        pids = tree(root)
        c0 = cpu_seconds(pids)
        time.sleep(window)
        if cpu_seconds(pids) - c0 < idle_share * window:
            break
    return time.monotonic() - t0
