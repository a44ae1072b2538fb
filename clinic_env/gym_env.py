"""The consultation as a single-agent Gymnasium env: the doctor acts, a patient policy answers.

    import gymnasium as gym
    import clinic_env  # registers the env
    env = gym.make("clinic_env/Consultation-v0", split="test")
    observation, info = env.reset(seed=0)
    observation, reward, terminated, truncated, info = env.step("ASK: When did the pain start?")

``reset`` opens an episode through the ``Clinic`` (clinic_env/clinic.py); ``step`` is one
doctor turn of the episode driver (``Consultation.doctor_turn``, clinic_env/consultation.py)
followed, after an ASK, by the patient policy's answer (``patient_turn``). The AEC env of
``consultation_v0`` opens and steps episodes the same way, so both behave identically for
a seed. Observation and action are strings; ``info["messages"]`` is the doctor's chat view.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from clinic_env.actions import Action
from clinic_env.clinic import Clinic
from clinic_env.consultation import Consultation
from clinic_env.consultation_v0 import fit_to_space, text_space
from clinic_env.patient import PatientPolicy
from clinic_env.render import RENDER_MODES, check_render_mode, render


class ConsultationEnv(gym.Env[str, str]):
    """Doctor-only consultation. Keyword arguments are those of ``consultation_v0.raw_env``."""

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 1}

    def __init__(self, patient: PatientPolicy | None = None, render_mode: str | None = None, **kwargs: Any) -> None:
        check_render_mode(render_mode)
        self.clinic = Clinic(patient=patient, **kwargs)
        self.render_mode = render_mode
        self.observation_space = text_space()
        self.action_space = text_space()
        self.consultation: Consultation | None = None

    @property
    def patient(self) -> PatientPolicy:
        return self.clinic.patient

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        self.consultation = self.clinic.open(self.np_random, options)
        return fit_to_space(self.consultation.turns[-1].text), self.consultation.doctor_info(None)

    def step(self, action: "str | Action") -> tuple[str, float, bool, bool, dict]:
        consultation = self.consultation
        if consultation is None or consultation.ended or consultation.truncated:
            raise RuntimeError("step() called on a finished consultation (or before reset()); call reset() first")
        turn = consultation.doctor_turn(action)
        observation = consultation.patient_turn() if turn.awaits_patient else turn.observation
        info = consultation.doctor_info(turn.action)
        if self.render_mode == "human":
            self.render()
        return fit_to_space(observation), float(turn.reward), turn.terminated, turn.truncated, info

    def render(self) -> str | None:
        return render(self.consultation, self.render_mode)

    def close(self) -> None:
        self.consultation = None
