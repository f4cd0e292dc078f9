"""Predicting with a fitted model, from plain arrays: numpy and scipy, no scikit-learn.

What `classify` and the worker do with a model is only this: a text's features (its word
and character n-grams, counted, weighed by the fitted IDF and normalised) times each
target's coefficients, and the terms that weighed most. `Scorer` does exactly that from the
arrays a fitted `TriageModel` holds (`Scorer.of`), equal to scikit-learn's own transform and
predict_proba (tests/classifiers/test_predictor.py holds the two to each other), and is
stored beside the skops file as one .npz of arrays (`Scorer.save`, `Scorer.load`; never
pickle). Loading it needs no scikit-learn and no skops, whose imports alone took longer than
the rest of a `classify` command.

    Terms       one fitted vectorizer: its analyzer, vocabulary and IDF weights
    Features    the vectorizers side by side, as FeatureUnion stacks them
    Head        one target's classes, coefficients and intercepts
    Scorer      feature groups with their heads: `predict_many`
    Predictor   a stored model for prediction: a Scorer and what the store says of it
    Explainer   which readable terms a text's feature columns stand for
"""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from classifiers.text import PLACEHOLDERS, normalise

__all__ = ["Attribution", "Explainer", "Features", "Head", "Prediction", "Predictor", "Scorer", "Terms",
           "abstains", "tempered"]

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


@dataclass(frozen=True, slots=True)
class Prediction:
    """A label, its probability and the terms of the text that weighed most for it."""

    label: str
    confidence: float
    explanation: tuple[str, ...] = ()
    probabilities: Mapping[str, float] = field(default_factory=dict, compare=False)  # every label's

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": round(self.confidence, 3), "explanation": list(self.explanation)}


def abstains(prediction: Prediction | None, threshold: float) -> bool:
    """True when the model should leave the question to a person: no prediction or too unsure."""
    return prediction is None or prediction.confidence < threshold


