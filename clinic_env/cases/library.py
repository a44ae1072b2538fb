"""Loading cases: one JSON file per case, validated, selectable by id, specialty and split."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from clinic_env.cases.schema import Case

BUILTIN_DIR = Path(__file__).parent / "data"


class CaseError(ValueError):
    """A case file that cannot be used; the message names the file, the case id and the field."""


def _field_path(loc: tuple) -> str:
    """Pydantic's error location as a readable path: history[2].lay."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def parse_case(data: object, source: str = "<memory>") -> Case:
    """Validate one case record; errors name the source, the case id and every bad field."""
    case_id = data.get("id", "<no id>") if isinstance(data, dict) else "<not an object>"
    if not isinstance(data, dict):
        raise CaseError(f"{source}: case {case_id}: expected a JSON object, got {type(data).__name__}")
    try:
        return Case.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"field {_field_path(e['loc'])}: {e['msg']}" for e in err.errors())
        raise CaseError(f"{source}: case {case_id}: {problems}") from None
    except RecursionError:
        raise CaseError(f"{source}: case {case_id}: nested too deeply") from None


def load_case_file(path: str | Path) -> list[Case]:
    """Cases from a .json file (one case or a list of cases) or a .jsonl file (one per line);
    the first bad record raises ``CaseError``."""
    return [parse_case(record, source) for source, record in _records(Path(path))]


def check_case_file(path: str | Path) -> tuple[list[Case], list[str]]:
    """Every valid case of a file, and a ``CaseError`` message for each record that is not or
    that repeats an earlier record's id (a file that cannot be read or decoded at all is one problem)."""
    cases, problems = [], []
    try:
        records = _records(Path(path), strict=False)
    except CaseError as err:
        return [], [str(err)]
    first_seen: dict[str, str] = {}
    for source, record in records:
        if isinstance(record, CaseError):  # a JSONL line that is not JSON
            problems.append(str(record))
            continue
        try:
            case = parse_case(record, source)
        except CaseError as err:
            problems.append(str(err))
            continue
        if case.id in first_seen:  # a pool answers each id once, so the file cannot be played
            problems.append(f"{source}: case {case.id}: id already used at {first_seen[case.id]}")
            continue
        first_seen[case.id] = source
        cases.append(case)
    return cases, problems


def _records(path: Path, strict: bool = True) -> list[tuple[str, object]]:
    """(source, decoded record) per case; a JSONL line that is not JSON raises, or with
    ``strict=False`` stands as its ``CaseError`` so the other lines still count."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is no part of the JSON
    except (OSError, UnicodeDecodeError) as err:
        raise CaseError(f"{path}: cannot read case file: {err}") from None
    if path.suffix != ".jsonl":
        data = _decode(text, str(path))
        items = data if isinstance(data, list) else [data]
        return [(str(path) if len(items) == 1 else f"{path}[{i}]", item) for i, item in enumerate(items)]
    records: list[tuple[str, object]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            source = f"{path}:{lineno}"
            try:
                records.append((source, _decode(line, source)))
            except CaseError as err:
                if strict:
                    raise
                records.append((source, err))
    return records


def _decode(text: str, source: str) -> object:
    """JSON text as a record; any text that is not usable JSON is a ``CaseError`` naming its source."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise CaseError(f"{source}: case <unreadable>: invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise CaseError(f"{source}: case <unreadable>: JSON nested too deeply") from None
    except ValueError:  # an integer of thousands of digits
        raise CaseError(f"{source}: case <unreadable>: a number with more digits than a case can hold") from None


@lru_cache(maxsize=1)
def builtin_cases() -> tuple[Case, ...]:
    """The builtin library, validated once per process, sorted by id."""
    cases = [case for path in sorted(BUILTIN_DIR.glob("*.json")) for case in load_case_file(path)]
    _check_unique_ids(cases)
    return tuple(sorted(cases, key=lambda c: c.id))


def _check_unique_ids(cases: Iterable[Case]) -> None:
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise CaseError(f"case id {case.id!r} appears more than once")
        seen.add(case.id)


def load_cases(
    ids: Iterable[str] | None = None,
    specialty: str | None = None,
    split: str | None = None,
    source: Iterable[Case] | None = None,
) -> list[Case]:
    """Select cases by id, specialty and split (any combination) from the builtin library or ``source``."""
    pool = list(builtin_cases() if source is None else source)
    if ids is not None:
        by_id = {case.id: case for case in pool}
        wanted = [ids] if isinstance(ids, str) else list(ids)
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise KeyError(f"unknown case id(s) {missing}; known ids: {sorted(by_id)}")
        pool = [by_id[i] for i in wanted]
    if specialty is not None:
        pool = [case for case in pool if case.specialty == specialty]
    if split is not None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        pool = [case for case in pool if case.split == split]
    if not pool:
        raise ValueError(f"no case matches ids={ids!r} specialty={specialty!r} split={split!r}")
    return pool


def get_case(case_id: str) -> Case:
    """One builtin case by id."""
    return load_cases(ids=[case_id])[0]
