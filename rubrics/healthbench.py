"""HealthBench data I/O: example files (main, hard, consensus) and meta-evaluation rows.

Both are JSONL, one object per line. Loading validates every field HealthBench's code
relies on and reports the first problem as a ``HealthBenchFormatError`` naming the file,
the 1-based line and the field, so a truncated download or a hand-edited file fails
loudly rather than scoring a different benchmark. With ``on_error="skip"`` bad lines are
left out and listed as ``(line, reason)`` in the ``skipped`` list the caller passes in.
Blank lines carry no data and are ignored.

Example rubrics become ``clinic_rubrics.schema.Rubric`` objects (criterion ids ``c0``, ``c1``,
...). A rubric item that would not survive the trip back to HealthBench's shape unchanged
(a repeated or misplaced ``dimension:`` tag, an extra key) is rejected, so
``write_examples(load_examples(f))`` reproduces every original key's value. Unknown
top-level keys are kept in ``extra`` and written back.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from clinic_rubrics.schema import Criterion, Rubric

Message = dict[str, str]
OnError = Literal["raise", "skip"]
T = TypeVar("T")

EXAMPLE_KEYS = ("prompt", "rubrics", "example_tags", "prompt_id", "ideal_completions_data")
META_EVAL_KEYS = ("prompt", "completion", "rubric", "binary_labels", "category",
                  "anonymized_physician_ids", "completion_id", "prompt_id")
RUBRIC_ITEM_KEYS = {"criterion", "points", "tags", "matcher"}  # "matcher" (ours, optional): offline grading


class HealthBenchFormatError(ValueError):
    """A line of a HealthBench file is not in HealthBench's shape; says where and what."""

    def __init__(self, reason: str, field: str | None = None, path: str | None = None, line: int | None = None):
        self.reason, self.field, self.path, self.line = reason, field, path, line
        where = ":".join(str(x) for x in (path, line) if x is not None)
        what = f"{field}: {reason}" if field else reason
        super().__init__(f"{where}: {what}" if where else what)

    def at(self, path: str, line: int) -> HealthBenchFormatError:
        return HealthBenchFormatError(self.reason, self.field, path, line)


# --- field checks: each raises HealthBenchFormatError naming the field ---------------------

def _get(record: dict[str, Any], key: str, parent: str = "") -> Any:
    if key not in record:
        raise HealthBenchFormatError("missing", f"{parent}.{key}" if parent else key)
    return record[key]


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise HealthBenchFormatError(f"expected a string, got {_kind(value)}", name)
    return value


def _str_list(value: Any, name: str, unique: bool = False) -> list[str]:
    if not isinstance(value, list):
        raise HealthBenchFormatError(f"expected a list of strings, got {_kind(value)}", name)
    for i, item in enumerate(value):
        _str(item, f"{name}[{i}]")
    if unique and len(set(value)) != len(value):
        raise HealthBenchFormatError(f"repeated entries in {value}", name)
    return value


def _messages(value: Any, name: str = "prompt") -> list[Message]:
    if not isinstance(value, list) or not value:
        raise HealthBenchFormatError(f"expected a non-empty list of messages, got {_kind(value)}", name)
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise HealthBenchFormatError(f"expected a message object, got {_kind(message)}", f"{name}[{i}]")
        for key in ("role", "content"):
            _str(_get(message, key, f"{name}[{i}]"), f"{name}[{i}].{key}")
    return value


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _points(value: Any, name: str) -> int | float:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or (isinstance(value, float) and not math.isfinite(value)):  # JSON allows NaN/Infinity
        raise HealthBenchFormatError(f"expected a number, got {value!r}", name)
    return value


def _criterion(item: Any, index: int) -> Criterion:
    name = f"rubrics[{index}]"
    if not isinstance(item, dict):
        raise HealthBenchFormatError(f"expected a rubric item object, got {_kind(item)}", name)
    extra = sorted(set(item) - RUBRIC_ITEM_KEYS)
    if extra:
        raise HealthBenchFormatError(f"unexpected keys {extra}", name)
    _str(_get(item, "criterion", name), f"{name}.criterion")
    _points(_get(item, "points", name), f"{name}.points")
    _str_list(_get(item, "tags", name), f"{name}.tags")
    try:
        criterion = Criterion.from_healthbench(item, f"c{index}")
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "item"
        loc = {"text": "criterion", "dimension": "tags"}.get(loc, loc)
        raise HealthBenchFormatError(first["msg"], f"{name}.{loc}") from None
    if {k: v for k, v in criterion.to_healthbench().items() if k != "matcher"} != \
            {k: v for k, v in item.items() if k != "matcher"}:  # a matcher is validated, and written normalised
        raise HealthBenchFormatError(
            f"would not round-trip exactly (reads back as {criterion.to_healthbench()}); "
            "a 'dimension:' tag must be single and last", f"{name}.tags")
    return criterion


