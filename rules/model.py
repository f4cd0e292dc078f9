"""What the routing files hold, as validated records.

One record per entry of themes.toml, regions.toml, senders.toml, routing.toml and the
contacts CSV. Pydantic checks each entry on its own (types, unknown keys); `rules.data`
checks how the entries fit together and turns every failure into a `RulesError` that
names the file, the line and the key.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, NonNegativeInt, field_validator

ORGANISATIONS = ("IND", "DT&V", "RvdK")  # the organisations whose contact persons answer
PRIORITIES = ("laag", "normaal", "hoog")
STRATEGIES = ("fewest_open", "round_robin", "fixed")
COORDINATOR = "coordinator"  # a contact's role, and the `assign` value that means "the coordinator"

_THEME_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class RulesError(Exception):
    """A routing file is wrong. The message is one line: `file:line: what, where`."""


def email_problem(value: str) -> str | None:
    """Why `value` is not a usable e-mail address (email-validator's reason), or None.

    Syntax only, no DNS: a name such as `../x@ind.example` is refused, which matters because
    addresses become folder names in the outbox."""
    try:
        validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def looks_like_email(value: str) -> bool:
    return email_problem(value) is None


def _as_tuple(value: object) -> object:
    """TOML gives one name or a list of names; both become a tuple."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


Names = Annotated[tuple[str, ...], BeforeValidator(_as_tuple)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Theme(_Entry):
    key: str
    name: str
    due_days: int = Field(ge=0)
    seed_terms: Names = ()
    # Reviewed words the weekly report may show rising besides the seed terms (never a name).
    signal_terms: Names = ()

    @field_validator("key")
    @classmethod
    def _key_is_a_label(cls, key: str) -> str:
        if not _THEME_KEY.match(key):
            raise ValueError("use lower-case letters, digits and hyphens")
        return key


class Region(_Entry):
    organisation: str
    name: str = Field(min_length=1)
    provinces: Names = ()
    municipalities: Names = ()
    overflow: Names = ()
    default: bool = False


class Sender(_Entry):
    """A known sender: an address, or a domain with its subdomains."""

    organisation: str = Field(min_length=1)
    domain: str = ""
    address: str = ""
    region: str = ""  # the sender's own office region (of `organisation`), when known

    @field_validator("domain", "address")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def label(self) -> str:
        return self.address or self.domain


class Rule(_Entry):
    """One `[[rule]]` of routing.toml: conditions (all must hold) and actions."""

    name: str = Field(min_length=1)
    # conditions: a list means "any of these"; a condition left out always holds
    theme: Names = ()
    organisation: Names = ()
    asking_organisation: Names = ()
    region: Names = ()
    sender: Names = ()  # an address, or "@domain" (subdomains included)
    mailbox: Names = ()
    words: Names = ()  # any of these words or phrases in the text
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    max_confidence: float | None = Field(default=None, ge=0, le=1)
    # actions
    assign: str | None = None  # a contact person's e-mail, or "coordinator"
    assign_region: str | None = None
    copy_to: Names = Field(default=(), alias="copy")
    priority: Literal["laag", "normaal", "hoog"] | None = None
    due_days: int | None = Field(default=None, ge=0)
    review: bool = False
    stop: bool = False

    @field_validator("sender")
    @classmethod
    def _senders(cls, senders: tuple[str, ...]) -> tuple[str, ...]:
        for sender in senders:
            if not (sender.startswith("@") and "." in sender) and not looks_like_email(sender):
                raise ValueError(f"'{sender}' is neither an address nor '@domain'")
        return tuple(s.lower() for s in senders)

    @field_validator("copy_to")
    @classmethod
    def _addresses(cls, addresses: tuple[str, ...]) -> tuple[str, ...]:
        for address in addresses:
            if not looks_like_email(address):
                raise ValueError(f"'{address}' is not an e-mail address")
        return tuple(a.lower() for a in addresses)

    @field_validator("assign")
    @classmethod
    def _assignee(cls, assign: str | None) -> str | None:
        if assign is None or assign == COORDINATOR:
            return assign
        if not looks_like_email(assign):
            raise ValueError(f"'{assign}' is neither an e-mail address nor '{COORDINATOR}'")
        return assign.lower()

    @property
    def assigns(self) -> bool:
        return self.assign is not None or self.assign_region is not None


def _split_themes(value: object) -> object:
    if isinstance(value, str):
        return tuple(t.strip() for t in value.split(";") if t.strip())
    return value


_YES = {"ja": True, "j": True, "yes": True, "true": True, "1": True,
        "nee": False, "n": False, "no": False, "false": False, "0": False}


def _yes_no(value: object) -> object:
    if isinstance(value, str):
        answer = _YES.get(value.strip().lower())
        if answer is None:
            raise ValueError(f"'{value}' is not one of ja/nee/true/false/1/0")
        return answer
    return value


def _empty_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _role(value: object) -> object:
    return "contactpersoon" if _empty_is_none(value) is None else value


class Contact(BaseModel):
    """A contact person (or coordinator) from the contacts CSV."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1)
    email: str
    organisation: str
    region: str = ""  # empty only for a coordinator
    location: str = ""
    themes: Annotated[tuple[str, ...], BeforeValidator(_split_themes)] = ()  # empty: every theme
    capacity: Annotated[NonNegativeInt | None, BeforeValidator(_empty_is_none)] = None  # None: no limit
    active: Annotated[bool, BeforeValidator(_yes_no)] = True
    role: Annotated[Literal["contactpersoon", "coordinator"], BeforeValidator(_role)] = "contactpersoon"
    deputy: Annotated[str | None, BeforeValidator(_empty_is_none)] = None  # e-mail of the stand-in
    line: int = 0  # where it stands in the CSV file

    @field_validator("email", "deputy")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if (problem := email_problem(value)) is not None:
            raise ValueError(f"'{value}' is not an e-mail address: {problem}")
        return value.lower()

    @property
    def is_coordinator(self) -> bool:
        return self.role == COORDINATOR

    def handles(self, theme: str | None) -> bool:
        return not self.themes or theme is None or theme in self.themes
