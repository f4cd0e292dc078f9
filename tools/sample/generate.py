"""Generate the ILLUSTRATIVE sample mailboxes, labels and contact directory.

    python -m tools.sample.generate [--out DIR]      (make sample)

Writes, below DIR (default: bot/sample, the product's package data):
  mailbox/{ind,dtv,rvdk}/{cur,new,tmp}/   three Maildir folders with the sample mail
  mailbox/{ind,dtv,rvdk}/.Sent/{cur,new,tmp}/   their sent items: the answers (Maildir++)
  labelled.jsonl, heldout.jsonl           labels of every question (80/20 split)
  contacts.csv                            the illustrative contact-person directory

Everything is invented: people, addresses, numbers and cases. The output is
deterministic: a fixed seed, fixed dates, fixed Message-IDs and fixed MIME boundaries, so
that two runs give byte-identical files (the tests check that against the committed copy).

How a message is made: every question is composed from many independent choices (asker
kind and role, theme, answering organisation, place, case facts drawn from combinable
pieces, question wordings, greeting, closing, signature, register, typos), then wrapped
(reply chain, forward, English), then rendered the way a mail client would (Outlook HTML,
plain text, multipart/alternative, attachments, charsets). Automatic replies and bounces
are made afterwards, in answer to questions in the same mailbox. Last come the answers of
the contact persons, each after a response time that depends on the organisation and
region, from random streams of their own (so the questions stay the same when they change).

Phrase templates use a tiny syntax: `[a|b|c]` picks one alternative (nesting allowed, an
empty alternative drops the piece) and `{slot}` fills a case fact; `{Slot}` fills it with
a capital first letter.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import html
import json
import math
import random
import re
import sys
import textwrap
import tomllib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage, Message
from email.utils import format_datetime, formataddr
from pathlib import Path
from zoneinfo import ZoneInfo

from classifiers.text import complete_bsn

# =====================================================================================
# The mix
# =====================================================================================

SEED = 20261129
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA_DIR = ROOT / "rules" / "data"
SAMPLE = ROOT / "bot" / "sample"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # where the sample goes: package data of the product
# What people write, their names, places and offices: data files beside this script, one per topic
DATA = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted((HERE / "data").glob("*.json"))}

FIRST_DAY = date(2026, 9, 1)
LAST_DAY = date(2026, 11, 30)

# mailbox name -> (organisation that owns it, address, display name)
MAILBOXES = {
    "ind": ("IND", "bvhk@ind.example", "Belang van het Kind IND"),
    "dtv": ("DT&V", "bvhk@dtv.example", "Functionele mailbox BvhK DT&V"),
    "rvdk": ("RvdK", "bvhk@rvdk.example", "Contactpersonen Belang van het Kind RvdK"),
}
MAILBOX_OF = {org: name for name, (org, _, _) in MAILBOXES.items()}
ANSWERING = ("IND", "DT&V", "RvdK")
ASKER_KINDS = ("IND", "DT&V", "RvdK", "Nidos", "COA", "GI", "gemeente", "advocatuur", "overig")

# questions per answering organisation; auto-replies and bounces come on top
QUESTIONS = {"IND": 186, "DT&V": 116, "RvdK": 162}
AUTO_REPLIES = 26
BOUNCES = 16

SHARE_WRONG_MAILBOX = 0.11  # sent straight to another organisation's mailbox
SHARE_NO_PLACE = 0.12
SHARE_ENGLISH = 0.03
SHARE_REPLY = 0.18
SHARE_FORWARD = 0.11
SHARE_ATTACHMENT = 0.13
SHARE_TYPOS = 0.2
SHARE_LATIN1 = 0.05
HELDOUT_EVERY = 5  # every 5th question (by message number) goes to heldout.jsonl

# who asks, per answering organisation (weights)
ASKERS_FOR = {
    "IND": {"RvdK": 22, "GI": 13, "Nidos": 13, "advocatuur": 12, "gemeente": 10, "COA": 8,
            "DT&V": 9, "IND": 7, "overig": 6},
    "DT&V": {"IND": 16, "RvdK": 15, "GI": 14, "Nidos": 14, "COA": 13, "advocatuur": 8,
             "gemeente": 8, "DT&V": 7, "overig": 5},
    "RvdK": {"IND": 22, "DT&V": 12, "RvdK": 12, "GI": 10, "Nidos": 10, "gemeente": 12,
             "COA": 8, "advocatuur": 7, "overig": 7},
}

# themes per answering organisation (weights) ...
THEMES_FOR = {
    "IND": {"kinderbeschermingsmaatregelen": 16, "gezag-en-omgang": 13, "strafrecht": 10,
            "voogdij": 9, "dublin-en-nareis": 12, "chavez": 13,
            "illegale-opneming-en-pleegzorg": 8, "gegevensdeling": 6, "voorlichting": 5,
            "overig": 8},
    "DT&V": {"kinderbeschermingsmaatregelen": 20, "gezag-en-omgang": 10, "strafrecht": 10,
             "voogdij": 14, "dublin-en-nareis": 12, "chavez": 5,
             "illegale-opneming-en-pleegzorg": 3, "gegevensdeling": 9, "voorlichting": 7,
             "overig": 10},
    "RvdK": {"kinderbeschermingsmaatregelen": 17, "gezag-en-omgang": 14, "strafrecht": 8,
             "voogdij": 13, "dublin-en-nareis": 8, "chavez": 9,
             "illegale-opneming-en-pleegzorg": 10, "gegevensdeling": 8, "voorlichting": 7,
             "overig": 6},
}
# ... and how the asker's kind shifts them
THEME_BIAS = {
    "Nidos": {"voogdij": 3.0, "dublin-en-nareis": 1.5},
    "GI": {"kinderbeschermingsmaatregelen": 2.5, "gezag-en-omgang": 1.3},
    "advocatuur": {"chavez": 2.0, "gezag-en-omgang": 2.0, "strafrecht": 1.5, "voorlichting": 0.2},
    "COA": {"voorlichting": 2.0, "voogdij": 1.5, "dublin-en-nareis": 1.3},
    "gemeente": {"chavez": 1.5, "illegale-opneming-en-pleegzorg": 2.0, "voorlichting": 2.0,
                 "gegevensdeling": 1.5},
    "overig": {"voorlichting": 2.0, "illegale-opneming-en-pleegzorg": 2.0, "overig": 2.0},
    "RvdK": {"gezag-en-omgang": 1.3},
    "IND": {"dublin-en-nareis": 1.4, "chavez": 1.4},
}

# =====================================================================================
# Reference data: themes, regions, municipalities (read from rules/data)
# =====================================================================================


@dataclass(frozen=True)
class Reference:
    themes: tuple[str, ...]
    province_of: dict[str, str]  # CBS municipality -> province
    regions: tuple[dict, ...]

    def region(self, organisation: str, municipality: str | None) -> str | None:
        """The answering organisation's region for a municipality: municipalities win."""
        if municipality is None:
            return None
        mine = [r for r in self.regions if r["organisation"] == organisation]
        for r in mine:
            if municipality in r.get("municipalities", ()):
                return r["name"]
        province = self.province_of[municipality]
        for r in mine:
            if province in r.get("provinces", ()):
                return r["name"]
        raise ValueError(f"no {organisation} region for {municipality} ({province})")

    def region_names(self, organisation: str) -> list[str]:
        return [r["name"] for r in self.regions if r["organisation"] == organisation]


def load_reference(data_dir: Path = DATA_DIR) -> Reference:
    with open(data_dir / "themes.toml", "rb") as f:
        themes = tuple(t["key"] for t in tomllib.load(f)["theme"])
    with open(data_dir / "regions.toml", "rb") as f:
        regions = tuple(tomllib.load(f)["region"])
    with open(data_dir / "gemeenten-2025.csv", encoding="utf-8", newline="") as f:
        province_of = {row["Gemeentenaam"]: row["Provincienaam"] for row in csv.DictReader(f)}
    return Reference(themes=themes, province_of=province_of, regions=regions)


# =====================================================================================
# Places, as people write them -> CBS municipality
# =====================================================================================


@dataclass(frozen=True)
class Place:
    text: str  # as written in the mail
    municipality: str  # CBS name (the label)
    weight: int = 1
    tags: frozenset[str] = frozenset()  # azc: reception centre; court: court seat; jji

    @property
    def court(self) -> str | None:
        return COURTS.get(self.municipality) if "court" in self.tags else None


def _places(rows: str) -> tuple[Place, ...]:
    out = []
    for line in rows.strip().splitlines():
        text, municipality, weight, *tags = [part.strip() for part in line.split(";")]
        out.append(Place(text, municipality, int(weight), frozenset(" ".join(tags).split())))
    return tuple(out)


# text as written ; CBS municipality ; weight ; tags
PLACES = _places("\n".join(DATA["places"]["PLACES"]))

# court seats (CBS municipality -> how people name the court)
COURTS = DATA["places"]["COURTS"]

# how a municipality is called in a sender's domain and in "Gemeente X"
EVERYDAY_NAME = DATA["places"]["EVERYDAY_NAME"]

# =====================================================================================
# People (all invented)
# =====================================================================================

FEMALE = DATA["people"]["FEMALE"]
MALE = DATA["people"]["MALE"]
SURNAMES = DATA["people"]["SURNAMES"]

# foreign names for children and parents, per name pool
NAME_POOLS = DATA["people"]["NAME_POOLS"]

# (adjective, country, name pool); asylum countries and regular-migration countries
ASYLUM_ORIGINS = DATA["people"]["ASYLUM_ORIGINS"]
REGULAR_ORIGINS = DATA["people"]["REGULAR_ORIGINS"]
DUBLIN_STATES = DATA["people"]["DUBLIN_STATES"]

MONTHS = DATA["people"]["MONTHS"]
MONTHS_SHORT = DATA["people"]["MONTHS_SHORT"]
WEEKDAYS = DATA["people"]["WEEKDAYS"]
WEEKDAYS_SHORT = DATA["people"]["WEEKDAYS_SHORT"]
EN_MONTHS = DATA["people"]["EN_MONTHS"]

# =====================================================================================
# Contact persons (the illustrative directory, contacts.csv)
# =====================================================================================

CONTACT_COLUMNS = DATA["contacts"]["CONTACT_COLUMNS"]
# name, organisation, region, location, themes, capacity, active, role, deputy (by name)
CONTACTS = DATA["contacts"]["CONTACTS"]
ORG_DOMAIN = DATA["contacts"]["ORG_DOMAIN"]


def contact_email(name: str, organisation: str) -> str:
    first, *rest = name.split()
    return f"{first[0].lower()}.{slug(''.join(rest))}@{ORG_DOMAIN[organisation]}"


def contact_rows() -> list[dict[str, str]]:
    email_of = {name: contact_email(name, org) for name, org, *_ in CONTACTS}
    rows = []
    for name, org, region, location, themes, capacity, active, role, deputy in CONTACTS:
        rows.append({"name": name, "email": email_of[name], "organisation": org, "region": region,
                     "location": location, "themes": themes, "capacity": str(capacity),
                     "active": active, "role": role, "deputy": email_of[deputy] if deputy else ""})
    return rows


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Súdwest-Fryslân' -> 'sudwestfryslan'."""
    table = str.maketrans("áàâäéèêëíìîïóòôöúùûüçşğıñ", "aaaaeeeeiiiioooouuuucsgin")
    return re.sub(r"[^a-z0-9]", "", text.lower().translate(table))

# =====================================================================================
# The dice and the phrase engine
# =====================================================================================


class Dice(random.Random):
    """random.Random with the few choices the generator needs, named for reading."""

    def chance(self, p: float) -> bool:
        return self.random() < p

    def pick(self, items):
        return items[self.randrange(len(items))]

    def weighted(self, weights: dict):
        keys = list(weights)
        return self.choices(keys, weights=[weights[k] for k in keys])[0]

    def some(self, items, low: int, high: int) -> list:
        return self.sample(list(items), min(len(items), self.randint(low, high)))


_ALTERNATIVES = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def expand(template: str, ctx: dict, dice: Dice) -> str:
    """Resolve `[a|b]` choices (innermost first), then fill `{slot}`s from ctx, then tidy."""
    return tidy(_expand(template, ctx, dice))


def _expand(template: str, ctx: dict, dice: Dice) -> str:
    text = template
    while (m := _ALTERNATIVES.search(text)) is not None:
        text = text[: m.start()] + dice.pick(m.group(1).split("|")) + text[m.end():]

    def fill(m: re.Match) -> str:
        key = m.group(1)
        lower = key[0].lower() + key[1:]
        value = ctx[key] if key in ctx else ctx[lower]
        if callable(value):
            value = value(dice)
        elif isinstance(value, (list, tuple)):
            value = dice.pick(value)
        value = str(value)
        if "[" in value or "{" in value:
            value = _expand(value, ctx, dice)
        return value[:1].upper() + value[1:] if key[0].isupper() else value

    return _SLOT.sub(fill, text)


def tidy(text: str) -> str:
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r" +([,.;:?!)])", r"\1", text)
    text = re.sub(r"\( +", "(", text)
    text = re.sub(r",\s*,", ",", text)
    text = re.sub(r"\.\.(?!\.)", ".", text)
    text = text.strip()
    return text[:1].upper() + text[1:]


def sentences(dice: Dice, templates, ctx: dict, low: int, high: int) -> list[str]:
    return [expand(t, ctx, dice) for t in dice.some(templates, low, high)]


# Formal register: "jullie" becomes "u", and the verb next to it follows.
_U_VERBS = {
    "kunnen": "kunt", "hebben": "heeft", "zijn": "bent", "weten": "weet", "willen": "wilt", "zouden": "zou",
    "reageren": "reageert", "nemen": "neemt", "geven": "geeft", "bewaren": "bewaart", "doen": "doet",
    "mogen": "mag", "vinden": "vindt", "denken": "denkt", "wegen": "weegt", "kijken": "kijkt", "schikken": "schikt",
}
_U_NOUNS = ("reactie|advies|antwoord|mening|oordeel|inzet|kant|beleid|werkwijze|organisatie|dienst|expertise|"
            "visie|contactpersoon|team|collega's|bericht|hulp|standpunt|dossier|regio")

_PREPOSITIONS = {"bij", "van", "met", "aan", "voor", "naar", "door", "over", "op", "tot", "om", "zonder"}


def _verb_u(verb: str) -> str:
    singular = _U_VERBS.get(verb.lower())
    if singular is None:
        return verb
    return singular[:1].upper() + singular[1:] if verb[0].isupper() else singular


def formal(text: str) -> str:
    text = re.sub(r"\b(\w+) jullie\b", lambda m: f"{_verb_u(m.group(1))} jullie", text)
    text = re.sub(r"\b(\w+) jullie (\w+)\b", lambda m: m.group(0) if m.group(1).lower() in _PREPOSITIONS
                  else f"{m.group(1)} jullie {_verb_u(m.group(2))}", text)
    text = re.sub(r"\bjullie (mij|me|ons|hier|daar|dit|dat) (\w+)\b",
                  lambda m: f"jullie {m.group(1)} {_verb_u(m.group(2))}", text)
    text = re.sub(rf"\b([Jj])ullie ({_U_NOUNS})\b",
                  lambda m: ("U" if m.group(1) == "J" else "u") + "w " + m.group(2), text)
    text = re.sub(r"\bJullie\b", "U", text)
    text = re.sub(r"\bjullie\b", "u", text)
    text = re.sub(r"\b([Jj])ouw\b", lambda m: ("U" if m.group(1) == "J" else "u") + "w", text)
    text = re.sub(r"\b(je|jij)\b", "u", text)
    return text


# Typos people make: swapped letters, a dropped or doubled letter, d/t, a missing capital.
_DT = [("wordt", "word"), ("Wordt", "Word"), ("gebeurd", "gebeurt"), ("beantwoord", "beantwoordt"),
       ("vindt", "vind"), ("gebeurt", "gebeurd"), ("antwoordt", "antwoord")]


