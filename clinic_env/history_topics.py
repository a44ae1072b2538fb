"""History-taking topics and the words a doctor uses to ask about them.

One vocabulary serves the case schema (each history fact names the topic it answers),
the offline patient (which recognises the topics in a doctor's question) and the case
rubric (which credits a question about a topic). Cue patterns are regular expressions matched on lower-cased text
with word boundaries, and include lay wording as well as clinical terms.
"""

from __future__ import annotations

import re
from typing import Literal

# Topics of the history of the presenting complaint (OPQRST and friends).
PresentingTopic = Literal[
    "onset",
    "duration",
    "location",
    "radiation",
    "character",
    "severity",
    "timing",
    "course",
    "aggravating",
    "relieving",
    "associated",
    "context",
    "previous_episodes",
    "treatment_tried",
    "impact",
    "concerns",
]

# Systems of the review of systems; a case answers for each in lay words.
RosSystem = Literal[
    "constitutional",
    "eyes",
    "ent",
    "cardiovascular",
    "respiratory",
    "gastrointestinal",
    "genitourinary",
    "neurological",
    "musculoskeletal",
    "skin",
    "psychiatric",
    "endocrine",
]

# Words that say what kind of question is asked, not what it is about. They are matched
# through the topic cues above; as a fact's keyword they would make every "when ...?"
# question return that one fact, so the case schema rejects them.
GENERIC_KEYWORDS: frozenset[str] = frozenset({
    "when", "where", "what", "how", "why", "who", "which", "before", "after", "worse", "better",
    "start", "started", "starting", "began", "begin", "describe", "taken", "take", "tried", "try",
    "previous", "previously", "happened", "happen", "think", "how bad", "how long", "out of ten",
    "affect", "bad", "ten", "see", "long", "anything", "else", "other", "ever", "first", "time",
    "help", "make", "feel", "like", "much", "any", "family", "medical", "history", "problem", "problems",
})


# Sections a reluctant patient is slow to talk about.
SENSITIVE_SECTIONS: frozenset[str] = frozenset({"sexual", "social"})