def tempered(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling: the probabilities of a softmax over logits divided by `temperature`.

    Above 1 an over-confident model is made less sure, below 1 an under-confident one surer;
    the most probable label never changes. For a LogisticRegression, log-probabilities differ
    from the logits by a constant per row, so dividing them is dividing the logits.
    """
    if temperature == 1.0:
        return probabilities
    scaled = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


@lru_cache(maxsize=1 << 14)  # some 1.5 kB a word: 25 MB at most, in a worker that runs for months
def _word_grams(word: str, low: int, high: int) -> tuple[str, ...]:
    padded = f" {word} "
    grams: list[str] = []
    for n in range(low, high + 1):
        grams += [padded[i:i + n] for i in range(max(len(padded) - n, 0) + 1)]
        if len(padded) <= n:  # a word shorter than n is one n-gram, and once only
            break
    return tuple(grams)


# --- features and heads as arrays -------------------------------------------------------------


@dataclass
class Terms:
    """One fitted `TermVectorizer` as arrays: its analyzer, vocabulary and weights, and the
    transform they make (count, log-scale, weigh by IDF, normalise), as TfidfVectorizer's.
    Named as the vectorizer's attributes, so `Explainer` reads either."""

    analyzer: str  # "word" (n-grams of tokens) or "char_wb" (n-grams of characters within words)
    ngram_range: tuple[int, int]
    token_pattern: str
    vocabulary_: dict[str, int]
    idf_: np.ndarray | None
    sublinear_tf: bool = True
    norm: str | None = "l2"
    lowercase: bool = True
    _analyze: Any = field(default=None, init=False, repr=False, compare=False)
    _columns: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, vectorizer: Any) -> Terms:
        params = vectorizer.get_params()
        odd = [key for key in ("preprocessor", "tokenizer", "stop_words", "strip_accents") if params.get(key)]
        if params["analyzer"] not in ("word", "char_wb") or params["binary"] or params["input"] != "content" or odd:
            raise ValueError(f"a vectorizer with {odd or params['analyzer']} is not one `Terms` can stand for")
        return cls(analyzer=params["analyzer"], ngram_range=tuple(params["ngram_range"]),
                   token_pattern=params["token_pattern"], vocabulary_=dict(vectorizer.vocabulary_),
                   idf_=np.asarray(vectorizer.idf_) if params["use_idf"] else None,
                   sublinear_tf=params["sublinear_tf"], norm=params["norm"], lowercase=params["lowercase"])

    def build_analyzer(self):
        """The text's terms, as the vectorizer's own analyzer makes them."""
        low, high = self.ngram_range
        if self.analyzer == "char_wb":
            def grams(text: str) -> list[str]:
                found: list[str] = []
                for word in (text.lower() if self.lowercase else text).split():
                    found += _word_grams(word, low, high)
                return found
            return grams
        tokens_of = re.compile(self.token_pattern).findall

        def words(text: str) -> list[str]:
            tokens = tokens_of(text.lower() if self.lowercase else text)
            found = list(tokens) if low == 1 else []
            for n in range(max(low, 2), min(high, len(tokens)) + 1):
                found += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
            return found
        return words

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        indices: list[int] = []
        values: list[int] = []
        ends = [0]
        for text in texts:
            counts = self._char_counts(text) if self.analyzer == "char_wb" else self._word_counts(text)
            indices += counts.keys()
            values += counts.values()
            ends.append(len(indices))
        data = np.array(values, dtype=np.float32)
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1
        columns = np.array(indices, dtype=np.int32)
        if self.idf_ is not None:
            data *= self.idf_[columns]
        matrix = sparse.csr_matrix((data, columns, np.array(ends, dtype=np.int32)),
                                   shape=(len(texts), len(self.vocabulary_)))
        matrix.sort_indices()
        if self.norm == "l2":
            rows = np.repeat(np.arange(len(texts)), np.diff(matrix.indptr))
            lengths = np.sqrt(np.bincount(rows, weights=matrix.data.astype(np.float64) ** 2, minlength=len(texts)))
            matrix.data /= lengths[rows].astype(matrix.data.dtype)  # an empty row has no data to divide
        elif self.norm is not None:
            raise ValueError(f"norm {self.norm!r} is not one `Terms` can stand for")
        return matrix


    def _word_counts(self, text: str) -> Counter:
        if self._analyze is None:
            self._analyze = self.build_analyzer()
        vocabulary = self.vocabulary_
        return Counter(column for term in self._analyze(text) if (column := vocabulary.get(term)) is not None)

    def _char_counts(self, text: str) -> Counter:
        """Per column, how often the text's character n-grams fill it: the columns of each
        word made once (mail repeats its words, and so do the mails of one mailbox)."""
        columns: list[int] = []
        for word in (text.lower() if self.lowercase else text).split():
            found = self._columns.get(word)
            if found is None:
                vocabulary = self.vocabulary_
                found = [column for gram in _word_grams(word, *self.ngram_range)
                         if (column := vocabulary.get(gram)) is not None]
                if len(self._columns) >= CACHED_WORDS:
                    self._columns.clear()
                self._columns[word] = found
            columns += found
        return Counter(columns)


CACHED_WORDS = 20_000  # words whose columns `Terms` and `Explainer` keep: some 7 MB each


@dataclass
class Features:
    """Fitted vectorizers side by side, as a FeatureUnion (without weights) stacks them."""

    transformer_list: list[tuple[str, Terms]]

    @classmethod
    def of(cls, union: Any) -> Features:
        if getattr(union, "transformer_weights", None):
            raise ValueError("weighted features are not ones `Features` can stand for")
        return cls([(name, Terms.of(part)) for name, part in union.transformer_list])

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack([part.transform(texts) for _, part in self.transformer_list], format="csr")


