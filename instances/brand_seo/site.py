"""The local shop the search-results agent browses: a real HTTP server on a free loopback
port, started per run and stopped after (:class:`ShopSite`).

The agents address it as ``http://shop.test/`` (``SHOP_URL``: a stable name, so prompts and
the simulated replies do not depend on the port). Browsers reach it as their HTTP proxy:
Chromium is launched with ``--proxy-server`` pointing at the server and the fetch tool
uses a proxy handler, so each request arrives with the absolute URL in its request line.
Any other host is answered with a 404 page (this machine is offline). Pages: ``/`` (a
search form: input ``search_box``, button ``Search``), ``/search?q=...`` (the
:func:`.catalog.search_listings` results) and ``/product/<id>``.
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .catalog import listings, search_listings

__all__ = ["SHOP_URL", "SHOP_HOST", "ShopSite", "render_page"]

SHOP_HOST = "shop.test"
SHOP_URL = f"http://{SHOP_HOST}/"
"""The shop's address as the agents know it."""

_STYLE = "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}li{margin:.4em 0}</style>"


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{_STYLE}</head>"
            f"<body><header><a href='/'>Shop home</a></header>{body}</body></html>")


def _form(query: str = "") -> str:
    return ("<form action='/search' method='get'><label for='search_box'>Search products</label> "
            f"<input id='search_box' name='q' value='{html.escape(query, quote=True)}'> "
            "<button type='submit'>Search</button></form>")


def render_page(path: str, query: str) -> tuple[int, str]:
    """``(status, html)`` of a shop path (``/``, ``/search``, ``/product/<id>``) and query string."""
    if path in ("", "/"):
        return 200, _page("Shop", f"<h1>Welcome to the shop</h1>{_form()}")
    if path == "/search":
        q = (parse_qs(query).get("q") or [""])[0]
        hits = search_listings(q)
        items = "".join(f"<li class='result'><a href='/product/{li.listing_id}'>{html.escape(li.title)}</a> "
                        f"<span class='price'>${li.price:.2f}</span></li>" for li in hits)
        body = (f"{_form(q)}<h1>Results for \u201c{html.escape(q)}\u201d</h1>"
                + (f"<ol class='results'>{items}</ol>" if hits else "<p>No products found.</p>"))
        return 200, _page(f"Search: {q}", body)
    if path.startswith("/product/"):
        tail = path.removeprefix("/product/")
        found = [li for li in listings() if tail.isdigit() and li.listing_id == int(tail)]
        if found:
            li = found[0]
            return 200, _page(li.title, f"<h1>{html.escape(li.title)}</h1><p class='price'>${li.price:.2f}</p>")
    return 404, _page("Not found", "<h1>Not found</h1>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        parts = urlsplit(self.path)
        host = (parts.hostname or (self.headers.get("Host") or "").split(":")[0]).lower()
        if parts.scheme and host != SHOP_HOST:
            status, body = 404, _page("Offline", f"<h1>Offline</h1><p>Only {SHOP_URL} can be reached.</p>")
        else:
            status, body = render_page(parts.path, parts.query)
        data = body.encode("utf-8")
        # Counted before answering: a client that has its answer sees the count include it.
        self.server.served += 1  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # quiet: a run's stderr is not the place for access logs


class ShopSite:
    """The shop on ``127.0.0.1:<free port>`` on a daemon thread; a context manager."""

    def __init__(self) -> None:
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ShopSite:
        """Bind a free loopback port and serve (idempotent)."""
        if self._httpd is None:
            httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            httpd.daemon_threads = True
            httpd.served = 0  # type: ignore[attr-defined]
            self._httpd = httpd
            self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name="brand-seo-shop", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def proxy(self) -> str:
        """``http://127.0.0.1:<port>``: where browsers send their requests."""
        if self._httpd is None:
            raise RuntimeError("the shop site is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def served(self) -> int:
        """Requests answered so far."""
        return int(getattr(self._httpd, "served", 0))

    def __enter__(self) -> ShopSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
