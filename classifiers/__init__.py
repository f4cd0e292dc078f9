"""Classifiers on plain text: redaction, the triage models, their evaluation and their store.

Imports nothing from `bot`, `rules` or `storage`; everything here works on strings.
"""

from classifiers.evaluate import cross_validate, evaluate, learning_curve, should_promote
from classifiers.model import (
    TARGETS,
    Example,
    LabelError,
    Prediction,
    TriageModel,
    abstains,
    read_examples,
    train,
)
from classifiers.store import ModelError, ModelStore
from classifiers.text import normalise, prepare, redact

__all__ = [
    "TARGETS",
    "Example",
    "LabelError",
    "ModelError",
    "ModelStore",
    "Prediction",
    "TriageModel",
    "abstains",
    "cross_validate",
    "evaluate",
    "learning_curve",
    "normalise",
    "prepare",
    "read_examples",
    "redact",
    "should_promote",
    "train",
]