def add_typos(text: str, dice: Dice, n: int) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    for i in dice.some(candidates, n, n):
        w = words[i]
        j = dice.randrange(1, len(w) - 2)
        kind = dice.randrange(4)
        if kind == 0:
            w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        elif kind == 1:
            w = w[:j] + w[j + 1:]
        elif kind == 2:
            w = w[:j] + w[j] + w[j:]
        else:
            w = w[:j] + dice.pick("aeiosntr") + w[j + 1:]
        words[i] = w
    text = " ".join(words)
    for right, wrong in _DT:
        if right in text and dice.chance(0.3):
            text = text.replace(right, wrong, 1)
    if dice.chance(0.25):
        text = re.sub(r"\. ([A-Z])", lambda m: ". " + m.group(1).lower(), text, count=1)
    if dice.chance(0.2):
        text = text.replace(". ", ".", 1)
    return text


# =====================================================================================
# Dates and numbers
# =====================================================================================


def local(naive: datetime) -> datetime:
    """A naive Amsterdam wall-clock time made aware (summer and winter time from zoneinfo)."""
    return naive.replace(tzinfo=AMSTERDAM)


def pick_moment(dice: Dice) -> datetime:
    """A moment in Sept-Nov 2026, mostly on working days and during office hours."""
    days = (LAST_DAY - FIRST_DAY).days + 1
    while True:
        day = FIRST_DAY + timedelta(days=dice.randrange(days))
        if day.weekday() < 5 or dice.chance(0.08):
            break
    if dice.chance(0.88):
        minutes = dice.choice([dice.randint(450, 720), dice.randint(750, 1080)])
    else:
        minutes = dice.randint(1080, 1400) if dice.chance(0.8) else dice.randint(360, 450)
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes, seconds=dice.randrange(60))
    return local(naive)


def later(moment: datetime, dice: Dice, low_hours: float, high_hours: float) -> datetime:
    naive = moment.replace(tzinfo=None) + timedelta(minutes=dice.randint(int(low_hours * 60), int(high_hours * 60)))
    last = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 23, 50)
    return local(min(naive, last))


def earlier(moment: datetime, dice: Dice, low_days: int, high_days: int) -> datetime:
    naive = moment.replace(tzinfo=None) - timedelta(days=dice.randint(low_days, high_days),
                                                    minutes=dice.randint(0, 400))
    if naive.weekday() >= 5:
        naive -= timedelta(days=naive.weekday() - 4)
    naive = naive.replace(hour=dice.randint(8, 16))
    return local(naive)


def between(start: datetime, end: datetime, dice: Dice) -> datetime:
    """A moment during office hours on a working day between two moments (the answer in a thread)."""
    naive = (start + (end - start) * dice.uniform(0.3, 0.8)).replace(tzinfo=None)
    if naive.weekday() >= 5:
        naive -= timedelta(days=naive.weekday() - 4)
    naive = naive.replace(hour=dice.randint(8, 16), minute=dice.randrange(60))
    return local(max(naive, start.replace(tzinfo=None) + timedelta(minutes=30)))


def nl_date(d: date, dice: Dice, style: str | None = None) -> str:
    style = style or dice.pick(["long", "long", "dash", "weekday", "short"])
    if style == "long":
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    if style == "dash":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if style == "weekday":
        return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]}"
    return f"{d.day} {MONTHS_SHORT[d.month - 1]}"


def en_date(d: date) -> str:
    return f"{d.day} {EN_MONTHS[d.month - 1]} {d.year}"


def bsn(dice: Dice) -> str:
    """Nine digits that pass the eleven-test (invented)."""
    while True:
        number = complete_bsn("".join(map(str, [dice.randint(1, 6)] + [dice.randrange(10) for _ in range(7)])))
        if number:
            return number


def v_number(dice: Dice) -> str:
    return str(dice.randint(1, 3)) + "".join(str(dice.randrange(10)) for _ in range(9))


def phone(dice: Dice) -> str:
    """06-97 numbers are machine-to-machine numbers in the Dutch plan: never a person's."""
    n = "".join(str(dice.randrange(10)) for _ in range(6))
    return dice.pick([f"06-97{n}", f"06 97 {n[:2]} {n[2:4]} {n[4:]}", f"+31 6 97{n}",
                      f"088 - 97{n[:1]} {n[1:3]} {n[3:5]}"])


def postcode(dice: Dice) -> str:
    return f"{dice.randint(1000, 9999)} {dice.pick('ABCDEGHJKLMNPRSTVWXZ')}{dice.pick('ABCDEGHJKLMNPRSTVWXZ')}"

# =====================================================================================
# Askers: who writes, from which office, with what signature
# =====================================================================================

ROLES = DATA["askers"]["ROLES"]
ORG_NAMES = DATA["askers"]["ORG_NAMES"]
ORG_SHORT = DATA["askers"]["ORG_SHORT"]
IND_UNITS = DATA["askers"]["IND_UNITS"]
# offices of the three organisations, per region of that organisation
OFFICES = DATA["askers"]["OFFICES"]
GI_NAMES = DATA["askers"]["GI_NAMES"]
LAW_FIRMS = DATA["askers"]["LAW_FIRMS"]
# overig: (role, organisation, domain or None for a private address)
OTHER_ASKERS = DATA["askers"]["OTHER_ASKERS"]
PRIVATE_DOMAINS = DATA["askers"]["PRIVATE_DOMAINS"]
STREETS = DATA["askers"]["STREETS"]


@dataclass
class Asker:
    kind: str  # asking_organisation label
    first: str
    last: str
    female: bool
    email: str
    display: str
    role: str
    org_name: str  # "Raad voor de Kinderbescherming", "Gemeente Tilburg", ...
    unit: str  # "regio Breda", "locatie Zwolle", "Directie ...", ""
    office_city: str  # where the office is, as written
    phone: str
    formal: bool
    client: str  # outlook | gmail | apple | thunderbird
    sig_style: str
    disclaimer: str  # key into DISCLAIMERS, or ""
    firm_slug: str = ""

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def outlook_display(first: str, last: str, suffix: str = "") -> str:
    """Rijks Outlook: 'Vries, Anna de' (tussenvoegsel after the first name)."""
    parts = last.split()
    prefix = [p for p in parts if p[0].islower()]
    core = " ".join(p for p in parts if not p[0].islower())
    name = f"{core}, {first}" + (" " + " ".join(prefix) if prefix else "")
    return name + suffix


def make_asker(dice: Dice, kind: str, place: Place | None, ref: Reference) -> Asker:
    female = dice.chance(0.68)
    first = dice.pick(FEMALE if female else MALE)
    last = dice.pick(SURNAMES)
    compact = slug(last)
    dotted = ".".join(slug(p) for p in last.split())
    role = dice.pick(ROLES.get(kind, ["medewerker"]))
    province = ref.province_of[place.municipality] if place else None
    a = dict(kind=kind, first=first, last=last, female=female, role=role, phone=phone(dice),
             formal=False, client="outlook", sig_style=dice.pick(["plain", "gov", "gov", "short", "compact"]),
             disclaimer="", unit="", office_city="", org_name=ORG_NAMES.get(kind, ""))
    if kind in ("IND", "DT&V", "RvdK"):
        regions = list(OFFICES[kind])
        region = ref.region(kind, place.municipality) if place and dice.chance(0.75) else dice.pick(regions)
        a["office_city"] = dice.pick(OFFICES[kind][region])
        if kind == "IND":
            a["unit"] = f"{dice.pick(IND_UNITS)} | locatie {a['office_city']}"
            email = f"{first[0].lower()}.{dotted}@ind.example"
            display = outlook_display(first, last, dice.pick(["", "", " - IND"]))
        elif kind == "DT&V":
            a["unit"] = dice.pick([f"regio {region}", f"regio {region} | locatie {a['office_city']}"])
            email = f"{slug(first)}.{compact}@dtv.example"
            display = outlook_display(first, last, dice.pick(["", " - DT&V"]))
        else:
            a["unit"] = dice.pick([f"regio {region}", f"regio {region}, vestiging {a['office_city']}"])
            email = f"{first[0].lower()}.{compact}@rvdk.example"
            display = outlook_display(first, last)
        a["disclaimer"] = dice.pick(["rijk", "rijk", "rijk-kort", ""])
    elif kind == "Nidos":
        region = ref.region("DT&V", place.municipality) if place else dice.pick(list(OFFICES["DT&V"]))
        a["unit"] = f"regio {region}"
        email = f"{first[0].lower()}{compact}@nidos.example"
        display = f"{first} {last}"
        a["disclaimer"] = dice.pick(["nidos", ""])
    elif kind == "COA":
        azc = place if place and "azc" in place.tags else dice.pick([p for p in PLACES if "azc" in p.tags])
        a["office_city"] = azc.text
        a["unit"] = f"locatie {azc.text}"
        email = f"{first[0].lower()}.{slug(last.split()[-1])}@coa.example"
        display = f"{first} {last}"
        a["disclaimer"] = dice.pick(["coa", "", ""])
    elif kind == "GI":
        gi_region = GI_NAMES[province] if province else ""
        if province and dice.chance(0.6):
            a["org_name"] = f"Jeugdbescherming {gi_region}"
            email = f"{slug(first)}.{dotted}@jeugdbescherming.example"
        else:
            a["org_name"] = "Leger des Heils Jeugdbescherming & Reclassering"
            a["unit"] = f"regio {gi_region}" if gi_region else ""
            email = f"{first[0].lower()}.{compact}@legerdesheils.example"
        display = f"{first} {last}"
        a["disclaimer"] = dice.pick(["gi", ""])
    elif kind == "gemeente":
        assert place is not None, "a municipality asks about its own inhabitants"
        town = EVERYDAY_NAME.get(place.municipality, place.municipality)
        a["org_name"] = f"Gemeente {town}"
        a["unit"] = dice.pick(["Team Jeugd", "Sociaal Domein", "Wijkteam", "Publiekszaken", ""])
        a["office_city"] = town
        email = f"{first[0].lower()}.{compact}@{slug(town)}.gemeente.example"
        display = f"{first} {last}"
        a["disclaimer"] = dice.pick(["gemeente", ""])
        a["formal"] = dice.chance(0.4)
    elif kind == "advocatuur":
        firm, firm_slug = dice.pick(LAW_FIRMS)
        a.update(org_name=firm, firm_slug=firm_slug, sig_style="advocaat", formal=dice.chance(0.85),
                 disclaimer=dice.pick(["advocaat", "advocaat", ""]),
                 client=dice.pick(["outlook", "outlook", "outlook", "apple", "gmail", "thunderbird"]))
        big_cities = ["Amsterdam", "Utrecht", "Rotterdam", "Den Haag", "Breda", "Arnhem"]
        a["office_city"] = place.text if place and dice.chance(0.6) else dice.pick(big_cities)
        email = f"{first[0].lower()}.{compact}@{firm_slug}.advocaten.example"
        display = f"mr. {first[0]}. {last}" if dice.chance(0.4) else f"{first} {last}"
    else:  # overig
        role, org, domain = dice.pick(OTHER_ASKERS)
        a.update(role=role, org_name=org, formal=dice.chance(0.7),
                 client=dice.pick(["gmail", "gmail", "apple", "outlook", "thunderbird", "thunderbird"]))
        if domain is None:
            joint, year = dice.pick([".", "_", ""]), dice.pick(["", "", str(dice.randint(70, 99))])
            email = f"{slug(first)}{joint}{compact}{year}@{dice.pick(PRIVATE_DOMAINS)}"
            a["sig_style"] = "short"
        else:
            email = f"{first[0].lower()}.{compact}@{domain}"
            a["sig_style"] = dice.pick(["plain", "compact", "short"])
        display = f"{first} {last}"
    if kind not in ("advocatuur", "overig") and dice.chance(0.06):
        a["client"] = "gmail"  # a personal account now and then
    return Asker(email=email, display=display, **a)


DISCLAIMERS = DATA["askers"]["DISCLAIMERS"]
SIGN_OFFS = DATA["askers"]["SIGN_OFFS"]
FORMAL_SIGN_OFFS = DATA["askers"]["FORMAL_SIGN_OFFS"]


def signature(asker: Asker, dice: Dice, show_office: bool) -> list[str]:
    """The lines under the sign-off. Without `show_office` no place is named."""
    org_line = asker.org_name + (f" | {asker.unit}" if asker.unit else "")
    if not show_office:
        org_line = asker.org_name
    style = asker.sig_style
    if style == "short":
        return [dice.pick([asker.first, asker.name, asker.first[0] + ". " + asker.last])]
    if style == "compact":
        lines = [f"{asker.name} | {asker.role}" + (f" | {asker.org_name}" if asker.org_name else "")]
        return lines + ([f"T {asker.phone}"] if dice.chance(0.7) else [])
    if style == "advocaat":
        lines = [f"mr. {asker.first[0]}. {asker.last}", asker.role.capitalize(), "", asker.org_name]
        if show_office:
            lines += [f"{dice.pick(STREETS)} {dice.randint(2, 180)}", f"{postcode(dice)} {asker.office_city}"]
        lines += [f"T {asker.phone}", f"www.{asker.firm_slug}.advocaten.example"]
        return lines
    if style == "gov" and asker.kind in ("IND", "DT&V", "RvdK"):
        rule = dice.pick(["." * 50, "_" * 40, ""])
        lines = [asker.name, asker.role.capitalize()]
        lines += [rule] if rule else []
        lines += [ORG_NAMES[asker.kind]]
        if asker.kind != "RvdK" or dice.chance(0.5):
            lines += ["Ministerie van Justitie en Veiligheid"]
        if show_office and asker.unit:
            lines += [asker.unit[:1].upper() + asker.unit[1:]]
            if dice.chance(0.5):
                lines += [f"Postbus {dice.randint(100, 30000)} | {postcode(dice)} {asker.office_city}"]
        lines += [rule] if rule else []
        lines += [f"M {asker.phone}", asker.email]
        if dice.chance(0.35):
            lines += [dice.pick(["Werkdagen: ma, di, do", "Ik werk op maandag t/m donderdag",
                                 "Aanwezig: di, wo, vr", "Niet aanwezig op woensdag"])]
        return lines
    lines = [asker.name, asker.role.capitalize()]
    if org_line:
        lines.append(org_line)
    if dice.chance(0.6):
        lines.append(f"{dice.pick(['T', 'Tel.', 'Telefoon:', 'M'])} {asker.phone}")
    return lines

# =====================================================================================
# What people write, per theme
# =====================================================================================
# places: sentences that name the place; a prefix "azc:", "court:" or "jji:" limits a
#   sentence to places with that tag.
# questions: per answering organisation, plus "any" for all three; a prefix "§IND,RvdK§"
#   limits a question to those asker kinds.

THEME_TEXT: dict[str, dict] = DATA["themes"]["THEME_TEXT"]











DELICTS = DATA["themes"]["DELICTS"]
RELATIVES = DATA["themes"]["RELATIVES"]
CHILD_AGE = DATA["themes"]["CHILD_AGE"]

# Generic pieces of a mail
GREETINGS = DATA["phrases"]["GREETINGS"]
FORMAL_GREETINGS = DATA["phrases"]["FORMAL_GREETINGS"]
OPENINGS = DATA["phrases"]["OPENINGS"]
WRONG_BOX = DATA["phrases"]["WRONG_BOX"]
SECONDARY = DATA["phrases"]["SECONDARY"]
QUESTION_LEADS = DATA["phrases"]["QUESTION_LEADS"]
QUESTION_LIST_LEADS = DATA["phrases"]["QUESTION_LIST_LEADS"]
IDENTIFIERS = DATA["phrases"]["IDENTIFIERS"]
URGENCY = DATA["phrases"]["URGENCY"]
CLOSINGS = DATA["phrases"]["CLOSINGS"]
FORMAL_CLOSINGS = DATA["phrases"]["FORMAL_CLOSINGS"]
ATTACHMENT_NOTES = DATA["phrases"]["ATTACHMENT_NOTES"]

