"""Redaction recall per category, with deduce and with the patterns alone, and what deduce costs.

Two sets:
- the planted questions of the privacy test (`tests/planted.py`, 200 mails, names written
  for the test and not in deduce's lists on purpose for many), scored on the stored text
  as the product makes it (subject and question redacted together, the mail as context);
- the same planted sentences one at a time ("alone"), so that a name has no cue elsewhere
  in the mail to give it away: the honest figure for a name nothing announces;
- the sample's own labelled texts: how many placeholders each mode puts in (over-redaction
  shows as [NAAM] where the patterns put none).

Cost: deduce's load time and resident memory in this process, and the median time per mail
with each mode. Figures vary with the machine; compare the two modes within one run.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.ingest.parse import parse_message  # noqa: E402
from classifiers import deidentify  # noqa: E402
from classifiers.text import redact, redact_question  # noqa: E402
from tests.planted import CATEGORIES, questions  # noqa: E402


def found(text: str, category: str, value: str) -> bool:
    if category in ("bsn", "v_number", "phone"):
        digits = re.sub(r"(?<=\d)[ .\-](?=\d)", "", text)
        number = re.sub(r"\D", "", value)
        return ("0" + number[2:] if value.startswith("+31") else number) in digits
    return re.search(rf"(?<![\w@.]){re.escape(value.lower())}(?![\w@])", text.lower()) is not None


def recall(planted, mode: str) -> dict:
    deidentify.configure(mode)
    whole = {c: [0, 0] for c in CATEGORIES}
    alone = {c: [0, 0] for c in CATEGORIES}
    times = []
    for p in planted:
        m = parse_message(p.raw, mailbox="ind", source_id="x")
        started = time.perf_counter()
        subject, body = redact_question(m.subject, m.question, mail=f"{m.text}\n\n{m.signature}")
        times.append(time.perf_counter() - started)
        stored = f"{subject}\n{body}"
        facts = [line for line in p.text.splitlines() if any(c in line for c in ("BSN", "Naam kind", "moeder", "woont"))]
        for category, values in p.secrets.items():
            if category in ("health", "email"):
                continue  # health: kept in the stored text until the purge, never a model word; the
                # sender's address: kept in its own column until the purge (see the privacy test)
            for value in values:
                whole[category][1] += 1
                whole[category][0] += not found(stored, category, value)
                for sentence in (s for line in facts for s in re.split(r"(?<=[.;])\s+", line)):
                    if found(sentence, category, value):
                        alone[category][1] += 1
                        alone[category][0] += not found(redact(sentence), category, value)
    rate = lambda counts: {c: round(k / n, 3) for c, (k, n) in counts.items() if n}  # noqa: E731
    return {"whole_mail": rate(whole), "sentence_alone": rate(alone),
            "median_ms_per_mail": round(1000 * statistics.median(times), 2)}


def placeholders_in_sample(mode: str) -> dict:
    deidentify.configure(mode)
    records = [json.loads(line) for line in (ROOT / "bot/sample/labelled.jsonl").read_text("utf-8").splitlines()]
    text = "\n".join(redact(f"{r['subject']}\n\n{r['body']}") for r in records)
    return {p: text.count(p) for p in ("[NAAM]", "[ADRES]", "[POSTCODE]")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.parse_args()
    planted = questions(200, when=datetime.now(timezone.utc))
    result = {"patterns": recall(planted, "patterns") | {"sample_placeholders": placeholders_in_sample("patterns")}}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    deidentify.configure("deduce")
    deidentify.find("laden")
    load = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
    result["deduce"] = recall(planted, "deduce") | {"sample_placeholders": placeholders_in_sample("deduce"),
                                                    "load_seconds": round(load, 1), "resident_mb_added": grown}
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
