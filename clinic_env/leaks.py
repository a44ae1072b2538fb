"""Finding the diagnosis where it must not be: in patient replies and patient- or examiner-visible case text.

Names match as whole words, case-insensitively, with flexible spacing and hyphens
("community acquired pneumonia" finds "community-acquired  pneumonia"). Short
all-capital abbreviations ("PE", "CAP") match case-sensitively, so "cap" in
"kneecap" or "pe" in "type" is not a leak.

The case scanner (``case_leaks``, ``clinic-env cases check``) also checks a case whose
diagnosis lists no synonyms (an imported one) for what its name is also written as
(``name_variants``): its abbreviation ("deep vein thrombosis" -> "DVT"), its name without
qualifiers ("acute appendicitis" -> "appendicitis") and the parts of a name with a
parenthesis or a comma.

``find_diagnosis_terms`` finds what merely sounds like a diagnosis ("pneumonia", "...itis",
"heart attack", "COPD", "Lyme disease") when the true names are not known: the LLM
patient's leak check and its end-of-visit gate use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from clinic_env.cases.schema import Case, PatientProfile
from clinic_rubrics.text import phrase_pattern, whole_words


def _whole_words(folded: list[str], exact: list[str]) -> re.Pattern[str] | None:
    """One regex finding any alternative as a whole word: ``folded`` ignoring case, ``exact``
    (short abbreviations) as written, so "cap" in "kneecap" is not "CAP"."""
    parts = []
    if folded:
        parts.append(r"(?i:" + "|".join(folded) + ")")
    if exact:
        parts.append("|".join(exact))
    return re.compile(whole_words(parts)) if parts else None


@lru_cache(maxsize=4096)
def leak_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex finding any of ``names``; None when there is nothing to look for."""
    folded = [n for n in names if not (n.isupper() and len(n) <= 5)]
    abbreviations = [n for n in names if n.isupper() and len(n) <= 5]
    return _whole_words([phrase_pattern(n) for n in sorted(folded, key=len, reverse=True)],
                        [re.escape(n) for n in abbreviations])


def find_leaks(text: str, names: Iterable[str]) -> list[str]:
    """The diagnosis names (as written in ``text``) that occur in ``text``."""
    pattern = leak_pattern(tuple(n for n in names if n.strip()))
    return [] if pattern is None else [m.group(0) for m in pattern.finditer(text)]


QUALIFIERS = frozenset("""acute chronic primary secondary left right bilateral unilateral mild moderate severe
    early late recurrent suspected probable possible likely uncomplicated complicated simple idiopathic
    left-sided right-sided new new-onset sudden-onset""".split())
GENERIC_HEADS = frozenset("""disease syndrome infection failure injury pain disorder inflammation condition
    reaction lesion mass deficiency crisis attack episode""".split())
_LINKS = re.compile(r"\s*(?:,|;|:|\bdue to\b|\bsecondary to\b|\bcaused by\b)\s*", re.IGNORECASE)
_SMALL_WORDS = frozenset({"of", "the", "and", "with", "to", "in", "on", "a", "an", "for", "by"})


def name_variants(name: str) -> list[str]:
    """``name`` and the other ways it is written (see the module doc), without duplicates."""
    name = name.strip()
    out, base = [name], name
    bracket = re.match(r"^(.*?)\s*\(([^)]*)\)\s*(.*)$", name)
    if bracket:
        base = f"{bracket[1]} {bracket[3]}".strip()
        out.append(base)
        inner = bracket[2].strip()
        if inner.isupper() or len(inner.split()) >= 2:  # an abbreviation or another name ("heart attack")
            out.append(inner)
    head = _LINKS.split(base)[0].strip()
    words = head.split()
    while len(words) > 1 and words[0].lower() in QUALIFIERS:
        words = words[1:]
    out.append(head)
    if len(words) > 1 or (words and words[0].lower() not in GENERIC_HEADS):
        out.append(" ".join(words))
    significant = [w for w in re.split(r"[\s\-]+", head) if w and w.lower() not in _SMALL_WORDS]
    if len(significant) >= 3 or (len(significant) == 2 and not any(w.lower() in QUALIFIERS for w in significant)
                                 and all(len(w) > 3 for w in significant)):
        out.append("".join(w[0] for w in significant).upper())  # DVT, AKI, COPD; MI, PE
    return [v for v in dict.fromkeys(out) if len(v) >= 2]


