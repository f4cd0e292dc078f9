"""Scores on the hand-written questions (tests/fixtures/handwritten): text the model was not
built on. Not a test: figures for the issue notes.

    .venv/bin/python bench/handwritten.py [--json]

Trains the model `train` would deploy on the sample's labelled questions (generated) with
the packaged rules (its threshold for moving a question away from its mailbox tuned on
every fifth of them, as `train` does without corrections), then runs every hand-written question through the real pipeline stages
(parse, screen, classify) as if it arrived in the mailbox it was sent to, and reports:
- theme accuracy and macro-F1;
- answering organisation: the model's own first choice, "the arrival mailbox answers", and
  what the pipeline decides (the stored organisation), each as accuracy; with the moves
  away from the mailbox and how many were right;
- asking organisation accuracy;
- calibration: the theme's temperature fitted on the first set (written by a person, as
  corrections would be), and the calibration error on the frozen set before and after.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import rules  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.triage.context import Context, Directory  # noqa: E402
from bot.triage.pipeline import classify_stage, model_text  # noqa: E402
from bot.ingest.parse import parse_message  # noqa: E402
from bot.message import Triage  # noqa: E402
from bot.triage.training import retrain  # noqa: E402
from classifiers import Example, ModelStore  # noqa: E402
from classifiers.evaluate import calibrate, calibration_error, macro_f1  # noqa: E402

SETS = {  # questions.jsonl informed the seed phrases of themes.toml; frozen.jsonl was written after, never tuned on
    "tuned": ROOT / "tests" / "fixtures" / "handwritten" / "questions.jsonl",
    "frozen": ROOT / "tests" / "fixtures" / "handwritten" / "frozen.jsonl",
}
MAILBOX_OF = {"ind": "IND", "dtv": "DT&V", "rvdk": "RvdK"}


def as_mail(record: dict, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = record["from"]
    msg["To"] = f"bvhk@{record['mailbox']}.example"
    msg["Subject"] = record["subject"]
    msg["Date"] = "Mon, 16 Nov 2026 10:00:00 +0100"
    msg["Message-ID"] = f"<handwritten-{n}@test.example>"
    msg.set_content(record["body"])
    return msg.as_bytes()


def measure() -> dict:
    with tempfile.TemporaryDirectory() as models:
        settings = Settings.model_validate({
            "classifier": {"training_data": str(ROOT / "bot" / "sample" / "labelled.jsonl"), "models": models},
            "mailboxes": [{"kind": "maildir", "name": box, "organisation": organisation, "address": f"bvhk@{box}.example",
                           "path": models} for box, organisation in MAILBOX_OF.items()],
        })
        ruleset = rules.load_ruleset(rules.DEFAULT_FOLDER)
        retrain(settings, ruleset=ruleset, engine=None)  # as `train` does: the move threshold tuned on held-out data
        model = ModelStore(models).load()
    result = {name: score(model, ruleset, settings, path) for name, path in SETS.items()}
    return result | {"calibration": calibration(model)}


def examples(path: Path) -> list[Example]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(model_text(parse_message(as_mail(r, n), mailbox=r["mailbox"], source_id=str(n))),
                    {"theme": r["theme"]}) for n, r in enumerate(records)]


def calibration(model) -> dict:
    """Fitted on the tuned set (43 questions), scored on the frozen set (20) it never saw."""
    found = calibrate(model, examples(SETS["tuned"]))
    frozen = examples(SETS["frozen"])
    truth = [e.labels["theme"] for e in frozen]
    before = calibration_error([p["theme"] for p in model.predict_many([e.text for e in frozen])], truth)
    model.temperatures = {"theme": found["theme"]["temperature"]} if "theme" in found else {}
    after = calibration_error([p["theme"] for p in model.predict_many([e.text for e in frozen])], truth)
    return {"temperature": model.temperatures.get("theme"), "frozen_calibration_error": {"before": before, "after": after}}


def score(model, ruleset, settings, path: Path) -> dict:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    theme_truth, theme_guess, asked_truth, asked_guess = [], [], [], []
    org = {"model": 0, "mailbox": 0, "pipeline": 0, "moves": 0, "moves_right": 0, "wrong_mailbox": 0}
    for n, record in enumerate(records):
        box = record["mailbox"]
        ctx = Context(mailbox=box, mailbox_organisation=MAILBOX_OF[box], ruleset=ruleset, model=model,
                      directory=Directory(contacts=[]), min_confidence=settings.classifier.min_confidence,
                      own_addresses=frozenset(), already_seen=lambda _m: False, today=date(2026, 11, 16))
        message = parse_message(as_mail(record, n), mailbox=box, source_id=str(n))
        triage = classify_stage(Triage(message=message), ctx)
        cls = triage.classification
        raw = model.predict(model_text(message))
        truth = record["organisation"]
        theme_truth.append(record["theme"])
        theme_guess.append(cls.theme.label)
        asked_truth.append(record["asking_organisation"])
        asked_guess.append(cls.asking_organisation.label)
        org["model"] += raw["organisation"].label == truth
        org["mailbox"] += MAILBOX_OF[box] == truth
        org["pipeline"] += cls.organisation.label == truth
        org["wrong_mailbox"] += MAILBOX_OF[box] != truth
        if cls.organisation.label != MAILBOX_OF[box]:
            org["moves"] += 1
            org["moves_right"] += cls.organisation.label == truth
    n = len(records)
    return {
        "questions": n,
        "move_threshold": model.move_threshold,
        "theme_accuracy": round(sum(t == g for t, g in zip(theme_truth, theme_guess)) / n, 3),
        "theme_macro_f1": round(macro_f1(theme_truth, theme_guess), 3),
        "organisation_accuracy": {k: round(org[k] / n, 3) for k in ("model", "mailbox", "pipeline")},
        "organisation_moves": {"moves": org["moves"], "right": org["moves_right"], "wrong_mailbox": org["wrong_mailbox"]},
        "asking_accuracy": round(sum(t == g for t, g in zip(asked_truth, asked_guess)) / n, 3),
        "theme_errors": [(t, g) for t, g in zip(theme_truth, theme_guess) if t != g],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    result = measure()
    if parser.parse_args().json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for name, figures in result.items():
            print(f"== {name}")
            for key, value in figures.items():
                print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