# --- examples ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class HealthBenchExample:
    """One HealthBench conversation with its physician-written rubric."""

    prompt: list[Message]
    rubric: Rubric
    example_tags: list[str]
    prompt_id: str
    ideal_completions_data: dict[str, Any] | None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: Any) -> HealthBenchExample:
        """Validate one parsed JSONL object; raises HealthBenchFormatError naming the field."""
        if not isinstance(record, dict):
            raise HealthBenchFormatError(f"expected a JSON object, got {_kind(record)}")
        prompt_id = _str(_get(record, "prompt_id"), "prompt_id")
        prompt = _messages(_get(record, "prompt"))
        items = _get(record, "rubrics")
        if not isinstance(items, list) or not items:
            raise HealthBenchFormatError(f"expected a non-empty list of rubric items, got {_kind(items)}", "rubrics")
        criteria = [_criterion(item, i) for i, item in enumerate(items)]
        if not any(c.points > 0 for c in criteria):
            raise HealthBenchFormatError("no item has positive points, so the example cannot be scored", "rubrics")
        tags = _str_list(_get(record, "example_tags"), "example_tags", unique=True)
        ideal = _get(record, "ideal_completions_data")
        if ideal is not None and not isinstance(ideal, dict):
            raise HealthBenchFormatError(f"expected an object or null, got {_kind(ideal)}", "ideal_completions_data")
        return cls(prompt=prompt, rubric=Rubric(criteria=criteria, metadata={"prompt_id": prompt_id}),
                   example_tags=tags, prompt_id=prompt_id, ideal_completions_data=ideal,
                   extra={k: v for k, v in record.items() if k not in EXAMPLE_KEYS})

    def to_record(self) -> dict[str, Any]:
        """HealthBench's line shape, keys in the published order, then any extra keys."""
        return {"prompt": self.prompt, "rubrics": self.rubric.to_healthbench(), "example_tags": self.example_tags,
                "prompt_id": self.prompt_id, "ideal_completions_data": self.ideal_completions_data, **self.extra}


def load_examples(path: str | Path, on_error: OnError = "raise",
                  skipped: list[tuple[int, str]] | None = None) -> list[HealthBenchExample]:
    """Read a HealthBench example file (main, hard or consensus)."""
    return _load(path, HealthBenchExample.from_record, on_error, skipped)


def write_examples(path: str | Path, examples: Iterable[HealthBenchExample]) -> None:
    """Write examples as JSONL; ASCII-escaped like Python's json default, so any string survives."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for example in examples:
            f.write(json.dumps(example.to_record()) + "\n")


# --- meta-evaluation rows ---------------------------------------------------------------------

@dataclass(frozen=True)
class MetaEvalRow:
    """One (conversation, completion, criterion) with physicians' binary judgements of it.

    ``binary_labels[i]`` is the judgement of ``anonymized_physician_ids[i]``: HealthBench's
    meta-eval pairs them by position, so their lengths must agree.
    """

    prompt: list[Message]
    completion: str
    rubric: str
    binary_labels: list[bool]
    category: str
    anonymized_physician_ids: list[str]
    completion_id: str
    prompt_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: Any) -> MetaEvalRow:
        """Validate one parsed JSONL object; raises HealthBenchFormatError naming the field."""
        if not isinstance(record, dict):
            raise HealthBenchFormatError(f"expected a JSON object, got {_kind(record)}")
        labels = _get(record, "binary_labels")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, bool) for x in labels):
            raise HealthBenchFormatError(f"expected a non-empty list of booleans, got {labels!r}", "binary_labels")
        ids = _str_list(_get(record, "anonymized_physician_ids"), "anonymized_physician_ids")
        if len(ids) != len(labels):
            raise HealthBenchFormatError(f"{len(ids)} ids for {len(labels)} binary_labels", "anonymized_physician_ids")
        return cls(prompt=_messages(_get(record, "prompt")),
                   **{k: _str(_get(record, k), k) for k in ("completion", "rubric", "category", "completion_id",
                                                            "prompt_id")},
                   binary_labels=labels, anonymized_physician_ids=ids,
                   extra={k: v for k, v in record.items() if k not in META_EVAL_KEYS})

    def to_record(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in META_EVAL_KEYS} | self.extra


def load_meta_eval(path: str | Path, on_error: OnError = "raise",
                   skipped: list[tuple[int, str]] | None = None) -> list[MetaEvalRow]:
    """Read HealthBench's meta-evaluation file (physician labels of grader decisions)."""
    return _load(path, MetaEvalRow.from_record, on_error, skipped)


# --- JSONL reading ----------------------------------------------------------------------------

def _load(path: str | Path, parse: Callable[[Any], T], on_error: OnError,
          skipped: list[tuple[int, str]] | None) -> list[T]:
    """Parse every non-blank line; raise on the first bad one, or skip it into ``skipped``.

    Lines split on ``\\n`` only (bytes), so a stray ``\\r`` inside a line cannot shift the
    line numbers that errors report. A UTF-8 byte-order mark opening the file is ignored.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if on_error == "skip" and skipped is None:
        raise ValueError("on_error='skip' needs a `skipped` list to report the skipped lines in")
    out: list[T] = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                record = _parse_line(raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw)
                if record is not _BLANK:  # a JSON null is a bad record, not a blank line
                    out.append(parse(record))
            except HealthBenchFormatError as err:
                located = err.at(str(path), number)
                if on_error == "raise":
                    raise located from None
                skipped.append((number, str(located)))  # type: ignore[union-attr]
    return out


_BLANK = object()


def _parse_line(raw: bytes) -> Any:
    """The line's JSON value, ``_BLANK`` for a blank line; HealthBenchFormatError if unreadable."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HealthBenchFormatError(f"not UTF-8 ({err.reason} at byte {err.start})") from None
    if not text.strip(" \t\r\n"):  # JSON whitespace only: anything else is a bad line, not a blank one
        return _BLANK
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise HealthBenchFormatError(f"bad JSON: {err.msg} at column {err.colno}") from None
    except (ValueError, RecursionError) as err:  # e.g. an integer too long to convert, nesting too deep
        raise HealthBenchFormatError(f"bad JSON: {err}") from None
