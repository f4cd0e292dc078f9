"""The estimator of one target: scikit-learn's conventions, seed terms fitted with the data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_score

from classifiers import QuestionClassifier, build_estimator, train
from classifiers.estimator import (
    SEED_MASS,
    build_features,
    mail_frame,
    same_features,
    seed_documents,
    shared_terms,
    training_weights,
)
from classifiers.text import normalise
from classifiers.evaluate import MACRO_F1


def _texts_and_themes(examples):
    return [e.text for e in examples], [e.labels["theme"] for e in examples]


def test_follows_the_estimator_conventions(small, seed_terms):
    texts, themes = _texts_and_themes(small)
    estimator = build_estimator("theme", seed_terms=seed_terms)
    assert estimator.get_params()["seed_terms"] == seed_terms  # parameters only stored
    assert not hasattr(estimator, "classes_")
    assert estimator.fit(texts, themes) is estimator
    assert sorted(estimator.classes_) == sorted(seed_terms)  # seed-only themes too
    assert {name for name in vars(estimator) if name.endswith("_")} == {
        "classes_", "features_", "classifier_", "frame_", "n_seed_documents_"}
    copy = clone(estimator)
    assert copy.get_params()["seed_terms"] == seed_terms and copy.get_params()["seed_terms"] is not seed_terms
    assert not hasattr(copy, "classes_")
    copy.set_params(seed_mass=0.0, random_state=3)
    assert (copy.seed_mass, copy.random_state) == (0.0, 3)
    assert set(copy.fit(texts, themes).classes_) == set(themes)  # seed terms that weigh nothing teach no label


def test_predict_predict_proba_and_predictions_agree(small, seed_terms):
    texts, themes = _texts_and_themes(small)
    estimator = build_estimator("theme", seed_terms=seed_terms).fit(texts[:40], themes[:40])
    probabilities = estimator.predict_proba(texts[40:])
    assert probabilities.shape == (26, len(estimator.classes_))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    predicted = estimator.predict(texts[40:])
    assert list(predicted) == list(estimator.classes_[probabilities.argmax(axis=1)])
    predictions = estimator.predictions(texts[40:])
    assert [p.label for p in predictions] == list(predicted)
    assert [p.confidence for p in predictions] == pytest.approx(probabilities.max(axis=1).tolist())
    assert estimator.score(texts[40:], themes[40:]) > 0.7


def test_one_string_is_not_a_list_of_texts(small):
    estimator = build_estimator().fit(*_texts_and_themes(small))
    with pytest.raises(ValueError, match="one string"):
        estimator.predict("De tante wil voogd worden.")


def test_cross_validation_scores_what_train_deploys(small, seed_terms):
    # Fit on two thirds, as one fold of cross-validation does, and as `train` does: the
    # same verdicts on the last third, so scikit-learn's cross_validate of the estimator
    # scores the deployed model, seed terms included.
    texts, themes = _texts_and_themes(small)
    rest, test = [i for i in range(66) if i % 3], [i for i in range(66) if i % 3 == 0]
    fold = clone(build_estimator("theme", seed_terms=seed_terms))
    askers = [e.asker or f"#{n}" for n, e in enumerate(small)]  # as `train` passes them
    fold.fit([texts[i] for i in rest], [themes[i] for i in rest], askers=[askers[i] for i in rest])
    deployed = train([small[i] for i in rest], seed_terms=seed_terms)
    fold_predictions = fold.predictions([texts[i] for i in test])
    deployed_predictions = [p["theme"] for p in deployed.predict_many([texts[i] for i in test])]
    assert [(p.label, p.explanation) for p in fold_predictions] == [
        (p.label, p.explanation) for p in deployed_predictions]
    assert [p.confidence for p in fold_predictions] == pytest.approx(
        [p.confidence for p in deployed_predictions], abs=1e-6)  # the deployed features in float32: noise


def test_seed_terms_are_part_of_what_cross_validation_fits(small, seed_terms):
    # Few questions of each theme per fold: the seed terms carry the themes the fold lacks.
    few = [e for e in small if e.labels["theme"] in ("voogdij", "strafrecht", "gezag-en-omgang")][:12]
    others = [e for e in small if e not in few][:24]
    texts, themes = _texts_and_themes(few + others)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    seeded = cross_val_score(build_estimator(seed_terms=seed_terms), texts, themes, cv=folds, scoring=MACRO_F1)
    bare = cross_val_score(build_estimator(), texts, themes, cv=folds, scoring=MACRO_F1)
    assert seeded.mean() > bare.mean() + 0.05, (seeded, bare)


def test_texts_without_a_label_shape_the_features_only(small):
    texts, themes = _texts_and_themes(small)
    partial = [theme if i % 2 else None for i, theme in enumerate(themes)]
    estimator = build_estimator().fit(texts, partial)
    assert None not in set(estimator.classes_)
    assert same_features(estimator.features_, build_estimator().fit(texts, themes).features_)
    assert not same_features(estimator.features_, build_estimator().fit(texts[1::2], themes[1::2]).features_)


def test_all_targets_fit_the_same_features(small, seed_terms):
    texts = [e.text for e in small]
    theme = build_estimator("theme", seed_terms=seed_terms).fit(texts, [e.labels["theme"] for e in small])
    organisation = build_estimator("organisation", seed_terms=seed_terms).fit(
        texts, [e.labels["organisation"] for e in small])
    assert same_features(theme.features_, organisation.features_)
    assert not same_features(theme.features_, build_estimator("organisation").fit(
        texts, [e.labels["organisation"] for e in small]).features_)  # without the pseudo-questions


def test_needs_two_labels():
    with pytest.raises(ValueError, match="at least two labels"):
        QuestionClassifier().fit(["een vraag", "nog een vraag"], ["voogdij", "voogdij"])
    with pytest.raises(ValueError, match="at least two labels"):
        QuestionClassifier(seed_terms={"a": ["x"], "b": ["y"]}, seed_mass=0.0).fit([], [])
    cold = QuestionClassifier(seed_terms={"a": ["appel"], "b": ["banaan"]}).fit([], [])
    assert list(cold.predict(["een banaan"])) == ["b"]


def test_seed_documents(seed_terms):
    texts, labels = seed_documents(seed_terms)
    assert set(labels) == set(seed_terms)
    assert "machtiging uithuisplaatsing" in texts
    assert seed_documents(seed_terms) == (texts, labels)


def test_training_weights_balance_labels_and_cap_the_seeds():
    weights = training_weights(["a", "a", "a", "b"], ["a", "a", "c", "c", "c", "c"])
    real, seeds = weights[:4], weights[4:]
    assert real.tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0])  # each label weighs 4/2 = 2
    assert seeds.tolist() == pytest.approx([SEED_MASS / 2] * 2 + [SEED_MASS / 4] * 4)
    assert training_weights([], ["a"]).tolist() == [SEED_MASS]
    assert training_weights([], ["a", "a"], seed_mass=3.0).tolist() == [1.5, 1.5]


def test_mail_frame_is_the_words_most_mails_share():
    texts = [f"beste collega, een vraag over {topic}. met vriendelijke groet" for topic in
             ("de ots", "voogdij", "een pij-maatregel", "de avg", "een presentatie", "gezag")]
    frame = mail_frame(texts).split()
    assert {"beste", "collega", "vraag", "met", "vriendelijke", "groet"} <= set(frame)
    assert not {"ots", "voogdij", "pij-maatregel", "avg", "presentatie", "gezag"} & set(frame)
    assert mail_frame(texts[:4]) == ""  # too few questions to tell


# --- the features of training, made as sklearn would make them, with less held at once ------

_DOCUMENTS = ["de voogd van het kind", "het kind  heeft\u00a0een voogd", "a b", "pij-maatregel en ots, artikel 8",
              "", "uithuisplaatsing uithuisplaatsing voogdij"]


@pytest.mark.parametrize("vectorizer", [part for _, part in build_features().transformer_list], ids=["words", "chars"])
def test_counting_and_weighing_make_what_fit_transform_with_those_terms_makes(vectorizer):
    counts, terms = vectorizer.count(_DOCUMENTS)
    reference = TfidfVectorizer(**vectorizer.get_params())
    assert counts.shape == (len(_DOCUMENTS), len(terms))
    keep = np.array(sorted(range(len(terms)), key=terms.__getitem__)[::2])  # every other term, in term order
    kept = [terms[k] for k in keep]
    vectorizer.adopt(kept, np.bincount(counts.indices, minlength=len(terms))[keep], len(_DOCUMENTS))
    weighed = vectorizer.weigh(counts[:, keep])
    expected = reference.set_params(vocabulary=kept).fit_transform(_DOCUMENTS)
    assert vectorizer.vocabulary_ == reference.vocabulary_
    assert np.allclose(vectorizer.idf_, reference.idf_)
    assert np.allclose(weighed.toarray(), expected.toarray(), atol=1e-6)
    assert np.allclose(vectorizer.transform(_DOCUMENTS).toarray(), expected.toarray(), atol=1e-6)  # and so predicts


def test_char_ngrams_are_sklearns():
    ours = build_features().transformer_list[1][1].build_analyzer()
    theirs = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).build_analyzer()
    for text in [*_DOCUMENTS, "ab abc abcd abcde x", " \t\n voogd\n\nkind  ", "één kind, twéé voogden"]:
        assert ours(text) == theirs(text)


def test_shared_terms_need_several_askers_or_a_pseudo_question():
    vectorizer = build_features().transformer_list[0][1]
    counts, terms = vectorizer.count(["voogd anna", "voogd anna", "voogd piet", "ots"])
    keep = shared_terms(counts[:3], ["a", "a", "b"], 2)  # three texts of two askers
    assert sorted(terms[k] for k in np.flatnonzero(keep)) == ["voogd"]  # anna: one asker twice
    keep = shared_terms(counts, ["a", "a", "b"], 2)  # the fourth document is a pseudo-question
    assert sorted(terms[k] for k in np.flatnonzero(keep)) == ["ots", "voogd"]


def test_the_documents_matrix_is_what_the_fitted_features_make(small, seed_terms):
    texts = [e.text for e in small]
    askers = [f"asker-{n % 20}" for n in range(len(texts))]
    estimator = build_estimator("theme", seed_terms=seed_terms)
    documents = estimator.documents(texts, askers)
    made = documents.features.transform([normalise(t) for t in texts])
    assert documents.matrix.shape[0] == len(texts) + len(documents.seed_labels)
    assert np.allclose(documents.matrix[: len(texts)].toarray(), made.toarray(), atol=1e-6)
    for _, vectorizer in documents.features.transformer_list:
        assert list(vectorizer.vocabulary_) == sorted(vectorizer.vocabulary_)  # columns in term order


def test_train_fits_the_features_once_for_every_target(small, seed_terms):
    model = train(small, seed_terms=seed_terms)
    features = {id(estimator.features_) for estimator in model.estimators.values()}
    assert len(model.estimators) == 3 and len(features) == 1
