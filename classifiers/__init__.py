"""Classifiers on plain text: redaction, the triage models, their evaluation and their store.

Imports nothing from `bot`, `rules` or `storage`; everything here works on strings.

    text.py       redaction and normalisation; `question_text` joins subject and body
    examples.py   labelled questions: the one reader of labelled data (JSON Lines)
    estimator.py  `QuestionClassifier`, the scikit-learn estimator of one target
    predictor.py  predicting from a fitted model's arrays, without scikit-learn
    model.py      `TriageModel`, the fitted estimators of all targets; `train`
    evaluate.py   scores, cross-validation, learning curve, the promotion rule
    store.py      model versions on disk (skops), checked before they are trusted
"""

import importlib
from typing import Any

# Each name from its module on first use (PEP 562): `from classifiers import redact` does not
# import scikit-learn, so the commands that need no model start in a fraction of the time.
# `classifiers.evaluate` is the module: its function is `from classifiers.evaluate import evaluate`.
_WHERE = {
    "DataError": "classifiers.examples",
    "Example": "classifiers.examples",
    "LabelError": "classifiers.examples",
    "ModelError": "classifiers.store",
    "ModelStore": "classifiers.store",
    "Prediction": "classifiers.predictor",
    "Predictor": "classifiers.predictor",
    "QuestionClassifier": "classifiers.estimator",
    "TARGETS": "classifiers.examples",
    "TriageModel": "classifiers.model",
    "abstains": "classifiers.predictor",
    "build_estimator": "classifiers.model",
    "calibrate": "classifiers.evaluate",
    "cross_validate": "classifiers.evaluate",
    "learning_curve": "classifiers.evaluate",
    "move_threshold": "classifiers.evaluate",
    "normalise": "classifiers.text",
    "prepare": "classifiers.text",
    "question_text": "classifiers.text",
    "read_examples": "classifiers.examples",
    "redact": "classifiers.text",
    "redact_question": "classifiers.text",
    "should_promote": "classifiers.evaluate",
    "train": "classifiers.model",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'classifiers' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