def leak_names(case: Case) -> list[str]:
    """What the case scanner looks for: the diagnosis names, and, when the case lists no
    synonyms (an imported case), the variants of its name. A curated case's synonyms are
    its author's list: variants of them would flag a patient's own chronic disease
    ("asthma" in the history of an asthma attack)."""
    if case.diagnosis.synonyms:
        return case.diagnosis_names
    return name_variants(case.diagnosis.name)


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside a dumped model, with its field path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


PATIENT_FIELDS = tuple(f for f in PatientProfile.model_fields if f != "case_id")


def case_leaks(case: Case) -> list[tuple[str, str]]:
    """(field, leaked name) for every place the patient or the examiner would give the diagnosis
    away; fields are paths into the case as written ("history[2].lay", "tests[0].result")."""
    visible = case.model_dump(include={*PATIENT_FIELDS, "exam"})
    visible["tests"] = [{"result": t.result} for t in case.tests]
    names = leak_names(case)
    leaks = []
    for path, text in _strings(visible, ""):
        leaks.extend((path, name) for name in find_leaks(text, names))
    return leaks


WITHHELD = "[withheld]"


def redact_case(case: Case) -> Case:
    """The case with every leaking mention in patient- and examiner-visible text replaced by
    ``WITHHELD`` (the diagnosis itself, the differential and the plan stay)."""
    pattern = leak_pattern(tuple(leak_names(case)))
    if pattern is None:
        return case
    data = case.model_dump()

    def scrub(value: object) -> object:
        if isinstance(value, str):
            return pattern.sub(WITHHELD, value)
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    for field in PATIENT_FIELDS + ("exam",):
        data[field] = scrub(data[field])
    for test in data["tests"]:
        test["result"] = scrub(test["result"])
    return Case.model_validate(data)


SAFE_REPLY = "I don't know, doctor. That's what I was hoping you could tell me."


def redact_leaks(reply: str, names: Iterable[str]) -> tuple[str, int]:
    """Drop each sentence of a patient reply that names the diagnosis; returns (reply, sentences dropped)."""
    pattern = leak_pattern(tuple(n for n in names if n.strip()))
    if pattern is None or not pattern.search(reply):
        return reply, 0
    sentences = re.split(r"(?<=[.!?])\s+", reply)
    kept = [s for s in sentences if not pattern.search(s)]
    return (" ".join(kept) if kept else SAFE_REPLY), len(sentences) - len(kept)


# ---- what sounds like a diagnosis -------------------------------------------------------------

