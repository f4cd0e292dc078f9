"""Scores, cross-validation, the learning curve and the promotion rule."""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from classifiers import Example, cross_validate, evaluate, learning_curve, should_promote, train
from classifiers.evaluate import scores
from tests.classifiers.questions import EMPTY, UNSEEN


def test_scores_by_hand():
    result = scores(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert result["n"] == 4
    assert result["accuracy"] == 0.75
    assert result["per_label"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert result["per_label"]["b"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2, abs=1e-4)


def test_macro_f1_counts_the_labels_of_the_data():
    # 'c' is predicted but never true: it costs precision of nothing and adds no zero.
    result = scores(["a", "a"], ["a", "c"])
    assert result["per_label"]["c"]["support"] == 0
    assert result["macro_f1"] == pytest.approx(2 / 3, abs=1e-4)


def test_evaluate_reports_what_the_contract_promises(small_model, small):
    result = evaluate(small_model, small, threshold=0.0)
    assert {"n", "accuracy", "macro_f1", "abstained", "per_label", "targets"} <= set(result)
    assert result["n"] == len(small) == 66
    assert sum(row["support"] for row in result["per_label"].values()) == 66
    assert set(result["per_label"]["voogdij"]) == {"precision", "recall", "f1", "support"}
    assert result["abstained"] == 0
    assert set(result["targets"]) == {"theme", "organisation", "asking_organisation"}
    assert result["targets"]["organisation"]["n"] == 66


def test_evaluate_counts_abstentions(small_model):
    # The clear questions are answered (and rightly); the mails with nothing to go on are
    # left to a person.
    examples = [Example(text, {"theme": theme}) for text, theme in UNSEEN] + [
        Example(text, {"theme": "overig"}) for text in EMPTY]
    result = evaluate(small_model, examples, threshold=0.5)
    assert result["n"] == 11
    assert result["abstained"] == len(EMPTY)
    assert result["answered_accuracy"] == 1.0
    assert evaluate(small_model, examples, threshold=1.01)["abstained"] == 11


def test_evaluate_scores_a_wrong_model_low(small, seed_terms):
    # Trained with the themes of the first half shuffled onto other texts: must score poorly.
    shifted = [Example(e.text, {"theme": small[(i + 7) % len(small)].labels["theme"]}) for i, e in enumerate(small)]
    model = train(shifted)
    assert evaluate(model, small, threshold=0.5)["macro_f1"] < 0.5


def test_cross_validate_on_the_fixture(small):
    result = cross_validate(small, 3)
    assert result["k"] == 3 and len(result["fold_macro_f1"]) == 3
    assert result["n"] == 66
    assert result["macro_f1"] > 0.6
    assert {"accuracy", "per_label", "abstained"} <= set(result)
    assert result["seed_terms"] is False


def test_cross_validate_with_the_seed_terms_scores_what_train_deploys(small, seed_terms):
    # Twelve questions, ten of one theme and two of another, three folds: trained without
    # the seed terms a fold hardly knows the second theme; with them (as deployed) it does.
    few = small[:12]
    seeded = cross_validate(few, 3, seed_terms=seed_terms)
    bare = cross_validate(few, 3)
    assert seeded["seed_terms"] is True
    assert seeded["macro_f1"] > bare["macro_f1"]
    assert seeded["per_label"]["gezag-en-omgang"]["recall"] == 1.0  # both found
    assert bare["per_label"]["gezag-en-omgang"]["recall"] == 0.0  # neither found


def test_cross_validate_counts_abstentions(small):
    unsure = cross_validate(small, 3, threshold=1.01)
    assert unsure["abstained"] == 66 and unsure["answered_accuracy"] == 0.0
    sure = cross_validate(small, 3, threshold=0.0)
    assert sure["abstained"] == 0 and sure["answered_accuracy"] == sure["accuracy"]


def test_cross_validate_takes_any_labels(small):
    # The file's own labels, whatever they are: here the asking organisation under 'theme'.
    relabelled = [Example(e.text, {"theme": "vraag-van-" + e.labels["asking_organisation"]}) for e in small]
    result = cross_validate(relabelled, 3)
    assert set(result["per_label"]) == {"vraag-van-" + e.labels["asking_organisation"] for e in small}
    counts = {label: row["support"] for label, row in result["per_label"].items()}
    rare = sorted(label for label, n in counts.items() if n < 3)
    assert result.get("warning") == (f"fewer than 3 examples for: {', '.join(rare)}" if rare else None)
    assert "warning" in cross_validate(relabelled[:20] + [Example("los", {"theme": "eenmalig"})] * 2, 3)


def test_cross_validate_other_target_and_baseline(small):
    organisation = cross_validate(small, 3, target="organisation")
    assert set(organisation["per_label"]) == {"IND", "DT&V", "RvdK"}
    baseline = cross_validate(small, 3, estimator=make_pipeline(TfidfVectorizer(), LogisticRegression()))
    assert baseline["n"] == 66
    assert cross_validate(small, 3)["macro_f1"] > baseline["macro_f1"]


def test_cross_validate_refuses_a_bad_k(small):
    with pytest.raises(ValueError, match="2 <= k"):
        cross_validate(small, 1)
    with pytest.raises(ValueError, match="2 <= k"):
        cross_validate(small[:5], 6)


def test_learning_curve(small, seed_terms):
    curve = learning_curve(small, [10, 30, 49, 500])
    assert [point["n"] for point in curve] == [10, 30, 49]  # 500 is more than there is
    assert curve[-1]["macro_f1"] > curve[0]["macro_f1"]
    cold = learning_curve(small, [0, 10], seed_terms=seed_terms)
    assert cold[0]["n"] == 0 and cold[0]["macro_f1"] > 0.5  # the seed terms alone


def test_should_promote():
    assert should_promote({"macro_f1": 0.8}, None)
    assert should_promote({"macro_f1": 0.8}, {"n_train": 10})  # nothing measured to beat
    assert should_promote({"macro_f1": 0.8}, {"macro_f1": 0.8})
    assert should_promote({"macro_f1": 0.81}, {"macro_f1": 0.8})
    assert not should_promote({"macro_f1": 0.79}, {"macro_f1": 0.8})
    assert not should_promote({"n_train": 10}, {"macro_f1": 0.8})
    same = {"data_fingerprint": "abc"}
    assert should_promote({"macro_f1": 0.9, **same}, {"macro_f1": 0.8, **same})
    with pytest.raises(ValueError, match="different held-out data"):
        should_promote({"macro_f1": 0.9, "data_fingerprint": "abc"}, {"macro_f1": 0.8, "data_fingerprint": "xyz"})


def test_promotion_with_evaluate_on_the_same_data(small, seed_terms):
    # Both models are scored on questions neither trained on: the candidate learnt from
    # two thirds of the set and the seed terms, the active one from twelve questions of
    # two themes.
    heldout = small[::3]
    rest = [e for i, e in enumerate(small) if i % 3]
    candidate = evaluate(train(rest, seed_terms=seed_terms), heldout, threshold=0.5)
    active = evaluate(train(rest[:12]), heldout, threshold=0.5)
    assert candidate["macro_f1"] > active["macro_f1"] + 0.3
    assert should_promote(candidate, active)
    assert not should_promote(active, candidate)
