"""Labelled data in, a stored model out: the glue between the settings, the data and `classifiers`.

Labelled data is JSON Lines (CONTRACT.md), read by `classifiers.read_examples`; here only the
rules' checks are added: an unknown theme or organisation is an error naming the file, the
line and the key. Corrections recorded in the database are training data too.
"""

from __future__ import annotations

from datetime import datetime, timezone
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
    calibrate,
    cross_validate,
    learning_curve,
    question_text,
    read_examples,
    move_threshold,
    should_promote,
    train,
)
from bot.triage.active import active_model
from classifiers.evaluate import evaluate
from classifiers.predictor import Predictor
from storage import repo
from storage.db import open_database, unit_of_work

def read_labelled(path: Path, *, ruleset: rules.RuleSet | None,
                  mailbox_organisations: dict[str, str] | None = None) -> list[Example]:
    """Read a labelled JSONL file; with `ruleset`, every theme and organisation must be one it
    knows. A line's `mailbox` names its arrival mailbox's organisation through `mailbox_organisations`."""
    return read_examples(path, labels=label_sets(ruleset) if ruleset else None,
                         mailbox_organisations=mailbox_organisations)


def label_sets(ruleset: rules.RuleSet) -> dict[str, list[str]]:
    return {"theme": ruleset.theme_keys(), "organisation": list(rules.ORGANISATIONS)}


def corrections_as_examples(engine: Engine, mailbox_organisations: dict[str, str] | None = None) -> list[Example]:
    """Each correction a person made, oldest first, as a labelled example (its redacted stored
    text); the organisation a correction leaves alone is the one the question has."""
    with unit_of_work(engine) as session:
        rows = repo.corrections(session)
        return [
            Example(
                text=question_text(question.subject or "", question.body, question.sender_domain and f"x@{question.sender_domain}"),
                labels={k: v for k, v in (("theme", c.theme), ("organisation", c.organisation or question.organisation),
                                          ("asking_organisation", question.asking_organisation)) if v},
                mailbox_organisation=(mailbox_organisations or {}).get(question.mailbox, ""),
                asker=question.sender_hash or question.sender,
            )
            for c, question in rows
            if question.body
        ]


def _training_examples(settings: Settings, *, ruleset: rules.RuleSet, engine: Engine | None, data: Path | None):
    """The labelled data (the configured file or `data`) and the corrections, apart."""
    source = data or settings.classifier.training_data
    organisations = settings.mailbox_organisations
    examples = read_labelled(source, ruleset=ruleset, mailbox_organisations=organisations) if source else []
    corrected = corrections_as_examples(engine, organisations) if engine is not None else []
    return source, examples, corrected


def fit(settings: Settings, *, ruleset: rules.RuleSet, engine: Engine | None, data: Path | None) -> TriageModel:
    """A new model from the labelled data, the corrections and the seed terms (not stored)."""
    source, examples, corrected = _training_examples(settings, ruleset=ruleset, engine=engine, data=data)
    try:
        return train(examples + corrected, labels=label_sets(ruleset), seed_terms=ruleset.seed_terms())
    except LabelError as exc:
        raise DataError(f"{source}: {exc}") from None


NEWEST_CORRECTIONS = 0.2  # the newest fifth of the corrections scores a candidate, when there are enough
MIN_CORRECTIONS = 10


def _held_out(settings: Settings, examples: list[Example], corrected: list[Example], *,
              ruleset: rules.RuleSet) -> tuple[list[Example], list[Example], str]:
    """Training and held-out examples, and what the held-out part is.

    Evidence a person gave comes first: the newest corrections (older ones train) and the
    configured held-out file. Only without either is every fifth labelled example held out;
    labelled data is often generated, and a score on it says little (say so)."""
    heldout: list[Example] = []
    evidence = []
    if len(corrected) >= MIN_CORRECTIONS:
        cut = len(corrected) - max(1, round(NEWEST_CORRECTIONS * len(corrected)))
        corrected, heldout = corrected[:cut], corrected[cut:]
        evidence.append(f"de nieuwste {len(heldout)} correcties")
    if settings.classifier.heldout_data:
        heldout += read_labelled(settings.classifier.heldout_data, ruleset=ruleset,
                                 mailbox_organisations=settings.mailbox_organisations)
        evidence.append(f"{settings.classifier.heldout_data.name}")
    if heldout:
        return examples + corrected, heldout, " en ".join(evidence)
    everything = examples + corrected
    return ([e for i, e in enumerate(everything) if i % 5 != 4], [e for i, e in enumerate(everything) if i % 5 == 4],
            EVERY_FIFTH)


