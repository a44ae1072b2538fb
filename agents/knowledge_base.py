"""A small condition knowledge base for the scripted baseline doctor.

Written from general clinical knowledge, as a clinician would list the features of each
condition; it is not tuned to the wording of any case. Plain data, no regexes:

* A feature is ``(keywords, weight)``. Keywords are lower-case lay and clinical words;
  each matches where a word starts ("cough" finds "coughing"; "red" does not match
  "tired"), and one written with a space before its semicolon must also end a word
  ("flu ;" is not "fluid"). The first keyword is also how the doctor asks about it
  ("Have you had any <first keyword>?"), so it is an everyday noun phrase.
* ``symptoms`` are features the doctor may ask about; ``context`` (risk factors, timing)
  is heard in the history but not asked about one by one; ``findings`` are seen only
  on examination or in test results.
* Priors are obvious ones: an age range (outside it counts against), a sex, and
  whether the condition needs a known pregnancy.
* ``exam`` names 1-3 systems of ``clinic_env.exam_systems``; ``tests`` names 2-4 tests of
  the ``clinic_env.investigations`` catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

Feature = tuple[tuple[str, ...], float]


def f(keywords: str, weight: float) -> Feature:
    """A feature from "kw; kw; ..." (semicolons separate plain keywords) and its weight."""
    return tuple(k.lstrip() for k in keywords.split(";") if k.strip()), weight


@dataclass(frozen=True)
class Condition:
    name: str
    specialty: str
    symptoms: tuple[Feature, ...]
    findings: tuple[Feature, ...]
    exam: tuple[str, ...]
    tests: tuple[str, ...]
    plan: str
    disposition: str  # discharge_home, follow_up, refer_specialist, admit or emergency
    ages: tuple[float, float] = (0.0, 120.0)
    sex: str | None = None
    pregnancy: str | None = None  # "required": only in a known pregnancy
    context: tuple[Feature, ...] = ()

    @property
    def features(self) -> tuple[Feature, ...]:
        return self.symptoms + self.context + self.findings


# Keyword sets that several conditions share, so the same symptom reads the same everywhere.
FEVER = "fever; a temperature; high temperature; temperatures; feverish; hot and cold; shiver; rigor; chills; temperature 38; temperature 39; temperature 40; temp 38; temp 39"
COUGH = "cough"
SPUTUM = "phlegm; sputum; productive; mucus; green stuff; yellow stuff"
BREATHLESS = "breathlessness; breathless; short of breath; shortness of breath; out of breath; catch my breath; get my breath; can't breathe; struggling to breathe; puffed; dyspn"
WHEEZE = "wheeze; wheez; whistl"
CHEST_PAIN = "chest pain; pain in my chest; chest tightness; tight chest; tightness in my chest; pressure in my chest; heaviness; heavy feeling; weight on my chest; crushing; squeezing; retrosternal"
PLEURITIC = "pain when breathing in; pain when i breathe; hurts to breathe; hurts when i breathe; deep breath; breathe in; pleuritic"
SWEATING = "sweating; sweat; clammy; diaphore"
VOMITING = "vomiting; vomit; being sick; been sick; threw up; throwing up; nausea; nause; feel sick; feeling sick; felt sick"
DIZZY = "dizziness; dizz; lightheaded; light-headed; light headed; faint; passed out; blacked out; collapse"
PALPITATIONS = "palpitations; racing heart; heart racing; heart was racing; heart is racing; fluttering; pounding heart; heart pounding; heart beating fast; heart thumping; thumping"
HEADACHE = "headache; head pain; head hurts; sore head; head is pounding; splitting head"
LIGHT_SENSITIVE = "sensitivity to light; sensitive to light; light hurts; bright light; lights hurt; dark room; photophob"
STIFF_NECK = "stiff neck; neck stiff; neck is stiff; neck pain; neck hurts; neck stiffness; meningism; kernig's sign positive; positive kernig; brudzinski's sign positive"
TIRED = "tiredness; tired; exhausted; fatigue; no energy; lethargic; worn out; drained; sluggish"
WEIGHT_LOSS = "weight loss; lost weight; losing weight; clothes are loose; clothes feel loose"
DYSURIA = "pain when passing urine; burning when; burns when; stings when; stinging when; pain when i pee; pain when i wee; hurts to pee; hurts to wee; painful to pee; dysuria"
FREQUENCY = "needing to pass urine often; frequency; toilet a lot; toilet all the time; peeing a lot; weeing a lot; passing urine a lot; passing water a lot; urgency; polyuria"
SWELLING = "swelling; swollen; puffy; puffed up; oedema; edema"
SMOKER = "smoking; smok; cigarette; pack-year; pack year; roll-ups"
ALCOHOL = "alcohol; pints; beer; lager; wine; spirits; vodka; whisky; heavy drinker; units a week"
RASH = "rash; blotch; spotty rash; red spots; purple spots"
HIGH_BP = "high blood pressure; hypertension"
TACHYCARDIA = "heart rate 1; pulse 1; tachycard"
RED = "redness; red and; red hot; red skin; gone red; very red; bright red; is red ;looks red; erythema"
HYPOTENSION = "blood pressure 6; blood pressure 7; blood pressure 8; hypotens"
HYPOXIA = "spo2 8; spo2 90; spo2 91; spo2 92; spo2 93; saturations 8; saturations 90; saturations 91; saturations 92; hypox"
TACHYPNOEA = "respiratory rate 2; respiratory rate 3; respiratory rate 4; tachypn"
VTE_RISK = "recent surgery or long journeys; long flight; long-haul; flight; long drive; surgery; operation; contraceptive pill; the pill; immobil; plaster cast; cancer"

CONDITIONS: tuple[Condition, ...] = (
    # ---- cardiology ------------------------------------------------------------------------
    Condition("ST-elevation myocardial infarction (STEMI)", "cardiology",
              symptoms=(f(CHEST_PAIN, 3), f("pain in my arm; pain in my jaw; arm; jaw", 2), f(SWEATING, 2),
                        f(VOMITING, 1), f(BREATHLESS, 1)),
              context=(f(SMOKER, 1), f(HIGH_BP + "; diabetes; cholesterol", 0.5)),
              findings=(f("st elevation; st-elevation; st segment elevation", 4), f("fourth heart sound; grey; cool peripheries", 1)),
              exam=("cardiovascular", "respiratory"), tests=("ecg", "troponin", "complete blood count"),
              plan="Aspirin 300 mg, GTN and analgesia, oxygen only if SpO2 < 94%, immediate primary PCI (thrombolysis if PCI is not available within 2 hours).",
              disposition="emergency", ages=(30, 120)),
    Condition("Acute heart failure", "cardiology",
              symptoms=(f(BREATHLESS, 2), f("breathlessness lying flat; lying flat; lie flat; pillows; propped up; sit up to breathe; sleep sitting up; orthopn", 3),
                        f("waking up at night breathless; gasping; paroxysmal", 2),
                        f("ankle swelling; swollen ankles; swollen legs; legs are swollen; ankles are swollen; " + SWELLING, 2),
                        f("weight gain; put on weight; gained weight", 1), f(TIRED, 0.5)),
              context=(f("heart attack; stent; angina; water tablet; furosemide", 1.5),),
              findings=(f("crackles; crepitations; creps", 1.5), f("raised jvp; jvp raised; jvp elevated; jvp is raised; jvp up", 2),
                        f("pitting oedema; pitting edema; cardiomegaly; kerley; upper lobe; venous diversion; pulmonary oedema; pleural effusion; third heart sound", 2)),
              exam=("cardiovascular", "respiratory"), tests=("bnp", "chest x-ray", "ecg", "basic metabolic panel"),
              plan="IV furosemide, sit upright, oxygen if hypoxic, fluid balance and daily weights; echocardiogram; ACE inhibitor and beta-blocker once stable.",
              disposition="admit", ages=(40, 120)),
    Condition("Atrial fibrillation", "cardiology",
              symptoms=(f(PALPITATIONS, 3), f("irregular heartbeat; irregular; skipping beats; all over the place", 2),
                        f(BREATHLESS, 1), f(DIZZY, 1), f(TIRED, 0.5)), context=(f(ALCOHOL, 0.5),),
              findings=(f("irregularly irregular; absent p waves; p waves absent; fibrillatory", 4), f(TACHYCARDIA, 1)),
              exam=("cardiovascular",), tests=("ecg", "thyroid function tests", "basic metabolic panel", "echocardiogram"),
              plan="Rate control with a beta-blocker; CHA2DS2-VASc score and a DOAC if indicated; check thyroid function and electrolytes; echocardiogram.",
              disposition="follow_up", ages=(30, 120)),
    Condition("Acute pericarditis", "cardiology",
              symptoms=(f("sharp chest pain; sharp; stabbing", 2), f(PLEURITIC, 1.5),
                        f("pain eased by sitting forward; sitting forward; leaning forward; lean forward; sit forward", 3),
                        f("pain lying flat; lying flat; lying down", 1), f("recent cold; a cold; flu ;flu-like; viral; sore throat", 1), f(FEVER, 1)),
              findings=(f("pericardial rub; friction rub; saddle-shaped; widespread st elevation; pr depression", 4),),
              exam=("cardiovascular",), tests=("ecg", "troponin", "c-reactive protein", "echocardiogram"),
              plan="Ibuprofen (with a PPI) plus colchicine for 3 months, rest from strenuous exercise; echocardiogram to exclude an effusion.",
              disposition="follow_up", ages=(15, 80)),
    # ---- pulmonology -----------------------------------------------------------------------
    Condition("Community-acquired pneumonia", "pulmonology",
              symptoms=(f(COUGH, 2), f(SPUTUM, 2), f(FEVER, 2), f(PLEURITIC, 1), f(BREATHLESS, 1), f(TIRED, 0.5)),
              findings=(f("crackles; crepitations; bronchial breathing; dull to percussion; dull percussion; dullness; consolidation", 2.5),
                        f(TACHYPNOEA + "; " + HYPOXIA, 0.5)),
              exam=("respiratory",), tests=("chest x-ray", "complete blood count", "c-reactive protein", "sputum culture"),
              plan="CURB-65 score; oral amoxicillin (add clarithromycin if moderate), fluids and paracetamol; review in 48 hours.",
              disposition="discharge_home", ages=(5, 120)),
    Condition("Acute asthma exacerbation", "pulmonology",
              symptoms=(f(WHEEZE, 3), f(BREATHLESS, 2), f("chest tightness; tight chest; tightness", 1), f(COUGH, 1)),
              context=(f("asthma; inhaler; salbutamol; blue inhaler; brown inhaler; preventer", 2),
                       f("triggers; pollen; hay fever; the cat; cats ;pets ;dust; cold air; exercise", 1)),
              findings=(f("polyphonic wheeze; widespread wheeze; prolonged expiration; peak flow 1; peak flow 2; peak flow 3", 2),),
              exam=("respiratory",), tests=("peak flow", "arterial blood gas", "chest x-ray"),
              plan="Salbutamol via spacer or nebuliser, oral prednisolone 40-50 mg for 5 days, oxygen to SpO2 94-98%; check inhaler technique; review within 48 hours.",
              disposition="discharge_home", ages=(3, 60)),
    Condition("Acute exacerbation of COPD", "pulmonology",
              symptoms=(f(BREATHLESS, 2), f(COUGH, 1), f(SPUTUM, 2), f(WHEEZE, 1.5)),
              context=(f(SMOKER, 3), f("copd; emphysema; chronic bronchitis; inhaler; tiotropium", 2)),
              findings=(f("hyperexpanded; hyperinflat; barrel; pursed-lip; pursed lip", 2),),
              exam=("respiratory",), tests=("chest x-ray", "arterial blood gas", "complete blood count", "sputum culture"),
              plan="Nebulised salbutamol and ipratropium, prednisolone 30 mg for 5 days, antibiotics if sputum purulent, controlled oxygen to SpO2 88-92%.",
              disposition="admit", ages=(45, 120)),
    Condition("Pulmonary embolism", "pulmonology",
              symptoms=(f(BREATHLESS, 2), f(PLEURITIC + "; sharp chest pain", 2),
                        f("coughing up blood; blood in my phlegm; blood in the phlegm; haemoptysis; hemoptysis", 2),
                        f("calf swelling; calf; swollen leg; leg swelling", 2), f(VTE_RISK, 2), f(DIZZY, 1)),
              findings=(f(TACHYCARDIA, 1), f(HYPOXIA, 1)),
              exam=("respiratory", "cardiovascular", "musculoskeletal"), tests=("d-dimer", "ct pulmonary angiogram", "ecg", "chest x-ray"),
              plan="Wells score; start anticoagulation (apixaban or LMWH) while awaiting CTPA; thrombolysis if massive PE with shock.",
              disposition="admit", ages=(16, 120)),
    Condition("Spontaneous pneumothorax", "pulmonology",
              symptoms=(f("sudden sharp chest pain; sharp chest pain; sharp pain; stabbing; one side of my chest", 2),
                        f(BREATHLESS, 2)), context=(f("sudden; suddenly; out of the blue", 1), f(SMOKER, 0.5)),
              findings=(f("absent breath sounds; breath sounds absent; hyperresonan; pneumothorax; tracheal deviation", 4), f("reduced breath sounds", 1)),
              exam=("respiratory",), tests=("chest x-ray", "arterial blood gas"),
              plan="Chest x-ray; small and minimally symptomatic: observe with oxygen; large or breathless: needle aspiration or chest drain.",
              disposition="emergency", ages=(15, 60)),
    # ---- gastroenterology ------------------------------------------------------------------
    Condition("Acute appendicitis", "gastroenterology",
              symptoms=(f("pain moving to the right; moved to the right; moved down; started around my belly button; belly button; umbilic; middle of my tummy", 3),
                        f("pain low on the right; lower right; right lower; bottom right; right side of my tummy; right iliac fossa", 3),
                        f("loss of appetite; off my food; off his food; off her food; not hungry; lost my appetite; anorexi", 1.5),
                        f(VOMITING, 1), f(FEVER, 1), f("pain on moving; worse when i move; worse when walking; bumps; coughing makes it worse", 1)),
              findings=(f("rebound; guarding; rovsing; mcburney; peritonism; non-compressible", 3),),
              exam=("abdominal",), tests=("complete blood count", "c-reactive protein", "abdominal ultrasound", "urine pregnancy test"),
              plan="Nil by mouth, IV fluids, analgesia and IV antibiotics; surgical review for laparoscopic appendicectomy.",
              disposition="emergency", ages=(4, 70)),
    Condition("Acute cholecystitis", "gastroenterology",
              symptoms=(f("pain under the right ribs; under my ribs on the right; upper right; right upper; right side under", 3),
                        f("pain after fatty food; fatty; after eating; after meals; greasy", 2), f("right shoulder; shoulder blade", 1.5),
                        f(FEVER, 1.5), f(VOMITING, 1), f("gallstones", 1)),
              findings=(f("murphy's sign positive; positive murphy; gallstones; thickened gallbladder; gallbladder wall; pericholecystic", 3),),
              exam=("abdominal",), tests=("abdominal ultrasound", "complete blood count", "liver function tests", "lipase"),
              plan="IV fluids, analgesia and IV antibiotics (e.g. co-amoxiclav); laparoscopic cholecystectomy within a week.",
              disposition="admit", ages=(18, 120)),
    Condition("Bleeding peptic ulcer (upper GI bleed)", "gastroenterology",
              symptoms=(f("black stools; black poo; black stool; black and sticky; tarry; melaena; melena; dark stools", 3),
                        f("vomiting blood; coffee grounds; coffee-ground; haematemesis; hematemesis", 3),
                        f("indigestion; top of my stomach; upper stomach; epigastr; heartburn", 1.5), f(DIZZY, 1.5)),
              context=(f("ibuprofen; naproxen; diclofenac; anti-inflammator; aspirin; nsaid", 2), f(ALCOHOL, 0.5)),
              findings=(f("pale; pallor", 1), f(TACHYCARDIA + "; " + HYPOTENSION + "; postural drop", 1.5)),
              exam=("abdominal", "general"), tests=("complete blood count", "basic metabolic panel", "coagulation screen"),
              plan="Resuscitate (two large-bore cannulas, fluids, transfuse if Hb < 70 g/L), stop NSAIDs, Glasgow-Blatchford score, urgent endoscopy within 24 hours, PPI after endoscopy.",
              disposition="emergency", ages=(18, 120)),
    Condition("Acute pancreatitis", "gastroenterology",
              symptoms=(f("pain going through to the back; through to my back; into my back; through to the back; to my back", 3),
                        f("upper abdominal pain; top of my stomach; upper stomach; upper tummy; epigastr", 2), f(VOMITING, 1.5),
                        f("pain eased by sitting forward; sitting forward; leaning forward", 1)),
              context=(f(ALCOHOL, 1.5), f("gallstones", 1)),
              findings=(f("epigastric tenderness; tender in the epigastrium; grey turner; cullen", 1.5),),
              exam=("abdominal",), tests=("lipase", "complete blood count", "liver function tests", "abdominal ultrasound"),
              plan="IV fluids, analgesia and antiemetics; severity scoring (Glasgow); ultrasound for gallstones; stop alcohol.",
              disposition="admit", ages=(18, 120)),
    Condition("Acute gastroenteritis", "gastroenterology",
              symptoms=(f("diarrhoea; diarrh; loose stools; runny stools; watery stools; the runs", 3), f(VOMITING, 2),
                        f("stomach cramps; cramp; tummy ache", 1),
                        f("contact with anyone ill; takeaway; restaurant; barbecue; undercooked; others ill; same thing", 1), f(FEVER, 1)),
              findings=(f("dry mucous membranes; dehydrat; reduced skin turgor", 1),),
              exam=("abdominal",), tests=("stool culture", "basic metabolic panel", "complete blood count"),
              plan="Oral rehydration, small frequent fluids and paracetamol; stool culture if bloody or prolonged; return if unable to keep fluids down.",
              disposition="discharge_home"),
    # ---- neurology -------------------------------------------------------------------------
    Condition("Migraine", "neurology",
              symptoms=(f(HEADACHE, 2), f("one-sided headache; one side; one-sided; side of my head; unilateral", 2),
                        f("throbbing; pulsating; pounding", 1.5), f(LIGHT_SENSITIVE, 2),
                        f("zigzag lines; zigzag; zig-zag; flashing lights; shimmering; blind spot; sparkl; aura", 3),
                        f(VOMITING, 1)), context=(f("attacks; episodes; recurr; every few weeks; once a month", 1),),
              findings=(),
              exam=("neurological", "heent"), tests=("complete blood count", "erythrocyte sedimentation rate"),
              plan="Aspirin or ibuprofen with an antiemetic, a triptan for attacks; headache diary, avoid medication overuse; propranolol prophylaxis if frequent; avoid combined pill with aura.",
              disposition="follow_up", ages=(8, 60)),
    Condition("Acute ischaemic stroke", "neurology",
              symptoms=(f("weakness in my arm or leg; weakness in my arm; weakness in my leg; weakness down one side; weak arm; weak leg; arm is weak; leg is weak; can't lift; cannot lift; arm went; leg went; hemipar; one side of my body", 3),
                        f("drooping face; droop; lopsided; face dropped; face has dropped", 2),
                        f("slurred speech; slurred; speech; words out; dysphasia; dysarthria", 3),
                        f("numbness; numb; tingling", 1)),
              context=(f("sudden; suddenly; all of a sudden", 0.5), f(HIGH_BP + "; atrial fibrillation; irregular heartbeat; diabetes", 1)),
              findings=(f("reduced power; power 0; power 1; power 2; power 3; power 4; upper motor neuron; facial droop; extensor plantar; upgoing plantar; hemiparesis; expressive", 3),),
              exam=("neurological",), tests=("ct head", "blood glucose", "ecg", "complete blood count"),
              plan="Urgent non-contrast CT head; if no bleed and within 4.5 hours thrombolysis (+/- thrombectomy); stroke unit; aspirin 300 mg once haemorrhage excluded.",
              disposition="emergency", ages=(40, 120)),
    Condition("Subarachnoid haemorrhage", "neurology",
              symptoms=(f("worst headache of my life; worst headache; thunderclap; hit on the back of the head; like being hit", 4),
                        f(HEADACHE, 1), f(STIFF_NECK, 2), f(VOMITING, 1), f(LIGHT_SENSITIVE, 1)),
              context=(f("sudden; instant; within seconds; out of the blue", 1),),
              findings=(f("subarachnoid blood; hyperdens; xanthochromia; blood in the basal cisterns", 4),),
              exam=("neurological", "neck"), tests=("ct head", "lumbar puncture", "coagulation screen"),
              plan="Urgent CT head (lumbar puncture at 12 hours if negative), CT angiography, nimodipine, analgesia, neurosurgical referral.",
              disposition="emergency", ages=(18, 90)),
    Condition("Tension-type headache", "neurology",
              symptoms=(f(HEADACHE, 2), f("band around the head; band; tight around; pressing; squeezing", 3),
                        f("both sides of the head; both sides; all over my head", 1.5), f("neck and shoulders; shoulders", 0.5)),
              context=(f("stress; deadlines; screen; exams", 1.5),),
              findings=(),
              exam=("neurological", "heent"), tests=("complete blood count", "erythrocyte sedimentation rate"),
              plan="Reassure; simple analgesia no more than 2-3 days a week; stress management, sleep and posture; amitriptyline if frequent.",
              disposition="discharge_home", ages=(10, 80)),
    # ---- endocrinology ---------------------------------------------------------------------
    Condition("Diabetic ketoacidosis", "endocrinology",
              symptoms=(f("thirst; thirsty; drinking lots; drinking loads; dry mouth; polydips", 3), f(FREQUENCY, 2), f(VOMITING, 1.5),
                        f("stomach pain; tummy pain; abdominal pain", 1), f(WEIGHT_LOSS, 1), f("drowsiness; drowsy; sleepy; confus", 1)),
              context=(f("type 1 diabetes; diabetes; insulin", 2),),
              findings=(f("kussmaul; deep sighing; deep rapid; pear drops; ketotic; ketones 3; ketones 4; ketones 5; ketones 6; glucose 1; glucose 2", 3),),
              exam=("general", "abdominal"), tests=("blood glucose", "serum ketones", "arterial blood gas", "basic metabolic panel"),
              plan="IV 0.9% saline, fixed-rate IV insulin 0.1 units/kg/h, potassium replacement, hourly glucose and ketones; find the trigger.",
              disposition="emergency", ages=(3, 70)),
    Condition("Graves' disease (hyperthyroidism)", "endocrinology",
              symptoms=(f(WEIGHT_LOSS, 2), f("eating more; hungry all the time; appetite is up; increased appetite", 2), f(PALPITATIONS, 2),
                        f("heat intolerance; can't stand the heat; too hot; hot all the time; heat", 2), f("tremor; shaky; shaking; trembl", 2),
                        f("gritty eyes; bulging eyes; eyes bulging; eyes feel gritty; staring", 1.5), f("anxious; irritable; on edge", 1), f("neck swelling; goitre; goiter; lump in my neck", 1.5)),
              findings=(f("goitre; goiter; thyroid bruit; exophthalmos; proptosis; lid lag; fine tremor", 2), f(TACHYCARDIA, 1)),
              exam=("neck", "cardiovascular", "heent"), tests=("thyroid function tests", "ecg", "complete blood count"),
              plan="Propranolol for symptoms, carbimazole, TSH-receptor antibodies; endocrinology referral.",
              disposition="refer_specialist", ages=(15, 75)),
    Condition("Hypothyroidism", "endocrinology",
              symptoms=(f(TIRED, 2), f("weight gain; put on weight; gained weight; clothes are tight", 2),
                        f("feeling the cold; feel the cold; always cold; cold all the time; feeling cold", 2), f("constipation; constipat", 1.5),
                        f("dry skin; hair falling out; hair thinning; brittle", 1.5), f("low mood; slowed down; foggy; memory", 1), f("hoarse", 0.5)),
              findings=(f("slow-relaxing reflexes; slow relaxing; delayed relaxation; bradycard; puffy face; coarse hair", 2),),
              exam=("neck", "neurological"), tests=("thyroid function tests", "complete blood count", "lipid profile"),
              plan="Levothyroxine 50 micrograms daily (25 in the elderly or with heart disease), recheck TSH in 6-8 weeks.",
              disposition="follow_up", ages=(18, 120)),
    Condition("Type 2 diabetes mellitus", "endocrinology",
              symptoms=(f("thirst; thirsty; drinking lots; dry mouth", 2), f(FREQUENCY + "; up at night to pee; getting up at night", 2), f(TIRED, 1.5),
                        f("blurred vision; blurr", 1), f("infections; thrush; slow to heal", 1)), context=(f("overweight", 0.5),),
              findings=(f("glucose 1; glucose 2; hba1c 6; hba1c 7; hba1c 8; hba1c 9; glycosuria", 2),),
              exam=("general",), tests=("hba1c", "blood glucose", "urinalysis", "lipid profile"),
              plan="Confirm with HbA1c; lifestyle advice and metformin; check kidneys, eyes, feet and cardiovascular risk.",
              disposition="follow_up", ages=(30, 120)),
    # ---- infectious disease ----------------------------------------------------------------
    Condition("Bacterial meningitis", "infectious_disease",
              symptoms=(f(HEADACHE, 2), f(FEVER, 2), f(STIFF_NECK, 3), f(LIGHT_SENSITIVE, 2),
                        f("rash that doesn't fade; purple; purpur; non-blanching; petechia; " + RASH, 2),
                        f("confusion; confus; drowsy; not making sense; hard to wake", 2), f(VOMITING, 1)),
              findings=(f("kernig's sign positive; positive kernig; brudzinski's sign positive; non-blanching; purpur; petechia", 3),),
              exam=("neck", "neurological", "skin"), tests=("blood cultures", "lumbar puncture", "complete blood count", "c-reactive protein"),
              plan="IV ceftriaxone and dexamethasone immediately after blood cultures (do not delay for LP); lumbar puncture if safe; notify public health.",
              disposition="emergency"),
    Condition("Infectious mononucleosis (glandular fever)", "infectious_disease",
              symptoms=(f("sore throat; throat is sore; throat hurts; painful throat; swallow", 3), f(FEVER, 1.5), f(TIRED, 2),
                        f("swollen glands; glands; lumps in my neck; swollen neck; lymph", 2), f("rash after antibiotics; amoxicillin; " + RASH, 1.5),
                        f("pain under the left ribs; left upper; spleen", 0.5)),
              findings=(f("exudate; enlarged tonsils; posterior cervical; lymphadenopathy; splenomegaly; spleen palpable; palatal petechiae", 2),
                        f("atypical lymphocytes; heterophile antibody positive; monospot positive; lymphocytosis", 3)),
              exam=("heent", "lymph_nodes", "abdominal"), tests=("monospot", "complete blood count", "liver function tests", "throat swab"),
              plan="Supportive: fluids, rest and paracetamol or ibuprofen; avoid amoxicillin; no contact sport for 4-8 weeks (splenic rupture risk).",
              disposition="discharge_home", ages=(10, 35)),
    Condition("Acute pyelonephritis", "infectious_disease",
              symptoms=(f(FEVER, 2), f("pain in your side; loin; flank; kidney area; my side; in the side", 3), f(DYSURIA, 2), f(FREQUENCY, 1.5),
                        f(VOMITING, 1), f("shivers; shaking; rigor", 1)),
              findings=(f("renal angle tenderness; renal angle; costovertebral; loin tenderness", 3),
                        f("nitrites positive; nitrite positive; positive for nitrites; leucocytes 2+; leucocytes 3+; leukocytes 2+; leukocytes 3+; pyuria; coliform", 2)),
              exam=("genitourinary", "abdominal"), tests=("urinalysis", "urine culture", "complete blood count", "basic metabolic panel"),
              plan="Oral antibiotics for 7 days per local guidance (e.g. co-amoxiclav or ciprofloxacin) after a urine culture, fluids and analgesia; admit if septic or vomiting.",
              disposition="discharge_home", ages=(12, 120)),
    Condition("Streptococcal pharyngitis", "infectious_disease",
              symptoms=(f("sore throat; throat is sore; throat hurts; painful throat", 3), f(FEVER, 2), f("pain on swallowing; painful to swallow; hurts to swallow; swallow", 2),
                        f("swollen glands; glands", 1.5), f(HEADACHE, 0.5)),
              findings=(f("exudate; pus on; tender anterior cervical; streptococcus detected; strep a detected", 2.5),),
              exam=("heent", "lymph_nodes"), tests=("throat swab", "complete blood count"),
              plan="FeverPAIN or Centor score; phenoxymethylpenicillin for 10 days if high; analgesia and fluids.",
              disposition="discharge_home", ages=(3, 50)),
    # ---- dermatology -----------------------------------------------------------------------
    Condition("Cellulitis", "dermatology",
              symptoms=(f(RED, 3), f("hot skin; hot to touch; feels hot; warm to touch", 2), f(SWELLING, 2), f("tenderness; tender; painful", 1),
                        f("spreading; getting bigger; spread up", 1.5), f("cuts or bites; a cut; cut on; cut my; scratch; bite; graze; wound; athlete's foot; cracked skin", 1.5), f(FEVER, 1)),
              findings=(f("spreading erythema; poorly demarcated; blanching erythema; warm and tender; hot and tender", 2),),
              exam=("skin", "lymph_nodes"), tests=("complete blood count", "c-reactive protein", "blood cultures"),
              plan="Mark the margin, oral flucloxacillin (clarithromycin if penicillin-allergic) for 5-7 days, elevate the limb, analgesia; IV antibiotics if systemically unwell.",
              disposition="discharge_home", ages=(5, 120)),
    Condition("Herpes zoster (shingles)", "dermatology",
              symptoms=(f(RASH, 2), f("blisters; blister; vesic", 3), f("rash on one side; one side; stripe; band; belt; strip", 2),
                        f("burning pain; burning skin; tingling; pins and needles; shooting", 2), f("chickenpox; chicken pox", 1.5)),
              findings=(f("vesicles; dermatom; does not cross the midline; vesicular rash; crusted; grouped vesicles", 3),),
              exam=("skin",), tests=("skin scraping", "complete blood count"),
              plan="Oral aciclovir 800 mg five times a day for 7 days (within 72 hours of rash), analgesia, cover the rash; urgent eye review if the ophthalmic division is involved.",
              disposition="discharge_home", ages=(30, 120)),
    # ---- paediatrics -----------------------------------------------------------------------
    Condition("Bronchiolitis", "paediatrics",
              symptoms=(f(COUGH, 2), f("fast breathing; breathing fast; breathing quickly; working hard to breathe; sucking in; grunting; struggling to breathe", 3),
                        f("poor feeding; feeding; feeds; bottles; not drinking; wet nappies; fewer nappies", 3),
                        f("runny nose; snotty; snuffly; blocked nose; a cold; coryza", 2), f(WHEEZE, 1), f(FEVER, 1)),
              findings=(f("recession; fine crackles; nasal flaring; subcostal recession; intercostal recession; head bobbing; respiratory rate 5; respiratory rate 6; respiratory rate 7", 2),),
              exam=("respiratory",), tests=("respiratory viral pcr", "blood glucose"),
              plan="Supportive: nasal suction, small frequent or NG feeds, oxygen if SpO2 < 92%; no bronchodilators or steroids.",
              disposition="admit", ages=(0, 2)),
    Condition("Croup", "paediatrics",
              symptoms=(f("barking cough; barking; bark; seal; croupy; harsh cough", 4),
                        f("noisy breathing; stridor; squeaky; high-pitched; rasping", 3), f("hoarse voice; hoarse; croaky", 2),
                        f("worse at night; at night", 1), f("runny nose; a cold; snotty", 1), f(FEVER, 1)),
              findings=(f("inspiratory stridor; stridor; barking", 2),),
              exam=("respiratory", "heent"), tests=("respiratory viral pcr", "complete blood count"),
              plan="Single oral dose of dexamethasone 0.15 mg/kg, keep the child calm; nebulised adrenaline if stridor at rest; safety-net advice.",
              disposition="discharge_home", ages=(0.5, 6)),
    Condition("Intussusception", "paediatrics",
              symptoms=(f("screaming episodes; screaming; inconsolable; legs up; knees up; drawing up", 3),
                        f("episodes that come and go; comes and goes; come and go; bouts; every 15; every 20", 2), f(VOMITING + "; green vomit; bile", 1.5),
                        f("redcurrant jelly stools; redcurrant; jelly; blood in his nappy; blood in her nappy; blood in the nappy; bloody stool", 3),
                        f("pale; floppy; lethargic; sleepy between", 1.5)),
              findings=(f("sausage-shaped; sausage; target sign; doughnut; mass in the right upper", 3),),
              exam=("abdominal",), tests=("abdominal ultrasound", "complete blood count", "basic metabolic panel"),
              plan="Urgent abdominal ultrasound; IV fluids and NG tube; air enema reduction by radiology; surgery if it fails or there is peritonitis.",
              disposition="emergency", ages=(0.2, 4)),
    # ---- obstetrics and gynaecology --------------------------------------------------------
    Condition("Ectopic pregnancy", "obstetrics_gynaecology",
              symptoms=(f("missed period; period is late; late period; period was due; positive pregnancy test; pregnant", 3),
                        f("lower tummy pain; lower tummy; lower abdomen; pelvic; one side", 2),
                        f("vaginal bleeding; spotting; bleeding; brown discharge", 2), f("shoulder tip pain; shoulder tip; shoulder", 2),
                        f(DIZZY, 1.5)), context=(f("coil; iud; chlamydia; pelvic infection; ivf", 1),),
              findings=(f("adnexal tenderness; adnexal mass; cervical excitation; cervical motion tenderness; empty uterus; free fluid", 3),
                        f("hcg positive; positive hcg; pregnancy test positive; hcg detected", 2)),
              exam=("abdominal", "pelvic"), tests=("urine pregnancy test", "pelvic ultrasound", "complete blood count"),
              plan="Urgent gynaecology review, IV access, FBC and group-and-save, transvaginal ultrasound and serum hCG; methotrexate or laparoscopic salpingectomy depending on stability.",
              disposition="emergency", ages=(13, 50), sex="female"),
    Condition("Pre-eclampsia", "obstetrics_gynaecology",
              symptoms=(f(HEADACHE, 2), f("swollen face; puffy face; face is swollen; swollen hands; rings; " + SWELLING, 2),
                        f("blurred vision; blurr; flashing lights; spots in front; vision", 2),
                        f("pain under the ribs; under my ribs; upper stomach; epigastr; right upper", 1.5)),
              findings=(f("blood pressure 14; blood pressure 15; blood pressure 16; blood pressure 17; blood pressure 18", 3),
                        f("protein 1+; protein 2+; protein 3+; protein ++; proteinuria", 3), f("brisk reflexes; clonus; hyperreflexia", 2)),
              exam=("obstetric", "neurological"), tests=("urinalysis", "complete blood count", "liver function tests", "basic metabolic panel"),
              plan="Admit; oral labetalol to a BP below 135/85, magnesium sulphate if severe, monitor bloods and the baby; plan delivery.",
              disposition="admit", ages=(13, 50), sex="female", pregnancy="required"),
    Condition("Pelvic inflammatory disease", "obstetrics_gynaecology",
              symptoms=(f("lower tummy pain; lower tummy; lower abdomen; pelvic", 2), f("vaginal discharge; discharge", 2),
                        f("pain during sex; painful sex; dyspareun", 2), f(FEVER, 1), f("bleeding after sex; between periods", 1.5),
                        f("new sexual partners; new partner; unprotected; no condom", 1)),
              findings=(f("cervical excitation; cervical motion tenderness; adnexal tenderness; mucopurulent", 3),),
              exam=("abdominal", "pelvic"), tests=("sti screen", "urine pregnancy test", "complete blood count", "c-reactive protein"),
              plan="Ceftriaxone once plus doxycycline and metronidazole for 14 days; partner notification and STI screening; review at 72 hours.",
              disposition="follow_up", ages=(14, 50), sex="female"),
    # ---- psychiatry ------------------------------------------------------------------------
    Condition("Major depressive disorder (depression)", "psychiatry",
              symptoms=(f("low mood; feeling low; so low; very low; feeling down; been down; sad; depress; miserable; hopeless; empty", 3),
                        f("loss of interest; interest; enjoy; pleasure; can't be bothered", 3), f("poor sleep; can't sleep; not sleeping; sleeping badly; waking early; insomnia", 1.5),
                        f(TIRED, 1), f("poor appetite; appetite", 1), f("poor concentration; concentrat; focus", 1),
                        f("feeling worthless; worthless; guilt; burden; useless", 2), f("thoughts of ending your life; ending it; end my life; better off without me; suicid", 2)),
              findings=(f("flat affect; low mood; psychomotor; poor eye contact; tearful; phq-9 score 1; phq-9 score 2", 2),),
              exam=("mental_state",), tests=("phq-9", "thyroid function tests", "complete blood count"),
              plan="Risk assessment and safety plan; CBT and an SSRI (e.g. sertraline 50 mg); review in 1-2 weeks with crisis contacts.",
              disposition="follow_up", ages=(12, 120)),
    Condition("Panic disorder", "psychiatry",
              symptoms=(f("panic attacks; attacks; episodes; out of the blue; panic; sudden fear; terrified; going to die", 3), f(PALPITATIONS, 2),
                        f("chest tightness; tight chest", 1), f("breathing fast; hyperventil; can't breathe", 1),
                        f("tingling; pins and needles; numb", 1.5), f(SWEATING + "; shaking; trembl", 1),
                        f("avoiding places; avoid; supermarket; crowds; trains; buses", 2)),
              findings=(f("gad-7 score 1; gad-7 score 2", 1.5),),
              exam=("mental_state", "cardiovascular"), tests=("ecg", "thyroid function tests", "blood glucose", "gad-7"),
              plan="Explain and reassure after a normal ECG; CBT first line, an SSRI (sertraline) if persistent; avoid benzodiazepines; follow up.",
              disposition="follow_up", ages=(14, 65)),
    Condition("Generalised anxiety disorder", "psychiatry",
              symptoms=(f("constant worry; worry about everything; worrying all the time; can't stop worrying; anxious; anxiety; nervous", 3),
                        f("restlessness; restless; on edge; keyed up", 1.5), f("irritability; irritable", 1), f("poor sleep; can't sleep; trouble sleeping; not sleeping", 1),
                        f("muscle tension; tense", 1), f("poor concentration; concentrat", 1)),
              findings=(f("gad-7 score 1; gad-7 score 2", 2),),
              exam=("mental_state",), tests=("gad-7", "thyroid function tests"),
              plan="Psychoeducation and guided self-help, then CBT; an SSRI (sertraline) if persistent; review in 4 weeks.",
              disposition="follow_up", ages=(12, 120)),
    # ---- emergency medicine ----------------------------------------------------------------
    Condition("Anaphylaxis", "emergency",
              symptoms=(f("swelling of the lips or tongue; swollen lips; lips swell; lip swelling; swollen tongue; tongue swell; throat closing; throat swelling; tight throat", 3),
                        f("hives; itchy; itch; welts; " + RASH, 2), f(WHEEZE + "; " + BREATHLESS, 2),
                        f("new foods, medicines or stings; peanut; nuts; bee sting; wasp; stung; shellfish; new medicine; antibiotic", 2), f(DIZZY, 1.5)),
              context=(f("within minutes; minutes after; straight after; immediately", 2),),
              findings=(f("stridor; angioedema; urticaria; urticarial", 2), f(HYPOTENSION, 1)),
              exam=("respiratory", "skin", "heent"), tests=("complete blood count", "arterial blood gas"),
              plan="IM adrenaline 0.5 mg (1:1000) into the thigh now, repeat after 5 minutes if needed; high-flow oxygen and IV fluids; observe; adrenaline auto-injector and allergy referral.",
              disposition="emergency"),
    Condition("Aortic dissection", "emergency",
              symptoms=(f("tearing pain; tearing; ripping", 4), f("pain between the shoulder blades; between my shoulder blades; through to my back; into my back; in my back; back pain", 2),
                        f(DIZZY, 1)), context=(f("sudden; suddenly", 1.5), f(HIGH_BP, 1.5)),
              findings=(f("unequal pulses; unequal blood pressure; pulses unequal; differ between the arms; difference between the arms; widened mediastinum; mediastinal widening; early diastolic murmur", 3),),
              exam=("cardiovascular", "neurological"), tests=("ecg", "chest x-ray", "ct chest"),
              plan="Emergency CT aortogram; IV labetalol to a systolic of 100-120 mmHg, analgesia; type A to cardiothoracic surgery, type B medical management.",
              disposition="emergency", ages=(35, 120)),
    # ---- nephrology and urology -------------------------------------------------------------
    Condition("Renal colic (kidney stone)", "nephrology_urology",
              symptoms=(f("pain in your side; loin; flank; my side; in the side", 2), f("pain spreading to the groin; groin; testicle; down to the front", 3),
                        f("pain in waves; comes in waves; in waves; colick; can't sit still; can't get comfortable; writhing; pacing", 3),
                        f("blood in your urine; blood in my urine; blood in my wee; pink urine; red urine; haematuria; hematuria", 2),
                        f(VOMITING, 1)), context=(f("kidney stones; kidney stone; stones ;passed a stone", 1.5),),
              findings=(f("blood 2+; blood 3+; blood +; haematuria; hematuria; calculus; hydronephrosis", 2),),
              exam=("abdominal", "genitourinary"), tests=("urinalysis", "basic metabolic panel", "ct abdomen and pelvis"),
              plan="Analgesia (NSAID such as diclofenac), antiemetic and fluids; non-contrast CT KUB; tamsulosin if the stone is under 10 mm; urgent urology if infected or obstructed.",
              disposition="follow_up", ages=(18, 75)),
    Condition("Lower urinary tract infection (cystitis)", "nephrology_urology",
              symptoms=(f(DYSURIA, 3), f(FREQUENCY, 2), f("pain low in the tummy; lower tummy; suprapubic; bladder", 1.5),
                        f("cloudy urine; cloudy; smelly; smells; strong-smelling", 1.5)),
              findings=(f("nitrites positive; nitrite positive; positive for nitrites; leucocytes 2+; leucocytes 3+; pyuria; coliform", 2),),
              exam=("abdominal", "genitourinary"), tests=("urinalysis", "urine culture"),
              plan="Nitrofurantoin 100 mg modified-release twice daily for 3 days, fluids and paracetamol; return if fever or loin pain.",
              disposition="discharge_home", ages=(12, 120)),
    # ---- rheumatology ----------------------------------------------------------------------
    Condition("Acute gout", "rheumatology",
              symptoms=(f("pain in the big toe; big toe; toe ;toes ;swollen joint; hot joint; painful joint", 2), f(RED + "; " + SWELLING, 1.5),
                        f("pain bad enough to wake you; middle of the night; overnight; bedsheet; bed sheet; can't bear anything touching; even the sheet", 2)),
              context=(f("red meat; seafood; " + ALCOHOL, 1), f("water tablet; diuretic; bendroflumethiazide; furosemide", 1.5), f("gout", 1)),
              findings=(f("first metatarsophalangeal; mtp; podagra; tophi; tophus; urate crystals; negatively birefringent", 3),),
              exam=("musculoskeletal",), tests=("complete blood count", "basic metabolic panel", "c-reactive protein", "x-ray of the limb"),
              plan="Naproxen or colchicine, rest, elevate and ice; check urate 2 weeks after the attack; allopurinol if recurrent.",
              disposition="discharge_home", ages=(25, 120)),
    Condition("Rheumatoid arthritis", "rheumatology",
              symptoms=(f("painful hands; hands; fingers; knuckles; wrists; small joints", 2.5), f("morning stiffness; stiff in the morning; stiff first thing; stiffness in the morning; joints are stiff", 3),
                        f("both hands; both sides; symmetr", 2), f(TIRED, 1), f(SWELLING, 1)),
              findings=(f("synovitis; boggy; swollen mcp; mcp; ulnar deviation; erosions", 3),),
              exam=("musculoskeletal",), tests=("erythrocyte sedimentation rate", "c-reactive protein", "complete blood count", "x-ray of the limb"),
              plan="Urgent rheumatology referral; NSAID with a PPI or a short steroid bridge; methotrexate with folic acid and blood monitoring.",
              disposition="refer_specialist", ages=(18, 120)),
    # ---- haematology -----------------------------------------------------------------------
    Condition("Iron-deficiency anaemia", "haematology",
              symptoms=(f(TIRED, 2), f("pale skin; pale; pallor", 2), f(BREATHLESS, 1.5), f("heavy periods; flooding; clots", 2),
                        f(PALPITATIONS, 1), f("craving ice; pica", 1), f(DIZZY, 0.5)),
              findings=(f("conjunctival pallor; pale conjunctiva; koilonychia; angular stomatitis; angular cheilitis", 2), f("microcytic; hypochromic; low ferritin", 3)),
              exam=("general", "abdominal"), tests=("complete blood count", "ferritin", "vitamin b12 and folate"),
              plan="Oral ferrous sulphate 200 mg daily, find the cause (periods, coeliac screen, GI investigation if male or post-menopausal); recheck Hb in 2-4 weeks.",
              disposition="follow_up"),
    Condition("Deep vein thrombosis", "haematology",
              symptoms=(f("swollen calf; calf; swollen leg; leg swelling; leg is swollen", 3), f("pain in the calf; calf pain; pain in my calf; ache in my leg; calf is tender", 2),
                        f(VTE_RISK, 2), f(RED, 1)),
              findings=(f("calf tenderness; calf swelling; pitting; calf circumference; thrombus; non-compressible", 3),),
              exam=("musculoskeletal", "skin"), tests=("d-dimer", "doppler ultrasound of the leg", "complete blood count", "coagulation screen"),
              plan="Wells score, D-dimer and proximal leg vein ultrasound; a DOAC (apixaban or rivaroxaban) for at least 3 months if confirmed.",
              disposition="follow_up", ages=(16, 120)),
)
