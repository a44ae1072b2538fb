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
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
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


# A keyword's pronoun stands for every person's: "harm yourself" is asked as "harming themselves"
# and told as "hurt myself", "end your life" as "ending his life".
# ("her" is also an object, "given her", so a keyword's "her" stays itself.)
_REFLEXIVE = ("yourself", "himself", "herself", "themselves", "themself", "myself", "oneself")
_POSSESSIVE = ("your", "his", "their", "my")
_PRONOUNS = {**dict.fromkeys(_REFLEXIVE, f"(?:{'|'.join(_REFLEXIVE)})"),
             **dict.fromkeys(_POSSESSIVE, f"(?:{'|'.join(_POSSESSIVE)}|her)")}
PRONOUNS = frozenset(_PRONOUNS)


def _word(word: str) -> str:
    return _PRONOUNS.get(word, re.escape(word))


def _keyword(keyword: str) -> str | None:
    """One keyword as a regex. Every word but the last is a prefix ("harm yourself" finds
    "harming yourself"), and the words may be hyphenated or closed up ("black out" finds
    "black-out" and "blackouts"). The last word is a prefix when it is longer than four letters or ends
    in ``*`` (a stem: "urin*" finds "urine" and "urinary"); a shorter one is a whole word with
    its inflections, because as a prefix it finds other words ("wee" in "week")."""
    words = normalize(keyword).split()
    if not words:
        return None
    *head, last = words
    if last in _PRONOUNS:
        tail = _PRONOUNS[last] + r"\b"
    elif last.endswith("*"):
        tail = re.escape(last.rstrip("*"))
    elif len(last) <= _SHORT:
        tail = _short_word(last) if last.isalpha() else re.escape(last) + r"(?!\w)"
    else:
        tail = re.escape(last)
    return r"\b" + "".join(_word(w) + r"\w*(?:\s+|-)?" for w in head) + tail


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
# punctuation; a list after a comma stays in scope ("no fever, cough or rash"), and a parenthesis
# is read with the clause around it ("avoid NSAIDs (ibuprofen)"). "Can't" and
# "won't" report an inability or a refusal, which in a consultation is mostly a symptom ("I can't
# get my breath", "he won't finish his bottles"), so they deny only as a refusal of a treatment
# ("aspirin can't be given", "antibiotics won't help", "we won't use aspirin"). A drug named as a
# cause, an allergy or a current medicine is not recommended either ("caused by lamotrigine",
# "allergic to penicillin", "he's on aspirin").
# A mention inside a condition states nothing either (ConText's "hypothetical"): "if you get any
# chest pain, call 999", "come back should you notice blood", "watch out for a stiff neck". A
# condition after its main clause ends at its first comma unless a list runs on ("come back if you
# get chest pain, breathlessness or a faint"; "oxygen only if SpO2 < 94%, immediate primary PCI"
# plans the PCI). A condition that opens the clause ends at "then", at a subject with
# a modal ("... you should ...") or at a comma: the last one when an instruction follows it (a
# list inside the condition: "if you get chest pain, breathlessness or a faint, call 999"),
# otherwise the first ("if more is needed, IV morphine, oxycodone or fentanyl").
# ``denied_just_before`` is the strict reading for policing a speaker (a false alarm costs a
# regenerated reply): only a first-person denial right before the mention counts.
#
# Every reading is linear in the length of the text: a text's clause breaks, negation cues and
# condition cues are found once (``_scopes``, cached per text) and each mention looks its clause
# and cues up by bisection; a culprit phrase is read within ``_CULPRIT_REACH`` characters of the
# mention. So a turn of "cough " x 8,000 costs one pass, not one pass per cough.