EVERY_FIFTH = "elke vijfde gelabelde vraag (vaak gegenereerd: zegt weinig)"  # held out when no person gave evidence


def retrain(settings: Settings, *, ruleset: rules.RuleSet, engine: Engine | None, data: Path | None = None,
            actor: str = "bvhk-triage") -> dict:
    """Train a candidate on the labelled data and the corrections, score it and the active
    model on the same held-out data, store it, and make it active only when it is not worse on
    any target (`should_promote`). The candidate's threshold for moving a question away from
    its arrival mailbox's organisation is tuned on the held-out data. Used by `train` and by
    the scheduled retraining."""
    source, examples, corrected = _training_examples(settings, ruleset=ruleset, engine=engine, data=data)
    training, heldout, evidence = _held_out(settings, examples, corrected, ruleset=ruleset)
    try:
        candidate = train(training, labels=label_sets(ruleset), seed_terms=ruleset.seed_terms())
    except LabelError as exc:
        raise DataError(f"{source}: {exc}") from None
    threshold = settings.classifier.min_confidence
    calibration = calibrate(candidate, heldout) if evidence != EVERY_FIFTH else {}
    candidate.temperatures = {target: found["temperature"] for target, found in calibration.items()}
    if heldout:
        candidate.move_threshold = _tuned_move_threshold(candidate, heldout)
    store = ModelStore(settings.classifier.models)
    active = store.active_version()
    scored = _summary(evaluate(candidate, heldout, threshold=threshold)) if heldout else {}
    active_scored = None
    if active and heldout:
        try:
            current = store.load_predictor(active, expected_labels={"theme": ruleset.theme_keys()})
            active_scored = _summary(evaluate(current, heldout, threshold=threshold))
        except ModelError:
            active_scored = None  # the active model no longer fits the themes: replace it
    if active is None:
        promote, why = True, "er was nog geen model"
    elif not heldout:
        promote, why = False, "niets om op te scoren"
    else:
        promote, why = should_promote(scored, active_scored)
    version = store.save(candidate, scored | {"n_train": len(training), "n_heldout": len(heldout),
                                              "heldout": evidence, "promotion": why, "calibration": calibration})
    if promote:
        store.activate(version)
    if engine is not None:
        with unit_of_work(engine) as session:
            repo.audit(session, action="model:promote" if promote else "model:keep", actor=actor, version=version,
                       previous=active, why=why, macro_f1=scored.get("macro_f1"),
                       previous_macro_f1=(active_scored or {}).get("macro_f1"))
    message = f"model {version} getraind en actief" if promote else f"model {version} getraind; {active} blijft actief"
    message += f" ({why})"
    if scored:
        message += f" — gescoord op {len(heldout)} vragen: {evidence}; thema macro-F1 {scored['macro_f1']:.3f}"
        if active_scored:
            message += f" (actief model: {active_scored['macro_f1']:.3f})"
    for target, found in calibration.items():
        message += (f"; {target} gekalibreerd (temperatuur {found['temperature']:.2f}, kalibratiefout "
                    f"{found['calibration_error_before']:.3f} → {found['calibration_error_after']:.3f})")
    return {"version": version, "active": promote, "metrics": scored, "active_metrics": active_scored,
            "message": message}


def _tuned_move_threshold(model: TriageModel, heldout: list[Example]) -> float | None:
    rows = [e for e in heldout if e.labels.get("organisation") and e.mailbox_organisation]
    if not rows or "organisation" not in model.targets:
        return None
    guesses = [p["organisation"] for p in model.predict_many([e.text for e in rows])]
    return move_threshold(guesses, [e.labels["organisation"] for e in rows], [e.mailbox_organisation for e in rows])


