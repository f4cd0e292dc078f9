from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings

from tests.paths import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_config_is_valid_and_paths_are_taken_from_its_folder():
    settings = load_settings(ROOT / "config.example.toml")
    assert settings.mailboxes[0].kind == "maildir"
    assert settings.mailboxes[0].path == (ROOT / "mail" / "ind").resolve()
    assert settings.storage.url == f"sqlite:///{(ROOT / 'bvhk-triage.sqlite3').resolve()}"
    assert settings.delivery.from_ == "bvhk-triage@ind.example"
    assert 0 < settings.classifier.min_confidence < 1


def test_missing_key_names_file_line_and_key(tmp_path):
    path = write(tmp_path, '[storage]\nurl = "sqlite:///x.db"\n\n[[mailboxes]]\nname = "ind"\nkind = "maildir"\norganisation = "IND"\npath = "m"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value) == f"{path}:4: sleutel 'mailboxes[0].address' ontbreekt"


def test_unknown_key_names_its_line(tmp_path):
    path = write(tmp_path, '[storage]\nurl = "sqlite:///x.db"\nretention = 3\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value) == f"{path}:3: onbekende sleutel 'storage.retention'"


def test_wrong_value_names_the_key(tmp_path):
    path = write(tmp_path, '[classifier]\nmin_confidence = 1.5\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert f"{path}:2: sleutel 'classifier.min_confidence'" in str(err.value)


def test_unknown_mailbox_kind(tmp_path):
    path = write(tmp_path, '[[mailboxes]]\nname = "x"\nkind = "pop3"\norganisation = "IND"\naddress = "a@b"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "kind" in str(err.value) and "maildir, imap, ews of graph" in str(err.value)


def test_broken_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="geen geldige TOML"):
        load_settings(write(tmp_path, "[storage\nurl=1"))
    with pytest.raises(ConfigError, match="configuratiebestand niet gevonden"):
        load_settings(tmp_path / "nope.toml")


def test_duplicate_mailbox_names_are_refused(tmp_path):
    box = '[[mailboxes]]\nname = "x"\nkind = "maildir"\norganisation = "IND"\naddress = "a@b"\npath = "m"\n'
    with pytest.raises(ConfigError, match="komt twee keer voor"):
        load_settings(write(tmp_path, box + box))
