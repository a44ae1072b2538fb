"""Several graders voting on each criterion.

``EnsembleGrader(graders, rule=...)`` runs its members on the same conversation and rubric
(concurrently) and combines their verdicts criterion by criterion:

- ``"majority"``: met when strictly more than half of the members say met. A tie (e.g.
  one of two, two of four) counts as NOT met: an ensemble that cannot agree does not award
  points (and, for negative criteria, does not take them away).
- ``"all"``: met only when every member says met (strict; fewer false positives).
- ``"any"``: met when at least one member says met (lenient; fewer false negatives).

The combined verdict's explanation names the rule and the count, then lists each member's
verdict and explanation, one line per member.

Failures: by default a member that raises (or returns verdicts that do not match the
rubric) makes the ensemble raise ``GradingError`` naming that member, and the other
members' pending work is cancelled. With ``tolerate_failures=True`` failed members are left
out and the rule is applied to the members that succeeded (a majority of the survivors);
their failures are listed in the explanations. If every member fails, ``GradingError``
is raised all the same: never a silent "not met".
"""

from __future__ import annotations

import asyncio
from typing import Literal, Sequence

from clinic_rubrics.grading import Grader, GradingError, Message, Verdict
from clinic_rubrics.schema import Rubric

EnsembleRule = Literal["majority", "all", "any"]
ENSEMBLE_RULES: tuple[str, ...] = ("majority", "all", "any")


def combine(votes: Sequence[bool], rule: EnsembleRule) -> bool:
    """The ensemble's decision from members' votes (ties in ``majority`` are not met)."""
    if not votes:
        raise ValueError("no votes to combine")
    if rule == "majority":
        return sum(votes) * 2 > len(votes)
    if rule == "all":
        return all(votes)
    if rule == "any":
        return any(votes)
    raise ValueError(f"rule must be one of {ENSEMBLE_RULES}, got {rule!r}")


class EnsembleGrader:
    """A ``Grader`` combining member graders' verdicts per criterion (see the module doc)."""

    def __init__(self, graders: Sequence[Grader], rule: EnsembleRule = "majority", name: str = "ensemble",
                 *, tolerate_failures: bool = False) -> None:
        graders = list(graders)
        if not graders:
            raise ValueError("an ensemble needs at least one grader")
        for index, grader in enumerate(graders):
            if not callable(getattr(grader, "agrade", None)):
                raise TypeError(f"ensemble member {index} ({grader!r:.80}) is not a grader: it has no agrade()")
        if rule not in ENSEMBLE_RULES:
            raise ValueError(f"rule must be one of {ENSEMBLE_RULES}, got {rule!r}")
        self.graders = graders
        self.rule: EnsembleRule = rule
        self.name = name
        self.tolerate_failures = tolerate_failures
        # Labels for explanations and errors: the member's name, numbered when names repeat.
        names = [str(getattr(g, "name", "") or type(g).__name__) for g in graders]
        self.member_labels = [f"{n}#{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]

    def __repr__(self) -> str:
        return f"EnsembleGrader({self.member_labels}, rule={self.rule!r}, name={self.name!r})"

    async def _member(self, index: int, conversation: Sequence[Message], rubric: Rubric) -> dict[str, Verdict]:
        label = self.member_labels[index]
        try:
            verdicts = await self.graders[index].agrade(conversation, rubric)
        except GradingError as err:
            raise GradingError(f"{self.name}: member {label!r} failed: {err}") from err
        except Exception as err:
            raise GradingError(f"{self.name}: member {label!r} failed: {type(err).__name__}: {err}") from err
        by_id = {v.criterion_id: v for v in verdicts}
        expected = [c.id for c in rubric.criteria]
        if len(verdicts) != len(expected) or set(by_id) != set(expected):
            raise GradingError(f"{self.name}: member {label!r} returned verdicts for "
                               f"{[v.criterion_id for v in verdicts]}, expected one each for {expected}")
        return by_id

    async def agrade(self, conversation: Sequence[Message], rubric: Rubric) -> list[Verdict]:
        tasks = [asyncio.ensure_future(self._member(i, conversation, rubric)) for i in range(len(self.graders))]
        try:
            if self.tolerate_failures:
                await asyncio.wait(tasks)
            else:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                for task in tasks:  # the first failure, in member order among those done
                    if task in done and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        results: list[tuple[str, dict[str, Verdict] | GradingError]] = []
        for label, task in zip(self.member_labels, tasks):
            error = task.exception()
            results.append((label, error if error is not None else task.result()))  # type: ignore[arg-type]
        succeeded = [(label, r) for label, r in results if isinstance(r, dict)]
        failed = [(label, r) for label, r in results if not isinstance(r, dict)]
        if not succeeded:
            reasons = "; ".join(str(err) for _, err in failed)
            raise GradingError(f"{self.name}: every member failed: {reasons}")

        combined = []
        for criterion in rubric.criteria:
            votes = [(label, by_id[criterion.id]) for label, by_id in succeeded]
            met = combine([v.met for _, v in votes], self.rule)
            count = sum(v.met for _, v in votes)
            lines = [f"{self.rule}: {count} of {len(votes)} member(s) say met -> {'met' if met else 'not met'}"]
            lines += [f"- {label}: {'met' if v.met else 'not met'}: {v.explanation}" for label, v in votes]
            lines += [f"- {label}: failed (ignored): {err}" for label, err in failed]
            combined.append(Verdict(criterion.id, met, "\n".join(lines), self.name))
        return combined
