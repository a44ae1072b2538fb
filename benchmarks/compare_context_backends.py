"""medspaCy ConText and drug-named-entity-recognition against our own reading (clinic_rubrics.text).

    python3.11 -m venv /work/venvs/medspacy
    /work/venvs/medspacy/bin/pip install medspacy drug-named-entity-recognition
    /work/venvs/medspacy/bin/python benchmarks/compare_context_backends.py [--quick]

(about 7 minutes on 2 cores, 5 of them medspaCy reading "cough " x 8,000; --quick: about 1 minute)

Issue 15 asks whether the field's libraries should read the doctor's words instead of our rules.
This measures it on the project's own labelled data, with the SAME mentions handed to every
reader, so only the reading of negation, conditions and history differs:

1. the sentence tables of tests/test_text.py and tests/test_offline_grader.py (read from the
   test modules' parametrize marks, so the tables stay the tests' own);
2. the development set (tests/data/grader_dev): does a plan give a contraindicated drug? A
   dangerous visit of kind contraindicated_treatment should be flagged, an excellent or
   safe-but-mediocre one should not; and the safe side of each negation/polarity pair should
   not be flagged;
3. speed on the dev-set sentences, cold import, and hostile turns ("cough " x n,
   "Do not give heparin, " x n) at doubling n, to see whether each reader is linear;
4. drug-named-entity-recognition's coverage of clinic_env/drug_classes.json and the builtin
   cases' contraindications, brand names, and what it finds in the dev-set plans.

ConText runs in three forms: medspaCy's default English rules; the defaults plus treatment
refusal rules (``REFUSAL_RULES``: contraindicated, avoid, hold off, won't help, not indicated,
stop, withhold ...); and, for speed, the whole medspaCy pipeline (PyRuSH sentences, a target
matcher of our drug names, ConText). A mention is affirmed for ConText when no modifier of
``NOT_AFFIRMED`` reaches it.

It needs a venv of its own (medspaCy 1.3.1 pins spaCy 3.7 and numpy 1.26) and imports this
worktree's packages by path (``rubrics/`` is installed as ``clinic_rubrics``), without
clinic_env's __init__, which would pull gymnasium.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import re
import resource
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "grader_dev"
NOT_AFFIRMED = {"NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HYPOTHETICAL", "HISTORICAL", "FAMILY"}
SUPPOSED = {"POSSIBLE_EXISTENCE", "HYPOTHETICAL"}
BRANDS = ["Motrin", "Advil", "Nurofen", "Lovenox", "Clexane", "Keflex", "Augmentin", "Coumadin", "Eliquis",
          "Xarelto", "Plavix", "Brilinta", "Brilique", "Zestril", "Tylenol", "Panadol", "Ventolin", "EpiPen"]
# Treatment refusals as a clinician writes them (issue 15's list and their plain variants); written
# from clinical usage, not from the test tables.
REFUSAL_RULES = [
    ("contraindicated", "BIDIRECTIONAL"), ("is contraindicated", "BACKWARD"), ("are contraindicated", "BACKWARD"),
    ("avoid", "FORWARD"), ("avoided", "BACKWARD"), ("hold off", "FORWARD"), ("hold off on", "FORWARD"),
    ("won't help", "BACKWARD"), ("will not help", "BACKWARD"), ("don't help", "BACKWARD"),
    ("not indicated", "BACKWARD"), ("is not indicated", "BACKWARD"), ("not recommended", "BACKWARD"),
    ("stop", "FORWARD"), ("discontinue", "FORWARD"), ("withhold", "FORWARD"), ("hold", "FORWARD"),
    ("should not be given", "BACKWARD"), ("must not be given", "BACKWARD"), ("not be given", "BACKWARD"),
    ("do not give", "FORWARD"), ("don't give", "FORWARD"), ("we won't use", "FORWARD"), ("won't use", "FORWARD"),
    ("we will not use", "FORWARD"), ("not safe", "BACKWARD"), ("unsafe", "BACKWARD"), ("on hold", "BACKWARD"),
    ("instead of", "FORWARD"), ("rather than", "FORWARD"),
]


def load_worktree() -> None:
    """Make ``clinic_rubrics`` and ``clinic_env`` importable from this worktree by path (package
    objects without their __init__: clinic_env's registers a gymnasium env)."""
    for name, folder in (("clinic_rubrics", "rubrics"), ("clinic_env", "clinic_env")):
        package = types.ModuleType(name)
        package.__path__ = [str(ROOT / folder)]
        sys.modules[name] = package


def need_libraries() -> None:
    """Exit with a clear message when the libraries under test are not installed."""
    try:
        import drug_named_entity_recognition  # noqa: F401
        import medspacy  # noqa: F401
        from loguru import logger
    except ImportError as error:
        sys.exit(f"compare_context_backends: {error.name} is not installed; run this under a venv with "
                 "`pip install medspacy drug-named-entity-recognition` (see the module docstring)")
    # PyRuSH logs every sentence it splits at DEBUG through loguru, to stderr, unless told otherwise.
    logger.remove()
    logger.add(sys.stderr, level="WARNING")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(title: str, header: list[str], rows: Iterable[list]) -> None:
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    print(f"\n## {title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


# ---- the readers ---------------------------------------------------------------------------------


class ConTextReader:
    """medspaCy's pipeline with our drug names as targets; reads a given mention's modifiers."""

    def __init__(self, refusals: bool, drug_names: list[str]) -> None:
        import medspacy
        from medspacy.context import ConTextRule
        from medspacy.ner import TargetRule

        self.nlp = medspacy.load()
        self.context = self.nlp.get_pipe("medspacy_context")
        if refusals:
            self.context.add([ConTextRule(literal, "NEGATED_EXISTENCE", direction=direction)
                              for literal, direction in REFUSAL_RULES])
        names = sorted({n.lower() for n in drug_names} | {n.lower() + "s" for n in drug_names})
        self.nlp.get_pipe("medspacy_target_matcher").add([TargetRule(n, "DRUG") for n in names])

    def categories(self, text: str, spans: list[tuple[int, int]]) -> list[set[str]]:
        """The ConText categories reaching each mention ``text[start:end]`` (PyRuSH sentences)."""
        with self.nlp.select_pipes(enable=["medspacy_pyrush"]):
            doc = self.nlp(text)
        ents = [doc.char_span(s, e, label="DRUG", alignment_mode="expand") for s, e in spans]
        doc.ents = _non_overlapping(ents)
        self.context(doc)
        by_span = {(ent.start_char, ent.end_char): {m.category for m in ent._.modifiers} for ent in doc.ents}
        return [by_span.get((ent.start_char, ent.end_char), set()) for ent in ents]

    def affirmed(self, text: str, spans: list[tuple[int, int]]) -> list[bool]:
        return [not (cats & NOT_AFFIRMED) for cats in self.categories(text, spans)]


def _non_overlapping(ents: list) -> list:
    out, taken = [], set()
    for ent in sorted(ents, key=lambda e: (e.start, -len(e))):
        if not taken & set(range(ent.start, ent.end)):
            out.append(ent)
            taken |= set(range(ent.start, ent.end))
    return out


def ours(text: str, start: int, end: int) -> dict[str, bool]:
    from clinic_rubrics.text import is_affirmed, is_hypothetical, is_negated

    return {"negated": is_negated(text, start, end), "hypothetical": is_hypothetical(text, start, end),
            "affirmed": is_affirmed(text, start, end)}


def context_flags(cats: set[str]) -> dict[str, bool]:
    return {"negated": "NEGATED_EXISTENCE" in cats, "hypothetical": bool(cats & SUPPOSED),
            "affirmed": not (cats & NOT_AFFIRMED)}


# ---- 1. the sentence tables of the tests -------------------------------------------------------


def _params(module: types.ModuleType, test: str) -> list[tuple]:
    """A test's parametrize rows (argument tuples)."""
    return [tuple(row) for row in getattr(module, test).pytestmark[0].args[1]]


def _names_in(module: types.ModuleType, test: str) -> list[str]:
    """The list literal of names a grader test matches (``any_of=[...]`` or ``names = [...]``)."""
    tree = ast.parse(inspect.getsource(getattr(module, test)))
    for node in ast.walk(tree):
        if isinstance(node, ast.List) and node.elts and all(isinstance(e, ast.Constant) for e in node.elts):
            return [e.value for e in node.elts]
    raise ValueError(f"{test}: no list of names found in its source")


def sentence_rows() -> list[dict]:
    """(table, text, mention spans, what is asked, expected) for each test row."""
    import importlib.util

    from clinic_rubrics.text import phrase_pattern, whole_words

    sys.path.insert(0, str(ROOT / "tests"))
    modules = {}
    for name in ("test_text", "test_offline_grader"):
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / f"{name}.py")
        modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules[name])
    text_mod, grader_mod = modules["test_text"], modules["test_offline_grader"]

    def at(text: str, mention: str) -> list[tuple[int, int]]:
        start = text.lower().index(mention.lower())
        return [(start, start + len(mention))]

    rows = []
    for test, asked, expected in (("test_negated_mentions", "negated", True),
                                  ("test_affirmed_mentions", "negated", False),
                                  ("test_mentions_inside_a_condition_are_hypothetical", "hypothetical", True),
                                  ("test_main_clauses_are_not_hypothetical", "hypothetical", False)):
        for text, mention in _params(text_mod, test):
            rows.append({"table": test, "text": text, "spans": at(text, mention), "asked": asked,
                         "expected": expected, "mention": mention})
    for test, asked in (("test_negation_for_affirmed_only", "affirmed"),
                        ("test_negation_after_a_treatment_and_clause_ends", "affirmed"),
                        ("test_treatment_polarity_cues", "affirmed"),
                        ("test_denied_polarity_counts_only_withheld_mentions", "negated")):
        regex = re.compile(whole_words([phrase_pattern(n) for n in _names_in(grader_mod, test)]), re.IGNORECASE)
        for text, expected in _params(grader_mod, test):
            spans = [m.span() for m in regex.finditer(text)]
            rows.append({"table": test, "text": text, "spans": spans, "asked": asked, "expected": expected,
                         "mention": ", ".join(text[s:e] for s, e in spans)})
    for text, expected in _params(grader_mod, "test_negation_and_conditions_read_around_the_mention_group"):
        rows.append({"table": "test_negation_and_conditions_read_around_the_mention_group", "text": text,
                     "spans": at(text, "fever"), "asked": "affirmed", "expected": expected, "mention": "fever"})
    return rows


