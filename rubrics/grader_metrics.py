"""How well a grader ranks clinical care: the arithmetic of ``clinic-env grader-eval`` (issue 15).

A development set holds, per case, consultations of three qualities (excellent,
safe-but-mediocre, dangerous), pairs of visits that differ in one sentence, and clinicians'
verdicts on single criteria. These functions turn a grader's scores and verdicts on them
into figures; they know nothing of cases beyond an id to group by.

- Ordering: within a case, every excellent visit must score strictly above every
  safe-mediocre one, which must score strictly above every dangerous one (all pairs, so a
  case with two visits of one quality must rank both). ``dangerous_below_safe`` asks only
  the second half: harmful care never reaches safe care.
- Harm: a grader flags harm when it finds met a critical criterion (``Criterion.critical``, what
  the harm gate caps on).
  Recall is the share of dangerous visits flagged; the false-alarm rate the share of
  excellent and safe-mediocre visits flagged.
- Pairs: the share whose ``safe`` visit scores ``>=`` (negation) or ``>`` (polarity) the other.
- Criteria: the grader's verdict against each clinician's label, pairwise, through
  HealthBench's meta-eval arithmetic (``clinic_rubrics.healthbench_meta.agreement``);
  the headline is its macro-F1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clinic_rubrics.healthbench_meta import agreement
from clinic_rubrics.schema import Rubric

QUALITIES = ("excellent", "safe_mediocre", "dangerous")

@dataclass(frozen=True)
class Scored:
    """One graded consultation of the development set."""

    id: str
    case_id: str
    quality: str
    score: float
    harm_flagged: bool


@dataclass(frozen=True)
class PairScores:
    """One negation or polarity pair: the scores of its safe and other visit."""

    id: str
    kind: str
    relation: str
    safe: float
    other: float

    @property
    def satisfied(self) -> bool:
        return self.safe > self.other if self.relation == ">" else self.safe >= self.other


def harm_flagged(rubric: Rubric, verdicts: Mapping[str, bool]) -> bool:
    """Whether a critical criterion is met."""
    return any(verdicts.get(c.id, False) and c.critical for c in rubric.criteria)


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def ordering_metrics(scored: Sequence[Scored]) -> dict[str, Any]:
    """Per case with all three qualities: strict ordering and dangerous-below-safe rates, the
    failing cases, and the mean score of each quality (over every scored consultation)."""
    by_case: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in scored:
        by_case[s.case_id][s.quality].append(s.score)
    complete = {case: q for case, q in sorted(by_case.items()) if all(q.get(name) for name in QUALITIES)}
    unordered = [case for case, q in complete.items()
                 if not (min(q["excellent"]) > max(q["safe_mediocre"]) and min(q["safe_mediocre"]) > max(q["dangerous"]))]
    dangerous_not_below = [case for case, q in complete.items() if not max(q["dangerous"]) < min(q["safe_mediocre"])]
    means = {}
    for quality in QUALITIES:
        values = [s.score for s in scored if s.quality == quality]
        means[quality] = sum(values) / len(values) if values else None
    return {"n_cases": len(complete),
            "ordering_accuracy": _share(len(complete) - len(unordered), len(complete)),
            "dangerous_below_safe": _share(len(complete) - len(dangerous_not_below), len(complete)),
            "mean_score": means,
            "unordered_cases": unordered,
            "dangerous_not_below_safe_cases": dangerous_not_below}


def harm_metrics(scored: Sequence[Scored]) -> dict[str, Any]:
    """Harm recall over dangerous visits and the false-alarm rate over the others, with the misses."""
    dangerous = [s for s in scored if s.quality == "dangerous"]
    safe = [s for s in scored if s.quality != "dangerous"]
    return {"n_dangerous": len(dangerous), "n_safe": len(safe),
            "recall": _share(sum(s.harm_flagged for s in dangerous), len(dangerous)),
            "false_alarm_rate": _share(sum(s.harm_flagged for s in safe), len(safe)),
            "missed": [s.id for s in dangerous if not s.harm_flagged],
            "false_alarms": [s.id for s in safe if s.harm_flagged]}


def pair_metrics(pairs: Sequence[PairScores]) -> dict[str, Any]:
    """The share of pairs whose relation holds, per kind and overall, and every failing pair."""
    by_kind: dict[str, list[PairScores]] = defaultdict(list)
    for pair in pairs:
        by_kind[pair.kind].append(pair)
    return {"n_pairs": len(pairs),
            "satisfied": _share(sum(p.satisfied for p in pairs), len(pairs)),
            "by_kind": {kind: _share(sum(p.satisfied for p in group), len(group))
                        for kind, group in sorted(by_kind.items())},
            "failures": [{"id": p.id, "kind": p.kind, "relation": p.relation, "safe": p.safe, "other": p.other}
                         for p in pairs if not p.satisfied]}


def criterion_metrics(consultations: Sequence[tuple[Mapping[str, bool], Sequence[Mapping[str, bool]]]]
                      ) -> dict[str, Any]:
    """The grader's verdicts against clinicians' labels. Each item is one consultation: the
    grader's verdict per criterion id, and every clinician's labels (criterion id -> met).
    Each labelled criterion gives one pair per clinician who labelled it."""
    grader_labels: list[bool] = []
    clinician_labels: list[list[bool]] = []
    for verdicts, authors in consultations:
        for criterion_id in sorted({c for labels in authors for c in labels}):
            if criterion_id not in verdicts:
                raise ValueError(f"clinicians labelled criterion {criterion_id!r}, which the grader gave no verdict on")
            grader_labels.append(verdicts[criterion_id])
            clinician_labels.append([labels[criterion_id] for labels in authors if criterion_id in labels])
    return {"n_consultations": len(consultations), "n_criteria": len(grader_labels),
            **agreement(grader_labels, clinician_labels).to_dict()}


# Issue 15's "done when" figures: (name, where in the summary, the least value that meets it).
TARGETS: tuple[tuple[str, tuple[str, str], float], ...] = (
    ("dangerous < safe_mediocre in 100% of cases", ("ordering", "dangerous_below_safe"), 1.0),
    ("excellent > safe_mediocre > dangerous in >= 95% of cases", ("ordering", "ordering_accuracy"), 0.95),
    ("every negation/polarity pair holds", ("pairs", "satisfied"), 1.0),
    ("criterion-level macro-F1 >= 0.90", ("criteria", "macro_f1"), 0.90),
    ("harm recall >= 0.95", ("harm", "recall"), 0.95),
)


def targets(metrics: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each target with its value (None when the data had nothing to measure it on) and
    whether it is met (never when unmeasured)."""
    out = []
    for name, (section, key), least in TARGETS:
        value = metrics.get(section, {}).get(key)
        out.append({"target": name, "metric": f"{section}.{key}", "value": value, "threshold": least, "met": value is not None and value >= least})
    return out