TOPIC_CUES: dict[str, tuple[str, ...]] = {
    "onset": (
        r"when did (it|this|the \w+|they|you|that)(?! last)",
        r"when .{0,20}(start|begin|began|come on|came on)",
        r"start(ed)? (suddenly|gradually)",
        r"(sudden|gradual)(ly)?",
        r"onset",
        r"how did (it|this|the( \w+){1,2}) (start|begin|come on)",
        r"what were you doing when",
        r"(did|has|have|was) (it|this|that|all this|things|the \w+|(your|his|her|their) \w+)( all| first)? "
        r"(start|begin|come on|kick off)",
        r"when did (he|she|you|they) (first )?(become|get|got|feel|fall|go|notice|start (feeling|to feel|being))",
        r"last (seen |known )?(normal|well)",
        r"last( seen)? (his|her|your|their|my) (normal|usual) self",
        r"(when|what time|what day) (was|were|did) (he|she|you|they) last (seen|well|normal|known|ok|okay|alright|"
        r"himself|herself|themselves|yourself)",
    ),
    "duration": (
        r"how long",
        r"since when",
        r"duration",
        r"how many (days|weeks|hours|months)",
        r"(going on|been like (this|that)|had (it|this|that|the \w+)) (for|since)",
    ),
    "location": (
        r"where (is|does|do|exactly|about|on|in|abouts)",
        r"which (part|side|area)",
        r"locat\w*",
        r"point to",
        r"where (is )?(it|the \w+)",
    ),
    "radiation": (
        r"radiat\w*",
        r"spread\w* (to|into|down|up|out|anywhere|elsewhere)",
        r"go (anywhere|elsewhere|to)",
        r"mov(e|es|ed|ing) (anywhere|to|around|elsewhere)",
        r"travel (anywhere|to)",
        r"(arm|jaw|back|shoulder)s?\b.{0,20}\b(too|as well|also)",
    ),
    "character": (
        r"(describe|character|nature|quality)\w*",
        r"what (does|is) (it|the \w+) (feel|like)",
        r"what's (it|the( \w+){1,2}) like",
        r"what (kind|type|sort) of (pain|feeling|cough)",
        r"what (do|did) you feel",
        r"walk me through",
        r"(typical|usual) (attack|episode|one)",
    ),
    "severity": (
        r"how (bad|severe|strong|intense|much does it hurt)",
        r"sever\w*",
        r"scale of",
        r"out of (10|ten)",
        r"rate (it|the \w+)",
        r"worst",
    ),
    "timing": (
        r"(constant|continuous|come and go|comes and goes|intermittent|on and off)",
        r"(time of day|at night|in the morning|mornings|night time)",
        r"how often",
        r"frequen\w*",
        r"pattern",
        r"episodes? last",
    ),
    "course": (
        r"(getting|got|gotten) (worse|better)",
        r"(changed|changing) (since|over)",
        r"(more|less) (frequent|often)",
        r"(been |is |it |they )spreading",
        r"progress\w*",
        r"same since",
    ),
    "aggravating": (
        r"(make|makes|made) (it|the \w+|things)? ?worse",
        r"worse (when|with|if|after)",
        r"aggravat\w*",
        r"trigger\w*",
        r"bring (it|them|this) on",
    ),
    "relieving": (
        r"(make|makes|made) (it|the \w+|things)?( any)? ?(better|easier)",
        r"easier",
        r"better (when|with|if|after)",
        r"reliev\w*",
        r"eas(e|es|ed) (it|the)",
        r"help(s|ed)? (it|the|at all)",
        r"anything help",
    ),
    "associated": (
        r"any(thing)? other symptoms?",
        r"other (symptoms|problems|complaints)",
        r"anything else",
        r"associated",
        r"along with",
        r"noticed anything (else|other)",
    ),
    "context": (
        r"what (were|was) you doing",
        r"(did|has) anything happen",
        r"before (it|this) (start|began|begin)",
        r"(injur|trauma|fall|fell|accident)\w*",
        r"anyone (else )?(sick|ill|around you)",
        r"(sick|ill) contacts?",
        r"eaten anything",
        r"(ill|unwell|poorly|sick|under the weather)\b.{0,25}\b(before( this| that| all this)?|beforehand|"
        r"last week|recently|lately|the week before)",
    ),
    "previous_episodes": (
        r"(ever )?(had|happened) (this|it|anything like this) before",
        r"(first|previous|prior) (time|episodes?)",
        r"happened before",
        r"like this before",
    ),
    "treatment_tried": (
        r"(tried|taken|take|used) anything",
        r"(tried|taken) any (medicine|medication|treatment|tablets|pills|painkillers)",
        r"what have you (tried|taken)",
        r"anything (else )?for (it|this|the)",
        r"(had|taken|given|tried|used) any (antibiotics|painkillers|pain relief|medicines?|treatment)",
        r"(using|taking|doing|done) for (it|this|the)",
    ),
    "impact": (
        r"(affect|affecting|impact)\w* (your|on)",
        r"(daily|day to day|day-to-day) (life|activities)",
        r"(work|sleep|school)\b.{0,15}\b(affected|manage)",
        r"stop(ped|ping)? you (from|doing)",
    ),
    "more": (
        r"tell me (a (bit|little) )?more",
        r"go on",
        r"carry on",
        r"(and )?then what",
        r"what else (happened|has been|is)",
    ),
    "concerns": (
        r"(worr(y|ied|ies|ying)|concern(ed|s|ing)?|afraid|scared|frighten\w*)",
        r"what do you think (it|is|might|could)",
        r"(ideas|expect\w*)",
        r"(going through|on) your mind",
        r"(were|are) you hoping",
        r"hoping (we|i|to|for|that)",
        r"(feel|feels|feeling) about",
    ),
}

# Sections of the rest of the history, each a field of the case, and the words that ask for them.
SECTION_CUES: dict[str, tuple[str, ...]] = {
    "past_history": (
        r"(past|previous|prior) (medical )?(history|illness\w*|problems|conditions)",
        r"medical (history|conditions|problems)",
        r"(any|other) (medical|health) (conditions|problems|issues)",
        r"(chronic|long.?term) (conditions|illness\w*|problems)",
        r"(been|ever) (in )?hospital",
        r"(operations?|surger(y|ies)|hospitali[sz]\w*)",
        r"ever had (?!(this|that|it|anything|something|the same|these|them|one|any of (these|them|this))\b)"
        r"(?!.{0,40}\b(like (this|that|it)|before)\b)",
        r"(diabet\w*|blood pressure|hypertension|asthma|heart (disease|problems)|cholesterol)\b.{0,10}\?",
        r"health (problems|conditions)",
        r"\bpmh\b",
    ),
    "medications": (
        r"medic(ation|ine)s?",
        r"(tablets|pills|prescriptions?|inhalers?|insulin|doses?)",
        r"(?<!recreational )(?<!street )(?<!illicit )(?<!injected )(?<!inject )(?<!party )drugs",
        r"(taking|take|on) any(thing)? (regularly|regular)",
        r"regular(ly)? (take|taking)",
        r"\bmeds\b",
        r"contracepti\w*",
    ),
    "allergies": (r"allerg\w*", r"(react|reaction)\w*( like this)? to (any|a|an|the)? ?(medic|drug|tablet|antibiotic)\w*"),
    "social": (
        r"(smok\w*|cigarettes?|tobacco|vap\w*)",
        r"(alcohol|beer|wine|units|booze)\b",
        r"(do|does|did) (you|he|she|they) (ever )?drink\b",
        r"drink (alcohol|much|at all|heavily)",
        r"how much (do|does|did) (you|he|she|they) drink",
        r"(recreational|street|illicit|party) drugs",
        r"(inject|injected|injecting) (any )?drugs",
        r"drug use",
        r"(occupation|job|work(ing)?( as)?|employ\w*)\b",
        r"(live|living) (alone|with)",
        r"who (do you live|lives) with",
        r"home (situation|life)",
        r"social history",
        r"(diet|exercise|physically active)",
    ),
    "family": (
        r"family (history|members?)",
        r"in (the|your|his|her) family",
        r"(runs?|run) in (the|your) family",
        r"(parents?|mother|father|mum|mom|dad|siblings?|brothers?|sisters?|relatives?) (had|have|has|with)",
        r"anyone in (your|the) family",
    ),
    "sexual": (
        r"sexual(ly)?",
        r"(sex|partners?|intercourse)\b",
        r"(condoms?|protection|unprotected)",
        r"\b(sti|std)s?\b",
    ),
    "travel": (
        r"travel\w*",
        r"(abroad|overseas|out of the country|been away|trip|flight|flew)",
    ),
    "obstetric": (
        r"(?<!what )(?<!that )(?<!this )(?<!same )(?<!short )(?<!long )periods?(?! of time)",
        r"(menstrua\w*|\blmp\b)",
        r"pregnan\w*",
        r"(last|missed) period",
        r"(bleeding|discharge) from (the )?vagina",
        r"(gravid|parity|miscarriage|deliver(y|ies)|children)",
    ),
    "review_of_systems": (
        r"review of systems",
        r"any (problems|trouble|issues) with (your|the)",
        r"(waterworks|bladder|bowels?)",
        r"(weight (loss|gain)|lost weight|gained weight|appetite)",
        r"(night sweats|fevers?|chills)",
    ),
}

