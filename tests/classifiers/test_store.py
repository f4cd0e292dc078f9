"""The model store: skops round trip, metadata, refusals, activation and rollback."""

from __future__ import annotations

import json
import re
import shutil
import zipfile

import pytest
import sklearn
import skops.io
from sklearn.preprocessing import FunctionTransformer

from classifiers import ModelError, ModelStore, train
from classifiers.model import trusted_types
from classifiers.store import _sha256

QUESTION = "De tante wil voogd worden van een alleenstaande minderjarige."


@pytest.fixture()
def store(tmp_path) -> ModelStore:
    return ModelStore(tmp_path / "models")


@pytest.fixture(scope="module")
def second_model(small):
    return train(small[:40])


def _edit_metadata(store: ModelStore, version: str, **changes) -> None:
    path = store.root / version / "metadata.json"
    metadata = json.loads(path.read_text("utf-8"))
    metadata.update(changes)
    path.write_text(json.dumps(metadata), "utf-8")


def test_round_trip(store, small_model, theme_keys):
    version = store.save(small_model, {"macro_f1": 0.8})
    loaded = store.load(version, expected_labels={"theme": theme_keys})
    assert loaded.version == version
    assert loaded.targets == small_model.targets
    assert loaded.label_sets == small_model.label_sets
    assert loaded.data_fingerprint == small_model.data_fingerprint
    assert loaded.temperatures == small_model.temperatures
    assert loaded.predict_many([QUESTION, "Wie kan ik bellen?"]) == small_model.predict_many(
        [QUESTION, "Wie kan ik bellen?"]
    )


def test_metadata(store, small_model):
    version = store.save(small_model, {"macro_f1": 0.8, "n": 17})
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{4}-[0-9a-f]{8}", version)
    assert version.endswith(small_model.data_fingerprint[:8])
    metadata = store.metadata(version)
    assert metadata["sklearn_version"] == sklearn.__version__
    assert metadata["labels"]["organisation"] == ["DT&V", "IND", "RvdK"]
    assert metadata["data_fingerprint"] == small_model.data_fingerprint
    assert metadata["n_examples"] == 66
    assert metadata["metrics"] == {"macro_f1": 0.8, "n": 17}
    assert store.metrics(version) == {"macro_f1": 0.8, "n": 17}
    assert metadata["created"].startswith(version[:10])


def test_model_file_is_skops_not_pickle(store, small_model):
    version = store.save(small_model)
    path = store.root / version / "model.skops"
    assert zipfile.is_zipfile(path)
    assert "schema.json" in zipfile.ZipFile(path).namelist()
    # Beyond what skops trusts itself, the file holds only our estimator and vectorizer.
    ours = ["classifiers.estimator.QuestionClassifier", "classifiers.estimator.TermVectorizer"]
    assert skops.io.get_untrusted_types(file=path) == ours
    assert set(ours) <= set(trusted_types())


def test_saving_twice_gives_two_versions(store, small_model):
    first, second = store.save(small_model), store.save(small_model)
    assert first != second
    assert store.versions() == sorted([first, second])


def test_no_active_model(store, small_model):
    assert store.active_version() is None
    store.save(small_model)
    with pytest.raises(ModelError, match="no active model"):
        store.load()


def test_activate_and_load_the_active_one(store, small_model, second_model):
    first = store.save(small_model, activate=True)
    second = store.save(second_model)
    assert store.active_version() == first
    store.activate(second)
    assert store.active_version() == second
    assert store.load().version == second


def test_activate_an_unknown_version(store):
    with pytest.raises(ModelError, match="no such model version"):
        store.activate("2026-01-01T0000-deadbeef")


def test_rollback(store, small_model, second_model):
    first = store.save(small_model, activate=True)
    second = store.save(second_model, activate=True)
    assert store.rollback() == first
    assert store.active_version() == first
    assert store.load().version == first
    with pytest.raises(ModelError, match="no previously active model"):
        store.rollback()
    store.activate(second)
    assert store.rollback() == first


