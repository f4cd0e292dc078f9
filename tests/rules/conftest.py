"""Shared fixtures: the packaged rule set, a rules folder to break, contact persons."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rules import DEFAULT_FOLDER, Contact, RuleSet, load_ruleset


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_ruleset(DEFAULT_FOLDER)


@pytest.fixture
def rules_folder(tmp_path: Path) -> Callable[..., Path]:
    """A copy of the packaged rules folder, with some files replaced: {file name: text}."""

    def make(files: dict[str, str] | None = None) -> Path:
        folder = tmp_path / "rules"
        if not folder.exists():
            shutil.copytree(DEFAULT_FOLDER, folder, ignore=shutil.ignore_patterns("*.csv", "*.LICENSE"))
        for name, text in (files or {}).items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder

    return make


@pytest.fixture
def person() -> Callable[..., Contact]:
    """A contact person of the IND in Zwolle who handles every theme, unless told otherwise."""

    def make(name: str, **fields: object) -> Contact:
        values: dict[str, object] = {
            "name": name, "email": f"{name.lower()}@ind.example", "organisation": "IND",
            "region": "Zwolle", "capacity": 10,
        }
        values.update(fields)
        return Contact.model_validate(values)

    return make
