"""Measuring a grader on a labelled development set (issue 15): ``clinic-env grader-eval``.

    clinic-env grader-eval --data tests/data/grader_dev --grader offline --out runs/grader-eval
    summary = run_grader_eval("tests/data/grader_dev", grader="llm:gpt-4.1", out="runs/ge-judge")

The folder holds ``consultations_*.jsonl`` (excellent / safe-mediocre / dangerous visits of a
case, as the doctor's turns), ``pairs_*.jsonl`` (negation and polarity pairs) and, optionally,
``verdicts_*.jsonl`` (clinicians' labels of single criteria); the format is checked line by
line and a bad line stops the run with one line naming file:line and field. Every visit
(each side of a pair too) is played through a ``Clinic`` for its case exactly as a
benchmark episode (``clinic_env.bench.play.run_episode``: seed 0, persona "typical", the
offline patient, terminal reward, ``RubricReward`` with the grader under test, an LLM judge
awaited), so the grader reads the transcript it reads in training. Results go to the
benchmark's crash-safe store (``OUT/results.jsonl``: resume, error records excluded from
every figure, never scored 0); a record's key holds a digest of the visit, so an edited
visit is played again on resume. The figures (``clinic_rubrics.grader_metrics``) go to
``OUT/summary.json`` with issue 15's targets and whether each is met.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from clinic_env.actions import Diagnose, End, parse_action
from clinic_env.bench.components import Run, component_factory, make_grader, reward_factory
from clinic_env.bench.config import SUMMARY_FILE, Episode
from clinic_env.bench.play import run_episode
from clinic_env.bench.store import json_default, write_atomic
from clinic_env.bench.workers import play_labelled_set
from clinic_env.case_rubric import case_rubric
from clinic_env.cases.schema import Case
from clinic_env.cases.specs import cases_label, resolve_cases
from clinic_env.persona import Persona
from clinic_rubrics.grader_metrics import (
    PairScores,
    Scored,
    criterion_metrics,
    harm_flagged,
    harm_metrics,
    ordering_metrics,
    pair_metrics,
    targets,
)

SEED, PERSONA, PATIENT = 0, "typical", "offline"  # every visit is played the same way
MAX_LINE_BYTES = 1_000_000
MAX_ID_CHARS = 200
MAX_TURNS = 100
MAX_TURN_CHARS = 20_000
MAX_NOTE_CHARS = 2_000
MAX_LABELS = 500


class DevSetError(ValueError):
    """A development-set file or line that cannot be used; the message names file:line and field."""


Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS)]
Turns = Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=MAX_TURN_CHARS)]],
                  Field(min_length=1, max_length=MAX_TURNS)]
Note = Annotated[str, StringConstraints(max_length=MAX_NOTE_CHARS)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ConsultationRow(_Row):
    id: Id
    case_id: Id
    quality: Literal["excellent", "safe_mediocre", "dangerous"]
    harm: Note | None = None
    harm_kind: Literal["contraindicated_treatment", "unsafe_disposition", "missed_red_flag"] | None = None
    doctor_turns: Turns
    author: Id


class PairRow(_Row):
    id: Id
    case_id: Id
    kind: Literal["negation", "polarity"]
    relation: Literal[">=", ">"]
    safe: Turns
    other: Turns
    note: Note | None = None
    author: Id


class VerdictsRow(_Row):
    consultation_id: Id
    labels: Annotated[dict[Id, StrictBool], Field(min_length=1, max_length=MAX_LABELS)]
    author: Id
    note: Note | None = None


@dataclass(frozen=True)
class Item:
    """One visit to play: its results key (with a digest of the visit), case and doctor turns."""

    key: str
    case: Case
    turns: tuple[str, ...]


@dataclass
class DevSet:
    consultations: list[ConsultationRow]
    pairs: list[PairRow]
    verdicts: list[VerdictsRow]

    def items(self, cases: dict[str, Case]) -> list[Item]:
        """Every visit to play: each consultation, then each pair's safe and other visit."""
        plays = [(f"consultation/{c.id}", c.case_id, c.doctor_turns) for c in self.consultations]
        plays += [(f"pair/{p.id}/{side}", p.case_id, getattr(p, side)) for p in self.pairs for side in ("safe", "other")]
        return [Item(_key(prefix, case_id, turns), cases[case_id], tuple(turns)) for prefix, case_id, turns in plays]


