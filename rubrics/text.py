"""Clinical text understanding shared by everything that reads consultation text without a model:
the offline patient, the LLM patient's fact checker, the offline grader, the scripted doctor,
the leak scanner and the diagnosis-match reward.

One place, so a fix reaches every reader: a keyword (``keyword_pattern``) is read the same way
by the patient that answers and by the checker that polices an LLM patient; a phrase
(``phrase_pattern``, ``whole_words``) the same way by the grader and the leak scanner; and a
denial (``clauses``, ``is_negated``) the same way by the grader reading a doctor and the doctor
reading a patient.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
# What a short word may grow into and stay itself: "wee" -> "weeing", "pain" -> "painful",
# "weak" -> "weakness"; never "week", "early" (ear), "fluid" (flu) or "fatigue" (fat).
_ENDINGS = "s|es|d|ed|ing|y|ie|ies|ied|ier|iest|iness|er|ers|ness|ful|less|ish|en"
_SHORT = 4
_VOWELS = "aeiou"


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, single spaces: the form keywords are matched in."""
    return re.sub(r"\s+", " ", str(text).lower().translate(APOSTROPHES)).strip()


def plain_words(text: str) -> str:
    """Lower-case words and numbers only, single-spaced: for comparing names ("Pneumonia (CAP)"
    and "pneumonia cap" are equal)."""
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


def phrase_pattern(phrase: str) -> str:
    """A phrase as a regex: its words in order with any spacing or hyphens between them
    ("chest x-ray" finds "chest x ray"); a trailing ``*`` lets the last word run on
    ("breath*" finds "breathless")."""
    prefix = phrase.endswith("*")
    words = [re.escape(w) for w in re.split(r"[\s\-]+", phrase.rstrip("*").strip()) if w]
    return r"[\s\-]+".join(words) + (r"\w*" if prefix else "")


def whole_words(alternatives: Sequence[str]) -> str:
    """Regex alternatives found only as whole words: "cap" is not in "kneecap"."""
    return r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)"


def _short_word(word: str) -> str:
    """A short whole word with its inflections, spelling changes included: a dropped final e
    ("ache" -> "aching", "achy"), y to i ("dry" -> "dried") and a doubled final consonant
    ("run" -> "running", "fat" -> "fatty")."""
    forms = [f"{re.escape(word)}(?:{_ENDINGS})?"]
    if word.endswith("e"):
        forms.append(f"{re.escape(word[:-1])}(?:ing|y|ier|iest|iness|ied|ies)")
    elif word.endswith("y"):
        forms.append(f"{re.escape(word[:-1])}(?:ied|ies|ier|iest|iness)")
    elif len(word) >= 3 and word[-1] not in _VOWELS + "wxy" and word[-2] in _VOWELS and word[-3] not in _VOWELS:
        forms.append(f"{re.escape(word + word[-1])}(?:ing|ed|er|ers|y|ier|iest|en)")
    return "(?:" + "|".join(forms) + r")\b"


def _keyword(keyword: str) -> str | None:
    """One keyword as a regex. Every word but the last is a prefix ("harm yourself" finds
    "harming yourself"). The last word is a prefix when it is longer than four letters or ends
    in ``*`` (a stem: "urin*" finds "urine" and "urinary"); a shorter one is a whole word with
    its inflections, because as a prefix it finds other words ("wee" in "week")."""
    words = normalize(keyword).split()
    if not words:
        return None
    *head, last = words
    if last.endswith("*"):
        tail = re.escape(last.rstrip("*"))
    elif len(last) <= _SHORT:
        tail = _short_word(last) if last.isalpha() else re.escape(last) + r"(?!\w)"
    else:
        tail = re.escape(last)
    return r"\b" + "".join(re.escape(w) + r"\w*\s+" for w in head) + tail


