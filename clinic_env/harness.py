"""The benchmark harness: many consultations, run concurrently, saved as they finish, summarised.

    clinic-env bench --doctor scripted --cases split:test --episodes-per-case 3 --out runs/bench

    from clinic_env.harness import run_benchmark          # a script
    result = run_benchmark(doctor="scripted", cases="split:test", out="runs/bench")
    result = await arun_benchmark(doctor="scripted", out="runs/bench")   # a notebook (a loop is running)

The plan is every (case, k) for k < ``episodes_per_case``; each episode has a seed derived
from (run seed, case id, k) and the key ``"case_id/k/run_seed"``. Episodes run on the
PettingZoo AEC env (one env per episode, so concurrent episodes share nothing), at most
``concurrency`` at once on asyncio. A doctor with ``aact`` and a patient with ``areply``
are awaited; ``act`` and ``reply`` are called directly. Doctors and patients get a fresh
instance per episode, built from their spec (a spec resolves to a factory; an object
given instead is deep-copied per episode). The grader is shared: graders are stateless.

With ``workers > 1`` (``--workers``) the episodes and the concurrency are shared among that
many processes, each running its own event loop: the offline patient and grader and the
HTTP client's work are CPU-bound, and one process uses one core. Every episode's record
carries ``llm``: its LLM calls, tokens and cost (doctor, patient and judge).

Each finished episode is appended to ``OUT/results.jsonl`` at once, by whichever process
played it (flushed to disk by a group commit off the event loop), so an interrupted run,
or a worker that dies, loses only the episodes in flight. ``resume=True`` (``--resume``) reads
the file (a torn last line left by a crash is dropped and reported), keeps the episodes
that finished, retries those that failed (their old records move to
``retried_errors.jsonl``) and runs the rest: every key appears in ``results.jsonl`` at
most once. Without it, a non-empty ``results.jsonl`` is an error.

An episode that raises (an endpoint down, a ``GradingError``) is recorded with status
"error" and its exception, and is excluded from every score: never counted as 0. At the
end ``summary.json`` (``clinic_env.report.summarize``: means with 95% bootstrap intervals
overall, per dimension and per specialty), ``report.md`` and ``report.html`` are written.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import gc
import hashlib
import inspect
import json
import os
import pickle
import sys
import time
import traceback
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from gymnasium.utils import seeding

from clinic_env.case_rubric import case_rubric
from clinic_env.cases.library import builtin_cases, load_case_file
from clinic_env.cases.schema import Case
from clinic_env.clinic import Clinic
from clinic_env.consultation_v0 import fit_to_space
from clinic_env.persona import Persona
from clinic_env.registry import resolve
from clinic_env.report import format_stat, render_html, summarize, write_reports
from clinic_env.rewards import RubricReward
from clinic_env.usage import meter
from clinic_env.worker_pool import WorkerPool, shared_pool

try:  # POSIX: an advisory lock keeps two runs from writing one results file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.json"
RETRIED_FILE = "retried_errors.jsonl"
LOCK_FILE = ".bench.lock"
CASES_FORMS = ("'builtin', 'split:train', 'split:test', 'specialty:NAME', 'ids:a,b,c', a .json/.jsonl case file, "
               "filters joined by '+' such as 'split:test+specialty:cardiology', or 'generated:N' (N cases from "
               "the case generator, seeds 0..N-1; '+specialty:NAME' narrows its conditions)")


class BenchError(ValueError):
    """A benchmark that cannot start: a bad spec or option, or an output directory in the way."""


# ---- configuration ------------------------------------------------------------------------------

@dataclass
class BenchConfig:
    """What to benchmark and where to write it.

    doctor, patient: a spec string (``clinic_env.registry``: "scripted", "offline",
        "package.module:Name", "scheme:ARG"), a class or factory, or an object (deep-copied
        per episode).
    grader: "offline" (the rubric reward with the offline grader), "llm:MODEL" (the LLM
        judge at ``OPENAI_BASE_URL`` / OpenAI), "package.module:Name", or a grader object
        (``session``/``grade`` graders score inside the env; ``agrade``-only graders are
        awaited when the episode ends).
    cases: a spec (see ``CASES_FORMS``) or a list of ``Case`` objects or ids.
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


