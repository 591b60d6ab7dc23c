"""Where a study lives: a local folder or S3-compatible object storage, through ``pyarrow.fs``.

``Location.of("traces/demo")`` is a local folder (the fast default: plain ``os`` calls,
atomic renames and fsyncs); ``Location.of("s3://bucket/prefix/demo")`` is object storage
(``pyarrow.fs.S3FileSystem``). The S3 endpoint is the ``endpoint`` argument, else
``MAESTRO_S3_ENDPOINT``, else the provider's default; credentials come from the usual AWS
variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``).

Writes are atomic on both: locally a temporary file is fsynced and renamed into place; on
object storage a single PUT is atomic by itself (an object is either all there or absent).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from maestro import settings

__all__ = ["Location", "StoreURIError", "is_uri"]


class StoreURIError(ValueError):
    """A study location that is neither a local path nor a supported URI."""


def is_uri(where: Any) -> bool:
    """True for ``scheme://...`` strings other than ``file://`` (object storage)."""
    return isinstance(where, str) and "://" in where and not where.startswith("file://")


def _s3(uri: str, endpoint: str | None) -> tuple[pafs.FileSystem, str]:
    parsed = urlparse(uri)
    if not parsed.netloc:
        raise StoreURIError(f"{uri}: an s3 URI names a bucket (s3://bucket/prefix)")
    endpoint = endpoint or settings.S3_ENDPOINT.get() or None
    kwargs: dict[str, Any] = {}
    if endpoint:
        ep = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        kwargs.update(endpoint_override=ep.netloc, scheme=ep.scheme or "https")
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
    if region:
        kwargs["region"] = region
    return pafs.S3FileSystem(**kwargs), f"{parsed.netloc}{parsed.path}".rstrip("/")


@dataclass(frozen=True)
class Location:
    """One study's root on a filesystem; paths below it are ``/``-joined strings."""

    fs: pafs.FileSystem
    """The filesystem (``LocalFileSystem`` or ``S3FileSystem``)."""
    root: str
    """The root as the filesystem names it (an absolute local path, or ``bucket/prefix``)."""
    uri: str
    """How the user named it (a local path, or ``s3://bucket/prefix``)."""

    @classmethod
    def of(cls, where: str | os.PathLike[str] | Location, *, endpoint: str | None = None,
           filesystem: pafs.FileSystem | None = None) -> Location:
        """The location of ``where``: a local path, ``file://...``, or ``s3://bucket/prefix``
        (``endpoint``, else ``MAESTRO_S3_ENDPOINT``, else the provider's). ``filesystem``
        overrides the one the URI would make (a configured ``S3FileSystem``)."""
        if isinstance(where, Location):
            return where
        if isinstance(where, str) and where.startswith("file://"):
            where = urlparse(where).path
        if not is_uri(where):
            path = str(Path(where).absolute())
            return cls(filesystem or pafs.LocalFileSystem(), path, str(where))
        uri = str(where)
        scheme = urlparse(uri).scheme
        if scheme == "s3":
            fs, root = _s3(uri, endpoint)
        else:
            try:
                fs, root = pafs.FileSystem.from_uri(uri)
            except (pa.ArrowInvalid, ValueError) as e:
                raise StoreURIError(f"{uri}: unsupported study location ({e})") from None
        return cls(filesystem or fs, root.rstrip("/"), uri.rstrip("/"))

    @property
    def local(self) -> bool:
        """True for a local folder (renames and fsync exist; paths are OS paths)."""
        return isinstance(self.fs, pafs.LocalFileSystem)

    @property
    def name(self) -> str:
        """The last component of the root (the study id)."""
        return self.root.rstrip("/").rsplit("/", 1)[-1]

    def path(self, *parts: str) -> str:
        """The filesystem path of ``parts`` below the root."""
        return "/".join([self.root, *parts])

    def display(self, path: str) -> str:
        """``path`` as the user would name it (for messages)."""
        if self.local or not path.startswith(self.root):
            return path
        return self.uri + path[len(self.root):]

    def child(self, *parts: str) -> Location:
        """The location of a folder below this one."""
        sub = "/".join(parts)
        return Location(self.fs, self.path(sub), f"{self.uri}/{sub}")

    # -- queries -----------------------------------------------------------------------------

    def exists(self, path: str) -> bool:
        if self.local:
            return os.path.exists(path)
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def is_file(self, path: str) -> bool:
        if self.local:
            return os.path.isfile(path)
        return self.fs.get_file_info(path).type == pafs.FileType.File

    def is_dir(self, path: str) -> bool:
        if self.local:
            return os.path.isdir(path)
        info = self.fs.get_file_info(path)
        if info.type == pafs.FileType.Directory:
            return True
        # object stores have no empty folders: a prefix with objects under it is one
        return info.type == pafs.FileType.NotFound and bool(self.listdir(path))

    def listdir(self, path: str) -> list[str]:
        """Names of the entries directly in folder ``path``, sorted (empty if it is absent)."""
        if self.local:
            try:
                return sorted(os.listdir(path))
            except (FileNotFoundError, NotADirectoryError):
                return []
        infos = self.fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=False))
        return sorted(i.base_name for i in infos)

    def read_bytes(self, path: str) -> bytes:
        if self.local:
            with open(path, "rb") as f:
                return f.read()
        with self.fs.open_input_stream(path) as f:
            return f.read()

    def parquet_file(self, path: str) -> pq.ParquetFile:
        """An open parquet file (the footer read once)."""
        if self.local:
            return pq.ParquetFile(path)
        return pq.ParquetFile(self.fs.open_input_file(path))

    # -- writes ------------------------------------------------------------------------------

    def makedirs(self, path: str) -> None:
        if self.local:
            os.makedirs(path, exist_ok=True)
        # object stores need no folders

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path`` atomically and durably."""
        if self.local:
            from maestro.store.layout import atomic_write_bytes

            atomic_write_bytes(data, path)
            return
        with self.fs.open_output_stream(path) as f:
            f.write(data)

    def write_table(self, table: pa.Table, path: str, **kwargs: Any) -> None:
        """Write ``table`` as parquet to ``path`` atomically and durably (``kwargs`` go to
        ``pyarrow.parquet.write_table``: row group size, statistics)."""
        if self.local:
            from maestro.store.layout import atomic_write_table

            atomic_write_table(table, path, **kwargs)
            return
        with self.fs.open_output_stream(path) as f:
            pq.write_table(table, f, compression="snappy", **kwargs)

    def upload(self, local_path: str | os.PathLike[str], path: str) -> None:
        """Copy a local file to ``path`` (atomic and durable as :meth:`write_bytes`)."""
        if self.local:
            from maestro.store.layout import atomic_copy

            atomic_copy(local_path, path)
            return
        pafs.copy_files(str(Path(local_path).absolute()), path, source_filesystem=pafs.LocalFileSystem(),
                        destination_filesystem=self.fs)

    def delete(self, path: str) -> None:
        """Remove a file (absent is fine)."""
        if self.local:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            return
        try:
            self.fs.delete_file(path)
        except FileNotFoundError:
            pass

    def delete_dir(self, path: str) -> None:
        """Remove a folder and everything in it (absent is fine)."""
        try:
            self.fs.delete_dir(path)
        except FileNotFoundError:
            pass

    def sync_dir(self, path: str) -> None:
        """Make removals and renames in folder ``path`` durable (local; a no-op elsewhere)."""
        if self.local and settings.FSYNC.get():
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                return
            try:
                os.fsync(fd)
            except OSError:  # folders cannot be fsynced everywhere
                pass
            finally:
                os.close(fd)