# Replies, reminders and forwards
FOLLOW_UPS = DATA["threads"]["FOLLOW_UPS"]
REMINDERS = DATA["threads"]["REMINDERS"]
CLARIFY_ASKS = DATA["threads"]["CLARIFY_ASKS"]
CLARIFY_ANSWERS = DATA["threads"]["CLARIFY_ANSWERS"]
REDIRECT_NOTES = DATA["threads"]["REDIRECT_NOTES"]
COLLEAGUE_NOTES = [
    "Namens mijn collega {asker_first} stuur ik onderstaande vraag door. [{Asker_pronoun} is vandaag afwezig.|Graag rechtstreeks aan {asker_pronoun_obj} antwoorden.]",
    "Ik stuur jullie onderstaande vraag van [mijn collega|onze {asker_role}] door. [Willen jullie in de cc reageren?|Kunnen jullie hiernaar kijken?]",
]
THIRD_PARTIES = DATA["threads"]["THIRD_PARTIES"]

# Automatic replies
OOO_NL = DATA["automatic"]["OOO_NL"]
OOO_EN = [
    "Thank you for your email. I am out of the office until {to_day_en} with limited access to email. For urgent matters please contact {colleague}.",
    "I am currently on leave and will return on {to_day_en}. Your message will not be forwarded.",
]
ACK_NL = ["Bedankt voor uw e-mail. Wij hebben uw bericht in goede orde ontvangen. U ontvangt binnen vijf werkdagen een reactie.\n\nDit is een automatisch gegenereerd bericht; u kunt hier niet op antwoorden."]

# English questions (about 3 per cent): people write in English to the Dutch mailboxes too
EN_ASKERS = DATA["english"]["EN_ASKERS"]
EN_THEMES = DATA["english"]["EN_THEMES"]
EN_COUNTRIES = DATA["english"]["EN_COUNTRIES"]

# =====================================================================================
# Composing a question
# =====================================================================================


@dataclass
class Block:
    """A piece of a mail body: text, signature, disclaimer, or quoted/forwarded history."""

    kind: str  # text | sig | disclaimer | quote
    lines: list[str] = field(default_factory=list)
    header: list[tuple[str, str]] = field(default_factory=list)  # quote: Van/Verzonden/Aan/Onderwerp
    intro: str = ""  # quote: the line above the header, or "Op ... schreef ...:"
    style: str = ""  # quote: header (Outlook-like block) | gt ("> " quoting)
    children: list["Block"] = field(default_factory=list)


@dataclass
class Draft:
    """One message before rendering: who, when, what, and how its client writes it."""

    kind: str  # question | auto_reply | bounce
    mailbox: str
    moment: datetime
    subject: str
    from_name: str
    from_email: str
    to: list[tuple[str, str]]
    blocks: list[Block] = field(default_factory=list)
    client: str = "outlook"
    body_format: str = "plain"  # plain | alternative | html
    charset: str = "utf-8"
    cc: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    logo: bool = False
    depth: int = 0  # earlier messages in the thread (In-Reply-To / References)
    labels: dict | None = None
    tags: set[str] = field(default_factory=set)
    headers: list[tuple[str, str]] = field(default_factory=list)
    asker: Asker | None = None  # the person asking (for a forward: not the sender)
    place: Place | None = None  # the place the question is about
    about: "Draft | None" = None  # auto-reply or bounce: the question it follows
    bounce: dict | None = None
    order: int = 0
    seq: int = 0


@dataclass
class Case:
    """Everything one question is about; ctx feeds the phrase templates."""

    theme: str
    organisation: str  # who should answer
    asker: Asker
    place: Place | None
    moment: datetime
    mailbox: str
    ctx: dict
    formal: bool
    ref: Reference


def neuter(adjective: str) -> str:
    """'Syrische' -> 'Syrisch', 'Eritrese' -> 'Eritrees': the form before a het-word after 'een'."""
    stem = adjective[:-1]
    if stem.endswith("es") and stem[-3] not in "aeiou":
        stem = stem[:-1] + "es"
    return stem


def make_ctx(dice: Dice, theme: str, place: Place | None, moment: datetime, asker: Asker) -> dict:
    regular = theme in ("chavez", "gezag-en-omgang", "illegale-opneming-en-pleegzorg") and dice.chance(0.75)
    adjective, country, pool = dice.pick(REGULAR_ORIGINS if regular else ASYLUM_ORIGINS)
    girls, boys, surnames = NAME_POOLS[pool]
    girl = dice.chance(0.5)
    first, last = dice.pick(girls if girl else boys), dice.pick(surnames)
    low, high = CHILD_AGE.get(theme, (1, 17))
    age = dice.randint(max(low, 1), high)
    today = moment.date()
    born = today - timedelta(days=age * 365 + dice.randint(20, 340))
    past = today - timedelta(days=dice.randint(14, 300))
    coming = today + timedelta(days=dice.randint(5, 45))
    while coming.weekday() >= 5:
        coming += timedelta(days=1)
    noun = "het meisje" if girl else "de jongen"
    ctx = {
        "kind": [first, first, "het kind", "de minderjarige", noun, first, "de jeugdige" if dice.chance(0.3) else first],
        "hij": "zij" if girl else "hij", "zijn": "haar" if girl else "zijn", "hem": "haar" if girl else "hem",
        "zoon": "dochter" if girl else "zoon", "naam": first, "achternaam": last, "voluit": f"{first} {last}",
        "gb": nl_date(born, dice, dice.pick(["dash", "long", "dash"])), "leeftijd": str(age),
        "nat": adjective, "nat_o": neuter(adjective), "land": country, "land_en": EN_COUNTRIES[country],
        "moeder": ["moeder", "moeder", "de moeder", f"mevrouw {last}"],
        "vader": ["vader", "vader", "de vader", f"de heer {last}"],
        "lidstaat": dice.pick(DUBLIN_STATES),
        "dv": [nl_date(past, dice), nl_date(past - timedelta(days=dice.randint(20, 200)), dice)], "dt": nl_date(coming, dice, dice.pick(["long", "weekday", "dash", "weekday"])),
        "dv_short": dice.pick([f"{past.day} {MONTHS_SHORT[past.month - 1]}", f"{past.day}-{past.month}"]),
        "dt_short": dice.pick([f"{coming.day} {MONTHS[coming.month - 1]}", f"{coming.day}-{coming.month}"]),
        "dv_file": dice.pick([f"{past:%Y%m%d}", f"{past:%d-%m-%Y}", f"{past:%d%m%y}"]),
        "dt_en": en_date(coming), "maand": MONTHS[past.month - 1], "jaar": str(today.year - dice.randint(1, 6)),
        "vnr": v_number(dice), "bsn": bsn(dice), "aantal": dice.pick(["twee", "drie", "vier", "twee"]),
        "familielid": dice.pick(RELATIVES), "delict": dice.pick(DELICTS), "groep": str(dice.randint(3, 8)),
        "rol": asker.role, "org_kort": asker.org_name if asker.kind in ("GI",) else ORG_SHORT[asker.kind],
        "org_naam": asker.org_name or "een vrijwilligersorganisatie",
        "dagdeel": "Goedemorgen" if moment.hour < 12 else ("Goedemiddag" if moment.hour < 18 else "Goedenavond"),
    }
    if place is not None:
        ctx["p"] = place.text
        ctx["rechtbank"] = place.court or dice.pick(["de rechtbank", "de kinderrechter"])
    return ctx


def choose_place(dice: Dice, kind: str, theme: str) -> Place:
    pool = list(PLACES)
    if kind == "COA" and dice.chance(0.85) or theme in ("dublin-en-nareis", "voogdij") and dice.chance(0.35):
        pool = [p for p in PLACES if "azc" in p.tags]
    elif theme == "strafrecht" and dice.chance(0.3):
        pool = [p for p in PLACES if "jji" in p.tags]
    return dice.choices(pool, weights=[p.weight for p in pool])[0]


def place_sentence(dice: Dice, case: Case, theme: str | None = None) -> str:
    """One sentence that names the place, fitting the place's kind (azc, court, jji)."""
    place = case.place
    assert place is not None
    options = THEME_TEXT[theme or case.theme]["places"]
    fitting, plain = [], []
    for s in options:
        tag, _, text = s.partition(":") if re.match(r"^(azc|court|jji):", s) else ("", "", s)
        if not tag:
            plain.append(s)
        elif tag in place.tags:
            fitting.append(text)
    chosen = dice.pick(fitting) if fitting and dice.chance(0.6) else dice.pick(plain)
    return expand(chosen, case.ctx, dice)


def allowed(template: str, asker_kind: str, theme: str) -> str | None:
    """Strip a restriction like `§IND,RvdK§` (asker kinds) or `§voogdij§` (themes);
    None when the template does not fit this asker or theme."""
    if not template.startswith("§"):
        return template
    tokens, _, text = template[1:].partition("§")
    tokens = set(tokens.split(","))
    kinds, themes = tokens & set(ASKER_KINDS), tokens - set(ASKER_KINDS)
    if kinds and asker_kind not in kinds or themes and theme not in themes:
        return None
    return text


def fitting(templates: list[str], asker_kind: str, theme: str) -> list[str]:
    return [t for t in (allowed(x, asker_kind, theme) for x in templates) if t]


def question_pool(theme: str, organisation: str, asker_kind: str) -> list[str]:
    pools = THEME_TEXT[theme]["questions"]
    return fitting(pools.get(organisation, []) + pools.get("any", []), asker_kind, theme)


def greeting(dice: Dice, case: Case) -> str | None:
    contacts = [c[0].split()[0] for c in CONTACTS
                if c[1] == MAILBOXES[case.mailbox][0] and c[6] == "ja" and c[7] == "contactpersoon"]
    ctx = dict(case.ctx, contact=dice.pick(contacts))
    text = expand(dice.pick(FORMAL_GREETINGS if case.formal else GREETINGS), ctx, dice)
    return text or None


def sign_block(dice: Dice, asker: Asker, formal: bool, show_office: bool) -> Block:
    sign_off = dice.pick(FORMAL_SIGN_OFFS if formal else SIGN_OFFS)
    lines = signature(asker, dice, show_office)
    gap = [""] if dice.chance(0.6) else []
    return Block("sig", [sign_off, *gap, *lines])


def disclaimer_blocks(dice: Dice, asker: Asker) -> list[Block]:
    if not asker.disclaimer:
        return []
    texts = DISCLAIMERS[asker.disclaimer]
    if asker.disclaimer == "rijk" and dice.chance(0.5):
        texts = texts[:1]
    return [Block("disclaimer", [t]) for t in texts]


def compose_question(dice: Dice, case: Case, *, with_place: bool = True, with_facts: bool = True,
                     lead: str | None = None, attachments: list[str] = (), wrong_box: bool = False,
                     typos: bool = False, hello: str | None = None) -> list[Block]:
    """The body of one question: greeting, story, questions, closing, signature, disclaimer."""
    ctx, asker = case.ctx, case.asker
    place_line = place_sentence(dice, case) if with_place and case.place else None
    questions = question_pool(case.theme, case.organisation, asker.kind)
    n_questions = dice.choices([1, 2, 3], weights=[55, 33, 12])[0]
    asked = sentences(dice, questions, ctx, n_questions, n_questions)
    short = with_facts and lead is None and dice.chance(0.12)

    story: list[str] = []
    if lead:
        story.append(expand(lead, ctx, dice))
    if wrong_box and dice.chance(0.5):
        story.append(expand(dice.pick(WRONG_BOX), ctx, dice))
    opened = False
    if with_facts and not short:
        if dice.chance(0.65):
            opened = True
            if case.theme in ("voorlichting", "overig", "gegevensdeling"):
                pool = OPENINGS["neutral"]
            else:
                pool = OPENINGS["*"] + fitting(OPENINGS.get(asker.kind, []), asker.kind, case.theme) * 2
            story.insert(0, expand(dice.pick(pool), ctx, dice))
        facts = sentences(dice, THEME_TEXT[case.theme]["facts"], ctx, 1, 4)
        if case.theme != "voorlichting" and dice.chance(0.25):
            facts.append(expand(dice.pick(IDENTIFIERS), ctx, dice))
        if case.theme not in ("voorlichting", "gegevensdeling", "overig") and dice.chance(0.15):
            other = dice.pick([t for t in CHILD_AGE if t != case.theme])
            aside = expand(dice.pick(SECONDARY) + " " + dice.pick(THEME_TEXT[other]["facts"]), ctx, dice)
            facts.append(aside)
        story += facts
    if place_line:
        first = 1 if opened else 0
        story.insert(dice.randint(first, max(first, min(2, len(story)))), place_line)

    tail: list[str] = []
    if not short and dice.chance(0.25):
        tail.append(expand(dice.pick(URGENCY), ctx, dice))
    if attachments:
        tail.append(expand(dice.pick(ATTACHMENT_NOTES), ctx, dice))
    if not short and dice.chance(0.7):
        tail.append(expand(dice.pick(FORMAL_CLOSINGS if case.formal else CLOSINGS), ctx, dice))

    story = [sentence for sentence in story if sentence]
    paragraphs = layout(dice, story, asked, tail)
    if case.formal:
        paragraphs = [[formal(line) for line in p] for p in paragraphs]
    if typos:
        keep = set((case.place.text if case.place else "").split())
        spots = [(i, j) for i, p in enumerate(paragraphs) for j, line in enumerate(p) if len(line) >= 40]
        for i, j in dice.some(spots, 1, 3):
            paragraphs[i][j] = typo_line(dice, paragraphs[i][j], keep)
    blocks = []
    hello = hello or greeting(dice, case)
    if hello:
        blocks.append(Block("text", [hello]))
    blocks += [Block("text", p) for p in paragraphs]
    blocks.append(sign_block(dice, asker, case.formal, show_office=case.place is not None))
    blocks += disclaimer_blocks(dice, asker)
    return blocks


def typo_line(dice: Dice, line: str, keep: set[str]) -> str:
    protected = {w: f"\x00{i}\x00" for i, w in enumerate(sorted(keep, key=len, reverse=True)) if w}
    for word, mark in protected.items():
        line = line.replace(word, mark)
    line = add_typos(line, dice, 1)
    for word, mark in protected.items():
        line = line.replace(mark, word)
    return line


def layout(dice: Dice, story: list[str], asked: list[str], tail: list[str]) -> list[list[str]]:
    """Arrange sentences into paragraphs the way different people do."""
    style = dice.pick(["blocks", "blocks", "blocks", "lines", "one", "list"])
    lead = dice.pick(QUESTION_LEADS)
    if style == "list" and len(asked) > 1:
        marker = dice.pick(["{i}. ", "{i}. ", "- ", "{i}) ", "* "])
        numbered = [marker.format(i=i) + q for i, q in enumerate(asked, 1)]
        paras = [[" ".join(story)]] if story else []
        return paras + [[dice.pick(QUESTION_LIST_LEADS), *numbered]] + ([[" ".join(tail)]] if tail else [])
    question_text = lead + " ".join(asked) if lead and len(asked) == 1 else " ".join(asked)
    if style == "lines":
        return [[s] for s in story + [question_text] + tail]
    if style == "one":
        body = [" ".join(story + [question_text])]
        return [body] + ([[" ".join(tail)]] if tail else [])
    paras = []
    if story:
        split = dice.randint(1, len(story)) if len(story) > 2 and dice.chance(0.4) else len(story)
        paras.append([" ".join(story[:split])])
        if story[split:]:
            paras.append([" ".join(story[split:])])
    paras.append([question_text])
    if tail:
        paras.append([" ".join(tail)] if dice.chance(0.6) else tail)
    return paras


