"""Reading the admin's files, and wording what is wrong with them.

`TomlFile` is a TOML file read with tomllib plus where each table and key stands in it:
tomllib gives values, not positions, and the admin needs a line number in every error.
The source is scanned once for its table headers (`[name]`, `[[name]]`); a key is then
found as the first `key =` line inside its table.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from rules.model import RulesError

_HEADER = re.compile(r"""^\s*(\[\[?)\s*([A-Za-z0-9_.\-"' ]+?)\s*\]\]?\s*(?:#.*)?$""")
_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)")


def shown(path: Path) -> str:
    """The path as the admin knows it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_text(path: Path) -> str:
    """The file's text (UTF-8, with or without a byte order mark)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RulesError(f"{shown(path)}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{shown(path)}: cannot read: {exc}") from None


def listed(names: Iterable[str]) -> str:
    return ", ".join(names)


def did_you_mean(value: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(options), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class _Section:
    name: str
    index: int | None  # position among the `[[name]]` tables; None for a plain `[name]`
    first: int  # 1-based line of the header (0 for the keys before any header)
    last: int


class TomlFile:
    """One parsed TOML file that can say on which line a table or key stands."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = shown(path)
        text = read_text(path)
        try:
            self.data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = _AT_LINE.search(str(exc))
            line = found.group(1) if found else "1"
            raise RulesError(f"{self.name}:{line}: invalid TOML: {_AT_LINE.sub('', str(exc))}") from None
        self._lines = text.splitlines()
        self._sections = _sections(self._lines)

    def line(self, table: str = "", index: int | None = None, key: str | None = None) -> int:
        """The line of `key` in table `table` (the `index`-th `[[table]]`), else of the table."""
        section = next((s for s in self._sections if s.name == table and s.index == index), None)
        if section is None:
            return 1
        if key is not None:
            pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
            for number in range(section.first + 1, section.last + 1):
                if pattern.match(self._lines[number - 1]):
                    return number
        return max(section.first, 1)

    def top_line(self, name: str) -> int:
        """The line that defines top-level `name`: its `[name]` or `[[name]]` header, or `name =`."""
        section = next((s for s in self._sections if s.name == name and s.index in (None, 0)), None)
        return section.first if section else self.line(key=name)

    def error(self, message: str, table: str = "", index: int | None = None,
              key: str | None = None) -> RulesError:
        return RulesError(f"{self.name}:{self.line(table, index, key)}: {message}")

    def tables(self, name: str) -> list[dict[str, Any]]:
        """The `[[name]]` tables, in file order (none when the file has none)."""
        found = self.data.get(name, [])
        if not isinstance(found, list) or not all(isinstance(t, dict) for t in found):
            raise RulesError(f"{self.name}:{self.top_line(name)}: '{name}' must be a list of [[{name}]] tables")
        return found

    def table(self, name: str) -> dict[str, Any]:
        """The plain `[name]` table (empty when absent)."""
        found = self.data.get(name, {})
        if not isinstance(found, dict):
            raise RulesError(f"{self.name}:{self.top_line(name)}: '{name}' must be a [{name}] table")
        return found

    def entry(self, model: type[BaseModel], raw: dict[str, Any], table: str, index: int,
              label: str) -> Any:
        """Validate the `index`-th `[[table]]` as `model`; errors name its line and key."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = str(first["loc"][0]) if first["loc"] else None
            raise self.error(f"{label}: {_explain(first, key)}", table, index, key) from None


def _explain(error: Any, key: str | None) -> str:
    if error["type"] == "extra_forbidden":
        return f"unknown key '{key}'"
    if error["type"] == "missing":
        return f"missing key '{key}'"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key}: {message}" if key else message


def _sections(lines: list[str]) -> list[_Section]:
    headers: list[tuple[str, int | None, int]] = [("", None, 0)]
    counts: dict[str, int] = {}
    for number, text in enumerate(lines, start=1):
        found = _HEADER.match(text)
        if not found:
            continue
        name = found.group(2).replace('"', "").replace("'", "").strip()
        if found.group(1) == "[[":
            counts[name] = counts.get(name, -1) + 1
            headers.append((name, counts[name], number))
        else:
            headers.append((name, None, number))
    ends = [first - 1 for _, _, first in headers[1:]] + [len(lines)]
    return [_Section(name, index, first, last) for (name, index, first), last in zip(headers, ends, strict=True)]
