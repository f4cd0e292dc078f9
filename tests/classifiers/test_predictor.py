"""Predicting from arrays: the scorer equals scikit-learn's own transform and predict_proba,
survives the disk, and is what the store hands the worker and `classify`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from classifiers import Example, ModelError, ModelStore, Predictor, TriageModel, train
from classifiers.predictor import Features, Scorer
from classifiers.text import normalise
from tests.classifiers.questions import EMPTY, UNSEEN
from tests.paths import ROOT

# Unseen questions, mail with nothing to go on, and text no model has seen the like of:
# nothing at all, punctuation only, one letter, words the vocabulary lacks, accents, digits.
TEXTS = [text for text, _ in UNSEEN] + EMPTY + [
    "", "?!", "a", "xyzzy quux", "Één ÅNGSTRÖM café-achtige coördinatie", "artikel 8 EVRM 2024 11-12",
    "Beste Anna,\n\nWij vragen ons af of de voogdij over de minderjarige bij Nidos ligt.\n\nMet vriendelijke groet,",
]


@pytest.fixture(scope="module")
def two_labels(small) -> TriageModel:
    """A model whose organisation target has two labels only (a logistic, not a softmax)."""
    binary = [Example(e.text, {"theme": e.labels["theme"], "organisation": "IND" if i % 2 else "DT&V"})
              for i, e in enumerate(small)]
    return train(binary)


def test_the_features_equal_scikit_learns_transform(small_model):
    features = small_model.estimators["theme"].features_
    prepared = [normalise(text) for text in TEXTS]
    theirs = features.transform(prepared).tocsr()
    ours = Features.of(features).transform(prepared)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    theirs.sort_indices()
    assert np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
    np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-6)


@pytest.mark.parametrize("fixture", ["small_model", "two_labels"])
def test_predictions_equal_each_estimators_own(fixture, request):
    model = request.getfixturevalue(fixture)
    scored = Scorer.of(model.estimators).predict_many(TEXTS)
    for target, estimator in model.estimators.items():
        theirs = estimator.predictions(TEXTS)
        probabilities = estimator.predict_proba(TEXTS)
        for row, (ours, their) in enumerate(zip((p[target] for p in scored), theirs)):
            assert (ours.label, ours.explanation) == (their.label, their.explanation), (target, TEXTS[row])
            assert [ours.probabilities[str(c)] for c in estimator.classes_] == pytest.approx(
                probabilities[row].tolist(), abs=1e-6)  # float32 features: noise


def test_targets_that_share_their_features_make_them_once(small_model):
    scorer = Scorer.of(small_model.estimators)
    assert [targets for _, targets in scorer.groups] == [list(small_model.targets)]


def test_a_temperature_calibrates_as_the_model_does(small_model):
    hot = {"theme": 3.0}
    scorer = Scorer.of(small_model.estimators)
    plain, calibrated = scorer.predict_many(TEXTS[:6]), scorer.predict_many(TEXTS[:6], temperatures=hot)
    for before, after in zip(plain, calibrated):
        assert after["theme"].label == before["theme"].label
        assert after["theme"].confidence < before["theme"].confidence
        assert after["organisation"] == before["organisation"]


def test_saved_and_loaded_it_predicts_the_same(small_model, two_labels, tmp_path):
    for n, model in enumerate((small_model, two_labels)):
        path = tmp_path / f"scorer{n}.npz"
        model.scorer().save(path)
        assert Scorer.load(path).predict_many(TEXTS) == model.scorer().predict_many(TEXTS)


def test_a_file_that_is_not_a_scorer_is_refused(tmp_path):
    path = tmp_path / "scorer.npz"
    path.write_bytes(b"PK\x03\x04 not a scorer")
    with pytest.raises((ValueError, OSError)):
        Scorer.load(path)


def test_the_store_hands_out_the_scorer_checked(small_model, tmp_path, theme_keys):
    store = ModelStore(tmp_path / "models")
    version = store.save(small_model, activate=True)
    predictor = store.load_predictor(expected_labels={"theme": theme_keys})
    assert isinstance(predictor, Predictor) and predictor.version == version
    assert predictor.label_sets == small_model.label_sets and predictor.targets == small_model.targets
    assert predictor.predict_many(TEXTS) == small_model.predict_many(TEXTS)
    with pytest.raises(ModelError, match="label set differs"):
        store.load_predictor(expected_labels={"theme": [*theme_keys, "nieuw-thema"]})
    scorer = tmp_path / "models" / version / "scorer.npz"
    scorer.write_bytes(scorer.read_bytes()[:-1] + b"x")
    with pytest.raises(ModelError, match=rf"{scorer}: file differs .*sha256"):
        store.load_predictor()


def test_a_version_stored_before_scorers_is_loaded_whole(small_model, tmp_path):
    store = ModelStore(tmp_path / "models")
    version = store.save(small_model, activate=True)
    folder = tmp_path / "models" / version
    (folder / "scorer.npz").unlink()
    metadata = json.loads((folder / "metadata.json").read_text("utf-8"))
    del metadata["scorer_sha256"]
    (folder / "metadata.json").write_text(json.dumps(metadata), "utf-8")
    loaded = store.load_predictor()
    assert isinstance(loaded, TriageModel) and loaded.predict_many(TEXTS) == small_model.predict_many(TEXTS)


def test_predicting_imports_no_scikit_learn(small_model, tmp_path):
    # `classify` and the worker load the scorer; scikit-learn and skops (a second to import,
    # more than the rest of `classify`) stay out of the process. A fresh process shows it.
    store = ModelStore(tmp_path / "models")
    store.save(small_model, activate=True)
    probe = ("import sys; from classifiers import ModelStore; "
             f"model = ModelStore({str(tmp_path / 'models')!r}).load_predictor(); "
             "print(model.predict('Wie wordt voogd van deze minderjarige?')['theme'].label); "
             "print(sorted(m for m in ('sklearn', 'skops') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.stdout.splitlines() == [small_model.predict("Wie wordt voogd van deze minderjarige?")["theme"].label,
                                          "[]"], result.stdout + result.stderr