ROS_CUES: dict[str, tuple[str, ...]] = {
    "constitutional": (r"(fevers?|temperatures?|chills|rigors|night sweats|sweats|weight (loss|gain)|lost weight|appetite|tired\w*|fatigue)",),
    "eyes": (r"(vision|eyesight|eyes?|blurr\w*|double vision)",),
    "ent": (r"(ears?|hearing|sore throat|throat|nose|runny nose|sinus\w*)",),
    "cardiovascular": (r"(palpitations?|heart racing|ankle swelling|swollen ankles|chest pain)",),
    "respiratory": (r"(cough\w*|short(ness)? of breath|breathless\w*|wheez\w*|breathing)",),
    "gastrointestinal": (r"(bowels?|diarrh\w*|constipat\w*|vomit\w*|nause\w*|tummy|stomach|stools?|poo)",),
    "genitourinary": (r"(waterworks|urin\w*|pee(ing)?|bladder|burning when you pass water|passing water)",),
    "neurological": (r"(headaches?|dizz\w*|numb\w*|tingling|weakness|faint\w*|seizures?|fits?)",),
    "musculoskeletal": (r"(joints?|muscles?|back pain|aches)",),
    "skin": (r"(rash\w*|skin|itch\w*|bruis\w*)",),
    "psychiatric": (r"(mood|low|depress\w*|anxi\w*|stress\w*|sleep\w*|suicid\w*|self.harm\w*|harm\w* yourself|"
                    r"end(ing)? your life|kill\w* yourself|hurt\w* yourself)",),
    "endocrine": (r"(thirst\w*|heat|cold intoleran\w*|hot or cold)",),
}

# Questions a patient must never answer with the diagnosis.
DIAGNOSIS_QUESTION_CUES: tuple[str, ...] = (
    r"what('s| is| do you think is) (wrong|my diagnosis|the diagnosis)",
    r"(your|my|the) diagnosis",
    r"what (do|did) (you|they|the doctors?) (think|say) (it|you|this) (is|was|have)",
    r"(do|did) (you|they) (know|think) what (it|this) is",
    r"(is|could|might) (it|this) be\b",
    r"(do|did) you think (you have|it is|it's|you've got)",
    r"(ever )?(been )?(told|diagnosed) (you have|with)",
    r"what (illness|disease|condition) (do you|you)",
    r"^\W*(is|could|might) (it|this|that)\b",
)


def compile_cues(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation with word boundaries, so a topic is a single regex search."""
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b", re.IGNORECASE)


TOPIC_PATTERNS: dict[str, re.Pattern[str]] = {k: compile_cues(v) for k, v in TOPIC_CUES.items()}
SECTION_PATTERNS: dict[str, re.Pattern[str]] = {k: compile_cues(v) for k, v in SECTION_CUES.items()}
ROS_PATTERNS: dict[str, re.Pattern[str]] = {k: compile_cues(v) for k, v in ROS_CUES.items()}
DIAGNOSIS_QUESTION_PATTERN: re.Pattern[str] = compile_cues(DIAGNOSIS_QUESTION_CUES)
