"""Labelled questions: the one reader of labelled data, and what a set of examples is.

Labelled data is JSON Lines, one question a line: `subject`, `body` (plain text), optional
`from`, the label `theme` and optionally `organisation` and `asking_organisation` (other
keys, such as `region`, are read past). Subject and body are joined by `question_text`,
the same join the triage of a mail uses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.text import question_text, redact_question

__all__ = ["TARGETS", "DataError", "Example", "LabelError", "fingerprint", "read_examples"]

TARGETS = ("theme", "organisation", "asking_organisation")
REQUIRED = ("subject", "body", "theme")


class DataError(ValueError):
    """Labelled data that cannot be used: one line naming the file, the line and the key."""


class LabelError(ValueError):
    """An example carries a label outside the allowed label set of its target."""

    def __init__(self, index: int, target: str, label: str, allowed: Iterable[str]) -> None:
        self.index, self.target, self.label = index, target, label
        super().__init__(
            f"example {index}: unknown {target} label {label!r}; allowed: {', '.join(sorted(allowed))}"
        )


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled question: its text (subject and body, redacted) and a label per target."""

    text: str
    labels: dict[str, str]
    mailbox_organisation: str = ""  # the organisation of the mailbox it arrived in, when known
    asker: str = ""  # who asked (an address or its keyed hash): a model's terms need several askers

    @classmethod
    def from_record(cls, record: Mapping[str, Any], targets: Sequence[str] = TARGETS) -> Example:
        """From a line of labelled data: `subject`, `body`, a label per target (may be absent),
        and where known the organisation of the mailbox it arrived in (`mailbox_organisation`)."""
        subject, body = redact_question(record.get("subject") or "", record.get("body") or "")  # once, here
        text = question_text(subject, body, str(record.get("from") or ""))
        return cls(text, {t: str(record[t]) for t in targets if record.get(t)},
                   str(record.get("mailbox_organisation") or ""), str(record.get("from") or "").strip().lower())


def read_examples(
    path: Path | str,
    *,
    labels: Mapping[str, Collection[str]] | None = None,
    targets: Sequence[str] = TARGETS,
    mailbox_organisations: Mapping[str, str] | None = None,
) -> list[Example]:
    """The examples of a JSON Lines file, checked line by line; blank lines are skipped.
    `mailbox_organisations` names the organisation of a line's `mailbox` where the line does
    not give its `mailbox_organisation` itself.

    Every line needs `subject`, `body` and `theme` as text, and a label of `targets`, when
    present, must be text. `labels` gives the allowed labels of some targets (say the
    themes of the rules); a label outside them is an error naming its line and key.
    Raises DataError.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise DataError(f"{path}: {error.strerror}") from None
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{path}:{number}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{number}: expected a JSON object")
        for key in (*REQUIRED, *targets):
            if (key in REQUIRED or record.get(key) is not None) and not isinstance(record.get(key), str):
                raise DataError(f"{path}:{number}: key '{key}' is missing or not text")
        for target, allowed in (labels or {}).items():
            label = record.get(target)
            if label and label not in allowed:
                raise DataError(f"{path}:{number}: key '{target}': unknown {target} '{label}'")
        if not record.get("mailbox_organisation") and mailbox_organisations and record.get("mailbox"):
            record = {**record, "mailbox_organisation": mailbox_organisations.get(str(record["mailbox"]), "")}
        examples.append(Example.from_record(record, targets))
    return examples


def fingerprint(examples: Iterable[Example], seed_terms: Mapping[str, Sequence[str]] | None = None) -> str:
    """sha256 over the sorted examples (and seed terms): the same data gives the same print."""
    lines = sorted(json.dumps([e.text, e.labels], sort_keys=True, ensure_ascii=False) for e in examples)
    if seed_terms:
        lines.append(json.dumps({k: sorted(v) for k, v in seed_terms.items()}, sort_keys=True, ensure_ascii=False))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
