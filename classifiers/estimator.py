"""The estimator of one target: a question's text in, a label out, seed terms fitted with the data.

`QuestionClassifier` is a scikit-learn classifier: `clone` copies it, `fit` returns it,
`cross_validate` and `learning_curve` train and score it as it is deployed. Inside, in order:

1. the text is redacted and normalised (`classifiers.text.normalise`);
2. cold start: the seed terms become short pseudo-questions labelled with their theme
   (`seed_documents`), set in the words all the real questions share (`mail_frame`);
3. word n-grams (1-2) and character n-grams within word boundaries (3-5), both TF-IDF in
   float32, side by side in a FeatureUnion, fitted on the real and the pseudo-questions
   (and on texts without a label of this target, given with the label None);
   Given who asked each text, a term stays only when questions of at least `min_askers`
   distinct askers have it (or a seed term does): a child's name, a street or a condition
   that one asker mentions never becomes a feature, a stored term or an explanation;
4. a LogisticRegression, with sample weights that balance the labels of the real questions
   and give each theme's pseudo-questions together the weight of SEED_MASS real questions
   (`training_weights`): everything at a cold start, less and less as questions accumulate.
   With `seed_mass=0` the pseudo-questions shape the features only (the targets other than
   the theme: their features then equal the theme's, and `TriageModel` makes them once).

`Explainer` turns the features of a text back into its readable terms, so that a verdict is
explained by the terms whose coefficient times feature value weighed most.

LogisticRegression because it gives probabilities without a calibration split
(CalibratedClassifierCV needs several examples of every label per fold, which a mailbox with
a dozen questions a theme does not have), trains in seconds on tens of thousands of mails,
and its coefficients explain a verdict term by term (`QuestionClassifier.predictions`).
"""

from __future__ import annotations

import random
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from classifiers.predictor import (  # predicting needs no scikit-learn: there; fitting: here
    Attribution,
    Explainer,
    Prediction,
    _word_grams,
    abstains,
    tempered,
)
from classifiers.text import normalise

__all__ = [
    "SEED_MASS",
    "Prediction",
    "QuestionClassifier",
    "TermVectorizer",
    "Attribution",
    "Documents",
    "Explainer",
    "abstains",
    "build_classifier",
    "build_features",
    "mail_frame",
    "same_features",
    "seed_documents",
    "tempered",
    "training_weights",
]

TOKEN_PATTERN = r"(?u)\b\w[\w'-]*\w\b|\b\w\b"  # keeps 'pij-maatregel' and the '8' of 'artikel 8'
SEED_MASS = 30.0  # the seed pseudo-questions of one theme together weigh as much as this many questions
FRAME_SHARE = 0.2  # a word in at least this share of the real questions belongs to the mail frame
_WORDS = re.compile(TOKEN_PATTERN)


