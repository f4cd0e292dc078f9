"""How good a model is: scores on labelled data, K-fold cross-validation, a learning curve."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, train_test_split

from classifiers.model import Example, TriageModel, abstains, fingerprint, train

__all__ = ["cross_validate", "evaluate", "learning_curve", "scores", "should_promote"]


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """`n`, `accuracy`, `macro_f1` and `per_label` ({label: precision, recall, f1, support})."""
    labels = sorted(set(truth) | set(predicted))
    if not truth:
        return {"n": 0, "accuracy": 0.0, "macro_f1": 0.0, "per_label": {}}
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    present = [i for i, label in enumerate(labels) if support[i] > 0]
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        # macro-F1 over the labels the data has: a label only ever predicted wrongly counts
        # in precision of the others, not as an extra zero.
        "macro_f1": round(float(sum(f1[i] for i in present) / len(present)), 4),
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
        result = scores(truth, [p.label for p in guesses])
        answered = [(t, p.label) for t, p in zip(truth, guesses) if not abstains(p, threshold)]
        result["abstained"] = len(rows) - len(answered)
        result["answered_accuracy"] = round(sum(t == p for t, p in answered) / len(answered), 4) if answered else 0.0
        targets[target] = result
    theme = targets.get("theme", {**scores([], []), "abstained": 0, "answered_accuracy": 0.0})
    return {
        **theme,
        "threshold": threshold,
        "model_version": model.version,
        "data_fingerprint": fingerprint(examples),
        "targets": targets,
    }


def _rows_with(examples: Sequence[Example], target: str) -> tuple[list[Example], list[str]]:
    kept = [example for example in examples if example.labels.get(target)]
    return kept, [example.labels[target] for example in kept]


def cross_validate(
    examples: Sequence[Example],
    k: int,
    *,
    target: str = "theme",
    estimator: BaseEstimator | None = None,
    random_state: int = 0,
) -> dict[str, Any]:
    """Stratified K-fold scores of the learning pipeline on the examples' own labels, whatever they are.

    Each fold trains on the other folds without seed terms or a label set. With `estimator`
    (any scikit-learn text classifier, cloned per fold) that is scored on the same folds
    instead, on the raw text: a baseline to compare with.
    """
    kept, y = _rows_with(examples, target)
    if k < 2 or k > len(kept):
        raise ValueError(f"cross-validation needs 2 <= k <= {len(kept)} (the examples with a {target}), not {k}")
    rare = sorted(label for label, count in Counter(y).items() if count < k)
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
    predicted = [""] * len(kept)
    per_fold = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the least populated class warning: reported below
        splits = list(folds.split(kept, y))
    for train_rows, test_rows in splits:
        train_examples = [kept[i] for i in train_rows]
        test_texts = [kept[i].text for i in test_rows]
        if estimator is None:
            model = train(train_examples, targets=(target,), random_state=random_state)
            labels = [p[target].label for p in model.predict_many(test_texts)]
        else:
            fitted = clone(estimator).fit([e.text for e in train_examples], [y[i] for i in train_rows])
            labels = [str(label) for label in fitted.predict(test_texts)]
        for i, label in zip(test_rows, labels):
            predicted[i] = label
        per_fold.append(scores([y[i] for i in test_rows], labels)["macro_f1"])
    result = scores(y, predicted)
    result.update(k=k, target=target, fold_macro_f1=per_fold, abstained=0)
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
    """Macro-F1 on a fixed stratified held-out part after training on the first n of the rest.

    Sizes above what the rest holds are left out. With `seed_terms` (for the theme), size 0
    shows what the seed terms alone achieve.
    """
    kept, y = _rows_with(examples, target)
    stratify = y if min(Counter(y).values(), default=0) >= 2 else None  # a label seen once cannot be split
    pool, test, _, test_y = train_test_split(kept, y, test_size=test_size, stratify=stratify, random_state=random_state)
    curve = []
    for n in sorted(set(sizes)):
        if n > len(pool):
            continue
        model = train(pool[:n], targets=(target,), seed_terms=seed_terms if target == "theme" else None,
                      random_state=random_state)
        if target not in model.pipelines:
            continue  # fewer than two labels among the first n
        predicted = [p[target].label for p in model.predict_many([e.text for e in test])]
        curve.append({"n": n, "macro_f1": scores(test_y, predicted)["macro_f1"]})
    return curve


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
