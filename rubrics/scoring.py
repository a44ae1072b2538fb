"""HealthBench-exact scoring: per-example scores, tag and dimension scores, clipped aggregates.

The formulas are those of HealthBench (openai/simple-evals, ``healthbench_eval.py``), so
numbers computed here are comparable with published HealthBench results:

- an example scores the points of its met criteria (negative points included) over the
  sum of its positive points; the score is not clipped, so it can be negative;
- a rubric-level tag (and here also a dimension, keyed ``dimension:<name>``) scores the
  same formula over the criteria carrying it, and only when that subset has a positive
  criterion; a dimension is HealthBench's tag ``dimension:<name>``, which is how
  ``Criterion.to_healthbench`` writes it, so the two agree on converted rubrics;
- an example-level tag (``theme:emergency_referrals``) takes the example's overall score;
- across examples each metric is averaged over the examples that have it, and the mean
  is clipped to [0, 1]; its uncertainty is the standard deviation of the clipped means of
  1000 bootstrap resamples.

The reward of one example (``RubricScorer.score``) is that score clipped to [0, 1] and then
gated: once a ``critical`` criterion is met, it is at most the harm cap (the rubric's
``harm_cap`` unless the caller overrides it). Every grader's verdicts come through here, so
an offline matcher, an LLM judge and an ensemble are gated alike; a rubric with no critical
criterion and no cap (every HealthBench rubric) is paid HealthBench's clipped score.

HealthBench draws its bootstrap from NumPy's unseeded global RNG, so its stds vary from
run to run. Here ``seed`` (default 0) makes them reproducible: with an integer seed every
metric draws from its own ``np.random.RandomState(seed)``, which gives exactly the draws
HealthBench's code makes for that metric right after ``np.random.seed(seed)``;
``seed=None`` uses the global RNG as HealthBench does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Literal

import numpy as np

from clinic_rubrics.grading import Verdict
from clinic_rubrics.schema import DIMENSION_TAG, DIMENSIONS, Criterion, Rubric, per_rubric

Criteria = Rubric | Sequence[Criterion]
Met = Sequence[bool] | Sequence[Verdict]

OVERALL = "overall_score"
N_BOOTSTRAP = 1000


@dataclass(frozen=True)
class Stat:
    """One aggregated metric, as HealthBench reports it (``name``, ``name:n_samples``, ``name:bootstrap_std``)."""

    mean: float
    n_samples: int
    bootstrap_std: float


def _criteria(criteria: Criteria) -> list[Criterion]:
    return list(criteria.criteria if isinstance(criteria, Rubric) else criteria)


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, np.bool_))


def met_flags(criteria: Criteria, met: Met) -> list[bool]:
    """One bool per criterion, in order: from aligned bools, or from verdicts matched by id.

    A missing, duplicated or unknown verdict is an error, never a silent False: a failed
    grade must not look like a criterion the doctor missed.
    """
    items = _criteria(criteria)
    met = list(met)
    if all(type(m) is bool for m in met):  # the common case, checked cheaply (once per env step)
        if len(met) != len(items):
            raise ValueError(f"{len(met)} met flags for {len(items)} criteria")
        return met
    if all(isinstance(m, Verdict) for m in met) and met:
        return _flags_from_verdicts(items, met)  # type: ignore[arg-type]
    if not all(_is_bool(m) for m in met):
        raise TypeError("met must be a list of bools aligned with the criteria or a list of Verdicts, "
                        f"got {sorted({type(m).__name__ for m in met})}")
    if len(met) != len(items):
        raise ValueError(f"{len(met)} met flags for {len(items)} criteria")
    return [bool(m) for m in met]


def _flags_from_verdicts(items: list[Criterion], verdicts: list[Verdict]) -> list[bool]:
    by_id: dict[str, bool] = {}
    for v in verdicts:
        if v.criterion_id in by_id:
            raise ValueError(f"two verdicts for criterion {v.criterion_id!r}")
        if not _is_bool(v.met):
            raise TypeError(f"verdict for criterion {v.criterion_id!r} has met={v.met!r}, not a bool")
        by_id[v.criterion_id] = bool(v.met)
    ids = [c.id for c in items]
    unknown = sorted(set(by_id) - set(ids))
    if unknown:
        raise ValueError(f"verdicts for criteria not in the rubric: {unknown}")
    for c in items:
        if c.id not in by_id:
            raise ValueError(f"no verdict for criterion {c.id!r} ({c})")
    return [by_id[i] for i in ids]


def _score(points: Sequence[int | float], flags: Sequence[bool]) -> float | None:
    """HealthBench's ``calculate_score``: achieved points over possible (positive) points."""
    possible = sum(p for p in points if p > 0)
    if possible == 0:
        return None
    return sum(p for p, m in zip(points, flags, strict=True) if m) / possible


