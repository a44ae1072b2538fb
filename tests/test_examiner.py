import gymnasium as gym
import pytest

import clinic_env  # noqa: F401  (registers the env)
from clinic_env.exam_systems import NORMAL_FINDINGS
from clinic_env.examiner import Examiner
from clinic_env.investigations import lookup


def test_case_findings_and_normal_systems(pneumonia_case):
    examiner = Examiner(pneumonia_case)
    chest = examiner.examine("listen to the chest")
    assert chest.resolved == "respiratory" and chest.text == pneumonia_case.exam["respiratory"] and chest.from_case
    skin = examiner.examine("skin")
    assert skin.text == NORMAL_FINDINGS["skin"] and not skin.from_case
    assert "not pregnant" in examiner.examine("obstetric").text
    assert examiner.examine("aura reading").resolved is None


@pytest.mark.parametrize("order", ["FBC", "full blood count", "CBC", "Complete Blood Count", "white cell count"])
def test_test_aliases_resolve_to_the_case_result(pneumonia_case, order):
    report = Examiner(pneumonia_case).order(order)
    assert report.resolved == "complete blood count"
    assert "WCC 16.8" in report.text and report.abnormal and report.cost == 25


def test_unlisted_catalogue_test_is_normal_or_not_available(pneumonia_case):
    normal = Examiner(pneumonia_case, unlisted_tests="normal").order("troponin")
    assert normal.resolved == "troponin" and normal.text.startswith(lookup("troponin").normal_result)
    assert normal.cost == lookup("troponin").cost and not normal.from_case
    missing = Examiner(pneumonia_case, unlisted_tests="not_available").order("troponin")
    assert missing.resolved is None and "Not available" in missing.text and missing.cost == 0
    with pytest.raises(ValueError, match="unlisted_tests"):
        Examiner(pneumonia_case, unlisted_tests="sometimes")


def test_unknown_test_costs_nothing(pneumonia_case):
    report = Examiner(pneumonia_case).order("unicorn scan")
    assert report.resolved is None and report.cost == 0 and "not recognised" in report.text


def test_orders_add_cost_and_turnaround_to_info(pneumonia_case):
    env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case])
    env.reset(seed=0)
    _, _, _, _, info = env.step("ORDER: chest x-ray; CRP")
    assert info["cost"] == 80 + 20 and info["turnaround_hours"] == 1 + 2 and info["tests"] == 2
    obs, _, _, _, info = env.step("EXAMINE: vitals")
    assert "38.9°C" in obs and info["exams"] == 1 and info["cost"] == 100
    _, _, _, _, info = env.step("ORDER: chest x-ray")  # repeat orders are charged again
    assert info["cost"] == 180 and info["tests"] == 3


def test_examiner_answers_never_reach_the_patient(pneumonia_case):
    env = gym.make("clinic_env/Consultation-v0", cases=[pneumonia_case])
    env.reset(seed=0)
    env.step("ORDER: chest x-ray")
    patient_view = env.unwrapped.consultation.patient_info()["messages"]
    assert not any("consolidation" in m["content"] for m in patient_view)
