"""Finding place names in a text: one compiled pattern per rule set.

Every name the rule set knows (CBS municipalities, provinces, everyday names, merged
municipalities, villages, courts, region names) goes into one trie-shaped regular
expression, so a message is scanned once however many names there are. A hit is then
checked against the text around it:

- a name that is also a Dutch word (`common_words` in places.toml: Best, Echt, Leiden...)
  counts only written with its capital and not at the start of a sentence, unless a word
  like "in", "te", "uit", "gemeente" or "regio" stands before it;
- a region name that is no place (Haaglanden, Oost) counts only after "regio", "locatie",
  "vestiging", "kantoor", "team" or an organisation's name;
- a name right after "Van" or "mevrouw van", "J. van" is a surname, not a place;
- a name inside an e-mail address or web address does not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_CONTEXT = re.compile(
    r"\b(?:in|te|uit|naar|vanuit|bij|nabij|rond|omgeving|gemeente|regio|locatie|vestiging|kantoor|team"
    r"|rechtbank|woonplaats|woonachtig|wonend)[\s:,]*$",
    re.IGNORECASE,
)
_KEYWORD = re.compile(
    r"(?:\b(?:regio|locatie|vestiging|kantoor|team)|\bIND|\bDT&V|\bDTenV|\bRvdK|\bKinderbescherming)[\s:,]*$",
    re.IGNORECASE,
)
_SURNAME = re.compile(
    r"(?:\b(?P<van>Van)|(?:\b(?:[A-Z]\.|mevrouw|meneer|mevr\.|mw\.|dhr\.|heer|mr\.)|\b(?P<first>[A-Z][a-z]+))\s+van)"
    r"(?:\s+(?:de|der|den))?\s+$"
)
_NOT_A_FIRST_NAME = {"gemeente", "regio", "rechtbank", "provincie", "locatie", "vestiging", "raad",
                     "stad", "kantoor", "team", "universiteit", "hogeschool"}


def name_key(name: str) -> str:
    """How names are compared: lower case, one space, one kind of apostrophe."""
    return " ".join(name.replace("’", "'").split()).lower()


def without_accents(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Place:
    """What a name written in a mail can stand for."""

    name: str  # as listed: "Den Haag", "'s-Gravenhage", "rechtbank Limburg"
    municipalities: tuple[str, ...] = ()  # CBS names; more than one: it may be any of them
    provinces: tuple[str, ...] = ()
    regions: tuple[tuple[str, str], ...] = ()  # (organisation, region) that carry this name
    common_word: bool = False

    @property
    def is_place(self) -> bool:
        return bool(self.municipalities or self.provinces)

    def merged(self, other: Place) -> Place:
        return Place(
            self.name,
            _union(self.municipalities, other.municipalities),
            _union(self.provinces, other.provinces),
            _union(self.regions, other.regions),
            self.common_word or other.common_word,
        )


@dataclass(frozen=True)
class Mention:
    """A place name found in a text."""

    place: Place
    written: str  # as it stands in the text
    start: int
    after_keyword: bool  # "regio Breda", "locatie Zwolle", "RvdK Haaglanden"


class PlaceIndex:
    """All known names, compiled once; `find` scans a text in one pass."""

    def __init__(self, places: Iterable[Place]) -> None:
        self._places: dict[str, Place] = {}
        for place in places:
            for spelling in {place.name, without_accents(place.name)}:
                key = name_key(spelling)
                known = self._places.get(key)
                self._places[key] = known.merged(place) if known else place
        trie = _trie_pattern(self._places)
        self._pattern = re.compile(rf"(?<![\w@/.])(?:{trie})(?![\w@]|\.\w)", re.IGNORECASE)

    def __len__(self) -> int:
        return len(self._places)

    def get(self, name: str) -> Place | None:
        return self._places.get(name_key(name))

    def find(self, text: str) -> list[Mention]:
        mentions = []
        for hit in self._pattern.finditer(text):
            place = self._places[name_key(hit.group())]
            before = text[max(0, hit.start() - 80):hit.start()]
            at_start = hit.start() <= 80
            keyword = bool(_KEYWORD.search(before))
            if not place.is_place and not keyword:
                continue
            if place.common_word and not _written_as_name(hit.group(), place, before, at_start):
                continue
            if _is_surname(before, at_start):
                continue
            mentions.append(Mention(place, hit.group(), hit.start(), keyword))
        return mentions


def _written_as_name(written: str, place: Place, before: str, at_start: bool) -> bool:
    if " ".join(written.split()) not in (place.name, without_accents(place.name)):
        return False  # "best", "BEST": not the capitalised name
    return bool(_CONTEXT.search(before)) or not _sentence_start(before, at_start)


def _sentence_start(before: str, at_start: bool) -> bool:
    """Whether the text before a word ends a sentence (a wrapped line does not)."""
    stripped = before.rstrip()
    if before[len(stripped):].count("\n") >= 2:
        return True  # after a blank line
    if not stripped:
        return at_start
    return stripped[-1] in ".!?:;•*>"


def _is_surname(before: str, at_start: bool) -> bool:
    found = _SURNAME.search(before)
    if not found:
        return False
    if found.group("van"):  # "Van Beek" is a surname, "Van Beek naar Echt" starts a sentence
        return not _sentence_start(before[:found.start()], at_start)
    first = found.group("first")
    return first is None or first.lower() not in _NOT_A_FIRST_NAME


def _trie_pattern(keys: Iterable[str]) -> str:
    """One regular expression for all keys, shaped as a trie (longest name wins)."""
    root: dict[str, dict] = {}
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_branch(root)


def _trie_branch(node: dict[str, dict]) -> str:
    branches = [_char(char) + _trie_branch(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        return body + "?" if len(branches) == 1 and len(body) == 1 else f"(?:{body})?"
    return body


def _char(char: str) -> str:
    if char == " ":
        return r"\s+"
    if char == "'":
        return "['’]"
    return re.escape(char)


def _union(first: tuple, second: tuple) -> tuple:
    return first + tuple(item for item in second if item not in first)
