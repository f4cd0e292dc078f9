"""Shared data for the classifier tests: the hand-written labelled set and the seed terms."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from classifiers import Example, TriageModel, read_examples, train

from tests.paths import ROOT
LABELLED_SMALL = ROOT / "tests" / "fixtures" / "labelled-small.jsonl"
THEMES_TOML = ROOT / "rules" / "data" / "themes.toml"


@pytest.fixture(scope="session")
def seed_terms() -> dict[str, list[str]]:
    themes = tomllib.loads(THEMES_TOML.read_text("utf-8"))["theme"]
    return {theme["key"]: list(theme["seed_terms"]) for theme in themes}


@pytest.fixture(scope="session")
def theme_keys(seed_terms) -> list[str]:
    return sorted(seed_terms)


@pytest.fixture(scope="session")
def labelled_small_path() -> Path:
    return LABELLED_SMALL


@pytest.fixture(scope="session")
def small() -> list[Example]:
    return read_examples(LABELLED_SMALL)


@pytest.fixture(scope="session")
def small_model(small, seed_terms, theme_keys) -> TriageModel:
    """Trained once for the session; tests must not change it."""
    return train(small, labels={"theme": theme_keys}, seed_terms=seed_terms)