def example_score(criteria: Criteria, met: Met) -> float | None:
    """The example's overall score, unclipped; None when no criterion has positive points."""
    items = _criteria(criteria)
    return _score([c.points for c in items], met_flags(items, met))


@dataclass(frozen=True)
class RubricScore:
    """One example scored as a reward: ``reward`` is what is paid (clipped to [0, 1], capped by
    the harm gate), ``raw`` HealthBench's unclipped example score, ``critical_met`` the ids of the
    critical criteria met, ``harm_cap`` the cap that applied (None: no gate) and ``metrics``
    HealthBench's per-example metrics (``RubricScorer.metrics``)."""

    reward: float
    raw: float
    critical_met: tuple[str, ...]
    harm_cap: float | None
    metrics: dict[str, float]

    @property
    def capped(self) -> bool:
        """Whether the gate lowered the reward."""
        return self.harm_cap is not None and bool(self.critical_met) and min(1.0, max(0.0, self.raw)) > self.harm_cap


def gate(raw: float, critical_met: Sequence[str], harm_cap: float | None) -> float:
    """The reward from a raw score: clipped to [0, 1], and at most ``harm_cap`` once a critical
    criterion is met (no cap when ``harm_cap`` is None)."""
    clipped = min(1.0, max(0.0, raw))
    return min(clipped, harm_cap) if critical_met and harm_cap is not None else clipped


def check_harm_cap(harm_cap: object) -> None:
    """``ValueError`` unless ``harm_cap`` is a number in [0, 1], None (no gate) or "rubric" (the rubric's own)."""
    if harm_cap == "rubric" or harm_cap is None:
        return
    if isinstance(harm_cap, bool) or not isinstance(harm_cap, (int, float)) or not 0.0 <= harm_cap <= 1.0:
        raise ValueError(f"harm_cap must be a number in [0, 1], None or 'rubric', got {harm_cap!r}")


class RubricScorer:
    """``example_metrics`` and the gated reward for one rubric, with its tag and dimension groups
    worked out once, for scoring the same rubric many times (a dialogue graded at every step)."""

    def __init__(self, criteria: Criteria) -> None:
        self.items = _criteria(criteria)
        self.harm_cap = criteria.harm_cap if isinstance(criteria, Rubric) else None
        self.points = [c.points for c in self.items]
        self.ids = [c.id for c in self.items]
        self._unique_ids = len(set(self.ids)) == len(self.ids)
        self._critical = [i for i, c in enumerate(self.items) if c.critical]
        if _score(self.points, [False] * len(self.points)) is None:
            raise ValueError("no criterion has positive points: HealthBench cannot score this example")
        tags: dict[str, list[int]] = {}
        dims: dict[str, list[int]] = {d: [] for d in DIMENSIONS}
        for i, c in enumerate(self.items):
            for tag in c.tags:
                tags.setdefault(tag, []).append(i)
            if c.dimension is not None:
                dims[c.dimension].append(i)
        # (name, indices, possible points) in HealthBench's order; groups with no positive
        # criterion get no score, so they are dropped here once.
        named = [*tags.items(), *((f"{DIMENSION_TAG}{d}", idx) for d, idx in dims.items())]
        self.groups = [(name, idx, sum(self.points[i] for i in idx if self.points[i] > 0)) for name, idx in named]
        self.groups = [g for g in self.groups if g[2] > 0]
        # Per criterion, the groups it counts in (as often as it is listed in each).
        self._groups_of: list[list[int]] = [[] for _ in self.items]
        for g, (_, idx, _) in enumerate(self.groups):
            for i in idx:
                self._groups_of[i].append(g)

    def metrics(self, met: Met, example_tags: Iterable[str] = ()) -> dict[str, float]:
        """All per-example metrics: ``overall_score``, example tags, rubric tags, ``dimension:<d>``.

        Later keys overwrite earlier ones on a name clash, in HealthBench's order (example tags,
        then rubric tags); dimension scores come last.
        """
        return self._metrics(self.flags(met), example_tags)

    def flags(self, met: Met) -> list[bool]:
        """``met_flags`` for this rubric, with verdicts in rubric order with bool ``met`` (what a
        grading session returns; then none is missing, repeated or unknown) read off directly."""
        met = list(met)
        if set(map(type, met)) == {Verdict} and self._unique_ids and [v.criterion_id for v in met] == self.ids:
            flags = [v.met for v in met]
            if set(map(type, flags)) == {bool}:
                return flags
        return met_flags(self.items, met)

    def _metrics(self, flags: list[bool], example_tags: Iterable[str] = ()) -> dict[str, float]:
        overall = _score(self.points, flags)
        example_tags = list(example_tags)
        if len(set(example_tags)) != len(example_tags):
            raise ValueError(f"example tags must be unique, got {example_tags}")
        metrics = {OVERALL: overall}
        metrics.update({tag: overall for tag in example_tags})
        achieved = [0] * len(self.groups)
        for i in compress(range(len(flags)), flags):
            for g in self._groups_of[i]:
                achieved[g] += self.points[i]
        for (name, _, possible), points in zip(self.groups, achieved):
            metrics[name] = points / possible
        return metrics

    def score(self, met: Met, harm_cap: float | None | Literal["rubric"] = "rubric") -> RubricScore:
        """The example's gated reward, raw score, critical criteria met and metrics. ``harm_cap``
        overrides the rubric's cap ("rubric": keep it; None: no gate)."""
        check_harm_cap(harm_cap)
        cap = self.harm_cap if harm_cap == "rubric" else harm_cap
        flags = self.flags(met)
        metrics = self._metrics(flags)
        critical = tuple(self.ids[i] for i in self._critical if flags[i])
        raw = metrics[OVERALL]
        return RubricScore(gate(raw, critical, cap), raw, critical, cap, metrics)


