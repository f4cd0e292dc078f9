"""Labelled data: the one reader (its checks name file, line and key) and the data fingerprint."""

from __future__ import annotations

import json

import pytest

from classifiers import DataError, Example, question_text, read_examples, redact_question
from classifiers.examples import fingerprint


def _write(tmp_path, *records) -> object:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in records), "utf-8")
    return path


def test_reads_text_and_labels(labelled_small_path):
    examples = read_examples(labelled_small_path)
    record = json.loads(labelled_small_path.read_text("utf-8").splitlines()[0])
    domain = record["from"].rpartition("@")[2].lower()
    # redacted as it is read (here the signature's name), then joined as a mail is for triage
    assert "Marieke Bakker" in record["body"] and "Marieke Bakker" not in examples[0].text
    subject, body = redact_question(record["subject"], record["body"])
    assert examples[0].text == f"{subject}\n\n{body}".strip() + f"\n\nafzenderdomein {domain}"
    assert examples[0].labels == {t: record[t] for t in ("theme", "organisation", "asking_organisation")}
    assert len(examples) == 66


def test_training_text_is_joined_as_a_mail_is_for_triage(tmp_path):
    # The triage of a mail predicts on question_text(subject, question); labelled data must
    # give the model the same text for the same subject and body.
    path = _write(tmp_path, {"subject": "Vraag over OTS", "body": "Beste collega,\n\nMag dit?", "theme": "overig"})
    assert read_examples(path)[0].text == question_text("Vraag over OTS", "Beste collega,\n\nMag dit?")
    assert read_examples(path)[0].text == "Vraag over OTS\n\nBeste collega,\n\nMag dit?"


def test_optional_labels_and_other_keys(tmp_path):
    path = _write(tmp_path, {"subject": "", "body": "b", "theme": "voogdij", "organisation": None, "region": "Breda"},
                  "\n")
    assert read_examples(path) == [Example("b", {"theme": "voogdij"})]


@pytest.mark.parametrize(
    "line, message",
    [
        ("not json\n", r"data.jsonl:2: not valid JSON \(Expecting value\)$"),
        ('["a list"]\n', r"data.jsonl:2: expected a JSON object$"),
        ('{"subject": "a", "theme": "voogdij"}\n', r"data.jsonl:2: key 'body' is missing or not text$"),
        ('{"subject": "a", "body": "b"}\n', r"data.jsonl:2: key 'theme' is missing or not text$"),
        ('{"subject": "a", "body": "b", "theme": "voogdij", "organisation": 3}\n',
         r"data.jsonl:2: key 'organisation' is missing or not text$"),
    ],
)
def test_a_bad_line_is_named(tmp_path, line, message):
    path = _write(tmp_path, {"subject": "a", "body": "b", "theme": "voogdij"}, line)
    with pytest.raises(DataError, match=message):
        read_examples(path)


def test_labels_outside_the_allowed_ones_are_named(tmp_path):
    path = _write(tmp_path, {"subject": "a", "body": "b", "theme": "voogdij", "organisation": "IND"},
                  {"subject": "a", "body": "b", "theme": "voogdij", "organisation": "COA"})
    labels = {"theme": ["voogdij"], "organisation": ["IND", "DT&V", "RvdK"]}
    with pytest.raises(DataError, match=r"data.jsonl:2: key 'organisation': unknown organisation 'COA'$"):
        read_examples(path, labels=labels)
    with pytest.raises(DataError, match=r"data.jsonl:1: key 'theme': unknown theme 'voogdij'$"):
        read_examples(path, labels={"theme": ["strafrecht"]})
    assert len(read_examples(path)) == 2  # without label sets any label goes


def test_unreadable_files(tmp_path):
    with pytest.raises(DataError, match=r"missing.jsonl: file not found$"):
        read_examples(tmp_path / "missing.jsonl")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"subject": "café"}'.encode("latin-1"))
    with pytest.raises(DataError, match=r"latin.jsonl: not UTF-8 text$"):
        read_examples(latin)


def test_fingerprint_ignores_order_but_not_labels(small):
    assert fingerprint(small) == fingerprint(list(reversed(small)))
    changed = [Example(small[0].text, {**small[0].labels, "theme": "overig"}), *small[1:]]
    assert fingerprint(changed) != fingerprint(small)
    assert fingerprint(small, {"voogdij": ["voogd"]}) != fingerprint(small)
