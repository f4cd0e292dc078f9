"""Corrections from marks: a contact person who re-marks a question in Outlook (a category)
or in an IMAP client (a keyword) corrects its classification (issue 5).

Which marks count, per mailbox with `corrections_from_marks = true`:
- the theme marks the product sets itself (`mark_theme`, one per theme of themes.toml): a
  contact person who changes "BvhK Strafrecht" into "BvhK Voogdij en alleenstaande
  minderjarigen" corrects the theme to `voogdij`;
- the marks of `correction_marks`, each naming a theme key or an organisation (IND, DT&V,
  RvdK): categories a team already uses.
Marks are compared as IMAP stores them (spaces and specials "_", case ignored).

Once per mailbox per poll the mailbox hands out the items whose marks changed since the
"marks" cursor. For a stored question, the theme marks other than the predicted theme and
other than corrections already recorded are a correction when there is exactly one (two at
once are ambiguous and left alone); organisations the same. It is stored as a `feedback`
correction is: a `correction` row by "mailbox:<name>", the question marked corrected, an
audit entry. The corrections and the cursor after them are one transaction.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Iterable, Sequence

from sqlalchemy.engine import Engine

import rules
from bot.ingest.mailboxes.base import mark_labels
from bot.ingest.mailboxes.imap import keyword
from bot.backlog.actions import Desk, correct, find, route_again
from bot.errors import ActionError
from bot.settings import ConfigError, Settings
from storage import repo
from storage.db import open_database, unit_of_work
from storage.models import Correction, Question

log = logging.getLogger(__name__)

MARKS = "marks"  # the sync_cursor folder of the marks
Meaning = tuple[str, str]  # ("theme", key) or ("organisation", name)


def mark_key(mark: str) -> str:
    """A mark as compared: the IMAP keyword it becomes, case ignored."""
    return keyword(mark).casefold()


def meanings(config, ruleset) -> dict[str, Meaning]:
    """What each mark that counts as a correction means, for one mailbox's settings."""
    table: dict[str, Meaning] = {}
    if config.mark_theme:
        derived: dict[str, list[str]] = {}
        for key in ruleset.theme_keys():
            for label in mark_labels(config, theme=key, theme_name=ruleset.theme_name(key),
                                     assignee=None, assignee_name=None, review=False):
                derived.setdefault(mark_key(label), []).append(key)
        # a template without {theme} or {theme_name} gives every theme the same mark: it says nothing
        table.update({mark: ("theme", keys[0]) for mark, keys in derived.items() if len(keys) == 1})
    for mark, value in config.correction_marks:
        if value in ruleset.theme_keys():
            table[mark_key(mark)] = ("theme", value)
        elif value in rules.ORGANISATIONS:
            table[mark_key(mark)] = ("organisation", value)
        else:
            log.warning("mailbox %s: correction_marks: '%s' is no theme key or organisation; ignored",
                        config.name, value)
    return table


def correction_for(question: Question, marks: Iterable[str], table: dict[str, Meaning],
                   earlier: Sequence[Correction]) -> tuple[str | None, str | None]:
    """The (theme, organisation) the marks correct the question to; None where they do not.
    The predicted labels (the marks the product set) and corrections already recorded are no
    new correction."""
    meant = {table[key] for key in map(mark_key, marks) if key in table}
    themes = {v for kind, v in meant if kind == "theme"} - {question.theme} - {c.theme for c in earlier}
    organisations = ({v for kind, v in meant if kind == "organisation"} - {question.organisation}
                     - {c.organisation for c in earlier})
    return (themes.pop() if len(themes) == 1 else None,
            organisations.pop() if len(organisations) == 1 else None)


def from_marks(engine: Engine, mailbox, config, *, ruleset, desk: Desk | None = None) -> int:
    """Record the corrections in the marks changed since the "marks" cursor; how many. With
    `desk`, a corrected question waiting in review is routed. Raises MailboxError like fetch does."""
    if not getattr(config, "corrections_from_marks", False) or not hasattr(mailbox, "changed_marks"):
        return 0
    table = meanings(config, ruleset)
    if not table:
        return 0
    with unit_of_work(engine) as session:
        cursor = repo.get_cursor(session, mailbox=config.name, folder=MARKS)
    marked, after = mailbox.changed_marks(cursor)
    by, recorded = f"mailbox:{config.name}", 0
    with unit_of_work(engine) as session:
        for item in marked:
            if not any(mark_key(mark) in table for mark in item.marks):
                continue
            question = repo.question_for_item(session, mailbox=config.name, source_id=item.source_id)
            if question is None or question.verdict != "question" or question.theme is None:
                continue
            earlier = repo.corrections_of(session, question_id=question.id)
            theme, organisation = correction_for(question, item.marks, table, earlier)
            if theme is None and organisation is None:
                continue
            current = earlier[-1].theme if earlier else question.theme
            repo.add_correction(session, correction=Correction(
                question_id=question.id, theme=theme or current, organisation=organisation, by=by))
            question.corrected = True
            session.add(question)
            changed = ({"theme_before": current, "theme_after": theme} if theme else {}) | (
                {"organisation_before": question.organisation, "organisation_after": organisation}
                if organisation else {})
            repo.audit(session, action="correction", question_id=question.id, actor=by, via="marks", **changed)
            if question.status == "review" and desk is not None:  # a correction routes a question in review
                route_again(session, desk, question, actor=by, theme=theme or current, organisation=organisation,
                            region=None)
            recorded += 1
        repo.set_cursor(session, mailbox=config.name, folder=MARKS, value=after)
    if recorded:
        log.info("mailbox %s: %d correction(s) from marks", config.name, recorded)
    return recorded


def record_feedback(settings: Settings, ref: str, *, theme: str | None, organisation, region, by: str | None) -> str:
    """A person's correction of a question; one in review is routed with it at once. The actor is
    the operating-system user running the command, or with `by` a contact person of the
    directory (never free text: it is audited)."""
    desk = Desk.load(settings)
    if by is None:
        by = getpass.getuser()
    else:
        try:
            by = desk.contact(by).email
        except ActionError:
            raise ConfigError(f"--by: '{by[:80]}' is geen contactpersoon in {settings.routing.contacts} "
                              "(geef het e-mailadres, of laat --by weg: dan telt de ingelogde gebruiker)") from None
    engine = open_database(settings.storage.url)
    try:
        with unit_of_work(engine) as session:
            return correct(session, desk, find(session, ref), theme=theme, organisation=organisation,
                           region=region, actor=by)
    except ActionError as exc:
        raise ConfigError(str(exc)) from None
