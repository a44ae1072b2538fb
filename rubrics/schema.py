"""Rubric schema: weighted criteria over Baichuan-M2's six dimensions, in HealthBench's shape.

A criterion is one thing a good (or bad) doctor does, worth an integer number of points
in [-10, 10]: positive for what should happen, negative for what must not. A rubric is a
list of criteria plus metadata. Criteria may carry a ``Matcher``, a declarative spec the
offline grader can check without a model; LLM judges read only the criterion text.

The harm gate: a negative criterion can be marked ``critical`` (a contraindicated drug
given, an unsafe disposition, reassurance over a red flag), and a rubric can carry a
``harm_cap``, the most its reward can be once any critical criterion is met. Points alone
cannot keep harmful care below safe care (a thorough visit that ends in a lethal plan
still collects most of its positive points); the cap can. ``clinic_rubrics.scoring``
applies it, so every grader's verdicts are gated the same way. HealthBench rubrics have
neither, and score exactly as HealthBench scores them.

Rubrics convert to and from HealthBench's item shape (``{"criterion", "points", "tags"}``);
the dimension travels as a ``dimension:<name>`` tag so a round trip loses nothing.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Dimension = Literal[
    "diagnostic_accuracy",
    "consultation_logic",
    "examination_and_tests",
    "treatment",
    "communication",
    "ethics_safety",
]
DIMENSIONS: tuple[str, ...] = Dimension.__args__  # type: ignore[attr-defined]
DIMENSION_TAG = "dimension:"

Speaker = Literal["doctor", "patient", "examiner", "any"]
# The doctor's acts, as the grading conversation writes them: "ASK: ..." (or plain speech),
# "EXAMINE: ...", "ORDER: ...", "DIAGNOSE: ..." (the differential line), "PLAN: ...", "END: ...".
Act = Literal["ask", "examine", "order", "diagnose", "plan", "end"]
Polarity = Literal["any", "affirmed", "denied"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Matcher(Strict):
    """When the offline grader counts a criterion as met.

    The criterion is met when the messages of ``speaker`` hold at least ``min_count`` matches
    of ``any_of`` (whole words, case-insensitive, any spacing or hyphenation) or of
    ``pattern`` (a regular expression, multiline, case-insensitive). Options narrow where a
    match counts: ``polarity`` "affirmed" skips matches negated in their clause ("denies chest
    pain", "no fever"), "denied" keeps only those ("stop lamotrigine", "thrombolysis is
    contraindicated": a plan to withhold is met by withholding, never by giving); ``exclude_questions`` skips sentences ending in "?" (asserting is not
    asking), ``asking_only`` keeps only sentences that ask (a question, or a request such as "tell me
    about the pain": a list of words asks nothing); ``first_n`` looks only at the speaker's first n messages; ``before`` counts only
    messages that come before the speaker's first message containing one of these phrases
    (order awareness: "asks about allergies before prescribing"). ``acts`` (doctor only) reads
    only those parts of the doctor's messages (scope: a history question counts when asked,
    not when a test of that name is ordered); empty reads every act. A ``pattern`` may name
    its group ``mention``: negation and hypothetical scope are then read around that group
    rather than the whole match ("you've had (?P<mention>fever)"). ``unless_refused`` (with polarity
    "affirmed") fails the criterion once a statement explicitly refuses to give what it names ("do
    not give IM adrenaline"), whatever else mentions it: a plan that refuses a treatment has not
    recommended it. ``unless`` (a regular expression) fails the criterion once a statement affirms
    a match of it: "gives azithromycin alone" is not met by a plan that also gives ceftriaxone.
    """

    any_of: list[str] = Field(default_factory=list)
    pattern: str | None = None
    speaker: Speaker = "doctor"
    polarity: Polarity = "any"
    exclude_questions: bool = False
    asking_only: bool = False
    first_n: int | None = Field(default=None, ge=1)
    before: list[str] = Field(default_factory=list)
    min_count: int = Field(default=1, ge=1)
    acts: list[Act] = Field(default_factory=list)
    unless_refused: bool = False
    unless: str | None = None
    reading: str | None = Field(default=None, pattern=r"^\w+(?::[\w.-]+)?$")

    @field_validator("pattern", "unless")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"pattern does not compile: {err}") from None
        return pattern

    @model_validator(mode="after")
    def _has_something_to_match(self) -> Matcher:
        if self.reading is not None and (self.any_of or self.pattern is not None):
            raise ValueError("a matcher with a reading takes no any_of phrases or pattern")
        if not self.any_of and self.pattern is None and self.reading is None:
            raise ValueError("a matcher needs any_of phrases or a pattern, or a reading")
        if any(not p.strip() for p in self.any_of):
            raise ValueError("any_of phrases must not be empty")
        if self.asking_only and self.exclude_questions:
            raise ValueError("asking_only and exclude_questions exclude each other")
        if self.unless_refused and self.polarity != "affirmed":
            raise ValueError("unless_refused needs polarity 'affirmed': it reads refusals of a recommendation")
        if self.acts and self.speaker != "doctor":
            raise ValueError(f"acts {self.acts} scope the doctor's messages; speaker is {self.speaker!r}")
        return self


class Criterion(Strict):
    id: str = Field(min_length=1)
    text: str = Field(min_length=3, description="What the doctor does, as a grader would read it.")
    points: int = Field(ge=-10, le=10)
    dimension: Dimension | None = None
    tags: list[str] = Field(default_factory=list)
    matcher: Matcher | None = None
    critical: bool = Field(default=False, description="A critical harm: when met, the rubric's harm_cap applies.")

    @field_validator("points")
    @classmethod
    def _nonzero(cls, points: int) -> int:
        if points == 0:
            raise ValueError("points must be non-zero (positive: should happen; negative: must not)")
        return points

    @model_validator(mode="after")
    def _critical_is_harm(self) -> Criterion:
        if self.critical and self.points > 0:
            raise ValueError(f"criterion {self.id!r}: only a negative-points criterion (a harm) can be critical, "
                             f"got points={self.points}")
        return self

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[str]) -> list[str]:
        if len(set(tags)) != len(tags):
            raise ValueError(f"tags must be unique, got {tags}")
        if any(t.startswith(DIMENSION_TAG) for t in tags):
            raise ValueError(f"use the dimension field, not a {DIMENSION_TAG!r} tag")
        return tags

    def __str__(self) -> str:
        """HealthBench's rendering of a rubric item: ``[points] criterion``."""
        return f"[{self.points}] {self.text}"

    def to_healthbench(self) -> dict[str, Any]:
        """HealthBench's item shape; a matcher and ``critical`` travel as extra keys (ours)."""
        tags = list(self.tags) + ([f"{DIMENSION_TAG}{self.dimension}"] if self.dimension else [])
        item: dict[str, Any] = {"criterion": self.text, "points": self.points, "tags": tags}
        if self.matcher is not None:
            item["matcher"] = self.matcher.model_dump(exclude_defaults=True)
        if self.critical:
            item["critical"] = True
        return item

    @classmethod
    def from_healthbench(cls, item: dict[str, Any], id: str) -> Criterion:
        """A criterion from a HealthBench rubric item; a ``dimension:`` tag becomes the dimension."""
        tags = list(item.get("tags", []))
        dimensions = [t[len(DIMENSION_TAG):] for t in tags if t.startswith(DIMENSION_TAG)]
        tags = [t for t in tags if not t.startswith(DIMENSION_TAG)]
        return cls(id=id, text=item["criterion"], points=item["points"], tags=tags,
                   dimension=dimensions[0] if dimensions else None,
                   matcher=Matcher.model_validate(item["matcher"]) if item.get("matcher") else None,
                   critical=item.get("critical", False))


class Rubric(Strict):
    criteria: list[Criterion] = Field(min_length=1)
    metadata: dict[str, Any] = Field(default_factory=dict)
    harm_cap: float | None = Field(default=None, ge=0.0, le=1.0,
                                   description="The most the reward can be once a critical criterion is met; "
                                               "None: no gate (HealthBench's scoring).")

    @field_validator("criteria")
    @classmethod
    def _unique_ids(cls, criteria: list[Criterion]) -> list[Criterion]:
        ids = [c.id for c in criteria]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"criterion ids must be unique, repeated: {repeated}")
        return criteria

    @property
    def max_points(self) -> int:
        """HealthBench's denominator: the sum of positive points."""
        return sum(c.points for c in self.criteria if c.points > 0)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True)

    @classmethod
    def from_json(cls, text: str) -> Rubric:
        return cls.model_validate_json(text)

    def to_healthbench(self) -> list[dict[str, Any]]:
        return [c.to_healthbench() for c in self.criteria]

    @classmethod
    def from_healthbench(cls, items: list[dict[str, Any]], metadata: dict[str, Any] | None = None) -> Rubric:
        return cls(criteria=[Criterion.from_healthbench(item, f"c{i}") for i, item in enumerate(items)],
                   metadata=metadata or {})


T = TypeVar("T")


def per_rubric(build: Callable[[Rubric], T]) -> Callable[[Rubric], T]:
    """``build(rubric)`` worked out once per rubric object and forgotten with it.

    Rubrics are frozen, so what is derived from one (a grading plan, a scorer's groups)
    holds for its life; graders and rewards made per episode then share the work. Keyed by
    identity, as a rubric holds lists and cannot be hashed.
    """
    cache: dict[int, T] = {}

    def cached(rubric: Rubric) -> T:
        key = id(rubric)
        if key not in cache:
            cache[key] = build(rubric)
            weakref.finalize(rubric, cache.pop, key, None)  # runs before the id can be reused
        return cache[key]

    cached.__doc__ = build.__doc__
    return cached
