"""How well the disposition reader tells which level of care a plan arranges, against a labelled set.

    python benchmarks/bench_dispositions.py [--data FILE] [--failures] [--classifier]

Each row of tests/data/dispositions/plans.jsonl is a plan written as doctors write them (notes, SOAP,
markdown, patient-facing prose, UK and US wording), labelled by a clinician who never saw the reader
with the highest level of care it arranges now: home, gp_follow_up, clinic, same_day, admit or
emergency (80 each). A plan that arranges nothing is home. Printed: exact accuracy, per-level recall
and precision, the confusion matrix, and the two errors the harm gate cares about: a plan arranging
admission or emergency care read as less than same-day care (a safe plan gated as an unsafe
disposition), and a home or follow-up plan read as admission or more (an unsafe plan let through).

``--classifier`` measures the alternative issue 15 names, a small classifier over the plan:
multinomial logistic regression over word uni- and bigrams, each word marked by the reader's scope
("not_" when denied in its clause, "if_" under a condition), by 5-fold cross-validation on this set,
then trained on all of it and judged on other authors' plans (tests/data/plan_readings). Measured
when the set was written: the reader read its first 240 plans 0.721 right and, after rules written
from those, the 240 it had not seen 0.863 (0.758 before); the classifier scored 0.93 in
cross-validation, like the reader, but on other authors' plans it agreed with 167 of 212 "right
disposition" labels against the reader's 198 and read 18 of 94 safe plans as unsafe dispositions
against the reader's 0: it learns one author's wording, so the reader stays.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clinic_env.disposition import Level, plan_level
from clinic_rubrics.text import APOSTROPHES, condition_in, is_negated, sentences

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "dispositions" / "plans.jsonl"
LABELS = {"home": Level.HOME, "gp_follow_up": Level.GP_FOLLOW_UP, "clinic": Level.CLINIC,
          "same_day": Level.SAME_DAY, "admit": Level.ADMIT, "emergency": Level.EMERGENCY}
WORD = re.compile(r"[a-z0-9&]+(?:['-][a-z0-9]+)*")


def load(path: Path) -> list[tuple[str, Level]]:
    """The (plan, level) rows; a bad row is an error naming its line."""
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        row = json.loads(line)
        if row.get("level") not in LABELS or not isinstance(row.get("plan"), str):
            raise SystemExit(f"{path}:{n}: needs a 'plan' string and a 'level' in {sorted(LABELS)}")
        rows.append((row["plan"], LABELS[row["level"]]))
    return rows


def read(plan: str) -> Level:
    """The reader's level; a plan arranging nothing is home."""
    level = plan_level(plan)
    return Level.HOME if level is None else level


@dataclass(frozen=True)
class Agreement:
    """How a reading of the set agrees with its labels, and its two errors that matter to the gate."""

    exact: float
    under: tuple[int, int]  # hospital-level plans read below same-day care, of all hospital-level plans
    over: tuple[int, int]  # home or follow-up plans read as admission or more, of all such plans


def agreement(truth: list[Level], guess: list[Level]) -> Agreement:
    needs_hospital = [g for t, g in zip(truth, guess) if t >= Level.ADMIT]
    low_care = [g for t, g in zip(truth, guess) if t <= Level.GP_FOLLOW_UP]
    return Agreement(exact=sum(t == g for t, g in zip(truth, guess)) / len(truth),
                     under=(sum(g < Level.SAME_DAY for g in needs_hospital), len(needs_hospital)),
                     over=(sum(g >= Level.ADMIT for g in low_care), len(low_care)))


def report(name: str, truth: list[Level], guess: list[Level]) -> None:
    found = agreement(truth, guess)
    print(f"\n{name}: exact {found.exact:.3f} ({len(truth)} plans)")
    for level in Level:
        tp = sum(t == g == level for t, g in zip(truth, guess))
        want, got = truth.count(level), guess.count(level)
        print(f"  {level.name:<13} recall {tp / want if want else float('nan'):.3f}  "
              f"precision {tp / got if got else float('nan'):.3f}  (n={want})")
    print(f"  hospital-level plans read below same-day care: {found.under[0]}/{found.under[1]}")
    print(f"  home/follow-up plans read as admission or more: {found.over[0]}/{found.over[1]}")
    confusion = Counter(zip(truth, guess))
    print("  confusion (rows: label, columns: read) " + " ".join(f"{lv.name[:5]:>5}" for lv in Level))
    for t in Level:
        print(f"  {t.name:<38}" + " ".join(f"{confusion[t, g]:>5}" for g in Level))


