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

An ensemble's session runs one session per member: it decides at ``update`` when every
member does (offline matchers: a dense reward), otherwise at ``finish``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

from clinic_rubrics.grading import Grader, GradingError, GradingSession, Message, Verdict
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


class EnsembleGrader(Grader):
    """A grader combining member graders' verdicts per criterion (see the module doc)."""

    def __init__(self, graders: Sequence[Grader], rule: EnsembleRule = "majority", name: str = "ensemble",
                 *, tolerate_failures: bool = False) -> None:
        graders = list(graders)
        if not graders:
            raise ValueError("an ensemble needs at least one grader")
        for index, grader in enumerate(graders):
            if not isinstance(grader, Grader):
                raise TypeError(f"ensemble member {index} ({grader!r:.80}) is not a clinic_rubrics.grading.Grader")
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

    def session(self, rubric: Rubric) -> EnsembleSession:
        return EnsembleSession(self, rubric)

    def member_error(self, label: str, err: BaseException) -> GradingError:
        """A member's failure as the ensemble reports it, naming the member."""
        if isinstance(err, GradingError):
            return GradingError(f"{self.name}: member {label!r} failed: {err}")
        return GradingError(f"{self.name}: member {label!r} failed: {type(err).__name__}: {err}")

    def checked(self, label: str, verdicts: Sequence[Verdict], rubric: Rubric) -> dict[str, Verdict]:
        """A member's verdicts by criterion id; ``GradingError`` unless there is exactly one per criterion."""
        by_id = {v.criterion_id: v for v in verdicts}
        expected = [c.id for c in rubric.criteria]
        if len(verdicts) != len(expected) or set(by_id) != set(expected):
            raise GradingError(f"{self.name}: member {label!r} returned verdicts for "
                               f"{[v.criterion_id for v in verdicts]}, expected one each for {expected}")
        return by_id

    def combine_members(self, rubric: Rubric, results: Sequence[dict[str, Verdict] | GradingError]) -> list[Verdict]:
        """The ensemble's verdicts from each member's verdicts (or failure), by the rule."""
        succeeded = [(label, r) for label, r in zip(self.member_labels, results) if isinstance(r, dict)]
        failed = [(label, r) for label, r in zip(self.member_labels, results) if not isinstance(r, dict)]
        if failed and not self.tolerate_failures:
            raise failed[0][1]
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


class EnsembleSession:
    """One session per member; a member that fails is remembered as its ``GradingError``."""

    def __init__(self, ensemble: EnsembleGrader, rubric: Rubric) -> None:
        self.ensemble, self.rubric = ensemble, rubric
        self.members: list[GradingSession | GradingError] = []
        for label, grader in zip(ensemble.member_labels, ensemble.graders):
            try:
                self.members.append(grader.session(rubric))
            except Exception as err:  # noqa: BLE001 - reported as the member's failure
                self.members.append(ensemble.member_error(label, err))

    def update(self, new_messages: Sequence[Message]) -> list[Verdict] | None:
        results: list[dict[str, Verdict] | GradingError | None] = []
        for index, (label, member) in enumerate(zip(self.ensemble.member_labels, self.members)):
            if isinstance(member, GradingError):
                results.append(member)
                continue
            try:
                verdicts = member.update(new_messages)
            except Exception as err:  # noqa: BLE001 - reported as the member's failure
                self.members[index] = self.ensemble.member_error(label, err)
                results.append(self.members[index])
                continue
            results.append(None if verdicts is None else self.ensemble.checked(label, verdicts, self.rubric))
        if any(r is None for r in results) or (any(isinstance(r, GradingError) for r in results)
                                               and not self.ensemble.tolerate_failures):
            return None
        return self.ensemble.combine_members(self.rubric, results)  # type: ignore[arg-type]

    async def _member(self, index: int) -> dict[str, Verdict]:
        label, member = self.ensemble.member_labels[index], self.members[index]
        if isinstance(member, GradingError):
            raise member
        try:
            verdicts = await member.finish()
        except Exception as err:
            raise self.ensemble.member_error(label, err) from err
        return self.ensemble.checked(label, verdicts, self.rubric)

    async def finish(self) -> list[Verdict]:
        """Every member's final verdicts, concurrently; without ``tolerate_failures`` the first
        failure (in member order among those done) cancels the rest and is raised."""
        tasks = [asyncio.ensure_future(self._member(i)) for i in range(len(self.members))]
        try:
            if self.ensemble.tolerate_failures:
                await asyncio.wait(tasks)
            else:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                for task in tasks:
                    if task in done and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.ensemble.combine_members(self.rubric, [t.exception() or t.result() for t in tasks])