def test_refuses_another_sklearn_version(store, small_model):
    version = store.save(small_model, activate=True)
    _edit_metadata(store, version, sklearn_version="1.2.0")
    with pytest.raises(ModelError) as caught:
        store.load()
    message = str(caught.value)
    assert "metadata.json" in message and version in message
    assert "1.2.0" in message and sklearn.__version__ in message
    assert "\n" not in message


def test_refuses_a_different_label_set(store, small_model, theme_keys):
    version = store.save(small_model, activate=True)
    with pytest.raises(ModelError, match="theme label set differs: missing nieuw-thema") as caught:
        store.load(expected_labels={"theme": [*theme_keys, "nieuw-thema"]})
    assert str(store.root / version / "metadata.json") in str(caught.value)
    with pytest.raises(ModelError, match="unexpected voorlichting"):
        store.load(expected_labels={"theme": [k for k in theme_keys if k != "voorlichting"]})
    with pytest.raises(ModelError, match="has no region classifier"):
        store.load(expected_labels={"region": ["Breda"]})


def test_refuses_an_edited_label_set_in_a_copy(store, small_model, theme_keys, tmp_path):
    version = store.save(small_model, activate=True)
    copy = ModelStore(tmp_path / "copy")
    shutil.copytree(store.root, copy.root)
    _edit_metadata(copy, version, labels={"theme": theme_keys[:-1]})
    with pytest.raises(ModelError, match="label set differs"):
        copy.load(expected_labels={"theme": theme_keys})
    assert store.load(expected_labels={"theme": theme_keys}).version == version  # the original is fine


def test_refuses_a_replaced_model_file(store, small_model, second_model):
    version = store.save(small_model, activate=True)
    skops.io.dump(second_model.estimators, store.root / version / "model.skops")
    with pytest.raises(ModelError, match="differs from the one its metadata describes"):
        store.load()


def test_refuses_types_the_pipeline_never_uses(store, small_model):
    # Even with a matching checksum, a file holding a function (here: eval) is not loaded.
    version = store.save(small_model, activate=True)
    path = store.root / version / "model.skops"
    skops.io.dump({"theme": FunctionTransformer(eval)}, path)
    _edit_metadata(store, version, model_sha256=_sha256(path))
    with pytest.raises(ModelError, match=r"cannot load.*builtins\.eval"):
        store.load()


def test_refuses_a_file_that_does_not_hold_what_its_metadata_says(store, small_model, second_model):
    # A well-formed model file with a matching checksum, but the targets' estimators swapped.
    version = store.save(small_model, activate=True)
    path = store.root / version / "model.skops"
    estimators = small_model.estimators
    skops.io.dump({"theme": estimators["organisation"], "organisation": estimators["theme"]}, path)
    _edit_metadata(store, version, model_sha256=_sha256(path))
    with pytest.raises(ModelError, match="does not hold the fitted estimators its metadata describes"):
        store.load()


def test_refuses_a_model_of_the_former_format(store, small_model):
    # Models stored before the estimators (one shared FeatureUnion, no model_format) are
    # refused with a clear line, not loaded into something that fails later.
    version = store.save(small_model, activate=True)
    path = store.root / version / "metadata.json"
    metadata = json.loads(path.read_text("utf-8"))
    del metadata["model_format"]
    path.write_text(json.dumps(metadata), "utf-8")
    with pytest.raises(ModelError, match=r"metadata.json: model format 1, .* reads format 2; train again$"):
        store.load()


def test_unreadable_metadata(store, small_model):
    version = store.save(small_model, activate=True)
    (store.root / version / "metadata.json").write_text("{not json", "utf-8")
    with pytest.raises(ModelError, match="unreadable metadata"):
        store.load()


def test_versions_of_an_empty_store(store):
    assert store.versions() == []
    assert store.active_version() is None


def test_the_temperatures_are_stored_and_used(store, small, seed_terms):
    model = train(small, seed_terms=seed_terms)
    plain = model.predict(QUESTION)["theme"]
    model.temperatures = {"theme": 2.5}
    loaded = store.load(store.save(model))
    assert loaded.temperatures == {"theme": 2.5}
    calibrated = loaded.predict(QUESTION)["theme"]
    assert calibrated.label == plain.label and calibrated.confidence < plain.confidence
