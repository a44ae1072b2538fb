"""A small condition knowledge base for the scripted baseline doctor.

Written from general clinical knowledge, not copied from the case library (lay wording was
checked against train-split transcripts only). It has two parts:

* ``FEATURES``: clinical features the doctor can hear, see or measure. Each is a regex
  over lay and clinical wording, says where it can be found (``h`` the patient's words,
  ``e`` examination reports, ``t`` test reports), which exam systems or tests reveal it
  (so a normal exam or test can count as its absence), and, for symptoms, a plain-words
  question that asks about it.
* ``CONDITIONS``: each condition's presenting-complaint cues, weighted features (a
  negative weight means the feature argues against it), features whose *absence*
  counts against it, exam systems, key tests (catalogue names), first-line plan,
  disposition, and obvious age / sex / pregnancy priors.

Specs are compact strings (``"fever:3 cough:2"``) so the whole table reads like a
clinician's crib sheet; ``validate()`` checks every reference at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clinic_env.exam_systems import EXAM_SYSTEMS
from clinic_env.investigations import lookup


@dataclass(frozen=True)
class Feature:
    """One finding. ``sources``: h (history), e (exam), t (tests); ``kind`` "risk" features
    are also read from the background history (past history, medicines, social)."""

    key: str
    pattern: re.Pattern[str]
    question: str | None = None
    sources: str = "h"
    systems: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    kind: str = "symptom"


@dataclass(frozen=True)
class Condition:
    """A diagnosis the doctor can name, with what it needs to see to believe it."""

    name: str
    specialty: str
    cues: tuple[str, ...]
    features: dict[str, float]
    against: dict[str, float]
    exam: tuple[str, ...]
    tests: tuple[str, ...]
    plan: str
    disposition: str
    ages: tuple[float, float] = (0.0, 120.0)
    sex: str | None = None
    pregnancy: str | None = None  # "required": only in known pregnancy; "possible": early, often unknown


def _f(key: str, pattern: str, question: str | None = None, sources: str = "h",
       systems: str = "", tests: str = "", kind: str = "symptom") -> Feature:
    """A feature from readable strings; systems space-separated, tests ';'-separated."""
    compiled = re.compile(r"\b(?:" + pattern + r")", re.IGNORECASE)
    return Feature(key, compiled, question, sources, tuple(systems.split()),
                   tuple(t.strip() for t in tests.split(";") if t.strip()), kind)


# Shorthand used in patterns.
_PAIN = r"(?:pain\w*|ache|aches|aching|hurts?|hurting|sore|discomfort|agony|cramp\w*|tender\w*)"

FEATURE_LIST: tuple[Feature, ...] = (
    # ---- general / constitutional ------------------------------------------------------
    _f("fever", r"fevers?|feverish|febrile|high temperature|temperatures|(?:a|running a|had a|got a|"
       r"with a) temperature|(?:any|my|his|her|no) temperature|burning up|boiling|hot and (?:cold|shivery)|shiver\w*|"
       r"chills|rigou?rs|sweats", "Have you had a fever, or felt hot and shivery?", kind="symptom"),
    _f("sweating", r"sweat(?:y|ing|ed)|pouring with sweat|clammy|diaphore\w*|drenched",
       "Have you been sweaty or clammy?"),
    _f("night_sweats", r"night sweats|sweat\w* (?:at|in the) night|soak\w* (?:the|my) (?:sheets|bed)"),
    _f("weight_loss", r"(?:lost|losing|dropped) (?:a lot of |some |a bit of |\w+ (?:kilos?|pounds|"
       r"stone) (?:in )?)?weight|weight loss|(?:lost|dropped) (?:\w+ )?(?:kilos?|kg|pounds|stone)|"
       r"weight (?:has )?(?:dropped|fallen|gone down)|clothes (?:are |feel )?(?:loose|baggy|hanging)",
       "Have you lost any weight without trying?"),
    _f("weight_gain", r"(?:put on|gained|gaining|putting on) (?:\w+ )?(?:weight|kilos?|pounds|stone)|weight gain|"
       r"weight has gone up"),
    _f("fatigue", r"tired\w*|fatigue\w*|exhaust\w*|no energy|low energy|wiped out|letharg\w*|worn out|drained|"
       r"washed out|run down|weary", "Have you been feeling unusually tired or low on energy?"),
    _f("loss_of_appetite", r"(?:off|gone off) (?:my|his|her) (?:food|feeds)|(?:no|lost|loss of|poor|reduced|little|"
       r"losing) (?:my |his |her )?appetite|not (?:hungry|eating)|(?:don'?t|doesn'?t) feel like eating|can'?t (?:face|"
       r"eat) (?:food|anything)|off (?:his|her) food", "How has your appetite been, have you gone off your food?"),
    _f("pale", r"pale|pallor|pasty|white as a sheet|grey|gray|ashen|washed[- ]out colour",
       sources="he", systems="general"),
    _f("dehydration", r"dry (?:mucous membranes|mouth|lips|tongue)|sunken (?:eyes|fontanelle)|reduced skin turgor|"
       r"(?:prolonged|delayed) capillary refill|capillary refill (?:time )?(?:of )?[3-9]|dehydrat\w*|"
       r"fewer wet nappies|dry nappies", sources="he", systems="general heent"),
    # ---- respiratory -------------------------------------------------------------------
    _f("cough", r"cough\w*", "Have you had a cough?"),
    _f("sputum", r"sputum|phlegm|mucus|bringing (?:\w+ )?up|productive|green stuff|yellow stuff|thick stuff|gunk",
       "Are you bringing up any phlegm, and what colour is it?"),
    _f("haemoptysis", r"cough\w* (?:up )?(?:some )?blood|blood in (?:my|the|his|her) (?:phlegm|sputum|spit)|"
       r"blood-?stained|blood-?streaked|ha?emoptysis|streaks? of blood|specks? of blood|blood\b.{0,15}(?:when|"
       r"as) (?:i|he|she|you) cough", "Have you coughed up any blood?"),
    _f("breathless", r"short(?:ness)? of breath|out of breath|breathless\w*|can'?t (?:catch|get) (?:my|his|"
       r"her) breath|struggl\w* (?:to|for) breath\w*|dyspno\w*|puffed|winded|hard to breathe|(?:trouble|difficulty|"
       r"difficult\w*) (?:with )?breathing|breathing (?:is )?(?:fast|hard|difficult|laboured)|fast breathing|"
       r"breathing (?:really )?fast|gasping|breathe properly|can'?t breathe", "Have you been short of breath?"),
    _f("wheeze", r"wheez\w*|whistl\w*|prolonged expirat\w*",
       "Have you noticed any wheezing or whistling in your chest?", sources="he", systems="respiratory"),
    _f("chest_tightness", r"tight\w* (?:in|across|of) (?:my|the|his|her) chest|chest (?:feels |is |gets |"
       r"goes )?(?:tight|tighter)"),
    _f("night_cough", r"(?:cough\w*|wheez\w*|tight\w*).{0,30}(?:at night|in the night|wakes? (?:me|him|her) up|"
       r"early (?:hours|morning))|(?:at night|in the night).{0,30}(?:cough\w*|wheez\w*)",
       "Does the cough or wheeze wake you up?"),
    _f("asthma_triggers", r"(?:cold air|exercise|running|pollen|dust|cats?|dogs?|smoke|fumes|hay ?fever|animals|pets|"
       r"a cold)\b.{0,30}(?:worse|sets? (?:it|me|him|her) off|trigger\w*|brings? (?:it )?on|makes? (?:it|me))|"
       r"(?:worse|set off|trigger\w*).{0,30}(?:cold air|exercise|running|pollen|dust|cats?|smoke|fumes)",
       "Do things like exercise, cold air, pollen or pets set off your breathing?"),
    _f("loss_of_smell", r"(?:lost|loss of|can'?t|cannot) (?:my |his |her )?(?:sense of )?(?:smell|taste)|anosmi\w*|"
       r"taste\w* (?:of )?nothing"),
    _f("barking_cough", r"bark\w*|like a (?:dog|seal)|seal|croup\w*|(?:noisy|harsh|squeaky|rasping|crowing|"
       r"high-pitched) (?:breath\w*|noise)|stridor\w*|whoop\w*",
       "Does the cough sound like a bark, or is there a noisy squeak with each breath in?",
       sources="he", systems="respiratory general"),
    _f("hoarse", r"hoarse\w*|lost (?:his|her|my) voice|croaky|raspy voice"),
    _f("recession", r"(?:subcostal|intercostal|sternal|tracheal|chest) (?:wall )?(?:recession|retraction|indrawing|"
       r"tug\w*)|recession|nasal flaring|grunting|head bobbing|sucking in (?:under|between) (?:his|her) ribs|"
       r"ribs? (?:are )?sucking in", sources="he", systems="respiratory general"),
    _f("crackles", r"crackles|crepitations|creps|rales", sources="e", systems="respiratory"),
    _f("focal_chest_signs", r"bronchial breath\w*|dull (?:to )?percussion|dullness|(?:dull|"
       r"stony) (?:percussion )?note|increased vocal (?:resonance|fremitus)|reduced (?:air entry|breath sounds|"
       r"expansion) (?:at|in|over|on) (?:the )?(?:left|right)", sources="e", systems="respiratory"),
    _f("pneumothorax_signs", r"hyper-?resonan\w*|tracheal deviation|trachea (?:is )?deviated|(?:absent|reduced|"
       r"diminished) breath sounds.{0,40}(?:left|right)|(?:left|right).{0,30}(?:absent|reduced|"
       r"diminished) breath sounds", sources="e", systems="respiratory"),
    _f("hypoxia", r"cyanos\w*|cyanotic|blue (?:lips|around the lips)", sources="e", systems="vitals general"),
    # ---- cardiovascular ----------------------------------------------------------------
    _f("chest_pain", r"chest (?:pain|ache|discomfort|pressure|heav\w*|hurts?|tight\w*)|(?:pain|ache|aching|discomfort|"
       r"pressure|heav\w*|crushing|squeez\w*|tight\w*|weight|burning|stabbing|sharp).{0,40}(?:chest|breastbone|"
       r"sternum)|retrosternal|angina", "Have you had any pain or discomfort in your chest?"),
    _f("chest_pain_exertional", r"(?:walk\w*|stairs|hills?|exert\w*|exercise|climb\w*|carry\w*|hurry\w*|"
       r"lifting).{0,50}(?:tight\w*|pain|ache|discomfort|pressure|heav\w*)|(?:tight\w*|pain|ache|discomfort|pressure|"
       r"heav\w*).{0,50}(?:walk\w*|stairs|hills?|exert\w*|exercise|climb\w*)",
       "Does the discomfort come on with walking uphill or exertion?"),
    _f("rest_relief", r"(?:settl\w*|goes? off|went off|eases?|eased|better|stops?|wears? off).{0,30}(?:rest|stop\w*|"
       r"sit down|sitting down)|(?:rest|resting|stop\w*) (?:and )?(?:it )?(?:settles|eases|goes)",
       "Does it settle if you stop and rest?"),
    _f("radiation_arm_jaw", r"(?:into|to|down|up|through) (?:my |his |her |the )?(?:left |right )?(?:arm|jaw|neck|"
       r"shoulder)s?|(?:jaw|arm)s?\b.{0,20}(?:heavy|ache|aching|pain|hurts?)|radiat\w* to (?:the )?(?:left )?(?:arm|"
       r"jaw|neck)", "Does the pain spread to your arm, jaw or neck?"),
    _f("tearing_back", r"tearing|ripping|(?:through|into|to) (?:my|the|his|her) back.{0,30}(?:shoulder blades)?|"
       r"between (?:my|the|his|her) shoulder blades", "Is it a tearing pain going through to your back?"),
    _f("pleuritic", r"(?:deep breath\w*|breath\w* in|breathe in|inhal\w*|cough\w*|sneez\w*).{0,30}(?:hurts?|pain\w*|"
       r"sharp|catch\w*|stab\w*|agony)|(?:hurts?|pain\w*|sharp|catch\w*|stab\w*|worse).{0,30}(?:deep breath\w*|"
       r"breath\w* in|breathe in|inhal\w*)|pleuritic", "Does it hurt more on taking a deep breath in?"),
    _f("positional_chest", r"lean\w* forward|sit\w* (?:up and )?forward|(?:sitting|sit) up (?:helps|makes it better|"
       r"eases)|(?:pain|it)\b.{0,20}(?:worse|bad) (?:when|if) (?:i )?(?:lie|lying) (?:flat|down|back)",
       "Is it eased by sitting forward, and is lying flat uncomfortable?"),
    _f("orthopnoea", r"(?:breathless|short of breath|can'?t breathe|breathing|puffed).{0,30}(?:lying|lie|lay) (?:flat|"
       r"down)|(?:extra|more|three|two|\d) pillows|prop\w* (?:myself |himself |herself )?up|sleep\w* (?:sitting|"
       r"upright|in a chair)|orthopno\w*", "Do you get breathless lying flat, or need extra pillows to sleep?"),
    _f("pnd", r"wak\w* (?:up )?(?:at night |in the night )?(?:gasping|breathless|short of breath|fighting for breath|"
       r"coughing and breathless)|paroxysmal nocturnal|open the window", "Do you ever wake up gasping for breath?"),
    _f("ankle_swelling", r"(?:ankles?|legs|feet|foot)\b.{0,25}(?:swell\w*|swollen|puffy|bigger|fat)|(?:swell\w*|"
       r"swollen|puffy)\b.{0,25}(?:ankles?|legs|feet)|(?:pitting |peripheral |ankle |leg )o?edema|sacral o?edema",
       "Have your ankles or legs been swollen?", sources="he", systems="cardiovascular musculoskeletal"),
    _f("calf_swelling", r"calf\b.{0,30}(?:swell\w*|swollen|pain\w*|tender\w*|sore|ache|hurts?|bigger|larger|tight)|"
       r"(?:swell\w*|swollen|pain\w*|sore|ache|tender\w*)\b.{0,30}(?:calf|calves)|one leg.{0,20}(?:swollen|bigger|"
       r"fatter)|(?:leg|calf) (?:is )?(?:\d+ ?cm )?(?:larger|bigger)|\d+ ?cm (?:larger|bigger|greater)",
       "Have you had any pain or swelling in one of your calves?",
       sources="he", systems="musculoskeletal cardiovascular"),
    _f("palpitations", r"palpitation\w*|heart(?:beat)?\s+(?:is |was |keeps |starts |goes |just )?(?:rac|pound|thump|"
       r"flutter|skip|jump|bang|hammer|thud)\w*|heart(?:beat)? (?:is |was )?(?:going|beating) (?:really |so )?(?:fast|"
       r"hard|quick\w*)|racing heart|flutter\w*|pounding heart|heartbeat (?:is |was |feels )?(?:irregular|fast|"
       r"all over)|irregular heartbeat|(?:feel|hear) (?:my|his|her) heart",
       "Have you noticed your heart racing, pounding or fluttering?"),
    _f("syncope", r"faint\w*|passed out|pass out|passing out|blacked out|black(?:ed)? out|collaps\w*|"
       r"lost consciousness|loss of consciousness|keel\w* over|came round|come round|went down",
       "Have you fainted or passed out?"),
    _f("dizziness", r"dizz\w*|light-?headed\w*|woozy|giddy|unsteady|off balance",
       "Have you felt dizzy or light-headed?"),
    _f("irregular_pulse", r"irregularly irregular|irregular (?:pulse|rhythm|heart\w*)",
       sources="e", systems="vitals cardiovascular"),
    _f("raised_jvp", r"jvp (?:is )?(?:raised|elevated)|raised jvp|elevated jvp|distended neck veins",
       sources="e", systems="neck cardiovascular"),
    _f("murmur", r"murmur\w*", sources="e", systems="cardiovascular"),
    _f("pericardial_rub", r"(?:pericardial )?friction rub|pericardial rub|\brub\b",
       sources="e", systems="cardiovascular"),
    _f("pulsatile_mass", r"pulsatile (?:abdominal )?mass|expansile (?:abdominal )?mass",
       sources="e", systems="abdominal"),
    # ---- neurology ---------------------------------------------------------------------
    _f("headache", r"head\s?aches?|(?:pain|hurts?|ache|aching|throbb\w*|pound\w*|banging)\b.{0,20}(?:head|temples?|"
       r"forehead)\b|head (?:hurts|pain|is (?:killing|pounding|throbbing|splitting))|migraines?",
       "Have you had any headaches?"),
    _f("sudden_onset", r"sudden\w*|all of a sudden|out of (?:nowhere|the blue)|all at once|instant\w*|within seconds|"
       r"in (?:a few )?seconds|like a (?:switch|light)|abrupt\w*|(?:came|come) on (?:straight away|immediately|"
       r"at once)", "Did it come on suddenly, within seconds?"),
    _f("gradual_onset", r"gradual\w*|slowly|crept|creep\w*|built up|build(?:s|ing)? up|over (?:a few|several|"
       r"a couple of) (?:days|weeks|hours)|worse and worse"),
    _f("worst_ever", r"worst (?:headache|pain).{0,30}(?:life|ever|had)|worst (?:headache|pain) ever|never (?:felt|"
       r"had) (?:anything|a pain|a headache|pain) like|like (?:being|a|someone|i'?d been|i was|he'?d been|"
       r"she'?d been) (?:hit|kicked|struck|smack\w*|whack\w*)|hit (?:me |him |her )?(?:on|in|over|"
       r"at) the (?:back of (?:the|my|his|her) )?head|thunderclap", "Is this the worst headache you have ever had?"),
    _f("visual_aura", r"zig-?zag\w*|shimmer\w*|flashing lights|sparkl\w*|flicker\w*|(?:blind|dark) spot|\baura|"
       r"visual (?:disturbance|symptoms)|wavy lines|broken glass|kaleidoscope",
       "Do you see zigzag lines or flashing lights just ahead of the headache?"),
    _f("photophobia", r"(?:light|bright\w*)\b.{0,25}(?:hurts?|unbearable|bother\w*|sensitive|can'?t stand|painful|"
       r"too much)|(?:sensitive|sensitivity) to (?:the )?light|photophob\w*|(?:hurts?|bother\w*|can'?t stand|"
       r"unbearable) (?:the |my )?(?:light|brightness)|light and noise|dark(?:ened)? room|curtains (?:closed|shut|"
       r"drawn)", "Does bright light bother you?", sources="he", systems="heent neurological"),
    _f("unilateral_headache", r"one side of (?:my|his|her|the) head|(?:left|right) side of (?:my|his|her|the) head|"
       r"(?:left|right) temple|behind (?:my|the|one|his|her) (?:left |right )?eye|unilateral|half of (?:my|the|his|"
       r"her) head|one-sided"),
    _f("throbbing", r"throb\w*|pound\w*|puls\w*|banging|like (?:my|a) heartbeat"),
    _f("band_headache", r"\bband\b|tight\w* (?:band )?(?:around|round)|pressure (?:around|all round|all over)|vice|"
       r"squeez\w* (?:my|his|her) head|both sides of (?:my|his|her|the) head|all over (?:my|the|his|her) head|"
       r"across (?:my|the|his|her) forehead", "Does it feel like a tight band or pressure around your head?"),
    _f("neck_stiffness", r"stiff neck|neck (?:is |feels |was )?(?:really |very )?(?:stiff|rigid)|can'?t (?:bend|move|"
       r"put|touch) (?:my|his|her) (?:neck|chin|head)|neck stiffness|nuchal rigidity|meningism\w*|"
       r"kernig'?s?(?: sign)? (?:is )?(?:positive|present)|positive kernig|"
       r"brudzinski'?s?(?: sign)? (?:is )?(?:positive|present)|positive brudzinski|resist\w* (?:neck )?flexion|"
       r"neck flexion (?:is )?(?:painful|limited|resisted)",
       "Is your neck stiff, or painful to bend your chin to your chest?", sources="he", systems="neck neurological"),
    _f("confusion", r"confus\w*|muddled|disorient\w*|not (?:making sense|himself|herself|with it|right in (?:the|his|"
       r"her) head)|drows\w*|hard to (?:wake|rouse)|talking nonsense|agitat\w*|delirious|not with it|gcs (?:1[0-4]|"
       r"[3-9])\b|obtunded",
       "Has there been any confusion or drowsiness?", sources="he", systems="general neurological mental_state"),
    _f("weakness_one_side", r"(?:arm|leg|hand|side)s?\b.{0,30}(?:weak\w*|floppy|dead|numb\w*|hangs|hanging|useless|"
       r"won'?t (?:work|move|do)|can'?t (?:lift|move|use|grip|hold))|(?:weak\w*|numb\w*|paraly\w*|"
       r"floppy)\b.{0,30}(?:arm|leg|hand|one side|right side|left side)|one side of (?:his|her|my) body|hemipar\w*|"
       r"hemipleg\w*|drag\w* (?:his|her|my) (?:right |left )?leg|dropped (?:his|her|my|the) (?:cup|tea|mug)",
       "Have you noticed any weakness or numbness in your face, arm or leg?"),
    _f("facial_droop", r"(?:face|mouth|smile|eye(?:lid)?)\b.{0,30}(?:droop\w*|dropped|drooping|fallen|lopsided|"
       r"won'?t close|can'?t close|slipped)|(?:droop\w*|lopsided)\b.{0,20}(?:face|mouth|smile)|can'?t (?:close|"
       r"shut) (?:my|his|her) eye|lopsided|dribbl\w*|drool\w*|facial (?:droop|weakness|palsy)",
       "Has your face drooped on one side?", sources="he", systems="neurological heent"),
    _f("forehead_involved", r"(?:forehead|brow|eyebrow)\b.{0,30}(?:weak|can'?t (?:raise|wrinkle|move)|not mov\w*|"
       r"involv\w*|flat)|unable to (?:raise|wrinkle) (?:the |his |her )?(?:eyebrow|forehead)|lower motor neuron\w*|"
       r"whole (?:of the )?(?:left|right) (?:side of the )?face", sources="he", systems="neurological heent"),
    _f("forehead_sparing", r"forehead[- ]sparing|sparing (?:of )?the forehead|"
       r"upper motor neuron\w* (?:facial )?(?:weakness|pattern)", sources="e", systems="neurological"),
    _f("speech_difficulty", r"slurr\w*|(?:speech|talking|words)\b.{0,30}(?:wrong|jumbled|muddled|slurr\w*|strange|"
       r"funny|gibberish|not right|won'?t come|don'?t come|garbled|mixed up)|gibberish|can'?t (?:get (?:his|her|"
       r"my) words out|speak|talk properly|find (?:the|his|her|my) words)|word-?finding|dysphasi\w*|aphasi\w*|"
       r"dysarthri\w*|(?:difficulty|trouble) (?:speaking|talking|with (?:his|her|my) words)",
       "Has there been any difficulty speaking or finding words?", sources="he", systems="neurological"),
    _f("focal_deficit", r"(?:facial|arm|leg|limb|hand|grip) (?:weakness|droop)|weakness.{0,30}(?:arm|leg|face|side|"
       r"limb)|power [0-4]/5|hemipar\w*|hemipleg\w*|hemianopi\w*|extensor plantar|plantars? (?:is |are )?extensor|"
       r"upgoing plantar|pronator drift|visual field (?:loss|defect)|inattention|neglect|nihss",
       sources="e", systems="neurological"),
    _f("visual_disturbance", r"blurr\w*|double vision|see(?:ing)? double|(?:lost|loss of|losing) (?:the |my |his |"
       r"her )?(?:vision|sight)|vision\b.{0,20}(?:went|gone|dark|blurr\w*|funny|strange|dim|grey)|"
       r"spots (?:in front of|before) (?:my|her|his) eyes|flashing lights|can'?t see|curtain",
       "Have you had any problems with your vision?"),
    _f("numbness_tingling", r"numb\w*|tingl\w*|pins and needles|paraesthesi\w*|paresthesi\w*",
       "Any numbness or tingling anywhere?"),
    _f("seizure", r"\bfits?\b|seizures?|convuls\w*|(?:jerk\w*|shak\w*|twitch\w*)\b.{0,20}(?:arms?|legs|all over|body|"
       r"limbs|whole)|bit (?:his|her|my) tongue|tongue[- ]?bit\w*|bitten (?:his|her|my) tongue|wet (?:himself|herself|"
       r"myself)|incontinen\w*|froth\w*|(?:eyes )?roll\w* (?:back|up)|went stiff|stiffened",
       "Was there any shaking, jerking or tongue biting?"),
    _f("post_ictal", r"(?:drowsy|sleepy|confused|muddled|groggy|out of it|didn'?t know where)\b.{0,40}(?:after|"
       r"afterwards|for (?:an|half an|a few|about) (?:hour|minutes))|afterwards\b.{0,30}(?:drowsy|sleepy|confused|"
       r"muddled|groggy)|slept for (?:hours|ages)", "Were you drowsy or confused afterwards?"),
    _f("resolved", r"(?:went|gone|wore|passed) (?:away|off)|(?:fully |completely )?(?:resolved|recovered|"
       r"back to normal)|lasted (?:about |only )?(?:\w+ )?(?:minutes|a few minutes|\d+ minutes)|only lasted|(?:now|"
       r"back to) normal|better within"),
    _f("vertigo", r"spinning|room (?:is |was )?(?:spin\w*|moving|going round)|vertigo|everything (?:spins|is spinning|"
       r"moving|going round)", "Does it feel as if the room is spinning?"),
    _f("positional_vertigo", r"(?:turn\w*|roll\w*|look\w* up|lie down|lying down|get\w* (?:up|out of bed)|"
       r"move\w* (?:my|his|her) head|over in bed|tip\w* (?:my|his|her) head)\b.{0,40}(?:spin\w*|dizz\w*|vertigo)|"
       r"(?:spin\w*|dizz\w*|vertigo)\b.{0,40}(?:turn\w*|roll\w*|look\w* up|lie down|lying down|over in bed|"
       r"move\w* (?:my|his|her) head|tip\w* (?:my|his|her) head)",
       "Is the spinning brought on by turning over in bed or moving your head?"),
    _f("brief_episodes", r"(?:few|couple of|\d+|thirty|twenty|ten) seconds|(?:less than|under) a minute|"
       r"a minute or so|seconds at a time"),
    _f("hearing_loss", r"ringing|tinnitus|hearing (?:loss|is worse|has gone|went)|can'?t hear|deaf\w*|muffled"),
    _f("nystagmus", r"dix-?hallpike.{0,40}(?:positive|provok\w*|reproduc\w*|nystagmus)|positive dix|(?:rotatory|"
       r"torsional|geotropic|horizontal) nystagmus|nystagmus", sources="e", systems="neurological heent"),
    _f("jaw_claudication", r"(?:jaw|chewing)\b.{0,30}(?:ache\w*|pain\w*|hurts?|tired|claudication)|(?:ache\w*|pain\w*|"
       r"hurts?)\b.{0,30}(?:when|while) (?:i |he |she )?(?:chew|eat)", "Does your jaw ache with chewing?"),
    _f("scalp_tenderness", r"scalp\b.{0,30}(?:tender|sore|hurts?|painful)|(?:tender|sore|hurts?|"
       r"painful)\b.{0,30}scalp|(?:brush\w*|comb\w*) (?:my|his|her) hair|temple\w*\b.{0,20}(?:tender|sore)",
       "Is your scalp tender, for example brushing your hair?"),
    _f("temporal_artery", r"(?:tender|thickened|pulseless|non-?pulsatile|beaded) (?:\w+ )?temporal arter\w*|"
       r"temporal arter\w*\b.{0,20}(?:tender|thicken\w*|pulseless|non-?pulsatile|beaded)",
       sources="e", systems="heent neurological"),
    _f("girdle_stiffness", r"(?:shoulders?|hips?|thighs)\b.{0,30}(?:stiff\w*|ache\w*|aching)|stiff\w* (?:in the|"
       r"first thing in the) mornings?"),
    _f("tremor", r"shak\w*|trembl\w*|tremor\w*|jittery",
       "Have you noticed any shakiness or tremor?", sources="he", systems="neurological general"),
    _f("exertion_onset", r"lifting|straining|(?:during|having) sex|intercourse|on the toilet|at the gym|weights|"
       r"exercis\w*"),
    # ---- gastrointestinal --------------------------------------------------------------
    _f("abdominal_pain", r"(?:tummy|belly|stomach|abdom\w*|abdo|gut|navel|belly ?button|pelvi\w*|groin)\b.{0,20}" + _PAIN
       + r"|" + _PAIN + r".{0,30}(?:tummy|belly|stomach|abdom\w*|navel|belly ?button|pelvi\w*|groin|iliac)\b"
       r"|tummy ?ache|stomach ?ache|bellyache|colic",
       "Have you had any pain in your tummy?"),
    _f("rif_pain", r"(?:lower|bottom) right|right lower|right (?:side of (?:my|his|her|the) )?(?:tummy|belly|abdomen)|"
       r"right iliac|right lower quadrant|\brlq\b"),
    _f("migratory_pain", r"(?:moved|shifted|went|settled|travel\w*|moving|now) (?:down )?(?:to|into|"
       r"in) (?:the )?(?:lower right|bottom right|right side|right lower)|started (?:off )?(?:around|in the middle|"
       r"near|by) (?:my|his|her|the) (?:belly ?button|navel|middle)|around (?:my|his|her|the) (?:belly ?button|navel)",
       "Has the pain moved, for example from around your belly button to the lower right side?"),
    _f("ruq_pain", r"upper right|right upper|right side under (?:my|the|his|her) ribs|under (?:my|the|his|"
       r"her) right ribs|right upper quadrant|\bruq\b|right hypochondri\w*|under (?:my|the|his|her) ribs on the right",
       "Is the pain under your ribs on the right side?"),
    _f("epigastric_pain", r"epigastr\w*|top of (?:my|his|her|the) (?:stomach|tummy|belly)|upper (?:stomach|tummy|"
       r"belly|abdomen|abdominal)|pit of (?:my|the|his|her) stomach|(?:below|under|bottom of) (?:my|the|his|"
       r"her) breastbone", "Is the pain high up in the middle of your tummy?"),
    _f("lower_abdo_pain", r"lower (?:tummy|belly|abdomen|stomach|abdominal)|low down in (?:my|the|her|his) (?:tummy|"
       r"belly|abdomen|stomach)|pelvi\w* pain|pain in (?:my|the|her) pelvis|(?:left|right) lower (?:tummy|belly|"
       r"abdomen|side)|suprapubic|above (?:my|the|her) pubic|(?:bottom|lower) (?:left|right) (?:of|side of) (?:my|the|"
       r"her) (?:tummy|belly|abdomen)", "Is the pain low down in your tummy?"),
    _f("back_radiation", r"(?:through|into|to|going) (?:to )?(?:my|his|her|the) back|bor\w* through|goes? through to",
       "Does the pain go through to your back?"),
    _f("shoulder_tip", r"shoulder[- ]tip|(?:right|left) shoulder (?:blade)?\b.{0,20}(?:pain|ache|hurts?)|"
       r"pain.{0,30}(?:right|left)? ?shoulder"),
    _f("meal_related", r"(?:after|with|following) (?:a |big |heavy |fatty |large )?(?:eating|meals?|food|dinner|tea|"
       r"supper|takeaway|curry)|fatty|greasy|fried|(?:eating|food|meals?) (?:makes|brings|sets)|worse (?:when|"
       r"if) (?:i )?(?:eat|lie|bend)", "Does it come on after meals, especially fatty food?"),
    _f("heartburn", r"heartburn|acid\w*|burning\b.{0,30}(?:chest|throat|stomach|breastbone)|indigestion|reflux|"
       r"sour taste|bitter taste|regurgitat\w*|dyspepsia", "Do you get heartburn or an acid taste in your mouth?"),
    _f("antacid_use", r"gaviscon|rennie|antacid\w*|omeprazole|lansoprazole|esomeprazole|\bppi\b", kind="risk"),
    _f("nausea_vomiting", r"nause\w*|vomit\w*|throw\w* up|threw up|thrown up|being sick|been sick|was sick|is sick|"
       r"feel\w* (?:really |so |a bit )?sick|felt sick|retch\w*|queasy|emesis|can'?t keep (?:anything|food|fluids|"
       r"milk|feeds) down|brought (?:his|her) (?:milk|feeds?) (?:back )?up", "Have you felt sick or been vomiting?"),
    _f("projectile_vomiting", r"projectile|shoots? out|across the (?:room|floor)|(?:comes|"
       r"came) out (?:with )?(?:such )?force"),
    _f("bilious_vomit", r"green (?:vomit|sick|bile)|bil(?:e|ious)|vomit\w* (?:up )?green"),
    _f("haematemesis", r"vomit\w* (?:up )?blood|blood in (?:the |my |his |her )?(?:vomit|sick)|coffee[- ]grounds?|"
       r"ha?ematemesis", "Have you vomited any blood or anything like coffee grounds?"),
    _f("diarrhoea", r"diarrho?e?a\w*|loose (?:stools?|motions|poo\w*|bowel\w*|nappies)|runny (?:poo|stools?)|"
       r"watery (?:stools?|poo|nappies)|the runs|squits|(?:going to|running to|run to|on) the (?:toilet|"
       r"loo) (?:all the time|constantly|\d+|a lot|every)|opening (?:my|his|her) bowels \w+ times",
       "Have you had any diarrhoea or loose stools?"),
    _f("bloody_stool", r"blood\w* (?:in|with|on|mixed in) (?:the |my |his |her )?(?:stools?|poo|motions?|toilet paper|"
       r"bowel|nappy|diarrh\w*)|bloody (?:diarrho?e?a|stools?|poo)|rectal bleed\w*|bleeding from (?:my|the|his|"
       r"her) (?:bottom|back passage)|(?:red )?currant jelly|blood and mucus",
       "Have you seen any blood in your stools?"),
    _f("melaena", r"black,? (?:tarry |sticky )?(?:stools?|poo|motions|bowel movements)|tarry|mela?ena|(?:stools?|poo|"
       r"motions|bowel movements)\b.{0,20}\bblack|black (?:as|like) tar", "Have your stools been black or tarry?"),
    _f("constipation", r"constipat\w*|(?:haven'?t|hasn'?t|not) (?:opened|been able to open|done a poo|pooed|"
       r"passed (?:a )?(?:stool|motion|wind))|hard (?:stools|poo)|no bowel movement|not passing wind",
       "Have you been constipated, or unable to pass wind?"),
    _f("bloating", r"bloat\w*|distend\w*|swollen (?:tummy|belly|stomach|abdomen)|(?:tummy|belly|abdomen) (?:is |"
       r"looks )?swollen", "Has your tummy been bloated or swollen?", sources="he", systems="abdominal"),
    _f("altered_bowel", r"alternat\w*|(?:constipation|diarrho?e?a) (?:and|then|or) (?:constipation|diarrho?e?a)|"
       r"(?:relieved|eases|better|settles|goes) (?:by|after|when) (?:i )?(?:opening|going|open|a bowel|poo|pass)|"
       r"change in (?:my )?bowel habit|bowels? (?:are |have been )?(?:all over the place|up and down|irregular)",
       "Does the pain ease after opening your bowels, and do your bowels swing between loose and constipated?"),
    _f("jaundice", r"jaundic\w*|yellow (?:skin|eyes|tinge)|(?:skin|eyes|whites of (?:my|his|"
       r"her) eyes) (?:\w+ )?(?:look |looks |turned |are |is |gone |going )?yellow|icter\w*|scleral icterus",
       "Have you or anyone else noticed yellowing of your skin or eyes?",
       sources="he", systems="general abdominal heent"),
    _f("food_trigger", r"(?:ate|eaten|eating|had) (?:a |some )?(?:\w+ ){0,3}(?:takeaway|chicken|barbecue|bbq|buffet|"
       r"seafood|oysters|mussels|rice|undercooked|dodgy|restaurant|kebab|eggs)|food poison\w*|something (?:i|he|she|"
       r"we) ate", kind="risk"),
    _f("sick_contacts", r"(?:everyone|others|kids|children|family|partner|husband|wife|colleagues?|friends?|people|"
       r"nursery|school|brother|sister|flatmates?|class)\b.{0,40}(?:sick|ill|same thing|same bug|a bug|it too|"
       r"it as well|got it|had it|going round|going around|poorly|vomiting|diarrho\w*|cold|coughs?)|going (?:round|"
       r"around)|outbreak", "Has anyone around you been ill with something similar?", kind="risk"),
    _f("prior_surgery", r"operation|surgery|appendix (?:out|removed)|c-?section|caesarean|hernia repair|laparotomy|"
       r"adhesions|hysterectomy|bowel op", kind="risk"),
    _f("rif_tenderness", r"(?:right iliac fossa|\brif\b|mcburney'?s?(?: point)?|right lower quadrant|"
       r"\brlq\b).{0,30}(?:tender\w*|guard\w*|rebound|pain)|(?:tender\w*|guard\w*|rebound|"
       r"pain).{0,30}(?:right iliac fossa|\brif\b|mcburney|right lower quadrant)|"
       r"rovsing'?s?(?: sign)? (?:is )?(?:positive|present)|positive rovsing", sources="e", systems="abdominal"),
    _f("peritonism", r"guarding|rebound|rigid\w*|peritonism|percussion tenderness|board-?like|peritonitis",
       sources="e", systems="abdominal"),
    _f("murphy_sign", r"murphy'?s?(?: sign)? (?:is )?(?:positive|present)|positive murphy|(?:right upper quadrant|"
       r"\bruq\b|right hypochondri\w*|right subcostal).{0,30}tender\w*|tender\w*.{0,30}(?:right upper quadrant|"
       r"\bruq\b|right hypochondri\w*|right subcostal)", sources="e", systems="abdominal"),
    _f("epigastric_tender", r"epigastr\w*.{0,30}tender\w*|tender\w*.{0,30}epigastr\w*",
       sources="e", systems="abdominal"),
    _f("lower_abdo_tender", r"(?:suprapubic|lower abdominal|left iliac fossa|right iliac fossa|iliac fossa|adnexal|"
       r"pelvic|lower abdomen).{0,30}tender\w*|tender\w*.{0,30}(?:suprapubic|lower abdomen|iliac fossa|adnexa\w*)",
       sources="e", systems="abdominal pelvic"),
    _f("abdominal_mass", r"sausage[- ]shaped mass|olive[- ]?(?:shaped|sized)? mass|palpable (?:olive|mass)|mass (?:in|"
       r"palpable in) the (?:right |left )?(?:upper|epigastri\w*|abdomen)", sources="e", systems="abdominal"),
    _f("obstructed_bowel_signs", r"(?:tinkling|absent|high-pitched|hyperactive) bowel sounds|(?:abdomen|"
       r"abdominal) (?:is |was )?(?:grossly |markedly )?distended|distended (?:and )?tympanic",
       sources="e", systems="abdominal"),
    _f("splenomegaly", r"splenomegaly|spleen (?:is )?(?:palpable|enlarged|tip)|palpable spleen|hepatosplenomegaly",
       sources="e", systems="abdominal"),
    _f("ketotic_breath", r"(?:pear ?drops?|fruity|acetone|ketotic|nail varnish) (?:breath|smell|odour|odor)|"
       r"smell\w* (?:of )?(?:pear ?drops|acetone|ketones|nail varnish)|kussmaul\w*|deep,? (?:sighing|rapid|"
       r"laboured) (?:breathing|respirations)", sources="he", systems="general respiratory"),
    # ---- genitourinary / gynaecology -----------------------------------------------------
    _f("dysuria", r"(?:burn\w*|sting\w*|pain\w*|hurts?|sore)\b.{0,30}(?:pee|wee|urin\w*|pass\w* water|toilet|"
       r"waterworks)|(?:pee|wee|urin\w*|passing water)\b.{0,20}(?:burn\w*|sting\w*|hurts?|painful)|dysuria|"
       r"like (?:passing|weeing) (?:glass|razor blades)", "Does it burn or sting to pass urine?"),
    _f("frequency", r"(?:pee|wee|urinat\w*|toilet|loo|pass\w* (?:water|urine))\b.{0,30}(?:all the time|more often|"
       r"constantly|every (?:hour|half hour|\w+ minutes)|a lot|frequent\w*|loads)|frequen\w* (?:urination|peeing|"
       r"weeing)|(?:going|running|go|gone) to the (?:toilet|loo|bathroom) (?:all the time|a lot|constantly|more)|"
       r"urgency|urgent\w*|can'?t hold (?:it|on)", "Are you passing urine more often than usual?"),
    _f("smelly_urine", r"(?:cloudy|smelly|foul|strong[- ]smelling|offensive|dark) (?:urine|pee|wee)|(?:urine|pee|"
       r"wee) (?:is |looks |smells )?(?:cloudy|smelly|strong|funny|foul)"),
    _f("haematuria", r"blood in (?:my|his|her|the) (?:urine|pee|wee)|(?:pink|red|bloody|cola[- ]coloured|"
       r"brown) (?:urine|pee|wee)|ha?ematuria", "Have you noticed any blood in your urine?"),
    _f("loin_pain", r"loin\w*|flank|(?:side|back)\b.{0,30}(?:just )?(?:below|under) (?:my|his|her|the) ribs|"
       r"kidney (?:area|pain)|pain (?:in|on) (?:my|his|her|the) (?:left|right) side(?! of (?:my|the|his|her) chest)",
       "Any pain in your back or side, just under the ribs?"),
    _f("colicky", r"colick?y|(?:comes|came|coming) in waves|waves of (?:pain|agony)|(?:comes|"
       r"came) and goes? every few minutes|spasms"),
    _f("loin_to_groin", r"(?:to|into|down to|towards) (?:my |his |the )?(?:groin|testicle|scrotum|labia|bladder)|"
       r"down (?:into|to) (?:my|the|his) groin"),
    _f("restless_pain", r"writh\w*|can'?t (?:keep|stay|sit|lie) still|pacing|rolling around|(?:couldn'?t|"
       r"can'?t) get comfortable"),
    _f("renal_angle", r"(?:renal angle|costovertebral|loin|flank|\bcva\b)\b.{0,20}tender\w*|"
       r"tender\w*.{0,20}(?:renal angle|loin|flank)|punch tenderness", sources="e", systems="genitourinary abdominal"),
    _f("vaginal_bleeding", r"(?:vaginal(?:ly)?|down below|from (?:the )?vagina)\b.{0,20}(?:bleed\w*|blood|spotting)|"
       r"bleed\w*\b.{0,20}(?:vagina\w*|down below)|spotting|(?:some|bit of|light|heavy|fresh|brown|dark) (?:bleeding|"
       r"blood loss)|passing (?:blood )?clots|bleeding between periods|bleeding after sex",
       "Have you had any bleeding from the vagina?"),
    _f("missed_period", r"(?:missed|late|skipped|haven'?t had) (?:a |my )?(?:last )?periods?|period (?:is|"
       r"was) (?:late|overdue)|periods? (?:have|has) stopped|(?:weeks|days) late|could be pregnant|might be pregnant|"
       r"positive (?:pregnancy )?test|pregnan\w*|amenorrho\w*|weeks since (?:my|her) (?:last )?period", kind="risk"),
    _f("vaginal_discharge", r"(?:vaginal )?discharge\b(?! from (?:the|his|her|my) ear)|(?:smelly|green|yellow|unusual|"
       r"abnormal|fishy)\b.{0,10}(?:discharge|down below)", "Have you noticed any unusual vaginal discharge?"),
    _f("dyspareunia", r"pain\w*\b.{0,20}(?:during|with|after) (?:sex|intercourse)|sex (?:is |has been )?(?:painful|"
       r"sore|uncomfortable)|hurts? (?:during|with|when (?:i|we) have) sex|dyspareun\w*", "Has sex been painful?"),
    _f("new_partner", r"new (?:partner|boyfriend|girlfriend)|unprotected|without (?:a )?condoms?|(?:don'?t|didn'?t|"
       r"never) (?:always )?use (?:a )?condoms?|(?:no|not) (?:using )?(?:protection|condoms?)|casual|(?:several|"
       r"multiple|two|three|few|different) partners|one-night|hook ?up", kind="risk"),
    _f("heavy_periods", r"heavy periods|periods (?:are|have been|have got) (?:really |very )?(?:heavy|flooding|"
       r"heavier)|flooding|menorrhag\w*|clots (?:with|during) (?:my )?periods", kind="risk"),
    _f("pelvic_os_open", r"(?:cervical )?os (?:is )?open|open (?:cervical )?os|products of conception",
       sources="e", systems="pelvic"),
    _f("cervical_excitation", r"cervical (?:motion|excitation) tenderness|cervical excitation|chandelier|"
       r"adnexal tenderness|mucopurulent (?:cervical )?discharge", sources="e", systems="pelvic"),
    _f("face_hand_swelling", r"(?:face|hands|fingers)\b.{0,20}(?:swell\w*|swollen|puffy)|(?:swollen|puffy) (?:face|"
       r"hands|fingers)|rings (?:are|feel) (?:too )?tight", "Have your face or hands been swollen?"),
    # ---- endocrine / metabolic -------------------------------------------------------------
    _f("thirst", r"thirst\w*|(?:drinking|drink|drinks) (?:loads|lots|a lot|gallons|all the time|constantly|litres)|"
       r"dry mouth|parched|polydips\w*", "Have you been very thirsty?"),
    _f("polyuria", r"(?:pee|wee|urinat\w*|toilet|loo)\b.{0,40}(?:all the time|loads|lots|a lot|constantly|at night|"
       r"in the night|more than usual|every hour)|up (?:\w+ )?(?:times )?(?:at night|in the night) (?:to )?(?:pee|wee|"
       r"go to the toilet|pass water)|polyuri\w*|large amounts of urine|wetting the bed|bed-?wetting|heavy nappies",
       "Have you been passing a lot of urine, or getting up in the night to pass water?"),
    _f("shaky_hungry", r"hungry|hunger|shaky|jittery|trembl\w*"),
    _f("missed_meal", r"(?:missed|skipped|didn'?t have|no|forgot) (?:my |his |her )?(?:lunch|breakfast|dinner|meal|"
       r"tea|food)", kind="risk"),
    _f("heat_intolerance", r"(?:can'?t stand|can'?t tolerate|hate|intoleran\w* (?:of|to)|bothered by) (?:the )?heat|"
       r"(?:always|too|constantly) (?:hot|warm)|heat intoleran\w*|sweat\w* (?:more|a lot|all the time)|feel\w* (?:hot|"
       r"warm) when (?:others|everyone)", "Do you find you can't stand the heat, or feel the cold more than others?"),
    _f("cold_intolerance", r"(?:always|constantly|feel\w*|feeling) (?:so |really )?(?:cold|freezing|chilly)|"
       r"(?:can'?t stand|hate|intoleran\w*|bothered by|feel) (?:the )?cold|cold intoleran\w*"),
    _f("increased_appetite", r"(?:eating|hungry|hungrier) (?:more|all the time)|increased appetite|appetite (?:is |"
       r"has been )?(?:huge|bigger|increased|enormous)|eating (?:loads|like a horse)"),
    _f("dry_skin_hair", r"dry (?:skin|hair)|(?:skin|hair) (?:is |has been |feels )?(?:dry|coarse|brittle)|"
       r"hair\b.{0,20}(?:falling out|thinning|thin|coming out)|hair loss|losing (?:my|her|his) hair|coarse hair|"
       r"puffy face|periorbital (?:puffiness|o?edema)", sources="he", systems="skin general"),
    _f("eye_signs", r"(?:eyes?)\b.{0,20}(?:bulg\w*|staring|gritty|prominent|popping|sticking out)|bulging eyes|"
       r"exophthalm\w*|proptosis|lid (?:lag|retraction)", sources="he", systems="heent"),
    _f("goitre", r"goitre|goiter|(?:enlarged|diffuse\w*|swollen) thyroid|thyroid (?:is )?(?:enlarged|swollen|"
       r"diffusely)|bruit over the thyroid|swelling (?:in|at) the front of (?:my|the|her|his) neck",
       sources="he", systems="neck"),
    _f("hypothyroid_signs", r"slow[- ]relaxing reflexes|delayed relaxation|slow relaxation|myxoedema|"
       r"non-?pitting o?edema", sources="e", systems="neurological general"),
    _f("concentration", r"concentrat\w*|(?:can'?t|cannot) (?:focus|think straight)|memory (?:is )?(?:bad|poor|"
       r"terrible)|forgetful|brain fog|foggy"),
    # ---- skin ----------------------------------------------------------------------------
    _f("rash", r"rash\w*|spots|blotch\w*|hives|welts|red (?:patches|marks|blotches|areas)|blisters?|vesic\w*|"
       r"purpur\w*|petechia\w*|lesions?|plaques?|pustul\w*|papul\w*",
       "Have you noticed any rash or spots?", sources="he", systems="skin"),
    _f("non_blanching", r"(?:doesn'?t|does not|didn'?t|don'?t|won'?t) (?:fade|go away|blanch)\b.{0,30}(?:glass|"
       r"press\w*)|non-?blanching|purpur\w*|petechia\w*",
       "Does the rash fade if you press a glass on it?", sources="he", systems="skin"),
    _f("itch", r"itch\w*|prurit\w*|scratch\w*", "Is it itchy?"),
    _f("night_itch", r"(?:itch\w*|scratch\w*).{0,20}(?:at night|in bed|in the evening)|(?:at night|"
       r"in bed)\b.{0,20}(?:itch\w*|scratch\w*)"),
    _f("household_itch", r"(?:partner|children|kids|family|husband|wife|whole family|everyone|brother|sister|"
       r"flatmates?|girlfriend|boyfriend)\b.{0,30}(?:itch\w*|scratch\w*)"),
    _f("finger_webs", r"between (?:my|his|her|the) fingers|finger webs|web spaces|burrows?|wrists and (?:fingers|"
       r"hands)", sources="he", systems="skin"),
    _f("skin_red_hot", r"(?:red|hot|warm|angry)\b.{0,20}(?:swollen|skin|leg|arm|area|patch|shin|foot)|"
       r"swollen\b.{0,20}(?:red|hot|warm)|spreading redness|redness\b.{0,20}spread\w*|(?:erythema\w*|redness|"
       r"warmth)\b.{0,40}(?:spreading|demarcat\w*|margin|border|shin|lower leg|calf|foot)|poorly demarcated|"
       r"spreading erythema|lymphangitis|cellulitis",
       "Is the skin red, hot or swollen?", sources="he", systems="skin musculoskeletal"),
    _f("skin_break", r"(?:cut|graze|scratch|bite|insect bite|wound|athlete'?s foot|cracked (?:skin|heel)|blister|"
       r"ulcer)\b.{0,20}(?:on|in)|(?:cut|grazed|scratched|bitten) (?:my|his|her)"),
    _f("shingles_band", r"\bband\b.{0,30}(?:rash|blisters|spots|one side|around)|(?:rash|blisters|spots|"
       r"vesic\w*)\b.{0,40}(?:one side|doesn'?t cross|wrap\w* around|band|strip|stripe|belt)|dermatom\w*|(?:one side|"
       r"left side|right side) of (?:my|his|her|the) (?:chest|back|body|waist|trunk|forehead)\b.{0,30}(?:rash|"
       r"blisters|spots)", "Is the rash in a band or strip on one side of your body?", sources="he", systems="skin"),
    _f("burning_pain_before_rash", r"(?:burning|tingling|stinging|shooting)\b.{0,40}(?:before|then) (?:the )?(?:rash|"
       r"spots|blisters)|(?:before|days before) (?:the )?(?:rash|spots|blisters).{0,40}(?:burn\w*|tingl\w*|pain)"),
    _f("dry_skin_flexures", r"dry\b.{0,20}(?:skin|patches)|(?:elbow|knee) creases|creases of (?:my|his|her|"
       r"the) (?:elbows?|knees?)|behind (?:my|his|her|the) knees|insides? of (?:my|his|her|the) elbows|flexur\w*|"
       r"antecubital|popliteal|lichenifi\w*|excoriat\w*|eczema\w*",
       "Is the skin dry, especially in the creases of the elbows or knees?", sources="he", systems="skin"),
    _f("plaques_scale", r"silver\w*|scal(?:y|es|ing)|flak\w*|plaques?|thick (?:red )?patches|psoria\w*|"
       r"well[- ]demarcated", "Are the patches thick, scaly or silvery?", sources="he", systems="skin"),
    _f("nail_changes", r"pitt\w* nails|nails? (?:\w+ )?pitt\w*|nail (?:changes|pitting|dystrophy)|onycholysis",
       sources="he", systems="skin"),
    _f("ring_rash", r"ring\w*|circular|round (?:patch|red)|annular|clear(?:er)? (?:in the )?(?:middle|cent(?:re|er))|"
       r"raised (?:red )?edge", "Is the rash ring-shaped with a clearer centre?", sources="he", systems="skin"),
    _f("hives", r"hives|welts|wheals?|urticari\w*|nettle rash|itchy (?:red )?(?:lumps|bumps|rash|blotches|welts)|"
       r"raised (?:red )?(?:itchy )?(?:lumps|bumps|welts)",
       "Have you had itchy raised welts, like nettle stings?", sources="he", systems="skin"),
    _f("lip_tongue_swelling", r"(?:lips?|tongue|face|throat|eyes?|eyelids)\b.{0,20}(?:swell\w*|swollen|puff\w*|"
       r"closing|blew up)|(?:swell\w*|swollen|puffy)\b.{0,20}(?:lips?|tongue|face|eyes?)|angio-?o?edema|throat (?:is |"
       r"felt |feels )?(?:closing|tight)",
       "Have your lips, tongue or throat swollen up?", sources="he", systems="heent skin"),
    _f("allergen_exposure", r"peanuts?|cashews?|\bnuts\b|shellfish|prawns?|sesame|stung|\bsting\b|wasp|\bbee\b|"
       r"allergic reaction|new (?:antibiotic|medicine|tablet)", kind="risk"),
    _f("itchy_blisters", r"(?:spots|blisters)\b.{0,30}(?:itch\w*|crust\w*|scab\w*|fluid|weep\w*)|crops|crust\w*|"
       r"scab\w*|chicken ?pox|varicella"),
    # ---- ENT / paediatric ----------------------------------------------------------------
    _f("sore_throat", r"sore throat|throat (?:is |feels |has been )?(?:really |so |very )?(?:sore|painful|raw|hurts?|"
       r"killing|on fire)|(?:painful|hurts?|hurting|agony) to swallow|pain on swallowing|tonsil\w*|odynophagia",
       "Have you had a sore throat?"),
    _f("runny_nose", r"runny nose|blocked nose|stuffy|snott\w*|sneez\w*|(?:nasal )?congest\w*|(?:a|the|had a|with a|"
       r"bit of a|heavy) cold\b|coryza\w*|rhinorrh\w*", "Have you had a runny or blocked nose?"),
    _f("ear_pain", r"ears?\b.{0,20}(?:pain|ache|hurts?|hurting|sore|pulling|tugging|rubbing)|(?:pulling|tugging|"
       r"rubbing|holding|pull\w*|tug\w*) (?:at )?(?:his|her|my|their) ears?|earache|otalgia",
       "Has there been any ear pain, or pulling at the ears?"),
    _f("ear_discharge", r"(?:discharge|fluid|pus|gunk|goo) (?:from|coming out of|in) (?:his|her|my|the) ears?|"
       r"ears? (?:is |are )?(?:leaking|discharging|running|weeping)|otorrh\w*", sources="he", systems="heent"),
    _f("tm_bulging", r"(?:bulging|red|inflamed|erythematous|opaque|dull|cloudy) (?:\w+ )?(?:tympanic membrane|eardrum|"
       r"drum)|(?:tympanic membrane|eardrum|drum)s?\b.{0,30}(?:bulg\w*|red|inflamed|erythematous|opaque|dull|"
       r"perforat\w*)", sources="e", systems="heent"),
    _f("tonsillar_exudate", r"exudat\w*|(?:enlarged|swollen|inflamed|red|beefy) tonsils|tonsil\w*\b.{0,30}(?:enlarged|"
       r"swollen|exudat\w*|pus|inflamed|red|white)|pus on|white (?:spots|patches) on (?:the|my|his|her) tonsils",
       sources="he", systems="heent"),
    _f("swollen_glands", r"(?:swollen|lumpy|tender|big|enlarged|palpable) (?:\w+ )?(?:glands|lymph nodes|nodes|"
       r"lymphadenopathy)|glands\b.{0,20}(?:swollen|up|like golf balls)|lumps? in (?:my|his|her|the) neck|"
       r"lymphadenopathy",
       "Have you noticed any swollen glands in your neck?", sources="he", systems="lymph_nodes neck"),
    _f("poor_feeding", r"(?:not|isn'?t|hasn'?t been|wasn'?t|won'?t|refus\w*) (?:feeding|eating|drinking|taking (?:his|"
       r"her) (?:feeds|bottle|milk))|off (?:his|her) (?:feeds|food|milk|bottle)|(?:feeding|feeds|bottles?) (?:less|"
       r"poorly|badly)|(?:fewer|less|only half|half) (?:\w+ )?(?:feeds|bottles?|feeding|milk)|poor(?:ly)? feed\w*|"
       r"fewer wet nappies|(?:dry|fewer wet) nappies|(?:won'?t|doesn'?t|didn'?t|not|can'?t) (?:finish\w*|manag\w*|"
       r"tak\w*) (?:his|her|a|the|any|\w+ of (?:his|her)) (?:bottles?|feeds?|milk)|(?:\d+%|half|a third|"
       r"a quarter)[-–\d% ]*(?:of )?(?:his |her |the )?(?:usual|normal) (?:feeds?|feed volumes?|milk|amount)",
       "Is the baby feeding and having wet nappies as usual?"),
    _f("irritable_child", r"irritabl\w*|grizzly|crying|inconsolable|fussy|unsettled|screaming|whing\w*"),
    _f("drawing_legs_up", r"(?:draws?|drawing|pulls?|pulling|brings?|bringing) (?:his|her) (?:legs|knees) up|"
       r"screaming (?:episodes|attacks|fits)|episodes of (?:screaming|crying)|inconsolable (?:crying|episodes)",
       "Does the baby have episodes of screaming and drawing the legs up?"),
    # ---- musculoskeletal -----------------------------------------------------------------
    _f("joint_pain", r"joints?\b.{0,20}(?:pain|ache|aching|hurts?|swollen|stiff)|(?:pain|aching|hurts?|swollen|"
       r"stiff)\b.{0,20}joints?|arthralgia|arthritis|big toe|\btoe\b.{0,20}(?:pain|red|swollen|hurts?)",
       "Have you had any painful or swollen joints?"),
    _f("red_hot_joint", r"(?:toe|joint|knee|ankle|wrist)\b.{0,30}(?:red|hot|swollen)|(?:red|hot|"
       r"swollen)\b.{0,20}(?:toe|joint|knee|ankle)|can'?t bear (?:the )?(?:sheets?|bedclothes|anything touching)",
       sources="he", systems="musculoskeletal"),
    _f("myalgia", r"aching all over|ach(?:es|ing|y) (?:all over|everywhere)|aches and pains|achy|muscle (?:aches?|"
       r"pains?)|body aches|myalgia|every (?:bone|muscle) (?:in (?:my|his|her) body )?aches",
       "Do you have aches all over your body?"),
    # ---- psychiatry ------------------------------------------------------------------------
    _f("low_mood", r"(?:feel\w*|been|felt|so|really|very|mood(?:'s| is| has been)?) (?:really |so |very |"
       r"pretty )?(?:low|down|depressed|sad|miserable|hopeless|empty|flat|rubbish|numb)|low mood|depress\w*|"
       r"hopeless\w*|worthless\w*|tearful|cry\w* (?:a lot|all the time|for no reason|every day|most days)|no point|"
       r"nothing to look forward|guilt\w*|(?:low|depressed|flat|sad|blunted) (?:mood|affect)|(?:mood|affect) (?:is |"
       r"was )?(?:low|depressed|flat|blunted)|psychomotor retard\w*|poor eye contact",
       "How has your mood been lately, have you been feeling low or down?", sources="he", systems="mental_state"),
    _f("anhedonia", r"(?:lost|no|lack of|losing|lose) (?:all )?(?:interest|enjoyment|pleasure|motivation)|(?:don'?t|"
       r"can'?t|doesn'?t) (?:enjoy|be bothered)|used to (?:love|enjoy)|anhedoni\w*|nothing (?:is )?(?:fun|enjoyable)",
       "Have you lost interest or enjoyment in things you usually like?"),
    _f("sleep_problem", r"(?:can'?t|cannot|couldn'?t|trouble|difficult\w*|problems?|"
       r"struggl\w*) (?:get(?:ting)? (?:to )?|stay\w* )?(?:sleep\w*|asleep)|insomni\w*|"
       r"wak\w* (?:up )?(?:really )?(?:early|at [1-5]|in the early hours|at four|at three|several times|every night)|"
       r"sleep\w* (?:badly|poorly|too much|all day|is (?:terrible|awful|bad|patchy|broken))|(?:poor|bad|broken|patchy|"
       r"disturbed) sleep|lying awake|not sleeping", "How have you been sleeping?"),
    _f("suicidal", r"suicid\w*|(?:end|ending|take) (?:my|his|her) (?:own )?life|better off (?:dead|without me)|"
       r"kill (?:myself|himself|herself)|(?:want|wanting|wanted) to (?:die|disappear)|not (?:want|"
       r"wanting) to (?:be here|live|wake up)|self[- ]harm\w*|hurt(?:ing)? (?:myself|himself|herself)|"
       r"\bcut(?:ting)? (?:myself|himself|herself)",
       "Have you had any thoughts of harming yourself, or that life isn't worth living?"),
    _f("worry", r"worr\w* (?:about )?(?:everything|all the time|constantly|about (?:\w+ ){0,3}(?:everything|things|"
       r"money|work|the kids|my family))|can'?t stop worry\w*|on edge|keyed up|wound up|restless|uptight|(?:always|"
       r"constantly) (?:anxious|nervous|tense)|anxi(?:ety|ous) (?:all the time|most days|every day|constantly)|"
       r"(?:anxious|tense|fidget\w*|hypervigilan\w*) (?:and|with|affect)",
       "Do you feel anxious or on edge most days, about lots of different things?",
       sources="he", systems="mental_state"),
    _f("panic_episode", r"panic\w*|(?:going to|thought i was going to|gonna|about to) (?:die|pass out|lose control|"
       r"go mad|have a heart attack)|sense of (?:doom|dread)|impending doom|(?:sudden|out of the blue|"
       r"out of nowhere)\b.{0,40}(?:fear|terror|dread|frightened|terrified)|(?:attacks?|episodes?|turns|"
       r"spells)\b.{0,20}(?:minutes|peak)|thought (?:i|he|she) (?:was|were) (?:having a heart attack|dying|"
       r"going to die)|(?:worst|peaks?|peaking) (?:with)?in (?:about |around )?(?:\w+ )?minutes",
       "Do you get episodes of intense fear, as if something terrible is about to happen?"),
    _f("avoidance", r"avoid\w*|(?:can'?t|won'?t|don'?t|stopped) (?:go(?:ing)?|driv\w*|tak\w*) (?:out|to the shops|"
       r"on the bus|on trains|the bus|the train|into town)|stay\w* (?:at )?home"),
    _f("hallucinations", r"(?:seeing|hearing|see|hear) (?:things|voices)|voices|halluc\w*",
       "Have you been hearing or seeing things that others don't?", sources="he", systems="mental_state"),
    _f("paranoia", r"(?:people|they|neighbours|someone|police|government)\b.{0,30}(?:watching|following|after me|"
       r"spying|plotting|poison\w*|talking about me|sending (?:me )?messages|out to get)|paranoi\w*|delusion\w*|"
       r"control\w* (?:my|his|her) (?:thoughts|mind)|(?:tv|radio) (?:is )?(?:talking|sending)|special (?:powers|"
       r"mission)|persecut\w*", sources="he", systems="mental_state"),
    _f("elevated_mood", r"on top of the world|euphori\w*|invincible|high as a kite|racing thoughts|thoughts (?:are |"
       r"were )?racing|(?:no|don'?t|doesn'?t|hardly) need\w* (?:to )?(?:much )?sleep|not (?:needing|"
       r"needed) (?:much )?sleep|spend\w* (?:loads|lots|all|thousands)|grandios\w*|pressured speech|flight of ideas|"
       r"elated|disinhibit\w*|(?:full of|bursting with) energy", sources="he", systems="mental_state"),
    _f("cannabis", r"cannabis|weed|skunk|spliff|marijuana|smok\w* (?:a lot of )?(?:pot|dope)", kind="risk"),
    _f("alcohol_heavy", r"(?:\d+|several|lots of|a lot of|many|few|couple of) (?:pints|cans|bottles|units|beers|"
       r"glasses of wine|drinks|shots) (?:a|every|each|per) (?:day|night|evening)|every (?:day|"
       r"night)\b.{0,20}(?:drink|pints|wine|vodka|beer|cans)|bottle of (?:wine|vodka|whisky|spirits|gin) (?:a|"
       r"every) (?:day|night)|heavy drink\w*|drink\w* (?:heavily|a lot|too much|every day)|alcoholi\w*|binge\w*|"
       r"\d{2,3} units", kind="risk"),
    _f("alcohol_stopped", r"(?:stopped|cut down|gave up|haven'?t had a|no) (?:drinking|a drink|alcohol|booze)|"
       r"last drink was|since (?:my|his|her) last drink"),
    _f("overdose", r"(?:took|taken|swallowed) (?:a lot of|all (?:my|the|of (?:my|the))|loads of|too many|\d+|"
       r"a whole (?:packet|box|bottle)|handful|a load of|two packets|packets?)\b.{0,30}(?:tablets|pills|paracetamol|"
       r"packets?)|overdos\w*", kind="risk"),
    # ---- background risk factors ----------------------------------------------------------
    _f("smoker", r"smok(?:e|es|ed|er|ing)(?! (?:pot|dope|weed|cannabis))|cigarettes?|roll-?ups|pack[- ]years?|tobacco|"
       r"vap(?:e|es|ing)", kind="risk"),
    _f("diabetes_hx", r"diabet\w*|type (?:1|one|2|two)\b|insulin|metformin|gliclazide|sitagliptin|empagliflozin|"
       r"dapagliflozin", kind="risk"),
    _f("hypertension_hx", r"(?:high|raised) blood pressure|hypertensi\w*|ramipril|amlodipine|lisinopril|losartan|"
       r"bendroflumethiazide|indapamide|candesartan", kind="risk"),
    _f("cardiac_hx", r"heart attack|angina|stents?|bypass|(?:heart|cardiac) (?:disease|problems?|condition)|(?:high|"
       r"raised) cholesterol|statins?|atorvastatin|simvastatin|\bgtn\b|nitrate", kind="risk"),
    _f("af_hx", r"atrial fibrillation|irregular heart\w*|warfarin|apixaban|rivaroxaban|edoxaban|dabigatran",
       kind="risk"),
    _f("asthma_hx", r"asthma\w*|inhalers?|(?:blue|brown|purple) (?:pump|inhaler)|salbutamol|ventolin|hay ?fever|"
       r"atop\w*|eczema", kind="risk"),
    _f("copd_hx", r"\bcopd\b|emphysema|chronic bronchitis|tiotropium|spiriva|home oxygen", kind="risk"),
    _f("clot_risk", r"(?:long|long-haul|long haul|\d+-hour) (?:flight|drive|journey|car journey|coach)|"
       r"flew (?:back )?(?:from|to)|flight from|(?:recent|had an?) (?:operation|surgery)|immobil\w*|bed-?bound|"
       r"plaster cast|(?:contraceptive|the combined) pill|\bthe pill\b|combined pill|oral contraceptive|\bhrt\b|"
       r"hormone replacement|(?:blood )?clots? (?:in|before)|\bdvt\b|cancer|chemo\w*|laid up",
       "Have you been on any long flights or car journeys, had surgery, or been laid up in bed recently?", kind="risk"),
    _f("nsaid_use", r"ibuprofen|naproxen|diclofenac|aspirin|nsaids?|anti-?inflammator\w*|prednisolone|steroids?",
       kind="risk"),
    _f("recurrent", r"(?:keep|keeps) (?:getting|having|coming)|attacks|episodes|bouts|turns|spells|(?:once|twice|"
       r"two or three|\d+) (?:times )?(?:a|per|every) (?:week|month|year)|(?:had|have had) (?:it|them|this|"
       r"these) (?:before|several times|a few times)|on and off|every (?:few|couple of) (?:weeks|months)|used to get|"
       r"happens? (?:a lot|often)"),
    # ---- tempo ------------------------------------------------------------------------------
    _f("hours", r"(?:\d+|an?|one|two|three|four|five|six|a few|couple of|half an?) (?:hours?|minutes?) ago|"
       r"this (?:morning|afternoon|evening)|tonight|earlier today|(?:an|one|two|three) hours?|o'?clock|(?:quarter|"
       r"half|\d+) past|last night|since (?:this morning|lunchtime|breakfast)|an hour and a half"),
    _f("days", r"(?:\d+|a few|couple of|two|three|four|five|six|seven|several) days|since (?:monday|tuesday|wednesday|"
       r"thursday|friday|saturday|sunday)|yesterday|(?:a|one|last) week|(?:the )?weekend"),
    _f("weeks_months", r"(?:\d+|a few|couple of|two|three|four|five|six|eight|several|many) (?:weeks|months|years)|"
       r"(?:a|one) (?:month|year)|for ages|long-?standing|since (?:i was|childhood|last year)"),
    # ---- vital-sign findings (set numerically from the vitals report) -----------------------
    _f("pyrexia", r"pyrexi\w*|febrile(?! convulsion)", sources="e", systems="vitals"),
    _f("tachycardia", r"tachycardi\w*", sources="e", systems="vitals cardiovascular"),
    _f("bradycardia", r"bradycardi\w*", sources="e", systems="vitals cardiovascular"),
    _f("hypotension", r"hypotensi\w*|shocked|shut down", sources="e", systems="vitals"),
    _f("high_bp", r"(?<!no )hypertensive (?:crisis|emergency|urgency)", sources="e", systems="vitals"),
    _f("tachypnoea", r"tachypno\w*", sources="e", systems="vitals respiratory"),
    # ---- test findings (text) ------------------------------------------------------------
    _f("consolidation", r"consolidat\w*|air bronchogram\w*|(?:lobar|patchy|airspace) (?:shadowing|opacit\w*|change)|"
       r"infiltrat\w*", sources="t", tests="chest x-ray; ct chest"),
    _f("sputum_pathogen", r"pneumoniae|haemophilus|moraxella|staphylococcus aureus|legionella|mycoplasma",
       sources="t", tests="sputum culture"),
    _f("pneumothorax_xray", r"pneumothora\w*|absent lung markings|visible (?:lung|pleural|visceral pleural) (?:edge|"
       r"line)|collapsed lung|lung edge", sources="t", tests="chest x-ray; ct chest"),
    _f("pulmonary_oedema_xray", r"pulmonary o?edema|upper lobe (?:blood )?diversion|kerley|bat'?s?[- ]wing|"
       r"(?:bilateral )?(?:pleural )?effusions|cardiomegaly|alveolar o?edema|interstitial o?edema|enlarged (?:heart|"
       r"cardiac) (?:size|silhouette|shadow)|(?:heart|cardiac) (?:size|shadow) (?:is )?enlarged",
       sources="t", tests="chest x-ray"),
    _f("hyperinflation", r"hyperinflat\w*|hyperexpan\w*|flattened (?:hemi)?diaphragms?|bullae|emphysem\w*",
       sources="t", tests="chest x-ray; ct chest"),
    _f("lung_mass", r"\bmass\b|nodule|spiculated|hilar (?:lesion|opacity|mass|enlargement)|tumou?r|malignan\w*|"
       r"carcinoma", sources="t", tests="chest x-ray; ct chest"),
    _f("widened_mediastinum", r"widened mediastinum|mediastin\w* (?:is )?widen\w*|dissection|intimal flap|false lumen",
       sources="t", tests="chest x-ray; ct chest"),
    _f("st_elevation", r"st[- ](?:segment )?elevation|st elevat\w*|stemi|(?:tombstone|convex) st|st-elevation",
       sources="t", tests="ecg"),
    _f("ischaemic_ecg", r"st[- ](?:segment )?depression|t[- ]wave inversion|inverted t[- ]waves|"
       r"t waves? (?:are )?inverted|dynamic (?:st|t)", sources="t", tests="ecg"),
    _f("pericarditis_ecg", r"saddle\w*|pr[- ](?:segment )?depression|widespread (?:concave )?st|concave st",
       sources="t", tests="ecg"),
    _f("af_ecg", r"atrial fibrillation|irregularly irregular|absent p[- ]waves|\bfast af\b", sources="t", tests="ecg"),
    _f("pe_ct", r"filling defects?|pulmonary embol\w*|emboli\b|saddle embol\w*|thrombus|thrombi\b",
       sources="t", tests="ct pulmonary angiogram"),
    _f("dvt_scan", r"thromb\w*|non-?compressible|\bclot\b|\bdvt\b", sources="t", tests="doppler ultrasound of the leg"),
    _f("ct_bleed", r"ha?emorrhage|blood in the (?:basal )?cisterns|subarachnoid (?:blood|ha?emorrhage)|"
       r"hyperdens\w* (?:blood|material|fluid) (?:in|within|filling) the|intraventricular blood|ha?ematoma",
       sources="t", tests="ct head; mri brain"),
    _f("ct_infarct", r"infarct\w*|isch(?:a)?emi\w*|loss of (?:the )?grey-?white|hyperdense (?:\w+ ){0,3}(?:artery|mca|"
       r"vessel|sign)|restricted diffusion|occlu\w*|hypodens\w*", sources="t", tests="ct head; mri brain"),
    _f("xanthochromia", r"xanthochromi\w*|(?:raised|high|elevated|many) (?:red cells|rbc|red blood cells|"
       r"erythrocytes)|bilirubin (?:peak|present|detected)|blood-?stained csf|oxyha?emoglobin",
       sources="t", tests="lumbar puncture"),
    _f("csf_infection", r"turbid|cloudy|purulent|neutrophil\w*|gram[- ](?:positive|negative) (?:diplo)?cocci|(?:low|"
       r"reduced) (?:csf )?glucose|(?:raised|high|elevated) (?:white cells|wcc|wbc|protein)|organisms seen|"
       r"meningococc\w*|pneumococc\w*|neisseria meningitidis|wcc (?:\d{3,}|[5-9]\d)",
       sources="t", tests="lumbar puncture"),
    _f("blood_culture_pos", r"grew|growth of|isolated|gram[- ](?:positive|negative)|positive (?:blood )?culture",
       sources="t", tests="blood cultures"),
    _f("urine_infection", r"nitrites? (?:\+|positive|present|pos)|positive (?:for )?(?:leucocytes|leukocytes|"
       r"nitrites?)|(?:leucocytes|leukocytes) (?:\+|positive|\d\+|large|moderate|\+\+)|pyuria|e\. ?coli|escherichia|"
       r"klebsiella|proteus|10\^5|cfu|bacteri\w*", sources="t", tests="urinalysis; urine culture"),
    _f("haematuria_test", r"blood (?:\+|positive|\d\+|large|moderate|trace|\+\+)|(?:non-?visible |"
       r"microscopic )?ha?ematuria|red (?:blood )?cells", sources="t", tests="urinalysis"),
    _f("urine_glucose_ketones", r"glucose (?:\+|\d\+|positive|\+\+)|ketones (?:\+|\d\+|positive|large|\+\+)",
       sources="t", tests="urinalysis"),
    _f("proteinuria", r"protein (?:\+|\d\+|positive|\+\+)|proteinuria|protein:?\s?creatinine ratio (?:of )?(?:[3-9]\d|"
       r"\d{3,})", sources="t", tests="urinalysis"),
    _f("gallstones", r"gall ?stones?|cholelithiasis|(?:thickened|oedematous) gall ?bladder|"
       r"gall ?bladder wall (?:is )?thicken\w*|pericholecystic|sonographic murphy|stones? in the gall ?bladder",
       sources="t", tests="abdominal ultrasound; ct abdomen and pelvis"),
    _f("kidney_stone_imaging", r"(?:renal|ureteric|ureteral|kidney|vuj|vesicoureteric|pelviureteric) (?:calcul\w*|"
       r"stones?)|(?:calcul\w*|stones?) (?:in|at) the (?:\w+ )?(?:ureter|kidney|vesicoureteric)|hydronephrosis|"
       r"hydroureter|urolithiasis", sources="t", tests="ct abdomen and pelvis; abdominal ultrasound"),
    _f("appendicitis_imaging", r"appendi\w*\b.{0,40}(?:dilated|thick\w*|inflam\w*|non-?compressible|fat stranding|"
       r"appendicolith|\d+ ?mm)|(?:inflamed|dilated|non-?compressible|thickened) appendi\w*|appendicolith|"
       r"periappendic\w*", sources="t", tests="abdominal ultrasound; ct abdomen and pelvis"),
    _f("pancreatitis_imaging", r"pancrea\w*\b.{0,30}(?:o?edema\w*|swollen|inflam\w*|stranding|bulky)|peripancreatic",
       sources="t", tests="abdominal ultrasound; ct abdomen and pelvis"),
    _f("free_fluid", r"free fluid|ha?emoperitoneum|fluid in the pouch|pouch of douglas (?:fluid|blood)",
       sources="t", tests="pelvic ultrasound; abdominal ultrasound; ct abdomen and pelvis"),
    _f("ectopic_us", r"empty (?:uterus|uterine cavity)|no intrauterine (?:pregnancy|gestation\w*|sac)|adnexal (?:mass|"
       r"gestation\w*|ring)|ectopic|tubal", sources="t", tests="pelvic ultrasound"),
    _f("iup", r"intrauterine (?:pregnancy|gestational sac|gestation)|fetal pole|fetal heart (?:beat|activity)",
       sources="t", tests="pelvic ultrasound"),
    _f("torsion_us", r"torsion|(?:absent|reduced) (?:ovarian )?(?:blood )?flow|enlarged (?:left |right )?ovary|"
       r"whirlpool", sources="t", tests="pelvic ultrasound"),
    _f("pid_sti", r"chlamydia (?:trachomatis )?(?:detected|positive)|gonorrho?ea (?:detected|positive)|"
       r"neisseria gonorrho\w*|(?:chlamydia|gonorrho?ea) naat (?:detected|positive)", sources="t", tests="sti screen"),
    _f("strep_pos", r"(?:group a )?strep\w* (?:a )?(?:is )?(?:detected|isolated|positive|grown)|"
       r"positive (?:rapid )?strep|beta-?ha?emolytic|streptococcus pyogenes", sources="t", tests="throat swab"),
    _f("flu_pos", r"influenza (?:a|b)?\s?(?:\(\w+\) )?(?:is )?(?:detected|positive)",
       sources="t", tests="respiratory viral pcr"),
    _f("covid_pos", r"(?:sars-cov-2|covid-19|covid|coronavirus) (?:rna )?(?:is )?(?:detected|positive)",
       sources="t", tests="respiratory viral pcr"),
    _f("rsv_pos", r"rsv (?:is )?(?:detected|positive)|respiratory syncytial virus (?:is )?(?:detected|positive)",
       sources="t", tests="respiratory viral pcr"),
    _f("monospot_pos", r"(?:heterophile|monospot|paul-?bunnell)\b.{0,25}(?:positive|detected)|positive (?:monospot|"
       r"heterophile)|ebv (?:vca )?igm (?:positive|detected)|atypical lymphocytes|reactive lymphocytes",
       sources="t", tests="monospot"),
    _f("atypical_lymphocytes", r"atypical lymphocytes|reactive lymphocytes|lymphocytosis",
       sources="t", tests="complete blood count"),
    _f("obstruction_imaging", r"dilated (?:small )?bowel loops|dilated (?:loops of )?(?:small )?bowel|"
       r"air-?fluid levels|transition point|obstruct\w*", sources="t", tests="abdominal x-ray; ct abdomen and pelvis"),
    _f("intussusception_us", r"target sign|doughnut sign|intussuscept\w*|pseudokidney",
       sources="t", tests="abdominal ultrasound"),
    _f("pyloric_us", r"pylori?c?\w*\b.{0,30}(?:thick\w*|hypertroph\w*|elongat\w*|\d+ ?mm)|hypertroph\w* pylor\w*",
       sources="t", tests="abdominal ultrasound"),
    _f("tox_positive", r"paracetamol (?:level )?(?:of )?\d{2,}|above the (?:treatment )?line|(?:paracetamol|"
       r"salicylate) (?:is )?(?:detected|raised|elevated|present)", sources="t", tests="toxicology screen"),
    _f("fungal_scraping", r"hyphae|dermatophyte\w*|trichophyton|fungal elements (?:seen|present)|koh positive|"
       r"positive (?:for )?fung\w*", sources="t", tests="skin scraping"),
    _f("stool_pathogen", r"campylobacter|salmonella|shigella|e\. ?coli|norovirus|rotavirus|c\. ?diff\w*|clostridi\w*|"
       r"giardia|cryptosporid\w*", sources="t", tests="stool culture"),
    _f("reversibility", r"(?:significant|marked|positive) reversibility|(?:is )?reversible|"
       r"improve\w* (?:by )?\d+ ?% (?:after|with|post)|bronchodilator response", sources="t", tests="spirometry"),
    # ---- numeric test findings (set by the doctor's result parser) ---------------------------
    _f("raised_wcc", r"leucocytosis|leukocytosis|neutrophilia", sources="t", tests="complete blood count"),
    _f("anaemia", r"ana?emi\w*|microcytic|hypochromic", sources="t", tests="complete blood count"),
    _f("raised_urea", r"uraemi\w*|urea (?:is )?(?:raised|elevated|high)", sources="t", tests="basic metabolic panel"),
    _f("raised_crp", r"crp (?:is )?(?:raised|elevated|high)", sources="t", tests="c-reactive protein"),
    _f("raised_esr", r"esr (?:is )?(?:raised|elevated|high)", sources="t", tests="erythrocyte sedimentation rate"),
    _f("raised_troponin", r"troponin (?:is )?(?:raised|elevated|high|positive)", sources="t", tests="troponin"),
    _f("raised_ddimer", r"d-?dimer (?:is )?(?:raised|elevated|high|positive)", sources="t", tests="d-dimer"),
    _f("raised_bnp", r"bnp (?:is )?(?:raised|elevated|high)", sources="t", tests="bnp"),
    _f("reduced_ef", r"(?:reduced|impaired|poor) (?:lv |left ventricular )?(?:systolic )?(?:function|"
       r"ejection fraction)|dilated (?:left ventricle|lv|cardiomyopathy)", sources="t", tests="echocardiogram"),
    _f("hyperglycaemia", r"hyperglyc\w*", sources="t", tests="blood glucose"),
    _f("hypoglycaemia_lab", r"hypoglyc\w*", sources="t", tests="blood glucose"),
    _f("ketones", r"ketonaemia|ketosis", sources="t", tests="serum ketones"),
    _f("acidosis", r"acidosis|acidaemia", sources="t", tests="arterial blood gas"),
    _f("hypercapnia", r"hypercapni\w*|type 2 respiratory failure", sources="t", tests="arterial blood gas"),
    _f("raised_lipase", r"(?:lipase|amylase) (?:is )?(?:raised|elevated|high)", sources="t", tests="lipase"),
    _f("high_tsh", r"tsh (?:is )?(?:raised|elevated|high)|primary hypothyroid\w*",
       sources="t", tests="thyroid function tests"),
    _f("low_tsh", r"tsh (?:is )?(?:suppressed|low|undetectable)|hyperthyroid\w*|thyrotoxic\w*",
       sources="t", tests="thyroid function tests"),
    _f("hba1c_high", r"hba1c (?:is )?(?:raised|elevated|high)", sources="t", tests="hba1c"),
    _f("low_ferritin", r"ferritin (?:is )?(?:low|reduced)|iron defici\w*", sources="t", tests="ferritin"),
    _f("deranged_lft", r"(?:alt|ast|alp|transaminases|lfts?) (?:are |is )?(?:raised|elevated|deranged|high)|"
       r"transaminitis|cholestatic|obstructive picture", sources="t", tests="liver function tests"),
    _f("raised_bilirubin", r"hyperbilirubin\w*|bilirubin (?:is )?(?:raised|elevated|high)",
       sources="t", tests="liver function tests"),
    _f("hcg_positive", r"hcg (?:is )?(?:positive|detected)|positive (?:pregnancy|hcg)|pregnancy test (?:is )?positive",
       sources="t", tests="urine pregnancy test"),
    _f("phq_high", r"(?:moderate|severe|moderately severe) depression", sources="t", tests="phq-9"),
    _f("gad_high", r"(?:moderate|severe) anxiety", sources="t", tests="gad-7"),
    _f("low_peak_flow", r"peak flow (?:is )?(?:reduced|low)", sources="t", tests="peak flow"),
    _f("obstructive_spirometry", r"obstructive (?:pattern|defect|picture)|airflow obstruction",
       sources="t", tests="spirometry"),
)

FEATURES: dict[str, Feature] = {f.key: f for f in FEATURE_LIST}


def _weights(spec: str) -> dict[str, float]:
    """"fever:3 cough:-1" -> {"fever": 3.0, "cough": -1.0}."""
    out: dict[str, float] = {}
    for item in spec.split():
        key, _, weight = item.partition(":")
        out[key] = float(weight) if weight else 1.0
    return out


def _c(name: str, specialty: str, cues: str, features: str, against: str, exam: str, tests: str, plan: str,
       disposition: str, ages: tuple[float, float] = (0, 120), sex: str | None = None,
       pregnancy: str | None = None) -> Condition:
    """A condition from readable strings; tests are ';'-separated catalogue names."""
    return Condition(name, specialty, tuple(cues.split()), _weights(features), _weights(against), tuple(exam.split()),
                     tuple(t.strip() for t in tests.split(";") if t.strip()), plan, disposition, ages, sex, pregnancy)


CONDITIONS: tuple[Condition, ...] = (
    # ---- cardiology ------------------------------------------------------------------------
    _c("ST-elevation myocardial infarction (STEMI)", "cardiology", "chest_pain",
       "chest_pain:3 radiation_arm_jaw:2 sweating:2 nausea_vomiting:1 breathless:0.5 hours:1 "
       "chest_pain_exertional:0.5 smoker:0.5 diabetes_hx:0.5 hypertension_hx:0.5 cardiac_hx:1 pale:0.5 "
       "hypotension:0.5 bradycardia:0.5 st_elevation:7 raised_troponin:3 pleuritic:-1.5 fever:-1 "
       "positional_chest:-1.5 tearing_back:-1 pericarditis_ecg:-3 weeks_months:-1",
       "st_elevation:4 raised_troponin:2 chest_pain:2", "cardiovascular respiratory",
       "ecg; troponin; complete blood count; basic metabolic panel; chest x-ray",
       "Aspirin 300 mg plus a second antiplatelet, GTN and IV morphine for pain, oxygen only if SpO2 < 94%, and "
       "immediate primary PCI (thrombolysis if PCI cannot be done within 2 hours); then beta-blocker, ACE inhibitor "
       "and high-intensity statin.",
       "Emergency: activate the cath lab and admit to the coronary care unit.", ages=(25, 110)),
    _c("non-ST-elevation myocardial infarction (NSTEMI)", "cardiology", "chest_pain",
       "chest_pain:3 radiation_arm_jaw:1.5 sweating:1.5 nausea_vomiting:0.5 breathless:0.5 hours:0.5 "
       "chest_pain_exertional:1 cardiac_hx:1.5 smoker:0.5 diabetes_hx:0.5 hypertension_hx:0.5 raised_troponin:4.5 "
       "ischaemic_ecg:3 st_elevation:-2 pleuritic:-1.5 fever:-1 positional_chest:-1.5 pericarditis_ecg:-2",
       "raised_troponin:3.5 chest_pain:2", "cardiovascular respiratory",
       "ecg; troponin; complete blood count; basic metabolic panel; chest x-ray",
       "Aspirin 300 mg, fondaparinux, a second antiplatelet, GTN and analgesia; beta-blocker and statin; GRACE score "
       "with coronary angiography within 72 hours.",
       "Admit to the coronary care unit.", ages=(25, 110)),
    _c("stable angina", "cardiology", "chest_pain chest_pain_exertional",
       "chest_pain:2 chest_pain_exertional:4 rest_relief:3 weeks_months:1 recurrent:1 cardiac_hx:1 smoker:1 "
       "hypertension_hx:0.5 diabetes_hx:0.5 raised_troponin:-4 st_elevation:-4 hours:-1 sweating:-0.5 pleuritic:-1",
       "chest_pain_exertional:2", "cardiovascular",
       "ecg; troponin; lipid profile; hba1c; complete blood count",
       "GTN spray as needed, aspirin 75 mg, a beta-blocker or calcium-channel blocker, and a statin; risk-factor "
       "control.",
       "Follow up: refer to the rapid-access chest pain clinic for CT coronary angiography.", ages=(30, 110)),
    _c("atrial fibrillation", "cardiology", "palpitations breathless dizziness",
       "palpitations:4 irregular_pulse:3 af_ecg:6 breathless:1 dizziness:1 fatigue:0.5 alcohol_heavy:0.5 "
       "hypertension_hx:0.5 tachycardia:1 weakness_one_side:-1 focal_deficit:-2 speech_difficulty:-1",
       "af_ecg:4 palpitations:1.5", "cardiovascular",
       "ecg; thyroid function tests; basic metabolic panel; complete blood count; echocardiogram",
       "Rate control with a beta-blocker (bisoprolol); CHA2DS2-VASc score and anticoagulation with a DOAC (apixaban) "
       "if indicated; check thyroid function; DC cardioversion if haemodynamically unstable.",
       "Follow up in the AF clinic; admit if unstable.", ages=(30, 120)),
    _c("acute decompensated heart failure", "cardiology", "breathless ankle_swelling",
       "breathless:3 orthopnoea:3 pnd:3 ankle_swelling:3 weight_gain:1 fatigue:0.5 cough:0.5 crackles:2 raised_jvp:2 "
       "tachycardia:0.5 hypoxia:1 cardiac_hx:1.5 hypertension_hx:0.5 raised_bnp:5 pulmonary_oedema_xray:4 "
       "reduced_ef:3 fever:-1 pleuritic:-1",
       "raised_bnp:3 breathless:2", "cardiovascular respiratory",
       "bnp; chest x-ray; ecg; basic metabolic panel; troponin; echocardiogram",
       "Sit upright, oxygen if hypoxic, IV furosemide; start ACE inhibitor, beta-blocker and mineralocorticoid "
       "antagonist once stable; echocardiogram.",
       "Admit to hospital (cardiology).", ages=(40, 120)),
    _c("acute pericarditis", "cardiology", "chest_pain",
       "chest_pain:2 pleuritic:2 positional_chest:4 runny_nose:1 fever:1 days:0.5 pericardial_rub:4 "
       "pericarditis_ecg:5 st_elevation:1 raised_crp:1 radiation_arm_jaw:-0.5 sweating:-0.5 cardiac_hx:-0.5",
       "positional_chest:1.5", "cardiovascular respiratory",
       "ecg; troponin; c-reactive protein; complete blood count; chest x-ray; echocardiogram",
       "NSAID (ibuprofen) with gastric protection plus colchicine for 3 months; avoid strenuous exercise until "
       "recovered.",
       "Follow up in clinic; admit if fever, large effusion or raised troponin.", ages=(12, 70)),
    _c("aortic dissection", "cardiology", "chest_pain tearing_back",
       "tearing_back:5 chest_pain:2 sudden_onset:2 worst_ever:1 hypertension_hx:1.5 high_bp:1 syncope:1 "
       "weakness_one_side:0.5 widened_mediastinum:6 murmur:0.5 pleuritic:-1",
       "tearing_back:2", "cardiovascular respiratory",
       "ecg; chest x-ray; troponin; ct chest",
       "IV labetalol to a systolic BP below 120 mmHg, analgesia, urgent CT aortogram; cardiothoracic surgery for type "
       "A dissection.",
       "Emergency: resuscitation area and immediate cardiothoracic referral.", ages=(35, 120)),
    # ---- pulmonology ------------------------------------------------------------------------
    _c("community-acquired pneumonia", "pulmonology", "cough fever breathless",
       "cough:3 fever:3 sputum:2 breathless:1.5 pleuritic:1.5 fatigue:0.5 days:0.5 pyrexia:1.5 tachypnoea:1 "
       "tachycardia:0.5 hypoxia:1 focal_chest_signs:3 crackles:1.5 consolidation:6 raised_crp:1.5 raised_wcc:1.5 "
       "sputum_pathogen:2 confusion:0.5 weeks_months:-1",
       "consolidation:3 cough:2 fever:1", "respiratory cardiovascular",
       "chest x-ray; complete blood count; c-reactive protein; basic metabolic panel; sputum culture; blood cultures",
       "CURB-65 score; oral amoxicillin for 5 days (doxycycline or clarithromycin if penicillin-allergic), "
       "antipyretics and fluids; safety-net advice.",
       "Treat at home with review in 48 hours if CURB-65 is 0-1; admit if 2 or more.", ages=(5, 120)),
    _c("pulmonary embolism", "pulmonology", "breathless chest_pain",
       "breathless:3 pleuritic:2 sudden_onset:1.5 haemoptysis:2 calf_swelling:2.5 clot_risk:2.5 syncope:1 "
       "tachycardia:1.5 tachypnoea:1 hypoxia:1.5 raised_ddimer:3 pe_ct:7 dvt_scan:3 fever:-0.5 sputum:-1 "
       "consolidation:-1 wheeze:-1",
       "pe_ct:5 raised_ddimer:3", "respiratory cardiovascular musculoskeletal",
       "d-dimer; ecg; chest x-ray; troponin; ct pulmonary angiogram",
       "Wells score; start treatment-dose anticoagulation (apixaban or LMWH) while awaiting CTPA; thrombolysis if "
       "massive PE with shock.",
       "Admit for anticoagulation and monitoring.", ages=(15, 120)),
    _c("acute asthma exacerbation", "pulmonology", "wheeze breathless cough chest_tightness",
       "wheeze:4 breathless:3 chest_tightness:2 cough:1 night_cough:2 asthma_triggers:2 asthma_hx:3 runny_nose:0.5 "
       "tachypnoea:1 tachycardia:0.5 low_peak_flow:4 reversibility:3 fever:-0.5 sputum:-0.5 smoker:-0.5 "
       "consolidation:-2",
       "wheeze:2", "respiratory",
       "peak flow; chest x-ray; arterial blood gas; spirometry",
       "Salbutamol via spacer or nebuliser, oral prednisolone 40-50 mg for 5 days, ipratropium if severe, oxygen to "
       "SpO2 94-98%; review inhaler technique and step up preventer therapy.",
       "Follow up within 48 hours; admit if severe or life-threatening features.", ages=(2, 80)),
    _c("acute exacerbation of COPD", "pulmonology", "breathless cough",
       "breathless:3 cough:2 sputum:2.5 wheeze:2 smoker:3 copd_hx:4 weeks_months:0.5 hypoxia:1 tachypnoea:1 "
       "hyperinflation:2 obstructive_spirometry:3 hypercapnia:3 fever:0.5 consolidation:-1",
       "smoker:2", "respiratory cardiovascular",
       "chest x-ray; arterial blood gas; complete blood count; c-reactive protein; sputum culture",
       "Salbutamol and ipratropium nebulisers, prednisolone 30 mg for 5 days, antibiotic (amoxicillin or doxycycline) "
       "if sputum is purulent, controlled oxygen to SpO2 88-92%.",
       "Admit if hypoxic or hypercapnic; otherwise follow up in 2 days.", ages=(40, 120)),
    _c("spontaneous pneumothorax", "pulmonology", "breathless chest_pain",
       "sudden_onset:2.5 pleuritic:2.5 breathless:3 chest_pain:1.5 smoker:1 hours:0.5 pneumothorax_signs:4 "
       "tachycardia:0.5 hypoxia:0.5 pneumothorax_xray:7 fever:-1 sputum:-1",
       "pneumothorax_xray:4", "respiratory",
       "chest x-ray; arterial blood gas",
       "Small and minimally symptomatic: observe and repeat x-ray; symptomatic or large: needle aspiration, chest "
       "drain if it fails; no flying or diving until resolved; smoking cessation.",
       "Admit for observation or drainage.", ages=(12, 60)),
    _c("acute bronchitis", "pulmonology", "cough",
       "cough:3 sputum:1.5 runny_nose:1 fever:0.5 wheeze:0.5 fatigue:0.5 days:1 consolidation:-4 focal_chest_signs:-2 "
       "hypoxia:-1",
       "cough:3", "respiratory",
       "chest x-ray; c-reactive protein",
       "Self-care: fluids, rest, paracetamol; antibiotics not usually needed; return if symptoms last over 3 weeks or "
       "breathing worsens.",
       "Discharge home with safety-net advice.", ages=(5, 120)),
    _c("lung cancer", "pulmonology", "cough weight_loss haemoptysis",
       "weight_loss:3 haemoptysis:3 cough:2 smoker:3 weeks_months:1.5 fatigue:1 breathless:1 hoarse:1 night_sweats:1 "
       "lung_mass:6 fever:-1",
       "weight_loss:1", "respiratory lymph_nodes",
       "chest x-ray; complete blood count; ct chest",
       "Urgent 2-week-wait referral, contrast CT chest, bronchoscopy and biopsy; discuss at the lung cancer MDT.",
       "Refer urgently to respiratory (suspected cancer pathway).", ages=(40, 120)),
    # ---- infectious disease -------------------------------------------------------------------
    _c("influenza", "infectious_disease", "fever myalgia cough",
       "fever:3 myalgia:3 cough:1.5 sore_throat:1 runny_nose:1 headache:1 fatigue:1.5 sudden_onset:1 sick_contacts:1 "
       "days:1 pyrexia:1 flu_pos:7 consolidation:-3 focal_chest_signs:-1.5",
       "flu_pos:2 fever:2", "respiratory heent",
       "respiratory viral pcr; complete blood count; c-reactive protein; chest x-ray",
       "Rest, fluids, paracetamol or ibuprofen; oseltamivir within 48 hours if at high risk of complications.",
       "Discharge home with safety-net advice."),
    _c("COVID-19", "infectious_disease", "fever cough loss_of_smell",
       "fever:2 cough:2 loss_of_smell:4 breathless:1 fatigue:1 myalgia:1 headache:0.5 sick_contacts:1 days:0.5 "
       "covid_pos:7 consolidation:-1",
       "covid_pos:3", "respiratory",
       "respiratory viral pcr; chest x-ray; complete blood count; c-reactive protein",
       "Supportive care and isolation advice; antivirals if high risk; pulse oximetry and oxygen if SpO2 falls.",
       "Discharge home with safety-net advice; admit if hypoxic."),
    _c("viral upper respiratory tract infection", "infectious_disease", "runny_nose sore_throat cough",
       "runny_nose:3 sore_throat:1.5 cough:1.5 fever:0.5 fatigue:0.5 days:1 sick_contacts:0.5 consolidation:-3 "
       "raised_crp:-1 tonsillar_exudate:-1 tm_bulging:-1",
       "runny_nose:2", "heent respiratory",
       "c-reactive protein",
       "Self-care: fluids, rest, paracetamol or ibuprofen, saline nasal drops; no antibiotics.",
       "Discharge home with safety-net advice."),
    _c("acute tonsillitis", "infectious_disease", "sore_throat",
       "sore_throat:4 fever:2.5 tonsillar_exudate:4 swollen_glands:1.5 pyrexia:1 cough:-2 runny_nose:-1.5 strep_pos:5 "
       "monospot_pos:-3 splenomegaly:-2",
       "sore_throat:3", "heent lymph_nodes neck",
       "throat swab; complete blood count; c-reactive protein; monospot",
       "FeverPAIN or Centor score; phenoxymethylpenicillin for 10 days if high score (clarithromycin if "
       "penicillin-allergic); analgesia and fluids; safety-net for quinsy.",
       "Discharge home.", ages=(2, 80)),
    _c("infectious mononucleosis (glandular fever)", "infectious_disease", "sore_throat fatigue swollen_glands",
       "sore_throat:3 fatigue:3 swollen_glands:3 fever:2 tonsillar_exudate:1.5 splenomegaly:3 monospot_pos:7 "
       "atypical_lymphocytes:2 weeks_months:0.5 days:0.5 rash:0.5 cough:-1",
       "monospot_pos:3", "heent lymph_nodes abdominal",
       "monospot; complete blood count; liver function tests; throat swab",
       "Supportive care: fluids, paracetamol or ibuprofen, rest; avoid contact sports for 4-8 weeks (splenic rupture) "
       "and alcohol.",
       "Discharge home with follow-up if not improving.", ages=(10, 35)),
    _c("bacterial meningitis", "infectious_disease", "headache confusion neck_stiffness non_blanching photophobia",
       "headache:2.5 fever:3 neck_stiffness:4 photophobia:2 confusion:2 non_blanching:4 rash:1 nausea_vomiting:1 "
       "pyrexia:2 tachycardia:0.5 hypotension:0.5 raised_wcc:1.5 raised_crp:1.5 csf_infection:7 blood_culture_pos:2 "
       "worst_ever:-0.5 visual_aura:-1.5 recurrent:-1.5",
       "fever:2 neck_stiffness:1", "neck neurological skin heent",
       "blood cultures; complete blood count; c-reactive protein; lumbar puncture; ct head",
       "IV ceftriaxone immediately (add amoxicillin if over 60 or immunocompromised) with dexamethasone; blood "
       "cultures and LP when safe; notify public health for contact prophylaxis.",
       "Emergency admission (high-dependency care).", ages=(0, 120)),
    _c("sepsis", "infectious_disease", "hypotension confusion tachycardia",
       "fever:2 confusion:1.5 hypotension:3 tachycardia:2 tachypnoea:2 pyrexia:1 blood_culture_pos:3 raised_wcc:1 "
       "raised_crp:1 fatigue:0.5",
       "", "respiratory abdominal skin",
       "blood cultures; complete blood count; c-reactive protein; arterial blood gas; urinalysis; chest x-ray",
       "Sepsis Six within an hour: oxygen, blood cultures, IV broad-spectrum antibiotics, IV fluids, lactate, urine "
       "output; find the source.",
       "Emergency admission."),
    _c("urinary tract infection (cystitis)", "infectious_disease", "dysuria frequency",
       "dysuria:4 frequency:3 lower_abdo_pain:1.5 haematuria:1 smelly_urine:2 urine_infection:5 fever:-0.5 "
       "loin_pain:-1.5 renal_angle:-1.5 vaginal_discharge:-1",
       "urine_infection:3 dysuria:2", "abdominal genitourinary",
       "urinalysis; urine culture; urine pregnancy test",
       "Nitrofurantoin 100 mg modified-release twice daily for 3 days (women), fluids and analgesia; safety-net for "
       "fever or loin pain.",
       "Discharge home.", ages=(2, 120)),
    _c("acute pyelonephritis", "infectious_disease", "loin_pain dysuria frequency renal_angle",
       "loin_pain:4 fever:3 dysuria:2 frequency:1.5 nausea_vomiting:1.5 renal_angle:4 pyrexia:2 tachycardia:1 "
       "urine_infection:4 raised_wcc:1 raised_crp:1.5 blood_culture_pos:1 colicky:-1",
       "urine_infection:2 fever:1.5", "abdominal genitourinary",
       "urinalysis; urine culture; complete blood count; c-reactive protein; basic metabolic panel; blood cultures",
       "Oral cefalexin or co-amoxiclav for 7-10 days (IV if vomiting or septic), analgesia and fluids; urine culture "
       "to guide therapy.",
       "Admit if septic or vomiting; otherwise follow up in 48 hours.", ages=(1, 120)),
    _c("cellulitis", "infectious_disease", "skin_red_hot",
       "skin_red_hot:4 fever:1.5 skin_break:1.5 pyrexia:1 raised_crp:1.5 raised_wcc:1 calf_swelling:0.5 "
       "diabetes_hx:0.5 itch:-1 dvt_scan:-1 ring_rash:-1 plaques_scale:-1",
       "skin_red_hot:3", "skin musculoskeletal lymph_nodes",
       "complete blood count; c-reactive protein; blood glucose",
       "Oral flucloxacillin 500 mg-1 g four times daily for 5-7 days (clarithromycin or doxycycline if "
       "penicillin-allergic); mark the margin, elevate the limb, analgesia.",
       "Discharge with review in 48 hours; admit if systemically unwell.", ages=(1, 120)),
    # ---- gastroenterology ---------------------------------------------------------------------
    _c("acute appendicitis", "gastroenterology", "abdominal_pain rif_pain",
       "abdominal_pain:2 rif_pain:3 migratory_pain:4 nausea_vomiting:1.5 loss_of_appetite:1.5 fever:1 pyrexia:1 "
       "rif_tenderness:4 peritonism:2 raised_wcc:1.5 raised_crp:1.5 appendicitis_imaging:7 diarrhoea:-0.5 "
       "dysuria:-0.5 weeks_months:-2 recurrent:-1",
       "rif_tenderness:2 abdominal_pain:3", "abdominal",
       "complete blood count; c-reactive protein; urinalysis; urine pregnancy test; abdominal ultrasound; ct abdomen "
       "and pelvis",
       "Nil by mouth, IV fluids, analgesia and IV antibiotics; laparoscopic appendicectomy.",
       "Emergency surgical admission.", ages=(3, 80)),
    _c("acute cholecystitis", "gastroenterology", "abdominal_pain ruq_pain",
       "ruq_pain:4 abdominal_pain:2 meal_related:1.5 fever:2 nausea_vomiting:1 shoulder_tip:1 epigastric_pain:0.5 "
       "murphy_sign:4 pyrexia:1 raised_wcc:1.5 raised_crp:1.5 gallstones:6 jaundice:0.5 deranged_lft:1 "
       "raised_bilirubin:0.5",
       "gallstones:3 abdominal_pain:3", "abdominal",
       "complete blood count; c-reactive protein; liver function tests; lipase; abdominal ultrasound",
       "Nil by mouth, IV fluids, analgesia and IV antibiotics; laparoscopic cholecystectomy within a week.",
       "Admit under general surgery.", ages=(18, 110)),
    _c("biliary colic", "gastroenterology", "abdominal_pain ruq_pain",
       "ruq_pain:3 abdominal_pain:1.5 meal_related:3 recurrent:2 epigastric_pain:1 nausea_vomiting:0.5 gallstones:4 "
       "fever:-2 murphy_sign:-1 raised_wcc:-1.5 raised_crp:-1.5",
       "abdominal_pain:3", "abdominal",
       "liver function tests; complete blood count; abdominal ultrasound",
       "Analgesia (NSAID), low-fat diet, and referral for elective laparoscopic cholecystectomy.",
       "Follow up with general surgery.", ages=(18, 110)),
    _c("acute pancreatitis", "gastroenterology", "abdominal_pain epigastric_pain",
       "epigastric_pain:3 abdominal_pain:2 back_radiation:3 nausea_vomiting:2 alcohol_heavy:2.5 gallstones:1 "
       "epigastric_tender:1.5 tachycardia:0.5 raised_lipase:7 pancreatitis_imaging:4",
       "raised_lipase:4 abdominal_pain:3", "abdominal",
       "lipase; complete blood count; liver function tests; basic metabolic panel; c-reactive protein; abdominal "
       "ultrasound",
       "IV fluids, analgesia, antiemetic; early oral feeding as tolerated; severity scoring; treat the cause (ERCP "
       "for obstructing stones, alcohol support).",
       "Admit to hospital.", ages=(15, 110)),
    _c("acute gastroenteritis", "gastroenterology", "diarrhoea nausea_vomiting",
       "diarrhoea:4 nausea_vomiting:3 abdominal_pain:1 fever:1 sick_contacts:2 food_trigger:2.5 days:1 dehydration:1 "
       "stool_pathogen:3 rif_tenderness:-2 peritonism:-2 weeks_months:-1.5",
       "diarrhoea:2.5", "abdominal general",
       "basic metabolic panel; complete blood count; stool culture; c-reactive protein",
       "Oral rehydration and fluids, antiemetic if needed, hand hygiene; antibiotics not usually needed.",
       "Discharge home with safety-net advice."),
    _c("gastro-oesophageal reflux disease (GORD)", "gastroenterology", "heartburn epigastric_pain chest_pain",
       "heartburn:5 epigastric_pain:1.5 meal_related:2 antacid_use:1 weeks_months:1 recurrent:0.5 chest_pain:0.5 "
       "weight_loss:-1.5 haematemesis:-1 melaena:-1 st_elevation:-4 raised_troponin:-4 sweating:-1",
       "heartburn:2", "abdominal",
       "complete blood count; ecg",
       "Lifestyle advice (weight loss, smaller and earlier meals, raise the head of the bed, less alcohol and "
       "caffeine) and a full-dose PPI (omeprazole 20 mg) for 4-8 weeks.",
       "Follow up in 4-8 weeks; endoscopy if alarm features.", ages=(12, 120)),
    _c("peptic ulcer disease", "gastroenterology", "epigastric_pain heartburn",
       "epigastric_pain:3 meal_related:1.5 nsaid_use:2.5 nausea_vomiting:0.5 heartburn:1 weeks_months:1 recurrent:0.5 "
       "alcohol_heavy:0.5 epigastric_tender:1 smoker:0.3 haematemesis:-1 melaena:-1 weight_loss:-1",
       "", "abdominal",
       "complete blood count; liver function tests; lipase",
       "Stop NSAIDs, full-dose PPI for 8 weeks, test and treat Helicobacter pylori; endoscopy if alarm features or "
       "over 55 with weight loss.",
       "Follow up in primary care.", ages=(15, 120)),
    _c("bleeding peptic ulcer (upper GI bleed)", "gastroenterology", "haematemesis melaena",
       "haematemesis:4 melaena:4 epigastric_pain:1.5 nsaid_use:2.5 syncope:1.5 dizziness:1 tachycardia:1.5 "
       "hypotension:2 pale:1 anaemia:2.5 raised_urea:1.5 alcohol_heavy:0.5 epigastric_tender:0.5",
       "", "abdominal cardiovascular general",
       "complete blood count; basic metabolic panel; coagulation screen; liver function tests",
       "ABC resuscitation with two large-bore cannulae, IV fluids and transfusion if needed; Glasgow-Blatchford "
       "score; endoscopy within 24 hours with endoscopic haemostasis and IV PPI afterwards; stop NSAIDs; test and "
       "treat Helicobacter pylori.",
       "Admit to hospital (gastroenterology).", ages=(15, 120)),
    _c("irritable bowel syndrome", "gastroenterology", "abdominal_pain bloating altered_bowel",
       "abdominal_pain:2 bloating:3 altered_bowel:4 weeks_months:2 recurrent:1 diarrhoea:0.5 constipation:0.5 "
       "worry:0.5 weight_loss:-2 bloody_stool:-2 fever:-1 raised_crp:-1 anaemia:-1",
       "", "abdominal",
       "complete blood count; c-reactive protein",
       "Explain the diagnosis; regular meals, fibre adjustment and a trial of low-FODMAP diet; antispasmodic "
       "(mebeverine) and loperamide or laxative as needed.",
       "Follow up in primary care.", ages=(14, 60)),
    _c("ulcerative colitis", "gastroenterology", "bloody_stool diarrhoea",
       "bloody_stool:4 diarrhoea:3 abdominal_pain:1 weight_loss:1 weeks_months:1.5 fatigue:0.5 anaemia:1 "
       "raised_crp:1.5 frequency:0.5",
       "", "abdominal",
       "complete blood count; c-reactive protein; liver function tests; stool culture",
       "Refer to gastroenterology for colonoscopy and biopsy; mesalazine for mild-moderate disease, corticosteroids "
       "for flares.",
       "Refer to gastroenterology; admit if severe (6+ bloody stools with systemic upset).", ages=(12, 80)),
    _c("Crohn's disease", "gastroenterology", "abdominal_pain diarrhoea weight_loss",
       "abdominal_pain:2 rif_pain:1 diarrhoea:2.5 weight_loss:2.5 weeks_months:1.5 fatigue:0.5 smoker:0.5 anaemia:1 "
       "raised_crp:1.5 fever:0.5",
       "", "abdominal heent",
       "complete blood count; c-reactive protein; liver function tests; stool culture",
       "Refer to gastroenterology for ileocolonoscopy and MR enterography; corticosteroids to induce remission; stop "
       "smoking.",
       "Refer to gastroenterology.", ages=(10, 80)),
    _c("small bowel obstruction", "gastroenterology", "nausea_vomiting abdominal_pain bloating",
       "nausea_vomiting:3 bilious_vomit:1.5 abdominal_pain:2 colicky:1.5 bloating:3 constipation:3 prior_surgery:1.5 "
       "obstructed_bowel_signs:3 obstruction_imaging:7 dehydration:1 diarrhoea:-1.5",
       "", "abdominal",
       "abdominal x-ray; basic metabolic panel; complete blood count; ct abdomen and pelvis",
       "Nil by mouth, nasogastric decompression, IV fluids and electrolyte correction, analgesia; surgical review.",
       "Emergency surgical admission.", ages=(1, 120)),
    # ---- neurology -----------------------------------------------------------------------------
    _c("migraine", "neurology", "headache",
       "headache:3 visual_aura:4 photophobia:2.5 nausea_vomiting:1.5 unilateral_headache:2 throbbing:2 recurrent:2 "
       "weeks_months:1 sudden_onset:-2 worst_ever:-3 fever:-1.5 neck_stiffness:-2 focal_deficit:-2 ct_bleed:-5 "
       "raised_esr:-1 confusion:-1",
       "headache:3", "neurological heent",
       "complete blood count; erythrocyte sedimentation rate",
       "Acute: NSAID or paracetamol with a triptan (sumatriptan) and an antiemetic; headache diary, avoid triggers, "
       "limit painkillers to under 10 days a month; prophylaxis (propranolol or amitriptyline) if frequent; avoid the "
       "combined pill with aura.",
       "Follow up in primary care.", ages=(8, 70)),
    _c("tension-type headache", "neurology", "headache",
       "headache:3 band_headache:3 worry:1 weeks_months:1 recurrent:1 photophobia:-1 visual_aura:-2 "
       "nausea_vomiting:-1 worst_ever:-3 sudden_onset:-2 fever:-1",
       "headache:3", "neurological heent",
       "complete blood count",
       "Reassurance, simple analgesia (paracetamol or ibuprofen) limited to avoid medication-overuse headache, stress "
       "management, sleep and exercise.",
       "Discharge home.", ages=(8, 120)),
    _c("subarachnoid haemorrhage", "neurology", "headache",
       "headache:3 worst_ever:4 sudden_onset:3 neck_stiffness:2 photophobia:1 nausea_vomiting:1 syncope:1.5 "
       "confusion:1 exertion_onset:0.5 high_bp:0.5 hours:1 ct_bleed:7 xanthochromia:6 gradual_onset:-2 recurrent:-1.5 "
       "visual_aura:-2 fever:-1",
       "headache:3", "neurological neck heent",
       "ct head; complete blood count; coagulation screen; lumbar puncture",
       "ABC, analgesia and antiemetic, nimodipine 60 mg 4-hourly, urgent non-contrast CT head (LP at 12 hours if CT "
       "negative), CT angiography and neurosurgical referral for aneurysm coiling.",
       "Emergency: immediate neurosurgical referral.", ages=(15, 110)),
    _c("acute ischaemic stroke", "neurology", "weakness_one_side speech_difficulty facial_droop",
       "weakness_one_side:4 speech_difficulty:3 facial_droop:1.5 focal_deficit:4 forehead_sparing:2 sudden_onset:2 "
       "hours:1.5 visual_disturbance:1 numbness_tingling:0.5 af_hx:1.5 irregular_pulse:1 af_ecg:1 hypertension_hx:1 "
       "high_bp:1 diabetes_hx:0.5 smoker:0.5 cardiac_hx:0.5 ct_infarct:5 ct_bleed:-4 seizure:-1 hypoglycaemia_lab:-3 "
       "resolved:-2 forehead_involved:-2",
       "weakness_one_side:1.5 focal_deficit:2", "neurological cardiovascular heent",
       "blood glucose; ct head; ecg; complete blood count; coagulation screen; basic metabolic panel",
       "Thrombolysis with alteplase if within 4.5 hours and CT excludes haemorrhage; thrombectomy for large-vessel "
       "occlusion; aspirin 300 mg after 24 hours; swallow screen.",
       "Emergency: stroke team and hyperacute stroke unit admission.", ages=(35, 120)),
    _c("transient ischaemic attack", "neurology", "weakness_one_side speech_difficulty",
       "weakness_one_side:2 speech_difficulty:2 numbness_tingling:1 facial_droop:1 resolved:4 visual_disturbance:1 "
       "af_hx:1 hypertension_hx:1 smoker:0.5 focal_deficit:-3 ct_infarct:-1 headache:-0.5 visual_aura:-1.5",
       "resolved:2", "neurological cardiovascular",
       "blood glucose; ecg; complete blood count; lipid profile; mri brain",
       "Aspirin 300 mg now, specialist TIA clinic within 24 hours, carotid imaging, statin and risk-factor control; "
       "no driving for a month.",
       "Refer to the TIA clinic within 24 hours.", ages=(35, 120)),
    _c("generalised tonic-clonic seizure", "neurology", "seizure syncope",
       "seizure:5 post_ictal:3 syncope:1 confusion:1 alcohol_heavy:0.5 focal_deficit:-1 fever:-1 palpitations:-0.5 "
       "hypoglycaemia_lab:-2 brief_episodes:-0.5",
       "seizure:3", "neurological",
       "blood glucose; basic metabolic panel; complete blood count; ecg; ct head",
       "Check glucose and electrolytes; first-seizure clinic referral for EEG and MRI; no driving until cleared, "
       "safety advice; benzodiazepine if a seizure lasts over 5 minutes.",
       "Refer to the first-seizure clinic.", ages=(5, 120)),
    _c("febrile seizure", "paediatrics", "seizure fever",
       "seizure:4 fever:3 pyrexia:2 post_ictal:1 runny_nose:0.5 ear_pain:0.5 neck_stiffness:-2 non_blanching:-2",
       "fever:2 seizure:2", "neurological heent skin",
       "blood glucose; urinalysis; complete blood count; c-reactive protein",
       "Antipyretics for comfort, find and treat the source of fever, reassure and educate parents; call an ambulance "
       "if a seizure lasts over 5 minutes.",
       "Observe, then discharge home if well.", ages=(0.5, 6)),
    _c("benign paroxysmal positional vertigo", "neurology", "vertigo dizziness",
       "vertigo:4 positional_vertigo:4 dizziness:1 nausea_vomiting:1 recurrent:1 brief_episodes:2 nystagmus:3 "
       "hearing_loss:-1.5 headache:-1 focal_deficit:-2 weakness_one_side:-2",
       "vertigo:3", "neurological heent",
       "blood glucose; ecg",
       "Epley manoeuvre, Brandt-Daroff exercises; avoid long-term vestibular sedatives.",
       "Discharge home.", ages=(30, 120)),
    _c("vestibular neuritis", "neurology", "vertigo dizziness",
       "vertigo:4 dizziness:1 nausea_vomiting:2 runny_nose:1 days:1 nystagmus:2 positional_vertigo:-1 "
       "brief_episodes:-1.5 focal_deficit:-2 weakness_one_side:-2 hearing_loss:-0.5",
       "vertigo:3", "neurological heent",
       "blood glucose",
       "Short course of prochlorperazine for nausea, then vestibular rehabilitation exercises.",
       "Discharge home with follow-up.", ages=(15, 120)),
    _c("giant cell arteritis", "neurology", "headache",
       "headache:2.5 unilateral_headache:1 scalp_tenderness:4 jaw_claudication:4 visual_disturbance:2 fatigue:0.5 "
       "girdle_stiffness:1.5 weight_loss:0.5 temporal_artery:4 raised_esr:4 raised_crp:2 weeks_months:0.5",
       "raised_esr:2", "heent neurological",
       "erythrocyte sedimentation rate; c-reactive protein; complete blood count",
       "Start prednisolone 40-60 mg immediately (60 mg if visual symptoms) before biopsy; same-day ophthalmology or "
       "rheumatology; temporal artery ultrasound or biopsy.",
       "Refer urgently to rheumatology (same day).", ages=(50, 120)),
    _c("Bell's palsy", "neurology", "facial_droop",
       "facial_droop:4 forehead_involved:4 ear_pain:1 hours:0.5 days:0.5 weakness_one_side:-1 speech_difficulty:-1.5 "
       "forehead_sparing:-4 focal_deficit:-2",
       "facial_droop:2", "neurological heent",
       "blood glucose",
       "Prednisolone within 72 hours of onset; eye protection (lubricating drops, taping at night); review if not "
       "improving in 3 weeks.",
       "Discharge with follow-up.", ages=(5, 120)),
    _c("vasovagal syncope", "neurology", "syncope",
       "syncope:4 dizziness:1.5 sweating:1 nausea_vomiting:0.5 brief_episodes:1 resolved:1 chest_pain:-1.5 "
       "palpitations:-1 seizure:-1 post_ictal:-1.5 exertion_onset:-1.5 focal_deficit:-2 st_elevation:-3",
       "syncope:3", "cardiovascular neurological",
       "ecg; blood glucose; complete blood count",
       "Explain and reassure, avoid triggers, counter-pressure manoeuvres, good fluid intake.",
       "Discharge home.", ages=(10, 60)),
    # ---- endocrinology --------------------------------------------------------------------------
    _c("diabetic ketoacidosis", "endocrinology", "thirst polyuria nausea_vomiting",
       "thirst:3 polyuria:3 weight_loss:1.5 nausea_vomiting:2 abdominal_pain:1.5 fatigue:1 confusion:1 "
       "ketotic_breath:3 dehydration:2 tachycardia:1 tachypnoea:1 diabetes_hx:1.5 hyperglycaemia:4 ketones:5 "
       "acidosis:3 urine_glucose_ketones:3",
       "hyperglycaemia:4 ketones:2", "general abdominal",
       "blood glucose; serum ketones; arterial blood gas; basic metabolic panel; urinalysis; complete blood count",
       "IV 0.9% saline, fixed-rate IV insulin 0.1 units/kg/h, potassium replacement, hourly glucose and ketones; "
       "treat the precipitant.",
       "Emergency admission (high-dependency unit).", ages=(1, 70)),
    _c("hypoglycaemia", "endocrinology", "confusion sweating",
       "shaky_hungry:3 tremor:1 sweating:2 confusion:2.5 palpitations:1 syncope:1 diabetes_hx:3 missed_meal:1.5 "
       "alcohol_heavy:0.5 hypoglycaemia_lab:7 hyperglycaemia:-3",
       "hypoglycaemia_lab:5", "neurological general",
       "blood glucose; basic metabolic panel; hba1c",
       "15-20 g fast-acting glucose by mouth (IM glucagon or IV 10% glucose if unable), then a long-acting "
       "carbohydrate; review insulin or sulfonylurea doses; driving advice.",
       "Discharge once recovered and eating; follow up with the diabetes team."),
    _c("type 2 diabetes mellitus", "endocrinology", "thirst polyuria fatigue",
       "thirst:3 polyuria:3 fatigue:1.5 weight_loss:0.5 visual_disturbance:1 weeks_months:1 hyperglycaemia:3 "
       "hba1c_high:5 ketones:-2 acidosis:-3 nausea_vomiting:-1",
       "hba1c_high:3 hyperglycaemia:2", "general",
       "blood glucose; hba1c; urinalysis; basic metabolic panel; lipid profile",
       "Lifestyle change (diet, weight loss, activity) and structured education; metformin titrated up; statin for "
       "cardiovascular risk; annual eye, foot and kidney checks.",
       "Follow up in primary care.", ages=(25, 120)),
    _c("hypothyroidism", "endocrinology", "fatigue weight_gain cold_intolerance",
       "fatigue:2.5 weight_gain:2.5 cold_intolerance:3 constipation:1.5 dry_skin_hair:1.5 low_mood:0.5 "
       "heavy_periods:0.5 bradycardia:1 hypothyroid_signs:2 weeks_months:1 high_tsh:7 low_tsh:-4",
       "high_tsh:4", "neck general",
       "thyroid function tests; complete blood count; lipid profile; hba1c",
       "Levothyroxine (50-100 micrograms daily; start low if elderly or cardiac disease), recheck TFTs in 6-8 weeks.",
       "Follow up in primary care.", ages=(15, 120)),
    _c("Graves' disease (hyperthyroidism)", "endocrinology", "weight_loss palpitations heat_intolerance",
       "weight_loss:2 heat_intolerance:3 palpitations:2 tremor:2.5 sweating:1 worry:1 diarrhoea:1 "
       "increased_appetite:1.5 eye_signs:3 goitre:3 tachycardia:1.5 irregular_pulse:0.5 weeks_months:1 low_tsh:7 "
       "high_tsh:-4",
       "low_tsh:4", "neck heent cardiovascular",
       "thyroid function tests; complete blood count; ecg; erythrocyte sedimentation rate",
       "Propranolol for symptoms, carbimazole, and endocrinology referral (radioiodine or surgery are options).",
       "Refer to endocrinology.", ages=(12, 100)),
    # ---- emergency --------------------------------------------------------------------------------
    _c("anaphylaxis", "emergency", "lip_tongue_swelling hives allergen_exposure",
       "allergen_exposure:3 lip_tongue_swelling:4 hives:3 breathless:2 wheeze:2 sudden_onset:1.5 hours:1 dizziness:1 "
       "syncope:1 hypotension:3 tachycardia:1 hoarse:1 barking_cough:0.5 fever:-1",
       "", "respiratory skin heent cardiovascular",
       "",
       "IM adrenaline 0.5 mg (1:1000) into the anterolateral thigh, repeat after 5 minutes if needed; high-flow "
       "oxygen, IV fluids, lie flat; antihistamine after stabilisation; adrenaline auto-injector and allergy clinic "
       "referral.",
       "Emergency: resuscitation area, observe at least 6-12 hours."),
    _c("deep vein thrombosis", "emergency", "calf_swelling",
       "calf_swelling:5 clot_risk:3 skin_red_hot:0.5 dvt_scan:7 raised_ddimer:2 fever:-1 skin_break:-1 breathless:-0.5",
       "calf_swelling:2 dvt_scan:4", "musculoskeletal cardiovascular",
       "d-dimer; doppler ultrasound of the leg; complete blood count; coagulation screen",
       "Wells score; proximal leg-vein ultrasound within 4 hours; anticoagulation (apixaban or rivaroxaban) for at "
       "least 3 months.",
       "Follow up in the DVT clinic.", ages=(12, 120)),
    _c("renal colic", "emergency", "loin_pain colicky",
       "loin_pain:3 colicky:3 loin_to_groin:3 restless_pain:2.5 haematuria:2 nausea_vomiting:1 sudden_onset:1 "
       "kidney_stone_imaging:7 haematuria_test:2.5 fever:-1.5 dysuria:-0.5",
       "haematuria_test:1", "abdominal genitourinary",
       "urinalysis; basic metabolic panel; complete blood count; ct abdomen and pelvis",
       "NSAID analgesia (IM or PR diclofenac), antiemetic, non-contrast CT KUB; tamsulosin for distal stones under 10 "
       "mm; urology if obstructed or infected.",
       "Discharge with urology follow-up if pain controlled; admit if infected or obstructed.", ages=(15, 100)),
    _c("ruptured abdominal aortic aneurysm", "emergency", "abdominal_pain syncope",
       "abdominal_pain:2 back_radiation:2 loin_pain:1 sudden_onset:2 syncope:2 hypotension:3 pulsatile_mass:5 "
       "tachycardia:1 smoker:1 hypertension_hx:0.5 pale:1",
       "", "abdominal cardiovascular",
       "abdominal ultrasound; complete blood count; ct abdomen and pelvis",
       "Permissive hypotension, crossmatch blood, immediate vascular surgery for open or endovascular repair.",
       "Emergency: immediate vascular surgical referral.", ages=(55, 120)),
    _c("paracetamol overdose", "emergency", "overdose",
       "overdose:5 suicidal:1.5 low_mood:1 nausea_vomiting:1 ruq_pain:0.5 tox_positive:4 deranged_lft:1.5",
       "", "abdominal mental_state",
       "toxicology screen; liver function tests; coagulation screen; basic metabolic panel; blood glucose",
       "Paracetamol level at 4 hours; IV acetylcysteine if above the treatment line or if staggered or timing "
       "unknown; psychiatric risk assessment.",
       "Admit for treatment and psychiatric assessment.", ages=(10, 120)),
    _c("alcohol withdrawal", "emergency", "tremor sweating",
       "alcohol_heavy:3 alcohol_stopped:2 tremor:3 sweating:2 worry:1 hallucinations:2 seizure:1 tachycardia:1 "
       "confusion:1 nausea_vomiting:0.5",
       "alcohol_heavy:2", "neurological general abdominal",
       "liver function tests; complete blood count; basic metabolic panel; blood glucose",
       "Chlordiazepoxide reducing regimen, IV or oral thiamine (Pabrinex), fluids and electrolytes; alcohol services "
       "referral.",
       "Admit if severe or withdrawal seizures; otherwise supervised community detox."),
    _c("iron deficiency anaemia", "haematology", "fatigue breathless",
       "fatigue:3 breathless:1.5 pale:2 heavy_periods:2.5 dizziness:1 palpitations:0.5 weeks_months:1 anaemia:5 "
       "low_ferritin:5 melaena:0.5",
       "anaemia:4", "general cardiovascular abdominal",
       "complete blood count; ferritin; vitamin b12 and folate",
       "Oral ferrous sulfate 200 mg once daily, continued for 3 months after Hb normalises; find the cause (menstrual "
       "loss, GI loss, coeliac disease).",
       "Follow up in primary care; refer for endoscopy if no clear cause.", ages=(1, 120)),
    _c("gout", "rheumatology", "joint_pain red_hot_joint",
       "joint_pain:3 red_hot_joint:4 sudden_onset:1 hours:0.5 alcohol_heavy:1 hypertension_hx:0.5 fever:-0.5",
       "", "musculoskeletal",
       "c-reactive protein; basic metabolic panel; complete blood count",
       "NSAID (naproxen) or colchicine, rest and ice; urate-lowering therapy (allopurinol) later if recurrent.",
       "Follow up in primary care.", ages=(20, 120)),
    # ---- obstetrics and gynaecology -----------------------------------------------------------------
    _c("ectopic pregnancy", "obstetrics_gynaecology", "lower_abdo_pain abdominal_pain vaginal_bleeding",
       "missed_period:4 lower_abdo_pain:3 abdominal_pain:1 vaginal_bleeding:3 shoulder_tip:1.5 syncope:1 dizziness:1 "
       "hypotension:1.5 tachycardia:1 lower_abdo_tender:2 cervical_excitation:1.5 hcg_positive:4 ectopic_us:7 "
       "free_fluid:3 iup:-4",
       "hcg_positive:6", "abdominal pelvic",
       "urine pregnancy test; complete blood count; pelvic ultrasound",
       "Resuscitate if unstable; urgent gynaecology review; laparoscopic salpingectomy, or methotrexate if stable "
       "with low hCG; anti-D if rhesus negative.",
       "Emergency gynaecology admission.", ages=(13, 50), sex="female", pregnancy="possible"),
    _c("miscarriage", "obstetrics_gynaecology", "vaginal_bleeding",
       "missed_period:2 vaginal_bleeding:4 lower_abdo_pain:2 pelvic_os_open:3 hcg_positive:2 iup:1 ectopic_us:-3",
       "hcg_positive:6", "abdominal pelvic",
       "urine pregnancy test; pelvic ultrasound; complete blood count",
       "Transvaginal ultrasound in the early pregnancy unit; expectant, medical (misoprostol) or surgical management; "
       "anti-D if indicated; emotional support.",
       "Follow up in the early pregnancy unit.", ages=(13, 50), sex="female", pregnancy="possible"),
    _c("pre-eclampsia", "obstetrics_gynaecology", "headache visual_disturbance face_hand_swelling",
       "headache:2 visual_disturbance:2.5 epigastric_pain:1.5 ruq_pain:1 face_hand_swelling:2.5 ankle_swelling:1 "
       "high_bp:4 proteinuria:4 nausea_vomiting:0.5 deranged_lft:1",
       "high_bp:4", "obstetric neurological abdominal",
       "urinalysis; complete blood count; liver function tests; basic metabolic panel; coagulation screen",
       "Admit to the obstetric unit; labetalol to control blood pressure, magnesium sulfate if severe, maternal and "
       "fetal monitoring; plan delivery.",
       "Admit to the obstetric unit.", ages=(13, 55), sex="female", pregnancy="required"),
    _c("pelvic inflammatory disease", "obstetrics_gynaecology", "lower_abdo_pain vaginal_discharge",
       "lower_abdo_pain:3 vaginal_discharge:3 fever:1.5 dyspareunia:2.5 new_partner:2.5 vaginal_bleeding:1 "
       "dysuria:0.5 cervical_excitation:4 lower_abdo_tender:1.5 pid_sti:5 raised_crp:1 hcg_positive:-3",
       "cervical_excitation:2", "abdominal pelvic",
       "urine pregnancy test; sti screen; urinalysis; complete blood count; c-reactive protein",
       "IM ceftriaxone 1 g once plus oral doxycycline 100 mg twice daily and metronidazole 400 mg twice daily for 14 "
       "days; abstain from sex, partner notification and testing.",
       "Follow up in 72 hours; admit if severely unwell.", ages=(13, 55), sex="female"),
    _c("ovarian torsion", "obstetrics_gynaecology", "lower_abdo_pain abdominal_pain",
       "sudden_onset:3 lower_abdo_pain:3 abdominal_pain:1 nausea_vomiting:2.5 lower_abdo_tender:2 torsion_us:7 "
       "fever:-0.5 hcg_positive:-1 vaginal_discharge:-1",
       "", "abdominal pelvic",
       "urine pregnancy test; pelvic ultrasound; complete blood count",
       "Analgesia, nil by mouth and emergency laparoscopy to untwist and conserve the ovary.",
       "Emergency gynaecology admission.", ages=(8, 60), sex="female"),
    # ---- psychiatry --------------------------------------------------------------------------------------
    _c("major depressive disorder (depression)", "psychiatry", "low_mood anhedonia fatigue sleep_problem",
       "low_mood:4 anhedonia:4 sleep_problem:2 fatigue:1.5 loss_of_appetite:1 concentration:1.5 suicidal:2 "
       "weeks_months:1.5 phq_high:5 high_tsh:-2 palpitations:-0.5 elevated_mood:-3",
       "low_mood:3", "mental_state",
       "phq-9; thyroid function tests; complete blood count",
       "Risk assessment and safety plan; guided self-help or CBT for mild depression; an SSRI (sertraline) plus "
       "high-intensity psychological therapy for moderate-severe depression; review in 2 weeks.",
       "Follow up in primary care in 1-2 weeks.", ages=(10, 120)),
    _c("generalised anxiety disorder", "psychiatry", "worry",
       "worry:4 weeks_months:2 sleep_problem:1.5 fatigue:1 concentration:1 palpitations:1 tremor:0.5 gad_high:5 "
       "panic_episode:-0.5 low_tsh:-2",
       "worry:3", "mental_state",
       "gad-7; thyroid function tests; complete blood count",
       "Psychoeducation and guided self-help or CBT; SSRI (sertraline) if persistent; avoid benzodiazepines.",
       "Follow up in primary care.", ages=(10, 120)),
    _c("panic disorder", "psychiatry", "panic_episode palpitations",
       "panic_episode:5 sudden_onset:1 palpitations:2 breathless:1.5 chest_pain:1 numbness_tingling:2 dizziness:1 "
       "sweating:1 tremor:1 recurrent:2 avoidance:1.5 gad_high:1.5 raised_troponin:-4 st_elevation:-4 af_ecg:-2 "
       "low_tsh:-2",
       "panic_episode:3", "cardiovascular mental_state",
       "ecg; blood glucose; thyroid function tests; gad-7",
       "Explain the symptoms, breathing techniques and CBT; SSRI if needed; avoid benzodiazepines.",
       "Follow up in primary care.", ages=(10, 100)),
    _c("first-episode psychosis", "psychiatry", "hallucinations paranoia",
       "hallucinations:4 paranoia:4 sleep_problem:0.5 cannabis:1.5 confusion:-1 fever:-1",
       "", "mental_state neurological",
       "toxicology screen; thyroid function tests; complete blood count; blood glucose",
       "Risk assessment; urgent referral to the early intervention in psychosis team; antipsychotic after specialist "
       "assessment.",
       "Refer urgently to the early intervention in psychosis team.", ages=(12, 60)),
    _c("manic episode of bipolar disorder", "psychiatry", "elevated_mood",
       "elevated_mood:5 sleep_problem:1 paranoia:0.5 worry:0.5 low_mood:-1",
       "", "mental_state",
       "toxicology screen; thyroid function tests; complete blood count",
       "Risk assessment; urgent psychiatric referral; antipsychotic (e.g. olanzapine) and stop any antidepressant.",
       "Refer urgently to the crisis team.", ages=(14, 90)),
    # ---- dermatology ----------------------------------------------------------------------------------------
    _c("shingles (herpes zoster)", "dermatology", "rash shingles_band",
       "shingles_band:5 rash:2 burning_pain_before_rash:2 numbness_tingling:0.5 itch:0.5 fever:-0.5 ring_rash:-2",
       "rash:3", "skin",
       "",
       "Oral aciclovir 800 mg five times daily for 7 days if within 72 hours, analgesia; urgent ophthalmology if the "
       "eye is involved; avoid contact with pregnant or immunosuppressed people.",
       "Discharge home.", ages=(10, 120)),
    _c("atopic eczema", "dermatology", "itch rash dry_skin_flexures",
       "itch:3 dry_skin_flexures:4 rash:2 weeks_months:1 asthma_hx:1.5 recurrent:1 fever:-1 plaques_scale:-1 "
       "ring_rash:-1",
       "itch:2", "skin",
       "",
       "Liberal emollients and soap substitute; topical corticosteroid of suitable potency for flares; avoid "
       "irritants.",
       "Follow up in primary care."),
    _c("plaque psoriasis", "dermatology", "rash plaques_scale",
       "plaques_scale:5 rash:2 itch:1 weeks_months:2 joint_pain:1 nail_changes:2 fever:-1 ring_rash:-1",
       "plaques_scale:3", "skin musculoskeletal",
       "",
       "Emollients; potent topical corticosteroid plus a vitamin D analogue (calcipotriol) once daily for up to 4 "
       "weeks; screen for psoriatic arthritis.",
       "Follow up in primary care; refer to dermatology if extensive.", ages=(5, 120)),
    _c("tinea corporis (ringworm)", "dermatology", "rash ring_rash",
       "ring_rash:4 itch:2 rash:2 fungal_scraping:6 fever:-1",
       "ring_rash:2", "skin",
       "skin scraping",
       "Topical terbinafine or clotrimazole until 1-2 weeks after clearance; treat any pets; avoid sharing towels.",
       "Discharge home."),
    _c("scabies", "dermatology", "itch",
       "itch:3 night_itch:2 household_itch:3 finger_webs:3 rash:1 fever:-1",
       "itch:2", "skin",
       "skin scraping",
       "Permethrin 5% cream to the whole body, repeated after 7 days; treat all household contacts at the same time; "
       "wash bedding and clothes hot.",
       "Discharge home."),
    _c("chickenpox (varicella)", "paediatrics", "rash itch fever",
       "itchy_blisters:4 rash:2 itch:1.5 fever:1 sick_contacts:1.5 days:0.5 shingles_band:-2",
       "rash:3", "skin heent",
       "",
       "Supportive care: paracetamol (avoid NSAIDs), calamine or emollients, fluids; stay off nursery or school until "
       "lesions crust; aciclovir if high risk.",
       "Discharge home.", ages=(0, 40)),
    # ---- paediatrics --------------------------------------------------------------------------------------------
    _c("bronchiolitis", "paediatrics", "cough breathless wheeze",
       "cough:2 wheeze:2 runny_nose:2 poor_feeding:3 breathless:2 recession:3 crackles:1.5 hypoxia:1.5 tachypnoea:1 "
       "fever:1 rsv_pos:5 consolidation:-1",
       "", "respiratory general",
       "respiratory viral pcr",
       "Supportive care: nasal suction, small frequent feeds (NG if needed), oxygen if SpO2 below 92%; safety-net.",
       "Admit if feeding under half, apnoea or hypoxia; otherwise home with safety-net advice.", ages=(0, 2)),
    _c("croup", "paediatrics", "barking_cough",
       "barking_cough:5 hoarse:2 runny_nose:1.5 fever:1 night_cough:1 recession:1 breathless:0.5",
       "barking_cough:3", "respiratory heent",
       "",
       "Single dose of oral dexamethasone 0.15 mg/kg and a calm environment; nebulised adrenaline and admission if "
       "severe.",
       "Discharge home with safety-net advice.", ages=(0.3, 7)),
    _c("acute otitis media", "paediatrics", "ear_pain",
       "ear_pain:4 fever:2 tm_bulging:5 irritable_child:1 runny_nose:1 ear_discharge:1.5 poor_feeding:0.5",
       "tm_bulging:3 ear_pain:2", "heent",
       "",
       "Paracetamol or ibuprofen; usually no antibiotic or a delayed prescription; amoxicillin for 5-7 days if "
       "systemically unwell, under 2 with bilateral infection, or discharging ear.",
       "Discharge home.", ages=(0.3, 14)),
    _c("intussusception", "paediatrics", "drawing_legs_up irritable_child abdominal_pain",
       "drawing_legs_up:4 irritable_child:1 nausea_vomiting:2 bilious_vomit:1 bloody_stool:3 abdominal_pain:1 "
       "abdominal_mass:3 fatigue:1 intussusception_us:7 diarrhoea:-0.5",
       "", "abdominal general",
       "abdominal ultrasound; complete blood count; basic metabolic panel",
       "Fluid resuscitation, urgent paediatric surgical referral, ultrasound-guided air enema reduction (surgery if "
       "it fails).",
       "Emergency admission under paediatric surgery.", ages=(0.1, 4)),
    _c("pyloric stenosis", "paediatrics", "projectile_vomiting nausea_vomiting",
       "projectile_vomiting:5 nausea_vomiting:2 shaky_hungry:1.5 weight_loss:1.5 dehydration:1 abdominal_mass:3 "
       "pyloric_us:7 bilious_vomit:-2 diarrhoea:-1 fever:-1",
       "", "abdominal general",
       "basic metabolic panel; arterial blood gas; abdominal ultrasound",
       "Correct dehydration and hypochloraemic alkalosis with IV fluids, then Ramstedt pyloromyotomy.",
       "Admit under paediatric surgery.", ages=(0, 0.35)),
)


def validate() -> None:
    """Fail loudly on a typo: every feature, exam system and test a condition names must exist."""
    for condition in CONDITIONS:
        for key in (*condition.cues, *condition.features, *condition.against):
            if key not in FEATURES:
                raise ValueError(f"{condition.name}: unknown feature {key!r}")
        for system in condition.exam:
            if system not in EXAM_SYSTEMS:
                raise ValueError(f"{condition.name}: unknown exam system {system!r}")
        for test in condition.tests:
            if lookup(test) is None or lookup(test).name != test:
                raise ValueError(f"{condition.name}: test {test!r} is not a catalogue name")
    for feature in FEATURE_LIST:
        for test in feature.tests:
            if lookup(test) is None or lookup(test).name != test:
                raise ValueError(f"feature {feature.key}: test {test!r} is not a catalogue name")
        for system in feature.systems:
            if system not in EXAM_SYSTEMS:
                raise ValueError(f"feature {feature.key}: unknown exam system {system!r}")
    if len(FEATURES) != len(FEATURE_LIST):
        raise ValueError("duplicate feature keys")


validate()
