"""clinic-env: a virtual clinic where doctor models consult simulated patients.

The PettingZoo AEC env is ``clinic_env.consultation_v0.env()``; importing this package
registers the Gymnasium env ``clinic_env/Consultation-v0``.
"""

from gymnasium.envs.registration import register

from clinic_env.actions import Ask, Diagnose, End, Examine, OrderTests, format_action, parse_action
from clinic_env.cases.library import get_case, load_case_file, load_cases
from clinic_env.cases.schema import Case, PatientProfile
from clinic_env.patient import OfflinePatient, PatientPolicy
from clinic_env.persona import Persona

__version__ = "0.1.0"

register(id="clinic_env/Consultation-v0", entry_point="clinic_env.gym_env:ConsultationEnv")

__all__ = [
    "Ask", "Examine", "OrderTests", "Diagnose", "End", "parse_action", "format_action",
    "Case", "PatientProfile", "load_cases", "get_case", "load_case_file",
    "OfflinePatient", "PatientPolicy", "Persona",
]