@dataclass
class Head:
    """One target's linear classifier: the probabilities of a LogisticRegression's predict_proba."""

    classes: list[str]
    coef: np.ndarray  # one row per class (one row in all for two classes)
    intercept: np.ndarray

    @classmethod
    def of(cls, classifier: Any) -> Head:
        return cls([str(c) for c in classifier.classes_], np.asarray(classifier.coef_), np.asarray(classifier.intercept_))

    def probabilities(self, matrix: sparse.csr_matrix) -> np.ndarray:
        decision = np.asarray(matrix @ self.coef.T) + self.intercept
        if self.coef.shape[0] == 1:  # two classes: the logistic function of the one decision
            positive = 1.0 / (1.0 + np.exp(-decision[:, 0]))
            return np.stack([1 - positive, positive], axis=1)
        decision -= decision.max(axis=1, keepdims=True)
        np.exp(decision, out=decision)
        return decision / decision.sum(axis=1, keepdims=True)

    def predictions(self, matrix: sparse.csr_matrix, attributions: Sequence[Attribution], *,
                    temperature: float = 1.0) -> list[Prediction]:
        """Per row its most probable label, that probability, and the terms that weighed most."""
        probabilities = tempered(self.probabilities(matrix), temperature)
        results = []
        for row, k in enumerate(probabilities.argmax(axis=1)):
            weights = self.coef[k] if self.coef.shape[0] > 1 else (self.coef[0] if k == 1 else -self.coef[0])
            every = {label: float(p) for label, p in zip(self.classes, probabilities[row])}
            results.append(Prediction(self.classes[k], float(probabilities[row, k]),
                                      attributions[row].explain(weights), every))
        return results


@dataclass
class Scorer:
    """The features of every target (made once per group of targets that share them) and each
    target's head: from a text to its predictions."""

    groups: list[tuple[Features, list[str]]]
    heads: dict[str, Head]
    _explainers: list[Explainer] = field(default_factory=list, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, estimators: Mapping[str, Any]) -> Scorer:
        """From fitted `QuestionClassifier`s (target -> estimator); targets whose fitted
        features are the same object, or equal (`same`), share one group."""
        groups: list[tuple[Any, Features, list[str]]] = []
        for target, estimator in estimators.items():
            group = next((g for g in groups if g[0] is estimator.features_), None)
            if group is None:
                features = Features.of(estimator.features_)
                group = next((g for g in groups if _same(g[1], features)), None)
                if group is None:
                    groups.append(group := (estimator.features_, features, []))
            group[2].append(target)
        return cls([(features, targets) for _, features, targets in groups],
                   {target: Head.of(estimator.classifier_) for target, estimator in estimators.items()})

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.heads)

    def predict_many(self, texts: Sequence[str], *, temperatures: Mapping[str, float] | None = None
                     ) -> list[dict[str, Prediction]]:
        """Per text (`question_text` of subject and body) a prediction for every target."""
        prepared = [normalise(text) for text in texts]
        results: list[dict[str, Prediction]] = [{} for _ in prepared]
        if not prepared:
            return results
        if not self._explainers:
            self._explainers[:] = [Explainer(features) for features, _ in self.groups]
        for (features, targets), explainer in zip(self.groups, self._explainers):
            matrix = features.transform(prepared)
            attributions = [explainer.attribute(text, matrix, row) for row, text in enumerate(prepared)]
            for target in targets:
                made = self.heads[target].predictions(matrix, attributions,
                                                      temperature=(temperatures or {}).get(target, 1.0))
                for result, prediction in zip(results, made):
                    result[target] = prediction
        return results

    # -- on disk: one .npz of arrays, loaded without pickle -------------------------------------
    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        layout: dict[str, Any] = {"groups": [], "heads": {}}
        for g, (features, targets) in enumerate(self.groups):
            parts = []
            for p, (name, terms) in enumerate(features.transformer_list):
                key = f"g{g}p{p}"
                ordered = sorted(terms.vocabulary_, key=terms.vocabulary_.__getitem__)
                arrays[f"{key}_terms"] = np.frombuffer("\n".join(ordered).encode("utf-8"), dtype=np.uint8)
                if terms.idf_ is not None:
                    arrays[f"{key}_idf"] = terms.idf_
                parts.append({"name": name, "key": key, "analyzer": terms.analyzer,
                              "ngram_range": list(terms.ngram_range), "token_pattern": terms.token_pattern,
                              "sublinear_tf": terms.sublinear_tf, "norm": terms.norm, "lowercase": terms.lowercase,
                              "size": len(ordered)})
            layout["groups"].append({"parts": parts, "targets": targets})
        for t, (target, head) in enumerate(self.heads.items()):
            arrays[f"h{t}_coef"], arrays[f"h{t}_intercept"] = head.coef, head.intercept
            layout["heads"][target] = {"key": f"h{t}", "classes": head.classes}
        arrays["layout"] = np.frombuffer(json.dumps(layout).encode("utf-8"), dtype=np.uint8)
        with path.open("wb") as file:
            np.savez(file, **arrays)

    @classmethod
    def load(cls, path: Path) -> Scorer:
        """Raises ValueError (or OSError) for a file that is not a scorer `save` wrote."""
        try:
            archive = np.load(path, allow_pickle=False)
        except zipfile.BadZipFile as error:
            raise ValueError(f"not an archive of arrays ({error})") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("one array, not an archive of arrays")
        with archive as stored:
            layout = json.loads(bytes(stored["layout"]).decode("utf-8"))
            groups = []
            for group in layout["groups"]:
                parts = []
                for part in group["parts"]:
                    text = bytes(stored[f"{part['key']}_terms"]).decode("utf-8")
                    terms = text.split("\n") if text else []
                    if len(terms) != part["size"]:
                        raise ValueError(f"{part['key']}: {len(terms)} terms, the layout says {part['size']}")
                    idf = stored[f"{part['key']}_idf"] if f"{part['key']}_idf" in stored else None
                    parts.append((part["name"], Terms(
                        analyzer=part["analyzer"], ngram_range=tuple(part["ngram_range"]),
                        token_pattern=part["token_pattern"], vocabulary_={term: i for i, term in enumerate(terms)},
                        idf_=idf, sublinear_tf=part["sublinear_tf"], norm=part["norm"], lowercase=part["lowercase"])))
                groups.append((Features(parts), list(group["targets"])))
            heads = {target: Head(list(head["classes"]), stored[f"{head['key']}_coef"],
                                  stored[f"{head['key']}_intercept"])
                     for target, head in layout["heads"].items()}
        return cls(groups, heads)


