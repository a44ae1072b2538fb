"""The envs' observation and action spaces: one message of clinical text.

Both envs (PettingZoo and Gymnasium) and the benchmark runner show the doctor messages in
this form, so what a doctor sees never depends on how it is driven.
"""

from __future__ import annotations

import copy
from functools import lru_cache

from gymnasium import spaces

MAX_MESSAGE_CHARS = 8192
# Printable characters of the Basic Multilingual Plane plus newline and tab: enough for
# clinical text ("38.5°C", "μL", "≥") in any common script, small enough to sample from.
CHARSET = "".join(chr(i) for i in range(0x10000) if chr(i).isprintable()) + "\n\t"
_CHARSET_SET = frozenset(CHARSET)


@lru_cache(maxsize=8)
def _text_prototype(max_length: int) -> spaces.Text:
    return spaces.Text(max_length=max_length, min_length=0, charset=CHARSET)


def text_space(max_length: int = MAX_MESSAGE_CHARS) -> spaces.Text:
    """The space of one message: up to ``max_length`` characters of ``CHARSET``.

    Building a ``Text`` over 55k characters takes ~60 ms, so each env gets a shallow copy
    of one prototype (the character tables are read-only) with its own random generator.
    """
    space = copy.copy(_text_prototype(max_length))
    space._np_random = None  # a fresh, unseeded generator, as a new Space would have
    return space


def fit_to_space(text: str, max_length: int = MAX_MESSAGE_CHARS) -> str:
    """The observation form of a message: cut to ``max_length``, odd characters as U+FFFD."""
    text = text[:max_length]
    if text.replace("\n", "").replace("\t", "").isprintable() and (not text or max(text) <= "\uffff"):
        return text
    return "".join(c if c in _CHARSET_SET else "\ufffd" for c in text)