@lru_cache(maxsize=16384)
def _compiled(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    phrases = [p for p in map(_keyword, keywords) if p is not None]
    return re.compile("|".join(f"(?:{p})" for p in phrases), re.IGNORECASE) if phrases else None


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """A pattern finding any of ``keywords`` in text (``None`` when there are none); match it
    against ``normalize``d text so curly apostrophes and spacing do not matter."""
    return _compiled(tuple(keywords))


# ---- sentences, clauses and negation ---------------------------------------------------------
#
# Every reader that asks "is this mention affirmed or denied?" uses the scope rules below, so
# the grader reading a doctor, the scripted doctor reading a patient and the checker policing
# an LLM patient agree on what a sentence says. The approach is NegEx's (Chapman et al., 2001),
# cut to what consultations need: a negation word earlier in the mention's clause denies it
# ("denies chest pain", "no fever, cough or rash"), and so does a short treatment refusal after
# it ("thrombolysis is contraindicated", "antibiotics won't help", "activated charcoal should not
# be given"). A clause ends where the sense turns ("but", "however", "unless", "because", ", so",
# ", and", a comma before a new subject: "rather than NSAIDs, I'll start ...") and at sentence
# punctuation; a list after a comma stays in scope ("no fever, cough or rash"). "Can't" and
# "won't" report an inability or a refusal, which in a consultation is mostly a symptom ("I can't
# get my breath", "he won't finish his bottles"), so they deny only as a refusal of a treatment
# ("aspirin can't be given", "antibiotics won't help", "we won't use aspirin"). A drug named as a
# cause, an allergy or a current medicine is not recommended either ("caused by lamotrigine",
# "allergic to penicillin", "he's on aspirin").
# ``denied_just_before`` is the strict reading for policing a speaker (a false alarm costs a
# regenerated reply): only a first-person denial right before the mention counts.

SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
# Words that deny what follows them in the clause; "stop", "hold", "avoid" and "instead of" deny
# an action ("stop metformin", "withhold aspirin", "use X instead of Y"), as do a refusal ("we won't
# use aspirin") and what is only usual ("normally we'd give timolol, but ...").
NEGATION = re.compile(
    r"\b(?:no|not|never|none|nothing|nobody|nor|neither|without|denies|denied|deny|negative for|free of|"
    r"avoid|avoids|avoiding|contraindicated|instead of|rather than|(?<!n't )(?<!not )stop|stopping|"
    r"withhold|withholding|withheld|hold|holding|discontinue|discontinuing|suspend|suspending|cease|omit)\b"
    r"|\b(?!(?:ca|could|wo|would)n['\u2019]t)\w+n['\u2019]t\b"
    r"|\b(?:ca|could|wo|would)n['\u2019]t\s+(?:be\s+)?(?:use|using|give|giving|start|starting|prescribe|offer|"
    r"recommend|add|continue|restart|try)\b"
    r"|\b(?:normally|usually|ordinarily)\s+(?:we|I)(?:['\u2019]d|\s+would)\b"
    r"|\b(?:we|I)(?:['\u2019]d|\s+would)\s+(?:normally|usually|ordinarily)\b",
    re.IGNORECASE,
)
# Words that deny what comes just before them: at most four words of the same clause (none that
# opens a condition: "give antibiotics if you don't improve" is no refusal) lead to one.
_REFUSED = (r"(?:\w+n['\u2019]t|not|never)(?:\s+(?:be|been|really|always|usually))?\s+(?:given|used|started|prescribed|"
            r"offered|recommended|indicated|needed|necessary|required|appropriate|advised|advisable|safe|helpful|"
            r"useful|beneficial|effective|suitable|help|helps|work|works)")
POST_NEGATION = re.compile(
    r"(?:\s+(?!(?:if|unless|when|whenever|because|until|so|that|as|while|before|after|since|then)\b)"
    r"[\w'\u2019-]+){0,4}?\s+(?:" + _REFUSED + r"|contraindicated|unnecessary|inappropriate|unsafe|ruled out)\b",
    re.IGNORECASE,
)
# A drug named as the cause of the problem, or as what the patient takes or reacts to, is not
# recommended: "caused by lamotrigine", "he's on aspirin and ibuprofen", "allergic to penicillin"
# (a few words before it, none an order such as "give"); "penicillin allergy", "lamotrigine-induced",
# "amoxicillin caused anaphylaxis", "the combined pill raises your risk" (just after it).
_CULPRIT_BEFORE = re.compile(
    r"(?:\b(?:allergic|allergy|allergies|reaction|reactions|reacted badly|anaphylaxis|intolerant|intolerance|"
    r"sensitive|sensitivity)\s+(?:to|with|of)|\b(?:caused|provoked|triggered|induced|precipitated|brought on|"
    r"tipped over)\s+by|\bdue to|\bbecause of|\bon top of|(?<!benefit )\bfrom"
    r"|(?:\b(?:is|are|was|were|been)|['\u2019](?:s|re))\s+(?:already\s+|currently\s+|still\s+)?(?:on|taking))"
    r"\s+(?:(?!(?:give|giving|start|use|prescribe|continue|restart|add|begin|load|commence|offer|try|keep)\b)"
    r"[\w'\u2019-]+,?\s+){0,5}$",
    re.IGNORECASE,
)
_CULPRIT_AFTER = re.compile(
    r"(?:-|\s+)(?:induced|allergy|allergic|reaction|intolerance|toxicity)\b"
    r"|(?:\s+[\w'\u2019-]+){0,5}?\s+(?:(?:could|can|may|might|would|will)\s+(?:also\s+)?)?(?:causes?|caused|"
    r"triggers?|triggered|tighten|tightens|worsens?|worsened|makes?|made|provokes?|provoked|raises?|raised|"
    r"increases?|adds? to|holds? on to|set off|sets off|precipitated?)\b",
    re.IGNORECASE,
)
CLAUSE_BREAK = re.compile(
    r"[.;:!?\n()\[\]\"\u2014\u2013]|\s-\s|,\s*(?:but|and|so)\b"
    r"|,(?=\s*(?:we|I|you|he|she|they)(?:['\u2019](?:ll|d)|\s+(?:will|would|should|can|must|need))\b)"
    r"|\b(?:but|however|although|though|except|unless|whereas|because|apart from|other than)\b",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split at . ! ? and line ends), each with its end mark."""
    return SENTENCE.findall(str(text))


def is_question(sentence: str) -> bool:
    """Asking is not asserting: a sentence ending in "?" states nothing."""
    return sentence.rstrip().endswith("?")


def clause_bounds(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """(start, end) of the clause of ``text`` holding the span ``start:end``."""
    end = start if end is None else end
    low, high = 0, len(text)
    for brk in CLAUSE_BREAK.finditer(text):
        if brk.end() <= start:
            low = brk.end()
        elif brk.start() >= end:
            high = brk.start()
            break
    return low, high


def clauses(text: str) -> list[str]:
    """The clauses of ``text`` (split where a negation's scope ends), stripped, empty ones left out."""
    return [c for c in (part.strip() for part in CLAUSE_BREAK.split(str(text))) if c]


def is_negated(text: str, start: int, end: int) -> bool:
    """Whether the mention ``text[start:end]`` is denied: a negation word earlier in its clause,
    a treatment refusal right after it ("... is contraindicated", "... won't help"), or the mention
    named as what the patient reacts to ("allergic to ...", "...-induced")."""
    low, high = clause_bounds(text, start, end)
    return (NEGATION.search(text, low, start) is not None or POST_NEGATION.match(text, end, high) is not None
            or _CULPRIT_BEFORE.search(text, low, start) is not None or _CULPRIT_AFTER.match(text, end, high) is not None)


# A denial just before a mention: "no fever", "haven't had any fever", "I don't get chills",
# "never had a ...", "neither ... nor chills". At most two words between the cue and the mention,
# and none that turn it into something else ("can't get rid of the cough", "no more than") or
# start another clause ("no fever and a cough").
_DENIAL_CUE = re.compile(
    r"(?:\bno|\bnone of|\bneither|\bnor|\bwithout any"
    r"|\bnever(?: really)? (?:had|have|get|got|noticed|felt|been|seen|experienced)"
    r"|(?:n't|\bnot)(?: really| actually| even| ever| yet)? (?:had|have|having|got|get|getting|noticed|noticing|"
    r"felt|feel|feeling|seen|experienced|been|any|a|an))"
    r"(?: (?!(?:rid|over|used|enough|better|worse|more|longer|idea|way|matter|doubt|able|much|chance|time|"
    r"and|but|so|then|only|just|because|while|though)\b)[\w'-]+){0,2} $")


def denied_just_before(text: str, start: int) -> bool:
    """Whether a plain denial ends right before position ``start`` of ``normalize``d ``text``
    (see ``_DENIAL_CUE``); stricter than ``is_negated``, which reads a whole clause."""
    low, _ = clause_bounds(text, start)
    return _DENIAL_CUE.search(text[low:start]) is not None
