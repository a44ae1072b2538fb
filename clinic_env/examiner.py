"""The examiner: answers examination and test orders from the case, never through the patient.

A doctor's order is free text. The examiner resolves it to a body system or a test
(through the aliases in ``exam_systems`` and ``investigations``), reports the case's
finding or result, and for anything the case does not list reports a normal finding,
a plausible normal result from the catalogue, or "not available" (``unlisted_tests``).
Every report carries its cost and turnaround, which the consultation adds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from clinic_env.cases.schema import Case, TestResult
from clinic_env.exam_systems import EXAM_SYSTEMS, NORMAL_FINDINGS, resolve_system
from clinic_env.investigations import aliases_of, lookup, normalize_name, spellings


@dataclass(frozen=True)
class Report:
    """One answered order: what was asked, what it resolved to, and what came back."""

    kind: Literal["exam", "test"]
    requested: str
    resolved: str | None
    text: str
    cost: float = 0.0
    turnaround_hours: float = 0.0
    from_case: bool = False
    abnormal: bool = False

    def render(self) -> str:
        """The line the doctor reads."""
        if self.kind == "exam":
            return f"[Examination: {self.resolved or self.requested}] {self.text}"
        extra = f" (cost ${self.cost:g}, {self.turnaround_hours:g} h)" if self.resolved else ""
        return f"[Test: {self.resolved or self.requested}] {self.text}{extra}"


def check_unlisted_tests(value: str) -> None:
    """The one check of the ``unlisted_tests`` setting (the env runs it at construction)."""
    if value not in ("normal", "not_available"):
        raise ValueError(f"unlisted_tests must be 'normal' or 'not_available', got {value!r}")


@lru_cache(maxsize=4096)
def _names(requested: str) -> tuple[str, ...]:
    """An order's normalised text, then the catalogue's aliases of it: worked out once per order
    text (doctors order the same tests again and again, and each alias is normalised)."""
    return tuple(dict.fromkeys((*spellings(requested), *aliases_of(requested))))


@lru_cache(maxsize=1024)
def _test_index(case: Case) -> dict[str, TestResult]:
    """Every normalised name a case's tests answer to (their own aliases and the catalogue's)."""
    index: dict[str, TestResult] = {}
    for test in case.tests:
        for alias in (*aliases_of(test.name), *(normalize_name(a) for a in test.aliases)):
            index.setdefault(alias, test)
    return index


class Examiner:
    """Answers orders for one case. ``unlisted_tests``: "normal" or "not_available"."""

    def __init__(self, case: Case, unlisted_tests: Literal["normal", "not_available"] = "normal") -> None:
        check_unlisted_tests(unlisted_tests)
        self.case = case
        self.unlisted_tests = unlisted_tests
        self._tests = _test_index(case)

    def examine(self, requested: str) -> Report:
        system = resolve_system(requested)
        if system is None:
            return Report("exam", requested, None,
                          f"Not a recognised examination. Examine one of: {', '.join(EXAM_SYSTEMS)}.")
        if system in self.case.exam:
            return Report("exam", requested, system, self.case.exam[system], from_case=True)
        return Report("exam", requested, system, self._normal_exam(system))

    def _normal_exam(self, system: str) -> str:
        demographics = self.case.demographics
        if system == "obstetric" and not demographics.pregnant:
            return "Not applicable: the patient is not pregnant."
        if system in ("pelvic", "breast") and demographics.sex == "male":
            return "Not applicable for this patient." if system == "pelvic" else "No masses or gynaecomastia."
        return NORMAL_FINDINGS[system]

    def order(self, requested: str) -> Report:
        test = self._find_case_test(requested)
        if test is not None:
            result = test.result + (f" [reference: {test.reference_range}]" if test.reference_range else "")
            return Report("test", requested, test.name, result, test.cost, test.turnaround_hours,
                          from_case=True, abnormal=test.abnormal)
        item = lookup(requested)
        if item is None:
            return Report("test", requested, None, "Not available: this test is not recognised here.")
        if self.unlisted_tests == "not_available":
            return Report("test", requested, None, f"Not available: {item.name} cannot be done for this patient.")
        result = f"{item.normal_result} [reference: {item.reference_range}]"
        return Report("test", requested, item.name, result, item.cost, item.turnaround_hours)

    def _find_case_test(self, requested: str) -> TestResult | None:
        """Exact name or alias first, then the catalogue's aliases, then a whole-word containment match."""
        names = _names(requested)
        for name in names:
            if name in self._tests:
                return self._tests[name]
        words = set(names[0].split())
        if not words:
            return None
        for alias, test in self._tests.items():
            alias_words = set(alias.split())
            if len(alias_words) > 1 and alias_words <= words:
                return test
        return None
