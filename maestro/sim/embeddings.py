"""Deterministic hashed embeddings.

Each lower-cased word adds a signed unit to a few hash-chosen dimensions, then the vector
is L2-normalised. Texts sharing words get a positive cosine similarity, so retrieval over
simulated embeddings behaves sensibly, and the vectors never depend on the run seed (a real
embedding model is deterministic too).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct

__all__ = ["DEFAULT_DIMS", "embed_text", "encode_base64"]

DEFAULT_DIMS = 64
"""Vector size when the request does not ask for one."""

_WORD_RE = re.compile(r"\w+")


def embed_text(text: str, dims: int = DEFAULT_DIMS) -> list[float]:
    """A unit-length vector of ``dims`` floats for ``text``."""
    dims = max(1, int(dims))
    vec = [0.0] * dims
    for word in _WORD_RE.findall((text or "").lower()):
        d = hashlib.blake2b(word.encode("utf-8"), digest_size=12, person=b"maestro-emb").digest()
        for j in range(3):  # three slots per word soften hash collisions
            slot = int.from_bytes(d[4 * j : 4 * j + 3], "big") % dims
            vec[slot] += 1.0 if d[4 * j + 3] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:
        vec[0] = 1.0  # empty text: a fixed unit vector rather than zeros (cosine stays defined)
        return vec
    return [round(v / norm, 6) for v in vec]


def encode_base64(vec: list[float]) -> str:
    """OpenAI's ``encoding_format="base64"``: little-endian float32 bytes, base64-encoded."""
    return base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode("ascii")
