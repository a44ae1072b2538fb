"""Request keys: a request's canonical JSON and its SHA-256, shared by the disk cache, the
recordings and the client's identity, so equal requests get equal keys everywhere."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical(value: Any) -> str:
    """``value`` as compact JSON with sorted keys: the same text for equal requests."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)  # SDK / pydantic objects passed back as messages
    if callable(dump):
        return dump(exclude_none=True)
    raise TypeError(f"cannot use a {type(value).__name__} in a chat request: {value!r:.80}")


def digest(value: Any) -> str:
    """The SHA-256 (hex) of ``value``'s canonical JSON."""
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()
