"""The team's document folder (package data) and the file surfer's two tools over it.

``list_files()`` and ``read_file(name)`` are plain functions (AutoGen wraps them as
``FunctionTool``s with these names and docstrings); framework-free, so tests and the task
set use them too. ``read_file`` returns ``Contents of <name>:`` and the file's text: the
header tells a reader of the conversation (the coder) which file the text is.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["DOCUMENTS", "document_names", "document_text", "list_files", "read_file", "contents_header"]

DOCUMENTS = "documents"
"""Folder of the package holding the documents."""

_SUFFIXES = (".csv", ".txt", ".log")


def _folder() -> Path:
    return Path(str(resources.files(__package__).joinpath(DOCUMENTS)))


def document_names() -> list[str]:
    """Names of the bundled documents, sorted."""
    return sorted(p.name for p in _folder().iterdir() if p.is_file() and p.suffix in _SUFFIXES)


def document_text(name: str) -> str:
    """Text of one bundled document; KeyError for a name not in the folder (no paths)."""
    if name not in document_names():
        raise KeyError(name)
    return (_folder() / name).read_text(encoding="utf-8")


def contents_header(name: str) -> str:
    """The line ``read_file`` puts before a file's text."""
    return f"Contents of {name}:"


def list_files() -> str:
    """List the files in the team's document folder with their sizes."""
    lines = [f"{n} ({len(document_text(n).encode())} bytes)" for n in document_names()]
    return "Files in the document folder:\n" + "\n".join(lines)


def read_file(name: str) -> str:
    """Read one file of the team's document folder by its name (for example sales.csv)."""
    clean = (name or "").strip().strip("'\"`")
    try:
        text = document_text(clean)
    except KeyError:
        return f"No file named {clean!r} in the document folder. Files: {', '.join(document_names())}."
    return f"{contents_header(clean)}\n{text.rstrip()}"