def _summary(result: dict) -> dict:
    keys = ("n", "accuracy", "macro_f1", "abstained", "data_fingerprint")
    kept = ("n", "accuracy", "macro_f1", "against_mailbox", "reliability")
    targets = {target: {k: v for k, v in scored.items() if k in kept}
               for target, scored in result.get("targets", {}).items()}
    return {k: result[k] for k in keys if k in result} | {"targets": targets}


def ensure_model(settings: Settings, *, ruleset: rules.RuleSet, engine: Engine | None,
                 persist: bool = True) -> TriageModel | Predictor:
    """The active model, loaded to predict (`bot.triage.active`). The first time there is
    none: trained on the configured data and the seed terms, and stored and activated
    unless `persist` is false."""
    model = active_model(settings, ruleset=ruleset)
    if model is not None:
        return model
    if not persist:
        return fit(settings, ruleset=ruleset, engine=engine, data=None)
    try:
        retrain(settings, ruleset=ruleset, engine=engine)
    except ModelError as exc:
        raise ConfigError(str(exc)) from None
    return active_model(settings, ruleset=ruleset)


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
        examples = read_labelled(data, ruleset=ruleset, mailbox_organisations=settings.mailbox_organisations)
        model = ensure_model(settings, ruleset=ruleset, engine=None, persist=False)
        result = evaluate(model, examples, threshold=threshold)
        result["reliability"] = result["targets"].get("theme", {}).get("reliability")
    return result | {"learning_curve": learning_curve(examples, curve_sizes(len(examples)), seed_terms=seeds)}


def curve_sizes(n: int) -> list[int]:
    """Training sizes for the learning curve: roughly doubling, up to three quarters of the data."""
    top = int(n * 0.75)
    sizes = [s for s in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if s < top]
    return sizes + [top] if top >= 10 else sizes


# -- the model versions, as people manage them (`model rollback`, the console's /models) -----
def model_versions(settings: Settings, engine: Engine) -> list[dict]:
    """Every stored version, newest first: its metrics per target, what it was scored on, its
    calibration and move threshold, whether it is active, and (for the active one) how many
    corrections people made since it was trained."""
    store = ModelStore(settings.classifier.models)
    active = store.active_version()
    rows = []
    for version in reversed(store.versions()):
        metadata = store.metadata(version)
        rows.append({"version": version, "active": version == active, "created": metadata.get("created", ""),
                     "metrics": metadata.get("metrics") or {}, "move_threshold": metadata.get("move_threshold"),
                     "temperatures": metadata.get("temperatures") or {}})
    if active and engine is not None:
        created = datetime.fromisoformat(store.metadata(active)["created"])
        with unit_of_work(engine) as session:
            since = [c for c, _ in repo.corrections(session)
                     if (c.created_at if c.created_at.tzinfo else c.created_at.replace(tzinfo=timezone.utc)) >= created]
        for row in rows:
            row["corrections_since"] = len(since) if row["active"] else None
    return rows


def rollback_model(settings: Settings, engine: Engine, *, actor: str) -> str:
    """The previously active version active again, audited; returns one Dutch line."""
    store = ModelStore(settings.classifier.models)
    before = store.active_version()
    version = store.rollback()
    with unit_of_work(engine) as session:
        repo.audit(session, action="model:rollback", actor=actor, version=version, previous=before)
    return f"actief model: {version} (was {before})"


def promote_model(settings: Settings, engine: Engine, version: str, *, actor: str) -> str:
    """Make a stored version active through the promotion gate `train` uses: not worse on any
    target than the active one, scored on the same held-out data. Audited either way."""
    store = ModelStore(settings.classifier.models)
    active = store.active_version()
    candidate = store.metrics(version)
    if active is None or active == version:
        allowed, why = True, "er was geen ander actief model"
    else:
        try:
            allowed, why = should_promote(candidate, store.metrics(active))
        except ValueError:
            allowed, why = False, "de versies zijn op verschillende gegevens gescoord: niet te vergelijken"
    if allowed:
        store.activate(version)
    with unit_of_work(engine) as session:
        repo.audit(session, action="model:promote" if allowed else "model:keep", actor=actor, version=version,
                   previous=active, why=why)
    return (f"model {version} actief ({why})" if allowed else f"model {version} niet actief gemaakt: {why}")
