"""The search-results agent's browser, with one interface over two backends chosen at run
time (:func:`choose_backend`):

* ``playwright-chromium``: Playwright (async API) driving the system's Chromium
  (``executable_path``, headless, ``--no-sandbox``), launched on first use with the shop as
  its HTTP proxy;
* ``http-fetch``: a plain HTTP client (urllib through the same proxy) that keeps the current
  page, reads its links and forms with ``html.parser`` and submits a form on a click of its
  button: enough for the shop's pages, no JavaScript.

``auto`` takes Playwright when it imports and the Chromium executable exists, else the
fetch client; a Playwright launch that fails under ``auto`` falls back to the fetch client
(the session's ``kind`` and ``fallback`` say so). Close the session in the event loop that
used it (:meth:`BrowserSession.aclose`); Chromium also exits on its own when its driver
dies (its control pipe closes), so a killed run leaves no browser behind.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import urllib.error
import urllib.request
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin

__all__ = ["PLAYWRIGHT", "FETCH", "BROWSER_CHOICES", "DEFAULT_CHROMIUM", "choose_backend", "BrowserSession",
           "PAGE_LIMIT"]

PLAYWRIGHT = "playwright-chromium"
FETCH = "http-fetch"
BROWSER_CHOICES = ("auto", "playwright", "fetch")
DEFAULT_CHROMIUM = "/usr/bin/chromium"
PAGE_LIMIT = 6000
"""Characters of page source a tool returns (the rest is cut)."""
_TIMEOUT_MS = 10_000


def choose_backend(choice: str, executable: str = DEFAULT_CHROMIUM) -> str:
    """``PLAYWRIGHT`` or ``FETCH`` for the option value ``choice`` (``auto``, ``playwright``,
    ``fetch``). ValueError for an unknown choice, or ``playwright`` where it cannot run."""
    if choice not in BROWSER_CHOICES:
        raise ValueError(f"option 'browser': expected one of {', '.join(BROWSER_CHOICES)}, got {choice!r}")
    if choice == "fetch":
        return FETCH
    usable = importlib.util.find_spec("playwright") is not None and os.access(executable, os.X_OK)
    if choice == "playwright" and not usable:
        raise ValueError(f"option browser = 'playwright' needs the playwright package and an executable Chromium "
                         f"at {executable!r}")
    return PLAYWRIGHT if usable else FETCH


class _PageParser(HTMLParser):
    """Links, forms (inputs and buttons) and text of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.forms: list[dict[str, Any]] = []
        self.text: list[str] = []
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "inputs": [], "buttons": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(a)
        elif tag in ("a", "button"):
            self._open, self._buf = (tag, a), []

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == self._open[0]:
            label = " ".join("".join(self._buf).split())
            if tag == "a":
                self.links.append((label, self._open[1].get("href") or ""))
            elif self.forms:
                self.forms[-1]["buttons"].append(label)
            self._open = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._open:
            self._buf.append(data)


class _Fetch:
    def __init__(self, proxy: str) -> None:
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
        self.url = ""
        self.html = ""
        self.values: dict[str, str] = {}
        self.scroll = 0

    def get(self, url: str) -> str:
        try:
            with self._opener.open(url, timeout=_TIMEOUT_MS / 1000) as resp:
                self.html, status = resp.read().decode("utf-8", "replace"), resp.status
        except urllib.error.HTTPError as e:
            self.html, status = e.read().decode("utf-8", "replace"), e.code
        self.url, self.values, self.scroll = url, {}, 0
        return f"Navigated to {url} (HTTP {status})."

    def parsed(self) -> _PageParser:
        p = _PageParser()
        p.feed(self.html)
        return p

    def click(self, text: str) -> str:
        page = self.parsed()
        for label, href in page.links:
            if label == text.strip():
                return self.get(urljoin(self.url, href))
        for form in page.forms:
            if text.strip() in form["buttons"]:
                fields = {i.get("name"): self.values.get(i.get("id") or "", i.get("value") or "")
                          for i in form["inputs"] if i.get("name")}
                return self.get(urljoin(self.url, form["action"]) + "?" + urlencode(fields))
        return "Element not found, cannot click."


