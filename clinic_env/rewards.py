"""Rewards: the protocol the environment scores a consultation through, and a diagnosis-match reward.

A reward object scores the visit *so far* with a number in [0, 1] and a breakdown for
``info``. The environment turns scores into step rewards: ``dense`` pays the change in
score at each doctor step (so an episode's rewards sum to its final score), ``terminal``
pays the final score once. ``rubric`` (the default) scores the case's clinical rubric;
``diagnosis_match`` only checks the final diagnosis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

from clinic_env.case_rubric import build_case_rubric
from clinic_env.cases.schema import Case
from clinic_env.consultation import Consultation
from clinic_env.leaks import find_leaks
from clinic_rubrics.grading import grade
from clinic_rubrics.offline_grader import OfflineGrader
from clinic_rubrics.schema import Rubric
from clinic_rubrics.scoring import met_flags, rubric_scorer


@dataclass(frozen=True)
class Score:
    value: float
    breakdown: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Reward(Protocol):
    """Scores a consultation in progress. ``reset`` is called once per episode with its case."""

    name: str

    def reset(self, case: Case) -> None: ...

    def score(self, consultation: Consultation) -> Score: ...


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def diagnosis_rank(differential: Sequence[str], case: Case) -> int | None:
    """1-based rank of the first item naming the case's diagnosis (or a synonym), else None.

    An item matches when it equals a name (ignoring case and punctuation) or contains one
    as whole words: "right lower lobe pneumonia" names "pneumonia".
    """
    names = case.diagnosis_names
    normal_names = {_normal(n) for n in names}
    for rank, item in enumerate(differential, 1):
        if _normal(item) in normal_names or find_leaks(item, names):
            return rank
    return None


@dataclass
class DiagnosisMatchReward:
    """1 if the top-ranked diagnosis is right, ``rank_credit[k]`` if it is ranked k+1, else 0.

    Synonym-aware. Until the visit ends with a diagnosis the score is 0, so in dense mode
    the whole reward arrives on the diagnosing step.
    """

    rank_credit: tuple[float, ...] = (1.0, 0.5, 1 / 3)
    name: str = "diagnosis_match"

    def reset(self, case: Case) -> None:
        """Stateless: nothing to prepare."""

    def score(self, consultation: Consultation) -> Score:
        diagnosis = consultation.diagnosis
        if diagnosis is None:
            return Score(0.0, {"diagnosed": False, "rank": None})
        rank = diagnosis_rank(diagnosis.differential, consultation.case)
        credit = self.rank_credit[rank - 1] if rank is not None and rank <= len(self.rank_credit) else 0.0
        return Score(credit, {"diagnosed": True, "rank": rank, "differential": list(diagnosis.differential)})


@dataclass
class RubricReward:
    """Rubric scoring of the dialogue so far: HealthBench's example score, clipped to [0, 1].

    The case's rubric is built at ``reset`` (``builder``); at each scoring the grader reads
    ``Consultation.grading_conversation()``. The breakdown has every criterion's verdict,
    the unclipped score and the per-dimension scores. The default grader is offline; an LLM
    judge or an ensemble works too (graded with ``clinic_rubrics.grading.grade``). A grader failure
    raises: an episode is never silently scored 0.
    """

    grader: Any = None
    builder: Callable[[Case], Rubric] = build_case_rubric
    name: str = "rubric"

    def __post_init__(self) -> None:
        self.grader = OfflineGrader() if self.grader is None else self.grader
        self.rubric: Rubric | None = None
        self._build = lru_cache(maxsize=1024)(self.builder)

    def reset(self, case: Case) -> None:
        """The case's rubric (built once per case, not per episode), and a fresh grading session."""
        self.rubric = self._build(case)
        self._scorer = rubric_scorer(self.rubric)
        session = getattr(self.grader, "session", None)
        self._session = session(self.rubric) if callable(session) else None
        self._read = 0

    def score(self, consultation: Consultation) -> Score:
        if self.rubric is None:
            raise RuntimeError("RubricReward.score() called before reset(case)")
        conversation = consultation.grading_conversation()
        if self._session is not None:  # a grader that reads a growing dialogue incrementally
            flags = self._session.update_flags(conversation[self._read:])
            self._read = len(conversation)
        else:
            sync = getattr(self.grader, "grade", None)
            verdicts = sync(conversation, self.rubric) if callable(sync) else grade(self.grader, conversation, self.rubric)
            flags = met_flags(self.rubric, verdicts)
        return self._scored(flags)

    def _scored(self, flags: list[bool], **extra: Any) -> Score:
        """The clipped score of the flags, with the raw score, verdicts, per-dimension scores and ``extra``."""
        metrics = self._scorer.metrics(flags)
        raw = metrics["overall_score"]
        return Score(min(1.0, max(0.0, raw)), {
            "raw_score": raw,
            "verdicts": {c.id: met for c, met in zip(self.rubric.criteria, flags)},
            "dimensions": {k.split(":", 1)[1]: v for k, v in metrics.items() if k.startswith("dimension:")},
            **extra,
        })


REWARDS = {"rubric": RubricReward, "diagnosis_match": DiagnosisMatchReward}


def make_reward(spec: "str | Reward") -> Reward:
    """A reward object from a registered name or an object that already follows the protocol."""
    if isinstance(spec, str):
        if spec not in REWARDS:
            raise ValueError(f"unknown reward {spec!r}; known rewards: {sorted(REWARDS)}")
        return REWARDS[spec]()
    if not isinstance(spec, Reward):
        raise TypeError(f"reward must be a name or have reset(case), score(consultation) and name; got {spec!r}")
    return spec