class TermVectorizer(TfidfVectorizer):
    """A TfidfVectorizer that stores its vocabulary as one text, a term a line.

    As a dict, skops writes every term as a JSON object of some 250 bytes; a model of real
    mail has hundreds of thousands of terms. Terms never hold a newline: text is split on
    whitespace before n-grams are made, and n-grams join words with one space.
    """

    def count(self, documents: Sequence[str]) -> tuple[sparse.csr_matrix, list[str]]:
        """How often each term occurs in each document, and the terms (column order): the
        counting half of `fit`, into two growing arrays (which the kernel extends in place)
        that become the matrix without a copy. sklearn's own counting holds several copies
        at once: three times the memory for the same matrix."""
        analyze = self.build_analyzer()
        vocabulary: defaultdict[str, int] = defaultdict()
        vocabulary.default_factory = vocabulary.__len__  # a new term gets the next column
        indices, values, ends = array("i"), array("f"), array("q", [0])
        for document in documents:
            counts = Counter(analyze(document))
            indices.extend(map(vocabulary.__getitem__, counts))
            values.extend(counts.values())
            ends.append(len(indices))
        indptr = np.frombuffer(ends, dtype=np.int64)
        matrix = sparse.csr_matrix((np.frombuffer(values, dtype=np.float32), np.frombuffer(indices, dtype=np.int32),
                                    indptr.astype(np.int32) if len(indices) < 2**31 else indptr),
                                   shape=(len(documents), len(vocabulary)), copy=False)
        return matrix, list(vocabulary)

    def adopt(self, terms: Sequence[str], document_frequency: np.ndarray, n_documents: int) -> None:
        """Become fitted to `terms`, which that many of `n_documents` documents have: as
        `fit` on those documents with `terms` as the vocabulary would leave it."""
        self.vocabulary_ = {term: i for i, term in enumerate(terms)}
        if self.use_idf:
            smooth = int(self.smooth_idf)
            df = np.asarray(document_frequency, dtype=self.dtype) + smooth
            self.idf_ = np.log(self.dtype(n_documents + smooth) / df) + self.dtype(1)  # as TfidfTransformer.fit

    def weigh(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """The features of documents from their `counts` of this vectorizer's terms (column
        order), weighed in place: what `transform` makes of the documents themselves."""
        counts = counts.astype(self.dtype, copy=False)
        if self.sublinear_tf:
            np.log(counts.data, out=counts.data)
            counts.data += 1
        if self.use_idf:
            counts.data *= self.idf_[counts.indices]
        return normalize(counts, norm=self.norm, copy=False) if self.norm else counts

    def _char_wb_ngrams(self, text_document: str) -> list[str]:
        """sklearn's char_wb n-grams (a word padded with a space either side), each distinct
        word's made once: mail repeats its words, and making them was a fifth of training."""
        low, high = self.ngram_range
        grams: list[str] = []
        for word in text_document.split():
            grams += _word_grams(word, low, high)
        return grams

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


def build_features() -> FeatureUnion:
    """The unfitted text features: word 1-2-grams and char_wb 3-5-grams, TF-IDF in float32."""
    tfidf = {"sublinear_tf": True, "dtype": np.float32}  # float32: half the memory, same verdicts
    return FeatureUnion(
        [
            ("words", TermVectorizer(ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, **tfidf)),
            ("chars", TermVectorizer(analyzer="char_wb", ngram_range=(3, 5), **tfidf)),
        ]
    )


def build_classifier(*, random_state: int = 0) -> LogisticRegression:
    """The unfitted linear classifier. Labels are balanced by `training_weights`, not by
    class_weight: the seed pseudo-questions must not count as data."""
    return LogisticRegression(C=10.0, max_iter=2000, random_state=random_state)


def same_features(a: Any, b: Any) -> bool:
    """True when two fitted `build_features()` unions make the same columns of every text:
    the same vectorizers with the same settings, vocabularies and IDF weights."""
    if a is b:
        return True
    if not (isinstance(a, FeatureUnion) and isinstance(b, FeatureUnion)):
        return False
    if a.transformer_weights != b.transformer_weights:
        return False
    return len(a.transformer_list) == len(b.transformer_list) and all(
        name_a == name_b
        and type(x) is type(y)
        and isinstance(x, TfidfVectorizer)
        and x.get_params() == y.get_params()
        and x.vocabulary_ == y.vocabulary_
        and np.array_equal(x.idf_, y.idf_)
        for (name_a, x), (name_b, y) in zip(a.transformer_list, b.transformer_list)
    )


@dataclass(frozen=True)
class Documents:
    """What a fit learns from before its classifier: the fitted text features and the matrix
    of the texts (first, `n_texts` of them) and of the seed pseudo-questions (after, labelled
    `seed_labels`), the mail frame those are set in."""

    features: FeatureUnion
    matrix: sparse.csr_matrix
    frame: str
    n_texts: int
    seed_labels: list[str]


class QuestionClassifier(ClassifierMixin, BaseEstimator):
    """Labels the text of a question (subject and body) for one target.

    Parameters
    ----------
    seed_terms : mapping of label to terms, default None
        Words that mark a label. Each becomes a pseudo-question of that label, and the
        features are fitted on the pseudo-questions too.
    seed_mass : float, default SEED_MASS
        How many real questions all pseudo-questions of one label together weigh in the
        classifier. 0 keeps them out of the classifier: they then shape the features only
        (the targets other than the theme do this, so that all targets fit the same features).
    features : transformer, default None
        Unfitted text features (cloned in `fit`); None is `build_features()`.
    classifier : classifier, default None
        Unfitted classifier taking sample weights (cloned in `fit`); None is
        `build_classifier(random_state=random_state)`.
    random_state : int, default 0
        Seeds the mixes of seed terms and the classifier.
    min_askers : int, default 2
        With `askers` given to `fit`: a term is kept only when the texts of at least this many
        distinct askers have it, or a seed pseudo-question does.

    Attributes
    ----------
    classes_ : ndarray of labels, from the data (and the seed terms when they weigh)
    features_ : the fitted text features
    classifier_ : the fitted classifier
    frame_ : str, the words most questions share, that the pseudo-questions are set in
    n_seed_documents_ : int, how many pseudo-questions the seed terms gave
    """

    def __init__(
        self,
        seed_terms: Mapping[str, Sequence[str]] | None = None,
        seed_mass: float = SEED_MASS,
        features: Any = None,
        classifier: Any = None,
        random_state: int = 0,
        min_askers: int = 2,
    ) -> None:
        self.seed_terms = seed_terms
        self.seed_mass = seed_mass
        self.features = features
        self.classifier = classifier
        self.random_state = random_state
        self.min_askers = min_askers

    def fit(self, X: Iterable[str], y: Iterable[Any], askers: Sequence[str] | None = None) -> QuestionClassifier:
        """Fit on texts `X` and their labels `y`, together with the seed terms' pseudo-questions.

        A label None marks a text without a label of this target: it shapes the features
        (vocabulary, IDF, mail frame) but teaches the classifier nothing. `X` may be empty
        when seed terms of at least two labels weigh (a cold start). `askers`, one per text
        (a keyed hash of the sender, say), keeps out the terms of fewer than `min_askers`.
        """
        texts, labels = _texts(X), list(y)
        if len(texts) != len(labels) or (askers is not None and len(askers) != len(texts)):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels" + (
                f" and {len(askers)} askers" if askers is not None else ""))
        return self.fit_documents(self.documents(texts, askers), labels)

    def documents(self, X: Iterable[str], askers: Sequence[str] | None = None) -> Documents:
        """The texts `X` and the seed pseudo-questions with their fitted features: the first
        half of `fit`. Estimators that differ only in `seed_mass` make equal documents, so
        one `Documents` serves them all (`fit_documents`): `train` fits the features once
        for every target."""
        prepared = [normalise(text) for text in _texts(X)]
        seed_texts, seed_labels = seed_documents(self.seed_terms or {}, random_state=self.random_state)
        frame = mail_frame(prepared, askers=askers, min_askers=self.min_askers)
        features = build_features() if self.features is None else clone(self.features)
        documents = prepared + [f"{frame}\n{text}" for text in seed_texts]
        blocks = []
        for _, vectorizer in features.transformer_list:  # TermVectorizers, as build_features makes them
            counts, terms = vectorizer.count(documents)
            keep = np.arange(len(terms))
            if askers is not None and self.min_askers > 1:
                keep = np.flatnonzero(shared_terms(counts, askers, self.min_askers))
            keep = keep[np.argsort(np.array(terms, dtype=object)[keep], kind="stable")]  # as sklearn: by term
            document_frequency = np.bincount(counts.indices, minlength=len(terms))[keep]
            vectorizer.adopt([terms[k] for k in keep], document_frequency, len(documents))
            blocks.append((vectorizer, counts, keep))
        return Documents(features, _weighed_side_by_side(blocks), frame, len(prepared), seed_labels)

    def fit_documents(self, documents: Documents, y: Sequence[Any]) -> QuestionClassifier:
        """The second half of `fit`: the classifier, on `documents` made by `documents` (of
        this estimator or of one that differs only in `seed_mass`) and the texts' labels `y`."""
        labels = list(y)
        if len(labels) != documents.n_texts:
            raise ValueError(f"{documents.n_texts} texts but {len(labels)} labels")
        real_rows = [i for i, label in enumerate(labels) if label is not None]
        real_labels = [labels[i] for i in real_rows]
        seed_labels = documents.seed_labels if self.seed_mass > 0 else []  # else they shape the features only
        rows = real_rows + list(range(documents.n_texts, documents.n_texts + len(seed_labels)))
        if len(set(real_labels) | set(seed_labels)) < 2:
            raise ValueError("needs at least two labels among the texts and the weighing seed terms")
        weights = training_weights(real_labels, seed_labels, seed_mass=self.seed_mass)
        classifier = build_classifier(random_state=self.random_state) if self.classifier is None else clone(
            self.classifier
        )
        matrix = documents.matrix
        # One BLAS thread: the dense parts of the solver are small, and spare BLAS threads only
        # spin against the sparse products (five times slower on a busy two-core machine).
        with threadpool_limits(limits=1, user_api="blas"):
            subset = matrix if len(rows) == matrix.shape[0] else matrix[rows]  # no copy when all
            classifier.fit(subset, real_labels + seed_labels, sample_weight=weights)
        self.features_, self.classifier_ = documents.features, classifier
        self.classes_ = classifier.classes_
        self.frame_ = documents.frame
        self.n_seed_documents_ = documents.matrix.shape[0] - documents.n_texts
        return self

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """Probabilities per text, a column per label of `classes_`."""
        check_is_fitted(self)
        return self.classifier_.predict_proba(self.features_.transform([normalise(text) for text in _texts(X)]))

    def predict(self, X: Iterable[str]) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predictions(self, X: Iterable[str]) -> list[Prediction]:
        """Per text its most probable label, that probability, and the terms that weighed most."""
        check_is_fitted(self)
        texts = [normalise(text) for text in _texts(X)]
        if not texts:
            return []
        matrix = self.features_.transform(texts).tocsr()
        explainer = Explainer(self.features_)
        return self.predictions_from(matrix, [explainer.attribute(text, matrix, row) for row, text in enumerate(texts)])

    def predictions_from(self, matrix: sparse.csr_matrix, attributions: Sequence[Attribution], *,
                         temperature: float = 1.0) -> list[Prediction]:
        """`predictions` from texts' features made already by `features_` (or by features
        equal to them, see `same_features`) and their `Explainer.attribute`s. A `temperature`
        other than 1 calibrates the probabilities (`tempered`)."""
        probabilities = tempered(self.classifier_.predict_proba(matrix), temperature)
        coef = getattr(self.classifier_, "coef_", None)
        results = []
        for row, k in enumerate(probabilities.argmax(axis=1)):
            explanation: tuple[str, ...] = ()
            if coef is not None:
                weights = coef[k] if coef.shape[0] > 1 else (coef[0] if k == 1 else -coef[0])
                explanation = attributions[row].explain(weights)
            every = {str(label): float(p) for label, p in zip(self.classes_, probabilities[row])}
            results.append(Prediction(str(self.classes_[k]), float(probabilities[row, k]), explanation, every))
        return results

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _texts(X: Iterable[str]) -> list[str]:
    if isinstance(X, str):
        raise ValueError("expected a sequence of texts, got one string")
    texts = list(X)
    if not all(isinstance(text, str) for text in texts):
        raise ValueError("expected texts (str)")
    return texts


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


