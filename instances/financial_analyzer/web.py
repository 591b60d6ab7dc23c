"""The loopback research site a run's fetch server reads: the corpus pages (``corpus.pages``)
served over real HTTP on a free ``127.0.0.1`` port, on a daemon thread of the run's process."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .corpus import pages

__all__ = ["PageServer"]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        html = pages().get(self.path.split("?", 1)[0])
        body = (html or "<!doctype html><p>not found</p>").encode("utf-8")
        self.send_response(200 if html else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 - the http.server signature
        pass  # no access log on stderr


class PageServer:
    """The site, started on construction; ``url`` is its base URL; ``close()`` stops it (also
    as a context manager)."""

    def __init__(self) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="financial-pages", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving and free the port (idempotent)."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> PageServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
