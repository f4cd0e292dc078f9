"""Every file of the shared mail corpus (../shared/corpora/mail): a Message or a ParseError.

Each corpus file gets a kind from `KINDS` (first match wins); a file no pattern knows fails
the test, so a new corpus file is never skipped silently. Messages and mbox files are
parsed, TNEF blobs read, and expected outputs compared where the corpus has them.
"""

from __future__ import annotations

import codecs
import collections
import fnmatch
import json
import mailbox
import random
import re
import shutil
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.message import Message
from bot.ingest.limits import ParseError
from bot.ingest.parse import parse_message, parse_mime, subparts
from bot.ingest.text import decode_bytes, html_to_text, normalise_text, part_text
from bot.ingest.tnef import read_tnef

from tests import paths

CORPUS = paths.CORPUS
HANG_GUARD_SECONDS = 60  # per file; a hang guard, not a timing test

KINDS: tuple[tuple[str, str], ...] = (  # (kind, pattern on the path inside the corpus)
    ("document", "README.md"),
    ("document", "*LICENSE*"),
    ("document", "*NOTICE"),
    ("document", "*README.txt"),
    ("expected output", "james-mime4j/*_decoded_*.txt"),  # decoded body of one part
    ("expected output", "mimekit/*/mbox/*.json"),  # offsets of the messages in an mbox
    ("expected output", "mimekit/*/mbox/*-summary.txt"),  # structure of the messages in an mbox
    ("expected output", "mimekit/*/tnef/*.list"),  # attachment names in a TNEF blob
    ("address or url list", "flanker/tests/fixtures/*_valid.txt"),
    ("address or url list", "flanker/tests/fixtures/*_invalid.txt"),
    ("mbox", "*.mbox.txt"),
    ("mbox", "*/mbox.rlug"),
    ("tnef", "*.tnef"),
    # originals of attachments (its winmail.dat is a PNG image, not TNEF)
    ("attachment", "zbateson-mail-mime-parser/tests/_data/emails/files/*"),
    ("message", "*.eml"),
    ("message", "*.msg"),
    ("message", "*/mbox.rlug-[0-9]"),  # the messages of mbox.rlug, one a file
    ("message", "zbateson-mail-mime-parser/tests/_data/headers/*"),  # header blocks with a body
    ("message", "*.txt"),
)


def corpus_root() -> Path:
    return paths.require_corpus()


def kind_of(relative: str) -> str | None:
    return next((kind for kind, pattern in KINDS if fnmatch.fnmatch(relative, pattern)), None)


def corpus_files(kind: str) -> list[Path]:
    root = corpus_root()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return [p for p in files if kind_of(p.relative_to(root).as_posix()) == kind]


def mbox_messages(path: Path, tmp_path: Path) -> list[bytes]:
    copy = tmp_path / f"{path.name}.copy"  # the mailbox module opens its file for writing
    shutil.copyfile(path, copy)
    box = mailbox.mbox(copy, create=False)
    try:
        return [box.get_bytes(key) for key in box.keys()]
    finally:
        box.close()


class HangError(Exception):
    pass


def _hang(signum, frame):
    raise HangError


def parse_guarded(raw: bytes, name: str) -> Message | ParseError | Exception:
    """The outcome of parsing one message: a Message, a ParseError, or any other exception."""
    previous = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(HANG_GUARD_SECONDS)
    try:
        return parse_message(raw, mailbox="corpus", source_id=name)
    except ParseError as error:
        return error
    except Exception as error:  # noqa: BLE001 - collected and reported as a failure
        return error
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_every_corpus_file_has_a_kind():
    root = corpus_root()
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    unknown = [name for name in files if kind_of(name) is None]
    assert unknown == [], "add these corpus files to KINDS"
    counts = collections.Counter(kind_of(name) for name in files)
    assert counts["message"] >= 250 and counts["mbox"] == 5 and counts["tnef"] == 19


def test_every_message_is_parsed_or_quarantined(tmp_path, capsys):
    root = corpus_root()
    items = [(p.relative_to(root).as_posix(), p.read_bytes()) for p in corpus_files("message")]
    for path in corpus_files("mbox"):
        items += [(f"{path.relative_to(root).as_posix()}#{n}", raw)
                  for n, raw in enumerate(mbox_messages(path, tmp_path))]
    parsed, quarantined, failures = 0, collections.Counter(), []
    for name, raw in items:
        outcome = parse_guarded(raw, name)
        if isinstance(outcome, Message):
            parsed += 1
        elif isinstance(outcome, ParseError):
            quarantined[outcome.reason] += 1
        else:
            failures.append(f"{name}: {type(outcome).__name__}")
    with capsys.disabled():
        print(f"\ncorpus: {len(items)} messages, {parsed} parsed, {sum(quarantined.values())} quarantined")
        for reason, count in quarantined.most_common():
            print(f"  {count:3}  {reason}")
    assert failures == []
    assert not [r for r in quarantined if r.startswith("onverwachte fout")], "a parser bug, not a bad message"
    assert parsed >= 0.9 * len(items)


