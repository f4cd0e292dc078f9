"""Models that label a question: one scikit-learn Pipeline per target, held by a TriageModel.

Each pipeline is word n-grams (1-2) and character n-grams within word boundaries (3-5),
both TF-IDF, side by side in a FeatureUnion, then a LogisticRegression. LogisticRegression
because it gives probabilities without a calibration split (CalibratedClassifierCV needs
several examples of every label per fold, which a mailbox with a dozen questions a theme
does not have), trains in seconds on tens of thousands of mails, and its coefficients
explain a verdict term by term.

Cold start: the theme's seed terms become short pseudo-questions labelled with their theme,
weighed fully when there is no labelled data and less as real questions accumulate.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from classifiers.text import PLACEHOLDERS, normalise

__all__ = [
    "TARGETS",
    "Example",
    "LabelError",
    "Prediction",
    "TriageModel",
    "abstains",
    "build_pipeline",
    "fingerprint",
    "read_examples",
    "seed_documents",
    "seed_weight",
    "train",
]

TARGETS = ("theme", "organisation", "asking_organisation")
TOKEN_PATTERN = r"(?u)\b\w[\w'-]*\w\b|\b\w\b"  # keeps 'pij-maatregel' and the '8' of 'artikel 8'
SEED_HALF_WEIGHT = 10  # real questions per label at which a seed pseudo-question weighs half
N_EXPLANATION = 5
MIN_EXPLANATION_SHARE = 0.2  # a term weighing less than this share of the strongest one is left out

# Function words that never make a readable explanation (they still count as features).
_STOP = frozenset(
    """aan al als bij dan dat de deze die dit door een en er had heb heeft hem het hier hij hoe
    hun ik in is je kan kon kunnen maar me meer met mij mijn na naar niet nog nu of om omdat ook
    op over te tot u uit van voor was wat we wel werd wie wij wil worden wordt zal ze zich zij
    zijn zo zou graag vraag vragen beste groet vriendelijke geachte hoi hallo dank alvast""".split()
) | {p.strip("[]").lower() for p in PLACEHOLDERS}
_PUNCTUATION = ".,;:!?()[]{}\"'<>*/\\|“”‘’«»"


class LabelError(ValueError):
    """An example carries a label outside the allowed label set of its target."""

    def __init__(self, index: int, target: str, label: str, allowed: Iterable[str]) -> None:
        self.index, self.target, self.label = index, target, label
        super().__init__(
            f"example {index}: unknown {target} label {label!r}; allowed: {', '.join(sorted(allowed))}"
        )


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled question: its text (subject and body) and a label per target."""

    text: str
    labels: dict[str, str]

    @classmethod
    def from_record(cls, record: Mapping[str, Any], targets: Sequence[str] = TARGETS) -> Example:
        """From a line of labelled data: `subject`, `body` and a label per target (may be absent)."""
        text = f"{record.get('subject') or ''}\n\n{record.get('body') or ''}".strip()
        return cls(text, {t: str(record[t]) for t in targets if record.get(t)})


def read_examples(path: Path, targets: Sequence[str] = TARGETS) -> list[Example]:
    """The examples of a JSON Lines file; blank lines are skipped, bad JSON names its line."""
    examples = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                examples.append(Example.from_record(json.loads(line), targets))
            except (json.JSONDecodeError, AttributeError) as error:
                raise ValueError(f"{path}:{number}: not a JSON object: {error}") from None
    return examples


@dataclass(frozen=True, slots=True)
class Prediction:
    """A label, its probability and the terms of the text that weighed most for it."""

    label: str
    confidence: float
    explanation: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": round(self.confidence, 3), "explanation": list(self.explanation)}


def abstains(prediction: Prediction | None, threshold: float) -> bool:
    """True when the model should leave the question to a person: no prediction or too unsure."""
    return prediction is None or prediction.confidence < threshold


def build_pipeline(*, random_state: int = 0) -> Pipeline:
    """The unfitted pipeline every target uses."""
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
        ]
    )
    classifier = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000, random_state=random_state)
    return Pipeline([("features", features), ("classifier", classifier)])