def _same(a: Features, b: Features) -> bool:
    """True when two `Features` make the same columns of every text."""
    return len(a.transformer_list) == len(b.transformer_list) and all(
        name_a == name_b and x.analyzer == y.analyzer and x.ngram_range == y.ngram_range
        and x.token_pattern == y.token_pattern and x.sublinear_tf == y.sublinear_tf and x.norm == y.norm
        and x.lowercase == y.lowercase and x.vocabulary_ == y.vocabulary_
        and (x.idf_ is None) == (y.idf_ is None) and (x.idf_ is None or np.array_equal(x.idf_, y.idf_))
        for (name_a, x), (name_b, y) in zip(a.transformer_list, b.transformer_list))


@dataclass
class Predictor:
    """A stored model, loaded for prediction only (`ModelStore.load_predictor`): its scorer and
    what the store records of it. Predicts as the `TriageModel` it was saved from."""

    scorer: Scorer
    label_sets: dict[str, tuple[str, ...]]
    n_examples: int = 0
    data_fingerprint: str = ""
    version: str = ""
    move_threshold: float | None = None
    temperatures: dict[str, float] = field(default_factory=dict)

    @property
    def targets(self) -> tuple[str, ...]:
        return self.scorer.targets

    def predict(self, text: str) -> dict[str, Prediction]:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[dict[str, Prediction]]:
        return self.scorer.predict_many(texts, temperatures=self.temperatures)


# --- explanations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    """The columns one vectorizer of the features fills: from `offset`, its vocabulary."""

    offset: int
    vectorizer: Any  # a fitted TermVectorizer, or the `Terms` made of one


