"""How good a model is: scores on labelled data, K-fold cross-validation, a learning curve.

Cross-validation and the learning curve are scikit-learn's own (`cross_validate`,
`learning_curve`) over the estimator `train` fits (`build_estimator`), seed terms included:
they score what would be deployed.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn import model_selection
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import accuracy_score, make_scorer, precision_recall_fscore_support
from sklearn.model_selection import ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit

from classifiers.estimator import Prediction, abstains, tempered
from classifiers.examples import Example, fingerprint
from classifiers.model import TriageModel, build_estimator

__all__ = ["MIN_CALIBRATION", "against_mailbox", "calibrate", "calibration_error", "cross_validate", "evaluate", "learning_curve", "macro_f1", "move_threshold",
           "reliability", "scores", "should_promote"]


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the labels the data has: a label only ever predicted wrongly counts in
    the precision of the others, not as an extra zero (as it would in sklearn's 'f1_macro')."""
    labels = sorted(set(truth))
    if not labels:
        return 0.0
    _, _, f1, _ = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return float(np.mean(f1))


MACRO_F1 = make_scorer(macro_f1)


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """`n`, `accuracy`, `macro_f1` and `per_label` ({label: precision, recall, f1, support})."""
    labels = sorted(set(truth) | set(predicted))
    if not truth:
        return {"n": 0, "accuracy": 0.0, "macro_f1": 0.0, "per_label": {}}
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(macro_f1(truth, predicted), 4),
        "per_label": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
    }


def _with_abstentions(truth: Sequence[str], guesses: Sequence[Prediction], threshold: float) -> dict[str, Any]:
    """`scores` of the first choices, plus `abstained` (confidence below `threshold`) and the
    accuracy of the questions the model would not leave to a person (`answered_accuracy`)."""
    result = scores(truth, [guess.label for guess in guesses])
    answered = [t == guess.label for t, guess in zip(truth, guesses) if not abstains(guess, threshold)]
    result["abstained"] = len(truth) - len(answered)
    result["answered_accuracy"] = round(sum(answered) / len(answered), 4) if answered else 0.0
    return result


MOVE_PRECISION = 0.9  # moves away from the arrival mailbox must be right this often
MIN_MOVES = 5  # and there must be this many to tell


def move_threshold(guesses: Sequence[Prediction], truth: Sequence[str], mailboxes: Sequence[str], *,
                   precision: float = MOVE_PRECISION, min_moves: int = MIN_MOVES) -> float | None:
    """The lowest confidence from which the model's moves away from the arrival mailbox's
    organisation are right at least `precision` of the time, counted over at least `min_moves`
    moves; None when no such confidence exists (then the mailbox decides, always)."""
    moves = sorted(((g.confidence, g.label == t) for g, t, m in zip(guesses, truth, mailboxes) if m and g.label != m),
                   key=lambda move: -move[0])
    best, right = None, 0
    for count, (confidence, correct) in enumerate(moves, start=1):
        right += correct
        if count >= min_moves and right / count >= precision:
            best = confidence
    return best


def against_mailbox(guesses: Sequence[Prediction], truth: Sequence[str], mailboxes: Sequence[str],
                    threshold: float | None) -> dict[str, Any]:
    """The model against "the arrival mailbox answers" on the same questions (those whose mailbox
    is known): each one's accuracy, and that of the policy the pipeline follows (move only from
    `threshold`), with how many moves it makes and how many are right."""
    rows = [(g, t, m) for g, t, m in zip(guesses, truth, mailboxes) if m]
    if not rows:
        return {"n": 0}
    policy = [g.label if threshold is not None and g.label != m and g.confidence >= threshold else m
              for g, _, m in rows]
    moves = [(p, t) for p, (_, t, m) in zip(policy, rows) if p != m]
    n = len(rows)
    return {
        "n": n,
        "model_accuracy": round(sum(g.label == t for g, t, _ in rows) / n, 4),
        "mailbox_accuracy": round(sum(m == t for _, t, m in rows) / n, 4),
        "policy_accuracy": round(sum(p == t for p, (_, t, _m) in zip(policy, rows)) / n, 4),
        "move_threshold": threshold,
        "moves": len(moves),
        "moves_right": sum(p == t for p, t in moves),
    }