def seed_documents(seed_terms: Mapping[str, Sequence[str]], *, random_state: int = 0) -> tuple[list[str], list[str]]:
    """Short pseudo-questions from seed terms: each term alone, and a few random mixes per label."""
    rng = random.Random(random_state)
    texts: list[str] = []
    labels: list[str] = []
    for label in sorted(seed_terms):
        terms = [normalise(term) for term in seed_terms[label] if term.strip()]
        mixes = [" ".join(rng.sample(terms, min(3, len(terms)))) for _ in range(len(terms) // 2)]
        texts += terms + mixes
        labels += [label] * (len(terms) + len(mixes))
    return texts, labels


def seed_weight(n_real: int, n_labels: int) -> float:
    """Weight of one seed pseudo-question: 1 without real questions, half at SEED_HALF_WEIGHT per label."""
    per_label = n_real / max(n_labels, 1)
    return SEED_HALF_WEIGHT / (SEED_HALF_WEIGHT + per_label)


def fingerprint(examples: Iterable[Example], seed_terms: Mapping[str, Sequence[str]] | None = None) -> str:
    """sha256 over the sorted examples (and seed terms): the same data gives the same print."""
    lines = sorted(json.dumps([e.text, e.labels], sort_keys=True, ensure_ascii=False) for e in examples)
    if seed_terms:
        lines.append(json.dumps({k: sorted(v) for k, v in seed_terms.items()}, sort_keys=True, ensure_ascii=False))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@dataclass
class TriageModel:
    """The fitted pipelines per target, with what they were trained on."""

    pipelines: dict[str, Pipeline]
    label_sets: dict[str, tuple[str, ...]]  # the labels each target was trained against
    n_examples: int = 0
    data_fingerprint: str = ""
    version: str = ""  # set by the model store
    _names: dict[str, tuple[int, np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.pipelines)

    def predict(self, text: str) -> dict[str, Prediction]:
        """Label one question (subject and body as one text) for every target the model has."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[dict[str, Prediction]]:
        prepared = [normalise(text) for text in texts]
        results: list[dict[str, Prediction]] = [{} for _ in prepared]
        if not prepared:
            return results
        matrices: dict[int, sparse.csr_matrix] = {}  # the targets share one FeatureUnion
        for target, pipeline in self.pipelines.items():
            union = pipeline.named_steps["features"]
            if id(union) not in matrices:
                matrices[id(union)] = union.transform(prepared).tocsr()
            features = matrices[id(union)]
            classifier: LogisticRegression = pipeline.named_steps["classifier"]
            probabilities = classifier.predict_proba(features)
            best = probabilities.argmax(axis=1)
            for row, (text, k) in enumerate(zip(prepared, best)):
                explanation = self._explain(target, text, features[row], int(k))
                results[row][target] = Prediction(str(classifier.classes_[k]), float(probabilities[row, k]), explanation)
        return results

    def _feature_names(self, target: str) -> tuple[int, np.ndarray, np.ndarray]:
        if target not in self._names:
            union: FeatureUnion = self.pipelines[target].named_steps["features"]
            words, chars = (union.transformer_list[i][1].get_feature_names_out() for i in (0, 1))
            self._names[target] = (len(words), words, chars)
        return self._names[target]

    def _explain(self, target: str, text: str, row: sparse.csr_matrix, k: int) -> tuple[str, ...]:
        """The terms of `text` that pushed most towards label `k`: coefficient times feature value.

        Word n-grams are terms already; the weight of each character n-gram is shared out
        over the words of the text that contain it, so the result reads as words of the text.
        """
        classifier: LogisticRegression = self.pipelines[target].named_steps["classifier"]
        coef = classifier.coef_
        weights = coef[k] if coef.shape[0] > 1 else (coef[0] if k == 1 else -coef[0])
        n_words, word_names, char_names = self._feature_names(target)
        contribution = row.data * weights[row.indices]
        scores: dict[str, float] = defaultdict(float)
        is_word = row.indices < n_words
        for name, value in zip(word_names[row.indices[is_word]], contribution[is_word]):
            scores[str(name)] += float(value)
        grams = dict(zip(char_names[row.indices[~is_word] - n_words], contribution[~is_word].tolist()))
        if grams:
            holders: dict[str, list[str]] = defaultdict(list)
            for chunk in set(text.split()):
                padded = f" {chunk} "
                for gram in {padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1)} & grams.keys():
                    holders[gram].append(chunk)
            for gram, chunks in holders.items():
                for chunk in chunks:
                    scores[chunk.strip(_PUNCTUATION)] += grams[gram] / len(chunks)
        ranked = sorted(((s, term) for term, s in scores.items() if s > 0 and _readable(term)), reverse=True)
        chosen: list[str] = []
        for score, term in ranked:
            if len(chosen) == N_EXPLANATION or score < MIN_EXPLANATION_SHARE * ranked[0][0]:
                break
            if not any(term in other or other in term for other in chosen):  # not 'voogd' beside 'voogdij'
                chosen.append(term)
        return tuple(chosen)


def _readable(term: str) -> bool:
    words = term.split()
    return bool(words) and all(len(w) > 1 and w not in _STOP and not w.isdigit() for w in words)


def train(
    examples: Sequence[Example],
    *,
    labels: Mapping[str, Sequence[str]] | None = None,
    seed_terms: Mapping[str, Sequence[str]] | None = None,
    targets: Sequence[str] = TARGETS,
    random_state: int = 0,
) -> TriageModel:
    """Fit one pipeline per target that has at least two labels among examples and seeds.

    `labels` gives the allowed label set per target (a target it leaves out takes any
    label); an example with another label raises LabelError naming its index. `seed_terms`
    (theme -> terms) adds weighted pseudo-questions for the theme target.
    """
    allowed = {target: set(values) for target, values in (labels or {}).items()}
    if seed_terms and "theme" in allowed and not set(seed_terms) <= allowed["theme"]:
        unknown = sorted(set(seed_terms) - allowed["theme"])
        raise ValueError(f"seed terms for unknown theme(s): {', '.join(unknown)}")
    for index, example in enumerate(examples):
        for target, label in example.labels.items():
            if target in allowed and label not in allowed[target]:
                raise LabelError(index, target, label, allowed[target])

    seed_texts, seed_labels = seed_documents(seed_terms, random_state=random_state) if seed_terms else ([], [])
    n_real = len(examples)
    tasks: dict[str, tuple[list[int], list[str], list[float]]] = {}
    for target in targets:
        rows = [i for i, example in enumerate(examples) if example.labels.get(target)]
        y = [examples[i].labels[target] for i in rows]
        weights = [1.0] * len(y)
        if target == "theme" and seed_texts:
            weight = seed_weight(len(y), len(set(y) | set(seed_labels)))
            rows += range(n_real, n_real + len(seed_texts))
            y, weights = y + seed_labels, weights + [weight] * len(seed_texts)
        if len(set(y)) >= 2:
            tasks[target] = rows, y, weights

    pipelines: dict[str, Pipeline] = {}
    label_sets: dict[str, tuple[str, ...]] = {}
    if tasks:
        # One FeatureUnion, fitted once on all texts, serves every target: the features of
        # a text are made once, not once per target.
        features = build_pipeline(random_state=random_state).named_steps["features"]
        matrix = features.fit_transform([normalise(e.text) for e in examples] + seed_texts).tocsr()
        for target, (rows, y, weights) in tasks.items():
            classifier = build_pipeline(random_state=random_state).named_steps["classifier"]
            classifier.fit(matrix[rows], y, sample_weight=np.asarray(weights))
            pipelines[target] = Pipeline([("features", features), ("classifier", classifier)])
            label_sets[target] = tuple(sorted(allowed.get(target, set(y))))
    return TriageModel(
        pipelines=pipelines,
        label_sets=label_sets,
        n_examples=len(examples),
        data_fingerprint=fingerprint(examples, seed_terms),
    )


def trusted_types() -> list[str]:
    """The types a stored pipeline may hold: those `build_pipeline` is made of, no more."""
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

    visit(build_pipeline())
    return sorted(found)


