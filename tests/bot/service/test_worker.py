"""The worker's runtime: rules reload while running, and an invalid change is refused."""

from __future__ import annotations

import os
import shutil

from bot.settings import load_settings
from bot.service.worker import Runtime

from tests.paths import ROOT
CONTACTS = ROOT / "tests" / "fixtures" / "e2e" / "contacts.csv"


def test_a_running_worker_keeps_the_last_valid_rules_and_says_so(tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "data", rules_dir)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///db.sqlite3"\n[routing]\nrules = "rules"\ncontacts = "{CONTACTS}"\n'
        f'[classifier]\nmodels = "models"\n', encoding="utf-8")
    runtime = Runtime.start(load_settings(config))
    assert runtime.refresh_rules() is None  # nothing changed
    valid = runtime.ruleset

    routing = rules_dir / "routing.toml"
    good = routing.read_text(encoding="utf-8")
    routing.write_text(good + '\n[[rule]]\nname = "kapot"\nthema = "strafrecht"\n', encoding="utf-8")
    os.utime(routing, ns=(1, 10**18))
    line = runtime.refresh_rules()
    assert line is not None and "houdt de vorige geldige regels" in line and "routing.toml" in line
    assert runtime.ruleset is valid

    routing.write_text(good + '\n[[rule]]\nname = "nieuw"\ntheme = "strafrecht"\npriority = "hoog"\n', encoding="utf-8")
    os.utime(routing, ns=(1, 2 * 10**18))
    assert runtime.refresh_rules() == "regels en contactpersonen opnieuw geladen"
    assert runtime.ruleset is not valid
    assert "nieuw" in [rule.name for rule in runtime.ruleset.rules]
