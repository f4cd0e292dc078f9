"""A poll parses and classifies its mail in batches, and decides exactly as one mail at a time
would: the same theme, organisation, person and status for every message, in the same order."""

from __future__ import annotations

from sqlmodel import select

import bot.service.worker
from bot.service.worker import Runtime, poll
from bot.settings import load_settings
from classifiers import Predictor
from storage.db import unit_of_work
from storage.models import Question
from tests.reliability.harness import deliver_to_maildir, maildir_box, make_maildir, sample_messages, write_config

MESSAGES = sample_messages(70, tag="batch")


def _poll_once(folder, models, monkeypatch, *, batch: int) -> dict:
    monkeypatch.setattr(bot.service.worker, "BATCH", batch)
    maildir = make_maildir(folder / "mail" / "ind")
    deliver_to_maildir(maildir, MESSAGES)
    config = write_config(folder, url=f"sqlite:///{folder / 'db.sqlite3'}", models=models, smtp_port=None,
                          mailboxes=[maildir_box("ind", maildir)])
    runtime = Runtime.start(load_settings(config))
    report = poll(runtime)
    assert report.fetched == len(MESSAGES) and not report.failed and not report.errors
    with unit_of_work(runtime.engine) as session:
        rows = session.exec(select(Question)).all()
        decided = {q.message_id: (q.verdict, q.theme, q.organisation, q.asking_organisation, q.region, q.assignee,
                                  q.status, round(q.theme_confidence or 0, 6)) for q in rows}
    runtime.engine.dispose()
    return decided


def test_batches_decide_as_one_at_a_time_does(tmp_path, models, monkeypatch):
    asked: list[int] = []
    real = Predictor.predict_many

    def counting(self, texts):
        asked.append(len(texts))
        return real(self, texts)

    monkeypatch.setattr(Predictor, "predict_many", counting)
    one_by_one = _poll_once(tmp_path / "one", models, monkeypatch, batch=1)
    assert asked == [1] * len(MESSAGES)
    asked.clear()
    batched = _poll_once(tmp_path / "batched", models, monkeypatch, batch=32)
    assert asked == [32, 32, 6]  # the model is asked once per batch, never per mail
    assert batched == one_by_one
    assert sum(verdict == "question" for verdict, *_ in batched.values()) > 30


def test_a_batch_the_model_fails_on_is_prepared_mail_by_mail(tmp_path, models, monkeypatch, caplog):
    real = Predictor.predict_many

    def fails_on_batches(self, texts):
        if len(texts) > 1:
            raise MemoryError("te groot")
        return real(self, texts)

    monkeypatch.setattr(Predictor, "predict_many", fails_on_batches)
    decided = _poll_once(tmp_path, models, monkeypatch, batch=32)
    assert len(decided) == len(MESSAGES)
    assert caplog.text.count("prepared one by one (MemoryError)") == 3