@dataclass(frozen=True)
class Episode:
    case: Case
    k: int
    seed: int
    key: str


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
        return render_html(self.summary, self.records, self.summary.get("config"), standalone=False)


def _check_config(cfg: BenchConfig) -> None:
    for name in ("episodes_per_case", "concurrency", "max_turns", "n_bootstrap", "workers"):
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BenchError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int):
        raise BenchError(f"seed must be an integer, got {cfg.seed!r}")
    if cfg.out is None or str(cfg.out) == "":
        raise BenchError("out must name a directory for results.jsonl and the reports")


# ---- the plan ------------------------------------------------------------------------------------

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


def resolve_cases(spec: Any = "builtin") -> list[Case]:
    """The cases a spec names (see ``CASES_FORMS``), without duplicates, in a stable order."""
    if spec is None:
        spec = "builtin"
    if isinstance(spec, Case):
        return [spec]
    if not isinstance(spec, (str, Path)):
        items = list(spec)
        if not items or not all(isinstance(c, (Case, str)) for c in items):
            raise BenchError(f"cases must be a spec string or a non-empty list of Case objects or case ids; {CASES_FORMS}")
        by_id = {c.id: c for c in builtin_cases()}
        unknown = [c for c in items if isinstance(c, str) and c not in by_id]
        if unknown:
            raise BenchError(f"unknown case id(s) {unknown}")
        return _unique([c if isinstance(c, Case) else by_id[c] for c in items])
    text = str(spec).strip()
    if isinstance(spec, Path) or text.endswith((".json", ".jsonl")) or (os.sep in text and Path(text).exists()):
        return _unique(load_case_file(text), check=True, source=text)
    if text.startswith("generated:"):
        return _generated_cases(text)
    pool = list(builtin_cases())
    for part in (p.strip() for p in text.split("+")):
        kind, sep, value = part.partition(":")
        value = value.strip()
        if part in ("builtin", "all"):
            continue
        if kind == "split" and sep:
            if value not in ("train", "test"):
                raise BenchError(f"cases {spec!r}: split must be 'train' or 'test', got {value!r}")
            pool = [c for c in pool if c.split == value]
        elif kind == "specialty" and sep:
            known = sorted({c.specialty for c in builtin_cases()})
            if value not in known:
                raise BenchError(f"cases {spec!r}: unknown specialty {value!r}; known specialties: {known}")
            pool = [c for c in pool if c.specialty == value]
        elif kind == "ids" and sep:
            wanted = [i.strip() for i in value.split(",") if i.strip()]
            known_ids = {c.id for c in builtin_cases()}
            unknown = [i for i in wanted if i not in known_ids]
            if not wanted or unknown:
                raise BenchError(f"cases {spec!r}: unknown case id(s) {unknown or wanted}; "
                                 "`clinic-env cases` lists the builtin ids")
            by_id = {c.id: c for c in pool}
            pool = [by_id[i] for i in wanted if i in by_id]
        else:
            raise BenchError(f"unknown cases spec {part!r}; use {CASES_FORMS}")
    if not pool:
        raise BenchError(f"cases {spec!r} selects no case")
    return _unique(pool)


def _generated_cases(text: str) -> list[Case]:
    """``generated:N[+specialty:NAME]``: a fixed set of generated cases (seeds 0..N-1)."""
    from clinic_env.cases.generator import CaseGenerator

    head, *filters = [p.strip() for p in text.split("+")]
    count = head.partition(":")[2].strip()
    if not count.isdigit() or int(count) < 1:
        raise BenchError(f"cases {text!r}: 'generated:N' needs a positive number of cases, got {count!r}")
    specialty = None
    for part in filters:
        kind, _, value = part.partition(":")
        if kind != "specialty" or not value.strip():
            raise BenchError(f"cases {text!r}: generated cases take only '+specialty:NAME', got {part!r}")
        specialty = value.strip()
    try:
        return CaseGenerator(specialty=specialty).cases(int(count))
    except ValueError as err:
        raise BenchError(f"cases {text!r}: {err}") from None


