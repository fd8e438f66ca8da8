"""Reach the API from inside a network namespace without touching the
host's namespace: a TCP forwarder whose listening socket lives in the
namespace (made by a thread that entered it with setns(2); a socket keeps
the namespace it was made in) and whose outgoing connections are made in
the host namespace, to 127.0.0.1:<port>.

tempest's scenario tests run inside the outside-world namespace of the
external network (where floating IPs answer); their API calls to
http://127.0.0.1:<port>/ arrive here and go on to the real server.

    fwd = Forwarder(namespace, port); fwd.start(); ...; fwd.stop()
"""

import ctypes
import os
import selectors
import socket
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _listen_in(namespace, port):
    """A listening socket on 127.0.0.1:port inside `namespace`."""
    out = {}

    def enter():
        try:
            fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns into {namespace}")
            finally:
                os.close(fd)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(128)
            out["sock"] = s
        except OSError as e:
            out["error"] = e

    # This thread ends inside the namespace; the process's others never
    # leave the host's.
    t = threading.Thread(target=enter)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["sock"]


def _pipe(a, b):
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, b)
    sel.register(b, selectors.EVENT_READ, a)
    try:
        while True:
            for key, _ in sel.select():
                data = key.fileobj.recv(65536)
                if not data:
                    return
                key.data.sendall(data)
    except OSError:
        pass
    finally:
        a.close()
        b.close()


class Forwarder:
    def __init__(self, namespace, port):
        self.port = port
        self.listener = _listen_in(namespace, port)
        self._stop = False

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.port), timeout=30)
                up.settimeout(None)
            except OSError:
                conn.close()
                continue
            threading.Thread(target=_pipe, args=(conn, up), daemon=True).start()

    def start(self):
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self):
        self._stop = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