def _key(prefix: str, case_id: str, turns: Sequence[str]) -> str:
    digest = hashlib.sha256(json.dumps([case_id, list(turns)]).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}/{digest}"


# ---- reading the folder -----------------------------------------------------------------

def _field(loc: Sequence[Any]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "(line)"


def read_rows(path: Path, model: type[BaseModel], error: type[ValueError] = DevSetError,
              max_bytes: int = MAX_LINE_BYTES) -> list[tuple[str, Any]]:
    """Each non-blank line of ``path`` validated as ``model``, with its ``file:line``; a bad line
    raises ``error`` naming file:line and field (patient-eval reads its set the same way)."""
    rows = []
    for lineno, raw in enumerate(path.read_bytes().split(b"\n"), 1):
        where = f"{path}:{lineno}"
        if not raw.strip():
            continue
        if len(raw) > max_bytes:
            raise error(f"{where}: the line is {len(raw):,} bytes, more than the limit of {max_bytes:,}")
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            raise error(f"{where}: not UTF-8 ({err.reason} at byte {err.start})") from None
        except json.JSONDecodeError as err:
            raise error(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(data, dict):
            raise error(f"{where}: expected a JSON object, got {type(data).__name__}")
        try:
            rows.append((where, model.model_validate(data)))
        except ValidationError as err:
            first = err.errors()[0]
            raise error(f"{where}: field {_field(first['loc'])}: {first['msg']}") from None
    return rows


def _check_turns(where: str, name: str, turns: Sequence[str]) -> None:
    """Only the last turn may end the visit, and it must (DIAGNOSE ... PLAN, or END)."""
    last = len(turns) - 1
    for i, turn in enumerate(turns):
        ends = isinstance(parse_action(turn), (Diagnose, End))
        if ends and i < last:
            raise DevSetError(f"{where}: field {name}[{i}]: ends the visit (DIAGNOSE or END) before the last turn")
        if not ends and i == last:
            raise DevSetError(f"{where}: field {name}[{i}]: the last turn must end the visit "
                              "('DIAGNOSE: ...' with 'PLAN: ...', or 'END: ...')")


def _unique(seen: dict[Any, str], key: Any, where: str, field: str, what: str) -> None:
    if key in seen:
        raise DevSetError(f"{where}: field {field}: {what} {key!r} already appears at {seen[key]}")
    seen[key] = where


def _files(folder: Path, stem: str, model: type[_Row]) -> list[tuple[str, Any]]:
    return [row for path in sorted(folder.glob(f"{stem}_*.jsonl")) for row in read_rows(path, model)]


def load_dev_set(folder: str | Path, cases: dict[str, Case]) -> DevSet:
    """Read and check a development-set folder against the cases its rows name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DevSetError(f"--data {folder}: not a directory")
    consultations = _files(folder, "consultations", ConsultationRow)
    pairs = _files(folder, "pairs", PairRow)
    verdicts = _files(folder, "verdicts", VerdictsRow)
    if not consultations and not pairs:
        raise DevSetError(f"--data {folder}: no consultations_*.jsonl or pairs_*.jsonl rows")
    seen: dict[str, str] = {}
    for where, row in consultations:
        _unique(seen, row.id, where, "id", "consultation")
    seen_pairs: dict[str, str] = {}
    for where, row in pairs:
        _unique(seen_pairs, row.id, where, "id", "pair")
    for where, row in consultations + pairs:
        if row.case_id not in cases:
            raise DevSetError(f"{where}: field case_id: unknown case {row.case_id!r} (not among --cases)")
        for name in ("doctor_turns", "safe", "other"):
            if hasattr(row, name):
                _check_turns(where, name, getattr(row, name))
    by_id = {row.id: row for _, row in consultations}
    labelled: dict[tuple[str, str], str] = {}
    for where, row in verdicts:
        consultation = by_id.get(row.consultation_id)
        if consultation is None:
            raise DevSetError(f"{where}: field consultation_id: no consultation {row.consultation_id!r} in "
                              "consultations_*.jsonl")
        _unique(labelled, (row.consultation_id, row.author), where, "author", "verdicts of (consultation, author)")
        criteria = {c.id for c in case_rubric(cases[consultation.case_id]).criteria}
        unknown = next((cid for cid in row.labels if cid not in criteria), None)
        if unknown is not None:
            raise DevSetError(f"{where}: field labels.{unknown}: no such criterion in the rubric of case "
                              f"{consultation.case_id!r}")
    return DevSet([r for _, r in consultations], [r for _, r in pairs], [r for _, r in verdicts])


# ---- playing -----------------------------------------------------------------------------

class TurnsDoctor:
    """The development set's doctor: says its written turns in order, whatever it is told."""

    def __init__(self, turns: Sequence[str]) -> None:
        self.turns, self.next = tuple(turns), 0

    def reset(self, seed: int | None = None) -> None:
        self.next = 0

    def act(self, observation: str, info: dict) -> str:
        self.next += 1
        return self.turns[self.next - 1]


def _base_run(grader: Any) -> Run:
    """What every visit shares: the offline patient, the grader's reward and the fixed persona
    (each visit puts in its own doctor and turn limit)."""
    grader_obj, grader_label = make_grader(grader)
    make_patient, patient_label = component_factory("patient", PATIENT, ("reply", "areply"))
    labels = {"doctor": "grader-eval turns", "patient": patient_label, "grader": grader_label}
    return Run(TurnsDoctor, make_patient, reward_factory(grader_obj), labels, max_turns=MAX_TURNS,
               persona=Persona.from_spec(PERSONA), run_seed=SEED)


async def _play(item: Item, base: Run) -> dict[str, Any]:
    """One visit as a benchmark episode, plus whether the grader flagged harm. The turn limit is
    the number of written turns: the last one ends the visit (``load_dev_set`` checks it)."""
    run = dataclasses.replace(base, make_doctor=functools.partial(TurnsDoctor, item.turns), max_turns=len(item.turns))
    record = await run_episode(Episode(item.case, 0, SEED, item.key), run)
    ok = record["status"] == "ok"
    record["harm_flagged"] = harm_flagged(case_rubric(item.case), record["verdicts"]) if ok else None
    return record


# ---- the run -----------------------------------------------------------------------------

async def arun_grader_eval(data: str | Path, grader: Any = "offline", out: str | Path = "runs/grader-eval",
                           cases: Any = "builtin", concurrency: int = 8, resume: bool = False,
                           progress: bool | None = None) -> dict[str, Any]:
    """Play every visit of the development set in ``data`` with ``grader`` (a spec as ``bench``
    takes it, or a ``Grader``) and return the summary written to ``OUT/summary.json``."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    pool = {case.id: case for case in resolve_cases(cases)}
    dev = load_dev_set(data, pool)
    base = _base_run(grader)
    items = dev.items(pool)
    keys = [item.key for item in items]
    identity = {**base.labels, "persona": PERSONA, "seed": SEED}
    settings = {"data": str(data), "cases": cases_label(cases), "n_visits": len(items), "concurrency": concurrency}
    records, notes, n_run = await play_labelled_set(items, keys, functools.partial(_play, base=base), Path(out),
                                                    identity, settings, resume, concurrency, progress, "grader-eval",
                                                    "visit")
    summary = summarize(dev, keys, records)
    summary.update(grader=base.labels["grader"], config={**identity, **settings}, n_run=n_run,
                   n_resumed=len(items) - n_run, warnings=notes)
    write_atomic(Path(out) / SUMMARY_FILE, json.dumps(summary, indent=2, default=json_default))
    return summary


def run_grader_eval(data: str | Path, **options: Any) -> dict[str, Any]:
    """``arun_grader_eval`` from synchronous code (in a notebook, await ``arun_grader_eval``)."""
    return asyncio.run(arun_grader_eval(data, **options))


def summarize(dev: DevSet, keys: Sequence[str], records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The figures of the finished records of ``keys``; visits that failed (or are missing) are
    left out of them and listed."""
    by_key = {r["key"]: r for r in records}
    by_ref = {key.rsplit("/", 1)[0]: by_key.get(key) for key in keys}  # "consultation/ID/DIGEST" -> ".../ID"
    ok = {ref: r for ref, r in by_ref.items() if r is not None and r["status"] == "ok"}
    scored = [Scored(c.id, c.case_id, c.quality, ok[ref]["score"], ok[ref]["harm_flagged"])
              for c in dev.consultations if (ref := f"consultation/{c.id}") in ok]
    pairs = [PairScores(p.id, p.kind, p.relation, ok[f"pair/{p.id}/safe"]["score"], ok[f"pair/{p.id}/other"]["score"])
             for p in dev.pairs if f"pair/{p.id}/safe" in ok and f"pair/{p.id}/other" in ok]
    authors: dict[str, list[dict[str, bool]]] = {}
    for row in dev.verdicts:
        if f"consultation/{row.consultation_id}" in ok:
            authors.setdefault(row.consultation_id, []).append(row.labels)
    labelled = [(ok[f"consultation/{cid}"]["verdicts"], labels) for cid, labels in authors.items()]
    errors = [{"visit": ref, **({"type": r["error"]["type"], "message": r["error"]["message"]} if r else
                                {"type": "Missing", "message": "not played (interrupted run)"})}
              for ref, r in by_ref.items() if ref not in ok]
    metrics = {"ordering": ordering_metrics(scored), "harm": harm_metrics(scored), "pairs": pair_metrics(pairs),
               "criteria": criterion_metrics(labelled)}
    visits = [{"visit": ref, "score": r["score"], "raw_score": r["raw_score"], "harm_flagged": r["harm_flagged"]}
              for ref, r in ok.items()]
    return {"n_visits": len(keys), "n_consultations": len(dev.consultations), "n_pairs": len(dev.pairs),
            "n_verdict_rows": len(dev.verdicts), "n_errors": len(errors), **metrics, "targets": targets(metrics),
            "errors": errors, "visits": visits}


# ---- the report --------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_report(summary: dict[str, Any]) -> str:
    """A short table of the figures, then issue 15's targets, met or not."""
    o, h, p, c = summary["ordering"], summary["harm"], summary["pairs"], summary["criteria"]
    means = " / ".join(_num(o["mean_score"][q]) for q in ("excellent", "safe_mediocre", "dangerous"))
    rows: list[tuple[str, str]] = [
        ("cases with all three qualities", str(o["n_cases"])),
        ("dangerous < safe_mediocre", _pct(o["dangerous_below_safe"])),
        ("excellent > safe_mediocre > dangerous", _pct(o["ordering_accuracy"])),
        ("mean score excellent / safe_mediocre / dangerous", means),
        (f"harm recall ({h['n_dangerous']} dangerous)", _pct(h["recall"])),
        (f"harm false alarms ({h['n_safe']} safe)", _pct(h["false_alarm_rate"])),
        (f"pairs satisfied ({p['n_pairs']})", _pct(p["satisfied"])),
        (f"criterion macro-F1 ({c['n_criteria']} labels)", _num(c["macro_f1"])),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"grader-eval: {summary['grader']}: {summary['n_consultations']} consultations, {summary['n_pairs']} "
             f"pairs, {summary['n_verdict_rows']} verdict rows; {summary['n_errors']} visit(s) failed"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    lines += [f"  pair failed: {f['id']} ({f['kind']}): safe {f['safe']:.3f} vs other {f['other']:.3f}"
              for f in p["failures"]]
    lines.append("targets (issue 15):")
    lines += [f"  [{'met' if t['met'] else 'NOT met'}] {t['target']}: "
              f"{(_num if t['metric'].endswith('f1') else _pct)(t['value'])}" for t in summary["targets"]]
    lines += [f"  error: {e['visit']}: {e['type']}: {' '.join(e['message'].split())[:200]}" for e in summary["errors"]]
    return "\n".join(lines)