def _cases_label(spec: Any) -> Any:
    """The cases spec as JSON: the string, or the ids of the cases given."""
    if spec is None or isinstance(spec, (str, Path)):
        return str(spec or "builtin")
    if isinstance(spec, Case):
        return [spec.id]
    return [c if isinstance(c, str) else c.id for c in spec]


def _unique(cases: Sequence[Case], check: bool = False, source: str = "") -> list[Case]:
    seen: dict[str, Case] = {}
    for case in cases:
        if case.id in seen and check:
            raise BenchError(f"{source}: case id {case.id!r} appears more than once")
        seen.setdefault(case.id, case)
    return list(seen.values())


# ---- components ----------------------------------------------------------------------------------

def _label(obj: Any) -> str:
    """A stable name for a component, recorded with every episode and checked on resume."""
    if isinstance(obj, str):
        return obj
    target = obj if isinstance(obj, type) or inspect.isfunction(obj) else type(obj)
    return f"{target.__module__}:{target.__qualname__}"


def component_factory(kind: str, spec: Any, methods: tuple[str, ...]) -> tuple[Callable[[], Any], str]:
    """A factory building a fresh doctor or patient per episode, and the component's label.

    ``spec``: a registry spec string, a class or zero-argument factory, or an instance with
    one of ``methods`` (deep-copied per episode, so episodes never share its state).
    """
    if isinstance(spec, str):
        return resolve(kind, spec), spec
    if any(callable(getattr(spec, m, None)) for m in methods) and not isinstance(spec, type):
        try:
            copy.deepcopy(spec)
        except Exception as err:
            raise BenchError(f"the {kind} object {spec!r:.80} cannot be copied for each episode ({err}); pass its "
                             f"class or a zero-argument factory instead, e.g. lambda: MyDoctor(...)") from err
        return (lambda: copy.deepcopy(spec)), _label(spec)
    if callable(spec):
        return spec, _label(spec)
    raise BenchError(f"{kind} must be a spec string, a class or factory, or an object with {' or '.join(methods)}; "
                     f"got {spec!r:.80}")


def llm_grader(model: str, mode: str = "consultation", base_url: str | None = None,
               max_concurrency: int | None = None) -> Any:
    """The grader of ``"llm:MODEL"``: the LLM judge (in ``mode``) at ``base_url``, else
    ``OPENAI_BASE_URL`` (or OpenAI), through ``LLMClient`` (its retries, cache settings and cost
    meter). The client alone retries transport failures; the judge re-asks only for unusable answers."""
    from clinic_env.llm import LLMClient
    from clinic_rubrics.llm_judge import LLMJudge

    client = LLMClient(model, base_url=base_url or os.environ.get("OPENAI_BASE_URL") or None)
    return LLMJudge(client, name=f"llm:{model}", mode=mode, max_concurrency=max_concurrency or client.max_concurrency,
                    retry_client_errors=False)


def make_grader(spec: Any) -> tuple[Any, str]:
    """The grader object a spec names (built once per run) and its label."""
    grader = resolve("grader", spec)() if isinstance(spec, str) else spec
    if isinstance(grader, type):
        grader = grader()
    if not callable(getattr(grader, "session", None)):
        raise BenchError(f"grader {spec!r:.80} has no session(rubric): subclass clinic_rubrics.grading.Grader")
    return grader, spec if isinstance(spec, str) else _label(grader)


def reward_factory(grader: Any) -> Callable[[], RubricReward]:
    """A fresh rubric reward per episode around the shared grader."""
    return lambda: RubricReward(grader=grader, builder=case_rubric)


