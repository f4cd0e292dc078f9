"""Labelled data in, a stored model out: the glue between the settings, the data and `classifiers`.

Labelled data is JSON Lines (CONTRACT.md), read by `classifiers.read_examples`; here only the
rules' checks are added: an unknown theme or organisation is an error naming the file, the
line and the key. Corrections recorded in the database are training data too.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

import rules
from bot.settings import ClassifierSettings, ConfigError, Settings
from classifiers import (
    DataError,
    Example,
    LabelError,
    ModelError,
    ModelStore,
    TriageModel,
    cross_validate,
    evaluate,
    learning_curve,
    question_text,
    read_examples,
    should_promote,
    train,
)
from storage import repo
from storage.db import open_database, unit_of_work

def read_labelled(path: Path, *, ruleset: rules.RuleSet | None) -> list[Example]:
    """Read a labelled JSONL file; with `ruleset`, every theme and organisation must be one it knows."""
    return read_examples(path, labels=label_sets(ruleset) if ruleset else None)


def label_sets(ruleset: rules.RuleSet) -> dict[str, list[str]]:
    return {"theme": ruleset.theme_keys(), "organisation": list(rules.ORGANISATIONS)}


def corrections_as_examples(engine: Engine) -> list[Example]:
    """Each correction a person made, as a labelled example (its redacted stored text)."""
    with unit_of_work(engine) as session:
        rows = repo.corrections(session)
        return [
            Example(
                text=question_text(question.subject or "", question.body),
                labels={k: v for k, v in (("theme", c.theme), ("organisation", c.organisation)) if v},
            )
            for c, question in rows
            if question.body
        ]


def _training_examples(settings: Settings, *, ruleset: rules.RuleSet, engine: Engine | None, data: Path | None):
    source = data or settings.classifier.training_data
    examples = read_labelled(source, ruleset=ruleset) if source else []
    if engine is not None:
        examples += corrections_as_examples(engine)
    return source, examples


def fit(settings: Settings, *, ruleset: rules.RuleSet, engine: Engine | None, data: Path | None) -> TriageModel:
    """A new model from the labelled data, the corrections and the seed terms (not stored)."""
    source, examples = _training_examples(settings, ruleset=ruleset, engine=engine, data=data)
    try:
        return train(examples, labels=label_sets(ruleset), seed_terms=ruleset.seed_terms())
    except LabelError as exc:
        raise DataError(f"{source}: {exc}") from None


def _held_out(settings: Settings, examples: list[Example], *, ruleset: rules.RuleSet) -> tuple[list[Example], list[Example]]:
    """Training and held-out examples: the configured held-out file, else every fifth example."""
    if settings.classifier.heldout_data:
        return examples, read_labelled(settings.classifier.heldout_data, ruleset=ruleset)
    return ([e for i, e in enumerate(examples) if i % 5 != 4], [e for i, e in enumerate(examples) if i % 5 == 4])


def retrain(settings: Settings, *, ruleset: rules.RuleSet, engine: Engine | None, data: Path | None = None) -> dict:
    """Train a candidate on the labelled data and the corrections, score it and the active
    model on the same held-out data, store it, and make it active only if it scores at least
    as well. Used by `train` and by the scheduled retraining."""
    source, examples = _training_examples(settings, ruleset=ruleset, engine=engine, data=data)
    training, heldout = _held_out(settings, examples, ruleset=ruleset)
    try:
        candidate = train(training, labels=label_sets(ruleset), seed_terms=ruleset.seed_terms())
    except LabelError as exc:
        raise DataError(f"{source}: {exc}") from None
    threshold = settings.classifier.min_confidence
    store = ModelStore(settings.classifier.models)
    active = store.active_version()
    scored = _summary(evaluate(candidate, heldout, threshold=threshold)) if heldout else {}
    active_scored = None
    if active and heldout:
        try:
            active_model = store.load(active, expected_labels={"theme": ruleset.theme_keys()})
            active_scored = _summary(evaluate(active_model, heldout, threshold=threshold))
        except ModelError:
            active_scored = None  # the active model no longer fits the themes: replace it
    promote = active is None or (bool(heldout) and should_promote(scored, active_scored))
    version = store.save(candidate, scored | {"n_train": len(training), "n_heldout": len(heldout)})
    if promote:
        store.activate(version)
    if engine is not None:
        with unit_of_work(engine) as session:
            repo.audit(session, action="model:promote" if promote else "model:keep", version=version,
                       previous=active, macro_f1=scored.get("macro_f1"),
                       previous_macro_f1=(active_scored or {}).get("macro_f1"))
    if promote:
        message = f"model {version} getraind en actief"
    else:
        message = f"model {version} getraind; {active} blijft actief (scoorde minstens zo goed)"
    if scored:
        message += f" — macro-F1 {scored['macro_f1']:.3f} op {len(heldout)} achtergehouden vragen"
        if active_scored:
            message += f" (actief model: {active_scored['macro_f1']:.3f})"
    return {"version": version, "active": promote, "metrics": scored, "active_metrics": active_scored,
            "message": message}


def _summary(result: dict) -> dict:
    keys = ("n", "accuracy", "macro_f1", "abstained", "data_fingerprint")
    return {k: result[k] for k in keys if k in result}


def ensure_model(settings: Settings, *, ruleset: rules.RuleSet, engine: Engine | None, persist: bool = True) -> TriageModel:
    """The active model. The first time there is none: trained on the configured data and
    the seed terms, and stored and activated unless `persist` is false."""
    store = ModelStore(settings.classifier.models)
    try:
        if store.active_version() is None:
            if not persist:
                return fit(settings, ruleset=ruleset, engine=engine, data=None)
            retrain(settings, ruleset=ruleset, engine=engine)
        return store.load(expected_labels={"theme": ruleset.theme_keys()})
    except ModelError as exc:
        raise ConfigError(str(exc)) from None


__all__ = ["DataError", "read_labelled", "retrain", "ensure_model", "evaluate"]


def train_command(settings: Settings, *, data: Path | None) -> dict:
    ruleset = rules.load_ruleset(settings.routing.rules)
    return retrain(settings, ruleset=ruleset, engine=open_database(settings.storage.url), data=data)


def evaluate_command(settings: Settings | None, *, data: Path, folds: int | None) -> dict:
    """Score the active model on DATA, with a learning curve of DATA.

    With `folds`, train and score K folds of DATA on its own labels instead (`settings` may
    be None: the packaged rules are used). When those labels are themes of the rules, each
    fold is trained as `train` would train it, seed terms included.
    """
    ruleset = rules.load_ruleset(settings.routing.rules if settings else rules.DEFAULT_FOLDER)
    threshold = (settings.classifier if settings else ClassifierSettings()).min_confidence
    seeds = ruleset.seed_terms()
    if folds:
        examples = read_labelled(data, ruleset=None)
        if not {example.labels["theme"] for example in examples} <= set(ruleset.theme_keys()):
            seeds = None  # labels of its own: seed pseudo-questions of themes would be wrong answers
        result = cross_validate(examples, folds, seed_terms=seeds, threshold=threshold)
    else:
        examples = read_labelled(data, ruleset=ruleset)
        model = ensure_model(settings, ruleset=ruleset, engine=None, persist=False)
        result = evaluate(model, examples, threshold=threshold)
    return result | {"learning_curve": learning_curve(examples, curve_sizes(len(examples)), seed_terms=seeds)}


def curve_sizes(n: int) -> list[int]:
    """Training sizes for the learning curve: roughly doubling, up to three quarters of the data."""
    top = int(n * 0.75)
    sizes = [s for s in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if s < top]
    return sizes + [top] if top >= 10 else sizes