class BrowserSession:
    """One run's browser (see the module docstring); every method returns what a tool says."""

    def __init__(self, backend: str, proxy: str = "", executable: str = DEFAULT_CHROMIUM) -> None:
        self.kind = backend
        """``PLAYWRIGHT`` or ``FETCH``: what actually drives the pages."""
        self.fallback: str | None = None
        """Why Playwright was given up for the fetch client (None: it was not)."""
        self.proxy = proxy
        """``http://127.0.0.1:<port>`` of the shop, which every page request goes through."""
        self._exe = executable
        self.on_fallback: Any = None
        """Called with the new ``kind`` when Playwright is given up for the fetch client."""
        self._fetch: _Fetch | None = None
        self._pw: Any = None
        self._browser: Any = None
        self._page: Any = None

    async def _playwright_page(self) -> Any:
        if self._page is None:
            from playwright.async_api import async_playwright

            self._pw = await async_playwright().start()
            self._browser = await self._pw.chromium.launch(
                executable_path=self._exe, headless=True, args=["--no-sandbox"], proxy={"server": self.proxy})
            self._page = await self._browser.new_page()
            self._page.set_default_timeout(_TIMEOUT_MS)
        return self._page

    async def _backend(self) -> Any:
        """The Playwright page, or the fetch client (falling back to it when the launch fails)."""
        if self.kind == PLAYWRIGHT:
            try:
                return await self._playwright_page()
            except Exception as e:  # noqa: BLE001 - any launch failure: use the fetch client
                self.fallback = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]
                self.kind = FETCH
                await self.aclose()
                if self.on_fallback is not None:
                    self.on_fallback(self.kind)
        if self._fetch is None:
            self._fetch = _Fetch(self.proxy)
        return self._fetch

    async def start(self) -> str:
        """Launch the backend now (rather than on the first tool call); returns ``kind``."""
        await self._backend()
        return self.kind

    async def go_to_url(self, url: str) -> str:
        b = await self._backend()
        if isinstance(b, _Fetch):
            return await asyncio.to_thread(b.get, url.strip())
        resp = await b.goto(url.strip())
        return f"Navigated to {b.url} (HTTP {resp.status if resp else '?'})."

    async def get_page_source(self) -> str:
        b = await self._backend()
        source = b.html if isinstance(b, _Fetch) else await b.content()
        return source[:PAGE_LIMIT]

    async def enter_text_into_element(self, text_to_enter: str, element_id: str) -> str:
        b = await self._backend()
        if isinstance(b, _Fetch):
            if not any(i.get("id") == element_id for f in b.parsed().forms for i in f["inputs"]):
                return "Element with given ID not found."
            b.values[element_id] = text_to_enter
        else:
            if await b.locator(f"#{element_id}").count() == 0:
                return "Element with given ID not found."
            await b.fill(f"#{element_id}", text_to_enter)
        return f"Entered text '{text_to_enter}' into element with ID: {element_id}"

    async def click_element_with_text(self, text: str) -> str:
        b = await self._backend()
        if isinstance(b, _Fetch):
            return await asyncio.to_thread(b.click, text)
        target = b.get_by_text(text.strip(), exact=True)
        if await target.count() == 0:
            return "Element not found, cannot click."
        await target.first.click()
        await b.wait_for_load_state()
        return f"Clicked element with text: {text}. Now at {b.url}."

    async def find_element_with_text(self, text: str) -> str:
        b = await self._backend()
        if isinstance(b, _Fetch):
            found = text.strip() and text.strip() in " ".join(b.parsed().text)
        else:
            found = await b.get_by_text(text.strip()).count() > 0
        return "Element found." if found else "Element not found."

    async def scroll_down_screen(self) -> str:
        b = await self._backend()
        if isinstance(b, _Fetch):
            b.scroll += 500
        else:
            await b.mouse.wheel(0, 500)
        return "Scrolled down the screen."

    async def aclose(self) -> None:
        """Close the browser and its driver (idempotent; call in the loop that used them)."""
        browser, pw = self._browser, self._pw
        self._page = self._browser = self._pw = None
        try:
            if browser is not None:
                await browser.close()
        finally:
            if pw is not None:
                await pw.stop()
