"""A catalogue of common investigations: names, aliases, normal results, cost, turnaround.

Cases name their tests with the canonical names below (or their own names plus
aliases). The examiner uses the catalogue twice: to resolve what a doctor orders
("FBC", "full blood count", "CBC" are one test) and to give a plausible normal result
for a listed test the case does not mention. Costs are rough US dollar list prices and
turnaround times are typical hours; they exist to make over-testing visible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Investigation:
    name: str
    aliases: tuple[str, ...]
    normal_result: str
    reference_range: str
    cost: float
    turnaround_hours: float


def _inv(name: str, aliases: str, normal: str, ref: str, cost: float, hours: float) -> Investigation:
    return Investigation(name, tuple(a.strip() for a in aliases.split("|") if a.strip()), normal, ref, cost, hours)


CATALOG: tuple[Investigation, ...] = (
    _inv("complete blood count", "cbc|fbc|full blood count|blood count|haemogram|hemogram|white cell count|wbc|haemoglobin|hemoglobin|platelets",
         "Hb 14.0 g/dL, WCC 7.2 x10^9/L, platelets 250 x10^9/L", "Hb 12-16 g/dL; WCC 4-11 x10^9/L; platelets 150-400 x10^9/L", 25, 2),
    _inv("basic metabolic panel", "bmp|u&e|u and e|urea and electrolytes|electrolytes|renal function|kidney function|creatinine|sodium|potassium|urea|bun",
         "Na 139 mmol/L, K 4.2 mmol/L, urea 5.0 mmol/L, creatinine 80 umol/L", "Na 135-145; K 3.5-5.0 mmol/L; creatinine 60-110 umol/L", 30, 2),
    _inv("liver function tests", "lft|lfts|liver panel|liver enzymes|alt|ast|bilirubin|alkaline phosphatase|alp|albumin",
         "ALT 22 U/L, AST 24 U/L, ALP 80 U/L, bilirubin 10 umol/L, albumin 42 g/L", "ALT < 40 U/L; ALP 30-130 U/L; bilirubin < 21 umol/L", 30, 4),
    _inv("c-reactive protein", "crp|c reactive protein|inflammatory markers", "CRP 3 mg/L", "< 5 mg/L", 20, 2),
    _inv("erythrocyte sedimentation rate", "esr|sed rate|sedimentation rate", "ESR 8 mm/h", "< 20 mm/h", 15, 2),
    _inv("blood glucose", "glucose|blood sugar|capillary glucose|fingerstick glucose|random glucose|bm|cbg|fasting glucose",
         "Glucose 5.4 mmol/L", "3.9-7.8 mmol/L (random)", 5, 0.1),
    _inv("hba1c", "glycated haemoglobin|glycated hemoglobin|a1c|haemoglobin a1c|hemoglobin a1c", "HbA1c 36 mmol/mol (5.4%)", "< 42 mmol/mol (< 6.0%)", 20, 24),
    _inv("troponin", "high-sensitivity troponin|hs troponin|troponin i|troponin t|cardiac enzymes|trop",
         "hs-troponin I 4 ng/L", "< 14 ng/L", 40, 1),
    _inv("d-dimer", "d dimer|ddimer", "D-dimer 0.30 mg/L FEU", "< 0.50 mg/L FEU", 35, 1),
    _inv("bnp", "nt-probnp|brain natriuretic peptide|natriuretic peptide|probnp", "NT-proBNP 60 pg/mL", "< 125 pg/mL", 50, 4),
    _inv("lipid profile", "lipids|cholesterol|lipid panel|fasting lipids", "Total cholesterol 4.6 mmol/L, LDL 2.6 mmol/L, HDL 1.4 mmol/L", "LDL < 3.0 mmol/L", 20, 24),
    _inv("thyroid function tests", "tft|tfts|tsh|thyroid function|free t4|ft4|thyroid panel",
         "TSH 1.8 mU/L, free T4 15 pmol/L", "TSH 0.4-4.0 mU/L; free T4 10-22 pmol/L", 35, 24),
    _inv("lipase", "serum lipase|amylase|pancreatic enzymes", "Lipase 30 U/L", "< 60 U/L", 25, 2),
    _inv("coagulation screen", "inr|pt|aptt|clotting|clotting screen|coagulation|prothrombin time",
         "INR 1.0, APTT 30 s", "INR 0.8-1.2; APTT 25-35 s", 25, 2),
    _inv("arterial blood gas", "abg|blood gas|venous blood gas|vbg|gas", "pH 7.40, pCO2 5.2 kPa, pO2 12.5 kPa, HCO3 24 mmol/L, lactate 1.0 mmol/L",
         "pH 7.35-7.45; pCO2 4.7-6.0 kPa; HCO3 22-26 mmol/L", 40, 0.2),
    _inv("serum ketones", "ketones|blood ketones|capillary ketones|beta-hydroxybutyrate", "Ketones 0.1 mmol/L", "< 0.6 mmol/L", 10, 0.1),
    _inv("blood cultures", "blood culture|cultures", "No growth at 48 hours", "No growth", 60, 48),
    _inv("urinalysis", "urine dip|urine dipstick|dipstick|ua|urine test|urine analysis",
         "Urine dipstick: negative for leucocytes, nitrites, blood, protein, glucose and ketones", "All negative", 5, 0.1),
    _inv("urine culture", "msu|midstream urine|urine mc&s|urine microscopy|msu culture|urine culture", "No significant growth", "< 10^5 CFU/mL", 30, 48),
    _inv("urine pregnancy test", "pregnancy test|beta-hcg|b-hcg|bhcg|hcg|serum hcg|upt|urine hcg|serum bhcg|urine bhcg", "hCG negative", "Negative", 10, 0.2),
    _inv("throat swab", "throat culture|rapid strep test|strep test|rapid antigen detection test|radt",
         "Group A streptococcus not detected", "Negative", 25, 24),
    _inv("respiratory viral pcr", "covid test|covid-19 pcr|influenza test|flu swab|viral swab|nasopharyngeal swab|rsv test",
         "SARS-CoV-2, influenza A/B and RSV not detected", "Not detected", 60, 6),
    _inv("sputum culture", "sputum|sputum mc&s|sputum microscopy", "Normal upper respiratory flora", "No pathogen", 30, 48),
    _inv("stool culture", "stool sample|stool mc&s|stool test|faecal culture|fecal culture", "No enteric pathogens isolated", "No pathogen", 40, 72),
    _inv("lumbar puncture", "lp|csf|csf analysis|spinal tap|cerebrospinal fluid",
         "CSF clear; WCC 2 /uL; protein 0.3 g/L; glucose 3.5 mmol/L (60% of serum); Gram stain negative", "WCC < 5 /uL; protein 0.15-0.45 g/L", 250, 4),
    _inv("sti screen", "chlamydia test|gonorrhoea test|gonorrhea test|naat|std test|sti test|vaginal swab|high vaginal swab|hvs|urethral swab",
         "Chlamydia and gonorrhoea NAAT negative", "Negative", 60, 48),
    _inv("hiv test", "hiv|hiv antibody|hiv serology", "HIV-1/2 antigen/antibody not detected", "Negative", 30, 24),
    _inv("monospot", "ebv serology|heterophile antibody|glandular fever test|mono test|infectious mononucleosis test",
         "Heterophile antibody negative", "Negative", 20, 4),
    _inv("ferritin", "iron studies|serum iron|iron", "Ferritin 90 ug/L", "30-300 ug/L", 25, 24),
    _inv("vitamin b12 and folate", "b12|folate|vitamin b12", "B12 400 ng/L, folate 8 ug/L", "B12 > 200 ng/L; folate > 4 ug/L", 30, 24),
    _inv("ecg", "ekg|electrocardiogram|12-lead ecg|12 lead ecg|heart tracing",
         "Sinus rhythm 76/min, normal axis, normal intervals, no ST or T-wave changes", "Normal sinus rhythm", 50, 0.2),
    _inv("chest x-ray", "cxr|chest xray|chest radiograph|chest film|x-ray of the chest|chest x ray",
         "Clear lung fields, normal heart size, no effusion or pneumothorax", "Normal", 80, 1),
    _inv("abdominal x-ray", "axr|abdominal xray|abdominal radiograph|kub", "Normal bowel gas pattern; no dilated loops or free air", "Normal", 80, 1),
    _inv("echocardiogram", "echo|tte|transthoracic echo|cardiac ultrasound",
         "Normal left ventricular size and function (EF 60%), valves normal", "EF 55-70%", 500, 24),
    _inv("abdominal ultrasound", "ultrasound abdomen|abdominal us|us abdomen|liver ultrasound|gallbladder ultrasound|ruq ultrasound|renal ultrasound|ultrasound",
         "Liver, gallbladder, pancreas, kidneys and spleen normal; no free fluid", "Normal", 250, 4),
    _inv("pelvic ultrasound", "transvaginal ultrasound|tvus|pelvic us|obstetric ultrasound|dating scan",
         "Normal uterus and ovaries; no free fluid", "Normal", 250, 4),
    _inv("ct head", "ct brain|head ct|brain ct|ct scan of the head|non-contrast ct head", "No intracranial haemorrhage, mass or infarct", "Normal", 800, 2),
    _inv("ct abdomen and pelvis", "ct abdomen|ct abdo|abdominal ct|ct of the abdomen|ct ap", "No acute intra-abdominal abnormality", "Normal", 1000, 3),
    _inv("ct pulmonary angiogram", "ctpa|ct chest angiogram|ct pa|ct pulmonary angiography", "No pulmonary embolism", "Normal", 1200, 3),
    _inv("ct chest", "chest ct|ct thorax|ct of the chest", "Lungs clear; no mass, consolidation or effusion", "Normal", 900, 3),
    _inv("mri brain", "brain mri|mri head|head mri", "Normal brain parenchyma; no lesions", "Normal", 1500, 24),
    _inv("mri spine", "spinal mri|mri lumbar spine|mri of the spine|whole spine mri", "No cord or root compression", "Normal", 1500, 24),
    _inv("x-ray of the limb", "limb x-ray|x-ray ankle|x-ray knee|x-ray wrist|ankle x-ray|knee x-ray|wrist x-ray|hip x-ray|x-ray hip|bone x-ray|plain film",
         "No fracture or dislocation", "Normal", 70, 1),
    _inv("doppler ultrasound of the leg", "leg doppler|compression ultrasound|venous doppler|dvt scan|duplex ultrasound|lower limb doppler",
         "Deep veins fully compressible; no thrombus", "Normal", 300, 4),
    _inv("peak flow", "pefr|peak expiratory flow|peak flow meter", "Peak flow 520 L/min (100% predicted)", "> 80% predicted", 5, 0.1),
    _inv("spirometry", "lung function tests|pulmonary function tests|pft|pfts|fev1", "FEV1/FVC 0.80, FEV1 98% predicted; no reversibility", "FEV1/FVC > 0.70", 120, 24),
    _inv("skin scraping", "fungal scraping|koh prep|skin swab", "No fungal elements seen; no organisms isolated", "Negative", 60, 48),
    _inv("skin biopsy", "punch biopsy|skin punch biopsy|lesional biopsy|biopsy of the skin",
         "Normal skin histology; no inflammation, dysplasia or malignancy", "Normal skin", 300, 120),
    _inv("dermoscopy", "dermatoscopy|dermatoscope", "Regular reticular pigment network; no features of malignancy",
         "Symmetrical regular network", 50, 0.2),
    _inv("phq-9", "depression questionnaire|phq9|phq 9|depression screening", "PHQ-9 score 3 (minimal)", "0-4 minimal", 0, 0.1),
    _inv("gad-7", "anxiety questionnaire|gad7|gad 7", "GAD-7 score 2 (minimal)", "0-4 minimal", 0, 0.1),
    _inv("toxicology screen", "urine drug screen|tox screen|drug screen|paracetamol level|salicylate level|alcohol level",
         "No drugs detected; paracetamol and salicylate undetectable", "Not detected", 80, 2),
)


def normalize_name(text: str) -> str:
    """Lower-case, strip punctuation other than word-internal hyphens and '&', fold spaces."""
    text = re.sub(r"[^\w&+\- ]+", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


# Words clinicians shorten in an order, spelled out before a name is looked up ("hs trop", "pelvic
# USS", "MRI L-spine", "MSU MC&S"). Each stands for a word of a test's name, never for a whole other
# test, and a qualifier that names no test ("lab glucose", "ABG on air") is dropped, so spelling out
# cannot turn one test into another.
ABBREVIATIONS: dict[str, str] = {
    "hs": "high-sensitivity", "trop": "troponin", "uss": "ultrasound", "l-spine": "lumbar spine",
    "c-spine": "cervical spine", "t-spine": "thoracic spine", "mc&s": "culture", "m&c": "culture",
    "coag": "coagulation", "xr": "x-ray", "lab": "", "stat": "", "formal": "",
}
_ON_AIR = re.compile(r"\s+on (room )?air$")


def spelled_out(text: str) -> str:
    """``normalize_name`` with ``ABBREVIATIONS`` spelled out and "on (room) air" dropped."""
    words = [ABBREVIATIONS.get(w, w) for w in _ON_AIR.sub("", normalize_name(text)).split()]
    return " ".join(w for w in words if w)


def spellings(name: str) -> tuple[str, ...]:
    """A name as written, spelled out, and each without a plural "s" ("U&Es", "LFTs")."""
    forms = dict.fromkeys((normalize_name(name), spelled_out(name)))
    return tuple(dict.fromkeys([*forms, *(f[:-1] for f in forms if len(f) > 3 and f.endswith("s"))]))


_BY_ALIAS: dict[str, Investigation] = {}
for _item in CATALOG:
    for _alias in (_item.name, *_item.aliases):
        _BY_ALIAS.setdefault(normalize_name(_alias), _item)


def lookup(name: str) -> Investigation | None:
    """The catalogue entry whose name or alias equals ``name`` after normalisation (as written,
    spelled out, or without a plural "s")."""
    return next((_BY_ALIAS[v] for v in spellings(name) if v in _BY_ALIAS), None)


def aliases_of(name: str) -> tuple[str, ...]:
    """All normalised names a test is known by: its catalogue aliases when it is listed."""
    item = lookup(name)
    names = (name,) if item is None else (item.name, *item.aliases)
    return tuple(dict.fromkeys(normalize_name(n) for n in names))
