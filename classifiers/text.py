"""Text preparation for Dutch mail: personal data out first, then the text features see.

`redact` replaces personal data by placeholders. It is meant for everything the product
keeps or shows beyond the mailbox itself: stored text, logs, training data and features.
It errs on the side of removing too much: a 9-digit number that passes the eleven-test is
taken for a BSN even when it is a case number (one that fails it stays, unless the word BSN
precedes it), and a capitalised word after a role word is taken for a name.

What it finds, in this order (earlier kinds protect their digits from later ones):
e-mail addresses, IBANs, dates, V-numbers after their keyword, telephone numbers (Dutch,
and international ones written with +), BSNs, bare 10-digit numbers (V-numbers), then names
after a title ("mevrouw Jansen"), after a greeting at the start of a line ("Beste Anna,"),
after a role ("de moeder Fatima"), after "mijn naam is", on the line after a closing ("Met
vriendelijke groet,\\nJan de Boer") and in quoted header lines ("Van: Jan de Boer").

after a label ("Naam kind: Amira Haddad", "Cliënt: ...", "Betreft: ..."), street addresses
with a house number ("Kerkstraat 12") and postcodes ("3511 AB").

Names without such a cue ("het gaat om Ahmed"), also in lower case, and places are found by
deduce when `classifiers.deidentify` is configured for it (the product's default); without
it they stay. Numbers written in words and dates without a year stay in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from classifiers import deidentify

__all__ = ["PLACEHOLDERS", "complete_bsn", "is_bsn", "normalise", "prepare", "question_text", "redact",
           "redact_question"]

PLACEHOLDERS = ("[BSN]", "[VNUMMER]", "[IBAN]", "[TELEFOON]", "[EMAIL]", "[DATUM]", "[NAAM]", "[ADRES]",
                "[POSTCODE]", "[PLAATS]")


# --- numbers and addresses -----------------------------------------------------------------

def _from(first: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`pattern`, tried only where a character of `first` (a class every match begins with)
    stands: the same matches, several times faster, since `re` tries a pattern at every
    position and a lookahead that fails costs next to nothing (tests/classifiers/test_text.py
    holds each to the plain pattern)."""
    return re.compile(rf"(?={first})(?:{pattern})", flags)


_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")