def attachment_names(dice: Dice, case: Case) -> list[str]:
    names = THEME_TEXT[case.theme]["attachments"]
    return [expand(n, case.ctx, dice) for n in dice.some(names, 1, 2)]


# -------------------------------------------------------------------------------------
# English questions
# -------------------------------------------------------------------------------------


def compose_english(dice: Dice, case: Case) -> tuple[str, list[Block]]:
    spec = EN_THEMES[case.theme]
    ctx = case.ctx
    subject = expand(dice.pick(spec["subjects"]), ctx, dice)
    hello = dice.pick(["Dear colleagues,", "Dear Sir or Madam,", "Hello,", "Dear all,", "Good morning,"])
    intro = dice.pick([
        f"I am writing on behalf of {case.asker.org_name or 'a family'} regarding a case involving a child.",
        "I hope this is the right address for my question.",
        "I was given this address by a colleague in the Netherlands.",
        "Please find below a question regarding a minor.",
    ])
    story = [intro] + [expand(s, ctx, dice) for s in dice.some(spec["facts"], 1, len(spec["facts"]))]
    if case.place:
        fitting = [s.split(":", 1)[1] for s in spec["places"] if s.startswith("azc:") and "azc" in case.place.tags]
        plain = [s for s in spec["places"] if not s.startswith("azc:")] or fitting
        story.insert(dice.randint(1, len(story)), expand(dice.pick(fitting or plain), ctx, dice))
    asked = [expand(q, ctx, dice) for q in dice.some(spec["questions"], 1, 2)]
    closing = dice.pick(["Thank you in advance for your help.", "I look forward to hearing from you.",
                         "Many thanks.", "Any guidance would be much appreciated."])
    name = case.asker.name
    sig = [dice.pick(["Kind regards,", "Best regards,", "Yours sincerely,", "Regards,"]), name]
    if case.asker.org_name:
        sig += [case.asker.role.capitalize(), case.asker.org_name]
    blocks = [Block("text", [hello]), Block("text", [" ".join(story)]), Block("text", [" ".join(asked)]),
              Block("text", [closing]), Block("sig", sig)]
    return subject, blocks


def make_english_asker(dice: Dice, kind: str) -> Asker:
    female = dice.chance(0.5)
    first = dice.pick(["Sarah", "Emma", "Laura", "Julia", "Anna", "Katarina", "Maria", "Helen"] if female
                      else ["David", "Thomas", "Michael", "Lukas", "Peter", "Andreas", "James", "Jonas"])
    last = dice.pick(["Miller", "Schneider", "Novak", "Lindqvist", "Moreau", "Rossi", "Walsh", "Kowalski", "Berger"])
    if kind == "advocatuur":
        firm, firm_slug = dice.pick(LAW_FIRMS)
        role, org, email = "lawyer", firm, f"{first[0].lower()}.{slug(last)}@{firm_slug}.advocaten.example"
    else:
        role, org, domain = dice.pick(EN_ASKERS)
        email = (f"{slug(first)}.{slug(last)}@{domain}" if domain
                 else f"{slug(first)}{slug(last)}@{dice.pick(PRIVATE_DOMAINS)}")
    return Asker(kind=kind, first=first, last=last, female=female, email=email, display=f"{first} {last}",
                 role=role, org_name=org, unit="", office_city="", phone=phone(dice), formal=False,
                 client=dice.pick(["outlook", "gmail", "outlook"]), sig_style="plain", disclaimer="")

# -------------------------------------------------------------------------------------
# Threads: quoted history and forwards, the way each mail client writes them
# -------------------------------------------------------------------------------------


def outlook_when(moment: datetime) -> str:
    return f"{WEEKDAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M}"


def quote(dice: Dice, client: str, *, who: tuple[str, str], when: datetime, to: tuple[str, str], subject: str,
          children: list[Block], forward: bool) -> Block:
    """Earlier mail below a reply or forward, in the client's own words and layout."""
    name, email = who
    to_text = f"{to[0]} <{to[1]}>" if to[0] else to[1]
    wd, mon = WEEKDAYS_SHORT[when.weekday()], MONTHS_SHORT[when.month - 1]
    if client == "outlook" and not forward and dice.chance(0.15):  # Outlook for iOS/Android
        intro = f"Op {when.day} {mon}. {when.year} om {when:%H:%M} heeft {name} <{email}> het volgende geschreven:"
        return Block("quote", intro=intro, style="gt", children=children)
    if client == "outlook":
        intro = dice.pick(["", "_" * 32] + (["-----Oorspronkelijk bericht-----"] if dice.chance(0.3) else []))
        header = [("Van", f"{name} <{email}>"), ("Verzonden", outlook_when(when)), ("Aan", to_text),
                  ("Onderwerp", subject)]
        return Block("quote", header=header, intro=intro, style="header", children=children)
    if client == "gmail":
        if forward:
            header = [("Van", f"{name} <{email}>"), ("Date", f"{wd} {when.day} {mon} {when.year} om {when:%H:%M}"),
                      ("Subject", subject), ("To", to_text)]
            return Block("quote", header=header, intro="---------- Doorgestuurd bericht ---------", style="header",
                         children=children)
        intro = f"Op {wd} {when.day} {mon} {when.year} om {when:%H:%M} schreef {name} <{email}>:"
        return Block("quote", intro=intro, style="gt", children=children)
    if client == "apple":
        if forward:
            zone = "CEST" if when.utcoffset() == timedelta(hours=2) else "CET"
            header = [("Van", f"{name} <{email}>"), ("Onderwerp", subject),
                      ("Datum", f"{when.day} {MONTHS[when.month - 1]} {when.year} om {when:%H:%M:%S} {zone}"),
                      ("Aan", to_text)]
            return Block("quote", header=header, intro="Begin doorgestuurd bericht:", style="header", children=children)
        intro = f"Op {when.day} {mon} {when.year}, om {when:%H:%M} heeft {name} <{email}> het volgende geschreven:"
        return Block("quote", intro=intro, style="gt", children=children)
    if forward:  # thunderbird
        header = [("Onderwerp", subject), ("Datum", format_datetime(when)), ("Van", f"{name} <{email}>"),
                  ("Aan", to_text)]
        return Block("quote", header=header, intro="-------- Doorgestuurd bericht --------", style="header",
                     children=children)
    return Block("quote", intro=f"Op {when:%d-%m-%Y} om {when:%H:%M} schreef {name}:", style="gt", children=children)


def reply_prefix(dice: Dice, client: str) -> str:
    return dice.pick(["RE: ", "RE: ", "Antw: "]) if client == "outlook" else "Re: "


def forward_prefix(dice: Dice, client: str) -> str:
    return dice.pick(["FW: ", "FW: ", "Doorst: "]) if client == "outlook" else (
        "Fwd: " if client in ("gmail", "apple") else "Fw: ")


GENERIC_ANSWERS = DATA["answers"]["GENERIC_ANSWERS"]


def answer_text(dice: Dice, theme: str, organisation: str) -> str:
    """What a contact person of `organisation` answered earlier in a thread."""
    answers = THEME_TEXT[theme]["answers"]
    if isinstance(answers, dict):
        answers = answers.get(organisation, [])
    if not answers or dice.chance(0.35):
        answers = GENERIC_ANSWERS
    return expand(dice.pick(answers), {}, dice)


def contact_person(dice: Dice, organisation: str) -> tuple[str, str]:
    people = [c for c in CONTACTS if c[1] == organisation and c[6] == "ja" and c[7] == "contactpersoon"]
    name = dice.pick(people)[0]
    return name, contact_email(name, organisation)


def answer_blocks(dice: Dice, case: Case, name: str, organisation: str, text: str) -> list[Block]:
    hello = dice.pick([f"Beste {case.asker.first},", f"Hoi {case.asker.first},", "Beste collega,",
                       f"Geachte {'mevrouw' if case.asker.female else 'heer'} {case.asker.last},"])
    sig = [dice.pick(["Met vriendelijke groet,", "Groet,", "Vriendelijke groet,"]), "", name,
           "Contactpersoon Belang van het Kind", ORG_NAMES[organisation]]
    return [Block("text", [hello]), Block("text", [text]), Block("sig", sig)]


def reply_thread(dice: Dice, case: Case, subject: str, client: str, typos: bool) -> tuple[str, list[Block], int, str]:
    """A reply that quotes history: a follow-up question, a reminder, or an answer to a question back."""
    asker, ctx = case.asker, case.ctx
    box_org, box_address = MAILBOXES[case.mailbox][0], MAILBOXES[case.mailbox][1]
    first_moment = earlier(case.moment, dice, 2, 20)
    answer_moment = between(first_moment, case.moment, dice)
    kind = dice.weighted({"follow-up": 50, "reminder": 35, "clarify": 15 if case.place else 0})
    if kind == "reminder":
        original = compose_question(dice, case, typos=typos)
        top = [Block("text", [expand(dice.pick(REMINDERS), ctx, dice)]),
               sign_block(dice, asker, case.formal, case.place is not None)]
        prefix = dice.pick([reply_prefix(dice, client), forward_prefix(dice, client), "Herinnering: "])
        history = quote(dice, client, who=(asker.display, asker.email), when=first_moment,
                        to=(MAILBOXES[case.mailbox][2], box_address), subject=subject, children=original,
                        forward=prefix.startswith(("F", "Doorst")))
        return prefix + subject, top + [history], 1, kind
    contact, contact_address = contact_person(dice, box_org)
    if kind == "clarify":
        ask = dice.pick(CLARIFY_ASKS)
        asks_place = "plaats" in ask
        original = compose_question(dice, case, with_place=not asks_place, typos=typos)
        if asks_place:
            text = expand(CLARIFY_ANSWERS[2], dict(ctx, place_sentence=place_sentence(dice, case)), dice)
        else:
            text = expand(dice.pick(CLARIFY_ANSWERS[:2]), ctx, dice)
        answer = "Dank voor je vraag. " + expand(ask, ctx, dice)
    else:
        original = compose_question(dice, case, typos=typos)
        extra = question_pool(case.theme, case.organisation, asker.kind)
        fact = expand(dice.pick(THEME_TEXT[case.theme]["facts"]), ctx, dice)
        fact = re.sub(r"^(De|Het|Er|Een|Sinds|Bij|Moeder|Vader|Mevrouw) ", lambda m: m.group(1).lower() + " ", fact)
        lead = expand(dice.pick(FOLLOW_UPS), dict(ctx, fact=fact), dice)
        text = lead + " " + expand(dice.pick(extra), ctx, dice)
        answer = answer_text(dice, case.theme, box_org)
    if case.formal:
        text = formal(text)
    top = [Block("text", [text]), sign_block(dice, asker, case.formal, case.place is not None)]
    first = quote(dice, client, who=(asker.display, asker.email), when=first_moment,
                  to=(MAILBOXES[case.mailbox][2], box_address), subject=subject, children=original, forward=False)
    answered = answer_blocks(dice, case, contact, box_org, answer) + [first]
    contact_display = outlook_display(*contact.split(" ", 1)) if dice.chance(0.5) else MAILBOXES[case.mailbox][2]
    contact_from = contact_address if contact_display != MAILBOXES[case.mailbox][2] else box_address
    history = quote(dice, client, who=(contact_display, contact_from), when=answer_moment,
                    to=(asker.display, asker.email), subject="RE: " + subject, children=answered, forward=False)
    return reply_prefix(dice, client) + subject, top + [history], 2, kind


def third_party(dice: Dice, case: Case, kind: str) -> tuple[tuple[str, str], list[Block]]:
    """A mail the asker received and forwards: from a lawyer, a school, a parent or a colleague."""
    ctx = dict(case.ctx, recipient_first=case.asker.first, recipient_last=case.asker.last,
               recipient_title="mevrouw" if case.asker.female else "heer")
    hello, opener, sign_off = (expand(t, ctx, dice) for t in THIRD_PARTIES[kind])
    facts = sentences(dice, THEME_TEXT[case.theme]["facts"], ctx, 1, 3)
    if case.place:
        facts.insert(dice.randint(0, len(facts)), place_sentence(dice, case))
    first = dice.pick(FEMALE + MALE)
    last = dice.pick(SURNAMES)
    if kind == "advocaat":
        firm, firm_slug = dice.pick(LAW_FIRMS)
        who = (f"mr. {first[0]}. {last}", f"{first[0].lower()}.{slug(last)}@{firm_slug}.advocaten.example")
        sig = [sign_off, "", who[0], firm]
    elif kind == "school":
        who = (f"{first} {last}", f"{first[0].lower()}.{slug(last)}@deregenboog.school.example")
        sig = [sign_off, f"{first} {last}", "Intern begeleider"]
    elif kind == "ouder":
        who = (f"{case.ctx['achternaam']} {dice.pick(['', 'familie'])}".strip(),
               f"{slug(case.ctx['achternaam'])}{dice.randint(70, 99)}@{dice.pick(PRIVATE_DOMAINS)}")
        facts = [f[:1].lower() + f[1:] if dice.chance(0.3) else f for f in facts]
        sig = [sign_off]
    else:
        who = (f"{first} {last}", f"{first[0].lower()}.{slug(last)}@{case.asker.email.split('@')[1]}")
        sig = [sign_off, first]
    blocks = [Block("text", [hello]), Block("text", [opener + " " + " ".join(facts)]), Block("sig", sig)]
    return who, blocks


ASKER_ORG_NAMED = {"IND": "de IND", "DT&V": "DT&V", "RvdK": "de Raad", "Nidos": "Nidos", "COA": "het COA"}


def forward_thread(dice: Dice, case: Case, subject: str, client: str,
                   typos: bool) -> tuple[str, list[Block], tuple[str, str], str, str]:
    """A forward: the asker's own forward of a mail received, a colleague's, or one from another mailbox.
    Returns subject, body, sender, how, and the sender's mail client."""
    asker = case.asker
    when = earlier(case.moment, dice, 0, 6)
    about_a_case = case.theme in CHILD_AGE  # a mail received about a child: not for voorlichting and the like
    kind = dice.weighted({"redirect": 45, "colleague": 25, "own": 30 if about_a_case else 0})
    if kind == "own":
        source = dice.pick(list(THIRD_PARTIES))
        who, received = third_party(dice, case, source)
        named = {"advocaat": "de advocaat", "school": "school", "ouder": "een ouder", "collega": "een collega"}[source]
        lead = dice.pick([f"Zie onderstaande mail[ van {named}].", "Onderstaande mail kreeg ik [vandaag|gisteren] binnen.",
                          "Ik stuur jullie onderstaande mail door, met een vraag."])
        top = compose_question(dice, case, with_place=False, with_facts=False, lead=lead, typos=typos)
        history = quote(dice, client, who=who, when=when, to=(asker.display, asker.email), subject=subject,
                        children=received, forward=True)
        return forward_prefix(dice, client) + subject, top + [history], (asker.display, asker.email), kind, client
    colleague = None
    if kind == "colleague":
        colleague = make_asker(dice, asker.kind, case.place, case.ref)
        colleague = replace(colleague, org_name=asker.org_name, unit=asker.unit, office_city=asker.office_city,
                            email=colleague.email.split("@")[0] + "@" + asker.email.split("@")[1])
    hello = f"{dice.pick(['Hoi', 'Hallo', 'Beste'])} {colleague.first}," if colleague else None
    original = compose_question(dice, case, typos=typos, wrong_box=kind == "redirect", hello=hello)
    ctx = dict(case.ctx, asker_first=asker.first, asker_role=asker.role,
               asker_org=ASKER_ORG_NAMED.get(asker.kind) or asker.org_name or "een particulier",
               asker_pronoun="zij" if asker.female else "hij", asker_pronoun_obj="haar" if asker.female else "hem",
               target=ORG_SHORT.get(case.organisation, case.organisation))
    if kind == "redirect":
        wrong_org = dice.pick([o for o in ANSWERING if o != case.organisation])
        wrong_box = MAILBOX_OF[wrong_org]
        note = expand(dice.pick(REDIRECT_NOTES), ctx, dice)
        if dice.chance(0.5):
            name, email = contact_person(dice, wrong_org)
            sender = (outlook_display(*name.split(" ", 1)), email)
            sig = [dice.pick(["Groet,", "Met vriendelijke groet,"]), name,
                   f"Contactpersoon Belang van het Kind | {wrong_org}"]
        else:
            sender = (MAILBOXES[wrong_box][2], MAILBOXES[wrong_box][1])
            sig = ["Met vriendelijke groet,", f"Contactpersonen Belang van het Kind {wrong_org}"]
        history = quote(dice, "outlook", who=(asker.display, asker.email), when=when,
                        to=(MAILBOXES[wrong_box][2], MAILBOXES[wrong_box][1]), subject=subject, children=original,
                        forward=True)
        blocks = [Block("text", ["Beste collega's,"]), Block("text", [note]), Block("sig", sig), history]
        return forward_prefix(dice, "outlook") + subject, blocks, sender, kind, "outlook"
    note = expand(dice.pick(COLLEAGUE_NOTES), ctx, dice)
    history = quote(dice, colleague.client, who=(asker.display, asker.email), when=when,
                    to=(colleague.display, colleague.email), subject=subject, children=original, forward=True)
    blocks = [Block("text", [dice.pick(["Beste collega's,", "Hoi,", "Goedemiddag,"])]), Block("text", [note]),
              sign_block(dice, colleague, False, case.place is not None), history]
    return (forward_prefix(dice, colleague.client) + subject, blocks, (colleague.display, colleague.email), kind,
            colleague.client)


