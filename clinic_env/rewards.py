"""Rewards: the protocol the environment scores a consultation through, and a diagnosis-match reward.

A reward object scores the visit *so far* with a number in [0, 1] and a breakdown for
``info``. The consultation turns scores into step rewards: ``dense`` pays the change in
score at each doctor step (so an episode's rewards sum to its final score), ``terminal``
pays the final score once. ``rubric`` (the default) scores the case's clinical rubric
through a grading session; ``diagnosis_match`` only checks the final diagnosis.

A score can be ``pending``: the rubric reward with a grader that decides only on the
whole visit (an LLM judge) has nothing to say mid-visit. When the visit ends the driver
awaits ``afinish``, the one judging of the episode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from clinic_env.case_rubric import case_rubric
from clinic_env.cases.schema import Case
from clinic_env.leaks import find_leaks
from clinic_rubrics.grading import Grader, Verdict
from clinic_rubrics.offline_grader import OfflineGrader
from clinic_rubrics.schema import Rubric
from clinic_rubrics.scoring import check_harm_cap, rubric_scorer
from clinic_rubrics.text import plain_words

if TYPE_CHECKING:
    from clinic_env.consultation import Consultation


@dataclass(frozen=True)
class Score:
    value: float
    breakdown: dict[str, Any] = field(default_factory=dict)
    pending: bool = False


@runtime_checkable
class Reward(Protocol):
    """Scores a consultation in progress. ``reset`` is called once per episode with its case.

    A reward that can return a ``pending`` score must also have ``async afinish(consultation)``,
    which the driver awaits once the visit ends.
    """

    name: str

    def reset(self, case: Case) -> None: ...

    def score(self, consultation: Consultation) -> Score: ...


def diagnosis_rank(differential: Sequence[str], case: Case) -> int | None:
    """1-based rank of the first item naming the case's diagnosis (or a synonym), else None.

    An item matches when it equals a name (ignoring case and punctuation) or contains one
    as whole words: "right lower lobe pneumonia" names "pneumonia".
    """
    names = case.diagnosis_names
    normal_names = {plain_words(n) for n in names}
    for rank, item in enumerate(differential, 1):
        if plain_words(item) in normal_names or find_leaks(item, names):
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
    """Rubric scoring of the dialogue so far: HealthBench's example score, clipped to [0, 1] and
    gated for harm (``clinic_rubrics.scoring.RubricScorer.score``).

    The case's rubric comes from ``builder`` at ``reset``, with a fresh
    grading session of ``grader`` (any ``clinic_rubrics.grading.Grader``; offline by
    default); each ``score`` feeds the session only the messages added since the last. The
    breakdown has every criterion's verdict, the unclipped (raw) score, the critical criteria
    met and the harm cap that applied, the per-dimension scores and the grader's explanations.
    A grader failure raises: an episode is never silently 0.

    ``harm_cap``: "rubric" (default) keeps the rubric's own gate (case rubrics cap at
    ``clinic_env.case_rubric.HARM_CAP``); a number in [0, 1] caps any rubric's reward at it
    once a critical criterion is met; None turns the gate off (the raw score, clipped, is paid).
    """

    grader: Grader | None = None
    builder: Callable[[Case], Rubric] = case_rubric
    harm_cap: float | None | Literal["rubric"] = "rubric"
    name: str = "rubric"

    def __post_init__(self) -> None:
        self.grader = OfflineGrader() if self.grader is None else self.grader
        if not isinstance(self.grader, Grader):
            raise TypeError(f"grader {self.grader!r:.80} is not a clinic_rubrics.grading.Grader: subclass "
                            "Grader (implement session(rubric)) or WholeConversationGrader")
        check_harm_cap(self.harm_cap)
        self.rubric: Rubric | None = None

    def reset(self, case: Case) -> None:
        """The case's rubric and a fresh grading session. Builders keep their rubrics (``case_rubric``
        once per case and process, ``LLMRubricGenerator`` once per case), so this is cheap."""
        self.rubric = self.builder(case)
        self._scorer = rubric_scorer(self.rubric)
        self._session = self.grader.session(self.rubric)
        self._read = 0

    def score(self, consultation: Consultation) -> Score:
        verdicts = self._session.update(self._unread(consultation))
        if verdicts is None:
            return Score(0.0, {"pending": True}, pending=True)
        return self._scored(verdicts)

    async def afinish(self, consultation: Consultation) -> Score:
        """The final score: the session reads what is left and decides."""
        self._session.update(self._unread(consultation))
        return self._scored(await self._session.finish())

    def _unread(self, consultation: Consultation) -> list[dict[str, str]]:
        if self.rubric is None:
            raise RuntimeError("RubricReward scored before reset(case)")
        conversation = consultation.grading_conversation()
        unread, self._read = conversation[self._read:], len(conversation)
        return unread

    def _scored(self, verdicts: Sequence[Verdict]) -> Score:
        """The gated score of the verdicts, with the raw score, the harm gate, verdicts,
        per-dimension scores and explanations."""
        flags = self._scorer.flags(verdicts)
        scored = self._scorer.score(flags, self.harm_cap)
        explanations = {v.criterion_id: v.explanation for v in verdicts if v.explanation}
        return Score(scored.reward, {
            "raw_score": scored.raw,
            "critical_met": list(scored.critical_met),
            "harm_cap": scored.harm_cap,
            "verdicts": dict(zip(self._scorer.ids, flags)),
            "dimensions": {k.split(":", 1)[1]: v for k, v in scored.metrics.items() if k.startswith("dimension:")},
            **({"explanations": explanations} if explanations else {}),
        })


REWARDS = {"rubric": RubricReward, "diagnosis_match": DiagnosisMatchReward}


def make_reward(spec: str | Reward) -> Reward:
    """A reward object from a registered name or an object that already follows the protocol."""
    if isinstance(spec, str):
        if spec not in REWARDS:
            raise ValueError(f"unknown reward {spec!r}; known rewards: {sorted(REWARDS)}")
        return REWARDS[spec]()
    if not isinstance(spec, Reward):
        raise TypeError(f"reward must be a name or have reset(case), score(consultation) and name; got {spec!r}")
    return spec
