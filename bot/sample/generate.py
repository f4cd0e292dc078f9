"""Generate the ILLUSTRATIVE sample mailboxes, labels and contact directory.

    python -m bot.sample.generate [--out DIR]

Writes, below DIR (default: the folder of this file):
  mailbox/{ind,dtv,rvdk}/{cur,new,tmp}/   three Maildir folders with the sample mail
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
are made afterwards, in answer to questions in the same mailbox.

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
import io
import json
import random
import re
import sys
import textwrap
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage, Message
from email.utils import format_datetime, formataddr
from pathlib import Path

# =====================================================================================
# The mix
# =====================================================================================

SEED = 20261129
HERE = Path(__file__).resolve().parent
DATA_DIR = HERE.parent.parent / "rules" / "data"

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

SHARE_WRONG_MAILBOX = 0.09  # sent straight to another organisation's mailbox
SHARE_NO_PLACE = 0.10
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
PLACES = _places("""
Groningen; Groningen; 4; court azc
Ter Apel; Westerwolde; 3; azc
Musselkanaal; Stadskanaal; 1; azc
Delfzijl; Eemsdelta; 1; merged azc
Appingedam; Eemsdelta; 1; merged
Veendam; Veendam; 1
Leeuwarden; Leeuwarden; 3; court azc
Drachten; Smallingerland; 1
Sneek; Súdwest-Fryslân; 1
Burgum; Tytsjerksteradiel; 1; azc
Heerenveen; Heerenveen; 1
Assen; Assen; 2; court azc
Emmen; Emmen; 2; azc
Zweeloo; Coevorden; 1; azc
Hoogeveen; Hoogeveen; 1
Zwolle; Zwolle; 3; court
Enschede; Enschede; 2
Almelo; Almelo; 2; court azc
Deventer; Deventer; 2
Hengelo; Hengelo (O.); 1
Kampen; Kampen; 1
Almere; Almere; 3
Lelystad; Lelystad; 2; court
Dronten; Dronten; 1; azc
Emmeloord; Noordoostpolder; 1
Arnhem; Arnhem; 3; court azc
Nijmegen; Nijmegen; 3; court jji azc
Apeldoorn; Apeldoorn; 2; azc
Ede; Ede; 1
Zutphen; Zutphen; 1; court
Tiel; Tiel; 1
Doetinchem; Doetinchem; 1
Wageningen; Wageningen; 1; azc
Harderwijk; Harderwijk; 1
Geldermalsen; West Betuwe; 1; merged
Utrecht; Utrecht; 4; court azc
Vleuten; Utrecht; 1
Amersfoort; Amersfoort; 2; azc
Zeist; Zeist; 1; azc
Nieuwegein; Nieuwegein; 1
Veenendaal; Veenendaal; 1
Doorn; Utrechtse Heuvelrug; 1
Amsterdam; Amsterdam; 5; court azc
Weesp; Amsterdam; 1; merged
Haarlem; Haarlem; 2; court
Zaandam; Zaanstad; 1
Hoofddorp; Haarlemmermeer; 1
Alkmaar; Alkmaar; 2; court azc
Den Helder; Den Helder; 1
Hilversum; Hilversum; 1
Heerhugowaard; Dijk en Waard; 1; merged
Purmerend; Purmerend; 1
Hoorn; Hoorn; 1
Den Haag; 's-Gravenhage; 5; court
's-Gravenhage; 's-Gravenhage; 1; court
Scheveningen; 's-Gravenhage; 1
Rotterdam; Rotterdam; 5; court
Hoogvliet; Rotterdam; 1
Dordrecht; Dordrecht; 2; court
Leiden; Leiden; 2
Delft; Delft; 1
Zoetermeer; Zoetermeer; 1
Gouda; Gouda; 1
Schiedam; Schiedam; 1
Spijkenisse; Nissewaard; 1
Hellevoetsluis; Voorne aan Zee; 1; merged
Brielle; Voorne aan Zee; 1; merged
Katwijk; Katwijk; 1; azc
Sassenheim; Teylingen; 1; jji
Naaldwijk; Westland; 1
Gorinchem; Gorinchem; 1
Alphen aan den Rijn; Alphen aan den Rijn; 1
Rijswijk; Rijswijk; 1; azc
Middelburg; Middelburg; 2; court
Vlissingen; Vlissingen; 1
Goes; Goes; 1
Terneuzen; Terneuzen; 1
Hulst; Hulst; 1
Breda; Breda; 6; court jji
Den Bosch; 's-Hertogenbosch; 3; court
's-Hertogenbosch; 's-Hertogenbosch; 1; court
Tilburg; Tilburg; 3
Eindhoven; Eindhoven; 3
Helmond; Helmond; 1
Oss; Oss; 1
Roosendaal; Roosendaal; 2
Bergen op Zoom; Bergen op Zoom; 2
Etten-Leur; Etten-Leur; 1
Oosterhout; Oosterhout; 2; azc
Gilze; Gilze en Rijen; 2; azc
Budel; Cranendonck; 2; azc
Veghel; Meierijstad; 1
Uden; Maashorst; 1; merged
Cuijk; Land van Cuijk; 1; merged
Overloon; Land van Cuijk; 1; azc
Helvoirt; Vught; 1; merged
Haaren; Oisterwijk; 1; merged
Vught; Vught; 1
Waalwijk; Waalwijk; 1
Zundert; Zundert; 1
Maastricht; Maastricht; 3; court azc
Roermond; Roermond; 2; court
Venlo; Venlo; 2; azc
Heerlen; Heerlen; 2; azc
Sittard; Sittard-Geleen; 1
Geleen; Sittard-Geleen; 1
Weert; Weert; 1
Echt; Echt-Susteren; 1; azc
Venray; Venray; 1
Cadier en Keer; Eijsden-Margraten; 1; jji
""")

# court seats (CBS municipality -> how people name the court)
COURTS = {
    "Groningen": "[de rechtbank Noord-Nederland, locatie Groningen|de rechtbank in Groningen]",
    "Leeuwarden": "[de rechtbank Noord-Nederland, locatie Leeuwarden|de rechtbank in Leeuwarden]",
    "Assen": "[de rechtbank Noord-Nederland, locatie Assen|de rechtbank in Assen]",
    "Zwolle": "[de rechtbank Overijssel, locatie Zwolle|de rechtbank in Zwolle]",
    "Almelo": "[de rechtbank Overijssel, locatie Almelo|de rechtbank in Almelo]",
    "Lelystad": "[de rechtbank Midden-Nederland, locatie Lelystad|de rechtbank in Lelystad]",
    "Arnhem": "[de rechtbank Gelderland, locatie Arnhem|de rechtbank in Arnhem]",
    "Nijmegen": "[de rechtbank Gelderland, locatie Nijmegen|de rechtbank in Nijmegen]",
    "Zutphen": "[de rechtbank Gelderland, locatie Zutphen|de rechtbank in Zutphen]",
    "Utrecht": "[de rechtbank Midden-Nederland, locatie Utrecht|de rechtbank in Utrecht]",
    "Amsterdam": "[de rechtbank Amsterdam|de rechtbank in Amsterdam]",
    "Haarlem": "[de rechtbank Noord-Holland, locatie Haarlem|de rechtbank in Haarlem]",
    "Alkmaar": "[de rechtbank Noord-Holland, locatie Alkmaar|de rechtbank in Alkmaar]",
    "'s-Gravenhage": "[de rechtbank Den Haag|de rechtbank in Den Haag]",
    "Rotterdam": "[de rechtbank Rotterdam|de rechtbank in Rotterdam]",
    "Dordrecht": "[de rechtbank Rotterdam, locatie Dordrecht|de rechtbank in Dordrecht]",
    "Middelburg": "[de rechtbank Zeeland-West-Brabant, locatie Middelburg|de rechtbank in Middelburg]",
    "Breda": "[de rechtbank Zeeland-West-Brabant, locatie Breda|de rechtbank in Breda]",
    "'s-Hertogenbosch": "[de rechtbank Oost-Brabant|de rechtbank in Den Bosch|de rechtbank in 's-Hertogenbosch]",
    "Maastricht": "[de rechtbank Limburg, locatie Maastricht|de rechtbank in Maastricht]",
    "Roermond": "[de rechtbank Limburg, locatie Roermond|de rechtbank in Roermond]",
}

# how a municipality is called in a sender's domain and in "Gemeente X"
EVERYDAY_NAME = {"'s-Gravenhage": "Den Haag", "'s-Hertogenbosch": "'s-Hertogenbosch",
                 "Hengelo (O.)": "Hengelo"}

# =====================================================================================
# People (all invented)
# =====================================================================================

FEMALE = """Anna Sanne Lisa Eva Femke Marloes Inge Karin Esther Monique Linda Anouk Iris Sophie
Noor Fatima Yasmina Samira Priya Judith Marieke Hanneke Ilse Charlotte Lotte Nadia Mirjam Ellen
Joyce Naima Wendy Petra Renske Laura Kim Sabine Astrid Manon Rianne Dilara Hatice""".split()
MALE = """Pieter Jeroen Mark Thomas Bas Tim Ruben Martijn Erik Joost Mohamed Youssef Hasan Kevin
Dennis Sander Willem Bram Koen Rachid Stefan Jan Niels Arjen Gerard Hans Frank Maarten Wouter
Rick Jasper Ahmet Vincent Robin Sjoerd Bart""".split()
SURNAMES = [
    "de Vries", "van den Berg", "Bakker", "Jansen", "Visser", "Smit", "Meijer", "de Boer",
    "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer",
    "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs",
    "de Haan", "Vermeulen", "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn",
    "van der Heijden", "Schouten", "van Beek", "Willems", "van Vliet", "van de Ven", "Hoekstra",
    "Maas", "Verhoeven", "Koster", "van Dam", "van der Wal", "Prins", "Blom", "Huisman",
    "Postma", "Kuipers", "Veenstra", "Kramer", "Timmermans", "Wouters", "Groen", "Bosman",
    "El Idrissi", "Kaya", "Ramdin", "Bouali", "Öztürk", "Tahiri", "Nguyen", "Sahin", "Ramlal",
    "Haddouchi", "Wijnands", "Zandbergen", "Oosterhuis", "Lammers", "Brinkman", "Rietveld",
]

# foreign names for children and parents, per name pool
NAME_POOLS = {
    "hoorn": (["Senait", "Helen", "Semhar", "Luwam", "Meron", "Saba"],
              ["Yonas", "Filmon", "Tesfay", "Robel", "Abel", "Dawit"],
              ["Tesfamariam", "Kidane", "Ghebremedhin", "Habte", "Tekle", "Gebreyesus", "Tadesse"]),
    "arab": (["Lina", "Rama", "Noor", "Amal", "Hiba", "Sara", "Amna"],
             ["Omar", "Yousef", "Mustafa", "Ali", "Karim", "Hamza", "Mohammed"],
             ["Haddad", "Khalil", "Al-Jaburi", "Hassan", "Osman", "Saleh", "Al-Rawi", "Nasser"]),
    "maghreb": (["Imane", "Nora", "Yasmine", "Salma", "Khadija"],
                ["Amine", "Youssef", "Bilal", "Anas", "Karim"],
                ["El Amrani", "Bouzid", "Haddou", "Benali", "Ait Taleb", "Ouardi"]),
    "afghan": (["Zahra", "Mahsa", "Shirin", "Parisa", "Nazanin"],
               ["Ahmad", "Farid", "Reza", "Dariush", "Mehdi", "Samiullah"],
               ["Ahmadi", "Rahimi", "Noori", "Hosseini", "Moradi", "Karimi", "Sultani"]),
    "westafrika": (["Blessing", "Precious", "Fatoumata", "Ama", "Grace", "Mariama"],
                   ["Chidi", "Emeka", "Mamadou", "Kwame", "Ibrahim", "Ousmane"],
                   ["Okafor", "Adeyemi", "Eze", "Diallo", "Barry", "Mensah", "Boateng", "Camara"]),
    "somali": (["Hodan", "Ayaan", "Fadumo", "Ifrah"], ["Abdi", "Liban", "Mahad", "Yusuf"],
               ["Warsame", "Farah", "Abdullahi", "Jama", "Hirsi"]),
    "turks": (["Elif", "Zeynep", "Ayşe", "Derya"], ["Emre", "Mert", "Yusuf", "Can"],
              ["Yilmaz", "Demir", "Çelik", "Aydin", "Arslan"]),
    "kaukasus": (["Nino", "Ani", "Mariam", "Tamar"], ["Giorgi", "Aram", "Levan", "Davit"],
                 ["Beridze", "Kapanadze", "Petrosyan", "Hakobyan", "Lomidze"]),
    "balkan": (["Elira", "Arta", "Besa"], ["Arben", "Dritan", "Ilir"],
               ["Hoxha", "Krasniqi", "Berisha", "Gashi"]),
    "latijns": (["Valentina", "Camila", "Ana", "Luisa"], ["Santiago", "Lucas", "Mateo", "Diego"],
                ["Gómez", "Restrepo", "Souza", "Pereira", "Martínez"]),
    "azie": (["Mei", "Maria", "Oyuna", "Ling"], ["Wei", "Jun", "Bat-Erdene", "Paolo"],
             ["Wang", "Chen", "Santos", "Ganbaatar", "Reyes"]),
    "suriname": (["Sharmila", "Anjali", "Shanti"], ["Ravi", "Rishi", "Dinesh"],
                 ["Ramdin", "Mahabier", "Sewdien", "Jagroep"]),
    "oost-europa": (["Daria", "Olena", "Irina"], ["Oleksandr", "Artem", "Maksym"],
                    ["Kovalenko", "Shevchuk", "Bondar", "Melnyk"]),
}

# (adjective, country, name pool); asylum countries and regular-migration countries
ASYLUM_ORIGINS = [
    ("Eritrese", "Eritrea", "hoorn"), ("Syrische", "Syrië", "arab"), ("Afghaanse", "Afghanistan", "afghan"),
    ("Somalische", "Somalië", "somali"), ("Guinese", "Guinee", "westafrika"), ("Sudanese", "Soedan", "arab"),
    ("Jemenitische", "Jemen", "arab"), ("Ethiopische", "Ethiopië", "hoorn"), ("Iraanse", "Iran", "afghan"),
    ("Iraakse", "Irak", "arab"), ("Turkse", "Turkije", "turks"), ("Nigeriaanse", "Nigeria", "westafrika"),
    ("Georgische", "Georgië", "kaukasus"), ("Armeense", "Armenië", "kaukasus"),
    ("Algerijnse", "Algerije", "maghreb"), ("Marokkaanse", "Marokko", "maghreb"),
]
REGULAR_ORIGINS = [
    ("Marokkaanse", "Marokko", "maghreb"), ("Surinaamse", "Suriname", "suriname"),
    ("Nigeriaanse", "Nigeria", "westafrika"), ("Ghanese", "Ghana", "westafrika"),
    ("Braziliaanse", "Brazilië", "latijns"), ("Colombiaanse", "Colombia", "latijns"),
    ("Turkse", "Turkije", "turks"), ("Filipijnse", "Filipijnen", "azie"), ("Chinese", "China", "azie"),
    ("Mongoolse", "Mongolië", "azie"), ("Albanese", "Albanië", "balkan"), ("Oekraïense", "Oekraïne", "oost-europa"),
    ("Armeense", "Armenië", "kaukasus"),
]
DUBLIN_STATES = ["Duitsland", "Italië", "Griekenland", "België", "Zweden", "Oostenrijk", "Frankrijk",
                 "Spanje", "Polen", "Kroatië", "Bulgarije", "Zwitserland"]

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december"]
MONTHS_SHORT = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
WEEKDAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
WEEKDAYS_SHORT = ["ma", "di", "wo", "do", "vr", "za", "zo"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
EN_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# =====================================================================================
# Contact persons (the illustrative directory, contacts.csv)
# =====================================================================================

CONTACT_COLUMNS = ["name", "email", "organisation", "region", "location", "themes", "capacity",
                   "active", "role", "deputy"]
# name, organisation, region, location, themes, capacity, active, role, deputy (by name)
CONTACTS = [
    ("Sanne Verbeek", "IND", "Den Haag", "Den Haag", "", 20, "ja", "contactpersoon", "Jeroen Kleinsma"),
    ("Jeroen Kleinsma", "IND", "Den Haag", "Den Haag", "chavez;gezag-en-omgang;dublin-en-nareis", 15, "ja", "contactpersoon", "Sanne Verbeek"),
    ("Hanneke Brouwers", "IND", "Den Bosch", "Den Bosch", "", 16, "ja", "contactpersoon", "Sanne Verbeek"),
    ("Wouter Nijhof", "IND", "Zwolle", "Zwolle", "", 5, "ja", "contactpersoon", "Hanneke Brouwers"),
    ("Ilse Hofstede", "IND", "", "Den Haag", "", 5, "ja", "coordinator", ""),
    ("Gerrit Hoekman", "DT&V", "Noord", "Ter Apel", "", 12, "ja", "contactpersoon", "Yasmina El Khatib"),
    ("Yasmina El Khatib", "DT&V", "Oost", "Zevenaar", "", 10, "ja", "contactpersoon", "Gerrit Hoekman"),
    ("Bas Terpstra", "DT&V", "Midden", "Zeist", "", 14, "ja", "contactpersoon", "Lieke Vonk"),
    ("Lieke Vonk", "DT&V", "Midden", "Zeist", "kinderbeschermingsmaatregelen;voogdij", 8, "ja", "contactpersoon", "Bas Terpstra"),
    ("Dennis Groenewoud", "DT&V", "West", "Rotterdam", "", 10, "ja", "contactpersoon", "Monique Verhagen"),
    ("Monique Verhagen", "DT&V", "Zuid", "Budel", "", 12, "ja", "contactpersoon", "Dennis Groenewoud"),
    ("Arjen Slotboom", "DT&V", "", "Den Haag", "", 5, "ja", "coordinator", ""),
    ("Femke Wieringa", "RvdK", "Noord-Nederland", "Groningen", "", 12, "ja", "contactpersoon", "Tjeerd Hiemstra"),
    ("Tjeerd Hiemstra", "RvdK", "Noord-Nederland", "Leeuwarden", "", 8, "ja", "contactpersoon", "Femke Wieringa"),
    ("Ellen Kamphuis", "RvdK", "IJsselland", "Zwolle", "", 10, "ja", "contactpersoon", "Ruben Gerritsen"),
    ("Ruben Gerritsen", "RvdK", "Gelderland", "Arnhem", "", 12, "ja", "contactpersoon", "Naima Bouzerda"),
    ("Naima Bouzerda", "RvdK", "Gelderland", "Nijmegen", "voogdij;dublin-en-nareis;chavez", 9, "ja", "contactpersoon", "Ruben Gerritsen"),
    ("Karin van Ommen", "RvdK", "Midden-Nederland", "Utrecht", "", 14, "ja", "contactpersoon", "Thomas Verweij"),
    ("Thomas Verweij", "RvdK", "Midden-Nederland", "Amersfoort", "", 10, "ja", "contactpersoon", "Karin van Ommen"),
    ("Judith Schermer", "RvdK", "Noord-Holland", "Haarlem", "", 15, "ja", "contactpersoon", ""),
    ("Mark Zwaan", "RvdK", "Noord-Holland", "Amsterdam", "", 10, "nee", "contactpersoon", "Judith Schermer"),
    ("Priya Ramsaran", "RvdK", "Haaglanden", "Den Haag", "", 14, "ja", "contactpersoon", "Joost van Wingerden"),
    ("Joost van Wingerden", "RvdK", "Haaglanden", "Leiden", "", 8, "ja", "contactpersoon", "Priya Ramsaran"),
    ("Esther Mulders", "RvdK", "Rotterdam-Rijnmond", "Rotterdam", "", 16, "ja", "contactpersoon", "Priya Ramsaran"),
    ("Anouk Wesselink", "RvdK", "Breda", "Breda", "", 25, "ja", "contactpersoon", "Rachid Amrani"),
    ("Rachid Amrani", "RvdK", "Breda", "Breda", "", 22, "ja", "contactpersoon", "Anouk Wesselink"),
    ("Lotte Dekkers", "RvdK", "Breda", "Middelburg", "kinderbeschermingsmaatregelen;gezag-en-omgang;voogdij", 12, "ja", "contactpersoon", "Anouk Wesselink"),
    ("Bram Swinkels", "RvdK", "Oost-Brabant", "Den Bosch", "", 12, "ja", "contactpersoon", "Lotte Dekkers"),
    ("Mirjam Huijts", "RvdK", "Limburg", "Roermond", "", 11, "ja", "contactpersoon", "Bram Swinkels"),
    ("Hans Koopmans", "RvdK", "", "Utrecht", "", 5, "ja", "coordinator", ""),
]
ORG_DOMAIN = {"IND": "ind.example", "DT&V": "dtv.example", "RvdK": "rvdk.example"}


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


# Formal register: "jullie" becomes "u". Only the forms the templates use.
_FORMAL = [
    (r"\bKunnen jullie\b", "Kunt u"), (r"\bkunnen jullie\b", "kunt u"),
    (r"\bHebben jullie\b", "Heeft u"), (r"\bhebben jullie\b", "heeft u"),
    (r"\bZijn jullie\b", "Bent u"), (r"\bzijn jullie\b", "bent u"),
    (r"\bWeten jullie\b", "Weet u"), (r"\bweten jullie\b", "weet u"),
    (r"\bWillen jullie\b", "Wilt u"), (r"\bwillen jullie\b", "wilt u"),
    (r"\bZouden jullie\b", "Zou u"), (r"\bzouden jullie\b", "zou u"),
    (r"\bjullie (reactie|advies|antwoord|mening|oordeel|inzet|kant|beleid|werkwijze|organisatie|dienst|expertise|visie|contactpersoon|team|collega's|bericht|hulp|standpunt)",
     r"uw \1"),
    (r"\bJullie\b", "U"), (r"\bjullie\b", "u"),
    (r"\bje\b", "u"), (r"\bjij\b", "u"), (r"\bjouw\b", "uw"),
]


def formal(text: str) -> str:
    for pattern, repl in _FORMAL:
        text = re.sub(pattern, repl, text)
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


def amsterdam_offset(moment: datetime) -> timedelta:
    """CEST until the last Sunday of October 2026 (25 Oct, 01:00 UTC), CET after."""
    dst_end = datetime(2026, 10, 25, 1, 0, tzinfo=timezone.utc)
    dst_start = datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc)
    utc = moment.replace(tzinfo=timezone.utc) - timedelta(hours=2)
    return timedelta(hours=2) if dst_start <= utc < dst_end else timedelta(hours=1)


def local(naive: datetime) -> datetime:
    """A naive Amsterdam wall-clock time made aware."""
    return naive.replace(tzinfo=timezone(amsterdam_offset(naive)))


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
        digits = [dice.randint(1, 6)] + [dice.randrange(10) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1))) % 11
        if check < 10:
            return "".join(map(str, digits + [check]))


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

ROLES = {
    "IND": ["hoor- en beslismedewerker", "hoor- en beslismedewerker", "beslismedewerker", "jurist",
            "senior medewerker Regulier", "procesvertegenwoordiger", "medewerker team Gezinsmigratie"],
    "DT&V": ["regievoerder", "regievoerder", "senior regievoerder", "regievoerder amv",
             "juridisch adviseur", "teamleider regievoering"],
    "RvdK": ["raadsonderzoeker", "raadsonderzoeker", "raadsonderzoeker", "gedragsdeskundige",
             "teamleider", "juridisch adviseur", "zittingsvertegenwoordiger", "raadsonderzoeker strafzaken"],
    "Nidos": ["jeugdbeschermer", "voogd", "jeugdbeschermer amv", "gedragswetenschapper", "teamleider"],
    "COA": ["mentor", "woonbegeleider", "medewerker Wonen", "casemanager", "teamleider Begeleiding"],
    "GI": ["jeugdbeschermer", "gezinsvoogd", "jeugdbeschermer", "gedragswetenschapper", "jeugdreclasseerder"],
    "gemeente": ["beleidsmedewerker Jeugd", "jeugdconsulent", "medewerker wijkteam", "casusregisseur",
                 "medewerker Burgerzaken", "beleidsadviseur Asiel en Integratie"],
    "advocatuur": ["advocaat", "advocaat", "advocaat", "advocaat-stagiaire", "juridisch medewerker"],
}
ORG_NAMES = {
    "IND": "Immigratie- en Naturalisatiedienst",
    "DT&V": "Dienst Terugkeer en Vertrek",
    "RvdK": "Raad voor de Kinderbescherming",
    "Nidos": "Nidos",
    "COA": "Centraal Orgaan opvang asielzoekers",
}
ORG_SHORT = {"IND": "de IND", "DT&V": "DT&V", "RvdK": "de Raad", "Nidos": "Nidos", "COA": "het COA",
             "GI": "de GI", "gemeente": "de gemeente", "advocatuur": "ons kantoor", "overig": "onze organisatie"}
IND_UNITS = ["Directie Regulier Verblijf en Nederlanderschap", "Directie Asiel en Bescherming",
             "Directie Regulier Verblijf en Nederlanderschap | Unit Gezin", "Directie Asiel en Bescherming | AC"]
# offices of the three organisations, per region of that organisation
OFFICES = {
    "IND": {"Den Haag": ["Den Haag", "Rijswijk"], "Den Bosch": ["Den Bosch"],
            "Zwolle": ["Zwolle", "Ter Apel", "Zevenaar"]},
    "DT&V": {"Noord": ["Ter Apel", "Groningen"], "Oost": ["Zevenaar"], "Midden": ["Zeist"],
             "West": ["Rotterdam"], "Zuid": ["Budel"]},
    "RvdK": {"Noord-Nederland": ["Groningen", "Leeuwarden", "Assen"], "IJsselland": ["Zwolle", "Almelo", "Lelystad"],
             "Gelderland": ["Arnhem", "Nijmegen", "Apeldoorn"], "Midden-Nederland": ["Utrecht", "Amersfoort"],
             "Noord-Holland": ["Haarlem", "Amsterdam", "Alkmaar"], "Haaglanden": ["Den Haag", "Leiden"],
             "Rotterdam-Rijnmond": ["Rotterdam", "Dordrecht"], "Breda": ["Breda", "Middelburg", "Bergen op Zoom"],
             "Oost-Brabant": ["Den Bosch", "Eindhoven"], "Limburg": ["Roermond", "Maastricht"]},
}
GI_NAMES = {
    "Groningen": "Noord", "Fryslân": "Noord", "Drenthe": "Noord", "Overijssel": "Overijssel",
    "Flevoland": "Flevoland", "Gelderland": "Gelderland", "Utrecht": "Midden-Nederland",
    "Noord-Holland": "Noord-Holland", "Zuid-Holland": "west", "Zeeland": "Zeeland",
    "Noord-Brabant": "Brabant", "Limburg": "Limburg",
}
LAW_FIRMS = [
    ("Van Dongen & Partners Advocaten", "vandongen"), ("Advocatenkantoor De Linde", "delinde"),
    ("Bakker Kramer Advocaten", "bakkerkramer"), ("Hofstra Migratierecht", "hofstra"),
    ("Advocatenpraktijk Meerzicht", "meerzicht"), ("Sterk & Terpstra Advocaten", "sterkterpstra"),
    ("Kantoor Vreemdelingenrecht Zuid", "kvzuid"), ("Advocatencollectief Oost", "collectiefoost"),
    ("Wolters Familierecht", "woltersfamilierecht"), ("De Haan Bos Advocaten", "dehaanbos"),
]
# overig: (role, organisation, domain or None for a private address)
OTHER_ASKERS = [
    ("intern begeleider", "Basisschool De Regenboog", "deregenboog.school.example"),
    ("zorgcoördinator", "Het Vakcollege", "vakcollege.school.example"),
    ("huisarts", "Huisartsenpraktijk Het Plein", "hetplein.huisarts.example"),
    ("maatschappelijk werker", "Stichting Vluchtelingensteun", "vluchtelingensteun.example"),
    ("medewerker pleegzorg", "Pleegzorg Samen", "pleegzorgsamen.example"),
    ("beleidsmedewerker", "Ministerie van Justitie en Veiligheid, DMB", "minjenv.example"),
    ("beleidsmedewerker", "Ministerie van Justitie en Veiligheid, DJFC", "minjenv.example"),
    ("behandelaar", "GGZ Kinder- en Jeugdpsychiatrie", "ggz-jeugd.example"),
    ("medewerker", "Veilig Thuis", "veiligthuis.example"),
    ("vrijwilliger", "Stichting Vluchtelingenhulp", "vluchtelingenhulp.example"),
    ("tante", "", None), ("pleegmoeder", "", None), ("buurvrouw", "", None), ("vader", "", None),
]
PRIVATE_DOMAINS = ["gmail.example", "hotmail.example", "ziggo.example", "kpnmail.example", "outlook.example"]
STREETS = ["Stationsweg", "Kerkstraat", "Marktplein", "Havenkade", "Nieuwe Gracht", "Julianalaan",
           "Parkweg", "Oranjesingel", "Willemsplein", "Lange Dreef", "Beatrixlaan", "Vestdijk"]


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


def make_asker(dice: Dice, kind: str, place: Place | None, ref: Reference, english: bool = False) -> Asker:
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
        gi_region = GI_NAMES[province] if province else dice.pick(sorted(set(GI_NAMES.values())))
        if dice.chance(0.6):
            a["org_name"] = f"Jeugdbescherming {gi_region}"
            email = f"{slug(first)}.{dotted}@jeugdbescherming.example"
        else:
            a["org_name"] = "Leger des Heils Jeugdbescherming & Reclassering"
            a["unit"] = f"regio {gi_region}"
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
                 client=dice.pick(["outlook", "outlook", "outlook", "apple", "gmail"]))
        a["office_city"] = place.text if place and dice.chance(0.6) else dice.pick(["Amsterdam", "Utrecht", "Rotterdam", "Den Haag", "Breda", "Arnhem"])
        email = f"{first[0].lower()}.{compact}@{firm_slug}.advocaten.example"
        display = f"mr. {first[0]}. {last}" if dice.chance(0.4) else f"{first} {last}"
    else:  # overig
        role, org, domain = dice.pick(OTHER_ASKERS)
        a.update(role=role, org_name=org, formal=dice.chance(0.7),
                 client=dice.pick(["gmail", "gmail", "apple", "outlook", "thunderbird"]))
        if domain is None:
            email = f"{slug(first)}{dice.pick(['.', '_', ''])}{compact}{dice.pick(['', '', str(dice.randint(70, 99))])}@{dice.pick(PRIVATE_DOMAINS)}"
            a["sig_style"] = "short"
        else:
            email = f"{first[0].lower()}.{compact}@{domain}"
            a["sig_style"] = dice.pick(["plain", "compact", "short"])
        display = f"{first} {last}"
    if english:
        a["formal"] = False
    if kind not in ("advocatuur", "overig") and dice.chance(0.06):
        a["client"] = "gmail"  # a personal account now and then
    return Asker(email=email, display=display, **a)


DISCLAIMERS = {
    "rijk": [
        "Dit bericht kan informatie bevatten die niet voor u is bestemd. Indien u niet de geadresseerde bent of "
        "dit bericht abusievelijk aan u is toegezonden, wordt u verzocht dat aan de afzender te melden en het "
        "bericht te verwijderen. De Staat aanvaardt geen aansprakelijkheid voor schade, van welke aard ook, die "
        "verband houdt met risico's verbonden aan het elektronisch verzenden van berichten.",
        "This message may contain information that is not intended for you. If you are not the addressee or if "
        "this message was sent to you by mistake, you are requested to inform the sender and delete the message. "
        "The State accepts no liability for damage of any kind resulting from the risks inherent in the "
        "electronic transmission of messages.",
    ],
    "rijk-kort": [
        "Dit bericht kan informatie bevatten die niet voor u is bestemd. Indien u niet de geadresseerde bent of "
        "dit bericht abusievelijk aan u is toegezonden, wordt u verzocht dat aan de afzender te melden en het "
        "bericht te verwijderen.",
        "Denk aan het milieu: print deze e-mail alleen als het echt nodig is.",
    ],
    "nidos": [
        "Deze e-mail is uitsluitend bestemd voor de geadresseerde(n) en kan vertrouwelijke informatie over "
        "jeugdigen bevatten. Gebruik, openbaarmaking of verspreiding door anderen is niet toegestaan. Heeft u "
        "dit bericht onbedoeld ontvangen? Meld dit dan aan de afzender en verwijder het bericht. Nidos verstuurt "
        "persoonsgegevens uitsluitend via beveiligde e-mail.",
    ],
    "coa": [
        "Het COA werkt aan een veilige leefomgeving voor bewoners en medewerkers. Deze e-mail is alleen bedoeld "
        "voor de geadresseerde. Ontvangt u deze e-mail onterecht, laat het de afzender dan weten en verwijder het "
        "bericht.",
    ],
    "gi": [
        "De informatie in dit bericht is vertrouwelijk en uitsluitend bestemd voor de geadresseerde. Indien u dit "
        "bericht ten onrechte heeft ontvangen, wordt u verzocht de afzender te informeren en het bericht te "
        "vernietigen. Aan dit bericht kunnen geen rechten worden ontleend.",
    ],
    "gemeente": [
        "Dit e-mailbericht is uitsluitend bestemd voor de geadresseerde(n). Verstrekking aan en gebruik door "
        "anderen is niet toegestaan. De gemeente sluit iedere aansprakelijkheid uit die voortvloeit uit "
        "elektronische verzending. Wij behandelen uw persoonsgegevens zorgvuldig; lees onze privacyverklaring "
        "op de website.",
    ],
    "advocaat": [
        "Dit bericht is vertrouwelijk en kan informatie bevatten die onder het verschoningsrecht van de advocaat "
        "valt. Bent u niet de beoogde ontvanger, verwijder het bericht dan en informeer de afzender. Op al onze "
        "werkzaamheden zijn de algemene voorwaarden van toepassing, waarin een beperking van aansprakelijkheid is "
        "opgenomen. De algemene voorwaarden worden op verzoek toegezonden.",
    ],
}
SIGN_OFFS = ["Met vriendelijke groet,", "Met vriendelijke groet,", "Met vriendelijke groeten,",
             "Vriendelijke groet,", "Groet,", "Groeten,", "Mvg,", "Hartelijke groet,", "Met collegiale groet,",
             "Met vriendelijke groet", "Vr. gr.", "Dank en groet,", "Hartelijke groeten,"]
FORMAL_SIGN_OFFS = ["Met vriendelijke groet,", "Met vriendelijke groet,", "Hoogachtend,",
                    "Met vriendelijke groeten,", "Met de meeste hoogachting,"]


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
