"""Names and places that no cue announces, found by deduce (Dutch de-identification).

`classifiers.text.redact` finds numbers, addresses and cued names with its own patterns.
Names without a cue ("het gaat om Amira Haddad") need lists of first names, surnames,
streets and places: deduce (LGPL-3.0, built on docdeid) carries them. This module runs it
for persons and locations only; dates, numbers and e-mail addresses stay with the patterns.
Institutions ("de Raad", "Nidos") and a place on its own ("Zwolle", "Ter Apel") are no
personal data here and stay readable: they tell who asks and where; an address (a
location with a number) goes.

Deduce also misses names written in lower case. With its own lists this module adds one
rule: a known first name followed by a word that is no Dutch word ("amira haddad").

Costs (measured on this project's machines): the first use after an install builds deduce's
lookup structures (about 95 s; `make install` does it ahead), later
loads take about 6 s and 1.2 GB resident per process; a question takes a few milliseconds.
So it is loaded once per process, on first use, and only where the settings ask for it:
`[privacy] deidentify = "deduce"` (the default) or `"patterns"` (no names without a cue).
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import warnings

__all__ = ["MODES", "configure", "find", "load", "mode"]

MODES = ("deduce", "patterns")
_DEDUCE_SKIPS = {"institutions", "dates", "ages", "identifiers", "phone_numbers", "email_addresses", "urls"}
_mode = "patterns"
# Deduce takes these for names in this field's mail: a case law name, organisations, a city.
_NOT_PERSONS = frozenset(
    "chavez chavez-vilchez zambrano stichting pleegzorg academie jeugdbescherming jeugdzorg gemeente rechtbank"
    " bosch haag nidos coa raad ind dt&v veilig thuis leger william schrikker".split()
)


def configure(chosen: str) -> None:
    """Choose how names without a cue are found, for this process (from the settings)."""
    global _mode
    if chosen not in MODES:
        raise ValueError(f"deidentify moet een van {', '.join(MODES)} zijn, niet {chosen!r}")
    _mode = chosen


def mode() -> str:
    return _mode


@functools.cache
def _deduce():
    """Deduce, loaded once. Its import configures the process as if it were the program: a
    DEBUG handler on the root logger writing to stdout (every library's debug lines, content
    included, would follow) and warnings shown by default. Both are undone here."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with warnings.catch_warnings():  # restores the warning filters it changes
        import deduce  # 6 s and 1.2 GB: only here, once

        engine = deduce.Deduce()
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    return engine


def load() -> None:
    """Load deduce now (raises ImportError when it is not installed), as a worker would on
    its first question; the first time after an install this builds its lookup lists."""
    _deduce()


_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def _lower_case_names(engine, text: str) -> list[tuple[int, int, str]]:
    """'amira haddad': a known first name, lower case, then a word that is not Dutch."""
    lookups = engine.lookup_structs
    first_names, ordinary = lookups["first_name"], (lookups["whitelist"], lookups["common_word"], lookups["stop_word"])
    words = list(_WORD.finditer(text))
    found = []
    for word, after in zip(words, words[1:]):
        first, second = word.group(), after.group()
        if not (first.islower() and second.islower()) or text[word.end():after.start()] != " ":
            continue
        if any(first in words_ or second in words_ for words_ in ordinary) or len(second) < 3:
            continue
        if first_names.longest_matching_prefix([first.capitalize()]):
            found.append((word.start(), after.end(), "[NAAM]"))
    return found


def find(text: str) -> list[tuple[int, int, str]]:
    """(start, end, placeholder) of every name and place that deduce finds in `text`."""
    if _mode != "deduce" or not text.strip():
        return []
    engine = _deduce()
    spans = []
    for annotation in engine.deidentify(text, disabled=_DEDUCE_SKIPS).annotations:
        words = set(annotation.text.lower().split())
        if annotation.tag.startswith(("persoon", "patient")) and not words & _NOT_PERSONS:
            spans.append((annotation.start_char, annotation.end_char, "[NAAM]"))
        elif annotation.tag.startswith("locatie") and any(c.isdigit() for c in annotation.text):
            spans.append((annotation.start_char, annotation.end_char, "[ADRES]"))  # a place alone stays
    return spans + _lower_case_names(engine, text)


def main() -> int:
    """Build deduce's lookup structures now (after an install), not on the first question."""
    print("deduce laden (de eerste keer na een installatie duurt dit 1-2 minuten)...", file=sys.stderr)
    load()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