# -------------------------------------------------------------------------------------
# One question, from choice of asker to the finished draft
# -------------------------------------------------------------------------------------


def choose_theme(dice: Dice, organisation: str, asker_kind: str) -> str:
    bias = THEME_BIAS.get(asker_kind, {})
    return dice.weighted({t: w * bias.get(t, 1.0) for t, w in THEMES_FOR[organisation].items()})


def known_asker(dice: Dice, ref: Reference, kind: str, place: Place | None, registry: dict) -> Asker:
    """People ask more than once: reuse an earlier asker of the same kind and area now and then."""
    if place is None:
        key = (kind, None)
    elif kind in ("gemeente", "COA"):
        key = (kind, place.municipality)
    else:
        key = (kind, ref.province_of[place.municipality])
    known = registry.setdefault(key, [])
    if known and dice.chance(0.35):
        return dice.pick(known)
    asker = make_asker(dice, kind, place, ref)
    known.append(asker)
    return asker


def subject_line(dice: Dice, case: Case) -> str:
    subject = expand(dice.pick(THEME_TEXT[case.theme]["subjects"]), case.ctx, dice)
    if case.place and dice.chance(0.1):
        subject += dice.pick([f" - {case.place.text}", f" ({case.place.text})", f" gezin {case.place.text}"])
    if dice.chance(0.04):
        subject = dice.pick(["Vertrouwelijk: ", "URGENT ", "Spoed - "]) + subject
    if dice.chance(0.08):
        subject = subject.lower()
    return subject


def choose_format(dice: Dice, client: str) -> str:
    weights = {"outlook": {"alternative": 55, "html": 28, "plain": 17}, "gmail": {"alternative": 90, "plain": 10},
               "apple": {"alternative": 50, "plain": 50}, "thunderbird": {"plain": 1}}[client]
    return dice.weighted(weights)


@dataclass
class Written:
    """A question as written and sent: subject, body, and who sent it from where."""

    subject: str
    blocks: list[Block]
    sender: tuple[str, str]
    client: str
    mailbox: str
    depth: int = 0
    tags: set[str] = field(default_factory=set)


def plan_case(dice: Dice, ref: Reference, organisation: str, registry: dict) -> tuple[Case, bool]:
    """Who asks what (in English or Dutch), about which place, and when."""
    english_themes = [t for t, spec in EN_THEMES.items() if organisation in spec["org"]]
    english = bool(english_themes) and dice.chance(SHARE_ENGLISH)
    if english:
        kind = dice.pick(["overig", "overig", "overig", "advocatuur"])
        theme = dice.pick(english_themes)
    else:
        kind = dice.weighted(ASKERS_FOR[organisation])
        theme = choose_theme(dice, organisation, kind)
    place = None if kind != "gemeente" and dice.chance(SHARE_NO_PLACE) else choose_place(dice, kind, theme)
    asker = make_english_asker(dice, kind) if english else known_asker(dice, ref, kind, place, registry)
    moment = pick_moment(dice)
    ctx = make_ctx(dice, theme, place, moment, asker)
    return Case(theme, organisation, asker, place, moment, MAILBOX_OF[organisation], ctx, asker.formal, ref), english


def write_question(dice: Dice, case: Case, english: bool, attachments: list[str]) -> Written:
    """Plain, a reply with quoted history, or a forward; sometimes to the wrong mailbox."""
    asker = case.asker
    typos = not english and dice.chance(SHARE_TYPOS)
    tags = {"typos"} if typos else set()
    if english:
        subject, blocks = compose_english(dice, case)
        return Written(subject, blocks, (asker.display, asker.email), asker.client, case.mailbox, tags={"english"})
    wrapper = dice.weighted({"reply": SHARE_REPLY, "forward": SHARE_FORWARD, "plain": 1 - SHARE_REPLY - SHARE_FORWARD})
    if wrapper != "reply" and dice.chance(SHARE_WRONG_MAILBOX / (1 - SHARE_REPLY)):
        case.mailbox = dice.pick([m for m in MAILBOXES if m != case.mailbox])
        tags.add("wrong-mailbox")
    subject = subject_line(dice, case)
    if wrapper == "reply":
        subject, blocks, depth, how = reply_thread(dice, case, subject, asker.client, typos)
        return Written(subject, blocks, (asker.display, asker.email), asker.client, case.mailbox, depth,
                       tags | {"reply", f"reply:{how}"})
    if wrapper == "forward":
        subject, blocks, sender, how, client = forward_thread(dice, case, subject, asker.client, typos)
        if how == "redirect":  # passed on by the organisation that got it: now in the right mailbox
            case.mailbox = MAILBOX_OF[case.organisation]
            tags.discard("wrong-mailbox")
        return Written(subject, blocks, sender, client, case.mailbox, tags=tags | {"forward", f"forward:{how}"})
    blocks = compose_question(dice, case, attachments=attachments, wrong_box="wrong-mailbox" in tags, typos=typos)
    return Written(subject, blocks, (asker.display, asker.email), asker.client, case.mailbox, tags=tags)


def make_question(dice: Dice, ref: Reference, organisation: str, order: int, registry: dict) -> Draft:
    case, english = plan_case(dice, ref, organisation, registry)
    attachments = attachment_names(dice, case) if dice.chance(SHARE_ATTACHMENT) else []
    written = write_question(dice, case, english, attachments)
    subject, mailbox = written.subject, written.mailbox
    if mailbox == "rvdk" and not written.sender[1].endswith("@rvdk.example") and dice.chance(0.15):
        subject = "[EXTERN] " + subject  # the RvdK mail gateway marks mail from outside
    box_org, box_address, box_name = MAILBOXES[mailbox]
    to = [(dice.pick([box_name, box_name, "", "BvhK " + box_org]), box_address)]
    cc = []
    if dice.chance(0.06):
        other = dice.pick([m for m in MAILBOXES if m != mailbox])
        cc.append((MAILBOXES[other][2], MAILBOXES[other][1]))
    tags = written.tags | ({"no-place"} if case.place is None else set())
    draft = Draft(kind="question", mailbox=mailbox, moment=case.moment, subject=subject, from_name=written.sender[0],
                  from_email=written.sender[1], to=to, cc=cc, blocks=written.blocks, client=written.client,
                  body_format=choose_format(dice, written.client), attachments=attachments, tags=tags, order=order,
                  depth=written.depth, asker=case.asker, place=case.place)
    if (draft.client == "outlook" and draft.body_format != "plain"
            and case.asker.kind in ("IND", "DT&V", "RvdK", "Nidos", "COA") and dice.chance(0.3)):
        draft.logo = True  # the organisation's logo as an inline image in the signature
    if draft.client in ("outlook", "thunderbird") and dice.chance(SHARE_LATIN1) and latin1_safe(draft):
        draft.charset = "iso-8859-1"
    place = case.place
    draft.labels = {
        "subject": subject, "body": "", "from": case.asker.email, "theme": case.theme,
        "organisation": case.organisation, "asking_organisation": case.asker.kind,
        "region": ref.region(case.organisation, place.municipality) if place else None,
        "place": place.municipality if place else None, "mailbox": mailbox, "file": "",
    }
    return draft


def latin1_safe(draft: Draft) -> bool:
    try:
        plain_text(draft.blocks).encode("iso-8859-1")
    except UnicodeEncodeError:
        return False
    return True


# -------------------------------------------------------------------------------------
# Automatic replies and bounces (not questions: the product must skip them)
# -------------------------------------------------------------------------------------


_PREFIXES = re.compile(r"^((RE|Re|Antw|FW|Fw|Fwd|Doorst|Herinnering|Automatisch antwoord|Afwezig|Automatic reply|"
                       r"Out of Office|Ontvangstbevestiging):\s*|\[EXTERN\]\s*)+")


def base_subject(subject: str) -> str:
    """The subject without reply, forward and gateway prefixes."""
    return _PREFIXES.sub("", subject)


