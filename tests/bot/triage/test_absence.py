"""Absence from automatic replies: the window arithmetic, then the fake EWS endpoint
(GetUserOofSettings) and the fake Graph endpoint (automaticRepliesSetting)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from bot.triage import absence
from bot.triage.absence import automatic_reply_absences
from bot.ingest.mailboxes.base import AutomaticReply
from bot.settings import Settings
from tests.servers import TNS

TODAY = date(2026, 3, 20)


@dataclass(frozen=True)
class Person:
    email: str
    organisation: str = "IND"
    active: bool = True


PEOPLE = [Person("aan@ind.example"), Person("gepland@ind.example"), Person("voorbij@ind.example"),
          Person("uit@ind.example"), Person("onbekend@ind.example"), Person("inactief@ind.example", active=False),
          Person("raad@rvdk.example", organisation="RvdK")]


@pytest.fixture(autouse=True)
def fresh_cache():
    absence.forget()
    yield
    absence.forget()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_a_scheduled_reply_covers_the_days_it_overlaps():
    assert AutomaticReply("enabled").covers(TODAY)
    assert not AutomaticReply("disabled", utc(2026, 3, 1), utc(2026, 4, 1)).covers(TODAY)
    assert AutomaticReply("scheduled", utc(2026, 3, 14, 7), utc(2026, 3, 28, 7)).covers(TODAY)
    assert AutomaticReply("scheduled", utc(2026, 3, 20, 13), utc(2026, 3, 21)).covers(TODAY)  # from the afternoon
    assert not AutomaticReply("scheduled", utc(2026, 3, 13, 17), utc(2026, 3, 20)).covers(TODAY)  # back at midnight
    assert not AutomaticReply("scheduled", datetime(2026, 3, 21), datetime(2026, 3, 25)).covers(TODAY)
    assert not AutomaticReply("scheduled").covers(TODAY)


def settings(mailbox: dict, *, on: bool = True) -> Settings:
    return Settings.model_validate({"mailboxes": [mailbox], "routing": {"read_automatic_replies": on}})


# --- EWS ----------------------------------------------------------------------------------
@pytest.fixture
def ews(fake_ews, tls_files, monkeypatch):
    monkeypatch.setenv("BVHK_TEST_EWS", fake_ews.password)
    fake_ews.oof.update({
        "aan@ind.example": ("Enabled", "2026-03-01T00:00:00", "2026-03-02T00:00:00"),
        "gepland@ind.example": ("Scheduled", "2026-03-14T07:00:00", "2026-03-28T07:00:00"),
        "voorbij@ind.example": ("Scheduled", "2026-03-02T07:00:00", "2026-03-06T17:00:00"),
        "uit@ind.example": ("Disabled", "2026-03-14T07:00:00", "2026-03-28T07:00:00"),
    })
    return dict(kind="ews", name="ind", organisation="IND", address="bvhk@ind.example",
                service_endpoint=fake_ews.endpoint, auth="basic", username=fake_ews.username,
                password_env="BVHK_TEST_EWS", access="impersonation", ca_file=str(tls_files.ca), max_wait_seconds=1)


def oof_calls(fake) -> list:
    return [c for c in fake.calls if c.operation == "GetUserOofSettingsRequest"]


def test_ews_out_of_office_of_the_contact_persons_of_the_organisation(ews, fake_ews, caplog):
    caplog.set_level(logging.WARNING, logger="bot.triage.absence")
    assert automatic_reply_absences(settings(ews), PEOPLE, TODAY) == {"aan@ind.example", "gepland@ind.example"}
    calls = oof_calls(fake_ews)
    asked = [c.xml.find(f".//{{{TNS}}}Address").text for c in calls]
    assert sorted(asked) == sorted(p.email for p in PEOPLE[:5])  # active, of an organisation with ews
    # impersonation: each request acts as the contact person whose settings it reads
    assert all(c.xml.find(f".//{{{TNS}}}ExchangeImpersonation//{{{TNS}}}PrimarySmtpAddress").text == a
               for c, a in zip(calls, asked))
    (line,) = caplog.messages
    assert "1 of 5 contact persons not read" in line and "@" not in line.split("(")[0]
    assert "onbekend@" not in line
    # a poll's other mailboxes share the answer
    assert automatic_reply_absences(settings(ews), PEOPLE, TODAY) == {"aan@ind.example", "gepland@ind.example"}
    assert len(oof_calls(fake_ews)) == len(calls)


def test_switched_off_nothing_is_asked(ews, fake_ews):
    assert automatic_reply_absences(settings(ews, on=False), PEOPLE, TODAY) == set()
    assert fake_ews.calls == []


def test_a_server_that_refuses_is_one_line_and_no_absence(ews, fake_ews, caplog):
    caplog.set_level(logging.WARNING, logger="bot.triage.absence")
    fake_ews.blocked = True  # EWS switched off: 403
    assert automatic_reply_absences(settings(ews), PEOPLE, TODAY) == set()
    (line,) = caplog.messages
    assert "5 of 5 contact persons not read" in line and "403" in line
    assert len(oof_calls(fake_ews)) == 0  # blocked before the SOAP body is read; two tries, then it stops


# --- Graph --------------------------------------------------------------------------------
@pytest.fixture
def graph(fake_graph, tls_files, monkeypatch):
    monkeypatch.setenv("BVHK_TEST_GRAPH", fake_graph.idp.client_secret)

    def window(status, start="2026-03-14T07:00:00.0000000", end="2026-03-28T07:00:00.0000000", zone="UTC"):
        return {"status": status, "scheduledStartDateTime": {"dateTime": start, "timeZone": zone},
                "scheduledEndDateTime": {"dateTime": end, "timeZone": zone}}

    fake_graph.automatic_replies.update({
        "aan@ind.example": window("alwaysEnabled"),
        "gepland@ind.example": window("scheduled", zone="W. Europe Standard Time"),
        "voorbij@ind.example": window("scheduled", "2026-03-02T07:00:00.0000000", "2026-03-06T17:00:00.0000000"),
        "uit@ind.example": window("disabled"),
    })
    return dict(kind="graph", name="ind-online", organisation="IND", address="bvhk@ind.example",
                tenant_id=fake_graph.idp.tenant, client_id=fake_graph.idp.client_id,
                client_secret_env="BVHK_TEST_GRAPH", base_url=fake_graph.base_url, authority=fake_graph.base,
                ca_file=str(tls_files.ca), max_wait_seconds=1)


def test_graph_automatic_replies_setting_of_the_contact_persons(graph, fake_graph, caplog):
    caplog.set_level(logging.WARNING, logger="bot.triage.absence")
    assert automatic_reply_absences(settings(graph), PEOPLE, TODAY) == {"aan@ind.example", "gepland@ind.example"}
    paths = [p for p in fake_graph.paths() if p.endswith("/mailboxSettings/automaticRepliesSetting")]
    assert len(paths) == 5 and "/v1.0/users/gepland@ind.example/" in "".join(paths)
    (line,) = caplog.messages
    assert "1 of 5 contact persons not read" in line and "onbekend@" not in line
