"""The triage model: training, prediction, explanation, cold start and learning from corrections."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sklearn.base import clone

from classifiers import Example, LabelError, Prediction, QuestionClassifier, abstains, train
from tests.classifiers.questions import UNSEEN


def test_fixture_is_a_usable_labelled_set(small, theme_keys):
    assert len(small) == 66
    themes = Counter(example.labels["theme"] for example in small)
    assert set(themes) <= set(theme_keys)
    assert len(themes) == 8
    assert {example.labels["organisation"] for example in small} == {"IND", "DT&V", "RvdK"}


def test_trains_one_estimator_per_target(small_model, theme_keys):
    assert small_model.targets == ("theme", "organisation", "asking_organisation")
    assert small_model.label_sets["theme"] == tuple(theme_keys)
    assert small_model.label_sets["organisation"] == ("DT&V", "IND", "RvdK")
    assert small_model.n_examples == 66
    for target, estimator in small_model.estimators.items():
        assert isinstance(estimator, QuestionClassifier)
        assert sorted(estimator.classes_) == sorted(small_model.label_sets[target])
        copy = clone(estimator)  # an estimator scikit-learn can copy: same settings, nothing learned
        assert copy.get_params() == estimator.get_params()
        assert not hasattr(copy, "classes_")


def test_only_the_theme_learns_from_the_seed_terms(small, seed_terms):
    # Ten questions of two themes: the seed terms give the theme all eight labels, while the
    # organisations know only their own labels (the seed terms shape their features only).
    model = train(small[:10], seed_terms=seed_terms)
    assert sorted(model.estimators["theme"].classes_) == sorted(seed_terms)
    assert set(model.estimators["organisation"].classes_) == {e.labels["organisation"] for e in small[:10]}


@pytest.mark.parametrize("text, theme", UNSEEN)
def test_predicts_the_theme_of_unseen_questions(small_model, text, theme):
    prediction = small_model.predict(text)["theme"]
    assert prediction.label == theme
    assert 0.0 < prediction.confidence <= 1.0


def test_predicts_every_target(small_model):
    predictions = small_model.predict("Kan de Raad adviseren over de omgang? Groet, Henk (IND)")
    assert set(predictions) == {"theme", "organisation", "asking_organisation"}
    assert predictions["organisation"].label in {"IND", "DT&V", "RvdK"}


def test_predict_many_equals_predict(small_model):
    texts = [text for text, _ in UNSEEN]
    assert small_model.predict_many(texts) == [small_model.predict(text) for text in texts]
    assert small_model.predict_many([]) == []


def test_explanation_terms_appear_in_the_input(small_model):
    for text, _ in UNSEEN:
        for target, prediction in small_model.predict(text).items():
            assert len(prediction.explanation) <= 5
            for term in prediction.explanation:  # whole words of the text, not pieces of words
                assert re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text.lower()), (target, term)
        assert small_model.predict(text)["theme"].explanation, text


def test_explanation_names_the_telling_terms(small_model):
    explanation = small_model.predict(UNSEEN[3][0])["theme"].explanation
    assert {"voogd", "alleenstaande", "minderjarige"} & set(explanation)
    assert not {"wie", "een", "die"} & set(explanation)  # function words never explain


def test_explanation_never_shows_personal_data(small_model):
    text = "Beste Anna,\nDe voogdij over Ahmed, BSN 111222333, ligt bij Nidos.\nGroet,\nJoost de Vries"
    explanation = small_model.predict(text)["theme"].explanation
    assert explanation
    assert not {"anna", "joost", "vries", "111222333", "bsn", "naam"} & set(explanation)


def test_the_model_labels_as_each_estimator_would_alone(small, seed_terms):
    # The targets fit their features on the same documents, so the model makes a text's
    # features once for all of them; it must predict what each estimator predicts alone.
    # The first example lacks an asking organisation (as a correction does): it still
    # shapes that target's features, so they stay equal to the others'.
    first = Example(small[0].text, {k: v for k, v in small[0].labels.items() if k != "asking_organisation"})
    model = train([first, *small[1:]], seed_terms=seed_terms)
    texts = [text for text, _ in UNSEEN]
    together = model.predict_many(texts)
    for target, estimator in model.estimators.items():
        alone = estimator.predictions(texts)
        assert [(p[target].label, p[target].explanation) for p in together] == [
            (p.label, p.explanation) for p in alone], target
        assert [p[target].confidence for p in together] == pytest.approx([p.confidence for p in alone], abs=1e-6)
    assert [targets for _, targets in model.scorer().groups] == [list(model.targets)]


def test_abstains_below_the_threshold():
    assert abstains(Prediction("voogdij", 0.4), 0.5)
    assert not abstains(Prediction("voogdij", 0.5), 0.5)
    assert abstains(None, 0.0)


def test_unknown_label_names_the_example_index(small, theme_keys):
    examples = [*small[:3], Example("Vraag over iets", {"theme": "onbekend-thema"}), *small[3:]]
    with pytest.raises(LabelError) as caught:
        train(examples, labels={"theme": theme_keys})
    assert caught.value.index == 3
    assert "example 3" in str(caught.value) and "onbekend-thema" in str(caught.value)


def test_unknown_label_passes_without_a_label_set(small):
    examples = [*small, Example("Iets heel anders", {"theme": "nieuw-thema"})]
    model = train(examples)
    assert "nieuw-thema" in model.label_sets["theme"]


def test_target_with_one_class_is_skipped(small):
    examples = [Example(e.text, {**e.labels, "organisation": "IND"}) for e in small]
    model = train(examples)
    assert "organisation" not in model.targets
    assert "theme" in model.targets


def test_no_data_no_seeds_gives_an_empty_model():
    model = train([])
    assert model.targets == ()
    assert model.predict("Vraag") == {}


def test_cold_start_from_seed_terms_only(seed_terms, theme_keys):
    model = train([], labels={"theme": theme_keys}, seed_terms=seed_terms)
    assert model.targets == ("theme",)
    assert model.label_sets["theme"] == tuple(theme_keys)
    prediction = model.predict("Het gaat om een ondertoezichtstelling en een machtiging uithuisplaatsing")["theme"]
    assert prediction.label == "kinderbeschermingsmaatregelen"
    assert prediction.confidence > 0.5
    assert {"ondertoezichtstelling", "uithuisplaatsing"} <= set(prediction.explanation)
    hits = sum(model.predict(text)["theme"].label == theme for text, theme in UNSEEN)
    assert hits >= 5, hits


def test_seed_terms_for_an_unknown_theme_are_refused(seed_terms):
    with pytest.raises(ValueError, match="seed terms for unknown theme"):
        train([], labels={"theme": ["voogdij"]}, seed_terms=seed_terms)


def test_seed_terms_weigh_less_as_real_questions_accumulate(seed_terms):
    # 'overdracht' is a seed term of dublin-en-nareis; in this (made-up) office it is the
    # hand-over of a child-protection case, a kinderbeschermingsmaatregelen question.
    contexts = ["van het kind naar de jeugdzorg", "van het dossier aan de gezinsvoogd", "van de zorg aan de gemeente",
                "aan een nieuwe jeugdbeschermer", "van de casus na de verhuizing", "van de begeleiding aan een GI"]

    def theme_after(n: int) -> str:
        examples = [Example(f"Vraag {i}: de overdracht {contexts[i % 6]}", {"theme": "kinderbeschermingsmaatregelen"})
                    for i in range(n)]
        return train(examples, seed_terms=seed_terms).predict("Wanneer is de overdracht?")["theme"].label

    assert theme_after(1) == "dublin-en-nareis"
    assert theme_after(30) == "kinderbeschermingsmaatregelen"


def test_a_few_real_questions_do_not_push_mail_away_from_the_seed_themes(small, seed_terms):
    # Ten real questions of two themes; whole mails of the six other themes must still find
    # their theme through the seed terms, greetings and signatures notwithstanding.
    few = [e for e in small if e.labels["theme"] in ("voogdij", "strafrecht")][:10]
    others = [e for e in small if e.labels["theme"] not in ("voogdij", "strafrecht")]
    model = train(few, seed_terms=seed_terms)
    predictions = model.predict_many([e.text for e in others])
    hits = sum(p["theme"].label == e.labels["theme"] for p, e in zip(predictions, others))
    assert hits >= 42, f"{hits} of {len(others)}"


def test_a_correction_changes_the_next_prediction(small, seed_terms, theme_keys):
    labels = {"theme": theme_keys}
    question = "Wanneer komt de uitslag van de leeftijdsschouw? Wij wachten al lang op bericht."
    control = "De tante wil voogd worden van de alleenstaande minderjarige."
    before = train(small, labels=labels, seed_terms=seed_terms)
    assert before.predict(question)["theme"].label == "voogdij"

    corrections = [
        Example("Wat is de stand van zaken van de leeftijdsschouw? De uitslag laat lang op zich wachten.",
                {"theme": "overig"}),
        Example("Hoe lang duurt de uitslag van een leeftijdsschouw? Wij wachten al weken.", {"theme": "overig"}),
        Example("Is er al bericht over de uitslag van de leeftijdsschouw? Graag een update over de termijn.",
                {"theme": "overig"}),
        Example("Wij wachten op de uitslag van de leeftijdsschouw; wanneer komt er bericht?", {"theme": "overig"}),
    ]
    after = train([*small, *corrections], labels=labels, seed_terms=seed_terms)
    assert after.predict(question)["theme"].label == "overig"
    assert after.predict(control)["theme"].label == "voogdij"


def test_training_is_deterministic(small):
    first, second = train(small[:40]), train(small[:40])
    text = UNSEEN[0][0]
    assert first.predict(text) == second.predict(text)
    assert first.data_fingerprint == second.data_fingerprint


def test_a_name_one_asker_repeats_is_no_feature_and_no_explanation(small, seed_terms):
    # A parent writes twenty times about her child, by name and in lower case, which no
    # redaction pattern finds: the name occurs only in her questions, so no model keeps it.
    name = "zoë ouarzazi-vandermeulen"
    planted = [Example(f"Vraag {n} over {name}\n\nWat is de stand van de voogdij van {name}? Nidos weet het niet.",
                       {"theme": "voogdij", "organisation": "RvdK"}, asker="ouder@privé.example")
               for n in range(20)]
    model = train(small + planted, seed_terms=seed_terms)
    for target, estimator in model.estimators.items():
        assert "ouarzazi" not in estimator.frame_ and "vandermeulen" not in estimator.frame_
        for _, vectorizer in estimator.features_.transformer_list:
            kept = [t for t in vectorizer.vocabulary_ if "ouarz" in t or "vandermeul" in t or "rzazi" in t]
            assert kept == [], (target, kept[:5])
    asked = f"Hoe gaat het met de voogdij van {name}?"
    for prediction in model.predict(asked).values():
        assert not [t for t in prediction.explanation if "ouarzazi" in t or "vandermeulen" in t]
    # the same twenty questions from twenty askers do teach their words (the rule, not a filter)
    shared = [Example(e.text, e.labels, asker=f"asker{n}@example") for n, e in enumerate(planted)]
    words = train(small + shared, seed_terms=seed_terms).estimators["theme"].features_.transformer_list[0][1]
    assert "ouarzazi-vandermeulen" in words.vocabulary_