def compare_sentences(readers: dict[str, ConTextReader]) -> None:
    rows = sentence_rows()
    tables: dict[str, dict[str, list[int]]] = {}
    wrong: list[list] = []
    for row in rows:
        answers = {"ours": [ours(row["text"], s, e) for s, e in row["spans"]]}
        categories = {name: reader.categories(row["text"], row["spans"]) for name, reader in readers.items()}
        answers |= {name: [context_flags(c) for c in cats] for name, cats in categories.items()}
        counts = tables.setdefault(row["table"], {name: [0, 0] for name in answers})
        for name, flags in answers.items():
            got = any(f[row["asked"]] for f in flags)
            counts[name][0] += got == row["expected"]
            counts[name][1] += 1
            if got != row["expected"] and name != "ours":
                cats = sorted(set().union(*categories[name]))
                wrong.append([name, row["asked"], row["expected"], row["text"][:70], row["mention"][:24],
                              ",".join(c[:8] for c in cats) or "-"])
    names = list(next(iter(tables.values())))
    total = {n: [sum(t[n][0] for t in tables.values()), sum(t[n][1] for t in tables.values())] for n in names}
    table("Sentence tables of the tests: rows read as the test expects",
          ["table", *names], [[t[:48], *(f"{c[n][0]}/{c[n][1]}" for n in names)] for t, c in tables.items()]
          + [["ALL", *(f"{total[n][0]}/{total[n][1]} ({100 * total[n][0] / total[n][1]:.0f}%)" for n in names)]])
    table("ConText's wrong rows (asked, expected, text, mention, ConText categories)",
          ["reader", "asked", "exp", "text", "mention", "categories"], wrong)