def build_run(cfg: BenchConfig) -> "_Run":
    """What every episode of a run shares: component factories, labels and settings."""
    make_doctor, doctor_label = component_factory("doctor", cfg.doctor, ("act", "aact"))
    make_patient, patient_label = component_factory("patient", cfg.patient, ("reply", "areply"))
    grader, grader_label = make_grader(cfg.grader)
    try:
        persona = Persona.from_spec(cfg.persona) if cfg.persona else None
    except ValueError as err:
        raise BenchError(f"persona {cfg.persona!r}: {err}") from None
    labels = {"doctor": doctor_label, "patient": patient_label, "grader": grader_label}
    return _Run(make_doctor, make_patient, reward_factory(grader), labels, cfg.max_turns, persona, cfg.seed)


# ---- one episode ---------------------------------------------------------------------------------

async def _act(doctor: Any, observation: str, info: dict) -> Any:
    """The doctor's next action, through ``aact`` when it has one."""
    aact = getattr(doctor, "aact", None)
    result = await aact(observation, info) if callable(aact) else doctor.act(observation, info)
    return await result if inspect.isawaitable(result) else result


@dataclass
class _Run:
    """What every episode of a run shares."""

    make_doctor: Callable[[], Any]
    make_patient: Callable[[], Any]
    make_reward: Callable[[], RubricReward]
    labels: dict[str, Any]
    max_turns: int
    persona: Persona | None
    run_seed: int


async def run_episode(episode: Episode, run: _Run) -> dict[str, Any]:
    """Play one consultation on its own AEC env; the record for results.jsonl, status "ok" or "error".

    Exceptions (``Exception``) become an "error" record; cancellation and KeyboardInterrupt
    propagate. ``record["llm"]`` counts the episode's LLM calls, tokens and cost (doctor,
    patient and judge alike: the meter follows the episode's task).
    """
    with meter() as llm:
        record = await _play_episode(episode, run)
    record["llm"] = llm.as_dict()
    return record


async def _play_episode(episode: Episode, run: _Run) -> dict[str, Any]:
    case = episode.case
    record: dict[str, Any] = {
        "key": episode.key, "case_id": case.id, "specialty": case.specialty, "split": case.split, "k": episode.k,
        "seed": episode.seed, "run_seed": run.run_seed, **run.labels, "status": "ok", "score": None,
        "raw_score": None, "dimensions": None, "verdicts": None, "terminated": None, "truncated": None,
    }
    timings = {"doctor": 0.0, "patient": 0.0, "grading": 0.0}
    start = time.perf_counter()
    consultation = None
    try:
        doctor, patient = run.make_doctor(), run.make_patient()
        clinic = Clinic(cases=[case], patient=patient, reward=run.make_reward(), reward_mode="terminal",
                        max_turns=run.max_turns, persona=run.persona)
        consultation = clinic.open(seeding.np_random(episode.seed)[0], {"case_id": case.id})
        reset = doctor.reset(seed=episode.seed)
        if inspect.isawaitable(reset):
            await reset
        observation, info = fit_to_space(consultation.turns[-1].text), consultation.doctor_info(None)
        while True:
            t = time.perf_counter()
            action = await _act(doctor, observation, info)
            timings["doctor"] += time.perf_counter() - t
            t = time.perf_counter()
            turn = await consultation.adoctor_turn(action)
            if turn.terminated or turn.truncated:
                timings["grading"] += time.perf_counter() - t
                break
            observation = turn.observation
            if turn.awaits_patient:
                t = time.perf_counter()
                observation = await consultation.apatient_turn()
                timings["patient"] += time.perf_counter() - t
            observation, info = fit_to_space(observation), consultation.doctor_info(turn.action)
        breakdown = consultation.breakdown
        record.update({
            "score": consultation.score,
            "raw_score": breakdown.get("raw_score"),
            "dimensions": breakdown.get("dimensions"),
            "verdicts": breakdown.get("verdicts"),
            **({"explanations": breakdown["explanations"]} if "explanations" in breakdown else {}),
            "terminated": turn.terminated,
            "truncated": turn.truncated,
        })
        usage = {name: dict(u) for name, obj in (("doctor", doctor), ("patient", patient))
                 if isinstance(u := getattr(obj, "usage", None), Mapping)}
        if usage:
            record["usage"] = usage
    except Exception as err:  # noqa: BLE001 - recorded, never scored
        record.update({"status": "error", "score": None, "error": {
            "type": type(err).__name__, "message": str(err),
            "traceback": "".join(traceback.format_exception(type(err), err, err.__traceback__)[-3:]),
        }})
    total = time.perf_counter() - start
    if consultation is not None:
        record.update({
            **{k: consultation.totals()[k] for k in ("cost", "turnaround_hours", "exams", "tests", "doctor_turns",
                                                     "leaks_redacted")},
            "persona": consultation.persona.to_dict(),
            "differential": list(consultation.diagnosis.differential) if consultation.diagnosis else None,
            "transcript": consultation.grading_conversation(),
        })
    record.setdefault("error", None)
    record["timings"] = {"total": total, **timings, "env": max(0.0, total - sum(timings.values()))}
    record["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return record


# ---- results.jsonl -------------------------------------------------------------------------------

def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else str(value)


def _dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=_json_default)


