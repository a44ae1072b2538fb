"""Case specs: the one reading of "which cases" for the env, the benchmark and the CLI.

    resolve_cases("split:test+specialty:cardiology")   # filters joined by '+'
    resolve_cases("pulm_cap_adult")                     # one builtin case id
    resolve_cases([case, "paeds_croup"])                # Case objects and ids
    resolve_cases("builtin", split="train")             # the env's split / specialty arguments

It sits with the cases (not in the benchmark runner) because the env, below the runner,
takes the same specs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clinic_env.cases.library import builtin_cases, load_case_file, load_cases
from clinic_env.cases.schema import Case

CASES_FORMS = ("'builtin', 'split:train', 'split:test', 'specialty:NAME', 'ids:a,b,c', a builtin case id, a "
               ".json/.jsonl case file, filters joined by '+' such as 'split:test+specialty:cardiology', or "
               "'generated:N' (N cases from the case generator, seeds 0..N-1; '+specialty:NAME' narrows its "
               "conditions)")


class CaseSpecError(ValueError):
    """A cases spec that names no usable set of cases; the message says which part and why."""


def resolve_cases(spec: Any = "builtin", split: str | None = None, specialty: str | None = None) -> list[Case]:
    """The cases a spec names (see ``CASES_FORMS``), without duplicates, in a stable order,
    narrowed to ``split`` and ``specialty`` when given."""
    cases = _spec_cases(spec)
    if split is None and specialty is None:
        return cases
    return load_cases(split=split, specialty=specialty, source=cases)


def _spec_cases(spec: Any) -> list[Case]:
    if spec is None:
        spec = "builtin"
    if isinstance(spec, Case):
        return [spec]
    if not isinstance(spec, (str, Path)):
        items = list(spec)
        if not items or not all(isinstance(c, (Case, str)) for c in items):
            raise CaseSpecError(f"cases must be a spec string or a non-empty list of Case objects or case ids; "
                                f"{CASES_FORMS}")
        by_id = {c.id: c for c in builtin_cases()}
        unknown = [c for c in items if isinstance(c, str) and c not in by_id]
        if unknown:
            raise CaseSpecError(f"unknown case id(s) {unknown}")
        return _unique([c if isinstance(c, Case) else by_id[c] for c in items])
    text = str(spec).strip()
    if isinstance(spec, Path) or text.endswith((".json", ".jsonl")) or (os.sep in text and Path(text).exists()):
        return _unique(load_case_file(text), check=True, source=text)
    if text.startswith("generated:"):
        return _generated_cases(text)
    pool = list(builtin_cases())
    for part in (p.strip() for p in text.split("+")):
        kind, sep, value = part.partition(":")
        value = value.strip()
        if part in ("builtin", "all"):
            continue
        if kind == "split" and sep:
            if value not in ("train", "test"):
                raise CaseSpecError(f"cases {spec!r}: split must be 'train' or 'test', got {value!r}")
            pool = [c for c in pool if c.split == value]
        elif kind == "specialty" and sep:
            known = sorted({c.specialty for c in builtin_cases()})
            if value not in known:
                raise CaseSpecError(f"cases {spec!r}: unknown specialty {value!r}; known specialties: {known}")
            pool = [c for c in pool if c.specialty == value]
        elif kind == "ids" and sep:
            pool = _by_ids(pool, [i.strip() for i in value.split(",") if i.strip()], spec)
        elif not sep and part in {c.id for c in builtin_cases()}:
            pool = _by_ids(pool, [part], spec)
        else:
            raise CaseSpecError(f"unknown cases spec {part!r}; use {CASES_FORMS}")
    if not pool:
        raise CaseSpecError(f"cases {spec!r} selects no case")
    return _unique(pool)


def _by_ids(pool: list[Case], wanted: list[str], spec: Any) -> list[Case]:
    """The cases of ``pool`` with the ``wanted`` builtin ids, in that order."""
    known_ids = {c.id for c in builtin_cases()}
    unknown = [i for i in wanted if i not in known_ids]
    if not wanted or unknown:
        raise CaseSpecError(f"cases {spec!r}: unknown case id(s) {unknown or wanted}; "
                            "`clinic-env cases` lists the builtin ids")
    by_id = {c.id: c for c in pool}
    return [by_id[i] for i in wanted if i in by_id]


def _generated_cases(text: str) -> list[Case]:
    """``generated:N[+specialty:NAME]``: a fixed set of generated cases (seeds 0..N-1)."""
    from clinic_env.cases.generator import CaseGenerator

    head, *filters = [p.strip() for p in text.split("+")]
    count = head.partition(":")[2].strip()
    if not count.isdigit() or int(count) < 1:
        raise CaseSpecError(f"cases {text!r}: 'generated:N' needs a positive number of cases, got {count!r}")
    specialty = None
    for part in filters:
        kind, _, value = part.partition(":")
        if kind != "specialty" or not value.strip():
            raise CaseSpecError(f"cases {text!r}: generated cases take only '+specialty:NAME', got {part!r}")
        specialty = value.strip()
    try:
        return CaseGenerator(specialty=specialty).cases(int(count))
    except ValueError as err:
        raise CaseSpecError(f"cases {text!r}: {err}") from None


def cases_label(spec: Any) -> Any:
    """The cases spec as JSON: the string, or the ids of the cases given."""
    if spec is None or isinstance(spec, (str, Path)):
        return str(spec or "builtin")
    if isinstance(spec, Case):
        return [spec.id]
    return [c if isinstance(c, str) else c.id for c in spec]


def _unique(cases: Sequence[Case], check: bool = False, source: str = "") -> list[Case]:
    seen: dict[str, Case] = {}
    for case in cases:
        if case.id in seen and check:
            raise CaseSpecError(f"{source}: case id {case.id!r} appears more than once")
        seen.setdefault(case.id, case)
    return list(seen.values())
