"""Start and stop the real ferrostack binary for black-box tests.

A `Server` runs `ferrostack serve` on port 0 with a temporary data dir, waits
for it to write `DATA/listen-address`, and exposes the URL, the admin password
and the written clouds.yaml. Tests talk to it over HTTP only.
"""

import os
import secrets
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("FERROSTACK_BIN", REPO / "target" / "debug" / "ferrostack"))
POSTGRES_URL = os.environ.get("FERROSTACK_TEST_POSTGRES_URL", "")


class Server:
    """`driver`: the compute driver (`fake` unless a test asks for real
    guests with `qemu`)."""

    def __init__(self, data_dir, database_url=None, admin_password=None, extra_args=(),
                 driver="fake", env=None):
        self.driver = driver
        self.env = dict(env or {})
        self.data_dir = Path(data_dir)
        self.database_url = database_url
        self.admin_password = admin_password or "pw-" + secrets.token_hex(8)
        self.extra_args = list(extra_args)
        self.proc = None
        self.url = None
        self.log_path = self.data_dir.parent / (self.data_dir.name + ".log")

    # -- lifecycle -----------------------------------------------------
    def start(self, timeout=20.0):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        addr_file = self.data_dir / "listen-address"
        if addr_file.exists():
            addr_file.unlink()
        args = [str(BIN), "serve", "--data-dir", str(self.data_dir),
                "--listen", "127.0.0.1:0", "--admin-password", self.admin_password]
        if self.database_url:
            args += ["--database-url", self.database_url]
        args += self.extra_args
        log = open(self.log_path, "ab")
        try:
            env = dict(os.environ, FERROSTACK_COMPUTE_DRIVER=self.driver,
                       FERROSTACK_NETWORK_DATAPLANE="off")
            env.update(self.env)
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
        finally:
            log.close()  # the child keeps its own copy of the descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ferrostack exited with {self.proc.returncode}; log:\n{self.log()}")
            if addr_file.exists() and addr_file.read_text().strip():
                self.url = "http://" + addr_file.read_text().strip()
                if self._ready():
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"ferrostack did not become ready; log:\n{self.log()}")

    def _ready(self):
        try:
            return requests.get(self.url + "/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self, sig=signal.SIGTERM, timeout=10.0, reap_guests=True):
        """Stop the server. QEMU guests outlive their ferrostack (it adopts
        them again when it restarts); a test's final stop also ends them."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if reap_guests:
            self.reap_guests()
            self.remove_namespaces()
        return self.proc.returncode if self.proc else None

    def namespaces(self):
        """The network namespaces of this server's data plane."""
        try:
            prefix = (self.data_dir / "netplane" / "prefix").read_text().strip() + "-"
        except OSError:
            return []
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        return [l.split()[0] for l in out.splitlines() if l.startswith(prefix)]

    def remove_namespaces(self):
        """End this data plane's DHCP servers and remove its namespaces."""
        mine = str(self.data_dir / "netplane")
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    cmd = (d / "cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                if cmd.startswith("dnsmasq") and mine in cmd:
                    try:
                        os.kill(int(d.name), signal.SIGKILL)
                    except OSError:
                        pass
        for ns in self.namespaces():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def guest_pids(self):
        """{server id: pid} of the QEMU guests running from this data dir."""
        out = {}
        for pidfile in (self.data_dir / "instances").glob("*/qemu.pid"):
            uuid = pidfile.parent.name
            try:
                pid = int(pidfile.read_text().strip())
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            if f"qemu-{uuid}".encode() in cmdline:
                out[uuid] = pid
        return out

    def reap_guests(self):
        for pid in self.guest_pids().values():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        while self.guest_pids() and time.monotonic() < deadline:
            time.sleep(0.05)

    def kill9(self):
        return self.stop(signal.SIGKILL, reap_guests=False)

    def restart(self):
        self.stop(reap_guests=False)
        return self.start()

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-20000:]
        except OSError:
            return ""

    # -- conveniences ---------------------------------------------------
    @property
    def identity_url(self):
        return self.url + "/identity"

    @property
    def clouds_yaml(self):
        return self.data_dir / "clouds.yaml"

    def cli_env(self):
        """Environment for running the `openstack` CLI with only clouds.yaml."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env["OS_CLIENT_CONFIG_FILE"] = str(self.clouds_yaml)
        env["OS_CLOUD"] = "ferrostack"
        return env

    def admin_token(self):
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": self.admin_password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        r = requests.post(self.identity_url + "/v3/auth/tokens", json=body, timeout=10)
        r.raise_for_status()
        return r.headers["X-Subject-Token"]


def fresh_postgres_database():
    """Create an empty database on the configured server; return (url, drop_fn)."""
    import psycopg2  # only needed when Postgres tests run

    name = "ferrostack_test_" + secrets.token_hex(6)
    conn = psycopg2.connect(POSTGRES_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    parts = urllib.parse.urlsplit(POSTGRES_URL)
    url = urllib.parse.urlunsplit(parts._replace(path="/" + name))

    def drop():
        c = psycopg2.connect(POSTGRES_URL)
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.close()

    return url, drop
