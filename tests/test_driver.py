"""The one episode driver (Consultation.doctor_turn / patient_turn) and the one grader contract
(session -> update -> finish): every env and the runner step the same core, and the reward only
ever talks to a grading session."""

from __future__ import annotations

import asyncio

import gymnasium as gym
import pytest
from gymnasium.utils import seeding

import clinic_env  # noqa: F401 - registers the env
from clinic_env import consultation_v0
from clinic_env.clinic import Clinic
from clinic_env.rewards import RubricReward
from clinic_rubrics.ensemble import EnsembleGrader
from clinic_rubrics.grading import Grader, WholeConversationGrader
from clinic_rubrics.offline_grader import OfflineGrader

CASE = "pulm_cap_adult"
SCRIPT = ["ASK: When did the cough start?", "ASK: Any chest pain when you breathe in?", "EXAMINE: vitals, respiratory",
          "ORDER: chest x-ray", "ASK: Do you smoke?", "DIAGNOSE: community-acquired pneumonia ; pulmonary embolism\n"
          "PLAN: oral doxycycline, safety-net advice and review in 48 hours"]


class CountingJudge(WholeConversationGrader):
    """The offline verdicts, decided only on the finished visit (as an LLM judge is); counts judgings."""

    name = "counting"

    def __init__(self) -> None:
        self.judgings = 0
        self.lengths: list[int] = []

    async def agrade_conversation(self, conversation, rubric):
        self.judgings += 1
        self.lengths.append(len(conversation))
        return OfflineGrader().grade(conversation, rubric)


def play_gym(reward=None, mode="dense", seed=3):
    env = gym.make("clinic_env/Consultation-v0", cases=[CASE], reward=reward or "rubric", reward_mode=mode)
    observation, info = env.reset(seed=seed)
    rewards, observations = [], [observation]
    for action in SCRIPT:
        observation, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        observations.append(observation)
        if terminated or truncated:
            break
    return env.unwrapped.consultation, rewards, observations, info


def play_aec(seed=3):
    env = consultation_v0.env(cases=[CASE])
    env.reset(seed=seed)
    raw, actions = env.unwrapped, iter(SCRIPT)
    for agent in env.agent_iter():
        observation, _, termination, truncation, info = env.last()
        if termination or truncation:
            env.step(None)
        elif agent == "doctor":
            env.step(next(actions))
        else:
            env.step(raw.patient.reply(observation["message"], info["messages"]))
    return raw.consultation


async def play_async(seed=3):
    """The runner's way: the same clinic, async turns."""
    consultation = Clinic(cases=[CASE]).open(seeding.np_random(seed)[0], None)
    for action in SCRIPT:
        turn = await consultation.adoctor_turn(action)
        if turn.awaits_patient:
            await consultation.apatient_turn()
        if turn.terminated:
            break
    return consultation


def test_gym_aec_and_async_drivers_play_the_same_visit():
    gym_visit, _, _, _ = play_gym()
    aec_visit = play_aec()
    async_visit = asyncio.run(play_async())
    transcript = gym_visit.grading_conversation()
    assert len(transcript) > 2 * len(SCRIPT) - 2  # patient answers and examiner reports are in it
    assert aec_visit.grading_conversation() == transcript == async_visit.grading_conversation()
    assert gym_visit.score == aec_visit.score == async_visit.score > 0
    assert gym_visit.persona == aec_visit.persona == async_visit.persona


def test_a_whole_visit_grader_is_asked_once_per_episode_and_dense_rewards_still_sum_to_its_score():
    judge = CountingJudge()
    visit, rewards, _, info = play_gym(RubricReward(grader=judge))
    offline_visit, offline_rewards, _, _ = play_gym()
    assert judge.judgings == 1 and judge.lengths == [len(visit.grading_conversation())]  # the whole visit, once
    assert rewards[:-1] == [0.0] * (len(rewards) - 1)  # nothing known mid-visit: no reward
    assert sum(rewards) == pytest.approx(info["score"]) == pytest.approx(offline_visit.score)
    assert sum(offline_rewards) == pytest.approx(offline_visit.score)
    assert info["reward_breakdown"]["verdicts"] == offline_visit.breakdown["verdicts"]


def test_an_ensemble_of_incremental_graders_decides_every_step_and_one_judge_member_defers_it():
    offline = play_gym(RubricReward(grader=EnsembleGrader([OfflineGrader(), OfflineGrader()], rule="all")))
    baseline = play_gym()
    assert offline[1] == baseline[1]  # same dense rewards step by step: it decided at each update
    judge = CountingJudge()
    mixed = play_gym(RubricReward(grader=EnsembleGrader([OfflineGrader(), judge], rule="all")))
    assert mixed[1][:-1] == [0.0] * (len(mixed[1]) - 1) and judge.judgings == 1
    assert mixed[0].score == pytest.approx(baseline[0].score)


def test_a_session_reads_each_message_once():
    rubric_reward = RubricReward()
    visit, _, _, _ = play_gym(rubric_reward)
    seen = rubric_reward._session._seen["any"]
    assert seen == len(visit.grading_conversation())  # never re-read, never skipped


def test_graders_without_a_session_are_refused_with_a_clear_error():
    class OnlyAgrade:
        async def agrade(self, conversation, rubric):
            return []

    with pytest.raises(TypeError, match="is not a clinic_rubrics.grading.Grader: subclass Grader"):
        RubricReward(grader=OnlyAgrade())
    with pytest.raises(TypeError, match="ensemble member 1 .* is not a clinic_rubrics.grading.Grader"):
        EnsembleGrader([OfflineGrader(), OnlyAgrade()])
    with pytest.raises(TypeError, match="abstract"):
        Grader()  # the base class wants a session()
    from clinic_env.bench.components import make_grader
    from clinic_env.bench.config import BenchError

    with pytest.raises(BenchError, match="is not a clinic_rubrics.grading.Grader"):
        make_grader(OnlyAgrade())


def test_a_patient_written_for_the_old_reset_gets_an_error_that_says_what_to_add():
    class OldPatient:
        def reset(self, profile, persona, seed=None):
            return "Hello doctor."

        def reply(self, message, messages):
            return "Yes."

    with pytest.raises(TypeError, match="OldPatient.reset must accept the keyword forbidden_names"):
        gym.make("clinic_env/Consultation-v0", patient=OldPatient()).reset(seed=0)


def test_patient_turn_needs_a_question_and_a_finished_visit_takes_no_more_turns():
    visit = Clinic(cases=[CASE]).open(seeding.np_random(0)[0], None)
    with pytest.raises(RuntimeError, match="no question awaits the patient"):
        visit.patient_turn()
    turn = visit.doctor_turn("EXAMINE: vitals")
    assert not turn.awaits_patient and turn.observation.startswith("[") and visit.question is None
    turn = visit.doctor_turn("DIAGNOSE: pneumonia")
    assert turn.terminated and turn.observation == "[The consultation has ended.]"
    with pytest.raises(RuntimeError, match="the consultation has ended"):
        visit.doctor_turn("ASK: anything else?")