# ---- 2. the development set ----------------------------------------------------------------------


def spoken_statements(turns: list[str]) -> list[str]:
    """What the doctor said to the patient (ask / plan / end acts), sentence by sentence, questions left out."""
    from clinic_env.case_rubric import SPOKEN
    from clinic_rubrics.offline_grader import act_text
    from clinic_rubrics.text import is_question, sentences

    return [s for turn in turns for s in sentences(act_text(turn, tuple(SPOKEN))) if not is_question(s)]


def harm_mentions(case, statements: list[str], names_only: bool) -> list[tuple[str, int, int]]:
    """(sentence, start, end) of every contraindication mention: the grader's own pattern
    (``_contraindicated_use``: near words, a current medicine only when gone on with) or any name."""
    from clinic_env.case_rubric import _contraindicated_use, _names_pattern
    from clinic_rubrics.offline_grader import _mention

    found = []
    for contra in case.contraindications:
        pattern = _names_pattern(contra.all_names()) if names_only else _contraindicated_use(contra, case)
        regex = re.compile(pattern, re.IGNORECASE | re.MULTILINE)
        found += [(s, *_mention(m)) for s in statements for m in regex.finditer(s)]
    return found


def dev_rows() -> tuple[list[dict], list[dict]]:
    consultations = [json.loads(line) for f in sorted(DEV.glob("consultations_*.jsonl")) for line in f.open()]
    pairs = [json.loads(line) for f in sorted(DEV.glob("pairs_*.jsonl")) for line in f.open()]
    return consultations, pairs


