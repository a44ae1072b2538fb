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

from collections.abc import Iterable
from typing import Any

from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

from clinic_env.actions import Action
from clinic_env.cases.schema import Case
from clinic_env.clinic import Clinic
from clinic_env.consultation import Consultation, RewardMode
from clinic_env.patient import PatientPolicy
from clinic_env.persona import Persona
from clinic_env.render import RENDER_MODES, check_render_mode, render
from clinic_env.rewards import Reward
from clinic_env.spaces import fit_to_space, text_space

DOCTOR, PATIENT = "doctor", "patient"


def env(**kwargs: Any) -> AECEnv:
    """The AEC env with PettingZoo's order-enforcing wrapper (reset before step, etc.)."""
    return wrappers.OrderEnforcingWrapper(raw_env(**kwargs))


class raw_env(AECEnv):
    """A consultation between a doctor agent and a patient agent (spaces, rewards, episode
    end and info keys as documented on ``clinic_env.gym_env.ConsultationEnv``).

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

    metadata = {"name": "consultation_v0", "render_modes": list(RENDER_MODES), "is_parallelizable": False}

    def __init__(
        self,
        cases: str | Case | Iterable[Case] | None = None,
        split: str | None = None,
        specialty: str | None = None,
        persona: str | dict | Persona | None = None,
        patient: PatientPolicy | None = None,
        reward: str | Reward = "rubric",
        reward_mode: RewardMode = "dense",
        max_turns: int = 30,
        unlisted_tests: str = "normal",
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        check_render_mode(render_mode)
        self.clinic = Clinic(cases, split, specialty, persona, patient, reward, reward_mode, max_turns, unlisted_tests)
        self.render_mode = render_mode
        self.possible_agents = [DOCTOR, PATIENT]
        self._observation_spaces = {a: spaces.Dict({"message": text_space()}) for a in self.possible_agents}
        self._action_spaces = {a: text_space() for a in self.possible_agents}
        self.consultation: Consultation | None = None
        self._np_random, self._np_random_seed = seeding.np_random()

    @property
    def patient(self) -> PatientPolicy:
        """The patient policy that opens each visit (and answers, when a driver lets it)."""
        return self.clinic.patient

    def observation_space(self, agent: str) -> spaces.Space:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._action_spaces[agent]

    # ---- episode ------------------------------------------------------------------

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        self.consultation = self.clinic.open(self._np_random, options)
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self._last_message = {DOCTOR: self.consultation.turns[-1].text, PATIENT: ""}
        self.agent_selection = DOCTOR
        self._update_infos(None)

    def observe(self, agent: str) -> dict[str, str]:
        return {"message": fit_to_space(self._last_message[agent])}

    def step(self, action: str | Action | None) -> None:
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

    def _doctor_step(self, action: str | Action) -> Action:
        turn = self.consultation.doctor_turn(action)
        final = turn.terminated or turn.truncated
        if final:
            flags = self.terminations if turn.terminated else self.truncations
            for a in self.agents:
                flags[a] = True
        if turn.awaits_patient:
            self._last_message[PATIENT] = self.consultation.question
        elif turn.observation:
            self._last_message[DOCTOR] = turn.observation
        self.rewards[DOCTOR] = turn.reward
        self.agent_selection = PATIENT if (turn.awaits_patient or final) else DOCTOR
        return turn.action

    def _update_infos(self, action: Action | None) -> None:
        c = self.consultation
        self.infos = {a: {} for a in self.agents}
        if DOCTOR in self.infos:
            self.infos[DOCTOR] = c.doctor_info(action)
        if PATIENT in self.infos:
            self.infos[PATIENT] = c.patient_info()

    def render(self) -> str | None:
        return render(self.consultation, self.render_mode)

    def close(self) -> None:
        self.consultation = None