def reliability(guesses: Sequence[Prediction], truth: Sequence[str], *, bins: int = 5,
                target_precision: float = 0.9) -> dict[str, Any]:
    """How far confidence can be trusted: per confidence band the count and the accuracy, and
    the lowest `min_confidence` at which the answers the model gives (not left to a person) are
    right `target_precision` of the time (None: none is)."""
    table = []
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        inside = [g.label == t for g, t in zip(guesses, truth) if low <= g.confidence < high or (i == bins - 1 and g.confidence == 1.0)]
        table.append({"from": round(low, 2), "to": round(high, 2), "n": len(inside),
                      "accuracy": round(sum(inside) / len(inside), 4) if inside else None})
    proposal = None
    for cut in sorted({round(g.confidence, 2) for g in guesses}):
        kept = [g.label == t for g, t in zip(guesses, truth) if g.confidence >= cut]
        if kept and sum(kept) / len(kept) >= target_precision:
            proposal = cut
            break
    return {"bands": table, "target_precision": target_precision, "proposed_min_confidence": proposal,
            "calibration_error": calibration_error(guesses, truth)}


def calibration_error(guesses: Sequence[Prediction], truth: Sequence[str], *, bins: int = 10) -> float | None:
    """Expected calibration error: over ten confidence bands, the mean distance between how sure
    the model was and how often it was right, weighted by the answers in each band (0 is perfect)."""
    if not guesses:
        return None
    confidence = np.array([g.confidence for g in guesses])
    right = np.array([g.label == t for g, t in zip(guesses, truth)], dtype=float)
    band = np.minimum((confidence * bins).astype(int), bins - 1)
    error = sum(abs(right[band == b].mean() - confidence[band == b].mean()) * (band == b).sum()
                for b in range(bins) if (band == b).any())
    return round(float(error / len(guesses)), 4)


MIN_CALIBRATION = 30  # examples of a target a person labelled, before its probabilities are calibrated


