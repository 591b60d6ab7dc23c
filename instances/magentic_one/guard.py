"""The computer terminal's network guard: a static scan of code blocks before they run.

``network_violation(code, language)`` names the first thing in a code block that would
reach the network, or returns None. Python is read with ``ast`` (imports of network
modules, ``__import__`` / ``importlib.import_module`` of one, socket-opening calls such as
``asyncio.open_connection``, and ``subprocess`` / ``os.system`` / ``os.popen`` / ``os.exec*``
calls whose command names a network client), with a text scan as a fallback for code that
does not parse; shell blocks are scanned for network clients and ``/dev/tcp``.
Framework-free: the executor wrapper (``executor.py``) calls it, and tests do directly.

The guard is a refusal policy, not a sandbox: code that hides a network call from a static
reading (``eval`` of an encoded string) is not caught. The terminal also runs in a temp
directory with a time limit, and nothing on the simulated backend needs a network.
"""

from __future__ import annotations

import ast
import re

__all__ = ["NETWORK_MODULES", "NETWORK_COMMANDS", "network_violation", "SHELL_LANGUAGES", "PYTHON_LANGUAGES"]

NETWORK_MODULES = frozenset({
    "socket", "socketserver", "ssl", "http", "urllib", "urllib2", "urllib3", "requests", "httpx", "aiohttp",
    "websocket", "websockets", "ftplib", "smtplib", "poplib", "imaplib", "nntplib", "telnetlib", "xmlrpc",
    "pycurl", "paramiko", "grpc", "asyncssh", "webbrowser",
})
"""Top-level modules whose import is refused."""

NETWORK_COMMANDS = frozenset({"curl", "wget", "nc", "ncat", "netcat", "ssh", "scp", "sftp", "telnet", "ftp", "rsync",
                              "socat", "ping"})
"""Programs whose run (from a shell block or a subprocess call) is refused."""

_SOCKET_CALLS = frozenset({"open_connection", "open_unix_connection", "start_server", "create_connection",
                           "create_server", "create_datagram_endpoint", "getaddrinfo", "urlopen"})
"""Attribute calls that open connections whatever module they come from."""

_PROCESS_FUNCS = frozenset({"system", "popen", "run", "call", "check_call", "check_output", "Popen", "execv",
                            "execvp", "execl", "execlp", "spawnl", "spawnv", "create_subprocess_exec",
                            "create_subprocess_shell", "getoutput", "getstatusoutput"})

PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
SHELL_LANGUAGES = frozenset({"bash", "shell", "sh", "zsh", "pwsh", "powershell", "ps1"})

_COMMAND = re.compile(r"(?<![\w./-])(" + "|".join(sorted(NETWORK_COMMANDS)) + r")(?![\w.-])")
_INLINE_IMPORT = re.compile(r"\b(?:import|from)\s+(" + "|".join(sorted(NETWORK_MODULES)) + r")\b")
_IMPORT_TEXT = re.compile(r"^\s*(?:import|from)\s+(" + "|".join(sorted(NETWORK_MODULES)) + r")\b", re.MULTILINE)


def _top(name: str | None) -> str:
    return (name or "").split(".")[0]


def _strings(node: ast.AST) -> list[str]:
    """Every string constant under ``node``."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _python_violation(code: str) -> str | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        m = _IMPORT_TEXT.search(code)
        if m:
            return f"imports the network module {m.group(1)!r}"
        m = _COMMAND.search(code)
        return f"runs the network client {m.group(1)!r}" if m else None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _top(alias.name) in NETWORK_MODULES:
                    return f"imports the network module {_top(alias.name)!r}"
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and _top(node.module) in NETWORK_MODULES:
                return f"imports the network module {_top(node.module)!r}"
        elif isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name in ("__import__", "import_module"):
                for s in _strings(node):
                    if _top(s) in NETWORK_MODULES:
                        return f"imports the network module {_top(s)!r}"
            if name in _SOCKET_CALLS:
                return f"opens a network connection ({name})"
            if name in _PROCESS_FUNCS:
                for s in _strings(node):
                    m = _COMMAND.search(s)
                    if m:
                        return f"runs the network client {m.group(1)!r}"
    return None


def network_violation(code: str, language: str = "python") -> str | None:
    """What in ``code`` would use the network (a short phrase), or None when nothing does."""
    lang = (language or "").strip().lower()
    if lang in SHELL_LANGUAGES:
        if "/dev/tcp/" in code or "/dev/udp/" in code:
            return "opens a network connection (/dev/tcp)"
        m = _COMMAND.search(code)
        if m:
            return f"runs the network client {m.group(1)!r}"
        m = _INLINE_IMPORT.search(code)  # python -c "import socket; ..."
        return f"imports the network module {m.group(1)!r}" if m else None
    return _python_violation(code)