def make_auto_reply(dice: Dice, question: Draft, order: int) -> Draft:
    asker = question.asker
    moment = later(question.moment, dice, 2, 60)
    back = moment.date() + timedelta(days=dice.randint(2, 16))
    box_org, box_address, box_name = MAILBOXES[question.mailbox]
    colleague = f"{dice.pick(FEMALE + MALE)} {dice.pick(SURNAMES)}"
    ctx = {"from_day": nl_date(moment.date() - timedelta(days=dice.randint(0, 5)), dice, "long"),
           "to_day": nl_date(back, dice, dice.pick(["long", "weekday"])), "to_day_en": en_date(back),
           "colleague": colleague, "phone": phone(dice)}
    english = "english" in question.tags or dice.chance(0.12)
    style = "ack" if asker.kind == "gemeente" and dice.chance(0.5) else dice.weighted(
        {"exchange-en": 1} if english else {"exchange-nl": 6, "exchange-old": 2, "gmail": 2, "exchange-en": 1})
    reply_subject = "RE: " + base_subject(question.subject)
    headers = [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
    if style == "exchange-nl":
        subject, text = "Automatisch antwoord: " + reply_subject, dice.pick(OOO_NL)
    elif style == "exchange-old":
        subject, text = "Afwezig: " + reply_subject, dice.pick(OOO_NL)
        headers = [("X-Auto-Response-Suppress", "All")]
    elif style == "exchange-en":
        subject, text = dice.pick(["Automatic reply: ", "Out of Office: "]) + reply_subject, dice.pick(OOO_EN)
        english = True
    elif style == "gmail":
        subject, text = reply_subject, dice.pick(OOO_NL)
        headers = [("Auto-Submitted", "auto-replied")]
    else:
        subject, text = "Ontvangstbevestiging: " + reply_subject, ACK_NL[0]
        headers = [("Auto-Submitted", "auto-generated"), ("X-Autoreply", "yes"), ("Precedence", "auto_reply")]
    lines = [Block("text", [line]) for line in expand(text, ctx, dice).split("\n\n")]
    if style != "ack":
        lines.append(Block("sig", [asker.name] + ([asker.org_name] if asker.org_name else [])))
    client = "gmail" if style == "gmail" else "outlook"
    return Draft(kind="auto_reply", mailbox=question.mailbox, moment=moment, subject=subject,
                 from_name=asker.display, from_email=asker.email, to=[(box_name, box_address)], blocks=lines,
                 client=client, body_format="alternative" if client == "outlook" and dice.chance(0.7) else "plain",
                 headers=headers, about=question, depth=1, order=order,
                 tags={"auto_reply", style} | ({"english"} if english else set()))


def make_bounce(dice: Dice, question: Draft, order: int) -> Draft:
    asker = question.asker
    box_org, box_address, box_name = MAILBOXES[question.mailbox]
    sent = later(question.moment, dice, 3, 72)
    moment = local(sent.replace(tzinfo=None) + timedelta(seconds=dice.randint(4, 300)))
    reason = dice.weighted({"domain": 3, "user": 4, "full": 2, "inactive": 2 if question.mailbox == "rvdk" else 0})
    local_part, domain = asker.email.split("@")
    if reason == "domain":
        recipient = f"{local_part}@{domain.replace('.example', dice.pick(['.exmaple', '.examle', '.exampel']))}"
    elif reason == "user":
        recipient = f"{local_part.replace('.', dice.pick(['', '..', '_']), 1)}@{domain}"
    elif reason == "inactive":
        recipient = contact_email("Mark Zwaan", "RvdK")
    else:
        recipient = asker.email
    name, _ = contact_person(dice, box_org)
    if reason == "inactive":
        sent_subject = "FW: " + base_subject(question.subject)
        sent_text = f"Hoi Mark,\n\nDeze vraag is voor jouw regio. Kun je hem oppakken?\n\nGroet,\n{name}\n"
    else:
        sent_subject = "RE: " + base_subject(question.subject)
        answer = answer_text(dice, question.labels["theme"], box_org)
        sent_text = (f"Beste {asker.first},\n\n{answer}\n\nMet vriendelijke groet,\n\n{name}\n"
                     f"Contactpersoon Belang van het Kind\n{ORG_NAMES[box_org]}\n")
    style = dice.weighted({"postfix": 4, "exchange-nl": 4, "exchange-en": 2})
    return Draft(kind="bounce", mailbox=question.mailbox, moment=moment, subject="", from_name="", from_email="",
                 to=[(box_name, box_address)], about=question, order=order, tags={"bounce", style, reason},
                 bounce={"style": style, "reason": reason, "recipient": recipient, "sent": sent,
                         "sent_subject": sent_subject, "sent_text": sent_text, "sender": (box_name, box_address)})


# -------------------------------------------------------------------------------------
# The whole sample
# -------------------------------------------------------------------------------------


def generate(ref: Reference) -> list[Draft]:
    """All drafts in arrival order, numbered 1..n."""
    dice = Dice(SEED)
    plan = [org for org, n in QUESTIONS.items() for _ in range(n)]
    dice.shuffle(plan)
    registry: dict = {}
    questions = [make_question(dice, ref, org, i, registry) for i, org in enumerate(plan)]
    drafts = list(questions)
    for i in range(AUTO_REPLIES):
        drafts.append(make_auto_reply(dice, dice.pick(questions), len(drafts)))
    for i in range(BOUNCES):
        drafts.append(make_bounce(dice, dice.pick(questions), len(drafts)))
    drafts.sort(key=lambda d: (d.moment.astimezone(timezone.utc), d.order))
    for seq, d in enumerate(drafts, 1):
        d.seq = seq
    return drafts


# =====================================================================================
# Rendering: plain text, Outlook HTML, simple HTML, MIME
# =====================================================================================


def plain_text(blocks: list[Block]) -> str:
    parts = []
    for b in blocks:
        if b.kind != "quote":
            parts.append("\n".join(b.lines))
            continue
        inner = plain_text(b.children)
        if b.style == "gt":
            quoted = "\n".join("> " + line if line else ">" for line in inner.split("\n"))
            parts.append(f"{b.intro}\n{quoted}")
        else:
            head = "\n".join(f"{k}: {v}" for k, v in b.header)
            parts.append((b.intro + "\n" if b.intro else "") + head + "\n\n" + inner)
    return "\n\n".join(parts)


def flowed(text: str, width: int = 72) -> str:
    """format=flowed as Thunderbird writes it: soft breaks end in a space."""
    out = []
    for line in text.split("\n"):
        if len(line) <= width or line.startswith(">"):
            out.append(line)
            continue
        wrapped = textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
        out += [w + " " for w in wrapped[:-1]] + [wrapped[-1]]
    return "\n".join(out)


OUTLOOK_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<style><!--
/* Font Definitions */
@font-face
\t{font-family:"Cambria Math";
\tpanose-1:2 4 5 3 5 4 6 3 2 4;}
@font-face
\t{font-family:Calibri;
\tpanose-1:2 15 5 2 2 2 4 3 2 4;}
@font-face
\t{font-family:Verdana;
\tpanose-1:2 11 6 4 3 5 4 4 2 4;}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
\t{margin:0cm;
\tfont-size:11.0pt;
\tfont-family:"Calibri",sans-serif;
\tmso-fareast-language:EN-US;}
a:link, span.MsoHyperlink
\t{mso-style-priority:99;
\tcolor:#0563C1;
\ttext-decoration:underline;}
span.E-mailStijl17
\t{mso-style-type:personal-compose;
\tfont-family:"Calibri",sans-serif;
\tcolor:windowtext;}
.MsoChpDefault
\t{mso-style-type:export-only;
\tfont-family:"Calibri",sans-serif;
\tmso-fareast-language:EN-US;}
@page WordSection1
\t{size:612.0pt 792.0pt;
\tmargin:70.85pt 70.85pt 70.85pt 70.85pt;}
div.WordSection1
\t{page:WordSection1;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--><!--[if gte mso 9]><xml>
<o:shapelayout v:ext="edit">
<o:idmap v:ext="edit" data="1" />
</o:shapelayout></xml><![endif]-->
</head>
<body lang="NL" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
"""
OUTLOOK_TAIL = "</div>\n</body>\n</html>\n"
EMPTY_P = '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def outlook_body(blocks: list[Block], logo_cid: str | None) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if b.kind == "text":
            out += [f'<p class="MsoNormal">{esc(line) or "&nbsp;"}<o:p></o:p></p>' for line in b.lines]
            out.append(EMPTY_P)
        elif b.kind == "sig":
            first, *rest = b.lines
            out.append(f'<p class="MsoNormal">{esc(first)}<o:p></o:p></p>')
            named = False
            for line in rest:
                if not line:
                    out.append(EMPTY_P)
                elif not named:
                    named = True
                    out.append(f'<p class="MsoNormal"><b><span style="font-size:10.0pt;color:#154273">{esc(line)}'
                               '</span></b><o:p></o:p></p>')
                else:
                    out.append('<p class="MsoNormal"><span style="font-size:9.0pt;font-family:&quot;Verdana&quot;,'
                               f'sans-serif;color:#154273">{esc(line)}<o:p></o:p></span></p>')
            if logo_cid:
                out.append(f'<p class="MsoNormal"><img width="180" height="48" style="width:1.875in;height:.5in" '
                           f'id="Afbeelding_x0020_1" src="cid:{logo_cid}" alt="Logo"><o:p></o:p></p>')
                logo_cid = None
            out.append(EMPTY_P)
        elif b.kind == "disclaimer":
            out.append(f'<p class="MsoNormal"><span style="font-size:7.5pt;font-family:&quot;Verdana&quot;,sans-serif;'
                       f'color:gray">{esc(b.lines[0])}<o:p></o:p></span></p>')
            out.append(EMPTY_P)
        elif b.style == "gt":
            out.append(f'<div><p class="MsoNormal">{esc(b.intro)}<o:p></o:p></p></div>')
            out.append('<blockquote style="border:none;border-left:solid #CCCCCC 1.0pt;padding:0cm 0cm 0cm 6.0pt;'
                       'margin-left:4.8pt;margin-right:0cm">')
            out += outlook_body(b.children, None)
            out.append("</blockquote>")
        else:
            fields = "<br>\n".join(f"<b>{esc(k)}:</b> {esc(v)}" for k, v in b.header)
            if b.intro and b.intro.startswith("-"):
                out.append(f'<p class="MsoNormal">{esc(b.intro)}<o:p></o:p></p>')
            out.append('<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">')
            out.append(f'<p class="MsoNormal"><span lang="NL">{fields}</span><o:p></o:p></p>')
            out.append("</div>")
            out.append(EMPTY_P)
            out += outlook_body(b.children, None)
    return out


def outlook_html(blocks: list[Block], charset: str, logo_cid: str | None) -> str:
    return OUTLOOK_HEAD.replace("{charset}", charset) + "\n".join(outlook_body(blocks, logo_cid)) + "\n" + OUTLOOK_TAIL


def simple_body(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind == "quote":
            if b.style == "gt":
                out.append(f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{esc(b.intro)}<br></div>'
                           '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
                           f'rgb(204,204,204);padding-left:1ex">{simple_body(b.children)}</blockquote></div>')
            else:
                fields = "<br>".join(f"{esc(k)}: {esc(v)}" for k, v in b.header)
                inner = simple_body(b.children)
                out.append(f'<div class="gmail_quote">{esc(b.intro)}<br>{fields}<br><br>{inner}</div>')
        else:
            cls = ' class="gmail_signature"' if b.kind == "sig" else ""
            out.append(f"<div{cls}>" + "<br>".join(esc(line) for line in b.lines) + "</div><div><br></div>")
    return "\n".join(out)


def simple_html(blocks: list[Block]) -> str:
    return f'<div dir="ltr">\n{simple_body(blocks)}\n</div>\n'


# -------------------------------------------------------------------------------------
# Attachments (fake bytes: never real documents)
# -------------------------------------------------------------------------------------

TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def fake_file(name: str, seq: int) -> tuple[str, str, bytes]:
    """(maintype, subtype, bytes): a tiny stand-in marked as illustrative."""
    noise = hashlib.sha256(f"{seq}:{name}".encode()).digest() * (8 + seq % 24)
    if name.lower().endswith(".docx"):
        body = b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml ILLUSTRATIEF voorbeeldbestand " + noise
        return "application", "vnd.openxmlformats-officedocument.wordprocessingml.document", body
    body = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n% ILLUSTRATIEF: voorbeeldbestand, geen echt document\n"
            b"3 0 obj\n<< /Length " + str(len(noise)).encode() + b" >>\nstream\n" + noise + b"\nendstream\nendobj\n"
            b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
    return "application", "pdf", body


# -------------------------------------------------------------------------------------
# MIME
# -------------------------------------------------------------------------------------


def message_id(d: Draft, suffix: str = "") -> str:
    return f"<sample-{d.seq:04d}{suffix}.{d.mailbox}@bvhk.example>"


def thread_refs(d: Draft) -> list[str]:
    base = d.about if d.about is not None else d
    if d.kind == "auto_reply":
        return [message_id(base), message_id(base, "-answer")]
    return [message_id(base, f"-{k}") for k in range(1, d.depth + 1)]


def address_list(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(formataddr(p) if p[0] else p[1] for p in pairs)


def digest(d: Draft, salt: str = "") -> str:
    return hashlib.sha256(f"{d.seq}{salt}{d.mailbox}".encode()).hexdigest()


def envelope(d: Draft) -> list[tuple[str, str]]:
    """Trace headers the receiving server adds."""
    box_address = MAILBOXES[d.mailbox][1]
    domain = box_address.split("@")[1]
    sender_domain = d.from_email.split("@")[1] if "@" in d.from_email else domain
    n = int(digest(d, "ip")[:2], 16) % 250 + 2
    stamp = format_datetime(d.moment.astimezone(timezone.utc))
    return [("Return-Path", f"<{d.from_email}>"), ("Delivered-To", box_address),
            ("Received", f"from smtp.{sender_domain} (smtp.{sender_domain} [192.0.2.{n}]) by mx1.{domain} "
                         f"with ESMTPS id {digest(d, 'id')[:12].upper()} for <{box_address}>; {stamp}")]


def client_headers(d: Draft, subject: str) -> list[tuple[str, str]]:
    mid = message_id(d)
    refs = thread_refs(d)
    from_ = formataddr((d.from_name, d.from_email)) if d.from_name else d.from_email
    thread = [("In-Reply-To", refs[-1]), ("References", " ".join(refs))] if refs else []
    cc = [("CC", address_list(d.cc))] if d.cc else []
    if d.client == "outlook":
        topic = base_subject(subject)
        index = base64.b64encode(bytes.fromhex("01" + digest(d, "thread")[:40])).decode()
        return ([("From", from_), ("To", address_list(d.to))] + cc +
                [("Subject", subject), ("Thread-Topic", topic), ("Thread-Index", index),
                 ("Date", format_datetime(d.moment.astimezone(timezone.utc))), ("Message-ID", mid)] + thread +
                [("Accept-Language", "nl-NL, en-US"), ("Content-Language", "en-US" if "english" in d.tags else "nl-NL"),
                 ("X-MS-Has-Attach", "yes" if d.attachments else ""), ("X-MS-TNEF-Correlator", ""),
                 ("MIME-Version", "1.0")])
    if d.client == "gmail":
        return ([("MIME-Version", "1.0"), ("Date", format_datetime(d.moment))] + thread +
                [("Message-ID", mid), ("Subject", subject), ("From", from_), ("To", address_list(d.to))] + cc)
    if d.client == "apple":
        return ([("From", from_), ("Mime-Version", "1.0 (Mac OS X Mail 16.0 \\(3826.500.181.1.5\\))"),
                 ("Subject", subject), ("Date", format_datetime(d.moment))] + thread + cc +
                [("To", address_list(d.to)), ("Message-Id", mid), ("X-Mailer", "Apple Mail (2.3826.500.181.1.5)")])
    return ([("Message-ID", mid), ("Date", format_datetime(d.moment)), ("MIME-Version", "1.0"),
             ("User-Agent", "Mozilla Thunderbird"), ("Content-Language", "nl")] + thread +
            [("To", address_list(d.to))] + cc + [("From", from_), ("Subject", subject)])


def fix_boundaries(msg: Message, d: Draft) -> None:
    """Python picks random MIME boundaries; fixed ones make the output reproducible."""
    h = digest(d, "boundary")
    for i, part in enumerate(msg.walk()):
        if part is not msg and "MIME-Version" in part:
            del part["MIME-Version"]
        if part.is_multipart():
            if d.client == "outlook":
                boundary = f"_{i:03d}_{h[:24].upper()}_"
            elif d.client == "gmail":
                boundary = f"{i:04d}{h[:24]}"
            else:
                boundary = f"Apple-Mail={h[:8].upper()}-{h[8:12].upper()}-{h[12:16].upper()}-{i:04d}"
            part.set_boundary(boundary)


def build_message(d: Draft) -> tuple[EmailMessage, str]:
    """The MIME message of a question or automatic reply, and the text as its writer wrote it
    (the label body: unwrapped, also for format=flowed; the text version for HTML-only mail)."""
    msg = EmailMessage(policy=policy.default)
    headers = envelope(d) + client_headers(d, d.subject) + d.headers
    for name, value in headers:
        if not name.lower().startswith("content-"):
            msg[name] = value
    text = plain_text(d.blocks) + "\n"
    params = {}
    if d.client == "thunderbird":
        text = flowed(text)
        params = {"format": "flowed"}
    charset = d.charset
    if d.client == "thunderbird":
        cte = "8bit"
    elif d.client == "outlook" and int(digest(d, "cte")[:2], 16) < 26:
        cte = "base64"
    else:
        cte = "quoted-printable"
    if text.isascii() and d.client != "outlook":
        cte = "7bit"
    logo_cid = f"image001.png@01DD{digest(d, 'cid')[:4].upper()}.{digest(d, 'cid')[4:12].upper()}" if d.logo else None
    if d.client == "outlook":
        markup = outlook_html(d.blocks, charset if charset != "utf-8" else "utf-8", logo_cid)
    else:
        markup = simple_html(d.blocks)
    if d.body_format == "html":
        msg.set_content(markup, subtype="html", charset=charset, cte=cte)
        html_part = msg
    else:
        msg.set_content(text, charset=charset, cte=cte, params=params)
        html_part = None
        if d.body_format == "alternative":
            msg.add_alternative(markup, subtype="html", charset=charset, cte=cte)
            html_part = msg.get_payload()[1]
    if logo_cid and html_part is not None:
        html_part.add_related(TINY_PNG, "image", "png", cid=f"<{logo_cid}>", filename="image001.png",
                              disposition="inline")
    for name in d.attachments:
        maintype, subtype, data = fake_file(name, d.seq)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    for name, value in headers:
        if name.lower().startswith("content-"):
            msg[name] = value
    fix_boundaries(msg, d)
    return msg, plain_text(d.blocks)


# -------------------------------------------------------------------------------------
# Bounces: multipart/report with the delivery status and the message that bounced
# -------------------------------------------------------------------------------------

BOUNCE_TEXT = {
    "postfix": ("Undelivered Mail Returned to Sender", "MAILER-DAEMON@mx1.{domain}", "Mail Delivery System",
                "This is the mail system at host mx1.{domain}.\n\nI'm sorry to have to inform you that your message "
                "could not\nbe delivered to one or more recipients. It's attached below.\n\nFor further assistance, "
                "please send mail to postmaster.\n\nIf you do so, please include this problem report. You can\ndelete "
                "your own text from the attached returned message.\n\n                   The mail system\n\n"
                "<{recipient}>: {diagnostic}"),
    "exchange-nl": ("Onbestelbaar: {subject}", "postmaster@{domain}", "Microsoft Outlook",
                    "Uw bericht kan niet worden bezorgd bij de volgende ontvangers:\n\n{recipient}\n{reason_nl}\n\n"
                    "Diagnostische gegevens voor beheerders:\n\nGenererende server: mx1.{domain}\n\n{recipient}\n"
                    "Externe server heeft {status} geretourneerd [{diagnostic}]"),
    "exchange-en": ("Undeliverable: {subject}", "postmaster@{domain}", "Microsoft Outlook",
                    "Delivery has failed to these recipients or groups:\n\n{recipient}\n{reason_en}\n\n"
                    "Diagnostic information for administrators:\n\nGenerating server: mx1.{domain}\n\n{recipient}\n"
                    "Remote Server returned '{status} {diagnostic}'"),
}
BOUNCE_REASONS = {
    "domain": ("5.1.2", "Host or domain name not found. Name service error for name={rdomain} type=A: Host not found",
               "Het domein van het e-mailadres bestaat niet. Controleer de spelling van het adres.",
               "The domain name in the email address is incorrect. Check the address."),
    "user": ("5.1.1", "550 5.1.1 <{recipient}>: Recipient address rejected: User unknown in virtual mailbox table",
             "Het e-mailadres is niet gevonden. Controleer het adres van de ontvanger.",
             "The email address wasn't found at the destination domain."),
    "inactive": ("5.1.1", "550 5.1.1 <{recipient}>: Recipient address rejected: mailbox disabled",
                 "Het postvak van de ontvanger is uitgeschakeld.", "The recipient's mailbox has been disabled."),
    "full": ("5.2.2", "552 5.2.2 <{recipient}>: Mailbox full: quota exceeded",
             "Het postvak van de ontvanger is vol en kan op dit moment geen berichten ontvangen.",
             "The recipient's mailbox is full and can't accept messages now."),
}


def bounced_original(d: Draft) -> EmailMessage:
    b = d.bounce
    sent = EmailMessage(policy=policy.default)
    sent["From"] = formataddr(b["sender"])
    sent["To"] = b["recipient"]
    sent["Subject"] = b["sent_subject"]
    sent["Date"] = format_datetime(b["sent"].astimezone(timezone.utc))
    sent["Message-ID"] = message_id(d.about, "-answer") if b["reason"] != "inactive" else message_id(d.about, "-fwd")
    sent["In-Reply-To"] = message_id(d.about)
    sent["References"] = message_id(d.about)
    sent.set_content(b["sent_text"], charset="utf-8", cte="quoted-printable")
    return sent


def build_bounce(d: Draft) -> EmailMessage:
    b = d.bounce
    domain = MAILBOXES[d.mailbox][1].split("@")[1]
    status, diagnostic, reason_nl, reason_en = BOUNCE_REASONS[b["reason"]]
    values = {"domain": domain, "recipient": b["recipient"], "subject": b["sent_subject"], "status": status,
              "rdomain": b["recipient"].split("@")[1], "reason_nl": reason_nl, "reason_en": reason_en}
    diagnostic = diagnostic.format(**values)
    values["diagnostic"] = diagnostic
    subject, sender, sender_name, text = (t.format(**values) for t in BOUNCE_TEXT[b["style"]])
    d.from_name, d.from_email, d.subject = sender_name, sender, subject

    msg = EmailMessage(policy=policy.default)
    msg["Return-Path"] = "<>"
    msg["Delivered-To"] = MAILBOXES[d.mailbox][1]
    msg["Received"] = (f"by mx1.{domain} (Postfix) id {digest(d, 'id')[:10].upper()}; "
                       f"{format_datetime(d.moment.astimezone(timezone.utc))}")
    msg["From"] = formataddr((sender_name, sender))
    msg["To"] = address_list(d.to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(d.moment.astimezone(timezone.utc))
    msg["Message-ID"] = message_id(d)
    msg["Auto-Submitted"] = "auto-replied"
    msg["MIME-Version"] = "1.0"
    msg.set_content(text + "\n", charset="utf-8" if b["style"] == "exchange-nl" else "us-ascii",
                    cte="quoted-printable" if b["style"] == "exchange-nl" else "7bit")
    msg.make_mixed()
    msg.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')

    per_message = Message()
    per_message["Reporting-MTA"] = f"dns; mx1.{domain}"
    per_message["Arrival-Date"] = format_datetime(b["sent"])
    per_recipient = Message()
    per_recipient["Final-Recipient"] = f"rfc822; {b['recipient']}"
    per_recipient["Original-Recipient"] = f"rfc822;{b['recipient']}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    status_part = Message()
    status_part["Content-Type"] = "message/delivery-status"
    status_part["Content-Description"] = "Delivery report"
    status_part.set_payload([per_message, per_recipient])
    msg.attach(status_part)

    original = bounced_original(d)
    if b["style"] == "exchange-en":
        returned = Message()
        returned["Content-Type"] = "text/rfc822-headers"
        returned["Content-Description"] = "Undelivered Message Headers"
        returned.set_payload("".join(f"{k}: {v}\n" for k, v in original.items()))
    else:
        returned = EmailMessage(policy=policy.default)
        returned.set_content(original)
        returned["Content-Description"] = "Undelivered Message"
        del returned["MIME-Version"]
    msg.attach(returned)
    msg.set_boundary(f"{digest(d, 'report')[:16].upper()}.{d.seq:04d}/mx1.{domain}")
    return msg


# Python folds a header that does not fit behind its name onto the next line entirely
# ("Subject:\n Doorst: ..."), which some parsers read with a leading space. Lines up to 120
# characters (RFC 5322 allows 998) keep subjects on their own line; longer headers still fold.
WRITE_POLICY = policy.default.clone(max_line_length=120)


def render(d: Draft) -> tuple[bytes, str]:
    if d.kind == "bounce":
        return build_bounce(d).as_bytes(policy=WRITE_POLICY), ""
    msg, text = build_message(d)
    return msg.as_bytes(policy=WRITE_POLICY), text


# =====================================================================================
# Answers: the shared mailbox's sent items, and contact persons' replies with it in Cc
# =====================================================================================
# A real functional mailbox holds its answers too: most questions get one, late or soon,
# some never. Answers draw from their own random streams (one per question, seeded from
# REPLY_SEED and the question's number), so nothing here changes a question, an automatic
# reply or a bounce: those stay byte-identical whatever is tuned below.

REPLY_SEED = 20261201
SENT_SUFFIX = ".sample:2,S"  # Maildir flag S: the sent items have been seen
SHARE_CC_REPLY = 0.10  # a contact person answers from their own address, the shared mailbox in Cc
SHARE_WRONG_UNANSWERED = 0.5  # in another organisation's mailbox: passed on there, no answer from here
SHARE_ANTW = 0.15  # older Dutch Outlook writes "Antw:" instead of "RE:"
ZWOLLE_HANDED_OVER = 0.45  # IND Zwolle lacks capacity: part of its questions go to Den Haag and Den Bosch
NEVER_ANSWERED = {"IND": 0.05, "DT&V": 0.10, "RvdK": 0.05}  # lost in the mailbox altogether
# Working days from the day a question arrives to its answer: a lognormal draw around a
# median, rounded down and clipped: (median, sigma, fewest, most). `None`: the rest of
# the organisation's regions.
DELAYS = {
    ("IND", "Den Haag"): (3.2, 0.6, 0, 10),
    ("IND", "Den Bosch"): (3.4, 0.6, 0, 10),
    ("IND", "Zwolle"): (7.5, 0.45, 2, 16),
    ("DT&V", None): (6.5, 0.5, 3, 20),
    ("RvdK", None): (3.3, 0.55, 0, 8),
    ("RvdK", "Breda"): (6.5, 0.45, 2, 12),
}
DTV_BACKLOG = 5.0  # DT&V's backlog builds up: its median grows by this many working days over the period
PERIOD_END = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 23, 59, 59)  # local wall clock

ORG_EN = {"IND": "Immigration and Naturalisation Service (IND)", "DT&V": "Repatriation and Departure Service (DT&V)",
          "RvdK": "Child Care and Protection Board (Raad voor de Kinderbescherming)"}
ORG_TARGET = {"IND": "de IND", "DT&V": "DT&V", "RvdK": "de Raad voor de Kinderbescherming"}
WHO_HANDLES = {"IND": "de behandelend medewerker", "DT&V": "de regievoerder", "RvdK": "de raadsonderzoeker"}

# What contact persons answer. `{je}`, `{jouw}`, `{kun_je}`, `{wil_je}`: informal or formal ("u").
REPLY_TEXT = DATA["answers"]["REPLY_TEXT"]
GENERIC_REPLIES = DATA["answers"]["GENERIC_REPLIES"]
CLARIFY_REPLIES = DATA["answers"]["CLARIFY_REPLIES"]
REDIRECT_REPLIES = DATA["answers"]["REDIRECT_REPLIES"]
ENGLISH_REPLIES = DATA["answers"]["ENGLISH_REPLIES"]
REPLY_OPENERS = DATA["answers"]["REPLY_OPENERS"]
LATE_OPENERS = DATA["answers"]["LATE_OPENERS"]
REPLY_EXTRAS = DATA["answers"]["REPLY_EXTRAS"]
REPLY_CLOSERS = DATA["answers"]["REPLY_CLOSERS"]
RESEND_NOTES = DATA["answers"]["RESEND_NOTES"]


@dataclass
class Answer:
    """One answer to a question: from the shared mailbox (its sent items), or from a contact
    person's own address with the shared mailbox in Cc (it then arrives in the inbox)."""

    question: Draft
    mailbox: str
    moment: datetime
    via: str  # sent | cc
    suffix: str  # Message-ID: <sample-NNNN{suffix}.box@bvhk.example>, NNNN the question's number
    subject: str
    sender: tuple[str, str]
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    blocks: list[Block]
    contact: str
    region: str | None  # the region the question falls to in the mailbox's organisation
    days: int  # working days after the day the question arrived
    english: bool = False
    tie: str = ""  # auto_reply | bounce | resend: fixed by mail already in the inbox

    @property
    def message_id(self) -> str:
        return message_id(self.question, self.suffix)

    @property
    def file(self) -> str:
        folder, suffix = (".Sent/cur", SENT_SUFFIX) if self.via == "sent" else ("cur", GENERATED_SUFFIX)
        return f"{self.mailbox}/{folder}/{int(self.moment.timestamp())}.{self.question.seq:04d}{suffix}"


def naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)  # moments are made by local(): this is Amsterdam wall-clock time


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0: answered the same day)."""
    return sum((start + timedelta(days=k)).weekday() < 5 for k in range(1, (end - start).days + 1))


def office_moment(dice: Dice, after: datetime, days: int) -> datetime:
    """A moment `days` working days after the day of `after` (the next working day when it
    came in after hours), mostly during office hours, sometimes in the evening."""
    start = naive(after)
    day = start.date()
    if start.weekday() >= 5 or start.hour >= 17:
        day = next_working_day(day)
    for _ in range(days):
        day = next_working_day(day)
    earliest = start + timedelta(minutes=dice.randint(20, 150))
    if day == start.date():
        closing = datetime(day.year, day.month, day.day, 17, 45)
        if earliest < closing:
            return local(earliest + (closing - earliest) * dice.random())
        day = next_working_day(day)
    slot = dice.weighted({"morning": 46, "afternoon": 46, "evening": 6, "early": 2})
    low, high = {"early": (420, 480), "morning": (480, 750), "afternoon": (780, 1065), "evening": (1140, 1320)}[slot]
    moment = datetime(day.year, day.month, day.day) + timedelta(minutes=dice.randint(low, high),
                                                              seconds=dice.randrange(60))
    return local(max(moment, earliest))


def draw_delay(dice: Dice, organisation: str, region: str | None, asked: date) -> int:
    median, sigma, low, high = DELAYS.get((organisation, region)) or DELAYS[(organisation, None)]
    if organisation == "DT&V":
        median += DTV_BACKLOG * (asked - FIRST_DAY).days / (LAST_DAY - FIRST_DAY).days
    return min(high, max(low, int(dice.lognormvariate(math.log(median), sigma))))


def answering_contact(dice: Dice, organisation: str, regions: list[str | None], theme: str) -> tuple:
    """An active contact person of the organisation in one of `regions` (any region for
    None), by capacity; those with the theme among theirs are asked more often."""
    people = [c for c in CONTACTS if c[1] == organisation and c[6] == "ja" and c[7] == "contactpersoon"
              and (None in regions or c[2] in regions)]
    weights = [c[5] * (3 if theme in c[4].split(";") else 1) for c in people]
    return dice.choices(people, weights=weights)[0]


def contact_phone(name: str) -> str:
    return phone(Dice(f"phone:{name}"))


def answer_signature(dice: Dice, contact: tuple, english: bool) -> list[str]:
    name, org, region, location, _themes, capacity, *_ = contact
    if english:
        return [dice.pick(["Kind regards,", "Best regards,"]), "", name,
                "Contact person Best Interests of the Child", ORG_EN[org]]
    lines = [dice.pick(["Met vriendelijke groet,", "Met vriendelijke groet,", "Vriendelijke groet,", "Groet,"]), "", name]
    if org == "IND":
        lines += ["Contactpersoon Belang van het Kind", ORG_NAMES[org],
                  f"Directie Regulier Verblijf en Nederlanderschap | locatie {location}",
                  "Ministerie van Justitie en Veiligheid"]
    elif org == "DT&V":
        lines += [f"Contactpersoon Belang van het Kind | regio {region}", ORG_NAMES[org],
                  "Ministerie van Justitie en Veiligheid"]
    else:
        lines += ["Contactpersoon Belang van het Kind", f"{ORG_NAMES[org]} | regio {region}, vestiging {location}"]
    if dice.chance(0.5):
        lines += [f"{dice.pick(['T', 'M'])} {contact_phone(name)}"]
    if capacity <= 5:
        lines += ["Ik werk op dinsdag en donderdag."]
    elif dice.chance(0.4):
        lines += [f"Functionele mailbox: {MAILBOXES[MAILBOX_OF[org]][1]}"]
    return lines


def you(formal_: bool) -> dict:
    pairs = {"je": ("je", "u"), "jouw": ("je", "uw"), "kun_je": ("kun je", "kunt u"), "wil_je": ("wil je", "wilt u")}
    return {k: v[1] if formal_ else v[0] for k, v in pairs.items()}


def answer_hello(dice: Dice, asker: Asker, formal_: bool, english: bool) -> str:
    if english:
        return f"Dear {asker.first},"
    last = asker.last[:1].upper() + asker.last[1:]
    if formal_:
        return dice.pick([f"Geachte {'mevrouw' if asker.female else 'heer'} {last},", f"Beste {asker.first},"])
    return dice.pick([f"Beste {asker.first},", f"Beste {asker.first},", f"Hoi {asker.first},", f"Dag {asker.first},"])


def answer_text_for(dice: Dice, q: Draft, organisation: str, ctx: dict, *, wrong: bool, english: bool) -> str:
    """The answer itself, without greeting and sign-off."""
    if english:
        return dice.pick(ENGLISH_REPLIES)
    if wrong:
        return expand(dice.pick(REDIRECT_REPLIES), ctx, dice)
    theme = q.labels["theme"]
    texts = REPLY_TEXT[theme].get(organisation) or REPLY_TEXT[theme].get("any", [])
    kind = dice.weighted({"theme": 62 if texts else 0, "generic": 25, "clarify": 13 if theme in CHILD_AGE else 0})
    if kind == "clarify":
        return expand(CLARIFY_REPLIES[organisation], ctx, dice)
    return expand(dice.pick(texts if kind == "theme" else GENERIC_REPLIES), ctx, dice)


def answer_body(dice: Dice, q: Draft, contact: tuple, *, days: int, wrong: bool) -> tuple[list[Block], bool]:
    """Greeting, answer, sign-off: the answer's own blocks (the quoted question comes below)."""
    organisation = MAILBOXES[q.mailbox][0]
    english = "english" in q.tags
    asker = q.asker
    formal_ = asker.formal or asker.kind == "advocatuur"
    target = q.labels["organisation"]
    regional = contact[8] or next(c[0] for c in CONTACTS if c[1] == organisation and c[0] != contact[0]
                                  and c[6] == "ja" and c[7] == "contactpersoon")  # the deputy, or a colleague
    ctx = dict(you(formal_), handler=WHO_HANDLES[organisation], phone=contact_phone(contact[0]),
               target=ORG_TARGET[target], target_address=MAILBOXES[MAILBOX_OF[target]][1], regional=regional)
    text = answer_text_for(dice, q, organisation, ctx, wrong=wrong, english=english)
    if not english:
        opener = dice.pick(LATE_OPENERS) if days >= 6 and dice.chance(0.6) else dice.pick(REPLY_OPENERS)
        parts = [opener, text]
        if not wrong and dice.chance(0.2):
            parts.append(dice.pick(REPLY_EXTRAS))
        text = expand(" ".join(p for p in parts if p), ctx, dice)
        closer = expand(dice.pick(REPLY_CLOSERS), ctx, dice) if dice.chance(0.7) else ""
    else:
        closer = dice.pick(["Please let me know if you have any further questions.", ""])
    blocks = [Block("text", [answer_hello(dice, asker, formal_, english)]), Block("text", [text])]
    if closer:
        blocks.append(Block("text", [closer]))
    blocks.append(Block("sig", answer_signature(dice, contact, english)))
    if not english and dice.chance(0.55):
        blocks.append(Block("disclaimer", [DISCLAIMERS["rijk"][0]]))
    return blocks, english


