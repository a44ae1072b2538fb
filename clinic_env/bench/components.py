"""The parts of a run: doctor and patient factories, the grader and its reward, built from specs.

A spec string resolves through ``clinic_env.registry``; an object is deep-copied per
episode. The grader is built once and shared by every episode (graders are stateless).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clinic_env.bench.config import BenchConfig, BenchError
from clinic_env.case_rubric import case_rubric
from clinic_env.persona import Persona
from clinic_env.registry import resolve
from clinic_env.rewards import RubricReward
from clinic_rubrics.grading import Grader


@dataclass
class Run:
    """What every episode of a run shares."""

    make_doctor: Callable[[], Any]
    make_patient: Callable[[], Any]
    make_reward: Callable[[], RubricReward]
    labels: dict[str, Any]
    max_turns: int
    persona: Persona | None
    run_seed: int


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

    client = LLMClient(model, base_url=base_url)
    return LLMJudge(client, name=f"llm:{model}", mode=mode, max_concurrency=max_concurrency or client.max_concurrency,
                    retry_client_errors=False)


def make_grader(spec: Any) -> tuple[Any, str]:
    """The grader object a spec names (built once per run) and its label."""
    grader = resolve("grader", spec)() if isinstance(spec, str) else spec
    if isinstance(grader, type):
        grader = grader()
    if not isinstance(grader, Grader):
        raise BenchError(f"grader {spec!r:.80} is not a clinic_rubrics.grading.Grader: subclass Grader "
                         "(implement session(rubric)) or WholeConversationGrader")
    return grader, spec if isinstance(spec, str) else _label(grader)


def reward_factory(grader: Any) -> Callable[[], RubricReward]:
    """A fresh rubric reward per episode around the shared grader."""
    return lambda: RubricReward(grader=grader, builder=case_rubric)


def build_run(cfg: BenchConfig) -> Run:
    """What every episode of a run shares: component factories, labels and settings."""
    make_doctor, doctor_label = component_factory("doctor", cfg.doctor, ("act", "aact"))
    make_patient, patient_label = component_factory("patient", cfg.patient, ("reply", "areply"))
    grader, grader_label = make_grader(cfg.grader)
    try:
        persona = Persona.from_spec(cfg.persona) if cfg.persona else None
    except ValueError as err:
        raise BenchError(f"persona {cfg.persona!r}: {err}") from None
    labels = {"doctor": doctor_label, "patient": patient_label, "grader": grader_label}
    return Run(make_doctor, make_patient, reward_factory(grader), labels, cfg.max_turns, persona, cfg.seed)
