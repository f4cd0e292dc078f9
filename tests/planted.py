"""Questions with personal data planted in them, for the privacy test and its bench.

The names, streets and conditions below were written for this file, apart from the
product's patterns and from deduce's lists: a name deduce does not know is a real miss.
None of them occurs in the sample's texts, which the questions are built on, so what the
test finds is what it planted (names in the sample's own texts are measured by the bench).
Each question takes the text of a labelled sample question (so it classifies as mail
does) and adds personal data in the ways people write it: a child's and a parent's name
with a cue ("Naam kind:", "de moeder"), without one, and in lower case; a street address
with postcode; a telephone number; BSN and V-number; a health condition; and, for every
other question, a private sender address made of the parent's name.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timedelta
from pathlib import Path

from tests.bsn import invented

SAMPLE = Path(__file__).resolve().parents[1] / "bot" / "sample" / "labelled.jsonl"

CHILDREN = ("Amira", "Ruta", "Rahel", "Abrehet", "Nebiyu", "Aisha", "Zainab", "Soraya", "Meron", "Hamid",
            "Layla", "Idris", "Mahlet", "Hiba", "Jamal", "Rania", "Ermias", "Nahom", "Dilan", "Mebrat")
PARENTS = ("Hawa", "Tsega", "Abeba", "Tekle", "Nasrin", "Khalid", "Leila", "Omid", "Abdirahman", "Farid")
SURNAMES = ("Berhane", "Hashimi", "Habtemariam", "Rahimi", "Ahmadzai", "Gulaid", "Mansour", "Darwish",
            "Gebremedhin", "Sharifi", "Tekeste", "Mohamud", "Kebede", "Noorzai", "Qasemi", "Alizada")
STREETS = ("Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenlaan", "Julianastraat", "Schoolstraat",
           "Lindenlaan", "Beukenhof", "Wilhelminaplein", "Bloemgracht")
CITIES = ("Utrecht", "Zwolle", "Tilburg", "Groningen", "Arnhem", "Leeuwarden")
HEALTH = ("diabetes", "epilepsie", "astma", "PTSS", "hiv", "autisme", "depressie")

CATEGORIES = ("name_cued", "name_uncued", "name_lower", "address", "postcode", "phone", "bsn", "v_number",
              "email", "health")


@dataclass
class Planted:
    raw: bytes
    message_id: str
    text: str  # subject and body as written
    secrets: dict[str, set[str]] = field(default_factory=dict)  # category -> strings that must go


def _phone(rng: random.Random) -> str:
    digits = f"6{rng.randint(10_000_000, 99_999_999)}"
    return rng.choice([f"0{digits[:1]}-{digits[1:]}", f"0{digits}", f"+31 {digits[:1]} {digits[1:]}"])


def questions(count: int, *, seed: int = 13, when: datetime) -> list[Planted]:
    rng = random.Random(seed)
    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for n in range(count):
        record = records[(n * 7) % len(records)]
        child, parent = rng.choice(CHILDREN), rng.choice(PARENTS)
        surname = rng.choice(SURNAMES)
        street, house = rng.choice(STREETS), rng.randint(1, 140)
        postcode = f"{rng.randint(1000, 9999)} {rng.choice('ABCDEGHJKLMNPRTVWXZ')}{rng.choice('ABCDEGHJKLMNPRTVWXZ')}"
        phone, bsn, v = _phone(rng), invented(rng), str(rng.randint(10**9, 10**10 - 1))
        health = rng.choice(HEALTH)
        cued = rng.choice([f"Naam kind: {child} {surname}.", f"Cliënt: {child} {surname}, {rng.randint(3, 17)} jaar.",
                           f"Betreft: {child} {surname}", f"Het gaat om de dochter {child}."])
        uncued = rng.choice([f"Het gaat om {child} {surname} en haar broer.",
                             f"{child} {surname} woont sinds vorig jaar bij een oom.",
                             f"Wij spraken {parent} {surname} vorige week op het spreekuur."])
        lower = rng.choice([f"ook {child.lower()} {surname.lower()} zit op die school.",
                            f"zie het dossier van {parent.lower()} {surname.lower()} voor de rest."])
        facts = (f"{cued}\n{uncued} De moeder, {parent} {surname}, is bereikbaar op {phone}; {lower}\n"
                 f"Het gezin woont op {street} {house}, {postcode} {rng.choice(CITIES)}. "
                 f"BSN {bsn}, V-nummer {v}. Het kind heeft {health}.")
        paragraphs = record["body"].split("\n\n")
        paragraphs.insert(min(1, len(paragraphs)), facts)
        body = "\n\n".join(paragraphs)
        subject = record["subject"] + (f" - {child} {surname}" if n % 3 == 0 else "")
        private = n % 2 == 0
        sender = f"{parent.lower()}.{surname.lower()}@gmail.example" if private else (record.get("from") or "jurist@ind.example")
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = "bvhk@ind.example"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(when + timedelta(minutes=n))
        msg["Message-ID"] = message_id = f"<planted-{n:05d}@test.example>"
        msg.set_content(body)
        secrets = {
            "name_cued": {child, surname}, "name_uncued": {child, surname} | ({parent} if parent in uncued else set()),
            "name_lower": {w for w in lower.split() if w.capitalize() in {child, parent, surname}},
            "address": {street}, "postcode": {postcode, postcode.replace(" ", "")}, "phone": {phone},
            "bsn": {bsn}, "v_number": {v}, "health": {health},
        }
        if private:
            secrets["email"] = {sender}
        out.append(Planted(msg.as_bytes().replace(b"\r\n", b"\n"), message_id, f"{subject}\n\n{body}", secrets))
    return out


def every_secret(planted: list[Planted], *, without: tuple[str, ...] = ()) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for p in planted:
        for category, values in p.secrets.items():
            if category not in without:
                found.setdefault(category, set()).update(values)
    return found