def reply_subject(dice: Dice, subject: str) -> str:
    """What Outlook puts above an answer: no second prefix on a subject that has one."""
    if re.match(r"(RE|Re|Antw|AW):\s", subject):
        return subject
    return ("Antw: " if dice.chance(SHARE_ANTW) else "RE: ") + subject


def quoted_question(dice: Dice, q: Draft) -> Block:
    to = q.to[0]
    return quote(dice, "outlook", who=(q.from_name, q.from_email), when=q.moment, to=to, subject=q.subject,
                 children=q.blocks, forward=False)


def make_answer(dice: Dice, q: Draft, *, contact: tuple, region: str | None, moment: datetime, via: str,
                wrong: bool, tie: str = "", suffix: str = "-answer") -> Answer:
    box_org, box_address, box_name = MAILBOXES[q.mailbox]
    asker = q.asker
    days = working_days_between(naive(q.moment).date(), naive(moment).date())
    blocks, english = answer_body(dice, q, contact, days=days, wrong=wrong)
    to = [(asker.display, asker.email)]
    cc = [(q.from_name, q.from_email)] if "forward:colleague" in q.tags else []
    if via == "cc":
        name = contact[0]
        sender = (outlook_display(*name.split(" ", 1)), contact_email(name, box_org))
        cc = cc + [(box_name, box_address)]
    else:
        sender = (box_name, box_address)
    return Answer(question=q, mailbox=q.mailbox, moment=moment, via=via, suffix=suffix,
                  subject=reply_subject(dice, q.subject), sender=sender, to=to, cc=cc,
                  blocks=blocks + [quoted_question(dice, q)], contact=contact[0], region=region, days=days,
                  english=english, tie=tie)