# A sentence ends at . ! ? or a line end, but not at a decimal point ("0.9% saline", "0.1 units/kg").
SENTENCE = re.compile(r"(?:[^.!?\n]|(?<=\d)\.(?=\d))+[.!?]*")
# Words that deny what follows them in the clause; "stop", "hold", "avoid" and "instead of" deny
# an action ("stop metformin", "withhold aspirin", "use X instead of Y"), as do a refusal ("we won't
# use aspirin") and what is only usual ("normally we'd give timolol, but ...").
NEGATION = re.compile(
    r"\b(?:no|not|never|none|nothing|nobody|nor|neither|without|denies|denied|deny|negative for|free of|"
    r"avoid|avoids|avoiding|contraindicated|instead of|rather than|replacing|in place of|(?<!n't )(?<!not )stop|stopping|"
    r"withhold|withholding|withheld|hold|holding|discontinue|discontinuing|suspend|suspending|cease|omit|"
    r"dispose of|get rid of|hand in|steer clear of|stay away from)\b"
    r"|\bd/c\b(?!\s+(?:home|to|from|today|tomorrow|when|once|after|planning|w/|with)\b)"  # US "discontinue"
    r"|\b(?!(?:ca|could|wo|would)n['\u2019]t)\w+n['\u2019]t\b"
    r"|\b(?:(?:ca|could|wo|would)n['\u2019]t|cannot)\s+(?:be\s+)?(?:use|using|give|giving|start|starting|prescribe|offer|"
    r"recommend|add|continue|restart|try)\b"
    r"|\b(?:normally|usually|ordinarily)\s+(?:we|I|you|she|he|they)(?:['\u2019]d|\s+would)\b"
    r"|(?:['\u2019]d|\bwould)\s+(?:normally|usually|ordinarily)\b",
    re.IGNORECASE,
)
# Words that deny what comes just before them: at most five words of the same clause (none that
# opens a condition: "give antibiotics if you don't improve" is no refusal) lead to one. A
# treatment put off ("ramipril restarts only once the kidneys recover", "metformin not until the
# scan is done") is not given now either.
_REFUSED = (r"(?:\w+n['\u2019]t|not|never|cannot)(?:\s+(?:be|been|really|always|usually))?\s+(?:given|used|started|prescribed|"
            r"offered|recommended|indicated|needed|necessary|required|appropriate|advised|advisable|safe|helpful|"
            r"useful|beneficial|effective|suitable|help|helps|work|works|reach|reaches)")