def mail_frame(texts: Sequence[str], *, askers: Sequence[str] | None = None, min_askers: int = 1) -> str:
    """The words that at least FRAME_SHARE of the (prepared) real questions have: greetings,
    closings, the mailbox's everyday words. Seed pseudo-questions are set in this frame, so
    that such words do not turn into evidence against themes that have only seeds so far.
    With `askers`, a word also needs `min_askers` distinct askers."""
    if len(texts) < 5:
        return ""
    counts = Counter(word for text in texts for word in set(_WORDS.findall(text)))
    frame = {word for word, count in counts.items() if count >= FRAME_SHARE * len(texts)}
    if askers is not None and min_askers > 1:
        who: dict[str, set[str]] = {}
        for text, asker in zip(texts, askers):
            for word in frame.intersection(_WORDS.findall(text)):
                who.setdefault(word, set()).add(asker)
        frame = {word for word in frame if len(who.get(word, ())) >= min_askers}
    return " ".join(sorted(frame))


def shared_terms(counts: sparse.csr_matrix, askers: Sequence[str], min_askers: int) -> np.ndarray:
    """Which columns of `counts` (the documents: the real texts first, one per asker, then
    pseudo-questions) the texts of at least `min_askers` distinct askers have, or any
    pseudo-question has. Counted a few thousand texts at a time, each asker whole in one."""
    n_real, n_terms = len(askers), counts.shape[1]
    ids = np.array(_numbered(askers), dtype=np.int64)
    n_askers = int(ids.max(initial=-1)) + 1
    order = np.argsort(ids, kind="stable")
    ids_sorted = ids[order]
    per_term = np.zeros(n_terms, dtype=np.int64)
    step = max(1, n_askers * 4096 // max(n_real, 1))  # askers of some 4,096 texts together
    for first in range(0, n_askers, step):
        rows = order[np.searchsorted(ids_sorted, first):np.searchsorted(ids_sorted, first + step)]
        block = counts[rows]
        block.data[:] = 1
        who = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (ids[rows] - first, np.arange(len(rows)))),
                                shape=(step, len(rows)))
        per_term += np.bincount((who @ block).indices, minlength=n_terms)  # an entry per asker and term
    keep = per_term >= min_askers
    keep[counts[n_real:].indices] = True
    return keep