def test_known_bad_messages_get_their_reason():
    root = corpus_root()
    expectations = {
        "flanker/tests/fixtures/messages/enclosed-endless.eml": "meer dan 1000 MIME-delen",
        "mimekit/UnitTests/TestData/partial/message-partial.1.eml": "message/partial",
        "james-mime4j/core/src/test/resources/testmsgs/malformedHeader-noheader.msg": "geen herkenbare kopregels",
    }
    for relative, reason in expectations.items():
        with pytest.raises(ParseError, match=re.escape(reason)):
            parse_message((root / relative).read_bytes(), mailbox="corpus", source_id=relative)


def test_mbox_files_split_into_their_messages(tmp_path):
    root = corpus_root()
    box = root / "mimekit" / "UnitTests" / "TestData" / "mbox"
    for name in ("content-length", "issue1189"):
        offsets = json.loads((box / f"{name}.unix-offsets.json").read_text())
        assert len(mbox_messages(box / f"{name}.mbox.txt", tmp_path)) == len(offsets)
    # the top-level Content-Type of each message, as the summary lists it
    summary = (box / "content-length-summary.txt").read_text(errors="replace")
    expected = [re.search(r"(?m)^Content-Type: (\S+)", block).group(1).lower()
                for block in summary.split("From - ")[1:]]
    got = [parse_message(raw, mailbox="mbox", source_id=str(n)).content_type
           for n, raw in enumerate(mbox_messages(box / "content-length.mbox.txt", tmp_path))]
    assert got == expected
    rlug = root / "james-mime4j" / "mbox" / "src" / "test" / "resources" / "test-1"
    split = mbox_messages(rlug / "mbox.rlug", tmp_path)
    assert [m.strip() for m in split] == [(rlug / f"mbox.rlug-{n}").read_bytes().strip() for n in range(5)]


# mimekit's lists differ from what tnefparse reads in three blobs: for christmas.tnef it
# counts the embedded messages' attachments too; for long-filename.tnef and
# missing-filenames.tnef it lists no attachment where the blob names one or more.
TNEF_LIST_DIFFERS = {"christmas", "long-filename", "missing-filenames"}


@pytest.mark.parametrize(
    "path", corpus_files("tnef") if CORPUS.is_dir() else [None], ids=lambda p: getattr(p, "name", "missing")
)
def test_tnef_blobs_list_their_attachments(path):
    if path is None:
        paths.require_corpus()
    tnef = read_tnef(path.read_bytes())
    names = sorted(a.name for a in tnef.attachments)
    listing = path.with_suffix(".list")
    listed = listing.read_text().splitlines()
    expected = sorted(line for line in listed if line and not line.startswith("body."))  # body.rtf: the body
    if path.stem in TNEF_LIST_DIFFERS:
        assert names and all(name.strip() for name in names)
    else:
        assert names == expected


# --- james-mime4j: the decoded text of each part ------------------------------------------

# Parts whose expected text is not compared, and why. Where the MIME is ambiguous the
# stdlib parser and mime4j choose differently; parse_message then keeps the text as the
# stdlib splits it, which for triage loses nothing.
MIME4J_EXCLUDED = {
    # the same boundary declared by an outer and an inner multipart: the split is ambiguous
    "2002_06_12_doublebound_decoded_1_2.txt": "duplicate boundary",
    "2002_06_12_doublebound_decoded_1_3.txt": "duplicate boundary",
    "double-bound_decoded_1_1.txt": "duplicate boundary",
    "double-bound_decoded_1_2.txt": "duplicate boundary",
    "double-bound_decoded_1_6.txt": "duplicate boundary",
    "double-bound_decoded_1_9.txt": "duplicate boundary",
    # malformed header blocks: mime4j drops the lines that are neither header nor body;
    # the stdlib starts the body at the first line that is no header, and keeps the text
    "hdr-fakeout_decoded_1.txt": "header/body boundary",
    "basic-plain-with-bad-header-separator_decoded_1.txt": "header/body boundary",
    "malformedHeader-nocrlfcrlf_decoded_1.txt": "header/body boundary",
    "malformedHeader-noheader_decoded_1.txt": "header/body boundary (no header: quarantined)",
    "malformedHeaderStartsBody-nocrlfcrlf_decoded_1.txt": "header/body boundary",
    "malformedHeaderStartsBody-noheader_decoded_1.txt": "header/body boundary (no header: quarantined)",
    "obsolete_decoded_1.txt": "header/body boundary (whitespace-only line inside a folded header)",
    # delimiter lines the stdlib reads otherwise: text after the boundary on the line,
    # boundaries ending in spaces or longer than RFC 2046's 70 characters, an empty part
    "ending-boundaries_decoded_1_1.txt": "delimiter line with trailing text",
    "very-long-boundary_decoded_1_1.txt": "boundary longer than 70 characters, with spaces",
    "very-very-long-boundary_decoded_1_1.txt": "boundary longer than 70 characters, with spaces",
    "weird-boundary_decoded_1_1.txt": "boundary ending in spaces",
    "multipartemptypart_decoded_1_1.txt": "empty part right before the close delimiter",
    "multipartemptypart_decoded_1_2.txt": "empty part right before the close delimiter",
    # a multipart without delimiter lines: the stdlib keeps it as text of its own
    "missing-inner-boundary_decoded_1_2_1.txt": "multipart without delimiters",
}


