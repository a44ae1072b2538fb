"""The consultation as a PettingZoo AEC environment: agents ``doctor`` and ``patient``, turn-based.

    from clinic_env import consultation_v0
    env = consultation_v0.env(split="test")
    env.reset(seed=0)
    for agent in env.agent_iter():
        observation, reward, termination, truncation, info = env.last()
        action = None if termination or truncation else policy[agent](observation["message"], info["messages"])
        env.step(action)

The patient's opening statement is the doctor's first observation. Doctor actions are
text in the protocol of ``clinic_env.actions`` (or typed actions). An ASK passes the
turn to the patient; an EXAMINE or ORDER is answered by the examiner and the doctor
moves again; DIAGNOSE or END terminates both agents; ``max_turns`` doctor actions
truncate. Observations are ``{"message": str}`` (a ``Dict`` of ``Text``; PettingZoo's
api_test rejects a bare ``Text``). Each agent's ``info["messages"]`` is its own chat
view of the visit, system prompt included; the patient's never holds the diagnosis.
Nothing a doctor is shown names the case (ids often name the diagnosis): evaluation code
finds it at ``env.unwrapped.consultation.case``.

``env.unwrapped.patient`` is the patient policy that wrote the opening statement
(the offline patient by default): call ``.reply(message, messages)`` to let it answer.
"""

from __future__ import annotations

import copy
import warnings
from functools import lru_cache
from typing import Any, Iterable, Literal

from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

from clinic_env.actions import Action, Ask
from clinic_env.cases.library import load_cases
from clinic_env.cases.schema import Case
from clinic_env.consultation import Consultation
from clinic_env.examiner import Examiner, check_unlisted_tests
from clinic_env.patient import OfflinePatient, PatientPolicy
from clinic_env.persona import Persona
from clinic_env.render import render_ansi, render_html
from clinic_env.rewards import Reward, make_reward

DOCTOR, PATIENT = "doctor", "patient"
MAX_MESSAGE_CHARS = 8192
# Printable characters of the Basic Multilingual Plane plus newline and tab: enough for
# clinical text ("38.5°C", "μL", "≥") in any common script, small enough to sample from.
CHARSET = "".join(chr(i) for i in range(0x10000) if chr(i).isprintable()) + "\n\t"
_CHARSET_SET = frozenset(CHARSET)


@lru_cache(maxsize=8)
def _text_prototype(max_length: int) -> spaces.Text:
    return spaces.Text(max_length=max_length, min_length=0, charset=CHARSET)


def text_space(max_length: int = MAX_MESSAGE_CHARS) -> spaces.Text:
    """The space of one message: up to ``max_length`` characters of ``CHARSET``.

    Building a ``Text`` over 55k characters takes ~60 ms, so each env gets a shallow copy
    of one prototype (the character tables are read-only) with its own random generator.
    """
    space = copy.copy(_text_prototype(max_length))
    space._np_random = None  # a fresh, unseeded generator, as a new Space would have
    return space


def fit_to_space(text: str, max_length: int = MAX_MESSAGE_CHARS) -> str:
    """The observation form of a message: cut to ``max_length``, odd characters as U+FFFD."""
    text = text[:max_length]
    if text.replace("\n", "").replace("\t", "").isprintable() and (not text or max(text) <= "\uffff"):
        return text
    return "".join(c if c in _CHARSET_SET else "\ufffd" for c in text)


def resolve_cases(
    cases: "str | Case | Iterable[Case] | None", split: str | None, specialty: str | None
) -> list[Case]:
    """The case pool: "builtin" (default), one case id, a case, or a list of cases / ids."""
    if cases is None or cases == "builtin":
        return load_cases(split=split, specialty=specialty)
    if isinstance(cases, str):
        return load_cases(ids=[cases], split=split, specialty=specialty)
    if isinstance(cases, Case):
        return [cases]
    items = list(cases)
    ids = [c for c in items if isinstance(c, str)]
    objects = [c for c in items if isinstance(c, Case)]
    if len(ids) + len(objects) != len(items):
        raise TypeError("cases must be 'builtin', case ids or Case objects")
    pool = objects + (load_cases(ids=ids) if ids else [])
    return load_cases(split=split, specialty=specialty, source=pool)


