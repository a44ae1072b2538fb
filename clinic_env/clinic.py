"""The clinic: what every episode of an environment shares, and how each episode starts.

A ``Clinic`` holds the case pool (or a case generator), the persona rule, the patient
policy, the reward and the visit's limits. ``open`` draws the episode's case, persona and
patient seed from the caller's random generator, in a fixed order, and returns a started
``Consultation``. The AEC env, the Gymnasium env and the benchmark runner all open their
episodes here, so one seed gives the same episode in each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from clinic_env.cases.schema import Case
from clinic_env.cases.specs import resolve_cases
from clinic_env.consultation import Consultation, RewardMode
from clinic_env.examiner import Examiner, KnownTests, check_unlisted_tests
from clinic_env.patient import OfflinePatient, PatientPolicy
from clinic_env.persona import Persona
from clinic_env.rewards import Reward, make_reward


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


class Clinic:
    """Episode set-up shared by the envs and the runner (arguments as ``consultation_v0.raw_env``)."""

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
    ) -> None:
        if reward_mode not in ("dense", "terminal"):
            raise ValueError(f"reward_mode must be 'dense' or 'terminal', got {reward_mode!r}")
        if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1:
            raise ValueError(f"max_turns must be a positive integer, got {max_turns!r}")
        check_unlisted_tests(unlisted_tests)
        self.generator = _generator(cases, split, specialty)
        self.cases = [] if self.generator is not None else resolve_cases(cases, split, specialty)
        self.known_tests = KnownTests(self.cases)  # any case's test is answered in every case alike
        self.persona = None if persona is None else Persona.from_spec(persona)
        self.patient: PatientPolicy = patient if patient is not None else OfflinePatient()
        self.reward = make_reward(reward)
        self.reward_mode: RewardMode = reward_mode
        self.max_turns = max_turns
        self.unlisted_tests = unlisted_tests

    def open(self, np_random: np.random.Generator, options: dict | None = None) -> Consultation:
        """Start an episode: ``options`` may name ``case_id`` and a ``persona`` spec; everything
        else is drawn from ``np_random`` (case, persona, patient seed, in that order)."""
        options = options or {}
        case, persona = self._pick_case(np_random, options.get("case_id"))
        if "persona" in options:
            persona = Persona.from_spec(options["persona"])
        elif self.persona is not None:
            persona = self.persona
        if persona is None:
            persona = Persona.sample(int(np_random.integers(2**31)))
        patient_seed = int(np_random.integers(2**31))
        examiner = Examiner(case, self.unlisted_tests, self.known_tests)
        consultation = Consultation(case, persona, examiner, patient=self.patient,
                                    reward=self.reward, reward_mode=self.reward_mode, max_turns=self.max_turns)
        self.reward.reset(case)
        opening = self._reset_patient(case, persona, patient_seed)
        consultation.add_patient(opening)
        return consultation

    def _reset_patient(self, case: Case, persona: Persona, seed: int) -> str:
        """The patient's opening words; it learns the names it must never say (for its own leak
        check, never its prompt). A policy written before ``forbidden_names`` joined the protocol
        gets an error that says what to add, not Python's bare keyword complaint."""
        try:
            return self.patient.reset(case.patient_view(), persona, seed, forbidden_names=case.diagnosis_names)
        except TypeError as err:
            if "forbidden_names" not in str(err):
                raise
            raise TypeError(f"{type(self.patient).__name__}.reset must accept the keyword forbidden_names "
                            "(PatientPolicy.reset(profile, persona, seed=None, *, forbidden_names=())): "
                            "the diagnosis names the patient must never say") from err

    def _pick_case(self, np_random: np.random.Generator, case_id: str | None) -> tuple[Case, Persona | None]:
        """The episode's case, and the persona that comes with a generated one."""
        if self.generator is not None:
            if case_id is not None:
                raise KeyError(f"case_id {case_id!r}: this env generates its cases; pick one by the reset seed")
            generated = self.generator.generate(int(np_random.integers(2**31)))
            return generated.case, generated.persona
        if case_id is not None:
            for case in self.cases:
                if case.id == case_id:
                    return case, None
            raise KeyError(f"case_id {case_id!r} is not in this env's pool of {len(self.cases)} cases")
        return self.cases[int(np_random.integers(len(self.cases)))], None
