"""The financial analyzer's own MCP servers, each run per run as a stdio subprocess::

    python -m maestro.instances.financial_analyzer.servers search --log CALLS --pages URL
    python -m maestro.instances.financial_analyzer.servers fetch  --log CALLS --pages URL
    python -m maestro.instances.financial_analyzer.servers files  --log CALLS --root DIR

* ``search``: ``search(query, max_results)`` over the offline corpus (``corpus.documents``):
  documents ranked by the query words they contain, each with its title, page URL on the
  run's loopback web server and text;
* ``fetch``: ``fetch(url)`` GETs a page of the run's loopback web server and returns its
  text; any other host or port is refused;
* ``files``: ``write_file(path, content)``, ``read_file(path)``, ``list_files()`` confined to
  the run's folder: a path that resolves outside it (``..``, an absolute path, a symlink
  out) is refused.

A refused or failing call is an MCP error result (``isError``), never a crash.

Every ``tools/call`` a server receives is appended to the run's call log (``--log``, JSON
lines, one per call when its response is written): server, tool, JSON-RPC id, the bytes of
the request line read from stdin and of the response line written to stdout, and whether the
result is an error. The log is the servers' own count of the calls they served, which the
tests compare with the tool spans maestro recorded.

A server ends when its stdin closes (the client is gone) and, should that not happen, when
its parent process dies (it checks every ``PARENT_POLL_S``): mcp starts stdio servers in a
session of their own, out of reach of the run's process-group kill.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
from io import TextIOWrapper
from pathlib import Path
from typing import Any

__all__ = ["SERVER_KINDS", "CallTap", "search_documents", "build_server", "confined_path", "main", "PARENT_POLL_S"]

SERVER_KINDS = ("search", "fetch", "files")
"""The servers this module runs."""

PARENT_POLL_S = 0.5
"""How often a server checks that the process that started it is alive."""

_WORD = re.compile(r"[a-z0-9]+")
_FETCH_LIMIT = 20_000


def search_documents(query: str, max_results: int = 4) -> list[dict[str, str]]:
    """The corpus documents that share words with ``query``, most shared words first (ties in
    corpus order), at most ``max_results``: ``{"title", "path", "text"}``."""
    from .corpus import documents

    words = set(_WORD.findall(query.lower()))
    scored = []
    for i, d in enumerate(documents()):
        hits = len(words & set(_WORD.findall(f"{d.title} {d.text}".lower())))
        if hits:
            scored.append((-hits, i, d))
    scored.sort(key=lambda s: (s[0], s[1]))
    return [{"title": d.title, "path": d.path, "text": d.text} for _, _, d in scored[:max(1, int(max_results))]]


def confined_path(root: Path, path: str) -> Path:
    """``path`` (relative to ``root``) resolved; a ValueError when it leaves ``root``."""
    base = root.resolve()
    target = (base / path).resolve()
    if target != base and base not in target.parents:
        raise ValueError(f"refused: {path!r} is outside the run's folder")
    return target


def build_server(kind: str, pages: str = "", root: str = "") -> Any:
    """The FastMCP server of ``kind`` (one of ``SERVER_KINDS``)."""
    from mcp.server.fastmcp import FastMCP

    server = FastMCP(f"financial-{kind}", log_level="WARNING")
    if kind == "search":
        @server.tool()
        def search(query: str, max_results: int = 4) -> str:
            """Search the financial research corpus (earnings releases, news, quote pages).
            Returns a JSON list of {title, url, text}."""
            hits = search_documents(query, max_results)
            return json.dumps([{"title": h["title"], "url": pages.rstrip("/") + h["path"], "text": h["text"]}
                               for h in hits])
    elif kind == "fetch":
        allowed = urllib.parse.urlsplit(pages)
        # No proxy: the pages are on this machine's loopback interface.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        @server.tool()
        def fetch(url: str) -> str:
            """Fetch a web page of the research site and return its text."""
            from .corpus import page_text

            parts = urllib.parse.urlsplit(url)
            if (parts.scheme, parts.hostname, parts.port) != (allowed.scheme, allowed.hostname, allowed.port):
                raise ValueError(f"refused: {url!r} is not on the research site {pages}")
            with opener.open(url, timeout=10) as response:
                return page_text(response.read(_FETCH_LIMIT).decode("utf-8", "replace"))
    elif kind == "files":
        base = Path(root)

        @server.tool()
        def write_file(path: str, content: str) -> str:
            """Write a text file in the working folder."""
            target = confined_path(base, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            return f"wrote {len(content.encode('utf-8'))} bytes to {path}"

        @server.tool()
        def read_file(path: str) -> str:
            """Read a text file of the working folder."""
            return confined_path(base, path).read_text(encoding="utf-8")

        @server.tool()
        def list_files() -> str:
            """List the files of the working folder."""
            return "\n".join(sorted(str(p.relative_to(base.resolve())) for p in base.resolve().rglob("*") if p.is_file()))
    else:
        raise ValueError(f"unknown MCP server kind {kind!r}; known: {', '.join(SERVER_KINDS)}")
    return server


class CallTap:
    """Counts the JSON-RPC lines of one stdio server and logs each ``tools/call`` it answers.

    Wraps the server's stdin (``reader``) and stdout (``writer``) as ``mcp``'s
    ``stdio_server`` uses them: it iterates stdin by lines and writes one line per message.
    """

    def __init__(self, server: str, log_path: str):
        self.server = server
        self.log_path = log_path
        self.pending: dict[Any, tuple[str, int]] = {}

    def _read(self, line: str) -> None:
        try:
            msg = json.loads(line)
        except ValueError:
            return
        if isinstance(msg, dict) and msg.get("method") == "tools/call":
            self.pending[msg.get("id")] = (str((msg.get("params") or {}).get("name", "")), len(line.encode("utf-8")))

    def _wrote(self, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError:
            return
        if not isinstance(msg, dict) or msg.get("id") not in self.pending:
            return
        tool, nbytes = self.pending.pop(msg["id"])
        is_error = "error" in msg or bool((msg.get("result") or {}).get("isError"))
        entry = {"server": self.server, "tool": tool, "id": msg["id"], "request_bytes": nbytes,
                 "response_bytes": len(text.encode("utf-8")), "is_error": is_error, "pid": os.getpid()}
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def reader(self, stdin: Any) -> Any:
        tap = self

        class _Reader:
            def __aiter__(self):
                return self._lines()

            async def _lines(self):
                async for line in stdin:
                    tap._read(line)
                    yield line

        return _Reader()

    def writer(self, stdout: Any) -> Any:
        tap = self

        class _Writer:
            async def write(self, text: str) -> None:
                await stdout.write(text)
                tap._wrote(text)

            async def flush(self) -> None:
                await stdout.flush()

        return _Writer()


def _exit_with_parent(parent: int) -> None:
    def watch():
        while True:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


async def _serve(server: Any, tap: CallTap) -> None:
    import anyio
    from mcp.server.stdio import stdio_server

    stdin = anyio.wrap_file(TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace"))
    stdout = anyio.wrap_file(TextIOWrapper(sys.stdout.buffer, encoding="utf-8"))
    async with stdio_server(stdin=tap.reader(stdin), stdout=tap.writer(stdout)) as (read, write):
        # FastMCP's own stdio runner takes no streams: run its low-level server on ours.
        low = server._mcp_server
        await low.run(read, write, low.create_initialization_options())


def main(argv: list[str] | None = None) -> int:
    """Run one server on stdio until stdin closes or the parent dies."""
    import anyio

    parser = argparse.ArgumentParser(prog="financial_analyzer.servers")
    parser.add_argument("kind", choices=SERVER_KINDS)
    parser.add_argument("--log", required=True, help="JSONL file every tools/call is appended to")
    parser.add_argument("--pages", default="", help="base URL of the run's loopback web server")
    parser.add_argument("--root", default="", help="the run's folder (files server)")
    args = parser.parse_args(argv)
    _exit_with_parent(os.getppid())
    tap = CallTap(args.kind, args.log)
    anyio.run(_serve, build_server(args.kind, pages=args.pages, root=args.root), tap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
