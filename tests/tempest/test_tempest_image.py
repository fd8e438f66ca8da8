"""tempest.api.image against a real ferrostack on SQLite, compared with
known-failures-image.txt (see runner.py for the knobs).

The server runs with format matching required and may download from a
local HTTP server (its port allowed in `[image] import_allowed_ports`),
which serves the small qcow2 tempest's web-download test imports
(`[image] http_qcow2_image`): this machine has no outside network."""

import http.server
import subprocess
import threading

import pytest

import runner


# The image API without the tests that need Nova: those (image > server >
# snapshot dependencies) run in test_tempest_compute.py.
REGEX = r"^tempest\.api\.image\.(?!v2\.test_images_dependency\.)"


class _Files(http.server.BaseHTTPRequestHandler):
    files = {}

    def do_GET(self):  # noqa: N802 (http.server's naming)
        data = self.files.get(self.path)
        self.send_response(200 if data is not None else 404)
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")

    def log_message(self, *args):
        pass


@pytest.mark.timeout(runner.PYTEST_TIMEOUT)
def test_tempest_image(tmp_path):
    disk = tmp_path / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1M"], check=True)
    _Files.files = {"/tiny.qcow2": disk.read_bytes()}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    cfg = tmp_path / "ferrostack.toml"
    cfg.write_text(f"[image]\nimport_allowed_ports = [80, 443, {port}]\n"
                   "require_image_format_match = true\n")

    def prepare(srv):
        return {"image": {"http_qcow2_image": f"http://127.0.0.1:{port}/tiny.qcow2"}}

    try:
        runner.run_service("image", tmp_path, prepare=prepare, default_regex=REGEX,
                           server_kwargs={"extra_args": ["--config", str(cfg)]})
    finally:
        httpd.shutdown()
