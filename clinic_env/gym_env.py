"""The consultation as a single-agent Gymnasium env: the doctor acts, a patient policy answers.

    import gymnasium as gym
    import clinic_env  # registers the env
    env = gym.make("clinic_env/Consultation-v0", split="test")
    observation, info = env.reset(seed=0)
    observation, reward, terminated, truncated, info = env.step("ASK: When did the pain start?")

It is the AEC env of ``consultation_v0`` with the patient's turns taken by
``patient`` (the offline patient unless given), so both envs behave identically.
Observation and action are strings; ``info["messages"]`` is the doctor's chat view.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from clinic_env.actions import Action
from clinic_env.consultation_v0 import DOCTOR, PATIENT, raw_env, text_space
from clinic_env.patient import PatientPolicy


class ConsultationEnv(gym.Env[str, str]):
    """Doctor-only consultation. Keyword arguments are those of ``consultation_v0.raw_env``."""

    metadata = {"render_modes": ["ansi", "html", "human"], "render_fps": 1}

    def __init__(self, patient: PatientPolicy | None = None, render_mode: str | None = None, **kwargs: Any) -> None:
        self.aec = raw_env(patient=patient, render_mode=render_mode, **kwargs)
        self.render_mode = render_mode
        self.observation_space = text_space()
        self.action_space = text_space()
        self._done = True

    @property
    def patient(self) -> PatientPolicy:
        return self.aec.patient

    @property
    def consultation(self):
        """The visit in progress (transcript, orders, totals), for inspection."""
        return self.aec.consultation

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        self.aec.reset(seed=seed, options=options)
        self._done = False
        return self.aec.observe(DOCTOR)["message"], self.aec.infos[DOCTOR]

    def step(self, action: "str | Action") -> tuple[str, float, bool, bool, dict]:
        if self._done:
            raise RuntimeError("step() called on a finished consultation (or before reset()); call reset() first")
        aec = self.aec
        aec.step(action)
        reward = aec.rewards[DOCTOR]
        terminated, truncated = aec.terminations[DOCTOR], aec.truncations[DOCTOR]
        if aec.agent_selection == PATIENT and not (terminated or truncated):
            question = aec.observe(PATIENT)["message"]
            aec.step(self.patient.reply(question, aec.infos[PATIENT]["messages"]))
        self._done = terminated or truncated
        return aec.observe(DOCTOR)["message"], float(reward), terminated, truncated, aec.infos[DOCTOR]

    def render(self) -> str | None:
        return self.aec.render()

    def close(self) -> None:
        self.aec.close()
