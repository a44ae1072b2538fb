"""The consultation for TRL's ``GRPOTrainer(environment_factory=...)``: the doctor's actions as typed tools.

    from trl import GRPOConfig, GRPOTrainer
    from clinic_agents.trl_env import ClinicToolEnv

    dataset = Dataset.from_list([{"prompt": [{"role": "user", "content": "See the patient.\n"}],
                                  "case_id": "pulm_cap_adult", "seed": 0}, ...])
    trainer = GRPOTrainer(model=..., args=GRPOConfig(loss_type="dr_grpo", beta=0.0, epsilon_high=0.28,
                                                       scale_rewards="none", ...),
                          train_dataset=dataset, environment_factory=ClinicToolEnv)

TRL makes one environment per rollout with no arguments, calls ``reset(**row)`` with the
dataset row's fields (``case_id``, ``seed``, optionally ``persona``) and appends what it
returns (the patient's opening words) to the prompt's last message, with no separator (so
the prompt ends with one); every public method with a docstring becomes a tool the model
may call (``ask_patient``, ``examine``, ``order_test``, ``submit_diagnosis``,
``end_consultation``), and TRL (1.16 and later) takes the reward from ``get_reward``, the
consultation's rubric score. ``reward_func`` gives the same score as a reward function, for
TRL versions that need ``reward_funcs``: with TRL 1.16 and later, passing it as well counts the
score twice. A tool called after the visit ended says so and changes nothing.
"""

from __future__ import annotations

from typing import Any

from clinic_env.actions import Ask, Diagnose, End, Examine, OrderTests
from clinic_env.gym_env import ConsultationEnv

OVER = "The consultation is over."


class ClinicToolEnv:
    """One consultation per rollout, driven by tool calls (see the module doc)."""

    def __init__(self) -> None:
        self.env: ConsultationEnv | None = None
        self.score = 0.0
        self.done = False

    def reset(self, **kwargs: Any) -> str:
        """Start a new consultation and return the patient's opening words."""
        case_id, persona = kwargs.get("case_id"), kwargs.get("persona")
        self.env = ConsultationEnv(cases=[case_id] if case_id else None, persona=persona,
                                   max_turns=int(kwargs.get("max_turns", 30)), reward_mode="dense")
        observation, info = self.env.reset(seed=int(kwargs.get("seed", 0)))
        self.score, self.done = float(info.get("score", 0.0)), False
        return observation

    def _act(self, action: Any) -> str:
        if self.env is None:
            raise RuntimeError("reset() must be called before any tool")
        if self.done:
            return OVER
        observation, _, terminated, truncated, info = self.env.step(action)
        self.score = float(info.get("score", self.score))
        self.done = terminated or truncated
        return observation if not self.done or observation else OVER

    def ask_patient(self, question: str) -> str:
        """Ask the patient a question and get their answer.

        Args:
            question: What to ask, in plain words, e.g. "When did the cough start?"
        """
        return self._act(Ask(question))

    def examine(self, systems: str) -> str:
        """Examine the patient and get the findings.

        Args:
            systems: Body systems to examine, separated by commas, e.g. "vitals, respiratory".
        """
        return self._act(Examine(tuple(s.strip() for s in systems.split(",") if s.strip())))

    def order_test(self, tests: str) -> str:
        """Order investigations and get their results (each costs money and time).

        Args:
            tests: One or more tests separated by semicolons, e.g. "chest x-ray; complete blood count".
        """
        return self._act(OrderTests(tuple(t.strip() for t in tests.split(";") if t.strip())))

    def submit_diagnosis(self, diagnoses: str, plan: str) -> str:
        """Give the diagnosis and the plan; this ends the consultation.

        Args:
            diagnoses: The most likely diagnosis first, then alternatives, separated by semicolons.
            plan: The management plan: treatment, follow-up and when to seek help.
        """
        return self._act(Diagnose(tuple(d.strip() for d in diagnoses.split(";") if d.strip()), plan))

    def end_consultation(self) -> str:
        """End the consultation without a diagnosis."""
        return self._act(End(""))

    def get_reward(self) -> float:
        """The rubric score of the consultation so far (the final score once it ended)."""
        return self.score


def reward_func(environments: list[ClinicToolEnv], **kwargs: Any) -> list[float]:
    """TRL reward function: each rollout's environment scores itself."""
    return [environment.get_reward() for environment in environments]
