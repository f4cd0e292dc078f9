"""`init`: a starter configuration, rules folder and contacts file to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.settings import DEFAULT_RULES, PACKAGE_DIR, ConfigError

EXAMPLE_CONFIG = PACKAGE_DIR / "config.example.toml"  # a link to the one at the top of the repository
SAMPLE_CONTACTS = PACKAGE_DIR / "sample" / "contacts.csv"


def write_starter(directory: Path) -> list[Path]:
    """Write config.toml, a rules/ folder and contacts.csv; never overwrite an existing file."""
    directory.mkdir(parents=True, exist_ok=True)
    targets = {
        directory / "config.toml": EXAMPLE_CONFIG,
        directory / "contacts.csv": SAMPLE_CONTACTS,
    }
    for source in sorted(DEFAULT_RULES.iterdir()):
        if source.suffix in {".toml", ".csv"} or source.name.endswith(".LICENSE"):
            targets[directory / "rules" / source.name] = source
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        raise ConfigError(f"{existing[0]}: bestaat al; init overschrijft niets (kies een andere map)")
    for target, source in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return list(targets)