POST_NEGATION = re.compile(
    r"(?:\s+(?!(?:if|unless|when|whenever|because|until|so|that|while|before|after|since|then)\b)(?!(?<!such\s)as\b)"
    r"[\w'\u2019-]+){0,5}?\s+(?:" + _REFUSED + r"|contraindicated|unnecessary|inappropriate|unsafe|unsuitable"
    r"|(?<!not )(?<!not been )(?<!n't been )(?<!cannot be )(?<!can't be )(?<!yet to be )ruled out"
    r"|avoided|suspended|withheld|discontinued|on hold|off the table|(?:would|should) (?:normally|usually|ordinarily)"
    r"|(?:is|are)\s+out(?!\s+of)|(?:\w+n['\u2019]t|not)\s+(?:an?\s+|the\s+)?(?:[\w-]+\s+)?(?:options?|choices?)"
    r"|no longer (?:recommended|advised|used)|(?:is|are|would be) (?:dangerous|harmful|no use|no good|useless)"
    r"|(?:\w+n['\u2019]t|not) (?:be )?enough"
    r"|(?:must|should|has to|have to|needs? to) (?:be )?(?:stopped|stop|held|withheld|discontinued|avoided)"
    r"|(?:would|could) be (?:too )?risky"
    r"|not (?:the right|a good|the best|a safe) (?:thing|choice|idea|option|drug|treatment)"
    r"|not something (?:I|we)(?:['\u2019]d| would)? (?:recommend|advise|use|give|suggest)"
    r"|only (?:when|once|after|if)|(?:not|never) (?:until|before)|back (?:to|into) (?:the|a|your) (?:pharmacy|chemist))\b",
    re.IGNORECASE,
)
# A drug named as the cause of the problem, or as what the patient takes or reacts to, is not
# recommended: "caused by lamotrigine", "he's on aspirin and ibuprofen", "allergic to penicillin"
# (a few words before it, none an order such as "give" nor a "to": "switch the amoxicillin to
# co-amoxiclav" stops the first only); "penicillin allergy", "lamotrigine-induced",
# "amoxicillin caused anaphylaxis", "the combined pill raises your risk", "potassium is 5.9" (a
# measured value) (just after it).
_CULPRIT_BEFORE = re.compile(
    r"(?:\b(?:allergic|allergy|allergies|reaction|reactions|anaphylaxis|intolerant|intolerance|"
    r"sensitive|sensitivity|resistant|resistance|rash|reacted(?: badly)?|collapsed|reaction (?:you|he|she|they) had)"
    r"\s+(?:to|with|of)|\b(?:switch|switching|change|changing|swap|swapping)(?:\s+from)?|\b(?:caused|provoked|triggered|induced|precipitated|brought on|"
    r"tipped over)\s+by|\bdue to|\bbecause of|\bon top of|(?<!benefit )\bfrom"
    r"|(?:(?<!\bwe )\b(?:is|are|was|were|been)|(?<!\bwe)['\u2019](?:s|re))\s+(?:already\s+|currently\s+|still\s+)?"
    r"(?:on|taking))"
    r"\s+(?:(?!(?:give|giving|start|use|prescribe|continue|restart|add|begin|load|commence|offer|try|keep|to)\b)"
    r"[\w'\u2019-]+,?\s+){0,5}$",
    re.IGNORECASE,
)
# A culprit phrase ends at the mention and spans a cue and at most five words: read in the last
# 200 characters before it, so a long clause is not rescanned per mention.
_CULPRIT_REACH = 200
_CULPRIT_AFTER = re.compile(
    r"(?:-|\s+)(?:induced|allergy|allergic|reaction|intolerance|rash|hives|toxicity|levels?|concentrations?|overdose|"
    r"poisoning|anaphylaxis)\b"
    r"|(?:\s+[\w'\u2019-]+){0,3}?\s+gave (?:you|him|her|them|me)\s+(?:a\s+)?(?:rash|reaction|hives|swelling|"
    r"anaphylaxis)\b"
    r"|\s+(?:is|was|of|now)\s+(?:now\s+|still\s+|only\s+)?\d"
    r"|(?:\s+[\w'\u2019-]+){0,5}?\s+(?:causes|caused|triggers|triggered|tightens|worsens|worsened|makes|made|"
    r"provokes|provoked|raises|raised|increases|adds to|holds on to|sets off|set off|precipitated|strained|"
    r"damaged|harmed|injured|risks|worsen|irritate"
    r"|(?:cause|damage|harm) (?:the|your|his|her|their|a|an|more|further|bleeding|ulcers)"
    r"|(?:increase|raise)s? (?:the |your |his |her |their )?(?:risk|chance|likelihood))\b"
    r"|(?:\s+[\w'\u2019-]+){0,5}?\s+(?:could|can|may|might|would|will)\s+(?:also\s+)?(?:cause|trigger|tighten|"
    r"worsen|make|provoke|raise|increase|add to|hold on to|set off|precipitate|drop|lower|harm|damage|strain|"
    r"risk)\b",
    re.IGNORECASE,
)
# A refusal that points back at what the sentence has named: "acetazolamide is a sulfonamide and
# timolol could set off your asthma, so we won't use either", "ibuprofen and naproxen irritate the
# stomach: avoid them". It ends its clause (never "don't take them with alcohol") and reaches back
# only within its part of the sentence (up to a ";"). "it" is left out: too often it is the
# treatment being explained ("take it with food, don't stop it early").
ANAPHORIC_REFUSAL = re.compile(
    r"\b(?:(?:(?:\w+n['\u2019]t|not|never)\s+(?:be\s+)?(?:use|using|used|give|giving|given|take|taking|prescribe|"
    r"prescribing|start|starting|offer|offering|recommend|continue|restart)|avoid|avoiding|stop|stopping|"
    r"hold|holding|withhold|withholding|steer clear of)\s+(?:either(?: of (?:them|these|those))?|both(?: of them)?|"
    r"them|any of (?:them|these|those)|these|those)"
    r"|(?:neither|none)(?: of (?:them|these|those))?\s+(?:is|are|can|should|would|will)\b[^.;:!?\n]{0,40}?"
    r"|(?:both|all)(?: of (?:them|these|those))?\s+(?:are|would be)\s+(?:contraindicated|unsafe|dangerous|"
    r"off the table|ruled out))\b"
    r"(?=[^\w.;:!?\n]*(?:here|now|at all|for (?:you|him|her|now)|in (?:your|his|her) case|today)?[^\w;:!?\n]*(?:[.;:!?\n]|$))"
    # a judgement of them all, wherever the clause goes on: "... and laxatives - all inappropriate in obstruction"
    r"|\b(?:both|all)(?: of (?:them|these|those))?\s+(?:are\s+|would be\s+)?(?:contraindicated|unsafe|dangerous|"
    r"inappropriate|harmful)\b",
    re.IGNORECASE,
)
# Where an anaphoric refusal's reach ends: a sentence end, a line end or a ";".
_SEGMENT_END = re.compile(r"(?<!\d)\.|\.(?!\d)|[;!?\n]")
_ORDER_VERBS = (r"(?:start|restart|reduce|increase|give|continue|add|begin|use|take|keep|switch|change|prescribe|offer|"
                r"commence|resume|admit|refer|arrange|send|book|discharge|transfer)")