@per_rubric
def rubric_scorer(rubric: Rubric) -> RubricScorer:
    """The rubric's ``RubricScorer``, built once per rubric object (shared by every episode)."""
    return RubricScorer(rubric)


def clipped_reward(rubric: Rubric, met: Met) -> float:
    """A reward from verdicts (or flags): HealthBench's example score clipped to [0, 1], capped
    by the rubric's harm gate (see ``RubricScorer.score``)."""
    return rubric_scorer(rubric).score(met).reward


def example_metrics(criteria: Criteria, met: Met, example_tags: Iterable[str] = ()) -> dict[str, float]:
    """All per-example metrics (see ``RubricScorer.metrics``)."""
    return RubricScorer(criteria).metrics(met, example_tags)


def clipped_mean(values: Sequence[float]) -> float:
    """HealthBench's reported mean: the plain mean, clipped to [0, 1]."""
    return float(np.clip(np.mean(values), 0, 1))


def bootstrap_std(values: Sequence[float], n_bootstrap: int = N_BOOTSTRAP, seed: int | None = 0) -> float:
    """Std (ddof=0) of the clipped means of ``n_bootstrap`` same-size resamples with replacement."""
    rng = np.random if seed is None else np.random.RandomState(seed)
    means = [clipped_mean(rng.choice(values, len(values))) for _ in range(n_bootstrap)]
    return float(np.std(means))


def aggregate(
    metrics: Iterable[Mapping[str, float]], n_bootstrap: int = N_BOOTSTRAP, seed: int | None = 0
) -> dict[str, Stat]:
    """Aggregate per-example metric dicts: each name over the examples that have it."""
    values: dict[str, list[float]] = {}
    for example in metrics:
        for name, value in example.items():
            if value is None or not np.isfinite(value):
                raise ValueError(f"metric {name!r} has value {value!r}; expected a finite number")
            values.setdefault(name, []).append(float(value))
    return {name: Stat(clipped_mean(v), len(v), bootstrap_std(v, n_bootstrap, seed)) for name, v in values.items()}


def flatten(stats: Mapping[str, Stat]) -> dict[str, float | int]:
    """HealthBench's flat metric keys: ``name``, ``name:n_samples``, ``name:bootstrap_std``."""
    flat: dict[str, float | int] = {}
    for name, s in stats.items():
        flat.update({name: s.mean, f"{name}:n_samples": s.n_samples, f"{name}:bootstrap_std": s.bootstrap_std})
    return flat
