"""Coordinators' backlog digests: per coordinator, the open questions of their organisation
(and region, when theirs is set), overdue ones first, each part oldest first.

Coordinators are the active contact persons with role "coordinator" in the directory as
last imported (the contact_person table). A digest carries no message text. Subjects are
stored redacted; on output they are redacted again and every capitalised word that is not
in the vocabulary of themes, regions and organisations is masked too, because the
redaction cannot see a name without a cue ("Vraag over Ahmed"). Each question carries its
kenmerk (the triage id): it stands in the body of the forwarded question ("Kenmerk: …"),
so Outlook's search finds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

import rules
from bot.render import render
from bot.reports.weekly import LOCAL, load_theme_names
from bot.settings import Settings
from classifiers import redact
from storage import repo
from storage.db import unit_of_work
from storage.models import ContactPerson, Question

STATUS_NAMES = {"routed": "doorgestuurd", "review": "ter beoordeling", "reassigned": "herverdeeld"}
MASK = "[NAAM]"


@dataclass(frozen=True)
class DigestRow:
    kenmerk: str
    subject: str  # redacted and masked
    theme: str
    region: str
    assignee: str
    status: str
    received_on: date | None
    age_days: int
    due_on: date | None
    overdue_days: int  # 0 when not overdue


@dataclass(frozen=True)
class Digest:
    coordinator: ContactPerson
    overdue_rows: tuple[DigestRow, ...]
    open_rows: tuple[DigestRow, ...]  # open and not overdue
    today: date

    @property
    def rows(self) -> tuple[DigestRow, ...]:
        return self.overdue_rows + self.open_rows

    @property
    def overdue(self) -> int:
        return len(self.overdue_rows)

    @property
    def is_empty(self) -> bool:
        return not self.rows

    @property
    def scope(self) -> str:
        c = self.coordinator
        return f"{c.organisation}, regio {c.region}" if c.region else c.organisation

    @property
    def period(self) -> str:
        return f"digest-{self.today.isoformat()}"

    @property
    def subject(self) -> str:
        return (f"Backlog Belang van het Kind {self.scope}: {len(self.rows)} open, "
                f"{self.overdue} over de termijn")

    def html(self) -> str:
        return render("digest.html.j2", digest=self)

    def text(self) -> str:
        return render("digest.txt.j2", digest=self)


def coordinators(engine: Engine) -> list[ContactPerson]:
    with unit_of_work(engine) as session:
        return [c for c in repo.contacts(session) if c.role == "coordinator" and c.active]


def build_digests(settings: Settings, engine: Engine, *, today: date | None = None,
                  include_empty: bool | None = None) -> list[Digest]:
    """One digest per active coordinator; without open questions only when `include_empty`
    (default: the setting reports.send_digest_when_empty)."""
    today = today or datetime.now(LOCAL).date()
    if include_empty is None:
        include_empty = settings.reports.send_digest_when_empty
    themes = load_theme_names(settings.routing.rules)
    vocabulary = subject_vocabulary(settings.routing.rules)
    mailbox_organisation = {m.name: m.organisation for m in settings.mailboxes}
    with unit_of_work(engine) as session:
        questions = list(repo.open_questions(session))
        people = {c.email.lower(): c.name for c in repo.contacts(session)}
    digests = []
    for coordinator in coordinators(engine):
        mine = [
            q for q in questions
            if (q.organisation or mailbox_organisation.get(q.mailbox)) == coordinator.organisation
            and (not coordinator.region or q.region == coordinator.region)
        ]
        rows = [digest_row(q, today=today, themes=themes, people=people, vocabulary=vocabulary) for q in mine]
        rows.sort(key=lambda r: (r.received_on or today, r.kenmerk))
        digest = Digest(coordinator, tuple(r for r in rows if r.overdue_days),
                        tuple(r for r in rows if not r.overdue_days), today)
        if include_empty or not digest.is_empty:
            digests.append(digest)
    return digests


def digest_row(q: Question, *, today: date, themes: dict[str, str], people: dict[str, str],
               vocabulary: frozenset[str]) -> DigestRow:
    received_on = q.received_at.astimezone(LOCAL).date() if q.received_at else None
    return DigestRow(
        kenmerk=q.triage_id,
        subject=shown_subject(q.subject, vocabulary),
        theme=themes.get(q.theme, q.theme) if q.theme else "geen thema",
        region=q.region or "onbekend",
        assignee=people.get(q.assignee.lower(), q.assignee) if q.assignee else "nog niemand",
        status=STATUS_NAMES.get(q.status, q.status),
        received_on=received_on,
        age_days=(today - received_on).days if received_on else 0,
        due_on=q.due_on,
        overdue_days=(today - q.due_on).days if q.due_on and q.due_on < today else 0,
    )


# --- subjects -----------------------------------------------------------------------------
_TOKEN = re.compile(r"\[[A-Z]+\]|[^\W\d_][\w&'’-]*")
_KNOWN = frozenset(
    """re fw fwd wg antw doorst vraag vragen verzoek betreft inzake graag spoed urgent dringend
    hoe wat wie waar wanneer welke waarom kan kunnen mag moet is zijn wordt heeft hebben
    de het een en of over voor van bij met naar aan om op in uit na door geen nog ook
    kind kinderen minderjarige minderjarigen jongere moeder vader ouder ouders gezin familie
    verblijf verblijfsvergunning verblijfsrecht aanvraag beschikking zaak casus dossier advies
    adviesvraag informatie vreemdeling terugkeer vertrek asiel regulier bezwaar beroep
    procedure status nederland nederlandse eu evrm belang bvhk skiv gi coa nifp avg overleg
    contactpersoon contactpersonen herinnering rappel termijn
    bsn v-nr v-nummer vnr vreemdelingennummer burgerservicenummer""".split()
)


def subject_vocabulary(rules_dir: Path) -> frozenset[str]:
    """Words a subject may show capitalised: themes, seed terms, regions, organisations."""
    ruleset = rules.load_ruleset(rules_dir)
    words = set(_KNOWN) | {o.lower() for o in rules.ORGANISATIONS} | {"dtv"}
    texts = [t for theme in ruleset.themes.values() for t in (theme.name, *theme.seed_terms)]
    for text in texts + [region.name for region in ruleset.regions]:
        words.update(w.lower() for w in re.findall(r"[\w&-]+", text))
    return frozenset(words)


def _known(word: str, vocabulary: frozenset[str]) -> bool:
    """In the vocabulary, or a compound of known parts ("chavez-zaak")."""
    return word in vocabulary or all(part in vocabulary for part in word.split("-") if part)


def shown_subject(subject: str, vocabulary: frozenset[str]) -> str:
    """The subject as a digest may show it: redacted, unknown capitalised words masked."""
    def mask(match: re.Match) -> str:
        word = match.group()
        if word.startswith("[") or not word[0].isupper() or _known(word.lower(), vocabulary):
            return word
        if word.isupper() and len(word) <= 5:  # an abbreviation: OTS, PIJ, MVV
            return word
        return MASK

    masked = _TOKEN.sub(mask, redact(subject or ""))
    masked = re.sub(rf"{re.escape(MASK)}(?:[\s-]+{re.escape(MASK)})+", MASK, masked)
    return masked.strip() or "(geen onderwerp)"


# --- files ----------------------------------------------------------------------------------
def digest_stem(digest: Digest) -> str:
    c = digest.coordinator
    parts = [c.organisation, c.region, c.email.split("@")[0]]
    return "digest-" + "-".join(re.sub(r"[^A-Za-z0-9]+", "", p) for p in parts if p)


def write_digests(settings: Settings, engine: Engine, out: Path, *, today: date | None = None) -> list[Path]:
    """Each coordinator's digest as HTML and plain text in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for digest in build_digests(settings, engine, today=today):
        stem = out / digest_stem(digest)
        for suffix, body in ((".html", digest.html()), (".txt", digest.text())):
            path = stem.with_suffix(suffix)
            path.write_text(body, encoding="utf-8")
            written.append(path)
    return written