def _generator(cases: Any, split: str | None, specialty: str | None) -> Any:
    """The case generator when ``cases`` asks for generated cases, else None."""
    from clinic_env.cases.generator import CaseGenerator

    if isinstance(cases, CaseGenerator):
        generator = cases
    elif isinstance(cases, str) and cases == "generated":
        generator = CaseGenerator(specialty=specialty)
    else:
        return None
    if split not in (None, "train"):
        raise ValueError(f"generated cases are training cases; split={split!r} selects none")
    return generator


def env(**kwargs: Any) -> AECEnv:
    """The AEC env with PettingZoo's order-enforcing wrapper (reset before step, etc.)."""
    return wrappers.OrderEnforcingWrapper(raw_env(**kwargs))


class raw_env(AECEnv):
    """A consultation between a doctor agent and a patient agent.

    Args:
        cases: "builtin", a case id, a Case, or a list of cases or ids; reset draws one
            at random (seeded) unless ``options={"case_id": ...}`` names it. "generated"
            (or a ``CaseGenerator``) makes a new case at every reset from the episode's
            seed, with its own persona: endless training episodes.
        split, specialty: filter the pool (with "generated": the conditions by specialty).
        persona: a persona spec (see ``Persona.from_spec``); None samples one per episode from the seed.
        patient: the policy that opens the visit and that ``env.unwrapped.patient`` exposes.
        reward: a reward name or object following ``clinic_env.rewards.Reward``.
        reward_mode: "dense" (score change per doctor step) or "terminal" (final score once).
        max_turns: doctor actions before truncation.
        unlisted_tests: "normal" or "not_available" for tests the case does not list.
    """

    metadata = {"name": "consultation_v0", "render_modes": ["ansi", "html", "human"], "is_parallelizable": False}

    def __init__(
        self,
        cases: "str | Case | Iterable[Case] | None" = None,
        split: str | None = None,
        specialty: str | None = None,
        persona: "str | dict | Persona | None" = None,
        patient: PatientPolicy | None = None,
        reward: "str | Reward" = "rubric",
        reward_mode: Literal["dense", "terminal"] = "dense",
        max_turns: int = 30,
        unlisted_tests: Literal["normal", "not_available"] = "normal",
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        if reward_mode not in ("dense", "terminal"):
            raise ValueError(f"reward_mode must be 'dense' or 'terminal', got {reward_mode!r}")
        if not isinstance(max_turns, int) or max_turns < 1:
            raise ValueError(f"max_turns must be a positive integer, got {max_turns!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        check_unlisted_tests(unlisted_tests)
        self.generator = _generator(cases, split, specialty)
        self.cases = [] if self.generator is not None else resolve_cases(cases, split, specialty)
        self.persona_spec = None if persona is None else Persona.from_spec(persona)
        self.patient: PatientPolicy = patient if patient is not None else OfflinePatient()
        self.reward_fn = make_reward(reward)
        self.reward_mode = reward_mode
        self.max_turns = max_turns
        self.unlisted_tests = unlisted_tests
        self.render_mode = render_mode
        self.possible_agents = [DOCTOR, PATIENT]
        self._observation_spaces = {a: spaces.Dict({"message": text_space()}) for a in self.possible_agents}
        self._action_spaces = {a: text_space() for a in self.possible_agents}
        self.consultation: Consultation | None = None
        self._np_random, self._np_random_seed = seeding.np_random()

    def observation_space(self, agent: str) -> spaces.Space:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._action_spaces[agent]

    # ---- episode ------------------------------------------------------------------

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        options = options or {}
        case, persona = self._pick_case(options.get("case_id"))
        if "persona" in options:
            persona = Persona.from_spec(options["persona"])
        elif self.persona_spec is not None:
            persona = self.persona_spec
        if persona is None:
            persona = Persona.sample(int(self._np_random.integers(2**31)))
        patient_seed = int(self._np_random.integers(2**31))
        self.consultation = Consultation(case, persona, Examiner(case, self.unlisted_tests))
        self._persona_dict = persona.to_dict()
        self.reward_fn.reset(case)
        self._score = 0.0
        self._breakdown: dict[str, Any] = {}
        opening_line = self.patient.reset(case.patient_view(), persona, patient_seed,
                                          forbidden_names=case.diagnosis_names)
        opening = self.consultation.add_patient(opening_line)
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self._last_message = {DOCTOR: opening, PATIENT: ""}
        self.agent_selection = DOCTOR
        self._update_infos(None)

    def _pick_case(self, case_id: str | None) -> tuple[Case, Persona | None]:
        """The episode's case, and the persona that comes with a generated one."""
        if self.generator is not None:
            if case_id is not None:
                raise KeyError(f"case_id {case_id!r}: this env generates its cases; pick one by the reset seed")
            generated = self.generator.generate(int(self._np_random.integers(2**31)))
            return generated.case, generated.persona
        if case_id is not None:
            for case in self.cases:
                if case.id == case_id:
                    return case, None
            raise KeyError(f"case_id {case_id!r} is not in this env's pool of {len(self.cases)} cases")
        return self.cases[int(self._np_random.integers(len(self.cases)))], None

    def observe(self, agent: str) -> dict[str, str]:
        return {"message": fit_to_space(self._last_message[agent])}

    def step(self, action: "str | Action | None") -> None:
        if self.consultation is None:
            raise RuntimeError("step() called before reset()")
        if not self.agents:
            raise RuntimeError("step() called after the consultation ended; call reset() to start a new one")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if action is None:
            raise ValueError(f"action None is only valid for a finished agent; {agent!r} is still active")
        self._cumulative_rewards[agent] = 0.0
        self._clear_rewards()
        doctor_action = self._doctor_step(action) if agent == DOCTOR else self._patient_step(action)
        self._accumulate_rewards()
        self._update_infos(doctor_action)
        if self.render_mode == "human":
            self.render()

    def _patient_step(self, action: str) -> None:
        self._last_message[DOCTOR] = self.consultation.add_patient(action)
        self.agent_selection = DOCTOR

    def _doctor_step(self, action: "str | Action") -> Action:
        consultation = self.consultation
        doctor_action, report = consultation.add_doctor(action)
        done = consultation.ended
        truncated = not done and consultation.doctor_turns >= self.max_turns
        if done or truncated:
            flags = self.terminations if done else self.truncations
            for a in self.agents:
                flags[a] = True
        if done or truncated:
            self._last_message[DOCTOR] = "[The consultation has ended.]" if done else "[Turn limit reached: the consultation has ended.]"
        elif report is not None:
            self._last_message[DOCTOR] = report
        elif isinstance(doctor_action, Ask):
            self._last_message[PATIENT] = doctor_action.text
        self.rewards[DOCTOR] = self._reward(final=done or truncated)
        self.agent_selection = PATIENT if (isinstance(doctor_action, Ask) or done or truncated) else DOCTOR
        return doctor_action

    def _reward(self, final: bool) -> float:
        """Dense: change in score since the last doctor step. Terminal: the score, once, at the end."""
        if self.reward_mode == "terminal" and not final:
            return 0.0
        result = self.reward_fn.score(self.consultation)
        self._breakdown = result.breakdown
        previous, self._score = self._score, float(result.value)
        return self._score - previous if self.reward_mode == "dense" else self._score

    def _update_infos(self, action: Action | None) -> None:
        c = self.consultation
        self.infos = {a: {} for a in self.agents}
        if DOCTOR in self.infos:
            self.infos[DOCTOR] = {
                "messages": list(c.doctor_messages),
                "turn": c.doctor_turns,
                "action": None if action is None else type(action).__name__,
                "score": self._score,
                "reward_breakdown": dict(self._breakdown),
                **c.totals(),
            }
        if PATIENT in self.infos:
            self.infos[PATIENT] = {"messages": list(c.patient_messages), "persona": self._persona_dict}

    # ---- rendering ------------------------------------------------------------------

    def render(self) -> str | None:
        if self.render_mode is None:
            warnings.warn("render() called with render_mode=None; pass render_mode='ansi', 'html' or 'human'")
            return None
        if self.consultation is None:
            return None
        if self.render_mode == "html":
            return render_html(self.consultation, self._score)
        text = render_ansi(self.consultation, self._score)
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        self.consultation = None