def bounced_answer(dice: Dice, q: Draft, bounce: Draft, region: str | None) -> list[Answer]:
    """The answer a bounce returned (as it was sent), and the answer sent again afterwards."""
    b = bounce.bounce
    _, box_address, box_name = MAILBOXES[q.mailbox]
    *paragraphs, sign_off, signed = b["sent_text"].strip().split("\n\n")
    name = signed.split("\n")[0]
    region = region or next(c[2] for c in CONTACTS if c[0] == name)
    blocks = [Block("text", [p]) for p in paragraphs] + [Block("sig", [sign_off, "", *signed.split("\n")])]
    days = working_days_between(naive(q.moment).date(), naive(b["sent"]).date())
    sent = Answer(question=q, mailbox=q.mailbox, moment=b["sent"], via="sent", suffix="-answer",
                  subject=b["sent_subject"], sender=(box_name, box_address), to=[("", b["recipient"])], cc=[],
                  blocks=blocks + [quoted_question(dice, q)], contact=name, region=region, days=days, tie="bounce")
    again = office_moment(dice, bounce.moment, 0 if b["reason"] != "full" else dice.randint(1, 2))
    if naive(again) > PERIOD_END:
        return [sent]
    ctx = dict(you(q.asker.formal), sent=nl_date(naive(b["sent"]).date(), dice, "long"))
    note = expand(RESEND_NOTES[b["reason"]], ctx, dice)
    resent = Answer(question=q, mailbox=q.mailbox, moment=again, via="sent", suffix="-answer2",
                    subject=b["sent_subject"], sender=(box_name, box_address),
                    to=[(q.asker.display, q.asker.email)], cc=[],
                    blocks=[blocks[0], Block("text", [note])] + blocks[1:] + [quoted_question(dice, q)],
                    contact=name, region=region, days=days, tie="resend")
    return [sent, resent]


def before_auto_reply(dice: Dice, q: Draft, auto: datetime) -> datetime:
    """When the answer went out that the asker's automatic reply answers: just before it
    during office hours, else late on the last working day before it."""
    when = naive(auto)
    if when.weekday() < 5 and 8 <= when.hour < 18:
        return local(when - timedelta(minutes=dice.randint(1, 15), seconds=dice.randrange(60)))
    day = when.date() if when.hour >= 18 and when.weekday() < 5 else when.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    moment = datetime(day.year, day.month, day.day, 15, 30) + timedelta(minutes=dice.randint(0, 120))
    soon = naive(q.moment) + timedelta(minutes=dice.randint(20, 90))
    if moment <= soon:
        moment = soon  # answered right away, after office hours
    if moment >= when:
        moment = when - timedelta(minutes=dice.randint(1, 15), seconds=dice.randrange(60))
    return local(moment)


def make_answers(drafts: list[Draft], ref: Reference) -> tuple[list[Answer], list[Draft]]:
    """The answers to the questions, and the questions left unanswered at the end of the period.
    Mail already in the inbox fixes some answers: an automatic reply of the asker answers
    ours, a bounce returns ours (then it goes out again)."""
    following: dict[int, list[Draft]] = {}
    for d in drafts:
        if d.about is not None:
            following.setdefault(d.about.seq, []).append(d)
    answers: list[Answer] = []
    unanswered: list[Draft] = []
    for q in (d for d in drafts if d.kind == "question"):
        dice = Dice(f"answer:{REPLY_SEED}:{q.mailbox}:{q.seq}")
        box_org = MAILBOXES[q.mailbox][0]
        wrong = q.labels["organisation"] != box_org
        region = ref.region(box_org, q.place.municipality) if q.place else None
        theme = q.labels["theme"]
        bounces = [d for d in following.get(q.seq, []) if d.kind == "bounce"]
        autos = sorted(d.moment for d in following.get(q.seq, []) if d.kind == "auto_reply")
        returned = [b for b in bounces if b.bounce["reason"] != "inactive"]
        if returned:
            answers += bounced_answer(dice, q, returned[0], region)
            continue
        if autos:
            contact = answering_contact(dice, box_org, [region], theme)
            moment = before_auto_reply(dice, q, autos[0])
            answers.append(make_answer(dice, q, contact=contact, region=region or contact[2], moment=moment,
                                       via="sent", wrong=wrong, tie="auto_reply"))
            continue
        if wrong and dice.chance(SHARE_WRONG_UNANSWERED):
            unanswered.append(q)
            continue
        lost = NEVER_ANSWERED[box_org] * (2.5 if region == "Zwolle" else 1)
        if dice.chance(lost):
            unanswered.append(q)
            continue
        regions = [region]
        handover = 0
        if box_org == "IND" and region == "Zwolle" and dice.chance(ZWOLLE_HANDED_OVER):
            regions, handover = ["Den Haag", "Den Bosch"], dice.randint(1, 3)
        contact = answering_contact(dice, box_org, regions, theme)
        delay_region = contact[2] if handover else (region or contact[2])
        days = handover + draw_delay(dice, box_org, delay_region, naive(q.moment).date())
        start = q.moment if not bounces else bounces[0].moment  # forwarded to an inactive contact first
        moment = office_moment(dice, start, days)
        if naive(moment) > PERIOD_END:
            unanswered.append(q)
            continue
        via = "cc" if dice.chance(SHARE_CC_REPLY) else "sent"
        answers.append(make_answer(dice, q, contact=contact, region=region or contact[2], moment=moment, via=via,
                                   wrong=wrong))
    for a in answers:
        if not naive(a.question.moment) < naive(a.moment) <= PERIOD_END:
            raise AssertionError(f"answer to question {a.question.seq} dated {a.moment} outside its window")
    return answers, unanswered


def build_answer(a: Answer) -> bytes:
    """An answer as Outlook stores it in the sent items, or as the inbox receives a contact
    person's reply (then with the receiving server's trace headers)."""
    q = a.question
    box_address = MAILBOXES[a.mailbox][1]
    stamp = format_datetime(a.moment.astimezone(timezone.utc))
    seed = hashlib.sha256(f"{a.message_id}{stamp}".encode()).hexdigest()
    msg = EmailMessage(policy=policy.default)
    if a.via == "cc":
        domain, sender_domain = box_address.split("@")[1], a.sender[1].split("@")[1]
        msg["Return-Path"] = f"<{a.sender[1]}>"
        msg["Delivered-To"] = box_address
        msg["Received"] = (f"from smtp.{sender_domain} (smtp.{sender_domain} [192.0.2.{int(seed[:2], 16) % 250 + 2}]) "
                           f"by mx1.{domain} with ESMTPS id {seed[2:14].upper()} for <{box_address}>; {stamp}")
    parent = bytes.fromhex("01" + (digest(q, "thread") if q.client == "outlook" else seed)[:40])
    msg["From"] = formataddr(a.sender)
    msg["To"] = address_list(a.to)
    if a.cc:
        msg["CC"] = address_list(a.cc)
    msg["Subject"] = a.subject
    msg["Thread-Topic"] = base_subject(a.subject)
    msg["Thread-Index"] = base64.b64encode(parent + bytes.fromhex(seed[40:50])).decode()
    msg["Date"] = stamp
    msg["Message-ID"] = a.message_id
    msg["In-Reply-To"] = message_id(q)
    msg["References"] = " ".join(thread_refs(q) + [message_id(q)])
    msg["Accept-Language"] = "nl-NL, en-US"
    msg["X-MS-Has-Attach"] = ""
    msg["X-MS-TNEF-Correlator"] = ""
    msg["MIME-Version"] = "1.0"
    msg.set_content(plain_text(a.blocks) + "\n", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(outlook_html(a.blocks, "utf-8", None), subtype="html", charset="utf-8",
                        cte="quoted-printable")
    for part in msg.iter_parts():
        del part["MIME-Version"]
    msg["Content-Language"] = "en-US" if a.english else "nl-NL"  # after the parts: not moved into them
    boundary = hashlib.sha256(f"boundary{seed}".encode()).hexdigest()
    msg.set_boundary(f"_000_{boundary[:24].upper()}{q.seq:04d}_")
    return msg.as_bytes(policy=WRITE_POLICY)


def answer_stats(answers: list[Answer], unanswered: list[Draft]) -> dict[str, Counter]:
    """Counts for the summary: answer files per mailbox and folder, questions answered, and
    the median response time (working days) per organisation and region."""
    files = Counter(f"{a.mailbox} {'.Sent' if a.via == 'sent' else 'inbox (cc)'}" for a in answers)
    fixed = Counter(a.tie for a in answers if a.tie)
    first: dict[tuple[str, int], Answer] = {}
    for a in sorted(answers, key=lambda a: a.moment):
        first.setdefault((a.mailbox, a.question.seq), a)
    answered = Counter(f"{mailbox} answered" for mailbox, _ in first) + Counter(
        f"{q.mailbox} unanswered" for q in unanswered)
    answered["answered %"] = round(100 * len(first) / (len(first) + len(unanswered)))
    by_region: dict[str, list[int]] = {}
    for a in first.values():
        org = MAILBOXES[a.mailbox][0]
        by_region.setdefault(org, []).append(a.days)
        by_region.setdefault(f"{org} {a.region}", []).append(a.days)
    medians = Counter({k: sorted(v)[len(v) // 2] for k, v in by_region.items()})
    return {"answer files": files, "answers fixed by mail in the inbox": fixed, "questions": answered,
            "median working days to the first answer": medians}


# =====================================================================================
# Writing the output
# =====================================================================================

GENERATED_SUFFIX = ".sample:2,"
LABEL_KEYS = ["subject", "body", "from", "theme", "organisation", "asking_organisation", "region", "place",
              "mailbox", "file"]


def validate(ref: Reference) -> None:
    """Fail early when the tables drift from the reference data."""
    for p in PLACES:
        if p.municipality not in ref.province_of:
            raise ValueError(f"place {p.text!r}: {p.municipality!r} is not a CBS municipality")
    for municipality in COURTS:
        if municipality not in ref.province_of:
            raise ValueError(f"court seat {municipality!r} is not a CBS municipality")
    for theme in list(THEME_TEXT) + list(EN_THEMES) + list(THEMES_FOR["IND"]):
        if theme not in ref.themes:
            raise ValueError(f"theme {theme!r} is not in themes.toml")
    missing = set(ref.themes) - set(THEME_TEXT)
    if missing:
        raise ValueError(f"themes without sample text: {sorted(missing)}")
    for name, org, region, *_ in CONTACTS:
        if region and region not in ref.region_names(org):
            raise ValueError(f"contact {name}: {region!r} is not a {org} region")


def write_sample(out: Path, ref: Reference | None = None) -> dict[str, Counter]:
    """Generate everything below `out`; returns counts for the summary."""
    ref = ref or load_reference()
    validate(ref)
    drafts = generate(ref)
    counts: dict[str, Counter] = {k: Counter() for k in ("mailbox", "kind", "theme", "organisation", "asker",
                                                         "province", "form")}
    files: dict[str, bytes] = {}
    labelled, heldout = [], []
    for d in drafts:  # render and check everything before writing anything
        raw, text = render(d)
        file = f"{d.mailbox}/cur/{int(d.moment.timestamp())}.{d.seq:04d}{GENERATED_SUFFIX}"
        files[file] = raw
        counts["mailbox"][d.mailbox] += 1
        counts["kind"][f"{d.mailbox} {d.kind}"] += 1
        counts["form"].update(form_tags(d))
        if d.kind != "question":
            continue
        record = dict(d.labels, body=text, file=file)
        check_record(record, d)
        n_question = len(labelled) + len(heldout) + 1
        (heldout if n_question % HELDOUT_EVERY == 0 else labelled).append({k: record[k] for k in LABEL_KEYS})
        counts["theme"][record["theme"]] += 1
        counts["organisation"][record["organisation"]] += 1
        counts["asker"][record["asking_organisation"]] += 1
        counts["province"][ref.province_of[record["place"]] if record["place"] else "(no place)"] += 1
    counts["split"] = Counter({"labelled": len(labelled), "heldout": len(heldout)})
    answers, unanswered = make_answers(drafts, ref)
    for a in answers:
        if a.file in files:
            raise AssertionError(f"two messages would be written to {a.file}")
        files[a.file] = build_answer(a)
    counts.update(answer_stats(answers, unanswered))

    for name in MAILBOXES:
        for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
            folder = out / "mailbox" / name / sub
            folder.mkdir(parents=True, exist_ok=True)
            if sub.endswith("cur"):
                for old in folder.glob("*" + (SENT_SUFFIX if sub.startswith(".Sent") else GENERATED_SUFFIX)):
                    old.unlink()
            else:
                (folder / ".gitkeep").write_bytes(b"")
    for file, raw in files.items():
        (out / "mailbox" / file).write_bytes(raw)
    for name, records in (("labelled.jsonl", labelled), ("heldout.jsonl", heldout)):
        with open(out / name, "w", encoding="utf-8", newline="\n") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(out / "contacts.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CONTACT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(contact_rows())
    return counts


PLACE_WORDS = re.compile(r"\b(" + "|".join(sorted({re.escape(p.text) for p in PLACES}, key=len, reverse=True)) + r")\b")


def check_record(record: dict, d: Draft) -> None:
    """The labels must agree with the text: the place is named, or no place is named at all."""
    body = record["body"]
    if d.place is not None:
        named = d.place.text in body or ("court" in d.place.tags and "rechtbank" in body)
        if not named:
            raise AssertionError(f"{record['file']}: place {d.place.text!r} not in the text")
    else:
        found = PLACE_WORDS.search(body)
        if found:
            raise AssertionError(f"{record['file']}: labelled without place but names {found.group(0)!r}")


def form_tags(d: Draft) -> list[str]:
    tags = [t for t in d.tags if t in ("english", "reply", "forward", "wrong-mailbox", "typos", "no-place")]
    tags += [f"format:{d.body_format}"] if d.kind != "bounce" else []
    tags += [f"client:{d.client}"] if d.kind != "bounce" else []
    tags += ["attachments"] if d.attachments else []
    tags += ["iso-8859-1"] if d.charset == "iso-8859-1" else []
    tags += ["logo"] if d.logo else []
    tags += [t for t in d.tags if t.startswith(("reply:", "forward:"))]
    return tags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sample.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=SAMPLE, help="folder to write into (default: %(default)s)")
    args = parser.parse_args(argv)
    counts = write_sample(args.out)
    answers = sum(counts["answer files"].values())
    print(f"wrote {sum(counts['mailbox'].values())} messages and {answers} answers below {args.out}")
    for key, counter in counts.items():
        print(f"{key}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
