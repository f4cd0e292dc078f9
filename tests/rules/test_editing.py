"""rules.editing: a candidate checked, applied with its history, restored; the packaged rules refused."""

from __future__ import annotations

import shutil

import pytest

from rules import DEFAULT_FOLDER, RulesError
from rules import editing


@pytest.fixture
def folder(tmp_path):
    copy = tmp_path / "regels"
    shutil.copytree(DEFAULT_FOLDER, copy)
    return copy


def test_apply_keeps_the_version_before_and_restore_brings_it_back(folder):
    routing = folder / "routing.toml"
    before = routing.read_text("utf-8")
    after = before + '\n[[rule]]\nname = "extra"\ntheme = ["voogdij"]\npriority = "hoog"\n'
    change = editing.apply(folder, "routing.toml", after, who="web:beheer", why="voogdij met voorrang")
    assert routing.read_text("utf-8") == after and change.number == 1
    assert "+name = \"extra\"" in change.diff and change.who == "web:beheer"
    assert editing.version_before(folder, 1, "routing.toml") == before
    undone = editing.restore(folder, 1, who="web:beheer")
    assert routing.read_text("utf-8") == before and undone.number == 2
    assert [c.number for c in editing.history(folder)] == [2, 1]


def test_a_wrong_candidate_names_file_line_and_key_and_changes_nothing(folder):
    routing = folder / "routing.toml"
    before = routing.read_text("utf-8")
    with pytest.raises(RulesError, match=r"routing\.toml:\d+"):
        editing.apply(folder, "routing.toml", before + '\n[[rule]]\nname = "x"\nthema = ["voogdij"]\n',
                      who="a", why="b")
    assert routing.read_text("utf-8") == before and editing.history(folder) == []


def test_the_packaged_rules_and_a_change_without_reason_are_refused(folder):
    text = (DEFAULT_FOLDER / "routing.toml").read_text("utf-8")
    with pytest.raises(RulesError, match="packaged rules"):
        editing.apply(DEFAULT_FOLDER, "routing.toml", text + "\n# x\n", who="a", why="b")
    with pytest.raises(RulesError, match="why"):
        editing.apply(folder, "routing.toml", text + "\n# x\n", who="a", why=" ")
    with pytest.raises(RulesError, match="not a rules file"):
        editing.check(folder, "../config.toml", "")
