"""HealthBench meta-evaluation arithmetic: how well a grader agrees with physicians.

Each meta-eval row is one (conversation, completion, rubric criterion) with the binary
labels of several physicians. The grader labels the row once; its label is compared with
EVERY physician label of the row, one pair each, as simple-evals' ``healthbench_meta_eval``
does (no majority vote). Over all pairs of a rater:

- precision of class c: among pairs where the rater said c, the share where the other said c;
- recall of class c: among pairs where the other said c, the share where the rater said c;
- F1 of class c: their harmonic mean (0 when both are 0; ``None`` when either is undefined);
- "balanced": the mean of the positive and negative class values, so balanced F1 is the
  macro-F1 over the two classes, HealthBench's headline meta-eval score;
- agreement: the share of all pairs that agree (ours: simple-evals reports the above only).

A physician is scored the same way against the other physicians of each row they labelled,
which gives the human baseline a grader is compared with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clinic_rubrics.healthbench import MetaEvalRow

CLASSES = ("pos", "neg")


@dataclass(frozen=True)
class Agreement:
    """A rater's pairwise agreement with the other raters of the same rows."""

    n_pairs: int
    agreement: float | None
    precision: dict[str, float | None]
    recall: dict[str, float | None]
    f1: dict[str, float | None]

    @property
    def macro_f1(self) -> float | None:
        return self.f1["balanced"]

    def to_dict(self) -> dict[str, Any]:
        return {"n_pairs": self.n_pairs, "agreement": self.agreement, "macro_f1": self.macro_f1,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    if precision == 0 and recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _balanced(by_class: dict[str, float | None]) -> dict[str, float | None]:
    pos, neg = by_class["pos"], by_class["neg"]
    return {**by_class, "balanced": None if pos is None or neg is None else (pos + neg) / 2}


def agreement(labels: Sequence[bool], others: Sequence[Sequence[bool]]) -> Agreement:
    """``labels[i]`` (this rater's label of row i) against each label in ``others[i]``."""
    if len(labels) != len(others):
        raise ValueError(f"{len(labels)} labels for {len(others)} rows of other labels")
    said: dict[str, list[bool]] = {c: [] for c in CLASSES}  # pairs by this rater's class: agreed?
    heard: dict[str, list[bool]] = {c: [] for c in CLASSES}  # pairs by the other rater's class: agreed?
    for label, row in zip(labels, others):
        for other in row:
            said["pos" if label else "neg"].append(label == other)
            heard["pos" if other else "neg"].append(label == other)
    precision = {c: _share(said[c]) for c in CLASSES}
    recall = {c: _share(heard[c]) for c in CLASSES}
    f1 = {c: _f1(precision[c], recall[c]) for c in CLASSES}
    pairs = said["pos"] + said["neg"]
    return Agreement(len(pairs), _share(pairs), _balanced(precision), _balanced(recall), _balanced(f1))


@dataclass(frozen=True)
class MetaEvalReport:
    """The grader against the physicians, overall and per category, and the physicians'
    own pairwise agreement (the human baseline)."""

    grader: Agreement
    by_category: dict[str, Agreement]
    physicians: dict[str, Agreement]
    n_rows: int
    errors: list[dict[str, str]]
    n_resumed: int = 0

    @property
    def physician_mean_macro_f1(self) -> float | None:
        values = [a.macro_f1 for a in self.physicians.values() if a.macro_f1 is not None]
        return sum(values) / len(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {"n_rows": self.n_rows, "n_errors": len(self.errors), "n_resumed": self.n_resumed,
                "grader": self.grader.to_dict(),
                "by_category": {k: v.to_dict() for k, v in self.by_category.items()},
                "physicians": {"mean_macro_f1": self.physician_mean_macro_f1,
                               "by_physician": {k: v.to_dict() for k, v in self.physicians.items()}},
                "errors": self.errors}


def meta_eval_report(rows: Sequence[MetaEvalRow], grader_labels: Sequence[bool | None],
                     errors: Sequence[dict[str, str]] = (), n_resumed: int = 0) -> MetaEvalReport:
    """The report of a grader's labels of ``rows`` (``None``: the row failed and is left out
    of the grader's figures, never counted as a disagreement). Physicians are compared on
    every row."""
    if len(rows) != len(grader_labels):
        raise ValueError(f"{len(grader_labels)} grader labels for {len(rows)} rows")
    graded = [(row, label) for row, label in zip(rows, grader_labels) if label is not None]
    categories: dict[str, list[tuple[MetaEvalRow, bool]]] = defaultdict(list)
    for row, label in graded:
        categories[row.category].append((row, label))
    return MetaEvalReport(
        grader=agreement([label for _, label in graded], [row.binary_labels for row, _ in graded]),
        by_category={c: agreement([label for _, label in pairs], [row.binary_labels for row, _ in pairs])
                     for c, pairs in sorted(categories.items())},
        physicians=_physicians(rows),
        n_rows=len(graded),
        errors=list(errors),
        n_resumed=n_resumed,
    )


def _physicians(rows: Sequence[MetaEvalRow]) -> dict[str, Agreement]:
    """Each physician's labels against the other physicians' labels of the same rows."""
    own: dict[str, list[bool]] = defaultdict(list)
    others: dict[str, list[list[bool]]] = defaultdict(list)
    for row in rows:
        for i, physician in enumerate(row.anonymized_physician_ids):
            own[physician].append(row.binary_labels[i])
            others[physician].append(row.binary_labels[:i] + row.binary_labels[i + 1:])
    return {p: agreement(own[p], others[p]) for p in sorted(own)}
