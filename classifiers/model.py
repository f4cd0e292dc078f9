"""Models that label a question: one scikit-learn Pipeline per target, held by a TriageModel.

Each pipeline is word n-grams (1-2) and character n-grams within word boundaries (3-5),
both TF-IDF, side by side in a FeatureUnion, then a LogisticRegression. LogisticRegression
because it gives probabilities without a calibration split (CalibratedClassifierCV needs
several examples of every label per fold, which a mailbox with a dozen questions a theme
does not have), trains in seconds on tens of thousands of mails, and its coefficients
explain a verdict term by term.

Cold start: the theme's seed terms become short pseudo-questions labelled with their theme.
Together they weigh as much as SEED_MASS real questions of that theme: everything at a cold
start, less and less as real questions accumulate. Once there are real questions, the
pseudo-questions are set in the words all mail shares (`mail_frame`), so that a few real
questions of some themes do not push every ordinary mail away from the others.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from classifiers.text import PLACEHOLDERS, normalise

__all__ = [
    "TARGETS",
    "Example",
    "LabelError",
    "Prediction",
    "TermVectorizer",
    "TriageModel",
    "abstains",
    "build_pipeline",
    "fingerprint",
    "mail_frame",
    "read_examples",
    "seed_documents",
    "train",
    "training_weights",
]

TARGETS = ("theme", "organisation", "asking_organisation")
TOKEN_PATTERN = r"(?u)\b\w[\w'-]*\w\b|\b\w\b"  # keeps 'pij-maatregel' and the '8' of 'artikel 8'
SEED_MASS = 30.0  # the seed pseudo-questions of one theme together weigh as much as this many questions
FRAME_SHARE = 0.2  # a word in at least this share of the real questions belongs to the mail frame
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
_WORDS = re.compile(TOKEN_PATTERN)


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


class TermVectorizer(TfidfVectorizer):
    """A TfidfVectorizer that stores its vocabulary as one text, a term a line.

    As a dict, skops writes every term as a JSON object of some 250 bytes; a model of real
    mail has hundreds of thousands of terms. Terms never hold a newline: text is split on
    whitespace before n-grams are made, and n-grams join words with one space.
    """

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives __dict__ itself
        if "vocabulary_" in state:
            vocabulary = state.pop("vocabulary_")
            state["terms_"] = "\n".join(sorted(vocabulary, key=vocabulary.__getitem__))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if "terms_" in state:
            terms = state.pop("terms_")
            state["vocabulary_"] = {term: i for i, term in enumerate(terms.split("\n"))} if terms else {}
        super().__setstate__(state)


def build_pipeline(*, random_state: int = 0) -> Pipeline:
    """The unfitted pipeline every target uses."""
    tfidf = {"sublinear_tf": True, "dtype": np.float32}  # float32: half the memory, same verdicts
    features = FeatureUnion(
        [
            ("words", TermVectorizer(ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, **tfidf)),
            ("chars", TermVectorizer(analyzer="char_wb", ngram_range=(3, 5), **tfidf)),
        ]
    )
    # Labels are balanced by `training_weights`, not by class_weight: seeds must not count as data.
    classifier = LogisticRegression(C=10.0, max_iter=2000, random_state=random_state)
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


def mail_frame(texts: Sequence[str]) -> str:
    """The words that at least FRAME_SHARE of the (prepared) real questions have: greetings,
    closings, the mailbox's everyday words. Seed pseudo-questions are set in this frame, so
    that such words do not turn into evidence against themes that have only seeds so far."""
    if len(texts) < 5:
        return ""
    counts = Counter(word for text in texts for word in set(_WORDS.findall(text)))
    return " ".join(sorted(word for word, count in counts.items() if count >= FRAME_SHARE * len(texts)))


def training_weights(real: Sequence[str], seeds: Sequence[str] = ()) -> np.ndarray:
    """Sample weights: the real questions balanced over their labels (each label weighs
    len(real) / number of labels in all), then each label's seed pseudo-questions sharing
    SEED_MASS. So the seeds of a theme count as much as 30 real questions of it: all there
    is at a cold start, a tenth when that theme has 300."""
    real_counts, seed_counts = Counter(real), Counter(seeds)
    per_label = len(real) / max(len(real_counts), 1)
    return np.array(
        [per_label / real_counts[label] for label in real] + [SEED_MASS / seed_counts[label] for label in seeds]
    )


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
    _vocabularies: dict[int, _Vocabulary] = field(default_factory=dict, repr=False, compare=False)

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
        # The targets share one FeatureUnion: features and attributions are made once per text.
        seen: dict[int, tuple[sparse.csr_matrix, list[_Attribution]]] = {}
        for target, pipeline in self.pipelines.items():
            union: FeatureUnion = pipeline.named_steps["features"]
            if id(union) not in seen:
                matrix = union.transform(prepared).tocsr()
                vocabulary = self._vocabulary(union)
                seen[id(union)] = matrix, [vocabulary.attribute(text, matrix, row) for row, text in enumerate(prepared)]
            matrix, attributions = seen[id(union)]
            classifier: LogisticRegression = pipeline.named_steps["classifier"]
            probabilities = classifier.predict_proba(matrix)
            for row, k in enumerate(probabilities.argmax(axis=1)):
                coef = classifier.coef_
                weights = coef[k] if coef.shape[0] > 1 else (coef[0] if k == 1 else -coef[0])
                results[row][target] = Prediction(
                    str(classifier.classes_[k]), float(probabilities[row, k]), attributions[row].explain(weights)
                )
        return results

    def _vocabulary(self, union: FeatureUnion) -> _Vocabulary:
        if id(union) not in self._vocabularies:
            words, chars = (union.transformer_list[i][1] for i in (0, 1))
            self._vocabularies[id(union)] = _Vocabulary(words.get_feature_names_out(), chars.vocabulary_)
        return self._vocabularies[id(union)]


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    """Feature columns of a fitted FeatureUnion: word n-grams first, then character n-grams."""

    words: np.ndarray  # column -> word n-gram
    chars: dict[str, int]  # character n-gram -> column, counted after the word columns

    def attribute(self, text: str, matrix: sparse.csr_matrix, row: int) -> _Attribution:
        """Which readable terms of `text` each of its features stands for, and with what share.

        A word n-gram is a term itself. A character n-gram is shared out equally over the
        readable whitespace-separated words of the text that contain it (padded as `char_wb`
        pads them), so function words neither show nor take a share.
        """
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        value = dict(zip(matrix.indices[start:end].tolist(), matrix.data[start:end].tolist()))
        n_words = len(self.words)
        terms: dict[str, int] = {}
        ids: list[int] = []
        columns: list[int] = []
        amounts: list[float] = []
        for column, amount in value.items():
            if column < n_words and _readable(term := str(self.words[column])):
                ids.append(terms.setdefault(term, len(terms)))
                columns.append(column)
                amounts.append(amount)
        holders: dict[int, list[int]] = defaultdict(list)
        for chunk in set(text.split()):
            term = chunk.strip(_PUNCTUATION)
            if not _readable(term):
                continue
            term_id = terms.setdefault(term, len(terms))
            padded = f" {chunk} "
            for gram in {padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1)}:
                if (column := self.chars.get(gram)) is not None:
                    holders[n_words + column].append(term_id)
        for column, term_ids in holders.items():
            ids += term_ids
            columns += [column] * len(term_ids)
            amounts += [value.get(column, 0.0) / len(term_ids)] * len(term_ids)
        return _Attribution(list(terms), np.array(ids, dtype=int), np.array(columns, dtype=int), np.array(amounts))


@dataclass(frozen=True, slots=True)
class _Attribution:
    terms: list[str]
    term_ids: np.ndarray
    columns: np.ndarray
    amounts: np.ndarray  # feature value times the term's share of it

    def explain(self, weights: np.ndarray) -> tuple[str, ...]:
        """The terms that weighed most for a label: the sum of coefficient times feature value."""
        if not self.terms:
            return ()
        scores = np.bincount(self.term_ids, weights=self.amounts * weights[self.columns], minlength=len(self.terms))
        chosen: list[str] = []
        for i in np.argsort(-scores, kind="stable"):
            if len(chosen) == N_EXPLANATION or scores[i] <= 0 or scores[i] < MIN_EXPLANATION_SHARE * scores.max():
                break
            term = self.terms[i]
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
    tasks: dict[str, tuple[list[int], list[str], np.ndarray]] = {}
    for target in targets:
        rows = [i for i, example in enumerate(examples) if example.labels.get(target)]
        y = [examples[i].labels[target] for i in rows]
        seeds = seed_labels if target == "theme" else []
        weights = training_weights(y, seeds)
        rows, y = rows + list(range(n_real, n_real + len(seeds))), y + seeds
        if len(set(y)) >= 2:
            tasks[target] = rows, y, weights

    pipelines: dict[str, Pipeline] = {}
    label_sets: dict[str, tuple[str, ...]] = {}
    if tasks:
        # One FeatureUnion, fitted once on all texts, serves every target: the features of
        # a text are made once, not once per target.
        features = build_pipeline(random_state=random_state).named_steps["features"]
        real_texts = [normalise(example.text) for example in examples]
        frame = mail_frame(real_texts)
        matrix = features.fit_transform(real_texts + [f"{frame}\n{text}" for text in seed_texts]).tocsr()
        # One BLAS thread: the dense parts of the solver are small, and spare BLAS threads only
        # spin against the sparse products (five times slower on a busy two-core machine).
        with threadpool_limits(limits=1, user_api="blas"):
            for target, (rows, y, weights) in tasks.items():
                classifier = build_pipeline(random_state=random_state).named_steps["classifier"]
                subset = matrix if rows == list(range(matrix.shape[0])) else matrix[rows]  # no copy when all
                classifier.fit(subset, y, sample_weight=weights)
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


