"""The examiner: answers examination and test orders from the case, never through the patient.

A doctor's order is free text. The examiner resolves it to a body system or a test
(through the aliases in ``exam_systems`` and ``investigations``, then the general readings of
``investigations.readings`` when no name matches), reports the case's
finding or result, and for anything the case does not list reports a normal finding or a
result fitted to the patient (``derived_results``), or "not available" (``unlisted_tests``).
Whether an order is answered never depends on the case: the tests it knows are the catalogue's
and every test of the env's case pool (``KnownTests``), so ordering a test reveals nothing about
whether the case lists it. Every report carries its cost and turnaround, which the consultation
adds up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

from clinic_env.cases.schema import Case, TestResult
from clinic_env.derived_results import derive
from clinic_env.exam_systems import EXAM_SYSTEMS, NORMAL_FINDINGS, resolve_system
from clinic_env.investigations import (
    PROCEDURE_SAMPLES,
    Investigation,
    aliases_of,
    asks_for_nothing,
    catalogue_names,
    closest_alias,
    closest_catalogue_alias,
    is_prose,
    lookup,
    names_a_technique,
    normalize_name,
    only_test_within,
    panel_words,
    parts,
    parts_on_one_sample,
    parts_sharing_an_ending,
    readings,
    sample_of,
    slashed_parts,
    spelled_out,
    spellings,
)


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


@lru_cache(maxsize=4096)
def _test_index(case: Case) -> dict[str, TestResult]:
    """Every normalised name a case's tests answer to (their own aliases and the catalogue's)."""
    index: dict[str, TestResult] = {}
    for test in case.tests:
        for alias in (*aliases_of(test.name), *(normalize_name(a) for a in test.aliases)):
            index.setdefault(alias, test)
    return index


class KnownTests:
    """The tests a pool of cases knows beyond the catalogue: each name and alias of a pool case's
    test that the catalogue lacks, answered in any case with a non-committal normal result."""

    def __init__(self, cases: Iterable[Case] = ()) -> None:
        self.items: dict[str, Investigation] = {}
        for case in cases:
            for test in case.tests:
                self._add(test)

    def _add(self, test: TestResult) -> None:
        item = lookup(test.name) or Investigation(test.name, tuple(test.aliases), "No abnormality detected",
                                                  test.reference_range, test.cost, test.turnaround_hours)
        for alias in (test.name, *test.aliases):
            if lookup(alias) is None:
                self.items.setdefault(normalize_name(alias), item)

    def find_exactly(self, order: str) -> Investigation | None:
        """The catalogue's or the pool's test an order names by one of its own names or aliases."""
        return lookup(order) or next((self.items[s] for s in spellings(order) if s in self.items), None)

    def find(self, order: str) -> Investigation | None:
        """The catalogue's or the pool's test an order names, exactly or by ``closest_alias``."""
        found = self.find_exactly(order)
        if found is not None:
            return found
        alias = closest_catalogue_alias(spelled_out(order))
        if alias is not None:
            return lookup(alias)
        alias = closest_alias(spelled_out(order), self.items)
        return None if alias is None else self.items[alias]


class Examiner:
    """Answers orders for one case. ``unlisted_tests``: "normal" or "not_available"; ``known``: the
    tests the env's case pool knows beyond the catalogue (by default the case's own)."""

    def __init__(self, case: Case, unlisted_tests: Literal["normal", "not_available"] = "normal",
                 known: KnownTests | None = None) -> None:
        check_unlisted_tests(unlisted_tests)
        self.case = case
        self.unlisted_tests = unlisted_tests
        self.known = known if known is not None else KnownTests((case,))
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

    def answer(self, items: Sequence[str]) -> tuple[Report, ...]:
        """The reports for one ORDER's items, each test answered once: an item after a procedure that
        takes a sample (``PROCEDURE_SAMPLES``: CSF, joint fluid) is read on that sample
        first when it names none of its own, since a clinician lists that sample's analytes after it
        ("LP - CSF cell count, protein, glucose" asks for CSF glucose, not blood glucose), and one
        naming no test there is a detail of the procedure ("Gram stain"), answered by its report; an
        item of courtesy alone ("please") asks for nothing, nor one beside a test that says why it is
        asked for ("CK, he's been pacing non-stop"; "While we're at it, could you add TFTs?")."""
        found: dict[str | None, Report] = {}
        sample = None
        for item in items:
            if item.lstrip().startswith("?") or (found and names_a_technique(item) and len(item.split()) > 1):
                continue  # a query ("?consolidation"), or how the test before it is done ("culture and
                # sensitivities"), where one word is a test's shorthand ("FBC, CRP, cultures")
            reports = self.orders(f"{sample} {item}") if sample and sample_of(item) is None else ()
            if not any(r.resolved for r in reports):
                reports = self.orders(item)
            if not any(r.resolved for r in reports) and (sample or asks_for_nothing(item)):
                continue  # a detail of the procedure ("Gram stain"), which its report answers, or courtesy
            sample = next((PROCEDURE_SAMPLES[r.resolved] for r in reports if r.resolved in PROCEDURE_SAMPLES), sample)
            for report in reports:
                found.setdefault(report.resolved or item, report)
        answered = any(r.resolved for r in found.values())  # then an item naming none is why, not what
        return tuple(r for r in found.values() if r.resolved or not (answered and is_prose(r.requested)))

    def orders(self, requested: str) -> tuple[Report, ...]:
        """The reports for every test one ordered item names: tests joined by "and" or "+" that each
        name one ("RF and anti-CCP": both of a case's results, not a combined test's; "a urine sample
        for dip and culture"), one test
        ("FBC"), or a panel typed as one item ("FBC CRP LFT"), each of its tests answered, else the
        one test named inside a description ("dermatoscopy of the changing mole"); an item naming
        no test gets the one "not recognised" report."""
        for split, loosely in ((parts_on_one_sample(requested), False), (slashed_parts(requested), True),
                               (parts(requested), False), (parts_sharing_an_ending(requested), False)):
            # a slash lists tests; "and" may join sites
            joined = [self.order(part, loosely) for part in split]
            if len(joined) > 1 and all(r.resolved is not None and not names_a_technique(r.requested) for r in joined):
                return tuple({r.resolved: r for r in joined}.values())
        report = self.order(requested, loosely=False)
        if report.resolved is not None:
            return (report,)
        found = {r.resolved: r for r in map(self.order, self._panel(requested)) if r.resolved is not None}
        return tuple(found.values()) or (self.order(requested),)  # a test two parts both name is answered once

    def _panel(self, requested: str) -> list[str]:
        """The tests of a panel: the parts listed by slashes or joined by "+", "and", "&" or "with",
        else a run of words that splits wholly into tests ("FBC U&E clotting G&S"), else none."""
        joined = slashed_parts(requested) or parts(requested)
        if len(joined) > 1:
            return joined
        return panel_words(requested, self._names_exactly)

    def _names_exactly(self, name: str) -> bool:
        """Whether a name is a test's own name or alias, as written or spelled out (no closest
        match): a panel is split only into whole names, so "throat swab culture" never becomes a
        throat swab and a blood culture."""
        if names_a_technique(name):  # "KUB film" is no KUB and blood film
            return False
        return any(n in self._tests for n in _names(name)) or self.known.find_exactly(name) is not None

    def order(self, requested: str, loosely: bool = True) -> Report:
        """The report for one test; ``loosely``: also the one test whose name the order holds among
        other words (``only_test_within``), read only after every exact and closest reading."""
        test, item = self._read(requested, loosely)
        if test is not None:
            result = test.result + (f" [reference: {test.reference_range}]" if test.reference_range else "")
            return Report("test", requested, test.name, result, test.cost, test.turnaround_hours,
                          from_case=True, abnormal=test.abnormal)
        if item is None:
            return Report("test", requested, None, "Not available: this test is not recognised here.")
        if self.unlisted_tests == "not_available":
            return Report("test", requested, None, f"Not available: {item.name} cannot be done for this patient.")
        item = derive(item, self.case)
        result = item.normal_result + (f" [reference: {item.reference_range}]" if item.reference_range else "")
        return Report("test", requested, item.name, result, item.cost, item.turnaround_hours)

    def _read(self, requested: str, loosely: bool) -> tuple[TestResult | None, Investigation | None]:
        """The test of the first of an order's ``readings`` that names one: each reading is tried
        only when the plainer ones before it name nothing, and loosely only when none names one."""
        for reading in readings(requested):
            test, item = self._resolve(reading)
            if test is not None or item is not None:
                return test, item
        for reading in readings(requested) if loosely else ():
            alias = only_test_within(normalize_name(reading), self._all_names)
            if alias is not None:
                return self._resolve(alias)
        return None, None

    @cached_property
    def _all_names(self) -> dict[str, str]:
        """Every alias this examiner answers to, of the case's tests, the catalogue's and the pool's,
        mapped to its test's name (built once per examiner, on its first loose reading)."""
        return {**catalogue_names(), **{a: i.name for a, i in self.known.items.items()},
                **{a: t.name for a, t in self._tests.items()}}

    def _resolve(self, requested: str) -> tuple[TestResult | None, Investigation | None]:
        """The case's test an order names, else the known test it names: exactly (as written, spelled
        out, or through a catalogue alias) first, then by the longest ``closest_alias``."""
        for name in _names(requested):
            if name in self._tests:
                return self._tests[name], None
        item = lookup(requested)
        if item is None:  # no exact name: the case's closest test, else the closest known one
            alias = closest_alias(spelled_out(requested), self._tests)
            if alias is not None:
                return self._tests[alias], None
            item = self.known.find(requested)
        if item is None:
            return None, None
        names = (*aliases_of(item.name), *item.answered_by)
        return next(((self._tests[n], None) for n in names if n in self._tests), (None, item))
