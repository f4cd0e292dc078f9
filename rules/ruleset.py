"""The rule set: everything the rules folder says, loaded once and looked up many times."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from rules.model import Contact, Region, Rule, Sender, Theme
from rules.places import PlaceIndex


@dataclass(frozen=True, eq=False)
class RuleSet:
    """Themes, regions, known senders, places and routing rules of one rules folder."""

    folder: Path
    themes: Mapping[str, Theme]  # key -> theme, in file order
    regions: tuple[Region, ...]
    senders: tuple[Sender, ...]
    rules: tuple[Rule, ...]
    strategy: Mapping[str, str]  # organisation -> fewest_open | round_robin | fixed
    municipalities: Mapping[str, str]  # CBS name -> province
    places: PlaceIndex = field(repr=False)
    routing_file: Path = Path("routing.toml")
    rule_lines: Mapping[str, int] = field(default_factory=dict)  # rule name -> line in routing.toml

    @property
    def organisations(self) -> tuple[str, ...]:
        """The organisations that have regions, in file order."""
        return tuple(dict.fromkeys(r.organisation for r in self.regions))

    def regions_of(self, organisation: str) -> dict[str, Region]:
        return self._regions.get(organisation, {})

    def region(self, organisation: str, name: str | None) -> Region | None:
        return self.regions_of(organisation).get(name or "")

    def default_region(self, organisation: str) -> Region | None:
        return next((r for r in self.regions_of(organisation).values() if r.default), None)

    def region_of_municipality(self, organisation: str, municipality: str) -> str | None:
        return self._by_municipality.get((organisation, municipality))

    def regions_of_province(self, organisation: str, province: str) -> tuple[str, ...]:
        return self._by_province.get((organisation, province), ())

    def strategy_of(self, organisation: str) -> str:
        return self.strategy.get(organisation, "fewest_open")

    def due_days(self, theme: str | None) -> int | None:
        found = self.themes.get(theme or "")
        return found.due_days if found else None

    def theme_keys(self) -> list[str]:
        return list(self.themes)

    def theme_name(self, key: str | None) -> str | None:
        """The name people read; an unknown key is given back as it is."""
        found = self.themes.get(key or "")
        return found.name if found else key

    def seed_terms(self) -> dict[str, list[str]]:
        """Theme key -> the words that mark it (for a classifier with no labelled history)."""
        return {key: list(theme.seed_terms) for key, theme in self.themes.items()}

    @cached_property
    def _signals(self) -> re.Pattern[str] | None:
        terms = {t.lower() for theme in self.themes.values() for t in (*theme.seed_terms, *theme.signal_terms)}
        if not terms:
            return None
        alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
        return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")

    def signal_terms(self, text: str) -> list[str]:
        """The terms of the controlled vocabulary (seed and signal terms of the themes) that
        `text` holds: what the weekly report may count, never a word outside that list."""
        pattern = self._signals
        return sorted(set(pattern.findall(text.lower()))) if pattern else []

    def describe(self) -> str:
        """One line in Dutch: what the rule set holds."""
        regions = ", ".join(f"{o} {len(self.regions_of(o))}" for o in self.organisations)
        return (f"{len(self.themes)} thema's, {len(self.regions)} regio's ({regions}), "
                f"{len(self.senders)} afzenders, {len(self.rules)} regels, {len(self.places)} plaatsnamen")

    def coverage_warnings(self, contacts: Sequence[Contact]) -> list[str]:
        """What the contacts file leaves uncovered, in Dutch, for the organisations it lists.

        A region without an active contact person, a theme nobody of an organisation
        handles, an organisation without a coordinator: questions then overflow or go to
        review, which may be meant, but should be known.
        """
        warnings = []
        active = [c for c in contacts if c.active]
        for organisation in dict.fromkeys(c.organisation for c in contacts):
            own = [c for c in active if c.organisation == organisation and not c.is_coordinator]
            for region in self.regions_of(organisation):
                if not any(c.region == region for c in own):
                    warnings.append(f"{organisation} regio {region}: geen actieve contactpersoon")
            for key in self.themes:
                if not any(c.handles(key) for c in own):
                    warnings.append(f"{organisation}: niemand behandelt thema {key}")
            if not any(c.is_coordinator and c.organisation == organisation for c in active):
                warnings.append(f"{organisation}: geen coördinator; wie niemand vindt, gaat naar beoordeling")
        return warnings

    def sender_by_address(self, address: str) -> Sender | None:
        return self._senders[0].get(address)

    def sender_by_domain(self, domain: str) -> Sender | None:
        return self._senders[1].get(domain)

    @cached_property
    def _regions(self) -> dict[str, dict[str, Region]]:
        table: dict[str, dict[str, Region]] = {}
        for region in self.regions:
            table.setdefault(region.organisation, {})[region.name] = region
        return table

    @cached_property
    def _by_municipality(self) -> dict[tuple[str, str], str]:
        """(organisation, municipality) -> region: a listed municipality wins over its province."""
        table: dict[tuple[str, str], str] = {}
        for region in self.regions:
            for municipality, province in self.municipalities.items():
                if province in region.provinces:
                    table.setdefault((region.organisation, municipality), region.name)
        for region in self.regions:
            for municipality in region.municipalities:
                table[(region.organisation, municipality)] = region.name
        return table

    @cached_property
    def _by_province(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(organisation, province) -> the region that lists it, else the regions of its municipalities."""
        listed: dict[tuple[str, str], tuple[str, ...]] = {}
        for region in self.regions:
            for province in region.provinces:
                listed[(region.organisation, province)] = (region.name,)
        table = dict(listed)
        for (organisation, municipality), name in self._by_municipality.items():
            key = (organisation, self.municipalities[municipality])
            if key not in listed and name not in table.get(key, ()):
                table[key] = (*table.get(key, ()), name)
        return table

    @cached_property
    def _senders(self) -> tuple[dict[str, Sender], dict[str, Sender]]:
        by_address = {s.address: s for s in self.senders if s.address}
        by_domain = {s.domain: s for s in self.senders if s.domain}
        return by_address, by_domain
