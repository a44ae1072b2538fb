"""The simulated patient: the protocol every patient follows (``protocol``), the offline
rule-based patient (``offline``), the LLM patient (``llm``, with its reply ``checker`` and
its end-of-visit gate ``ending``), and the one system-prompt builder both share (``prompt``).
"""

from clinic_env.patient.llm import LLMPatient, llm_patient
from clinic_env.patient.offline import OfflinePatient
from clinic_env.patient.prompt import patient_system_prompt
from clinic_env.patient.protocol import PatientPolicy

__all__ = ["PatientPolicy", "OfflinePatient", "LLMPatient", "llm_patient", "patient_system_prompt"]