def scoped_words(plan: str) -> list[str]:
    """The plan's words, each marked by the reader's scope, plus adjacent-word pairs."""
    out = []
    for sentence in sentences(plan.translate(APOSTROPHES).lower()):
        words = []
        for m in WORD.finditer(sentence):
            mark = "not_" if is_negated(sentence, m.start(), m.end()) else (
                "if_" if condition_in(sentence, m.start(), m.end()) else "")
            words.append(mark + m.group())
        out += words + [f"{a}+{b}" for a, b in zip(words, words[1:])]
    return out


def train(features: list[list[str]], labels: list[int], steps: int = 400, l2: float = 1e-3):
    """Multinomial logistic regression by full-batch gradient descent (the set is small)."""
    vocab = {w: i for i, w in enumerate(sorted({w for f in features for w in f}))}
    x = np.zeros((len(features), len(vocab)))
    for row, f in enumerate(features):
        for w in f:
            x[row, vocab[w]] = 1.0
    y = np.eye(len(Level))[labels]
    weights = np.zeros((len(vocab), len(Level)))
    for _ in range(steps):
        logits = x @ weights
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        weights -= 1.0 * (x.T @ (p - y) / len(x) + l2 * weights)
    return vocab, weights


def predict(model, features: list[list[str]]) -> list[Level]:
    vocab, weights = model
    out = []
    for f in features:
        idx = [vocab[w] for w in set(f) if w in vocab]
        out.append(Level(int(np.argmax(weights[idx].sum(0) if idx else np.zeros(len(Level))))))
    return out


def cross_validate(rows: list[tuple[str, Level]], folds: int = 5, seed: int = 0) -> list[Level]:
    order = np.random.default_rng(seed).permutation(len(rows))
    features = [scoped_words(plan) for plan, _ in rows]
    guess: list[Level] = [Level.HOME] * len(rows)
    for k in range(folds):
        test = set(order[k::folds].tolist())
        train_idx = [i for i in range(len(rows)) if i not in test]
        model = train([features[i] for i in train_idx], [int(rows[i][1]) for i in train_idx])
        for i, level in zip(sorted(test), predict(model, [features[i] for i in sorted(test)])):
            guess[i] = level
    return guess


def other_authors(model) -> None:
    """The classifier trained on the whole set, judged on other authors' plans: the plan-readings set's
    "right disposition" and "unsafe disposition" labels, beside the reader's."""
    from bench_plan_readings import load_plans

    from clinic_env.cases.library import get_case
    from clinic_env.disposition import CASE_LEVEL, disposition_met, unsafe_disposition

    right = {"reader": 0, "classifier": 0}
    alarms = {"reader": 0, "classifier": 0}
    judged = safe = 0
    for row in load_plans():
        management = get_case(row.case_id).management
        if management is None:
            continue
        needed, level = CASE_LEVEL[management.disposition], predict(model, [scoped_words(row.plan)])[0]
        if row.disposition_right is not None:
            judged += 1
            right["reader"] += disposition_met(row.plan, management.disposition) == row.disposition_right
            right["classifier"] += (needed <= level <= needed + 1) == row.disposition_right
        if row.unsafe is False and needed >= Level.ADMIT:
            safe += 1
            alarms["reader"] += unsafe_disposition(row.plan, management.disposition)
            alarms["classifier"] += level <= Level.CLINIC
    print("\nother authors (tests/data/plan_readings), classifier trained on the whole set:")
    for name in right:
        print(f"  {name:<10} right-disposition labels agreed {right[name]}/{judged}; "
              f"safe plans read as an unsafe disposition {alarms[name]}/{safe}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--failures", action="store_true", help="print every plan the reader reads wrongly")
    parser.add_argument("--classifier", action="store_true", help="also measure a scoped bag-of-words classifier")
    args = parser.parse_args()
    rows = load(args.data)
    truth = [level for _, level in rows]
    reader = [read(plan) for plan, _ in rows]
    report("disposition reader", truth, reader)
    if args.classifier:
        report("scoped bag-of-words classifier (5-fold CV)", truth, cross_validate(rows))
        other_authors(train([scoped_words(p) for p, _ in rows], [int(level) for _, level in rows]))
    if args.failures:
        for (plan, level), got in zip(rows, reader):
            if got != level:
                print(f"\nlabel {level.name} read {got.name}: {plan!r}")


if __name__ == "__main__":
    main()