# A new order after a comma, where a denial before it stops reaching (not a clause break: a
# condition before it still holds, "if she still needs it, switch to enalapril").
_NEW_ORDER = re.compile(r",\s*(?=" + _ORDER_VERBS + r"\b)", re.IGNORECASE)
CLAUSE_BREAK = re.compile(
    r"(?<!\d)\.|\.(?!\d)|[;:!?\n()\[\]\"\u2014\u2013]|\s-\s|,\s*(?:but|and|so)\b"
    r"|,(?=\s*(?:we|I|you|he|she|they)(?:['\u2019](?:ll|d)|\s+(?:will|would|should|can|must|need))\b)"
    r"|\b(?:but|however|although|though|except|unless|whereas|because|apart from|other than)\b"
    # a second order: "stop the ibuprofen and start ramipril", "hold metformin and admit"
    r"|\b(?:and|then|or)\s+(?=" + _ORDER_VERBS + r"\b)",
    re.IGNORECASE,
)
# A list entry that withholds the drug it opens: "Ibuprofen: stop", "- Ramipril - withhold".
_LISTED_REFUSAL = re.compile(
    r"[*_]*\s*(?::|\s-|\u2013|\u2014)\s*[*_]*\s*(?:stop\w*|hold\w*|withh[oe]ld\w*|avoid\w*|discontinu\w*|suspend\w*|"
    r"omit\w*|cease\w*|contraindicated|not until|not before|not now|not yet|never|no)\b",
    re.IGNORECASE,
)
_LIST_MARKS = " \t-*\u2022.)0123456789"
_LIST_HEAD_REACH = 12  # the most characters of bullet or number before a list entry's first word


def _refused_in_list(text: str, start: int, end: int) -> bool:
    """Whether the mention opens a line, a ";" part or a sentence (after at most a bullet or number)
    and a ``_LISTED_REFUSAL`` follows it."""
    low = max(0, start - _LIST_HEAD_REACH)
    cut = max(text.rfind("\n", low, start), text.rfind(";", low, start))
    if cut < 0 and low > 0:
        return False
    return not text[cut + 1:start].strip(_LIST_MARKS) and _LISTED_REFUSAL.match(text, end) is not None


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split at . ! ? and line ends), each with its end mark."""
    return SENTENCE.findall(str(text))


def is_question(sentence: str) -> bool:
    """Asking is not asserting: a sentence ending in "?" states nothing."""
    return sentence.rstrip().endswith("?")


# How a question or a request for history opens when it has no "?": "Tell me about the pain",
# "I'd like to know when it started", "Can you describe it", "Any allergies" (after an act prefix,
# a short lead-in ending in a comma such as "I'm sorry to hear that," and fillers such as "and",
# "so", "thanks", "ok"). A list of words ("pain chest fever allergies") asks nothing.
_ASKING = re.compile(
    r"^\s*(?:ask:)?\s*(?:[^,.;:!?\n]{0,60},\s*)?"
    r"(?:(?:and|so|also|now|ok|okay|right|please|next|first|lastly|finally|hi|hello|hey|thanks|thank you|great|"
    r"good (?:morning|afternoon|evening)|i see|i understand|understood|got it|sorry)\b\W*)*"
    r"(?:how|what|when|where|which|who|whose|why|whether|is|are|was|were|do|does|did|have|has|had|can|could|"
    r"would|will|should|may|might|any|anything|tell|describe|explain|show|walk me|talk me|let me|let's|"
    r"i(?:['\u2019]d| would) like|i want|i need|i(?:['\u2019]m| am) going to ask|i wonder|i(?:['\u2019]d| would) "
    r"(?:also )?like to|may i|can i|could i|i(?:['\u2019]ll| will) (?:ask|need)|roughly|on a scale)\b",
    re.IGNORECASE,
)


def is_asking(sentence: str) -> bool:
    """Whether a sentence asks the patient something: it ends in "?" or opens as a question or a
    request does (``_ASKING``)."""
    return is_question(sentence) or _ASKING.match(sentence) is not None


@dataclass(frozen=True)
class _Scopes:
    """Where one text's clause breaks, negation cues, condition cues and refusals are, as sorted offsets."""

    break_starts: list[int]
    break_ends: list[int]
    cue_starts: list[int]
    cue_ends: list[int]
    conditions: list[re.Match[str]]  # ``CONDITIONAL`` matches
    condition_starts: list[int]  # ``CONDITIONAL`` match starts and ends, for bisection
    condition_ends: list[int]
    condition_stops: list[int]  # ``CONDITION_END`` match starts
    condition_stop_ends: list[int]
    commas: list[int]
    refusals: list[int]  # ``ANAPHORIC_REFUSAL`` match starts
    coordinators: list[int]  # starts of the words "or" and "and"
    segment_ends: list[int]  # ``_SEGMENT_END`` match starts
    orders: list[int]  # ``_NEW_ORDER`` match starts