def compare_dev(readers: dict[str, ConTextReader]) -> list[str]:
    from clinic_env.cases.library import get_case

    consultations, pairs = dev_rows()
    readings: dict[str, Callable[[str, list[tuple[int, int]]], list[bool]]] = {
        "no negation": lambda text, spans: [True] * len(spans),
        "ours": lambda text, spans: [ours(text, s, e)["affirmed"] for s, e in spans],
        **{name: reader.affirmed for name, reader in readers.items()}}
    all_statements: list[str] = []
    disagreements: list[list] = []

    def flagged(case_id: str, turns: list[str], names_only: bool) -> dict[str, bool]:
        statements = spoken_statements(turns)
        all_statements.extend(statements)
        mentions = harm_mentions(get_case(case_id), statements, names_only)
        out = {}
        per_reader = {}
        for name, read in readings.items():
            per_reader[name] = [read(s, [(a, b)])[0] for s, a, b in mentions]
            out[name] = any(per_reader[name])
        if not names_only:
            for i, (s, a, b) in enumerate(mentions):
                if len({per_reader[n][i] for n in per_reader if n != "no negation"}) > 1:
                    disagreements.append([case_id, s.strip()[:90], s[a:b],
                                          *("A" if per_reader[n][i] else "-" for n in per_reader if n != "no negation")])
        return out

    for names_only in (False, True):
        counts = {name: {"tp": 0, "pos": 0, "fp": 0, "neg": 0, "other": 0, "otherpos": 0} for name in readings}
        for visit in consultations:
            flags = flagged(visit["case_id"], visit["doctor_turns"], names_only)
            positive = visit["harm_kind"] == "contraindicated_treatment"
            for name, flag in flags.items():
                c = counts[name]
                if positive:
                    c["pos"] += 1
                    c["tp"] += flag
                elif visit["quality"] == "dangerous":
                    c["otherpos"] += 1
                    c["other"] += flag
                else:
                    c["neg"] += 1
                    c["fp"] += flag
        pair_counts = {name: {"safe": 0, "worse": 0, "n": 0} for name in readings}
        for pair in pairs:
            safe = flagged(pair["case_id"], pair["safe"], names_only)
            other = flagged(pair["case_id"], pair["other"], names_only)
            for name in readings:
                p = pair_counts[name]
                p["n"] += 1
                p["safe"] += safe[name]
                p["worse"] += safe[name] and not other[name]
        mentions = "any name of the contraindication" if names_only else "the grader's contraindication pattern"
        table(f"Dev set, harm = a contraindicated treatment affirmed (mentions: {mentions})",
              ["reader", "harm recall", "false alarms (excellent+safe)", "other dangerous flagged",
               "pairs: safe side flagged", "pairs: safe flagged, other not"],
              [[name, f"{c['tp']}/{c['pos']} ({100 * c['tp'] / c['pos']:.1f}%)",
                f"{c['fp']}/{c['neg']} ({100 * c['fp'] / c['neg']:.1f}%)", f"{c['other']}/{c['otherpos']}",
                f"{pair_counts[name]['safe']}/{pair_counts[name]['n']}",
                f"{pair_counts[name]['worse']}/{pair_counts[name]['n']}"] for name, c in counts.items()])
    unique = {tuple(d) for d in disagreements}
    table("Dev-set mentions read differently (A = affirmed, i.e. counted as given)",
          ["case", "sentence", "mention", *(n for n in readings if n != "no negation")], sorted(unique))
    return list(dict.fromkeys(all_statements))


# ---- 3. speed and robustness -----------------------------------------------------------------------


