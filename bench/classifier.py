"""Benchmark of the classifiers (not a test): speed, memory and how well the pipeline learns.

    .venv/bin/python bench/classifier.py [--sizes 10000 50000] [--json]
    .venv/bin/python bench/classifier.py --compare DIR [--rounds 3] [--json]

1. Training time and peak memory for generated labelled questions (default 10,000 and
   50,000), all three targets, with the seed terms. Each size trains in a fresh forked
   process; memory is that process's peak resident size (`resource.getrusage`) minus its
   size when it started, so the generated data the parent already holds is not counted.
2. Classification throughput of the model trained on the first size: questions per second
   in one process, median of 5 runs, in batches (`predict_many`, 2,000 questions) and one
   at a time (`predict`, 300 questions), explanations included.
3. Learning quality on real Dutch text: 5-fold stratified cross-validation of our pipeline
   (`classifiers.cross_validate`) against a plain `TfidfVectorizer()` +
   `LogisticRegression()` on the same folds.

The real text is the public SKIV evaluation (shared/seed/000_ec40d76808588f1d.txt), each
paragraph labelled by the chapter it stands in. It is the only sizeable Dutch text on this
product's own subject that is available offline; the Dutch inside the installed packages is
a few hundred short strings (holiday names in `holidays`), too little to classify. The
management summary is left out: it retells chapters 3-7, so its "chapter" says where a
paragraph stands, not what it is about. Section numbers and headings are dropped so that
"3.2" cannot give the chapter away. Chapter 2 lost its heading in the text extraction; it
is taken to start at its first paragraph ("De IND levert drie leden ...").

With `--compare DIR` (DIR: another checkout, say the previous commit in a temporary
folder) the two classifiers are measured in the same run instead, each in its own fresh
process, by the same code below (`measure_sample`), alternating, `--rounds` times:
training on the sample's labelled questions (bot/sample/labelled.jsonl, 372, all targets,
with the seed terms): seconds and peak memory (peak resident size minus the size after
reading the data); prediction per question, one at a time (`predict`) and in a batch of 500
(`predict_many`; the sample's 464 questions, cycled), explanations included; model file size
and load time. Once per checkout (they are deterministic): the held-out scores on
bot/sample/heldout.jsonl (92 generated questions: illustrative data, not real traffic) and
the 5-fold cross-validation on the SKIV report described below. Times are medians.

The generated questions come from a deterministic generator (seed 20221): greetings,
an introduction by the asking organisation, one to three theme sentences, case details
with personal data that redaction must remove, sometimes a sentence of another theme, and
a signature; about 3% of the theme labels are deliberately wrong.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# `--compare` runs this file again with the classifiers of another checkout first on the path.
CODE = Path(os.environ.get("BENCH_CLASSIFIERS_FROM") or ROOT)
sys.path.insert(0, str(CODE))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from classifiers import Example, ModelStore, cross_validate, read_examples, train  # noqa: E402
from classifiers.evaluate import evaluate  # noqa: E402
from classifiers.text import is_bsn  # noqa: E402

SEED_TEXT = ROOT.parent / "shared" / "seed" / "000_ec40d76808588f1d.txt"
THEMES = ROOT / "rules" / "data" / "themes.toml"
SAMPLE = ROOT / "bot" / "sample"

# --- generated questions -------------------------------------------------------------------

FIRST = "Anna Piet Sanne Mohamed Fatima Joost Eva Daan Noor Yusuf Lotte Bram Sevda Koen Iris Omar Lisa Ruben".split()
LAST = ["de Vries", "Jansen", "Bakker", "El Amrani", "Yilmaz", "van Dijk", "Visser", "Smit", "de Boer", "Mulder",
        "Bos", "Peters", "Hendriks", "van den Berg", "Dekker", "Kaya", "Meijer", "de Groot", "Vos", "Mertens"]
CITIES = ["Breda", "Zwolle", "Den Haag", "Den Bosch", "Rotterdam", "Utrecht", "Groningen", "Amsterdam", "Arnhem",
          "Eindhoven", "Ter Apel", "Leeuwarden", "Maastricht", "Almere", "Tilburg", "Enschede"]
COUNTRIES = ["Eritrea", "Syrië", "Marokko", "Turkije", "Nigeria", "Afghanistan", "Irak", "Somalië", "Georgië"]
ASKERS = {
    "RvdK": ["Ik ben raadsonderzoeker bij de Raad voor de Kinderbescherming in {city}.",
             "Als medewerker van de Raad, regio {city}, heb ik een vraag."],
    "IND": ["Ik ben hoor- en beslismedewerker bij de IND op locatie {city}.",
            "Vanuit de IND (directie RVN) behandel ik een aanvraag waar kinderen bij betrokken zijn."],
    "DT&V": ["Ik ben regievoerder bij DT&V in {city}.", "Vanuit DT&V begeleid ik het vertrektraject van een gezin."],
    "Nidos": ["Als jeugdbeschermer bij Nidos ben ik betrokken bij deze jongere.", "Ik werk bij Nidos in {city}."],
    "COA": ["Ik ben woonbegeleider op de COA-locatie {city}.", "Op onze COA-locatie verblijft een gezin met kinderen."],
    "GI": ["Ik ben jeugdbeschermer bij een gecertificeerde instelling in {city}."],
    "advocatuur": ["Ik sta als advocaat de familie bij.", "Namens mijn cliënt wend ik mij tot u."],
}
ANSWERER_CUE = {"IND": ["Kan de IND hiernaar kijken?", "Graag hoor ik hoe de IND hierover beslist."],
                "DT&V": ["Kan DT&V dit meenemen in het vertrektraject?", "Hoe gaat DT&V hiermee om?"],
                "RvdK": ["Kan de Raad hierover adviseren?", "Wil de Raad een onderzoek doen?"]}
THEME_SENTENCES = {
    "kinderbeschermingsmaatregelen": [
        "De kinderrechter heeft een ondertoezichtstelling uitgesproken voor {n} kinderen.",
        "Er loopt een machtiging uithuisplaatsing en het gezin heeft een vertrekplicht.",
        "Komt het kind in aanmerking voor een vergunning onder B13 nu de OTS voor een jaar is opgelegd?",
        "Hoe wordt de overdraagbaarheid aan het land van herkomst beoordeeld als er een maatregel loopt?",
        "De gezinsvoogd maakt zich zorgen over het vertrek van het gezin.",
        "Het kind is in een gesloten jeugdhulpinstelling geplaatst."],
    "gezag-en-omgang": [
        "De vader heeft geen verblijfsrecht maar wel een omgangsregeling met zijn {rel}.",
        "De moeder heeft eenhoofdig gezag en de vader vraagt verblijf op grond van artikel 8 EVRM.",
        "Na de scheiding willen beide ouders het gezamenlijk gezag houden.",
        "Hoe weegt het gezinsleven mee als de ouder zonder verblijfsrecht het kind elke week ziet?",
        "De vader heeft het kind erkend en vraagt nu verblijf bij zijn {rel}."],
    "strafrecht": [
        "De jongere is veroordeeld en zit nu in jeugddetentie.",
        "Er is een PIJ-maatregel opgelegd en de IND overweegt intrekking van de verblijfsvergunning.",
        "Hoe verhoudt de behandeling in de justitiële jeugdinrichting zich tot het vertrek?",
        "Vanwege het strafblad van de jongen is een inreisverbod opgelegd.",
        "Speelt de openbare orde een rol nu de jongere meerdere delicten pleegde?"],
    "voogdij": [
        "Een alleenstaande minderjarige uit {country} heeft geen wettelijk vertegenwoordiger.",
        "De tante wil de voogdij over haar neef op zich nemen.",
        "Nidos is voogd, maar de jongere wordt binnenkort meerderjarig.",
        "Er is twijfel over de leeftijd; de uitslag van het leeftijdsonderzoek is er nog niet.",
        "Kan een familielid als voogd optreden terwijl het kind geen verblijfsvergunning heeft?"],
    "dublin-en-nareis": [
        "Het gezin heeft eerder asiel gevraagd in een andere lidstaat; er ligt een Dublinclaim.",
        "De kinderen willen nareizen naar hun vader; er loopt een DNA-onderzoek naar de familiebanden.",
        "Welke lidstaat is verantwoordelijk nu de moeder in {country} een visum kreeg?",
        "De mvv-aanvraag voor gezinshereniging is afgewezen."],
    "chavez": [
        "De moeder is derdelander en zorgt alleen voor haar Nederlandse kind.",
        "Is er een afhankelijkheidsrelatie tussen de vader en het Nederlandse kind (Chavez)?",
        "Het kind is Unieburger; heeft de zorgouder verblijfsrecht op grond van artikel 20 VWEU?"],
    "illegale-opneming-en-pleegzorg": [
        "Het pleegkind is zonder beginseltoestemming uit {country} naar Nederland gekomen.",
        "Het pleeggezin wil het kind adopteren, maar er was geen opneming ter adoptie.",
        "Is hier sprake van illegale opneming van een buitenlands pleegkind?",
        "Het kind is via kafala bij de pleegouders geplaatst."],
    "gegevensdeling": [
        "Mogen wij het raadsrapport opvragen onder het AVG-protocol?",
        "Is toestemming van de ouders nodig om gegevens te delen?",
        "De vader vraagt inzage in zijn dossier; mogen wij de stukken doorsturen?",
        "Valt deze gegevensuitwisseling onder het beroepsgeheim?"],
    "voorlichting": [
        "Kunnen jullie een voorlichting geven aan ons team in {city}?",
        "Wij zoeken een spreker voor een kennissessie over het belang van het kind.",
        "Is er ruimte voor een presentatie tijdens ons teamoverleg in {month}?",
        "Wij organiseren een workshop en willen graag dat jullie aansluiten."],
    "overig": [
        "Wie is de contactpersoon voor deze regio?",
        "Wat is de stand van zaken van deze aanvraag? De beslistermijn is verstreken.",
        "Bij wie kan ik terecht met een procesvraag over de werkwijze?",
        "Kan deze vraag doorverwezen worden naar de juiste collega?"],
}
DETAILS = ["Het gaat om een kind van {age} jaar, BSN {bsn}.", "V-nummer van de moeder: {vnr}.",
           "Het kind is geboren op {day}-{mon}-{year}.", "U kunt mij bellen op 06-{tel}.",
           "Het gezin woont sinds {year} in {city}.", "De familie komt uit {country}."]
MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "september", "oktober", "november"]


def _bsn(rng: random.Random) -> str:
    while True:  # nine digits the product's eleven-test takes for a BSN
        digits = "".join(str(rng.randrange(10)) for _ in range(9))
        if digits[0] != "0" and is_bsn(digits):
            return digits


def generate(n: int, *, seed: int = 20221) -> list[Example]:
    """`n` labelled questions (theme, organisation, asking_organisation), the same for the same seed."""
    rng = random.Random(seed)
    themes = sorted(THEME_SENTENCES)
    examples = []
    for _ in range(n):
        theme = rng.choice(themes)
        asking = rng.choice(sorted(ASKERS))
        answering = rng.choice([o for o in ANSWERER_CUE if o != asking])
        slots = {"city": rng.choice(CITIES), "country": rng.choice(COUNTRIES), "n": rng.choice(["twee", "drie"]),
                 "rel": rng.choice(["zoon", "dochter", "kinderen"]), "month": rng.choice(MONTHS),
                 "age": rng.randrange(1, 18), "bsn": _bsn(rng), "vnr": str(rng.randrange(10**9, 10**10)),
                 "day": rng.randrange(1, 29), "mon": rng.randrange(1, 13), "year": rng.randrange(2005, 2024),
                 "tel": rng.randrange(10**7, 10**8)}
        first, last = rng.choice(FIRST), rng.choice(LAST)
        parts = [rng.choice([f"Beste {rng.choice(FIRST)},", f"Geachte heer {rng.choice(LAST)},", "Hallo,",
                             "Beste collega's,", "Goedemorgen,", f"Hoi {rng.choice(FIRST)},"]),
                 rng.choice(ASKERS[asking])]
        parts += rng.sample(THEME_SENTENCES[theme], min(len(THEME_SENTENCES[theme]), rng.randint(1, 3)))
        parts += rng.sample(DETAILS, rng.randint(0, 3))
        if rng.random() < 0.1:
            parts.append(rng.choice(THEME_SENTENCES[rng.choice(themes)]))
        if rng.random() < 0.8:
            parts.append(rng.choice(ANSWERER_CUE[answering]))
        parts.append(f"Met vriendelijke groet,\n{first} {last}")
        body = "\n".join(p.format(**slots) for p in parts)
        subject = rng.choice(["Vraag", "Casus", "Graag advies", "Verzoek", "Vraag over"]) + " " + theme.split("-")[0]
        label = rng.choice(themes) if rng.random() < 0.03 else theme
        examples.append(Example(f"{subject}\n\n{body}", {"theme": label, "organisation": answering,
                                                         "asking_organisation": asking}))
    return examples


def seed_terms() -> dict[str, list[str]]:
    return {t["key"]: t["seed_terms"] for t in tomllib.loads(THEMES.read_text("utf-8"))["theme"]}


# --- speed and memory ----------------------------------------------------------------------

def _rss_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _train_and_time(examples: list[Example], heldout: list[Example], measure_throughput: bool) -> dict[str, Any]:
    """Runs in a fresh forked process: training time, peak memory, and optionally throughput."""
    start_kb = _rss_kb()
    started = time.perf_counter()
    model = train(examples, labels={"theme": sorted(seed_terms())}, seed_terms=seed_terms())
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result: dict[str, Any] = {
        "n": len(examples),
        "train_seconds": round(seconds, 2),
        "peak_memory_mb": round((peak_kb - start_kb) / 1024, 1),
        "heldout_macro_f1": evaluate(model, heldout, threshold=0.5)["macro_f1"],
        "n_features": sum(len(v.vocabulary_) for _, v in model.estimators["theme"].features_.transformer_list),
    }
    with tempfile.TemporaryDirectory() as folder:
        store = ModelStore(Path(folder))
        started = time.perf_counter()
        version = store.save(model)
        result["save_seconds"] = round(time.perf_counter() - started, 2)
        result["model_file_mb"] = round((Path(folder) / version / "model.skops").stat().st_size / 2**20, 1)
        started = time.perf_counter()
        store.load(version)
        result["load_seconds"] = round(time.perf_counter() - started, 2)
    if measure_throughput:
        texts = [e.text for e in heldout]
        batch, single = [], []
        for _ in range(5):
            t = time.perf_counter()
            model.predict_many(texts)
            batch.append(len(texts) / (time.perf_counter() - t))
            t = time.perf_counter()
            for text in texts[:300]:
                model.predict(text)
            single.append(300 / (time.perf_counter() - t))
        result["throughput_batch_per_s"] = round(statistics.median(batch))
        result["throughput_single_per_s"] = round(statistics.median(single))
    return result


def speed(sizes: list[int]) -> list[dict[str, Any]]:
    heldout = generate(2000, seed=7)
    results = []
    context = multiprocessing.get_context("fork")
    for i, size in enumerate(sizes):
        examples = generate(size)
        with context.Pool(1) as pool:
            results.append(pool.apply(_train_and_time, (examples, heldout, i == 0)))
    return results


# --- real Dutch text -----------------------------------------------------------------------

CHAPTERS = [  # (pattern that opens it, label); None closes the labelled part
    (r"^\s*Managementsamenvatting\s*$", None),
    (r"^\s*1 Inleiding\s*$", "1 inleiding"),
    (r"^\s*• De IND levert drie leden", "2 organisaties"),
    (r"^\s*3 Doel en taken van het SKIV\s*$", "3 doel en taken"),
    (r"^\s*4 Werkwijze en samenwerking", "4 werkwijze"),
    (r"^\s*5 Positionering en bekendheid", "5 positionering"),
    (r"^\s*6 Conclusies\s*$", "6 conclusies"),
    (r"^\s*7 Aanbevelingen\s*$", "7 aanbevelingen"),
    (r"^\s*Bijlage 1 Toelichting", "bijlage 1 casuistiek"),
    (r"^\s*Bijlage 2", None),
]


def chapter_paragraphs(path: Path = SEED_TEXT, min_words: int = 8) -> list[Example]:
    """The report's paragraphs labelled by chapter.

    In the extracted text a line holding only spaces separates paragraphs and a line that
    starts with a space opens a page; page footers, footnotes (from a numbered line at the
    foot of a page to the next page) and section headings are dropped.
    """
    openers = [(re.compile(pattern), label) for pattern, label in CHAPTERS]
    label: str | None = None
    examples: list[Example] = []
    current: list[str] = []
    in_footnote = False

    def flush() -> None:
        text = " ".join(current)
        if label and len(text.split()) >= min_words:
            examples.append(Example(text, {"theme": label}))
        current.clear()

    for raw in path.read_text("utf-8").split("\n"):
        line = raw.strip()
        opener = next((lab for rx, lab in openers if rx.search(raw)), "")
        if opener != "":
            flush()
            label, in_footnote = opener, False
            if label == "2 organisaties":  # the opener is the chapter's first line
                current.append(line)
            continue
        if raw == "" or line.startswith("Definitief |") or re.fullmatch(r"Pagina \d+ van \d+", line):
            continue
        if not line:  # paragraph break
            flush()
            in_footnote = False
        elif re.match(r"\d+ [A-Z‘“]", line):  # a footnote opens
            flush()
            in_footnote = True
        elif in_footnote and not raw.startswith(" "):
            continue
        elif re.match(r"\d\.\d+\.?\s", line):  # section heading
            flush()
            in_footnote = False
        else:
            if line.startswith("•"):
                flush()
            in_footnote = False
            current.append(line)
    flush()
    return examples


def learning_quality(k: int = 5) -> dict[str, Any]:
    examples = chapter_paragraphs()
    ours = cross_validate(examples, k)
    baseline = cross_validate(examples, k, estimator=make_pipeline(TfidfVectorizer(), LogisticRegression()))
    labels = sorted({e.labels["theme"] for e in examples})
    return {
        "corpus": f"{SEED_TEXT.name}: {len(examples)} paragraphs, {len(labels)} chapters",
        "k": k,
        "ours": {"macro_f1": ours["macro_f1"], "accuracy": ours["accuracy"],
                 "fold_sd": round(statistics.stdev(ours["fold_macro_f1"]), 3)},
        "baseline": {"macro_f1": baseline["macro_f1"], "accuracy": baseline["accuracy"],
                     "fold_sd": round(statistics.stdev(baseline["fold_macro_f1"]), 3)},
    }


# --- two checkouts compared on the sample ------------------------------------------------------

def measure_sample(part: str) -> dict[str, Any]:
    """Figures of the classifiers on the path, on the sample (see the module's docstring).

    Uses only what both sides of a comparison offer: `read_examples`, `train`, `predict`,
    `predict_many`, `evaluate`, `cross_validate(examples, k)` and `ModelStore`.
    """
    labelled, heldout = read_examples(SAMPLE / "labelled.jsonl"), read_examples(SAMPLE / "heldout.jsonl")
    seeds = seed_terms()
    if part == "quality":
        model = train(labelled, labels={"theme": sorted(seeds)}, seed_terms=seeds)
        scored = evaluate(model, heldout, threshold=0.35)
        report = cross_validate(chapter_paragraphs(), 5)
        return {
            "heldout": {target: {key: row[key] for key in ("macro_f1", "accuracy", "abstained")}
                        for target, row in scored["targets"].items()},
            "report_cv": {"macro_f1": report["macro_f1"], "accuracy": report["accuracy"]},
        }
    start_kb = _rss_kb()
    started = time.perf_counter()
    model = train(labelled, labels={"theme": sorted(seeds)}, seed_terms=seeds)
    result: dict[str, Any] = {"train_seconds": time.perf_counter() - started,
                              "train_peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_kb) / 1024}
    texts = [e.text for e in labelled + heldout]
    batch = (texts * 2)[:500]
    model.predict_many(batch[:20])  # warm up
    started = time.perf_counter()
    model.predict_many(batch)
    result["batch_ms"] = (time.perf_counter() - started) / len(batch) * 1000
    started = time.perf_counter()
    for text in texts:
        model.predict(text)
    result["single_ms"] = (time.perf_counter() - started) / len(texts) * 1000
    with tempfile.TemporaryDirectory() as folder:
        store = ModelStore(Path(folder))
        version = store.save(model)
        result["file_mb"] = (Path(folder) / version / "model.skops").stat().st_size / 2**20
        started = time.perf_counter()
        store.load(version)
        result["load_seconds"] = time.perf_counter() - started
    return result


def compare(other: Path, rounds: int) -> dict[str, Any]:
    """`measure_sample` for `other`'s classifiers ("before") and this checkout's ("after")."""
    sides = {"before": other.resolve(), "after": ROOT}

    def child(side: str, part: str) -> dict[str, Any]:
        env = {**os.environ, "BENCH_CLASSIFIERS_FROM": str(sides[side])}
        done = subprocess.run([sys.executable, __file__, "--measure-sample", part], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    speeds: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for _ in range(rounds):
        for side in sides:
            speeds[side].append(child(side, "speed"))
    result: dict[str, Any] = {"rounds": rounds, "before_code": str(sides["before"])}
    for side in sides:
        medians = {key: round(statistics.median(run[key] for run in speeds[side]), 3) for key in speeds[side][0]}
        result[side] = {**medians, **child(side, "quality")}
    return result


def print_comparison(result: dict[str, Any]) -> None:
    before, after = result["before"], result["after"]
    print(f"before: classifiers of {result['before_code']}; after: this checkout; median of {result['rounds']} runs")
    rows = [("train on the sample (372), s", "train_seconds"), ("training peak memory, MB", "train_peak_mb"),
            ("predict one at a time, ms/question", "single_ms"), ("predict_many of 500, ms/question", "batch_ms"),
            ("model file, MB", "file_mb"), ("load, s", "load_seconds")]
    print(f"{'':<38} {'before':>9} {'after':>9}")
    for name, key in rows:
        print(f"{name:<38} {before[key]:>9} {after[key]:>9}")
    for target in after["heldout"]:
        for key in ("macro_f1", "accuracy", "abstained"):
            print(f"{'held-out ' + target + ' ' + key:<38} {before['heldout'][target][key]:>9}"
                  f" {after['heldout'][target][key]:>9}")
    for key in ("macro_f1", "accuracy"):
        print(f"{'SKIV report 5-fold CV ' + key:<38} {before['report_cv'][key]:>9} {after['report_cv'][key]:>9}")


# --- output ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="measure the classifiers of checkout DIR against this one's, on the sample")
    parser.add_argument("--rounds", type=int, default=3, help="timing runs per side with --compare")
    parser.add_argument("--measure-sample", choices=["speed", "quality"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_sample:
        print(json.dumps(measure_sample(args.measure_sample)))
        return 0
    if args.compare:
        result = compare(args.compare, args.rounds)
        print(json.dumps(result, indent=2)) if args.json else print_comparison(result)
        return 0
    started = time.perf_counter()
    report = {"speed": speed(args.sizes), "learning": learning_quality()}
    report["bench_seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(f"{'questions':>10} {'train s':>8} {'peak MB':>8} {'features':>9} {'held-out F1':>12}"
          f" {'file MB':>8} {'save s':>7} {'load s':>7}")
    for row in report["speed"]:
        print(f"{row['n']:>10} {row['train_seconds']:>8} {row['peak_memory_mb']:>8} {row['n_features']:>9}"
              f" {row['heldout_macro_f1']:>12} {row['model_file_mb']:>8} {row['save_seconds']:>7}"
              f" {row['load_seconds']:>7}")
    first = report["speed"][0]
    print(f"\nthroughput (model of {first['n']}; median of 5): {first['throughput_batch_per_s']} questions/s"
          f" in batches, {first['throughput_single_per_s']} questions/s one at a time")
    learning = report["learning"]
    print(f"\n{learning['k']}-fold cross-validation on {learning['corpus']}")
    print(f"{'pipeline':<38} {'macro-F1':>9} {'accuracy':>9} {'fold sd':>8}")
    for name, key in (("ours (words+chars, LR C=10)", "ours"), ("TfidfVectorizer()+LogisticRegression()", "baseline")):
        row = learning[key]
        print(f"{name:<38} {row['macro_f1']:>9} {row['accuracy']:>9} {row['fold_sd']:>8}")
    print(f"\n({report['bench_seconds']} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