@lru_cache(maxsize=1024)
def _scopes(text: str) -> _Scopes:
    """One pass of each cue pattern over ``text`` (cached: the grader and the readers ask
    about many mentions of the same text)."""
    breaks = [m.span() for m in CLAUSE_BREAK.finditer(text)]
    cues = [m.span() for m in NEGATION.finditer(text)]
    conditions = list(CONDITIONAL.finditer(text))
    stops = [m.span() for m in CONDITION_END.finditer(text)]
    return _Scopes([s for s, _ in breaks], [e for _, e in breaks], [s for s, _ in cues], [e for _, e in cues],
                   conditions, [m.start() for m in conditions], [m.end() for m in conditions],
                   [s for s, _ in stops], [e for _, e in stops],
                   [i for i, char in enumerate(text) if char == ","],
                   [m.start() for m in ANAPHORIC_REFUSAL.finditer(text)],
                   [m.start() for m in _COORDINATOR.finditer(text)],
                   [m.start() for m in _SEGMENT_END.finditer(text)],
                   [m.start() for m in _NEW_ORDER.finditer(text)])


def clause_bounds(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """(start, end) of the clause of ``text`` holding the span ``start:end``: from the end of
    the last break ending at or before ``start`` to the start of the first break at or after ``end``."""
    end = start if end is None else end
    scopes = _scopes(text)
    before = bisect_right(scopes.break_ends, start)
    after = bisect_left(scopes.break_starts, end)
    low = scopes.break_ends[before - 1] if before else 0
    high = scopes.break_starts[after] if after < len(scopes.break_starts) else len(text)
    return low, high


def clauses(text: str) -> list[str]:
    """The clauses of ``text`` (split where a negation's scope ends), stripped, empty ones left out."""
    return [c for c in (part.strip() for part in CLAUSE_BREAK.split(str(text))) if c]


def is_negated(text: str, start: int, end: int) -> bool:
    """Whether the mention ``text[start:end]`` is denied: a negation word earlier in its clause,
    a treatment refusal right after it ("... is contraindicated", "... won't help"), or the mention
    named as what the patient reacts to ("allergic to ...", "...-induced"). A cue is a
    ``NEGATION`` match of the whole text, so one glued to the mention ("nocough") is none."""
    low, high = clause_bounds(text, start, end)
    if _denied_in(text, start, end, low, high) or _refused_later(text, end) or _refused_in_list(text, start, end):
        return True
    # A parenthesis belongs to the clause around it: "avoid NSAIDs (ibuprofen, naproxen)",
    # "tablets (methotrexate) are not safe".
    if low > 0 and text[low - 1] == "(" and _cue_before(text, start, clause_bounds(text, low - 1)[0]):
        return True
    if _continues_denied(text, start, low):
        return True
    if high < len(text) and text[high] == ")":
        return POST_NEGATION.match(text, high + 1, clause_bounds(text, high + 1)[1]) is not None
    return False


# An aside that goes on with what the clause before it denied: "no heparin of any kind - including
# enoxaparin or flushes", "avoid codeine (she vomits with it), metoclopramide or laxatives".
_ASIDE = re.compile(r"\s*(?:including|includes|such as|e\.g\.|i\.e\.|like|especially|particularly|or|nor|even|"
                    r"incl\.?)\b", re.IGNORECASE)
_DASH_END = re.compile(r"(?:\u2014|\u2013|\s-)\s*$")


def _continues_denied(text: str, start: int, low: int) -> bool:
    """Whether the mention's clause goes on with the clause before it, which denies it: the clause
    follows a closing parenthesis (a cue before its opening counts, not one inside it) or is a dash
    aside opening with "including", "such as", "or" ... (a cue before the dash counts), and no new
    order comes between."""
    if low <= 0 or _order_between(text, low, start):
        return False
    if text[low - 1] == ")":
        opening = text.rfind("(", max(0, low - _CULPRIT_REACH), low - 1)
        return opening > 0 and _cue_before(text, opening, clause_bounds(text, opening)[0])
    dash = _DASH_END.search(text, max(0, low - 3), low)
    if dash and _ASIDE.match(text, low, start):
        return _cue_before(text, dash.start(), clause_bounds(text, dash.start())[0])
    return False


def _order_between(text: str, low: int, high: int) -> bool:
    """Whether a ``_NEW_ORDER`` starts in ``text[low:high]`` (by bisection)."""
    orders = _scopes(text).orders
    first = bisect_left(orders, low)
    return first < len(orders) and orders[first] < high


def _refused_later(text: str, end: int) -> bool:
    """Whether an ``ANAPHORIC_REFUSAL`` follows the mention ending at ``end`` within its part of
    the sentence (both looked up by bisection)."""
    scopes = _scopes(text)
    refusal = bisect_left(scopes.refusals, end)
    if refusal == len(scopes.refusals):
        return False
    stop = bisect_left(scopes.segment_ends, end)
    return stop == len(scopes.segment_ends) or scopes.segment_ends[stop] > scopes.refusals[refusal]


def _cue_before(text: str, start: int, low: int) -> bool:
    """Whether a ``NEGATION`` cue of the text lies in ``text[low:start]`` (found by bisection) with
    no new order after a comma between them ("stop the ibuprofen, start omeprazole")."""
    scopes = _scopes(text)
    order = bisect_left(scopes.orders, start) - 1
    if order >= 0 and scopes.orders[order] >= low:
        low = scopes.orders[order]
    last = bisect_right(scopes.cue_ends, start) - 1  # the last cue ending before the mention
    return last >= 0 and scopes.cue_starts[last] >= low


def _denied_in(text: str, start: int, end: int, low: int, high: int) -> bool:
    """``is_negated`` within the clause ``text[low:high]``."""
    return (_cue_before(text, start, low) or POST_NEGATION.match(text, end, high) is not None
            or _CULPRIT_BEFORE.search(text, max(low, start - _CULPRIT_REACH), start) is not None
            or _CULPRIT_AFTER.match(text, end, high) is not None or _refused_list(text, start, end, low, high))


# The first items of a list whose last item a refusal follows: "thrombolysis, heparin and
# antiplatelets are contraindicated" denies thrombolysis too (each item at most three words; the
# list opens its clause or follows a comma, a colon or "the", "any", "all", "both", "either").
_LIST_HEAD = re.compile(r"(?:\s*,\s*(?:[\w'\u2019-]+\s+){0,2}[\w'\u2019-]+){1,6}?\s*,?\s+(?:and|or|nor)(?=\s)",
                        re.IGNORECASE)
_LIST_OPENING = re.compile(r"(?:[,:]|\b(?:the|any|all|both|either))\s*$", re.IGNORECASE)


def _refused_list(text: str, start: int, end: int, low: int, high: int) -> bool:
    """Whether the mention ``text[start:end]`` opens a list (``_LIST_HEAD``) that a refusal follows."""
    opens = not text[low:start].strip() or _LIST_OPENING.search(text, max(low, start - 12), start) is not None
    head = _LIST_HEAD.match(text, end, high) if opens else None
    return head is not None and POST_NEGATION.match(text, head.end(), high) is not None


CONDITIONAL = re.compile(
    r"\b(?:if|in case|in the event|should (?:you|she|he|they|it|things|symptoms)|whether|were you to|whenever|"
    r"otherwise|watch(?: out)? for|look(?: out)? for|keep an eye (?:out )?for)\b",
    re.IGNORECASE,
)
_SUBJECT_MODAL = (r"\b(?:you|we|i|they|she|he)(?:['\u2019](?:ll|d)|\s+(?:will|would|can|could|should|must|may|"
                  r"might|need to|ought to))\b")
CONDITION_END = re.compile(rf"\bthen\b|{_SUBJECT_MODAL}", re.IGNORECASE)
INSTRUCTION = re.compile(
    r",\s*(?:call|come|go|seek|return|ring|phone|dial|take|stop|give|start|get|see|tell|contact|attend|let|use|"
    rf"avoid|consider|continue|keep|rest|try|book|make|please|i|we|you|this|that|it)\b|{_SUBJECT_MODAL}",
    re.IGNORECASE,
)
_COORDINATOR = re.compile(r"\b(?:or|and)\b", re.IGNORECASE)
_AFTER_COMMA = re.compile(r",\s*$")
_CLAUSE_OPENING = re.compile(r"[\s,]*(?:(?:and|so|or|also|but)\s+)?", re.IGNORECASE)


def _first_stop(text: str, scopes: _Scopes, begin: int, high: int) -> int | None:
    """Where the first ``CONDITION_END`` match in ``text[begin:high]`` starts, looked up among the
    text's matches (searched afresh only when one of them straddles ``begin``)."""
    i = bisect_left(scopes.condition_stops, begin)
    if i and scopes.condition_stop_ends[i - 1] > begin:
        found = CONDITION_END.search(text, begin, high)
        return found.start() if found else None
    return scopes.condition_stops[i] if i < len(scopes.condition_stops) and scopes.condition_stops[i] < high else None


def _condition_end(text: str, cue: re.Match[str], low: int, high: int) -> int:
    """Where the condition opened by ``cue`` ends in its clause ``text[low:high]``."""
    scopes = _scopes(text)
    stop = _first_stop(text, scopes, cue.end(), high)
    high = high if stop is None else stop
    first = bisect_left(scopes.commas, cue.end())
    after = bisect_left(scopes.commas, high)
    if not _CLAUSE_OPENING.fullmatch(text, low, cue.start()):
        # The condition follows its main clause: it ends at its first comma unless a list runs on
        # ("if you get chest pain, breathlessness or a faint"); a new item of the plan does not
        # ("oxygen only if SpO2 < 94%, immediate primary PCI"). After a lead-in ("after delivery, if
        # she still needs it, switch to enalapril") it holds to the clause's end.
        if first == after or _AFTER_COMMA.search(text, max(low, cue.start() - 4), cue.start()):
            return high
        comma = scopes.commas[first]
        listed = bisect_right(scopes.coordinators, comma)
        return high if listed < len(scopes.coordinators) and scopes.coordinators[listed] < high else comma
    if first == after:
        return high
    last = scopes.commas[after - 1]
    return last if INSTRUCTION.match(text, last, high) else scopes.commas[first]


def is_hypothetical(text: str, start: int, end: int | None = None) -> bool:
    """Whether the mention at ``start`` sits inside a condition of its clause ("if you get any
    chest pain, ..."): see the rules above. The last condition cue ending by ``start`` is looked
    up among the text's cues, so each mention costs a bisection, not a rescan of its clause."""
    low, high = clause_bounds(text, start, end)
    scopes = _scopes(text)
    last = bisect_right(scopes.condition_ends, start) - 1
    if last < 0 or scopes.conditions[last].start() < low:
        return False
    return start < _condition_end(text, scopes.conditions[last], low, high)


# An explicit refusal to give what follows: "do not give IM adrenaline", "we won't start
# warfarin", "no need to prescribe antibiotics" (at most two words between it and the mention).
# Narrower than a denial: a cause, a level or "stop ... if" is no refusal of the treatment.
_REFUSAL = re.compile(
    r"\b(?:do not|don['\u2019]t|never|must not|mustn['\u2019]t|should not|shouldn['\u2019]t|will not|won['\u2019]t|"
    r"(?:we|I)(?:['\u2019]m| am| are|['\u2019]re) not going to|no need to)\s+(?:be\s+)?"
    r"(?:give|giving|use|using|start|starting|prescribe|prescribing|administer|administering|offer|offering)"
    r"(?:\s+[\w'\u2019-]+){0,2}\s+$",
    re.IGNORECASE,
)


def is_refused(text: str, start: int, end: int) -> bool:
    """Whether the mention ``text[start:end]`` is a treatment the statement explicitly refuses to
    give (``_REFUSAL`` just before it in its clause), in a clause with no condition ("if he
    improves, don't give a second dose" refuses nothing now)."""
    low, _ = clause_bounds(text, start, end)
    return (_REFUSAL.search(text, max(low, start - _CULPRIT_REACH), start) is not None
            and condition_in(text, start, end) is None)


def condition_in(text: str, start: int, end: int) -> re.Match[str] | None:
    """The first ``CONDITIONAL`` cue anywhere in the clause of the mention ``text[start:end]``,
    before or after it ("go to A&E if it gets worse"), looked up by bisection; None if there is none.
    Wider than ``is_hypothetical``: a main clause under a condition is advice, not a plan."""
    low, high = clause_bounds(text, start, end)
    scopes = _scopes(text)
    first = bisect_left(scopes.condition_starts, low)
    if first < len(scopes.conditions) and scopes.condition_starts[first] < high:
        return scopes.conditions[first]
    return None


# A treatment put off to a later date is not given now: "cardioversion in 3 weeks", "DC cardioversion
# after at least three weeks of anticoagulation", "once she is anticoagulated" (a few words of its
# clause after it). Not a denial: "see your GP in a week" arranges the review.
_DEFERRED = re.compile(
    r"(?:\s+(?!(?:if|unless|because|so|that|while|before|then)\b)[\w'\u2019-]+){0,4}?\s+(?:"
    r"(?:in|after) (?:at least |about |around |another )?(?:\d+|a|one|two|three|four|six|eight|twelve|several|a few) "
    r"(?:weeks?|months?)|(?:once|after)(?: [\w'\u2019-]+){0,4}? anticoagulat\w*)\b",
    re.IGNORECASE,
)


def is_deferred(text: str, start: int, end: int) -> bool:
    """Whether the mention ``text[start:end]`` is put off to a later date (``_DEFERRED`` after it in its clause)."""
    return _DEFERRED.match(text, end, clause_bounds(text, start, end)[1]) is not None


def is_affirmed(text: str, start: int, end: int) -> bool:
    """Whether the mention ``text[start:end]`` is asserted now: neither denied, nor only supposed, nor put off."""
    return not is_negated(text, start, end) and not is_hypothetical(text, start, end) and not is_deferred(
        text, start, end)


# A statement that the patient has something: "you've had", "you're getting", "she reports",
# "the patient has", "given your"; not a wish or a plan ("make sure you have"). Questions are told
# apart by their "?", not here.
_HAVING = (r"(?:have|had|has|got|keep|keeps|kept|developed|noticed|reports?|reported|mentioned|said|describes?|described|"
           r"told me|complain\w*|"
           r"experienced|having|getting|suffering|suffered|feeling|coughing|passing|vomiting|bringing up)")
_PATIENT_SUBJECT = (
    r"(?<!sure )(?<!ensure )(?<!so that )\b(?:(?:you|she|he|they)(?:['\u2019](?:ve|re|s))?"
    r"(?=(?:\s+(?:also|already|still|recently|just|now|been|really|clearly|are|is|were|was))*\s+" + _HAVING + r"\b)"
    r"|(?:the\s+)?patient(?=(?:\s+(?:also|already|still|now|is|was))*\s+" + _HAVING + r"\b)"
    r"|(?:given|because of|due to|with)\s+(?:your|his|her|their|the patient['\u2019]s)\b)"
)


def about_patient(mention: str) -> str:
    """A pattern for a statement that the patient has ``mention`` (a regex): a patient subject
    earlier in the clause ("you've had ...", "given your ..."), the mention as group ``mention``
    so negation and conditions are read around it ("you've had no fever")."""
    return rf"{_PATIENT_SUBJECT}[^,.;:!?\n]{{0,60}}?(?P<mention>{mention})"


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
# The most spaces a ``_DENIAL_CUE`` match holds: two in the cue ("never really had"), two
# between the words after it, one at its end.
_DENIAL_SPACES = 5


def denied_just_before(text: str, start: int) -> bool:
    """Whether a plain denial ends right before position ``start`` of ``normalize``d ``text``
    (see ``_DENIAL_CUE``); stricter than ``is_negated``, which reads a whole clause. A denial
    ends in a space and spans at most ``_DENIAL_SPACES`` spaces, so only that tail is searched."""
    low, _ = clause_bounds(text, start)
    if start <= low or text[start - 1] != " ":
        return False
    tail = start - 1
    for _ in range(_DENIAL_SPACES):
        tail = text.rfind(" ", low, tail)
        if tail < 0:
            tail = low - 1
            break
    return _DENIAL_CUE.search(text[tail + 1:start]) is not None
