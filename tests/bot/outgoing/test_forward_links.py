"""The forward's "what you can do" text links to the question's page in the web console."""

from __future__ import annotations

import email
from email import policy

from bot.outgoing.forwards import forward
from bot.settings import Settings
from storage.models import Question
from tests.paths import FIXTURES

RAW = (FIXTURES / "e2e" / "02-vraag-strafrecht.eml").read_bytes()


def summary_text(settings: Settings, purpose: str) -> str:
    question = Question(id=7, triage_id="0a1b2c3d4e5f", mailbox="ind", source_id="1", message_id="<v@x.example>",
                        theme="strafrecht", organisation="IND", status="routed" if purpose == "forward" else "review")
    delivery = forward(question, raw=RAW, subject="Vraag", asked="Mag dat?", recipient="a@ind.example",
                       purpose=purpose, settings=settings, theme_name="Strafrecht", asker="")
    message = email.message_from_bytes(delivery.payload, policy=policy.default)
    return message.get_body(("plain",)).get_content()


def test_with_a_public_url_the_forward_links_to_the_question():
    settings = Settings.model_validate({"web": {"public_url": "https://bvhk.example.nl/triage"}})
    assert "https://bvhk.example.nl/triage/questions/0a1b2c3d4e5f" in summary_text(settings, "forward")
    assert "https://bvhk.example.nl/triage/questions/0a1b2c3d4e5f" in summary_text(settings, "review")


def test_without_one_it_names_no_console():
    assert "webconsole" not in summary_text(Settings(), "forward")