def mime4j_expectations() -> list[Path]:
    return sorted(corpus_root().joinpath("james-mime4j").rglob("*_decoded_*.txt"))


def _part_at(root, path: str):
    node = root
    for index in [int(i) for i in path.split("_")][1:]:
        children = subparts(node)
        if index > len(children):
            return None
        node = children[index - 1]
    return node


def test_james_mime4j_decoded_text():
    compared, mismatches = 0, []
    for expected_file in mime4j_expectations():
        stem, path = re.match(r"(.*)_decoded_([\d_]+)\.txt$", expected_file.name).groups()
        if expected_file.name in MIME4J_EXCLUDED:
            continue
        raw = expected_file.with_name(f"{stem}.msg").read_bytes()
        part = _part_at(parse_mime(raw), path)
        assert part is not None, f"{expected_file.name}: no such part"
        if part.get_content_maintype() != "text":
            continue  # images and attached messages: only text is compared
        charset = part.get_content_charset()
        data = expected_file.read_bytes()
        # with a declared charset, read the expected bytes by it, independent of parse's
        # heuristics; without one, reading 8-bit bytes is parse's choice (see test_parse)
        expected = data.decode(_python_codec(charset), "replace") if charset else decode_bytes(data, None)
        if part.get_content_type() == "text/html":
            expected = html_to_text(expected)
        got = part_text(part)
        compared += 1
        if normalise_text(expected) != got:
            mismatches.append(expected_file.name)
        whole = path == "1" and part.get_content_disposition() != "attachment"  # the message is this part
        if whole and part.get_content_type() == "text/plain":
            assert parse_message(raw, mailbox="mime4j", source_id=stem).text == got
    assert mismatches == []
    assert compared >= 100


def _python_codec(charset: str) -> str:
    """The declared charset as Python reads it, independent of parse's own heuristics."""
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "latin-1"


def test_mime4j_exclusions_still_exist():
    names = {p.name for p in mime4j_expectations()}
    assert set(MIME4J_EXCLUDED) <= names


# --- mutated corpus messages -------------------------------------------------------------

_SAMPLE = sorted(p for p in corpus_files("message") if p.stat().st_size < 200_000) if CORPUS.is_dir() else []


def _mutate(raw: bytes, how: str, rnd: random.Random) -> bytes:
    data = bytearray(raw)
    if how == "flip" and data:
        for _ in range(rnd.randint(1, 50)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
    elif how == "truncate":
        del data[rnd.randrange(len(data) + 1):]
    elif how == "duplicate-headers":
        head, _, body = bytes(data).partition(b"\n\n")
        lines = head.split(b"\n")
        line = lines[rnd.randrange(len(lines))]
        return b"\n".join(lines + [line] * rnd.randint(1, 300)) + b"\n\n" + body
    elif how == "delete":
        start = rnd.randrange(len(data) + 1)
        del data[start:start + rnd.randint(1, 2000)]
    elif how == "insert":
        at = rnd.randrange(len(data) + 1)
        data[at:at] = rnd.choice([b"\n\n", b"--", b"\r", b"=?utf-8?B?", b"boundary=\"x\"\n--x\n", b"\x00" * 10,
                                  b"Content-Type: message/rfc822\n\n" * 5, b"\xff\xfe"])
    return bytes(data)


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    index=st.integers(min_value=0, max_value=max(len(_SAMPLE) - 1, 0)),
    how=st.sampled_from(["flip", "truncate", "duplicate-headers", "delete", "insert"]),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
@example(index=0, how="insert", seed=3179587)  # a NUL in a charset parameter (found by hypothesis)
def test_mutated_corpus_messages_raise_only_parse_error(index, how, seed):
    if not _SAMPLE:
        paths.require_corpus()
    raw = _mutate(_SAMPLE[index].read_bytes(), how, random.Random(seed))
    outcome = parse_guarded(raw, _SAMPLE[index].name)
    assert isinstance(outcome, (Message, ParseError)), repr(outcome)
    if isinstance(outcome, ParseError):
        assert not outcome.reason.startswith("onverwachte fout"), outcome.reason
