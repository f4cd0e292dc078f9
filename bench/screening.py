"""Precision and recall of the screening verdicts `auto_reply` and `bounce`.

Run: .venv/bin/python bench/screening.py

The labelled set is every message of the shared mail corpus (labelled by folder and, where
the folder says nothing, by reading the file: see `CORPUS_LABELS`) and every fixture in
tests/fixtures/mail (labelled by its name: `auto-reply-*`, `bounce-*`, `question-*`, ...).
Only file names are printed, never message content.
"""

from __future__ import annotations

import mailbox
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from bot.ingest.parse import ParseError, parse_message  # noqa: E402
from bot.triage.screen import ScreenContext, screen  # noqa: E402

CORPUS = Path(os.environ.get("BVHK_MAIL_CORPUS", ROOT.parent / "shared" / "corpora" / "mail"))
FIXTURES = ROOT / "tests" / "fixtures" / "mail"
OWN_ADDRESSES = frozenset({"bvhk-triage@bvhk.example"})
MEASURED = ("auto_reply", "bounce")

# Corpus files whose verdict is known; every other corpus message is neither an automatic
# reply nor a bounce (mailing-list posts, test messages, notifications of other kinds).
CORPUS_LABELS = {
    **{f"flanker/tests/fixtures/messages/bounce/{name}.eml": "bounce" for name in (
        "broken-mime", "delayed-broken", "delayed", "gmail-invalid-address", "gmail-no-dns",
        "mailbox-full", "no-mx", "office365", "zed")},
    **{f"mimekit/UnitTests/TestData/messages/{name}": "bounce" for name in (
        "bounce.txt", "delivery-status.txt", "delivery-status2.txt",
        "delivery-status.anonymized.eml", "delivery-status-multiple-blank-lines.txt",
        "delivery-status-no-blank-line.txt")},
    # by content: returned-mail notices from a Postmaster ("#n": the n-th message of an mbox)
    "james-mime4j/core/src/test/resources/mimetools-testmsgs/badbound.msg": "bounce",
    "mimekit/UnitTests/TestData/mbox/content-length.mbox.txt#27": "bounce",
    "flanker/tests/fixtures/messages/disposition-notification.eml": "read_receipt",
    "mimekit/UnitTests/TestData/messages/disposition-notification.txt": "read_receipt",
    "mimekit/UnitTests/TestData/messages/disposition-notification.anonymized.eml": "read_receipt",
    "flanker/tests/fixtures/messages/complaints/aol.eml": "feedback_report",
    "flanker/tests/fixtures/messages/complaints/yahoo.eml": "feedback_report",
    "mimekit/UnitTests/TestData/messages/feedback-report.txt": "feedback_report",
}
FIXTURE_LABELS = {
    "auto-reply-": "auto_reply", "bounce-": "bounce", "question-": "question",
    "own-message": "own_message", "loop-": "loop", "read-receipt-": "read_receipt", "bulk-": "bulk",
}
# Not messages: expected outputs, licences, address lists, attachments, TNEF blobs.
_NOT_MESSAGES = ("_decoded_", "LICENSE", "NOTICE", "README", "-summary.txt", "_valid.txt",
                 "_invalid.txt", "/emails/files/")
_NOT_MESSAGE_SUFFIXES = (".json", ".list", ".tnef", ".md")
_MBOX = (".mbox.txt", "/mbox.rlug")  # mbox files; mbox.rlug-N are single messages


@dataclass(frozen=True)
class Item:
    name: str  # file name, with "#n" for the n-th message of an mbox file
    raw: bytes
    label: str  # expected verdict; "other" when it is neither measured verdict


@dataclass(frozen=True)
class Score:
    verdict: str
    support: int
    true_positives: int
    false_positives: tuple[str, ...]
    false_negatives: tuple[str, ...]

    @property
    def precision(self) -> float:
        predicted = self.true_positives + len(self.false_positives)
        return self.true_positives / predicted if predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else 0.0


def labelled_set() -> list[Item]:
    if not CORPUS.is_dir():
        raise SystemExit(f"mail corpus not found at {CORPUS} (set BVHK_MAIL_CORPUS)")
    items = [
        Item(path.name, path.read_bytes(), label)
        for path in sorted(FIXTURES.glob("*.eml"))
        for prefix, label in FIXTURE_LABELS.items()
        if path.name.startswith(prefix)
    ]
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        name = path.relative_to(CORPUS).as_posix()
        if any(mark in f"/{name}" for mark in _NOT_MESSAGES) or name.endswith(_NOT_MESSAGE_SUFFIXES):
            continue
        label = CORPUS_LABELS.get(name, "other")
        if f"/{name}".endswith(_MBOX):
            items.extend(
                Item(f"{name}#{n}", raw, CORPUS_LABELS.get(f"{name}#{n}", label))
                for n, raw in enumerate(mbox_messages(path))
            )
        else:
            items.append(Item(name, path.read_bytes(), label))
    return items


def mbox_messages(path: Path) -> list[bytes]:
    """The messages of an mbox file (read from a copy: the mailbox module opens for writing)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.mbox"
        shutil.copyfile(path, copy)
        box = mailbox.mbox(copy, create=False)
        try:
            return [box.get_bytes(key) for key in box.keys()]
        finally:
            box.close()


def verdict_of(item: Item) -> str:
    try:
        message = parse_message(item.raw, mailbox="bench", source_id=item.name)
    except ParseError:
        return "quarantine"
    return screen(message, ScreenContext(own_addresses=OWN_ADDRESSES, already_seen=lambda _: False)).verdict


def measure(items: list[Item] | None = None) -> dict[str, Score]:
    items = labelled_set() if items is None else items
    predicted = [(item, verdict_of(item)) for item in items]
    return {
        verdict: Score(
            verdict=verdict,
            support=sum(1 for item, _ in predicted if item.label == verdict),
            true_positives=sum(1 for item, got in predicted if item.label == verdict == got),
            false_positives=tuple(item.name for item, got in predicted if got == verdict != item.label),
            false_negatives=tuple(item.name for item, got in predicted if item.label == verdict != got),
        )
        for verdict in MEASURED
    }


def main() -> None:
    items = labelled_set()
    print(f"labelled messages: {len(items)} "
          f"({sum(1 for i in items if i.name.endswith('.eml') and '/' not in i.name)} fixtures)")
    for score in measure(items).values():
        print(f"{score.verdict:10}  support {score.support:3}  precision {score.precision:.3f}"
              f"  recall {score.recall:.3f}")
        for name in score.false_positives:
            print(f"    false positive: {name}")
        for name in score.false_negatives:
            print(f"    false negative: {name}")


if __name__ == "__main__":
    main()