def read_results(path: str | Path) -> tuple[list[dict[str, Any]], str | None]:
    """The records of a results file and a note if its last line was torn (and is ignored).

    A bad line anywhere but last is an error: only a crash mid-write tears the last line.
    """
    path = Path(path)
    if not path.exists():
        return [], None
    lines = path.read_bytes().split(b"\n")
    numbered = [(i, line) for i, line in enumerate(lines, 1) if line.strip()]
    records, torn = [], None
    for position, (lineno, line) in enumerate(numbered):
        try:
            record = json.loads(line.decode("utf-8"))
            if not isinstance(record, dict) or not isinstance(record.get("key"), str):
                raise ValueError("not an episode record (no 'key')")
        except (ValueError, UnicodeDecodeError) as err:
            if position == len(numbered) - 1:
                torn = (f"{path}: ignored a torn last line ({len(line)} bytes, line {lineno}), "
                        "left by an interrupted write; that episode runs again")
                break
            raise BenchError(f"{path}:{lineno}: not a valid episode record ({err}); only a torn last line is "
                             "tolerated. Fix or remove that line, then --resume") from None
        records.append(record)
    return records, torn


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class _Appender:
    """Appends one record per line to results.jsonl, shared safely by worker processes.

    ``write`` hands the whole line to the OS in one ``write`` on an ``O_APPEND`` descriptor,
    so it survives a crash or Ctrl-C of this process at once, and lines of several
    processes never interleave. Flushing to disk (``fsync``) is a group commit: at most one
    runs at a time, in a worker thread, covering every line written before it started, so
    a fast run does not pay one disk flush per episode and no episode waits for the disk.
    """

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.keys: set[str] = set()
        self._dirty = False
        self._syncer: asyncio.Future | None = None

    def write(self, record: Mapping[str, Any]) -> None:
        if record["key"] in self.keys:
            raise RuntimeError(f"internal error: episode {record['key']!r} written twice")
        self.keys.add(record["key"])
        data = memoryview((_dumps(record) + "\n").encode("utf-8"))
        while data:
            data = data[os.write(self.fd, data):]
        self._dirty = True
        if self._syncer is None or self._syncer.done():
            self._syncer = asyncio.ensure_future(self._sync_while_dirty())

    async def _sync_while_dirty(self) -> None:
        while self._dirty:
            self._dirty = False
            await asyncio.to_thread(self._fsync)

    def _fsync(self) -> None:
        try:
            os.fsync(self.fd)
        except (OSError, ValueError):  # closed by an interrupt meanwhile: the lines are already in the OS
            pass

    async def aclose(self) -> None:
        """Wait for the pending flush, flush the rest and close."""
        if self._syncer is not None:
            await self._syncer
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            self._fsync()
            os.close(self.fd)
            self.fd = -1