def _temperature(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of the true labels."""
    def loss(log_t: float) -> float:
        scaled = tempered(probabilities, float(np.exp(log_t)))
        return float(-np.log(np.clip(scaled[np.arange(len(truth)), truth], 1e-12, 1.0)).mean())
    return round(float(np.exp(minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded").x)), 4)


def calibrate(model: TriageModel, examples: Sequence[Example], *,
              min_examples: int = MIN_CALIBRATION) -> dict[str, dict[str, Any]]:
    """Per target with at least `min_examples` labelled examples (of two labels or more) the
    temperature that calibrates its probabilities on them (temperature scaling: the label a
    model picks never changes, only how sure it says it is).

    Each target's entry also says what calibration is worth on data it was not fitted on: the
    calibration error before, and after with each half's temperature fitted on the other half.
    The examples must be ones the model did not train on, labelled by people: a temperature
    fitted on generated text calibrates the model to the generator.
    """
    raw = dataclasses.replace(model, temperatures={})
    predictions = raw.predict_many([example.text for example in examples])
    found: dict[str, dict[str, Any]] = {}
    for target, estimator in model.estimators.items():
        classes = [str(c) for c in estimator.classes_]
        rows = [(p[target], e.labels[target]) for p, e in zip(predictions, examples)
                if e.labels.get(target) in classes]
        if len(rows) < min_examples or len({t for _, t in rows}) < 2:
            continue
        probabilities = np.array([[g.probabilities[c] for c in classes] for g, _ in rows])
        truth = np.array([classes.index(t) for _, t in rows])
        order = np.random.RandomState(0).permutation(len(rows))  # halves drawn at random, not by position
        halves = [order % 2 == h for h in (0, 1)]
        after: list[Prediction] = []
        labels: list[str] = []
        for fit_on, score_on in (halves, halves[::-1]):
            scaled = tempered(probabilities[score_on], _temperature(probabilities[fit_on], truth[fit_on]))
            after += [Prediction(classes[k], float(row[k])) for row, k in zip(scaled, scaled.argmax(axis=1))]
            labels += [classes[k] for k in truth[score_on]]
        found[target] = {
            "temperature": _temperature(probabilities, truth),
            "n": len(rows),
            "calibration_error_before": calibration_error([g for g, _ in rows], [t for _, t in rows]),
            "calibration_error_after": calibration_error(after, labels),
        }
    return found


def evaluate(model: TriageModel, examples: Sequence[Example], *, threshold: float) -> dict[str, Any]:
    """Score `model` on labelled examples; the theme at the top level, every target under `targets`.

    `accuracy`, `macro_f1` and `per_label` score the model's first choice on every example;
    `abstained` counts the examples it would leave to a person (confidence below
    `threshold`), and `answered_accuracy` is the accuracy on the others.
    """
    predictions = model.predict_many([example.text for example in examples])
    targets: dict[str, dict[str, Any]] = {}
    for target in model.targets:
        rows = [i for i, example in enumerate(examples) if example.labels.get(target)]
        truth = [examples[i].labels[target] for i in rows]
        guesses = [predictions[i][target] for i in rows]
        targets[target] = _with_abstentions(truth, guesses, threshold)
        targets[target]["reliability"] = reliability(guesses, truth)
        if target == "organisation":
            targets[target]["against_mailbox"] = against_mailbox(
                guesses, truth, [examples[i].mailbox_organisation for i in rows], model.move_threshold)
    theme = targets.get("theme", {**scores([], []), "abstained": 0, "answered_accuracy": 0.0})
    return {
        **theme,
        "threshold": threshold,
        "model_version": model.version,
        "data_fingerprint": fingerprint(examples),
        "targets": targets,
    }


def _rows_with(examples: Sequence[Example], target: str) -> tuple[list[str], list[str]]:
    kept = [example for example in examples if example.labels.get(target)]
    return [example.text for example in kept], [example.labels[target] for example in kept]


def _askers(examples: Sequence[Example], target: str) -> dict[str, list[str]]:
    """The fit parameter that keeps one asker's terms out, as `train` passes it."""
    kept = [(n, example) for n, example in enumerate(examples) if example.labels.get(target)]
    return {"askers": [example.asker or f"#{n}" for n, example in kept]}


def cross_validate(
    examples: Sequence[Example],
    k: int,
    *,
    target: str = "theme",
    seed_terms: Mapping[str, Sequence[str]] | None = None,
    estimator: BaseEstimator | None = None,
    threshold: float = 0.0,
    random_state: int = 0,
) -> dict[str, Any]:
    """Stratified K-fold scores on the examples' own labels, whatever they are.

    Each fold fits `build_estimator(target, seed_terms=...)`, the estimator `train` deploys
    for the target, on the other folds. With `estimator` (any scikit-learn classifier of text with
    `predict_proba`) that is scored on the same folds instead: a baseline to compare with.
    The top-level scores pool the folds' predictions; `fold_macro_f1` gives each fold's.
    """
    texts, y = _rows_with(examples, target)
    if k < 2 or k > len(texts):
        raise ValueError(f"cross-validation needs 2 <= k <= {len(texts)} (the examples with a {target}), not {k}")
    seeded = estimator is None and bool(seed_terms)
    params = _askers(examples, target) if estimator is None else {}
    if estimator is None:
        estimator = build_estimator(target, seed_terms=seed_terms, random_state=random_state)
    rare = sorted(label for label, count in Counter(y).items() if count < k)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)  # reported below
        folds = model_selection.cross_validate(
            estimator, texts, y, cv=StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state),
            scoring=MACRO_F1, return_estimator=True, return_indices=True, error_score="raise", params=params,
        )
    guesses = [Prediction("", 0.0)] * len(texts)
    for fitted, test_rows in zip(folds["estimator"], folds["indices"]["test"]):
        probabilities = fitted.predict_proba([texts[i] for i in test_rows])
        for i, row in zip(test_rows, probabilities):
            guesses[i] = Prediction(str(fitted.classes_[row.argmax()]), float(row.max()))
    result = _with_abstentions(y, guesses, threshold)
    result.update(
        k=k, target=target, threshold=threshold, seed_terms=seeded,
        fold_macro_f1=[round(float(score), 4) for score in folds["test_score"]],
        fit_seconds=round(float(np.sum(folds["fit_time"])), 2),
    )
    if rare:
        result["warning"] = f"fewer than {k} examples for: {', '.join(rare)}"
    return result


