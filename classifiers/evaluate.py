"""How good a model is: scores on labelled data, K-fold cross-validation, a learning curve.

Cross-validation and the learning curve are scikit-learn's own (`cross_validate`,
`learning_curve`) over the estimator `train` fits (`build_estimator`), seed terms included:
they score what would be deployed.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn import model_selection
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import accuracy_score, make_scorer, precision_recall_fscore_support
from sklearn.model_selection import ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit

from classifiers.estimator import Prediction, abstains
from classifiers.examples import Example, fingerprint
from classifiers.model import TriageModel, build_estimator

__all__ = ["cross_validate", "evaluate", "learning_curve", "macro_f1", "scores", "should_promote"]


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
        targets[target] = _with_abstentions(truth, [predictions[i][target] for i in rows], threshold)
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
    if estimator is None:
        estimator = build_estimator(target, seed_terms=seed_terms, random_state=random_state)
    rare = sorted(label for label, count in Counter(y).items() if count < k)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)  # reported below
        folds = model_selection.cross_validate(
            estimator, texts, y, cv=StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state),
            scoring=MACRO_F1, return_estimator=True, return_indices=True, error_score="raise",
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
                error_score=np.nan,
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


def should_promote(candidate_metrics: Mapping[str, Any], active_metrics: Mapping[str, Any] | None) -> bool:
    """True when the candidate's macro-F1 is at least the active model's, on the same held-out data.

    An active model without a measured macro-F1 is always replaced; a candidate without one
    never replaces a measured model. Metrics from different held-out data (their
    `data_fingerprint`s differ) cannot be compared: ValueError.
    """
    if not active_metrics or "macro_f1" not in active_metrics:
        return True
    if "macro_f1" not in candidate_metrics:
        return False
    ours, theirs = candidate_metrics.get("data_fingerprint"), active_metrics.get("data_fingerprint")
    if ours and theirs and ours != theirs:
        raise ValueError("the candidate and the active model were scored on different held-out data")
    return float(candidate_metrics["macro_f1"]) >= float(active_metrics["macro_f1"]) - 1e-9