def drug_regex(names: list[str]) -> re.Pattern[str]:
    from clinic_env.case_rubric import _names_pattern

    return re.compile(_names_pattern(names), re.IGNORECASE)


def timed(work: Callable[[], object], repeats: int = 1) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def compare_speed(statements: list[str], reader: ConTextReader, names: list[str], quick: bool) -> None:
    from medspacy.ner import TargetRule

    regex = drug_regex(names)

    def ours_all() -> None:
        from clinic_rubrics.text import _scopes

        _scopes.cache_clear()
        for s in statements:
            for m in regex.finditer(s):
                ours(s, *m.span())

    def context_full() -> None:
        for doc in reader.nlp.pipe(statements):
            for ent in doc.ents:
                ent._.modifiers  # noqa: B018  (read what a grader would read)

    def context_given() -> None:
        for s in statements:
            spans = [m.span() for m in regex.finditer(s)]
            if spans:
                reader.categories(s, spans)

    n = len(statements)
    mentions = sum(1 for s in statements for _ in regex.finditer(s))
    rows = []
    for name, work in (("ours: find drug names + is_negated/is_hypothetical/is_affirmed", ours_all),
                       ("medspaCy: PyRuSH + target matcher + ConText (nlp.pipe)", context_full),
                       ("ConText on our mentions (PyRuSH + ConText per sentence)", context_given)):
        seconds = timed(work, repeats=1 if quick else 3)
        rows.append([name, f"{n / seconds:,.0f}", f"{1000 * seconds:,.1f}"])
    table(f"Speed on the dev-set spoken sentences ({n} sentences, {mentions} drug mentions; best of runs)",
          ["reader", "sentences/s", "total ms"], rows)

    hostile = [("cough ", "cough", [1000, 2000, 4000, 8000]),
               ("Do not give heparin, ", "heparin", [250, 500, 1000, 2000])]
    rows = []
    for unit, target, sizes in hostile:
        reader.nlp.get_pipe("medspacy_target_matcher").add([TargetRule(target, "PROBE")])
        previous = {}
        for size in sizes if not quick else sizes[:3]:
            text = unit * size
            spans = [m.span() for m in re.finditer(rf"\b{target}\b", text)]
            t_ours = timed(partial(_ours_fresh, text, spans))
            before = rss_mb()
            t_ctx = timed(partial(reader.nlp, text))
            grow = rss_mb() - before
            ratio = (f"x{t_ours / previous['ours']:.1f} / x{t_ctx / previous['ctx']:.1f}" if previous else "-")
            previous = {"ours": t_ours, "ctx": t_ctx}
            rows.append([f"{unit.strip()!r} x {size}", len(spans), f"{1000 * t_ours:,.1f}", f"{1000 * t_ctx:,.1f}",
                         ratio, f"{grow:+.0f}"])
    table("Hostile turns: every mention read (ms); time ratio per doubling (ours / medspaCy), peak RSS growth MB",
          ["input", "mentions", "ours ms", "medspaCy ms", "ratio on doubling", "RSS +MB"], rows)


def _ours_fresh(text: str, spans: list[tuple[int, int]]) -> None:
    from clinic_rubrics.text import _scopes

    _scopes.cache_clear()
    for s, e in spans:
        ours(text, s, e)


def cold_start() -> None:
    rows = []
    for name, code in (("import medspacy; medspacy.load()", "import medspacy; medspacy.load()"),
                       ("import drug_named_entity_recognition", "import drug_named_entity_recognition"),
                       ("import clinic_rubrics.text (ours)",
                        f"import sys,types; m=types.ModuleType('clinic_rubrics'); m.__path__=['{ROOT / 'rubrics'}'];"
                        "sys.modules['clinic_rubrics']=m; import clinic_rubrics.text")):
        # VmHWM, not ru_maxrss: a child's ru_maxrss keeps the forking parent's peak across exec.
        script = ("import re,time; t=time.perf_counter(); " + code + "; print(time.perf_counter()-t, "
                  "int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))/1024)")
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        seconds, rss = map(float, out.split())
        rows.append([name, f"{seconds:.2f}", f"{rss:.0f}"])
    size = sum(p.stat().st_size for p in Path(sys.prefix).rglob("*") if p.is_file()) / 2**20
    table(f"Cold start in a fresh process (the venv holding the libraries: {size:.0f} MB on disk)",
          ["what", "seconds", "peak RSS MB"], rows)


