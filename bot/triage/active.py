"""The active model, as the worker and `classify` predict with it.

Loaded for prediction only (`classifiers.ModelStore.load_predictor`: arrays, no scikit-learn),
so a one-off command does not import what training needs; that is imported only when there
is no model yet and one is trained first (`bot.triage.training`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rules
from bot.settings import ConfigError, Settings
from classifiers.store import ModelError, ModelStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from classifiers.model import TriageModel
    from classifiers.predictor import Predictor


def ensure_model(settings: Settings, *, ruleset: rules.RuleSet, engine: Engine | None,
                 persist: bool = True) -> TriageModel | Predictor:
    """The active model, loaded to predict. The first time there is none: trained on the
    configured data and the seed terms, and stored and activated unless `persist` is false."""
    store = ModelStore(settings.classifier.models)
    try:
        if store.active_version() is None:
            from bot.triage.training import fit, retrain

            if not persist:
                return fit(settings, ruleset=ruleset, engine=engine, data=None)
            retrain(settings, ruleset=ruleset, engine=engine)
        return store.load_predictor(expected_labels={"theme": ruleset.theme_keys()})
    except ModelError as exc:
        raise ConfigError(str(exc)) from None
