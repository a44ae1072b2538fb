"""The evaluation runner: many consultations (or HealthBench examples), run concurrently, saved as they finish, summarised.

    clinic-env bench --doctor scripted --cases split:test --episodes-per-case 3 --out runs/bench

    from clinic_env.bench import run_benchmark            # a script
    result = run_benchmark(doctor="scripted", cases="split:test", out="runs/bench")
    result = await arun_benchmark(doctor="scripted", out="runs/bench")   # a notebook (a loop is running)

The plan is every (case, k) for k < ``episodes_per_case``; each episode has a seed derived
from (run seed, case id, k) and the key ``"case_id/k/run_seed"``. Each episode is opened
by its own ``Clinic`` and played on the episode driver both envs step (``Consultation``:
the same episode as the env's for that seed; concurrent episodes share nothing), at most
``concurrency`` at once on asyncio. A doctor with ``aact`` and a patient with ``areply``
are awaited; ``act`` and ``reply`` are called directly. Doctors and patients get a fresh
instance per episode, built from their spec (a spec resolves to a factory; an object
given instead is deep-copied per episode). The grader is shared: graders are stateless.
Every episode's record carries ``llm``: its LLM calls, tokens and cost (doctor, patient
and judge).

With ``workers > 1`` (``--workers``) the episodes and the concurrency are shared among that
many processes, each running its own event loop. Each finished episode is appended to
``OUT/results.jsonl`` at once; ``resume=True`` (``--resume``) keeps the episodes that
finished, retries those that failed and runs the rest (every key appears at most once).
Without it, a non-empty ``results.jsonl`` is an error. An episode that raises is recorded
with status "error" and excluded from every score: never counted as 0.

The modules, one concern each: ``config`` (options, plan, result), ``components`` (doctor,
patient and grader from specs), ``play`` (one episode), ``store`` (the crash-safe
results.jsonl, resume and the directory lock), ``workers`` (slots and worker processes),
``progress`` (the bar), ``runner`` (a benchmark run), ``healthbench`` (a HealthBench run and
its meta-evaluation on the same store). Case specs are ``clinic_env.cases.specs``.
"""

from clinic_env.bench.components import llm_grader
from clinic_env.bench.config import (
    RESULTS_FILE,
    BenchConfig,
    BenchError,
    BenchmarkResult,
    Episode,
    episode_key,
    episode_seed,
    plan_episodes,
)
from clinic_env.bench.runner import arun_benchmark, run_benchmark
from clinic_env.bench.store import read_results

__all__ = [
    "BenchConfig", "BenchError", "BenchmarkResult", "Episode", "RESULTS_FILE",
    "arun_benchmark", "run_benchmark", "episode_key", "episode_seed", "plan_episodes", "read_results",
    "llm_grader",
]
