"""The active model, loaded to predict, as the worker and `classify` use it.

Loaded for prediction only (`classifiers.ModelStore.load_predictor`: arrays, no
scikit-learn), so a one-off command imports nothing that training needs. When there is no
model yet, training makes one first (`bot.triage.training.ensure_model`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rules
from bot.settings import ConfigError, Settings
from classifiers.store import ModelError, ModelStore

if TYPE_CHECKING:
    from classifiers.model import TriageModel
    from classifiers.predictor import Predictor


def active_model(settings: Settings, *, ruleset: rules.RuleSet) -> TriageModel | Predictor | None:
    """The active model, checked against the rules' themes; None when none was trained yet."""
    store = ModelStore(settings.classifier.models)
    try:
        if store.active_version() is None:
            return None
        return store.load_predictor(expected_labels={"theme": ruleset.theme_keys()})
    except ModelError as exc:
        raise ConfigError(str(exc)) from None