# A run before "deficiency" or "disease" is at most 60 characters: unbounded, every hyphen or
# apostrophe of a long run would start a rescan of the rest of it.
_DIAGNOSIS_WORDS = (
    r"(?:acute |chronic )?(?:myocardial|cerebral|pulmonary) (?:infarction|embolism|embolus)",
    r"heart attacks?", r"infarct\w*", r"mini[- ]?strokes?", r"strokes?", r"cancers?", r"tumou?rs?",
    r"malignan\w*", r"pneumonia", r"\w*sepsis", r"ana?emia", r"pernicious", r"[\w-]{1,60} deficiency",
    r"adrenal (?:insufficiency|failure|crisis)", r"hypoadrenal\w*", r"myxo?edema", r"angle[- ]closure",
    r"confusional state", r"(?:upper |lower )?(?:gi|gastrointestinal) bleed\w*", r"falciparum", r"plasmodium",
    r"epstein[- ]barr", r"tubal pregnancy", r"afib", r"\w*embol\w+", r"diabetes", r"diabetic", r"asthma",
    r"emphysema", r"septic\w*",
    r"migraines?", r"malaria", r"thrombos[ie]s", r"blood clots?", r"clots?", r"aneurysms?",
    r"ha?emorrhages?", r"bleed on the brain", r"angina", r"gout", r"shingles", r"zoster", r"herpes",
    r"glandular fever", r"scarlet fever", r"rheumatic fever", r"influenza", r"flu(?!-like)", r"covid(?:-19)?",
    r"coronavirus", r"(?:stomach|peptic|gastric|duodenal|bleeding) ulcers?", r"gall ?stones?",
    r"kidney stones?", r"gall ?bladder", r"appendix",
    r"(?:chest|kidney|renal|urine|urinary|water|bladder|ear|throat|lung|skin|bowel|stomach|tummy|viral|bacterial|"
    r"blood|bone|brain|tract|yeast|fungal|soft tissue) infections?",
    r"sexually transmitted \w+", r"chlamydia", r"gonorrho?ea", r"syphilis", r"(?:hypo|hyper)thyroid\w*",
    r"(?:over|under)[- ]?active thyroid", r"graves'?", r"addison'?s?", r"hashimoto'?s?", r"cushing'?s?",
    r"coeliac", r"celiac", r"crohn'?s?", r"irritable bowel", r"diverticul\w+",
    r"(?:heart|kidney|renal|liver|respiratory|lung) failure", r"(?:atrial )?fibrillation", r"arrhythmias?",
    r"epilepsy", r"epileptic", r"parkinson'?s?", r"dementia", r"alzheimer'?s?", r"delirium", r"depression",
    r"depressive", r"bipolar", r"schizophreni\w*", r"panic attacks?", r"anxiety attacks?", r"eating disorder",
    r"anorexia", r"bulimia", r"croup", r"whooping cough", r"pertussis", r"measles", r"mumps", r"chicken ?pox",
    r"impetigo", r"eczema", r"lupus", r"ectopic", r"miscarriage", r"pre-?eclampsia", r"eclampsia",
    r"toxaemia", r"torsion", r"twisted (?:testicle|testis|bowel)", r"hernias?", r"intussusception",
    r"telescoping", r"concussion", r"fractures?", r"(?:food|carbon monoxide|blood) poisoning",
    r"carbon monoxide", r"poisoning", r"ketoacidosis", r"hypoglyc\w+", r"hyperglyc\w+", r"hypertension",
    r"hypotension", r"polymyalgia", r"sciatica", r"slipped disc", r"palsy", r"multiple sclerosis",
    r"sickle cell", r"ha?emophilia", r"cataracts?", r"mono", r"dissection", r"pneumothorax", r"aneurysms?",
    r"(?:kidney|renal) injury", r"(?:urinary|urine) retention", r"(?:ureteric|ureteral|kidney|bladder) (?:stones?|calculus)",
    r"scabies", r"angina", r"infarction", r"embolism", r"cancer", r"tumou?r", r"leuka?emia", r"influenza", r"flu",
    r"overdose", r"detachment", r"abruption", r"hyperemesis", r"cauda equina", r"stevens-johnson", r"seroconversion",
    r"lyme", r"malaria", r"tuberculosis", r"sarcoid\w*", r"hyperparathyroid\w*", r"guillain-barr[eé]",
    r"anaphyla\w+", r"positional vertigo", r"abscess", r"quinsy", r"(?:bowel|intestinal) obstruction", r"tonic-clonic",
    r"otitis(?: media| externa)?", r"cholestasis",
    # "-itis", "-osis", "-aemia", "-oma", "-opathy" words, less a few ordinary ones
    r"(?!(?:diagnos|prognos|hypnos|osmos|academ|diplom|arom|oklahom|tacom|homeopath|osteopath|naturopath)"
    r"\w*\b)[a-z]{3,}(?:itis|osis|aemia|emia|oma|opathy)",
    # "Lyme disease", "Addison's disease", "panic disorder" (not "a serious disease")
    r"(?!(?:the|a|an|some|any|this|that|serious|bad|horrible|terrible|awful|nasty|rare|my|your|his|her|their|"
    r"our|what|which|no|of|with|have|has|had|got)\b)[a-z']{3,60} (?:disease|syndrome|disorder)",
)
# Abbreviations are matched case-sensitively, so "ms" and "af" in ordinary words are not.
_DIAGNOSIS_ABBREVIATIONS = (
    "NSTEMI", "STEMI", "COPD", "AECOPD", "ADHF", "PTSD", "ADHD", "AACG", "UGIB", "UTI", "DVT", "TIA", "CVA", "IBS",
    "STI", "STD", "HIV", "AIDS", "DKA", "SAH", "GCA", "CHF", "ACS", "MDD", "OCD", "EBV", "RSV", "LTB", "HZ", "PE",
    "MI", "AF", "TB", "MS", "AKI", "AAA", "SJS", "PCOS", "BPPV", "HHS", "AML", "GORD", "GERD", "PID", "MND",
)
_DIAGNOSIS_TERMS = _whole_words(list(_DIAGNOSIS_WORDS), sorted(_DIAGNOSIS_ABBREVIATIONS, key=len, reverse=True))


def find_diagnosis_terms(text: str) -> list[str]:
    """Diagnosis-sounding terms in ``text`` (as written), in order, without repeats."""
    return list(dict.fromkeys(m.group(0) for m in _DIAGNOSIS_TERMS.finditer(str(text))))