def _numbered(values: Sequence[str]) -> list[int]:
    """Each value as a number: the same value, the same number."""
    index: dict[str, int] = {}
    return [index.setdefault(value, len(index)) for value in values]


def _weighed_side_by_side(blocks: Sequence[tuple[TermVectorizer, sparse.csr_matrix, np.ndarray]],
                          rows: int = 4096) -> sparse.csr_matrix:
    """The features of the documents: per block its vectorizer's weighing of the counts of
    the columns kept, the blocks side by side (as FeatureUnion stacks them). Made a few
    thousand documents at a time into the matrix, which then is the one large thing held
    beside the counts (selecting the columns and stacking whole matrices hold two more)."""
    n = blocks[0][1].shape[0]
    width = sum(len(keep) for _, _, keep in blocks)
    room = sum(counts.nnz for _, counts, _ in blocks)  # at least what is kept
    data, indices = np.empty(room, dtype=np.float32), np.empty(room, dtype=np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    filled = 0
    for start in range(0, n, rows):
        part = sparse.hstack([vectorizer.weigh(counts[start:start + rows][:, keep])
                              for vectorizer, counts, keep in blocks], format="csr", dtype=np.float32)
        part.sort_indices()
        data[filled:filled + part.nnz], indices[filled:filled + part.nnz] = part.data, part.indices
        indptr[start + 1:start + 1 + part.shape[0]] = part.indptr[1:] + filled
        filled += part.nnz
    return sparse.csr_matrix((data[:filled], indices[:filled], indptr.astype(np.int32) if filled < 2**31 else indptr),
                             shape=(n, width), copy=False)


def training_weights(real: Sequence[str], seeds: Sequence[str] = (), *, seed_mass: float = SEED_MASS) -> np.ndarray:
    """Sample weights: the real questions balanced over their labels (each label weighs
    len(real) / number of labels in all), then each label's seed pseudo-questions sharing
    `seed_mass`. So the seeds of a theme count as much as 30 real questions of it: all there
    is at a cold start, a tenth when that theme has 300."""
    real_counts, seed_counts = Counter(real), Counter(seeds)
    per_label = len(real) / max(len(real_counts), 1)
    return np.array(
        [per_label / real_counts[label] for label in real] + [seed_mass / seed_counts[label] for label in seeds]
    )
