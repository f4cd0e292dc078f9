"""`train` and `evaluate`: the labelled data the rules accept, and what the scores cover."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

import rules
from bot.cli.commands import main
from bot.message import Message, Triage
from bot.triage.pipeline import Context, Directory, classify_stage
from bot.triage.training import read_labelled
from classifiers import DataError, Prediction, normalise
from tests.paths import FIXTURES, SAMPLE

SMALL = FIXTURES / "labelled-small.jsonl"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def _line(**record) -> str:
    return json.dumps({"subject": "Vraag", "body": "Over de voogdij.", "theme": "voogdij", **record}) + "\n"


def test_unknown_theme_or_organisation_names_file_line_and_key(tmp_path):
    ruleset = rules.load_ruleset(rules.DEFAULT_FOLDER)
    path = tmp_path / "labels.jsonl"
    path.write_text(_line() + _line(theme="asiel"), "utf-8")
    with pytest.raises(DataError, match=r"labels.jsonl:2: key 'theme': unknown theme 'asiel'$"):
        read_labelled(path, ruleset=ruleset)
    path.write_text(_line(organisation="IND") + "\n" + _line(organisation="COA"), "utf-8")
    with pytest.raises(DataError, match=r"labels.jsonl:3: key 'organisation': unknown organisation 'COA'$"):
        read_labelled(path, ruleset=ruleset)
    assert len(read_labelled(path, ruleset=None)) == 2  # under --cross-validate: the file's own labels


def test_train_refuses_an_unknown_theme_in_one_line(tmp_path):
    data = tmp_path / "labels.jsonl"
    data.write_text(_line() + _line(theme="asiel"), "utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[classifier]\nmodels = "{tmp_path / "models"}"\n'
                      f'[routing]\ncontacts = "{SAMPLE / "contacts.csv"}"\n'
                      f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n', "utf-8")
    result = run("--config", str(config), "train", "--data", str(data))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"bvhk-triage: {data}:2: key 'theme': unknown theme 'asiel'"]


def test_the_text_trained_on_is_the_text_triage_predicts_on(tmp_path):
    # A mail and a line of labelled data with the same subject and question reach the
    # model as the same text.
    seen: list[str] = []

    class Recorder:
        version = "test"
        move_threshold = None

        def predict(self, text):
            seen.append(text)
            return {"theme": Prediction("voogdij", 0.9)}

    ruleset = rules.load_ruleset(rules.DEFAULT_FOLDER)
    message = Message(mailbox="ind", source_id="1", message_id="<1@x.example>", subject="Vraag over voogdij",
                      sender="a@rvdk.example", sender_name="A", question="Beste collega,\n\nWie wordt voogd?",
                      signature="Met vriendelijke groet,\nAnna\nRaadsonderzoeker")
    ctx = Context(mailbox="ind", mailbox_organisation="IND", ruleset=ruleset, model=Recorder(),
                  directory=Directory(contacts=[]), min_confidence=0.35, own_addresses=frozenset(),
                  already_seen=lambda _: False, today=date(2026, 3, 2))
    classify_stage(Triage(message), ctx)
    path = tmp_path / "labels.jsonl"
    # labelled data holds the whole body (signature included) and the sender's address
    path.write_text(_line(subject=message.subject, body=f"{message.question}\n\n{message.signature}",
                          **{"from": message.sender}), "utf-8")
    # (labelled data is redacted as it is read; the features, `normalise`, are the same text)
    assert [normalise(t) for t in seen] == [normalise(read_labelled(path, ruleset=ruleset)[0].text)]
    assert "[naam]" in normalise(seen[0]) and "anna" not in normalise(seen[0])


def test_evaluate_scores_the_active_model(tmp_path, models):
    config = tmp_path / "config.toml"
    config.write_text(f'[classifier]\nmodels = "{models}"\n'
                      f'[routing]\ncontacts = "{SAMPLE / "contacts.csv"}"\n'
                      f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n', "utf-8")
    result = run("--config", str(config), "evaluate", "--data", str(SAMPLE / "heldout.jsonl"), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {"n", "accuracy", "macro_f1", "abstained", "per_label", "learning_curve"} <= set(document)
    assert document["n"] == 92
    assert sum(row["support"] for row in document["per_label"].values()) == 92
    assert document["abstained"] < 92


def test_evaluate_cross_validate_trains_as_train_does(tmp_path):
    # Theme labels: each fold is trained with the seed terms, as `train` would deploy it
    # (tests/classifiers/test_evaluate.py shows what they change on these twelve questions).
    small = SMALL.read_text("utf-8").splitlines()
    few = tmp_path / "few.jsonl"
    few.write_text("\n".join(small[:12]) + "\n", "utf-8")
    result = run("evaluate", "--data", str(few), "--cross-validate", "3", "--json")
    assert result.exit_code == 0, result.output
    seeded = json.loads(result.stdout)
    assert {"n", "accuracy", "macro_f1", "abstained", "per_label", "learning_curve"} <= set(seeded)
    assert seeded["seed_terms"] is True and seeded["n"] == 12 and seeded["k"] == 3

    # Labels of its own (not themes): no seed pseudo-questions, which would be wrong answers.
    relabelled = tmp_path / "own.jsonl"
    relabelled.write_text("".join(json.dumps({**json.loads(line), "theme": "deel-" + str(i % 2)}) + "\n"
                                  for i, line in enumerate(small)), "utf-8")
    result = run("evaluate", "--data", str(relabelled), "--cross-validate", "3", "--json")
    assert result.exit_code == 0, result.output
    own = json.loads(result.stdout)
    assert own["seed_terms"] is False
    assert set(own["per_label"]) == {"deel-0", "deel-1"}
    assert all(point["n"] > 0 for point in own["learning_curve"])


def test_the_held_out_evidence_prefers_what_people_said():
    from bot.settings import Settings
    from bot.triage.training import _held_out
    from classifiers import Example

    ruleset = rules.load_ruleset(rules.DEFAULT_FOLDER)
    labelled = [Example(f"vraag {n}", {"theme": "voogdij"}) for n in range(10)]
    corrected = [Example(f"correctie {n}", {"theme": "strafrecht"}) for n in range(12)]
    train, heldout, evidence = _held_out(Settings(), labelled, corrected, ruleset=ruleset)
    assert [e.text for e in heldout] == ["correctie 10", "correctie 11"]  # the newest, by time
    assert len(train) == 20 and evidence == "de nieuwste 2 correcties"
    train, heldout, evidence = _held_out(Settings(), labelled, corrected[:3], ruleset=ruleset)
    assert [e.text for e in heldout] == ["vraag 4", "vraag 9"]  # too few corrections: every fifth example
    assert "gegenereerd: zegt weinig" in evidence
