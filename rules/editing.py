"""Changing a rules folder as an admin does from the console: a candidate file checked as
`rules check` checks it, then written atomically with the version before kept in a history
(who, when, why, and the diff), from which any earlier version can be restored the same way.
When the folder is a git working tree, each change is also a commit with the person as author.

The history lives in the folder's `.history/`, one numbered entry per change holding the files
as they were before it and `change.json`. A running worker notices the new file (its stamp
changes) and reloads; a file it cannot load it refuses, keeping the last valid rules.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rules.contacts import load_contacts
from rules.data import DEFAULT_FOLDER, load_ruleset
from rules.model import RulesError
from rules.ruleset import RuleSet

EDITABLE = ("routing.toml", "themes.toml", "regions.toml", "senders.toml", "places.toml")
HISTORY = ".history"


@dataclass(frozen=True)
class Change:
    number: int
    file: str
    who: str
    when: str
    why: str
    diff: str


def _check_file(name: str) -> None:
    if name not in EDITABLE:
        raise RulesError(f"{name}: not a rules file that can be edited ({', '.join(EDITABLE)})")


def editable(folder: Path) -> bool:
    """False for the rules packaged with the product: an admin edits a copy (`bvhk-triage init`)."""
    return Path(folder).resolve() != DEFAULT_FOLDER.resolve()


def check(folder: Path, name: str, text: str, *, contacts: Path | None = None) -> RuleSet:
    """The rules as they would be with `name` holding `text`; RulesError names the file, line
    and key at fault (and the contacts file, when it no longer fits the rules)."""
    with tempfile.TemporaryDirectory() as scratch:
        candidate = candidate_folder(folder, name, text, Path(scratch))
        try:
            ruleset = load_ruleset(candidate)
            if contacts is not None:
                load_contacts(contacts, ruleset)
        except RulesError as exc:
            raise RulesError(str(exc).replace(str(candidate) + os.sep, "")) from None
    return ruleset


def candidate_folder(folder: Path, name: str, text: str, scratch: Path) -> Path:
    """A copy of `folder` with `name` holding `text`, inside `scratch` (for a replay)."""
    _check_file(name)
    candidate = Path(scratch) / Path(folder).name
    shutil.copytree(folder, candidate, ignore=shutil.ignore_patterns(HISTORY, ".git"))
    (candidate / name).write_text(text, encoding="utf-8")
    return candidate


def apply(folder: Path, name: str, text: str, *, who: str, why: str, contacts: Path | None = None) -> Change:
    """Check the candidate, keep the folder as it was, write `name` atomically; return the change."""
    folder = Path(folder)
    if not editable(folder):
        raise RulesError(f"{folder}: the packaged rules cannot be changed; make a rules folder of your own "
                         "(bvhk-triage init) and name it in [routing] rules")
    if not why.strip():
        raise RulesError("why: say why the rules change (it goes into the history)")
    check(folder, name, text, contacts=contacts)
    target = folder / name
    before = target.read_text(encoding="utf-8") if target.exists() else ""
    diff = "".join(difflib.unified_diff(before.splitlines(keepends=True), text.splitlines(keepends=True),
                                        fromfile=f"{name} (voor)", tofile=f"{name} (na)"))
    if not diff:
        raise RulesError(f"{name}: nothing changed")
    number = len(history(folder)) + 1
    entry = folder / HISTORY / f"{number:04d}"
    entry.mkdir(parents=True)
    for file in EDITABLE:
        if (folder / file).exists():
            shutil.copy2(folder / file, entry / file)
    change = Change(number, name, who, datetime.now(UTC).isoformat(timespec="seconds"), " ".join(why.split())[:300],
                    diff)
    (entry / "change.json").write_text(json.dumps(change.__dict__, ensure_ascii=False, indent=1), encoding="utf-8")
    staged = target.with_name(f".{name}.nieuw")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, target)
    _commit(folder, name, change)
    return change


def history(folder: Path) -> list[Change]:
    """Every change made through `apply`, newest first."""
    root = Path(folder) / HISTORY
    if not root.is_dir():
        return []
    found = [Change(**json.loads(p.read_text("utf-8"))) for p in sorted(root.glob("*/change.json"))]
    return sorted(found, key=lambda c: -c.number)


def version_before(folder: Path, number: int, name: str) -> str:
    """`name` as it was before change `number`."""
    _check_file(name)
    path = Path(folder) / HISTORY / f"{number:04d}" / name
    if not path.is_file():
        raise RulesError(f"change {number}: no earlier version of {name}")
    return path.read_text(encoding="utf-8")


def restore(folder: Path, number: int, *, who: str, contacts: Path | None = None) -> Change:
    """Undo: the file of change `number` back as it was before it, as a new change."""
    change = next((c for c in history(folder) if c.number == number), None)
    if change is None:
        raise RulesError(f"change {number} is not in the history")
    return apply(folder, change.file, version_before(folder, number, change.file), who=who,
                 why=f"terug naar de versie van vóór wijziging {number}", contacts=contacts)


def _commit(folder: Path, name: str, change: Change) -> None:
    """A commit with the person as author, when the folder is a git working tree (else nothing)."""
    git = shutil.which("git")
    if git is None:
        return
    inside = subprocess.run([git, "-C", str(folder), "rev-parse", "--is-inside-work-tree"], capture_output=True,
                            text=True)
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return
    author = f"{change.who} <{change.who.replace(':', '.')}@bvhk-triage>"
    subprocess.run([git, "-C", str(folder), "add", "--", name], check=True, capture_output=True)
    subprocess.run([git, "-C", str(folder), "-c", "user.name=bvhk-triage", "-c", "user.email=bvhk-triage@localhost",
                    "commit", "-q", "--author", author, "-m", f"{name}: {change.why}", "--", name],
                   check=True, capture_output=True)
