"""`rules replay` reports exactly the questions whose routing a rule change changes."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from bot.cli.commands import main
from storage.db import open_database, unit_of_work
from storage.models import Question

from tests.paths import ROOT
CONTACTS = ROOT / "tests" / "fixtures" / "e2e" / "contacts.csv"
THEMES = ["strafrecht", "voogdij", "chavez", "strafrecht", "gezag-en-omgang", "strafrecht", "voogdij"]


def fill(url: str) -> dict[str, list[int]]:
    engine = open_database(url)
    start = datetime(2026, 10, 5, 9, tzinfo=timezone.utc)
    ids: dict[str, list[int]] = {}
    with unit_of_work(engine) as session:
        for n, theme in enumerate(THEMES):
            q = Question(
                triage_id=f"r{n}", mailbox="ind", source_id=f"s{n}", message_id=f"<r{n}@x>",
                received_at=start + timedelta(days=n), subject="vraag", body="tekst van de vraag",
                sender="jurist@ind.example", theme=theme, theme_confidence=0.9, organisation="IND",
                organisation_confidence=0.9, region="Den Bosch", region_confidence=0.8,
                status="routed", assignee="c.mulder@ind.example",
            )
            session.add(q)
            session.flush()
            ids.setdefault(theme, []).append(q.id)
    engine.dispose()
    return ids


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///db.sqlite3"\n[routing]\ncontacts = "{CONTACTS}"\n', encoding="utf-8"
    )
    return config


def candidate_rules(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "kandidaat"
    shutil.copytree(ROOT / "rules" / "data", folder)
    with open(folder / "routing.toml", "a", encoding="utf-8") as handle:
        handle.write(extra)
    return folder


def replay(config: Path, *args: str) -> dict:
    result = CliRunner().invoke(main, ["--config", str(config), "rules", "replay", "--since", "2026-10-01", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_unchanged_rules_change_nothing(tmp_path):
    config = write_config(tmp_path)
    fill(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    doc = replay(config)
    assert doc["questions"] == len(THEMES)
    assert doc["changed"] == 0 and doc["changes"] == []


def test_a_changed_rule_reports_exactly_the_questions_it_reroutes(tmp_path):
    config = write_config(tmp_path)
    ids = fill(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    folder = candidate_rules(tmp_path, '\n[[rule]]\nname = "strafrecht-naar-review"\ntheme = "strafrecht"\nreview = true\n')
    doc = replay(config, "--rules", str(folder))
    assert sorted(change["id"] for change in doc["changes"]) == sorted(ids["strafrecht"])
    assert doc["changed"] == 3 and doc["to_review"] == 3 and doc["from_review"] == 0
    for change in doc["changes"]:
        assert change["before"]["assignee"] == "c.mulder@ind.example"
        assert change["after"]["review"] is True
    assert doc["moves"] == [{"from": "c.mulder@ind.example", "to": "review", "count": 3}]


def test_replay_sends_and_stores_nothing(tmp_path):
    config = write_config(tmp_path)
    fill(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    folder = candidate_rules(tmp_path, '\n[[rule]]\nname = "alles-kopie"\ncopy = ["a.bakker@ind.example"]\n')
    doc = replay(config, "--rules", str(folder))
    assert doc["changed"] == len(THEMES)
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with unit_of_work(engine) as session:
        from sqlmodel import select

        assert all(q.status == "routed" and q.assignee == "c.mulder@ind.example"
                   for q in session.exec(select(Question)))
    assert not (tmp_path / "outbox").exists()


def test_an_invalid_candidate_rule_file_is_exit_2_naming_file_line_and_key(tmp_path):
    config = write_config(tmp_path)
    fill(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    folder = candidate_rules(tmp_path, '\n[[rule]]\nname = "kapot"\nthema = "strafrecht"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "rules", "replay", "--since", "2026-10-01", "--rules", str(folder)])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "routing.toml:" in line and "thema" in line
    assert len(line.splitlines()) == 1


def test_without_since_all_stored_history_is_replayed(tmp_path):
    config = write_config(tmp_path)
    ids = fill(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    folder = candidate_rules(tmp_path, '\n[[rule]]\nname = "strafrecht-naar-review"\ntheme = "strafrecht"\nreview = true\n')
    for since, expected in ((None, len(THEMES)), ("2026-10-08", len(THEMES) - 3)):
        args = ["--config", str(config), "rules", "replay", "--json", "--rules", str(folder)]
        result = CliRunner().invoke(main, args + (["--since", since] if since else []))
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["questions"] == expected
    assert doc["since"] == "2026-10-08"
    everything = json.loads(CliRunner().invoke(main, ["--config", str(config), "rules", "replay", "--json"]).stdout)
    assert everything["since"] == "2026-10-05"  # the first stored question
    assert sorted(c["id"] for c in json.loads(CliRunner().invoke(
        main, ["--config", str(config), "rules", "replay", "--json", "--rules", str(folder)]).stdout)["changes"]) \
        == sorted(ids["strafrecht"])


def test_a_question_without_a_stored_organisation_is_replayed_for_its_mailboxs_organisation(tmp_path):
    """The mailbox's organisation comes from the configuration, not from the question's own label."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///db.sqlite3"\n[routing]\ncontacts = "{CONTACTS}"\n'
        f'[[mailboxes]]\nname = "dtv"\norganisation = "DT&V"\naddress = "bvhk@dtv.example"\nkind = "maildir"\n'
        f'path = "mail"\n', encoding="utf-8")
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with unit_of_work(engine) as session:
        session.add(Question(triage_id="d1", mailbox="dtv", source_id="s1", message_id="<d1@x>",
                             received_at=datetime(2026, 10, 5, 9, tzinfo=timezone.utc), subject="vraag",
                             body="tekst", sender="jurist@coa.example", theme="voogdij", theme_confidence=0.9,
                             organisation=None, region="Midden", region_confidence=0.8, status="routed",
                             assignee="f.jansen@dtv.example"))
    engine.dispose()
    folder = candidate_rules(tmp_path, '\n[[rule]]\nname = "voogdij-kopie"\ntheme = "voogdij"\npriority = "hoog"\n')
    doc = json.loads(CliRunner().invoke(main, ["--config", str(config), "rules", "replay", "--json",
                                               "--rules", str(folder)]).stdout)
    [change] = doc["changes"]
    assert change["before"]["assignee"] == change["after"]["assignee"] == "f.jansen@dtv.example"
