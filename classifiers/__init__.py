"""Classifiers on plain text: redaction, the triage models, their evaluation and their store.

Imports nothing from `bot`, `rules` or `storage`; everything here works on strings.

    text.py       redaction and normalisation; `question_text` joins subject and body
    examples.py   labelled questions: the one reader of labelled data (JSON Lines)
    estimator.py  `QuestionClassifier`, the scikit-learn estimator of one target
    model.py      `TriageModel`, the fitted estimators of all targets; `train`
    evaluate.py   scores, cross-validation, learning curve, the promotion rule
    store.py      model versions on disk (skops), checked before they are trusted
"""

from classifiers.estimator import Prediction, QuestionClassifier, abstains
from classifiers.evaluate import calibrate, cross_validate, evaluate, learning_curve, move_threshold, should_promote
from classifiers.examples import TARGETS, DataError, Example, LabelError, read_examples
from classifiers.model import TriageModel, build_estimator, train
from classifiers.store import ModelError, ModelStore
from classifiers.text import normalise, prepare, question_text, redact, redact_question

__all__ = [
    "TARGETS",
    "DataError",
    "Example",
    "LabelError",
    "ModelError",
    "ModelStore",
    "Prediction",
    "QuestionClassifier",
    "TriageModel",
    "abstains",
    "build_estimator",
    "calibrate",
    "cross_validate",
    "evaluate",
    "learning_curve",
    "move_threshold",
    "normalise",
    "prepare",
    "question_text",
    "read_examples",
    "redact",
    "redact_question",
    "should_promote",
    "train",
]
