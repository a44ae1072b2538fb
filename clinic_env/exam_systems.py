"""Body systems a doctor can examine, the words that name them, and normal findings.

The case schema keys exam findings by these systems; the examiner resolves a free-text
order ("listen to the chest", "abdo exam") to one of them and reports the normal
finding below for a system the case does not list.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

ExamSystem = Literal[
    "vitals",
    "general",
    "heent",
    "neck",
    "cardiovascular",
    "respiratory",
    "abdominal",
    "neurological",
    "musculoskeletal",
    "skin",
    "lymph_nodes",
    "genitourinary",
    "pelvic",
    "breast",
    "obstetric",
    "mental_state",
]

EXAM_SYSTEMS: tuple[str, ...] = get_args(ExamSystem)

SYSTEM_ALIASES: dict[str, tuple[str, ...]] = {
    "vitals": ("vitals?", "vital signs?", "observations", "obs", "temperature", "temp", "blood pressure",
               "bp", "pulse", "heart rate", "respiratory rate", "oxygen saturation", "sats", "spo2"),
    "general": ("general", "general appearance", "appearance", "general inspection", "hydration"),
    "heent": ("heent", "head", "eyes?", "ears?", "nose", "throat", "mouth", "pharynx", "tonsils?",
              "fundi", "fundoscopy", "otoscopy", "ent", "pupils"),
    "neck": ("neck", "thyroid", "jvp", "jugular venous pressure", "neck stiffness", "meningism"),
    "cardiovascular": ("cardiovascular", "cardiac", "heart", "heart sounds", "cvs", "precordium",
                       "peripheral pulses", "murmurs?", "auscultate the heart"),
    "respiratory": ("respiratory", "resp", "chest", "lungs?", "breath sounds", "auscultate the chest",
                    "auscultation", "listen to (the |your )?(chest|lungs|breathing)", "percussion"),
    "abdominal": ("abdominal", "abdomen", "abdo", "belly", "tummy", "stomach", "liver", "spleen",
                  "bowel sounds", "rebound", "murphy'?s sign", "rectal", "pr exam", "digital rectal"),
    "neurological": ("neurological", "neuro", "nervous system", "cranial nerves", "reflexes",
                     "power", "tone", "sensation", "coordination", "gait", "plantars", "cerebellar",
                     "kernig'?s?", "brudzinski'?s?"),
    "musculoskeletal": ("musculoskeletal", "msk", "joints?", "spine", "back", "limbs?", "legs?",
                        "arms?", "knees?", "hips?", "ankles?", "calf", "calves", "shoulders?", "muscles?"),
    "skin": ("skin", "rash", "dermatolog\\w*", "lesions?", "mole", "nails", "wound"),
    "lymph_nodes": ("lymph nodes?", "lymphadenopathy", "glands", "nodes"),
    "genitourinary": ("genitourinary", "gu", "genitals?", "genital", "testes", "testicles?", "scrotum",
                      "renal angle", "loin", "costovertebral angle", "cva tenderness"),
    "pelvic": ("pelvic", "speculum", "vaginal exam\\w*", "bimanual", "cervix", "adnexa\\w*"),
    "breast": ("breasts?",),
    "obstetric": ("obstetric", "fundal height", "fetal heart", "fetal heart rate", "uterus", "bump"),
    "mental_state": ("mental state", "mental status", "mse", "mood", "affect", "cognition",
                     "orientation", "psychiatric"),
}

NORMAL_FINDINGS: dict[str, str] = {
    "vitals": "Temperature 36.8°C, heart rate 76/min, blood pressure 122/78 mmHg, respiratory rate 14/min, SpO2 98% on room air.",
    "general": "Alert and comfortable at rest, well perfused, not pale, jaundiced or cyanosed.",
    "heent": "Pupils equal and reactive; ears, nose and throat unremarkable; mucous membranes moist.",
    "neck": "Neck supple; no lymphadenopathy; thyroid not enlarged; JVP not raised.",
    "cardiovascular": "Heart sounds I + II, no added sounds or murmurs; peripheral pulses present and equal.",
    "respiratory": "Chest clear; vesicular breath sounds throughout with no added sounds; normal percussion note.",
    "abdominal": "Abdomen soft and non-tender; no masses or organomegaly; bowel sounds normal.",
    "neurological": "Cranial nerves intact; normal tone, power, reflexes and sensation in all limbs; gait normal.",
    "musculoskeletal": "Full range of movement in all joints examined; no swelling, deformity or tenderness.",
    "skin": "No rash, lesions or bruising; skin warm and well perfused.",
    "lymph_nodes": "No palpable cervical, axillary or inguinal lymph nodes.",
    "genitourinary": "No renal angle tenderness; external genitalia normal.",
    "pelvic": "Normal external genitalia; cervix closed and healthy-looking; no adnexal or cervical motion tenderness.",
    "breast": "Breasts symmetrical; no masses, skin changes or nipple discharge.",
    "obstetric": "Fundal height consistent with dates; fetal heart rate 140/min.",
    "mental_state": "Appropriately dressed; good rapport; mood euthymic; no abnormal thoughts or perceptions; insight intact.",
}

SYSTEM_PATTERNS: dict[str, re.Pattern[str]] = {
    system: re.compile(r"\b(?:" + "|".join(aliases) + r")\b", re.IGNORECASE)
    for system, aliases in SYSTEM_ALIASES.items()
}


def resolve_system(text: str) -> str | None:
    """The exam system a free-text order names (exact system names win), or None."""
    key = text.strip().lower().replace(" ", "_")
    if key in NORMAL_FINDINGS:
        return key
    for system, pattern in SYSTEM_PATTERNS.items():
        if pattern.search(text):
            return system
    return None
