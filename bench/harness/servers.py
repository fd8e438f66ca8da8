"""Start and stop the servers under test: ferrostack (one process) and
upstream Keystone and Glance (gunicorn, 2 workers each, 127.0.0.1)."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from . import procs

BENCH = Path(__file__).resolve().parent.parent
UPSTREAM = BENCH / "upstream"

# CPUs every server process (and its children) is confined to; None: any.
SERVER_CPUS = None


def pin_servers(cpus):
    """Confine the servers started from now on to `cpus` (None: no limit)."""
    global SERVER_CPUS
    SERVER_CPUS = list(cpus) if cpus else None


def _confine():
    if SERVER_CPUS:
        os.sched_setaffinity(0, SERVER_CPUS)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A started server process (the root of its tree) and its start-up time."""

    def __init__(self, name, args, env, log_path, ready_url, cwd=None):
        self.name = name
        self.args = args
        self.env = env
        self.log_path = log_path
        self.ready_url = ready_url
        self.cwd = cwd
        self.proc = None
        self.startup_s = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        log = open(self.log_path, "ab")
        t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(self.args, env=self.env, cwd=self.cwd, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=_confine)
        finally:
            log.close()
        try:
            self.startup_s = procs.wait_for_200(self.ready_url, t0, self.proc)
        except RuntimeError as e:
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name}: {e}\n{tail}") from None
        return self

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Target:
    """One side of the comparison: where identity and image answer, and the
    processes that serve them (the same one for ferrostack)."""

    def __init__(self, name, identity_url, image_url, identity_proc, image_proc,
                 admin_password, compute_url=None, network_url=None):
        self.name = name
        self.identity_url = identity_url
        self.image_url = image_url
        self.compute_url = compute_url
        self.network_url = network_url
        self.identity_proc = identity_proc
        self.image_proc = image_proc
        self.admin_password = admin_password

    def procs(self):
        return [p for p in {id(p): p for p in (self.identity_proc, self.image_proc)}.values()]

    def stop(self):
        for p in self.procs():
            p.stop()


def ferrostack(binary, data_dir, log_dir, rounds, password="bench-admin-pw", driver="fake",
               env=None, log_name="ferrostack.log"):
    """The API scenarios measure the API: the fake compute driver unless
    `driver` says otherwise (the real-guest scenarios ask for qemu; `env`
    adds or overrides variables, e.g. FERROSTACK_COMPUTE_ACCEL,
    FERROSTACK_NETWORK_DATAPLANE)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, FERROSTACK_PASSWORD_HASH_ROUNDS=str(rounds), RUST_LOG="warn",
               FERROSTACK_COMPUTE_DRIVER=driver, FERROSTACK_NETWORK_DATAPLANE="off",
               ) | (env or {})   # `env` may override the defaults (the data plane)
    args = [str(binary), "serve", "--data-dir", str(data_dir),
            "--listen", f"127.0.0.1:{port}", "--admin-password", password]
    proc = Proc("ferrostack", args, env, log_dir / log_name, base + "/identity/v3")
    return Target("ferrostack", base + "/identity/v3", base + "/image", proc, proc, password,
                  compute_url=base + "/compute/v2.1", network_url=base + "/networking")


class Upstream:
    """Keystone and Glance configured in `work` (a fresh directory)."""

    def __init__(self, venv, work, log_dir, password="bench-admin-pw"):
        self.venv = Path(venv).resolve()
        self.work = Path(work).resolve()
        self.log_dir = log_dir
        self.password = password
        self.ks_port = free_port()
        self.gl_port = free_port()

    def _bin(self, name):
        return str(self.venv / "bin" / name)

    def _render(self, template, dest, port):
        text = (UPSTREAM / template).read_text()
        dest.write_text(text.replace("@WORK@", str(self.work)).replace("@PORT@", str(port)))

    def _run(self, *args):
        with open(self.log_dir / "upstream-setup.log", "ab") as log:
            subprocess.run(args, check=True, stdout=log, stderr=subprocess.STDOUT)

    def setup(self):
        """Databases, keys, the admin user (keystone-manage bootstrap)."""
        if self.work.exists():
            shutil.rmtree(self.work)
        ks, gl = self.work / "keystone", self.work / "glance"
        for d in (ks, gl / "etc", gl / "images", gl / "staging", gl / "tasks"):
            d.mkdir(parents=True)
        self._render("keystone.conf.in", ks / "keystone.conf", self.ks_port)
        self._render("glance-api.conf.in", gl / "etc" / "glance-api.conf", self.gl_port)
        shutil.copy(self.venv / "etc" / "glance" / "glance-api-paste.ini", gl / "etc")
        conf = ["--config-file", str(ks / "keystone.conf")]
        manage = self._bin("keystone-manage")
        self._run(manage, *conf, "db_sync")
        owner = ["--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid())]
        self._run(manage, *conf, "fernet_setup", *owner)
        self._run(manage, *conf, "credential_setup", *owner)
        self._run(manage, *conf, "bootstrap", "--bootstrap-password", self.password,
                  "--bootstrap-public-url", f"http://127.0.0.1:{self.ks_port}/v3",
                  "--bootstrap-region-id", "RegionOne")
        self._run(self._bin("glance-manage"), "--config-file",
                  str(gl / "etc" / "glance-api.conf"), "db_sync")

    def _gunicorn(self, name, module, port, env_extra, ready_path):
        env = dict(os.environ, PYTHONPATH=str(UPSTREAM), **env_extra)
        args = [self._bin("gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
                "--timeout", "120", "--name", name, f"{module}:application"]
        return Proc(name, args, env, self.log_dir / f"{name}.log",
                    f"http://127.0.0.1:{port}{ready_path}", cwd=str(self.work))

    def target(self):
        ks = self._gunicorn("keystone", "keystone_wsgi", self.ks_port,
                            {"OS_KEYSTONE_CONFIG_FILES": str(self.work / "keystone" / "keystone.conf")},
                            "/v3")
        gl = self._gunicorn("glance", "glance_wsgi", self.gl_port,
                            {"OS_GLANCE_CONFIG_DIR": str(self.work / "glance" / "etc")},
                            "/versions")
        return Target("upstream", f"http://127.0.0.1:{self.ks_port}/v3",
                      f"http://127.0.0.1:{self.gl_port}", ks, gl, self.password)


def versions(venv):
    """Installed versions of the upstream packages."""
    out = subprocess.run([str(Path(venv) / "bin" / "pip"), "list", "--format=freeze"],
                         capture_output=True, text=True, check=False).stdout
    wanted = {"keystone", "glance", "gunicorn", "glance-store", "glance_store"}
    return {k: v for k, v in (line.split("==", 1) for line in out.splitlines() if "==" in line)
            if k.lower() in wanted}
