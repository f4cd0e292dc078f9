"""Names and places without a cue, with deduce loaded as the product loads it (once per process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from classifiers import deidentify
from classifiers.text import redact


@pytest.fixture
def with_deduce():
    before = deidentify.mode()
    deidentify.configure("deduce")
    yield
    deidentify.configure(before)


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        ("Het gaat om Amira Haddad (12) en haar broer.", ["Amira", "Haddad"]),
        ("ook amira haddad heeft een aanvraag lopen", ["amira", "haddad"]),
        ("De moeder woont op Dorpsweg 3 in Lemmer.", ["Dorpsweg"]),
        ("Met vriendelijke groet, Sanne Vermeulen", ["Sanne", "Vermeulen"]),
        ("Youssef is in Ter Apel aangekomen.", ["Youssef"]),
    ],
)
def test_names_and_places_without_a_cue(with_deduce, text, secrets):
    redacted = redact(text)
    assert not [s for s in secrets if s in redacted], redacted


@pytest.mark.parametrize(
    "text",
    [
        "Kan de Raad voor de Kinderbescherming de rapportage delen met de IND en DT&V?",
        "Nidos is voogd van de alleenstaande minderjarige; het COA zorgt voor opvang.",
        "mag de moeder met het kind mee naar de gezinslocatie?",
        "graag weten hoe de ots zich verhoudt tot het vertrek van het gezin",
        "Is dit een Chavez-zaak? Het gezin woont in Den Bosch, de vader in Zwolle.",
        "De William Schrikker Stichting en Pleegzorg Limburg zijn betrokken.",
    ],
)
def test_institutions_and_ordinary_words_stay(with_deduce, text):
    assert redact(text) == text


def test_patterns_alone_leave_an_uncued_name():
    assert deidentify.mode() == "patterns"  # what the tests run with unless they ask for deduce
    assert "Amira" in redact("Het gaat om Amira Haddad.")


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="deduce, patterns"):
        deidentify.configure("spacy")


def test_loading_deduce_leaves_logging_and_warnings_as_they_were():
    # deduce's import calls logging.basicConfig(stdout, DEBUG) and warnings.simplefilter("default"):
    # in a fresh process (this one may have loaded it already), nothing of that may remain
    script = (
        "import logging, warnings\n"
        "from classifiers import deidentify\n"
        "root = logging.getLogger()\n"
        "before = (list(root.handlers), root.level, list(warnings.filters))\n"
        "deidentify.load()\n"
        "logging.getLogger('exchangelib').debug('a debug line')\n"
        "print((list(root.handlers), root.level, list(warnings.filters)) == before)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip().splitlines() == ["True"], (done.stdout[-500:], done.stderr[-500:])
