"""A triage model: one fitted `QuestionClassifier` per target, with what they were trained on.

The targets are the theme, the organisation that answers (`organisation`) and the one that
asks (`asking_organisation`). `train` fits, per target, the estimator `build_estimator`
makes, so cross-validating `build_estimator(target, ...)` scores what `train` deploys.

Every target fits its features on the same documents (all the training questions and the
theme's seed pseudo-questions); only the theme learns labels from the seed terms. So `train`
fits the features once and every target's classifier learns from them, and a prediction
makes a text's features (and the terms that explain them) once for all targets, as the
estimators would each make them: `TriageModel.scorer()`, the fitted model as arrays
(`classifiers.predictor`), which the store keeps beside the estimators for the worker and
`classify` to load without scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from classifiers.estimator import SEED_MASS, QuestionClassifier, build_classifier, build_features
from classifiers.predictor import Prediction, Scorer
from classifiers.examples import TARGETS, Example, LabelError, fingerprint

__all__ = ["TriageModel", "build_estimator", "train", "trusted_types"]


def build_estimator(
    target: str = "theme", *, seed_terms: Mapping[str, Sequence[str]] | None = None, random_state: int = 0
) -> QuestionClassifier:
    """The unfitted estimator of `target`: what `train` fits and cross-validation scores.

    The seed terms (theme -> terms) teach the theme; for the other targets they only shape
    the features, which keeps the features of all targets equal.
    """
    return QuestionClassifier(
        seed_terms=dict(seed_terms) if seed_terms else None,
        seed_mass=SEED_MASS if target == "theme" else 0.0,
        random_state=random_state,
    )


@dataclass
class TriageModel:
    """The fitted estimators per target, with what they were trained on."""

    estimators: dict[str, QuestionClassifier]
    label_sets: dict[str, tuple[str, ...]]  # the labels each target was trained against
    n_examples: int = 0
    data_fingerprint: str = ""
    version: str = ""  # set by the model store
    # From how sure the model must be before it sends a question to another organisation than
    # that of the mailbox it came to; None: it never does (not enough evidence yet).
    move_threshold: float | None = None
    # Per target, the temperature that calibrates its probabilities (`calibrate`); a target
    # without one (too little evidence a person gave) keeps the model's own probabilities.
    temperatures: dict[str, float] = field(default_factory=dict)
    # Made at the first prediction, as `ModelStore` stores it beside the estimators: the one
    # way a prediction is made, whether the model was just trained or loaded to predict.
    _scorer: Scorer | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.estimators)

    def predict(self, text: str) -> dict[str, Prediction]:
        """Label one question (`question_text` of subject and body) for every target the model has."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[dict[str, Prediction]]:
        """`predict` for several texts at once (faster per text)."""
        return self.scorer().predict_many(texts, temperatures=self.temperatures)

    def scorer(self) -> Scorer:
        """The estimators' features and classifiers as arrays (`classifiers.predictor`)."""
        if self._scorer is None:
            self._scorer = Scorer.of(self.estimators)
        return self._scorer


def train(
    examples: Sequence[Example],
    *,
    labels: Mapping[str, Sequence[str]] | None = None,
    seed_terms: Mapping[str, Sequence[str]] | None = None,
    targets: Sequence[str] = TARGETS,
    random_state: int = 0,
) -> TriageModel:
    """Fit one estimator per target that has at least two labels among examples and seeds.

    Every estimator is fitted on the texts of all examples; an example without a label of
    its target shapes its features only. `labels` gives the allowed label set per target
    (a target it leaves out takes any label); an example with another label raises
    LabelError naming its index. `seed_terms` (theme -> terms) teach the theme.
    """
    allowed = {target: set(values) for target, values in (labels or {}).items()}
    if seed_terms and "theme" in allowed and not set(seed_terms) <= allowed["theme"]:
        unknown = sorted(set(seed_terms) - allowed["theme"])
        raise ValueError(f"seed terms for unknown theme(s): {', '.join(unknown)}")
    for index, example in enumerate(examples):
        for target, label in example.labels.items():
            if target in allowed and label not in allowed[target]:
                raise LabelError(index, target, label, allowed[target])

    texts = [example.text for example in examples]
    askers = [example.asker or f"#{n}" for n, example in enumerate(examples)]  # unknown: each its own
    estimators: dict[str, QuestionClassifier] = {}
    label_sets: dict[str, tuple[str, ...]] = {}
    documents = None  # the targets' estimators differ only in seed_mass: their documents are made once
    for target in targets:
        y = [example.labels.get(target) or None for example in examples]
        estimator = build_estimator(target, seed_terms=seed_terms, random_state=random_state)
        if len({label for label in y if label} | (set(seed_terms or ()) if estimator.seed_mass else set())) < 2:
            continue
        documents = documents or estimator.documents(texts, askers)
        estimators[target] = estimator.fit_documents(documents, y)
        label_sets[target] = tuple(sorted(allowed.get(target, {str(label) for label in estimator.classes_})))
    return TriageModel(
        estimators=estimators,
        label_sets=label_sets,
        n_examples=len(examples),
        data_fingerprint=fingerprint(examples, seed_terms),
    )


def trusted_types() -> list[str]:
    """The types a stored model may hold beyond plain data: those its estimators are made of."""
    found: set[str] = set()

    def visit(value: object) -> None:
        kind = value if isinstance(value, type) else type(value)
        if kind.__module__ != "builtins":
            found.add(f"{kind.__module__}.{kind.__qualname__}")
        if hasattr(value, "get_params") and not isinstance(value, type):
            for param in value.get_params(deep=False).values():
                visit(param)
        if isinstance(value, list | tuple):
            for item in value:
                visit(item)

    visit(QuestionClassifier(features=build_features(), classifier=build_classifier()))
    return sorted(found)
