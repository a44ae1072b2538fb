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
from clinic_env.patient import PatientPolicy
from clinic_env.render import RENDER_MODES, check_render_mode, render
from clinic_env.spaces import fit_to_space, text_space


class ConsultationEnv(gym.Env[str, str]):
    """
    ## Description

    A medical consultation. The agent is the doctor; a simulated patient (the offline,
    rule-based patient unless ``patient`` is given) answers from one case's patient-side
    facts, and an examiner answers examinations and test orders from the case. The doctor
    takes a history, examines, orders tests, and ends with a ranked differential and a
    plan. The consultation is scored by the case's clinical rubric: weighted criteria in six
    dimensions (diagnostic accuracy, consultation logic, examination and tests, treatment,
    communication, ethics and safety), with negative points for harmful or needless care.

    ## Action Space

    ``Text(8192)``: one message in the text protocol of ``clinic_env.actions`` (or a typed
    ``Ask`` / ``Examine`` / ``OrderTests`` / ``Diagnose`` / ``End``):

    | action                              | effect                                           |
    |-------------------------------------|--------------------------------------------------|
    | ``ASK: <words>`` (or plain text)    | said to the patient; the observation is the reply |
    | ``EXAMINE: <system>, ...``          | the examiner's findings; costs a turn            |
    | ``ORDER: <test>; ...``              | results, with cost and turnaround in ``info``    |
    | ``DIAGNOSE: <dx>; <dx> ...`` + ``PLAN: ...`` | ends the visit (terminated)             |
    | ``END: <words>``                    | ends the visit without a diagnosis (terminated)  |

    Any string is valid: text the parser cannot read is speech to the patient.

    ## Observation Space

    ``Text(8192)`` over printable BMP characters plus newline and tab: the patient's words
    (the opening complaint at reset), the examiner's report, or the end-of-visit notice.
    Longer text is cut and characters outside the space become U+FFFD.

    ## Rewards

    ``reward="rubric"`` (default): HealthBench's score of the case rubric, clipped to [0, 1]
    and 0 once a critical harm is met (the harm gate; ``RubricReward(harm_cap=...)``).
    ``reward_mode="dense"`` pays the change in score at every step (an episode's rewards sum
    to its final score; a step can lose points); ``"terminal"`` pays the final score once.
    With a grader that judges only the whole visit (an LLM judge) the dense rewards are 0
    until the last step, and the judge is asked once per episode. ``reward="diagnosis_match"``
    pays 1, 1/2 or 1/3 for the right diagnosis ranked first, second or third.

    ## Starting State

    ``reset(seed=...)`` draws a case from the pool (``options={"case_id": ...}`` names one),
    a persona (unless ``persona`` or ``options={"persona": ...}`` fixes it) and the patient's
    seed; the observation is the patient's (or their carer's) opening statement.

    ## Episode End

    Terminated on ``DIAGNOSE`` or ``END``; truncated after ``max_turns`` doctor actions.
    ``step`` after the end raises; call ``reset``.

    ## Arguments

    ``gym.make("clinic_env/Consultation-v0", cases=None, split=None, specialty=None,
    persona=None, patient=None, reward="rubric", reward_mode="dense", max_turns=30,
    unlisted_tests="normal", render_mode=None)``:

    - ``cases``: "builtin" (default), "generated" (a new case per reset), a case id, a
      ``Case``, or a list of cases / ids; ``split`` ("train" / "test") and ``specialty`` filter.
    - ``persona``: a persona spec (``Persona.from_spec``: preset names or ``trait=level``);
      None samples one per episode.
    - ``patient``: a ``PatientPolicy`` (e.g. ``clinic_env.patient.LLMPatient``).
    - ``reward``: "rubric", "diagnosis_match" or an object following ``clinic_env.rewards.Reward``
      (e.g. ``RubricReward(grader=LLMJudge(...))``).
    - ``unlisted_tests``: "normal" (tests the case does not list come back normal) or
      "not_available".
    - ``render_mode``: "ansi" (text), "html" (for notebooks) or "human" (printed each step).

    ## Info

    ``messages`` (the doctor's chat view, system prompt first), ``turn``, ``action`` (the
    kind of the last action), ``score`` (so far), ``reward_breakdown`` (``verdicts`` per
    criterion, ``raw_score``, ``critical_met``, ``harm_cap``, ``dimensions``, the grader's
    ``explanations``), ``cost``, ``turnaround_hours``, ``exams``, ``tests``, ``doctor_turns``,
    ``leaks_redacted`` (patient sentences removed for naming the diagnosis). Nothing shown to the doctor
    names the case; evaluation code finds it at ``env.unwrapped.consultation.case``.

    ## Version History

    - v0: the initial release. Within it (December 2026, package 0.1.0): a patient policy's
      ``reset`` takes the keyword ``forbidden_names``; graders subclass
      ``clinic_rubrics.grading.Grader`` (one ``session`` contract), and a grader that judges
      only whole visits is asked once per episode, so its dense rewards are 0 until the last
      step; episodes, their rewards and their scores are otherwise unchanged.
    """

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

    def step(self, action: str | Action) -> tuple[str, float, bool, bool, dict]:
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
