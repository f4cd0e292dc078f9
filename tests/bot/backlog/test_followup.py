"""Reminders, escalations and reassignment: each at most once per question and step."""

from __future__ import annotations

import email
import json
import os
from datetime import date, datetime, timezone
from email import policy

import pytest
from sqlmodel import select

import rules
from bot.backlog.followup import plan, run_followups
from bot.settings import load_settings
from bot.service.worker import Runtime
from storage import repo
from storage.db import unit_of_work
from storage.models import AuditEntry, Question

from tests.paths import ROOT

MAILBOXES = {"ind": "IND"}
CONTACTS = ROOT / "tests" / "fixtures" / "e2e" / "contacts.csv"


def question(n: int, **fields) -> Question:
    base = dict(id=n, triage_id=f"f{n}", mailbox="ind", source_id=f"s{n}", message_id=f"<f{n}@x>",
                received_at=datetime(2026, 11, 2, 9, tzinfo=timezone.utc), subject="vraag [NAAM]",
                theme="voogdij", theme_confidence=0.9, organisation="IND", organisation_confidence=0.9,
                region="Den Haag", region_confidence=0.8, status="routed", assignee="a.bakker@ind.example",
                due_on=date(2026, 11, 16))
    return Question(**(base | fields))


@pytest.fixture(scope="module")
def ruleset():
    return rules.load_ruleset(ROOT / "rules" / "data")


@pytest.fixture(scope="module")
def contacts(ruleset):
    return rules.load_contacts(CONTACTS, ruleset)


def test_plan_reminds_the_working_day_before_and_escalates_after(ruleset, contacts):
    qs = [question(1, due_on=date(2026, 11, 16)),   # Monday: remind on Friday 13th
          question(2, due_on=date(2026, 11, 12)),   # passed: escalate
          question(3, due_on=date(2026, 11, 30)),   # far away: nothing
          question(4, due_on=date(2026, 11, 12), status="answered")]
    steps = plan(qs, contacts=contacts, absent=set(), ruleset=ruleset, open_counts={}, today=date(2026, 11, 13), mailbox_organisation=MAILBOXES)
    assert [(s.question_id, s.purpose, s.recipient) for s in steps] == [
        (1, "reminder", "a.bakker@ind.example"),
        (2, "escalation", "coordinatie@ind.example"),
    ]


def test_reminder_before_a_holiday_weekend_comes_on_the_last_working_day(ruleset, contacts):
    # due Monday 28 December 2026: Christmas (25th, 26th) and the weekend lie before it
    q = question(1, due_on=date(2026, 12, 28))
    assert plan([q], contacts=contacts, absent=set(), ruleset=ruleset, open_counts={}, today=date(2026, 12, 23), mailbox_organisation=MAILBOXES) == []
    steps = plan([q], contacts=contacts, absent=set(), ruleset=ruleset, open_counts={}, today=date(2026, 12, 24), mailbox_organisation=MAILBOXES)
    assert [s.purpose for s in steps] == ["reminder"]


def test_absent_assignee_is_replaced_by_a_colleague_in_the_region(ruleset, contacts):
    steps = plan([question(1, due_on=date(2026, 12, 30))], contacts=contacts, absent={"a.bakker@ind.example"},
                 ruleset=ruleset, open_counts={}, today=date(2026, 11, 13), mailbox_organisation=MAILBOXES)
    assert [(s.purpose, s.recipient) for s in steps] == [("reassign", "b.smit@ind.example")]
    assert "afwezig" in steps[0].reason


def test_run_followups_stores_and_sends_each_step_once(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///db.sqlite3"\n[routing]\ncontacts = "{CONTACTS}"\n'
        f'[delivery]\nkind = "outbox"\npath = "outbox"\nfrom = "bvhk-triage@bvhk.example"\n'
        f'[classifier]\nmodels = "models"\n', encoding="utf-8")
    runtime = Runtime.start(load_settings(config))
    with unit_of_work(runtime.engine) as session:
        session.add(question(1, due_on=date(2026, 11, 16)))
        session.add(question(2, due_on=date(2026, 11, 12)))
        session.add(question(3, due_on=date(2026, 12, 30), assignee="b.smit@ind.example"))
        repo.add_absence(session, email="b.smit@ind.example", start=date(2026, 11, 13), end=date(2026, 11, 20))
    first = run_followups(runtime, today=date(2026, 11, 13))
    assert (first["reminder"], first["escalation"], first["reassign"], first["delivered"]) == (1, 1, 1, 3)
    second = run_followups(runtime, today=date(2026, 11, 13))
    assert (second["reminder"], second["escalation"], second["reassign"], second["delivered"]) == (0, 0, 0, 0)

    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
             for p in sorted((tmp_path / "outbox").glob("*/new/*"))]
    assert sorted(m["To"] for m in mails) == ["a.bakker@ind.example", "a.bakker@ind.example", "coordinatie@ind.example"]
    for m in mails:
        assert m["X-BvhK-Triage"] and m["X-BvhK-Triage-Original"]
        assert "bewust geen onderwerp of inhoud" in m.get_content() and "Onderwerp" not in m.get_content()
    with unit_of_work(runtime.engine) as session:
        moved = session.get(Question, 3)
        assert (moved.status, moved.assignee) == ("reassigned", "a.bakker@ind.example")
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "question:reassign")).all()
        assert [a.question_id for a in audit] == [3]


def test_an_assignee_whose_automatic_reply_is_on_is_replaced(tmp_path, fake_ews, tls_files):
    """Absence read from an automatic reply counts for follow-up as it does for routing."""
    from bot.triage import absence

    absence.forget()
    fake_ews.oof.update({"b.smit@ind.example": ("Enabled", "2026-11-01T00:00:00", "2026-11-02T00:00:00")})
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///db.sqlite3"\n[routing]\ncontacts = "{CONTACTS}"\nread_automatic_replies = true\n'
        f'[delivery]\nkind = "outbox"\npath = "outbox"\nfrom = "bvhk-triage@bvhk.example"\n'
        f'[classifier]\nmodels = "models"\n'
        f'[[mailboxes]]\nkind = "ews"\nname = "ind"\norganisation = "IND"\naddress = "bvhk@ind.example"\n'
        f'service_endpoint = "{fake_ews.endpoint}"\nauth = "basic"\nusername = {json.dumps(fake_ews.username)}\n'
        f'password_env = "BVHK_TEST_EWS"\naccess = "impersonation"\nca_file = "{tls_files.ca}"\n', encoding="utf-8")
    os.environ["BVHK_TEST_EWS"] = fake_ews.password
    try:
        runtime = Runtime.start(load_settings(config))
        with unit_of_work(runtime.engine) as session:  # no absence planned with `contacts absent`
            session.add(question(3, due_on=date(2026, 12, 30), assignee="b.smit@ind.example"))
        counts = run_followups(runtime, today=date(2026, 11, 13))
    finally:
        del os.environ["BVHK_TEST_EWS"]
        absence.forget()
    assert counts["reassign"] == 1
    with unit_of_work(runtime.engine) as session:
        moved = session.get(Question, 3)
        assert (moved.status, moved.assignee) == ("reassigned", "a.bakker@ind.example")
