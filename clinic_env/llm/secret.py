"""The API key, kept out of ``repr``, messages, logs, cache files and recordings."""

from __future__ import annotations

PLACEHOLDER_KEY = "EMPTY"  # what vLLM and most local servers accept when they need no key


class Secret:
    """Holds the API key so that ``repr``/``vars`` of the client never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def redact(self, text: str) -> str:
        """``text`` with any occurrence of a real key replaced by ``***``."""
        if self._value and self._value != PLACEHOLDER_KEY and len(self._value) >= 4:
            return text.replace(self._value, "***")
        return text

    def __repr__(self) -> str:
        return "<secret>"
