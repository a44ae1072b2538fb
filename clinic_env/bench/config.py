"""What a benchmark run is: its options, its plan of episodes, the files it writes and its result."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinic_env.bench.report import format_stat, report_html
from clinic_env.cases.schema import Case

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.json"
RETRIED_FILE = "retried_errors.jsonl"
LOCK_FILE = ".bench.lock"


class BenchError(ValueError):
    """A benchmark that cannot start: a bad spec or option, or an output directory in the way."""


@dataclass
class BenchConfig:
    """What to benchmark and where to write it.

    doctor, patient: a spec string (``clinic_env.registry``: "scripted", "offline",
        "package.module:Name", "scheme:ARG"), a class or factory, or an object (deep-copied
        per episode).
    grader: "offline" (the rubric reward with the offline grader), "llm:MODEL" (the LLM
        judge at ``OPENAI_BASE_URL`` / OpenAI), "package.module:Name", or a grader object
        (``clinic_rubrics.grading.Grader``: its session is finished, and awaited, when the
        episode ends).
    cases: a spec (see ``clinic_env.cases.specs.CASES_FORMS``) or a list of ``Case`` objects or ids.
    progress: True / False, or None for a bar only on a terminal or in a notebook.
    workers: processes that play episodes, each with its own event loop and an equal
        share of ``concurrency``. 1 (the default) plays them in this process; more use more
        CPU cores for the CPU-bound parts (offline patient and grader, HTTP client work),
        and then components must be spec strings or picklable objects, and a script must
        guard its entry point with ``if __name__ == "__main__":``.
    """

    doctor: Any = "scripted"
    patient: Any = "offline"
    grader: Any = "offline"
    cases: Any = "builtin"
    episodes_per_case: int = 1
    concurrency: int = 8
    seed: int = 0
    out: str | Path = "runs/bench"
    resume: bool = False
    max_turns: int = 30
    persona: str | None = None
    progress: bool | None = None
    n_bootstrap: int = 1000
    workers: int = 1


def check_config(cfg: BenchConfig) -> None:
    for name in ("episodes_per_case", "concurrency", "max_turns", "n_bootstrap", "workers"):
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BenchError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int):
        raise BenchError(f"seed must be an integer, got {cfg.seed!r}")
    if cfg.out is None or str(cfg.out) == "":
        raise BenchError("out must name a directory for results.jsonl and the reports")


@dataclass(frozen=True)
class Episode:
    """One planned consultation: the case, its index k among that case's episodes, its seed and key."""

    case: Case
    k: int
    seed: int
    key: str


def episode_seed(seed: int, case_id: str, k: int) -> int:
    """The episode's seed: a hash of (run seed, case id, k), in [0, 2**31)."""
    digest = hashlib.sha256(f"{seed}/{case_id}/{k}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def episode_key(case_id: str, k: int, seed: int) -> str:
    """The key of an episode in results.jsonl: ``"case_id/k/run_seed"``."""
    return f"{case_id}/{k}/{seed}"


def plan_episodes(cases: Sequence[Case], episodes_per_case: int, seed: int) -> list[Episode]:
    """Every (case, k), case by case."""
    return [Episode(case, k, episode_seed(seed, case.id, k), episode_key(case.id, k, seed))
            for case in cases for k in range(episodes_per_case)]


@dataclass
class BenchmarkResult:
    """What a run left behind: paths, the summary and the plan's records (in plan order)."""

    out: Path
    summary: dict[str, Any]
    records: list[dict[str, Any]]
    n_run: int
    n_skipped: int
    warnings: list[str] = field(default_factory=list)

    @property
    def results_path(self) -> Path:
        return self.out / RESULTS_FILE

    @property
    def summary_path(self) -> Path:
        return self.out / SUMMARY_FILE

    @property
    def report_md(self) -> Path:
        return self.out / "report.md"

    @property
    def report_html(self) -> Path:
        return self.out / "report.html"

    @property
    def score(self) -> float | None:
        overall = self.summary.get("overall")
        return overall["mean"] if overall else None

    @property
    def ci(self) -> tuple[float, float] | None:
        overall = self.summary.get("overall")
        return (overall["ci_low"], overall["ci_high"]) if overall else None

    def __repr__(self) -> str:
        s = self.summary
        return (f"BenchmarkResult(out={str(self.out)!r}, score={format_stat(s.get('overall'))}, "
                f"n_ok={s['n_ok']}, n_errors={s['n_errors']}, n_missing={s['n_missing']})")

    def _repr_html_(self) -> str:  # a notebook cell shows the report (without page styles)
        return report_html(self.summary, self.records, self.summary.get("config"), standalone=False)