class _DirLock:
    """An advisory lock on the output directory for the whole run (released if the process dies)."""

    def __init__(self, out: Path) -> None:
        self.file = (out / LOCK_FILE).open("a")
        if fcntl is not None:
            try:
                fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.file.close()
                raise BenchError(f"another benchmark is writing to {out}; wait for it or choose another --out") from None

    def release(self) -> None:
        self.file.close()  # closing releases the lock


def _prepare_resume(out: Path, plan_keys: set[str], identity: dict[str, Any], resume: bool,
                    notes: list[str]) -> dict[str, dict[str, Any]]:
    """Check the directory and return the finished ("ok") episodes, by key; rewrites
    results.jsonl when a torn line or episodes to retry must leave it."""
    results = out / RESULTS_FILE
    if not results.exists() or results.stat().st_size == 0:
        return {}
    if not resume:
        n = sum(1 for line in results.read_bytes().split(b"\n") if line.strip())
        raise BenchError(f"{results} already holds {n} episode record(s); pass --resume (resume=True) to finish "
                         "that run, or choose another --out")
    config_path = out / CONFIG_FILE
    if config_path.exists():
        try:
            before = json.loads(config_path.read_text(encoding="utf-8")).get("identity", {})
        except ValueError:
            before = {}
        changed = [f"{k}: {before[k]!r} there, {identity[k]!r} now" for k in identity
                   if k in before and before[k] != identity[k]]
        if changed:
            raise BenchError(f"{out} holds results of a different setup ({'; '.join(changed)}); resume with the "
                             "same settings or choose another --out")
    records, torn = read_results(results)
    if torn:
        notes.append(torn)
    done: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.get("status") == "ok":
            done.setdefault(r["key"], r)
    keep: list[dict[str, Any]] = []
    retried: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in records:
        key = r["key"]
        if key in seen:
            continue  # a duplicate (never written by the harness): the first finished record wins
        if key in done:
            if r is done[key]:
                keep.append(r)
                seen.add(key)
        elif key in plan_keys:
            retried.append(r)  # failed before: it runs again
        else:
            keep.append(r)  # an episode of another plan: left alone
            seen.add(key)
    if retried:
        with (out / RETRIED_FILE).open("a", encoding="utf-8") as f:
            f.writelines(_dumps(r) + "\n" for r in retried)
        notes.append(f"retrying {len({r['key'] for r in retried})} episode(s) that failed before; their error "
                     f"records moved to {out / RETRIED_FILE}")
    if torn or len(keep) != len(records):
        _write_atomic(results, "".join(_dumps(r) + "\n" for r in keep))
    return done


# ---- playing episodes: in this process or in worker processes ------------------------------------

Finished = Callable[[str, str, "float | None"], None]  # (key, status, score) of each saved episode


async def _play(episodes: Sequence[Episode], run: _Run, results: Path, concurrency: int, finished: Finished,
                skip: Collection[str] = ()) -> None:
    """Play ``episodes``, at most ``concurrency`` at once, appending each record to ``results``
    as soon as it is finished (then calling ``finished``). Cancellation stops them all.

    ``concurrency`` slot tasks take the episodes in plan order (not a task per episode: a
    plan of 100 000 episodes costs no more memory than one of 100).
    """
    appender = _Appender(results)
    appender.keys.update(skip)
    pending = iter(episodes)

    async def slot() -> None:
        for episode in pending:  # shared: each episode goes to the first free slot
            record = await run_episode(episode, run)
            appender.write(record)  # no await between finishing and saving
            finished(record["key"], record["status"], record["score"])

    tasks = [asyncio.ensure_future(slot()) for _ in range(min(concurrency, len(episodes)))]
    try:
        with _fewer_collections():
            await asyncio.gather(*tasks)
        await appender.aclose()
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        appender.close()