def learning_curve(
    examples: Sequence[Example],
    sizes: Sequence[int],
    *,
    target: str = "theme",
    seed_terms: Mapping[str, Sequence[str]] | None = None,
    test_size: float = 0.25,
    random_state: int = 0,
) -> list[dict[str, Any]]:
    """Macro-F1 on a fixed held-out part (stratified when every label can be split) after
    fitting `build_estimator(target, seed_terms=...)` on the first n of the rest.

    Sizes above what the rest holds are left out, and so is a size whose first n hold
    fewer than two labels (and no seed terms). With `seed_terms`, size 0 shows what the
    seed terms alone achieve.
    """
    texts, y = _rows_with(examples, target)
    estimator = build_estimator(target, seed_terms=seed_terms, random_state=random_state)
    split = _held_out_split(y, test_size, random_state)
    train_rows, test_rows = next(split.split(texts, y))
    curve: list[dict[str, Any]] = []
    if 0 in sizes and seed_terms:
        cold = clone(estimator).fit([], [])
        curve.append({"n": 0, "macro_f1": round(MACRO_F1(cold, [texts[i] for i in test_rows],
                                                          [y[i] for i in test_rows]), 4)})
    usable = sorted({n for n in sizes if 0 < n <= len(train_rows)})
    if usable:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitFailedWarning)  # fewer than two labels in the first n
            ns, _, test_scores = model_selection.learning_curve(
                estimator, texts, y, train_sizes=usable, cv=[(train_rows, test_rows)], scoring=MACRO_F1,
                error_score=np.nan, params=_askers(examples, target),
            )
        curve += [{"n": int(n), "macro_f1": round(float(score), 4)}
                  for n, (score,) in zip(ns, test_scores) if not np.isnan(score)]
    return curve


def _held_out_split(y: Sequence[str], test_size: float, random_state: int) -> ShuffleSplit | StratifiedShuffleSplit:
    counts = Counter(y)
    n_test = int(np.ceil(test_size * len(y)))
    if min(counts.values(), default=0) >= 2 and len(counts) <= min(n_test, len(y) - n_test):
        return StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state)
    return ShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state)  # a label seen once cannot be split


PROMOTION_MARGIN = 0.02  # a candidate may score this much lower on a target: noise of a small held-out set


def should_promote(candidate_metrics: Mapping[str, Any], active_metrics: Mapping[str, Any] | None, *,
                   margin: float = PROMOTION_MARGIN) -> tuple[bool, str]:
    """Whether the candidate may replace the active model, and why, in one Dutch line.

    Every target counts (theme, answering and asking organisation), on macro-F1 and accuracy,
    scored on the same held-out data: a candidate worse than the active model by more than
    `margin` on any of them is refused, whatever the others say. An active model without
    measured targets is replaced; a candidate lacking a target the active model has is not.
    Metrics from different held-out data (`data_fingerprint`s differ) cannot be compared: ValueError.
    """
    theirs = (active_metrics or {}).get("targets") or {}
    if not theirs:
        return True, "er is geen gemeten actief model"
    ours = candidate_metrics.get("targets") or {}
    if candidate_metrics.get("data_fingerprint") != active_metrics.get("data_fingerprint"):
        raise ValueError("the candidate and the active model were scored on different held-out data")
    for target, scored in theirs.items():
        if target not in ours:
            return False, f"de kandidaat mist het doel {target}"
        for measure in ("macro_f1", "accuracy"):
            if float(ours[target][measure]) < float(scored[measure]) - margin:
                return False, (f"{target}: {measure} {ours[target][measure]:.3f} tegen {scored[measure]:.3f} "
                               "van het actieve model")
    return True, "op elk doel minstens zo goed (binnen de marge)"
