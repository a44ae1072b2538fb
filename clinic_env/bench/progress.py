"""The progress bar of a run: items done, the running mean score and the error count."""

from __future__ import annotations

import sys


def progress_enabled(option: bool | None) -> bool:
    """``option``, or when it is None: a bar only on a terminal or in a notebook."""
    if option is not None:
        return bool(option)
    return sys.stderr.isatty() or "ipykernel" in sys.modules


class Progress:
    """A tqdm bar on stderr fed by ``finished(key, status, score)`` as each record is saved.

    ``done_scores`` are the scores of the records already finished before this run (resumed),
    so the mean covers the whole plan from the start.
    """

    def __init__(self, total: int, done_scores: list[float], desc: str, unit: str, option: bool | None) -> None:
        from tqdm.auto import tqdm

        self.scores = list(done_scores)
        self.n_errors = 0
        self.bar = tqdm(total=total, initial=len(done_scores), desc=desc, unit=unit,
                        disable=not progress_enabled(option), file=sys.stderr, dynamic_ncols=True)
        if self.scores:
            self.bar.set_postfix(mean=f"{sum(self.scores) / len(self.scores):.3f}", errors=0, refresh=False)

    def finished(self, key: str, status: str, score: float) -> None:
        if status == "ok":
            self.scores.append(score)
        else:
            self.n_errors += 1
        mean = f"{sum(self.scores) / len(self.scores):.3f}" if self.scores else "n/a"
        self.bar.set_postfix(mean=mean, errors=self.n_errors, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