# Dutch IBAN (NLkk BANK 0123 4567 89), any case, with or without spaces: always redacted.
_IBAN_NL = _from("[Nn]", r"\bNL\d{2}[ ]?[A-Z]{4}(?:[ ]?\d){10}(?!\d)", re.IGNORECASE)
# Other IBANs: redacted when the mod-97 check holds, so ordinary codes stay.
_IBAN_OTHER = _from("[A-Z]", r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")

_MONTHS = (
    r"(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    r"|jan|feb|febr|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DATE = _from(
    r"\d",
    rf"(?<![\d.,/-])(?:{_DAY}(?P<sep>[-/]){_MONTH}(?P=sep)(?:19|20)?\d\d"  # 03-04-2015, 3/4/15
    rf"|{_DAY}\.{_MONTH}\.(?:19|20)\d\d"  # 03.04.2015 (not 1.2.10, a paragraph number)
    rf"|(?:19|20)\d\d-{_MONTH}-{_DAY}"  # 2015-04-03
    rf")(?![\d])"
    rf"|\b{_DAY}(?:e|ste|de)?[ \t]+{_MONTHS}\.?[ \t]+(?:19|20)\d\d\b",  # 3 april 2015
    re.IGNORECASE,
)

_DIGITS_10 = r"\d(?:[ .-]?\d){9}"
_VNUMBER_KEYWORD = _from(
    "[Vv]",
    r"(?P<keep>\b(?:v-?nummer|v-?nr\.?|vnr\.?|vreemdelingen-?nummer)(?:[ \t]*[:.])?[ \t]*(?:is[ \t]+)?)"
    rf"(?P<number>{_DIGITS_10})(?!\d)",
    re.IGNORECASE,
)
_VNUMBER_BARE = _from(r"\d", r"(?<![\d.,])[1-9]\d{9}(?![\d])")

_SEP = r"(?:[ \t]?[-.][ \t]?|[ \t])?"
_PHONE = _from(
    r"[+0(]",
    rf"(?<![\w+])(?:"
    rf"(?:\+|00)31{_SEP}(?:\(0\){_SEP})?[1-9](?:{_SEP}\d){{8}}"  # +31 6 12345678, 0031 (0)70 ...
    rf"|0[1-9](?:{_SEP}\d){{8}}"  # 06-12345678, 070 123 45 67
    rf"|\(0\d{{2}}\)[ \t]?\d(?:{_SEP}\d){{6}}"  # (070) 1234567
    rf"|\(0\d{{3}}\)[ \t]?\d(?:{_SEP}\d){{5}}"  # (0546) 123456
    rf"|\+(?!31)[1-9]\d{{0,2}}{_SEP}(?:\(0\){_SEP})?\d(?:{_SEP}\d){{5,11}}"  # +32 470 12 34 56
    rf")(?!\d)"
)

_BSN_KEYWORD = _from(
    "[BbSs]",
    r"(?P<keep>\b(?:bsn|burgerservicenummer|sofi-?nummer)(?:[ \t-]*(?:nummer|nr\.?))?"
    r"(?:[ \t]*[:.])?[ \t]*(?:is[ \t]+)?)"
    r"(?P<number>\d(?:[ .]?\d){7,8})(?![\d])",
    re.IGNORECASE,
)
_BSN_BARE = _from(r"\d", r"(?<![\d.,])(?:\d{4}[. ]\d{2}[. ]\d{3}|\d{3}[. ]\d{3}[. ]\d{3}|\d{9})(?![\d]|[.,]\d)")


_POSTCODE = _from(r"\d", r"(?<![\w-])(?<!wet )(?<!Vw )[1-9]\d{3}[ \t]?(?!SA|SD|SS)[A-Z]{2}(?![\w-])")
_STREET_KIND = (r"(?:straat|laan|weg|plein|gracht|kade|singel|dijk|hof|pad|steeg|dreef|markt|park|baan|erf|veld|wal"
                r"|plantsoen)")
_STREET = re.compile(
    rf"(?<![\w-])(?:(?:[A-Z][\w'’.-]*|van|de|der|den)[ \t]){{0,3}}[A-Za-z][\w'’-]*{_STREET_KIND}"
    r"[ \t]+\d{1,5}(?:[ \t-]?[a-zA-Z](?![\w]))?(?:[ \t-]\d{1,4}(?![\d]))?(?!\d)"
)
_HAS_STREET = re.compile(rf"{_STREET_KIND}[ \t]+\d")  # without it a text has no address: `_STREET` is not tried

_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)  # the eleven-test: the weighted sum is a multiple of 11


def is_bsn(number: str) -> bool:
    """True when `number` (9 digits, or 8 with the leading zero dropped) passes the eleven-test."""
    digits = number.replace(" ", "").replace(".", "")
    if not digits.isdigit() or len(digits) not in (8, 9):
        return False
    digits = digits.zfill(9)
    return sum(int(d) * w for d, w in zip(digits, _BSN_WEIGHTS)) % 11 == 0 and int(digits) != 0


def complete_bsn(first_eight: str) -> str | None:
    """The BSN that begins with these eight digits (the check digit added), or None when no
    digit makes one: for invented examples, such as the sample mailbox's."""
    return next((first_eight + d for d in "0123456789" if is_bsn(first_eight + d)), None)


def _iban_checks(candidate: str) -> bool:
    code = candidate.replace(" ", "").upper()
    rearranged = code[4:] + code[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _redact_numbers(text: str) -> str:
    text = _EMAIL.sub("[EMAIL]", text)
    text = _IBAN_NL.sub("[IBAN]", text)
    text = _IBAN_OTHER.sub(lambda m: "[IBAN]" if _iban_checks(m.group()) else m.group(), text)
    text = _DATE.sub("[DATUM]", text)
    text = _VNUMBER_KEYWORD.sub(lambda m: m.group("keep") + "[VNUMMER]", text)
    text = _PHONE.sub("[TELEFOON]", text)
    # After the keyword a mistyped BSN is still a BSN; a bare number must pass the eleven-test.
    text = _BSN_KEYWORD.sub(lambda m: m.group("keep") + "[BSN]", text)
    text = _BSN_BARE.sub(lambda m: "[BSN]" if is_bsn(m.group()) else m.group(), text)
    text = _VNUMBER_BARE.sub("[VNUMMER]", text)
    if _HAS_STREET.search(text):
        text = _STREET.sub("[ADRES]", text)
    return _POSTCODE.sub("[POSTCODE]", text)


# --- names -----------------------------------------------------------------------------------

_PARTICLES = frozenset(
    "van de der den te ten ter 't la le du da di del della dos das el al von bin ben ibn abu v.d. vd".split()
)
# Capitalised words that follow a greeting or title but name nobody.
_NOT_NAMES = frozenset(
    """allen allemaal iedereen collega collega's collegae team dames heren heer mevrouw meneer
    contactpersoon contactpersonen lezer medewerker medewerkers raad dienst afdeling directie
    gemeente ministerie namens ik wij we u jij je graag dank bedankt hierbij vraag in op met
    voor is er zoals kunnen kun kunt wilt wil kan mag heeft hebben hoe wat wie waar wanneer
    welke naar over per sinds na bij om als dit dat deze die een het nederlands nederlandse nederlander
    engels frans duits arabisch turks tigrinya nidos jeugdbescherming leger veilig""".split()
)
_TITLE = r"(?:heer|mevrouw|meneer|juffrouw|(?:mevr|mw|mvr|dhr|hr|mr|dr|drs|ir|ing|prof)\.?)"
_GREETING = (
    r"(?:beste|geachte|hoi|hallo|hai|hey|hi|dag|goedemorgen|goedemiddag|goedenavond|lieve|dear|hello)"
)
_CLOSING = (
    r"(?:(?:met[ \t]+)?(?:(?:vriendelijke|hartelijke|collegiale|beste|warme|sportieve)[ \t]+)?groet(?:en|jes)?"
    r"|mvg|m\.?[ \t]?vr\.?[ \t]?gr\.?|hoogachtend|dank[ \t]+en[ \t]+groet|alvast[ \t]+(?:bedankt|dank)"
    r"|bvd|kind[ \t]+regards|regards)"
)
# Letters that re's IGNORECASE takes for i and s, and str.lower() leaves as they are.
_FOLDS = str.maketrans({"ı": "i", "ſ": "s"})


class _AnyCase:
    """A pattern in lower case, matched regardless of case: case-sensitively in the text
    lowered, at a third of the cost of re's IGNORECASE, with the same matches at the same
    places (tests/classifiers/test_text.py holds the two to each other). Where lowering
    changes a text's length (a few letters, such as İ, lower to two), with IGNORECASE."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.in_lower = re.compile(pattern, flags)
        self.any_case = re.compile(pattern, flags | re.IGNORECASE)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        lowered = text.lower()
        if "ı" in lowered or "ſ" in lowered:
            lowered = lowered.translate(_FOLDS)
        if len(lowered) != len(text):
            return self.any_case.finditer(text)
        return self.in_lower.finditer(lowered)

    def sub(self, replacement: str, text: str) -> str:
        """`text` with every match replaced by `replacement` (a plain string)."""
        pieces: list[str] = []
        done = 0
        for m in self.finditer(text):
            pieces += [text[done:m.start()], replacement]
            done = m.end()
        pieces.append(text[done:])
        return "".join(pieces)


_AFTER_TITLE = _AnyCase(rf"(?<![\w.]){_TITLE}(?=[ \t])")
_AFTER_GREETING = re.compile(
    rf"^[ \t>]*{_GREETING}\b(?:[ \t]+(?:de[ \t]+)?{_TITLE}(?=[ \t,]|$))?", re.IGNORECASE | re.MULTILINE
)
_AFTER_INTRODUCTION = _AnyCase(r"\b(?:mijn naam is|ik heet|schreef)(?=[ \t])")
# In Dutch a noun is not capitalised: a capitalised word after a role ('de moeder Fatima',
# 'mijn collega Petra de Wit', 'het kind Ahmed') names that person.
_AFTER_ROLE = _AnyCase(
    r"\b(?:collega|cliënt|cliënte|client|pupil|zoon|dochter|moeder|vader|broer|zus|zuster|oom|tante|neef|nicht"
    r"|opa|oma|kind|minderjarige|jongere|jongen|meisje|baby|betrokkene|aanvrager|aanvraagster|referent|partner"
    r"|echtgenoot|echtgenote|ouder|pleegmoeder|pleegvader),?(?=[ \t])"
)
_AFTER_LABEL = _AnyCase(
    r"\b(?:naam(?:[ \t]+(?:kind|moeder|vader|ouder|cliënt|client|betrokkene|minderjarige|jongere))?"
    r"|cliënte?|client|betreft|betrokkene|minderjarige|pupil)[ \t]*:"
)
_AFTER_HEADER = re.compile(r"^[ \t>]*(?:van|aan|cc|bcc|from|to|afzender)[ \t]*:", re.IGNORECASE | re.MULTILINE)
_CLOSING_LINE = re.compile(
    rf"^[ \t>]*{_CLOSING}(?![\w])[ \t]*[,.!]?[ \t]*(?:\n[ \t>]*){{1,3}}", re.IGNORECASE | re.MULTILINE
)
_CLOSING_SAME_LINE = re.compile(rf"^[ \t>]*{_CLOSING}[ \t]*,(?=[ \t]*\S)", re.IGNORECASE | re.MULTILINE)
_NAME_PARTS = re.compile(r"[-'’]")
_NAME_WORDS = re.compile(r"[^\W\d_][\w'’-]*")
_TOKEN = re.compile(r"[ \t]*([^\s,;:!?()<>\"|/\[\]]+)")
_INITIALS = re.compile(r"(?:[A-Z][a-z]?\.)+")


def _is_name_word(word: str) -> bool:
    """A capitalised word like 'Anna', 'Jansen-de' or "D'Souza", not an acronym like 'RvdK'."""
    parts = _NAME_PARTS.split(word)
    if not parts[0] or not parts[0][0].isupper() or word.lower() in _NOT_NAMES:
        return False
    return all(part.isalpha() and (len(part) == 1 or part[1:].islower()) for part in parts if part)


def _name_end(text: str, start: int, *, allow_and: bool = False) -> int:
    """End of the name that begins at `start` on the same line, or `start` when there is none.

    A name is initials, particles and capitalised words, ending in a capitalised word:
    'Anna', 'J.P. de Boer', 'De Vries', 'Jansen-de Vries'; with `allow_and` also 'Anna en Piet'.
    """
    end = position = start
    pending = False  # a particle or 'en' that only counts when a name word follows
    while m := _TOKEN.match(text, position):
        word = m.group(1)
        stripped = word.rstrip(".")
        initials = _INITIALS.fullmatch(word) and not pending
        if initials or word.lower() in _PARTICLES or (allow_and and word == "en" and end > start):
            position = m.end()
            pending = True
        elif _is_name_word(stripped):
            end = position = m.start(1) + len(stripped)
            pending = False
            if stripped != word:  # 'Jansen.' ends the sentence
                break
        else:
            break
    return end


_ENDS_NAME_LINE = re.compile(r"[ \t]*(?:$|[,|(]|[ \t][-–])", re.MULTILINE)
_ENDS_HEADER_NAME = re.compile(r"[ \t]*(?:$|[<\[,;(])", re.MULTILINE)


def _replace_names(
    text: str, anchors: re.Pattern[str] | _AnyCase, *, allow_and: bool = False, then: re.Pattern[str] | None = None,
    found: list[str] | None = None,
) -> str:
    """Replace the name after each anchor; with `then`, only where `then` matches right after it.
    Each name replaced is added to `found`."""
    pieces: list[str] = []
    done = 0
    for m in anchors.finditer(text):
        end = _name_end(text, m.end(), allow_and=allow_and)
        if m.start() < done or end == m.end() or (then is not None and not then.match(text, end)):
            continue
        start = end - len(text[m.end() : end].lstrip(" \t"))
        if found is not None:
            found.append(text[start:end])
        pieces += [text[done:start], "[NAAM]"]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _redact_names(text: str, found: list[str]) -> str:
    text = _replace_names(text, _AFTER_TITLE, found=found)
    text = _replace_names(text, _AFTER_GREETING, allow_and=True, found=found)
    text = _replace_names(text, _AFTER_INTRODUCTION, found=found)
    text = _replace_names(text, _AFTER_ROLE, found=found)
    text = _replace_names(text, _AFTER_LABEL, allow_and=True, found=found)
    text = _replace_names(text, _AFTER_HEADER, allow_and=True, then=_ENDS_HEADER_NAME, found=found)
    text = _replace_names(text, _CLOSING_SAME_LINE, then=_ENDS_NAME_LINE, found=found)
    return _replace_names(text, _CLOSING_LINE, then=_ENDS_NAME_LINE, found=found)


def _redact_found(text: str, found: list[str]) -> str:
    """Names and places without a cue, where `deidentify` is configured to find them."""
    for start, end, placeholder in sorted(deidentify.find(text), reverse=True):
        if not any(p in text[start:end] for p in PLACEHOLDERS):
            if placeholder == "[NAAM]":
                found.append(text[start:end])
            text = text[:start] + placeholder + text[end:]
    return text


def _redact_again(text: str, found: list[str]) -> str:
    """Every other mention, in any case, of the words of a name found once in this text: a
    name a cue gave away ("Betreft: Filmon Tesfamariam") is also gone where it stands alone
    ("filmon tesfamariam zit op die school"), whether or not a list knows it."""
    words = {w.lower() for name in found for w in _NAME_WORDS.findall(name)
             if len(w) >= 3 and w.lower() not in _PARTICLES and w.lower() not in _NOT_NAMES}
    if words:  # only the words that occur at all: often none, and no pattern is compiled
        lowered = text.lower().translate(_FOLDS)
        if len(lowered) == len(text):  # else (İ) each word is kept, to be matched with IGNORECASE
            words = {w for w in words if w in lowered or not w.isascii()}
    return _mentions(frozenset(words)).sub("[NAAM]", text) if words else text


@lru_cache(maxsize=4096)  # texts of one asker, or one batch, often share their names
def _mentions(words: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))
    return re.compile(rf"(?<![\w\[-])(?:{alternatives})(?:[ \t]+(?:{alternatives}))*(?![\w\]-])", re.IGNORECASE)


def redact_question(subject: str, body: str, *, mail: str = "") -> tuple[str, str]:
    """Subject and body redacted as one text: a name the body gives away with a cue is also
    gone from a subject that names the child without one. `mail`, the whole text the body
    was taken from (a forwarder's note, the quoted history, the signature), is where names
    are looked for, once: every name found there is gone from subject and body."""
    names: list[str] = []
    subject = " ".join(subject.split())
    _find_names(_redact_numbers(f"{subject}\n\n{mail or body}"), names)  # deduce, if configured: one pass
    joined = _redact_again(_redact_names(_redact_numbers(f"{subject}\n\n{body}"), names), names)
    redacted_subject, _, redacted_body = joined.partition("\n\n")
    return redacted_subject, redacted_body


def redact(text: str) -> str:
    """`text` with personal data replaced by the placeholders in `PLACEHOLDERS`.

    >>> redact("Beste Anna,\\nBSN 111222333, V-nummer 2612345678, bel 06-12345678.")
    'Beste [NAAM],\\nBSN [BSN], V-nummer [VNUMMER], bel [TELEFOON].'
    """
    return _redact(text, [])


def _find_names(text: str, names: list[str]) -> str:
    return _redact_found(_redact_names(text, names), names)


def _redact(text: str, names: list[str], *, lists: bool = True) -> str:
    text = _redact_names(_redact_numbers(text), names)
    if lists:
        text = _redact_found(text, names)
    return _redact_again(text, names)


# Health conditions may be told in a question (the stored text keeps them until the purge),
# but a model must not learn them as features nor show them as an explanation.
_HEALTH = _AnyCase(
    r"\b(?:diabetes|suikerziekte|epilepsie|astma|hiv|aids|tbc|tuberculose|hepatitis(?: [abc])?|kanker|leukemie"
    r"|autisme|autistisch|adhd|add|ptss|ptsd|depressie|depressief|psychose|psychotisch|schizofrenie|anorexia"
    r"|boulimia|sikkelcel(?:ziekte|anemie)?|hartafwijking|hartfalen|nierfalen|dialyse|taaislijmziekte|syndroom van \w+"
    r"|down ?syndroom|verstandelijke beperking|lvb|zwangerschap|zwanger|suïcidaal|suïcidepoging|zelfbeschadiging)\b"
)


def normalise(text: str) -> str:
    """The text the models see: redacted, health conditions reduced to one word, lower-cased,
    whitespace runs of one kind kept short, and the sentences that ask once more at the end,
    so that what is asked weighs more than the case history around it.

    Redacted by the patterns only: deduce's lists ran where the text entered (a recorded
    question, a line of labelled data: `redact_question`), not again for each target a
    model fits nor for each prediction. A name that is still there becomes a feature only
    when questions of several askers share it (`QuestionClassifier.min_askers`)."""
    text = _HEALTH.sub("[gezondheid]", _redact(text, [], lists=False).lower())
    text = _BLANK_LINES.sub("\n\n", _SPACES.sub(" ", text)).strip()
    asking = asking_sentences(text)
    return f"{text}\n\n{asking}" if asking else text


_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_SENTENCES = re.compile(r"[^.?!\n]+[?.!]?")
_ASKS = re.compile(
    r"\?|\b(?:kunnen jullie|kunt u|kun je|kan (?:de|het|iemand|ik)|graag weten|wil(?:len)? (?:graag )?weten|"
    r"mag (?:de|het|ik|een|dt&v|de ind|de raad|wij)|mogen wij|is het mogelijk|wat (?:moeten|kan|is)|"
    r"hoe (?:gaat|moet|kan|wordt|weegt)|wie (?:is|kan)|bij wie|welke|could you|can you|may we)\b")


def asking_sentences(text: str, *, limit: int = 3) -> str:
    """The sentences of `text` that ask something: a question mark or an asking phrase."""
    found = [s.strip() for s in _SENTENCES.findall(text[:20000]) if _ASKS.search(s) and len(s.split()) >= 3]
    return " ".join(found[:limit])


def question_text(subject: str, body: str, sender: str = "") -> str:
    """One question as the models see it: its subject, a blank line, its body, and the domain
    of the sender's address (which says much about who asks; never the address itself).

    Labelled data, corrections and the mail being triaged are all joined here, so a model
    predicts on text joined the way it was trained on.
    """
    domain = sender.rpartition("@")[2].strip().lower() if "@" in sender else ""
    return f"{subject}\n\n{body}".strip() + (f"\n\nafzenderdomein {domain}" if domain else "")


def prepare(subject: str, body: str) -> str:
    """Features' text of one question: subject and body, redacted and lower-cased."""
    return normalise(question_text(subject, body))