class Explainer:
    """Which readable terms of a text the columns of fitted features stand for.

    A word n-gram is a term itself. A character n-gram is shared out equally over the
    readable whitespace-separated words of the text that contain it (padded as `char_wb`
    pads them) and are words of the vocabulary too, so function words neither show nor take
    a share, and a word the model never kept as a term (a name in the text explained, say)
    is never shown. Features other than
    word and char_wb vectorizers explain nothing.

    Keeps the character columns of each word it has seen (up to CACHED_WORDS): mail
    repeats its words, and looking their n-grams up is most of the work. One explainer
    per fitted features; `TriageModel` keeps one per target between predictions.
    """


    def __init__(self, features: Any) -> None:
        parts = [part for _, part in getattr(features, "transformer_list", [(None, features)])]
        self._words: list[_Block] = []
        self._chars: list[_Block] = []
        offset = 0
        for part in parts:
            vocabulary = getattr(part, "vocabulary_", None)
            if vocabulary is None:  # a transformer whose columns are not terms
                self._words, self._chars = [], []
                break
            if part.analyzer == "word":
                self._words.append(_Block(offset, part))
            elif part.analyzer == "char_wb":
                self._chars.append(_Block(offset, part))
            offset += len(vocabulary)
        self._analyzers = [block.vectorizer.build_analyzer() for block in self._words]
        self._known = {term for block in self._words for term in block.vectorizer.vocabulary_ if " " not in term}
        self._columns: dict[str, tuple[str, np.ndarray] | None] = {}

    def attribute(self, text: str, matrix: sparse.csr_matrix, row: int) -> Attribution:
        """The terms of `text` (row `row` of its features `matrix`) and their share of each column."""
        if not matrix.has_sorted_indices:
            matrix.sort_indices()
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        present, values = matrix.indices[start:end], matrix.data[start:end]
        terms: dict[str, int] = {}
        ids: list[int] = []
        columns: list[int] = []
        for block, analyze in zip(self._words, self._analyzers):
            vocabulary = block.vectorizer.vocabulary_
            grams = {vocabulary[gram] + block.offset: gram for gram in analyze(text) if gram in vocabulary}
            for column in sorted(grams):
                if _readable(gram := grams[column]):
                    ids.append(terms.setdefault(gram, len(terms)))
                    columns.append(column)
        word_ids, word_columns = np.array(ids, dtype=np.intp), np.array(columns, dtype=np.intp)
        word_amounts = _values_at(present, values, word_columns)
        ids, parts = [], []
        for chunk in sorted(set(text.split())):
            if (found := self._chunk(chunk)) is not None:
                term, chunk_columns = found
                ids.append(np.full(len(chunk_columns), terms.setdefault(term, len(terms)), dtype=np.intp))
                parts.append(chunk_columns)
        char_ids = np.concatenate(ids) if ids else np.empty(0, dtype=np.intp)
        char_columns = np.concatenate(parts) if parts else np.empty(0, dtype=np.intp)
        _, holder, holders = np.unique(char_columns, return_inverse=True, return_counts=True)
        char_amounts = _values_at(present, values, char_columns) / holders[holder] if len(char_columns) else np.empty(0)
        return Attribution(
            list(terms),
            np.concatenate([word_ids, char_ids]),
            np.concatenate([word_columns, char_columns]),
            np.concatenate([word_amounts, char_amounts]),
        )

    def _chunk(self, chunk: str) -> tuple[str, np.ndarray] | None:
        """A whitespace-separated chunk as a readable term and the char columns it fills."""
        if chunk in self._columns:
            return self._columns[chunk]
        term = chunk.strip(_PUNCTUATION)
        found = None
        if _readable(term) and (not self._words or term in self._known):
            padded = f" {chunk} "
            columns = []
            for block in self._chars:
                low, high = block.vectorizer.ngram_range
                vocabulary = block.vectorizer.vocabulary_
                grams = {padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)}
                columns += [vocabulary[gram] + block.offset for gram in grams if gram in vocabulary]
            found = term, np.array(sorted(columns), dtype=np.intp)
        if len(self._columns) >= CACHED_WORDS:
            self._columns.clear()
        self._columns[chunk] = found
        return found


def _values_at(present: np.ndarray, values: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The feature values of a sparse row (sorted column indices `present`) at `columns`; 0 where absent."""
    if not len(columns) or not len(present):
        return np.zeros(len(columns))
    at = np.minimum(np.searchsorted(present, columns), len(present) - 1)
    return np.where(present[at] == columns, values[at], 0.0).astype(np.float64)


@dataclass(frozen=True, slots=True)
class Attribution:
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


@lru_cache(maxsize=1 << 16)
def _readable(term: str) -> bool:
    words = term.split()
    return bool(words) and all(len(w) > 1 and w not in _STOP and not w.isdigit() for w in words)