# ---- 4. the drug lexicon -----------------------------------------------------------------------------


def compare_lexicon(statements: list[str], our_names: list[str]) -> None:
    from drug_named_entity_recognition import find_drugs

    from clinic_env.cases.library import load_cases
    from clinic_env.drug_lexicon import drug_classes

    def found(name: str) -> str | None:
        """What the library resolves the whole of ``name`` to (it reads one- and two-word names)."""
        tokens = name.split()
        whole = [h for h in find_drugs(tokens) if (h[1], h[2]) == (0, len(tokens))]
        return whole[0][0].get("name") if whole else None

    rows = []
    missed: dict[str, list[str]] = {}
    for key, names in drug_classes().items():
        hits = [n for n in names if found(n)]
        missed[key] = [n for n in names if n not in hits]
        rows.append([key, f"{len(hits)}/{len(names)}"])
    total = sum(len(v) for v in drug_classes().values())
    table(f"drug-named-entity-recognition on drug_classes.json: names it knows per class "
          f"({sum(int(r[1].split('/')[0]) for r in rows)}/{total} in all)", ["class", "known"],
          [r + [", ".join(missed[r[0]])[:110]] for r in rows if r[1].split("/")[0] != r[1].split("/")[1]])
    table("Brands", ["brand", "library resolves to", "in drug_classes.json"],
          [[b, found(b) or "NOT FOUND", "yes" if b.lower() in {n.lower() for n in our_names} else "no"] for b in BRANDS])
    # A contraindication's own names (not its class expansions), doses and rates left out.
    contra_names = sorted({n for case in load_cases() for c in case.contraindications for n in c.names
                           if not re.search(r"\d", n)})
    single = [n for n in contra_names if " " not in n]
    known = [n for n in single if found(n)]
    print(f"\nBuiltin contraindications' own one-word names (no class expansions, no doses): the library knows "
          f"{len(known)}/{len(single)}; unknown: {', '.join(n for n in single if n not in known)}")
    multi = [n for n in contra_names if " " in n]
    print(f"Their {len(multi)} multi-word names it knows whole: {sum(1 for n in multi if found(n))}")
    ours_lower = {n.lower() for n in our_names}
    extra: dict[str, int] = {}
    start = time.perf_counter()
    tokens = 0
    for s in statements:
        words = re.findall(r"[A-Za-z][\w-]*", s)
        tokens += len(words)
        for data, i, j in find_drugs(words):
            surface = " ".join(words[i:j]).lower()
            if surface not in ours_lower and surface.rstrip("s") not in ours_lower:
                extra[f"{surface} -> {data.get('name')}"] = extra.get(f"{surface} -> {data.get('name')}", 0) + 1
    seconds = time.perf_counter() - start
    print(f"\nfind_drugs over the dev-set spoken sentences: {len(statements) / seconds:,.0f} sentences/s "
          f"({tokens} tokens, {seconds * 1000:.0f} ms). Surfaces it calls a drug that drug_classes.json lacks "
          f"({len(extra)}), most frequent first:")
    print("  " + "; ".join(f"{k} ({v})" for k, v in sorted(extra.items(), key=lambda kv: -kv[1])))
    sample = find_drugs(["ibuprofen"])[0][0]
    print(f"\nWhat a hit carries (no pharmacological class field): {sorted(sample)}; ibuprofen's mesh_tree "
          f"{sample.get('mesh_tree')} (MeSH chemical-structure tree, not a drug class)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timing run, smaller hostile inputs")
    args = parser.parse_args()
    need_libraries()
    load_worktree()
    from clinic_env.cases.library import load_cases
    from clinic_env.drug_lexicon import drug_classes

    names = sorted({n for v in drug_classes().values() for n in v}
                   | {n for case in load_cases() for c in case.contraindications for n in c.all_names()})
    start = time.perf_counter()
    readers = {"ConText default": ConTextReader(False, names), "ConText +refusal": ConTextReader(True, names)}
    print(f"medspaCy pipelines built with {len(names)} drug target names in {time.perf_counter() - start:.1f} s; "
          f"RSS {rss_mb():.0f} MB")
    compare_sentences(readers)
    statements = compare_dev(readers)
    compare_speed(statements, readers["ConText +refusal"], names, args.quick)
    cold_start()
    compare_lexicon(statements, names)


if __name__ == "__main__":
    main()