@contextlib.contextmanager
def _fewer_collections(threshold: int = 20_000) -> Iterator[None]:
    """Run the cyclic garbage collector less often while episodes play, then restore it.

    Episodes in flight allocate many short-lived objects (messages, HTTP objects, records);
    with Python's default threshold (700 allocations) collections took about a quarter of
    the harness's CPU time at high concurrency. Reference counting still frees almost
    everything at once; only cycles wait a little longer.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _check_picklable(cfg: BenchConfig) -> None:
    for name in ("doctor", "patient", "grader", "cases"):
        try:
            pickle.dumps(getattr(cfg, name))
        except Exception as err:  # noqa: BLE001 - any pickling failure means the same advice
            raise BenchError(f"workers={cfg.workers} sends the {name} to other processes, but {getattr(cfg, name)!r:.80} "
                             f"cannot be pickled ({type(err).__name__}: {err}); pass a spec string or an object "
                             "of a class importable from a module, or use workers=1") from None


def _shares(episodes: Sequence[Episode], concurrency: int, workers: int) -> list[tuple[list[Episode], int]]:
    """Split the episodes and the concurrency over the workers: worker i gets
    ``concurrency // workers`` slots (the first ``concurrency % workers`` one more) and a
    share of the episodes proportional to its slots, interleaved in plan order."""
    workers = min(workers, concurrency, len(episodes))
    slots = [concurrency // workers + (i < concurrency % workers) for i in range(workers)]
    owners = [i for i, n in enumerate(slots) for _ in range(n)]
    parts: list[list[Episode]] = [[] for _ in range(workers)]
    for j, episode in enumerate(episodes):
        parts[owners[j % len(owners)]].append(episode)
    return list(zip(parts, slots))


def _play_job(cfg: BenchConfig, episodes: list[Episode], concurrency: int, results: str,
              send: Callable[[Any], None], report_every: float = 0.05) -> None:
    """A worker process's job: play its share, reporting saved episodes as ("done", [(key,
    status, score), ...]) at most every ``report_every`` seconds (one message per episode
    would cost the parent a wake-up each; the records themselves are on disk already)."""
    run = build_run(cfg)
    batch: list[tuple[str, str, float | None]] = []
    last = time.monotonic()

    def saved(key: str, status: str, score: float | None) -> None:
        nonlocal last
        batch.append((key, status, score))
        if time.monotonic() - last >= report_every:
            send(("done", batch[:]))
            batch.clear()
            last = time.monotonic()

    try:
        asyncio.run(_play(episodes, run, Path(results), concurrency, saved))
    finally:
        if batch:
            send(("done", batch))


async def _play_in_workers(episodes: Sequence[Episode], cfg: BenchConfig, results: Path,
                           finished: Finished) -> list[str]:
    """Play the episodes in ``cfg.workers`` processes of the session's worker pool, each
    appending to ``results`` itself. Returns notes on workers that died; a job that fails
    (not an episode: those are records) raises ``BenchError`` once the others are done."""
    shares = _shares(episodes, cfg.concurrency, cfg.workers)
    pool = shared_pool(len(shares))
    temporary = pool.busy  # another run of this session holds it
    if temporary:
        pool = WorkerPool(len(shares))
    failures: list[str] = []

    def on_message(message: Any) -> None:
        if message[0] == "done":
            for saved in message[1]:
                finished(*saved)
        else:  # ("error", text) from the pool
            failures.append(message[1])

    try:
        notes = await pool.run([(_play_job, (cfg, part, slots, str(results))) for part, slots in shares], on_message)
    finally:
        if temporary:
            pool.close()
    if failures:
        raise BenchError(f"a worker process failed: {failures[0]}")
    return [f"{note}; the episodes it had not finished are missing (--resume runs them)" for note in notes]


# ---- the run -------------------------------------------------------------------------------------

def _progress_enabled(option: bool | None) -> bool:
    if option is not None:
        return bool(option)
    return sys.stderr.isatty() or "ipykernel" in sys.modules


async def arun_benchmark(config: BenchConfig | None = None, **options: Any) -> BenchmarkResult:
    """Run (or resume) a benchmark; ``options`` are ``BenchConfig`` fields (overriding ``config``'s)."""
    cfg = dataclasses.replace(config, **options) if config is not None else BenchConfig(**options)
    _check_config(cfg)
    started = time.perf_counter()
    cases = resolve_cases(cfg.cases)
    plan = plan_episodes(cases, cfg.episodes_per_case, cfg.seed)
    run = build_run(cfg)
    labels = run.labels
    identity = {**labels, "max_turns": cfg.max_turns, "persona": cfg.persona}
    if cfg.workers > 1:
        _check_picklable(cfg)

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    lock = _DirLock(out)
    notes: list[str] = []
    try:
        plan_keys = {e.key for e in plan}
        done = _prepare_resume(out, plan_keys, identity, cfg.resume, notes)
        settings = {"cases": _cases_label(cfg.cases), "n_cases": len(cases), "episodes_per_case": cfg.episodes_per_case,
                    "concurrency": cfg.concurrency, "seed": cfg.seed}
        _write_atomic(out / CONFIG_FILE, json.dumps({"identity": identity, "last_run": settings}, indent=2))
        for note in notes:
            print(f"bench: {note}", file=sys.stderr)
        todo = [e for e in plan if e.key not in done]
        scores = [r["score"] for k, r in done.items() if k in plan_keys]
        n_errors = 0
        from tqdm.auto import tqdm

        bar = tqdm(total=len(plan), initial=len(plan) - len(todo), desc="bench", unit="episode",
                   disable=not _progress_enabled(cfg.progress), file=sys.stderr, dynamic_ncols=True)
        if scores:
            bar.set_postfix(mean=f"{sum(scores) / len(scores):.3f}", errors=0, refresh=False)
        def finished(key: str, status: str, score: float | None) -> None:
            nonlocal n_errors
            if status == "ok":
                scores.append(score)
            else:
                n_errors += 1
            bar.set_postfix(mean=f"{sum(scores) / len(scores):.3f}" if scores else "n/a", errors=n_errors,
                            refresh=False)
            bar.update(1)

        try:
            if cfg.workers > 1 and len(todo) > 1 and cfg.concurrency > 1:
                notes.extend(await _play_in_workers(todo, cfg, out / RESULTS_FILE, finished))
            else:
                await _play(todo, run, out / RESULTS_FILE, cfg.concurrency, finished, skip=set(done))
        finally:
            bar.close()

        records, torn = read_results(out / RESULTS_FILE)
        if torn:  # cannot happen after a clean run; kept loud if it does
            notes.append(torn)
        by_key = {r["key"]: r for r in records}
        plan_records = [by_key[e.key] for e in plan if e.key in by_key]
        summary = summarize(plan_records, n_planned=len(plan), seed=cfg.seed, n_resamples=cfg.n_bootstrap)
        wall = time.perf_counter() - started
        summary.update({
            "config": {**identity, **settings},
            "n_run": len(todo), "n_skipped": len(plan) - len(todo),
            "n_outside_plan": len(records) - len(plan_records),
            "timing": {"wall_seconds": wall,
                       "episodes_per_second": len(todo) / wall if wall > 0 else None,
                       "mean_episode_seconds": (sum(r["timings"]["total"] for r in plan_records) / len(plan_records)
                                                if plan_records else None)},
            "warnings": notes,
        })
        _write_atomic(out / SUMMARY_FILE, json.dumps(summary, indent=2, default=_json_default))
        write_reports(out, summary, plan_records, config=summary["config"])
        return BenchmarkResult(out, summary, plan_records, n_run=len(todo), n_skipped=len(plan) - len(todo),
                               warnings=notes)
    finally:
        lock.release()


def run_benchmark(config: BenchConfig | None = None, **options: Any) -> BenchmarkResult:
    """``arun_benchmark`` from synchronous code. Inside a running event loop (a Jupyter
    notebook) it refuses: use ``await arun_benchmark(...)`` there."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(arun_benchmark(config, **options))
    raise RuntimeError("run_benchmark() cannot run inside a running event loop (a Jupyter notebook has one); "
                       "use `result = await arun_benchmark(...)` there instead")
