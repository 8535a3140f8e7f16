"""Related trials at scale (issue 13 §5): 100,000 imported records, top-10 most similar in under 100 ms (p95).

A figure, not a test. Fills the database with --records synthetic ClinicalTrials.gov records (NCT9xxxxxxx, marked
"Synthetic" in their titles) plus the examples in examples/trials/, once, through the same service as
`mibg protocol import` (mibg.web.trials.services.import_related), then times mibg.web.trials.search.similar for
NCT01370330 and for imported records in turn (the full call: both full-text passes, loading the candidates,
scoring and explaining them). Prints the median, the 95th percentile and the slowest, per target kind.

    python bench/bench_related_trials.py --sqlite var-bench/trials.sqlite3
    python bench/bench_related_trials.py --database-url postgres://postgres@127.0.0.1:5432/h_trials

The synthetic corpus: conditions from 400 names (neuroblastoma in 0.5 % of records, pheochromocytoma or
paraganglioma in 0.5 %), 1 to 4 interventions from 600 names (131I-MIBG in 0.5 %), eligibility text of 40 to 160
words drawn with a Zipf-like weight from 3,000 words that include every eligibility term of NCT01370330's record
(so the second, eligibility-term pass matches most records: the hard case), and one of six phases.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
GOAL_MS = 100.0
SYLLABLES = ["ba", "co", "da", "fe", "gi", "ho", "ju", "ka", "li", "mo", "nu", "pa", "qui", "ro", "si", "tu", "va",
             "xe", "yo", "ze", "tra", "ben", "dor", "mab", "nib", "stat", "lix", "vir"]
ORGANS = ["lung", "breast", "colon", "prostate", "renal", "hepatic", "gastric", "pancreatic", "ovarian", "cervical",
          "bladder", "thyroid", "skin", "brain", "bone", "blood", "lymph", "muscle", "heart", "kidney"]
KINDS = ["carcinoma", "adenocarcinoma", "sarcoma", "lymphoma", "leukemia", "disease", "failure", "infection",
         "insufficiency", "syndrome", "neoplasm", "tumor", "metastases", "fibrosis", "inflammation", "cancer",
         "dysfunction", "stenosis", "ischemia", "hypertension"]
PHASES = [["PHASE1"], ["PHASE2"], ["PHASE3"], ["PHASE4"], ["PHASE1", "PHASE2"], ["NA"]]
STATUSES = ["RECRUITING", "COMPLETED", "ACTIVE_NOT_RECRUITING", "TERMINATED", "WITHDRAWN", "UNKNOWN"]


def configure(args: argparse.Namespace) -> None:
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        path = Path(args.sqlite).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["MIBG_DATA_DIR"] = str(path.parent)
        os.environ["MIBG_SQLITE_NAME"] = path.name
    sys.path.insert(0, str(BENCH))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts))


def synthetic(count: int, seed: int, target_terms: list[str]) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    conditions = [f"{o.title()} {k}" for o in ORGANS for k in KINDS]  # 400
    drugs = sorted({_name(rng, 3).title() + rng.choice(["mab", "nib", "stat", "cin", "ol"]) for _ in range(700)})[:600]
    vocabulary = sorted({_name(rng, rng.randint(2, 4)) for _ in range(3200)} - set(target_terms))[:3000 - len(target_terms)]
    vocabulary = sorted(set(vocabulary) | set(target_terms))
    rng.shuffle(vocabulary)
    weights = [1.0 / (rank + 1) for rank in range(len(vocabulary))]
    out = []
    for n in range(count):
        nct = f"NCT9{n:07d}"
        chosen = rng.sample(conditions, rng.randint(1, 2))
        roll = rng.random()
        if roll < 0.005:
            chosen.append("Neuroblastoma")
        elif roll < 0.010:
            chosen.append(rng.choice(["Pheochromocytoma", "Paraganglioma"]))
        interventions = [{"type": "DRUG", "name": d} for d in rng.sample(drugs, rng.randint(1, 4))]
        if rng.random() < 0.005:
            interventions.append({"type": "RADIATION", "name": "Iobenguane I-131", "otherNames": ["131I-MIBG"]})
        words = rng.choices(vocabulary, weights=weights, k=rng.randint(40, 160))
        document = {"protocolSection": {
            "identificationModule": {"nctId": nct, "briefTitle": f"Synthetic {n:06d}: {chosen[0]} and {interventions[0]['name']}"},
            "statusModule": {"overallStatus": rng.choice(STATUSES)},
            "conditionsModule": {"conditions": chosen},
            "designModule": {"studyType": "INTERVENTIONAL", "phases": rng.choice(PHASES)},
            "armsInterventionsModule": {"interventions": interventions},
            "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* " + " ".join(words)},
        }}
        out.append((f"synthetic:{n}", document))
    return out


def fill(records: int, seed: int) -> None:
    from django.db import connection

    from mibg.core.similarity import facts
    from mibg.protocol.study_record import current_study_record
    from mibg.web.trials.models import RelatedTrial
    from mibg.web.trials.services import import_related

    have = RelatedTrial.objects.filter(nct_id__startswith="NCT9").count()
    if have >= records:
        print(f"bench_related_trials: {have:,} synthetic records already stored", flush=True)
        return
    target = facts(current_study_record().model_dump(mode="json"))
    started = time.perf_counter()
    documents = synthetic(records, seed, sorted(target.eligibility_terms))
    documents += [(str(p), json.loads(p.read_text(encoding="utf-8"))) for p in sorted((ROOT / "examples" / "trials").glob("*.json"))]
    made = time.perf_counter()
    import_related(documents, what="bench_related_trials")
    stored = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO trials_fts(trials_fts) VALUES ('optimize')")
    print(f"bench_related_trials: {len(documents):,} records made in {made - started:.1f} s, stored and indexed in "
          f"{stored - made:.1f} s ({len(documents) / (stored - made):,.0f} records/s)", flush=True)


def measure(queries: int, seed: int) -> int:
    from django.db import connection

    from mibg.web.trials.models import RelatedTrial
    from mibg.web.trials.search import similar, target_facts

    rng = random.Random(seed + 1)
    synthetic_ids = list(RelatedTrial.objects.filter(nct_id__startswith="NCT9").values_list("nct_id", flat=True)[:50000])
    others = [*rng.sample(synthetic_ids, 19), "NCT03126916"]
    kinds = {"NCT01370330": ["NCT01370330"], "imported records": others}
    total = RelatedTrial.objects.count()
    print(f"bench_related_trials: {connection.vendor}, {total:,} related records; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    failed = 0
    for kind, targets in kinds.items():
        for nct in targets[:3]:  # warm-up
            similar(target_facts(nct))
        times = []
        for n in range(queries):
            nct = targets[n % len(targets)]
            t0 = time.perf_counter()
            found = similar(target_facts(nct))
            times.append((time.perf_counter() - t0) * 1000)
            assert len(found) <= 10
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        verdict = "met" if p95 < GOAL_MS else "NOT MET"
        failed += p95 >= GOAL_MS
        print(f"  top-10 similar to {kind}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, slowest "
              f"{times[-1]:.1f} ms over {len(times)} queries (goal p95 < {GOAL_MS:.0f} ms: {verdict})", flush=True)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite", help="SQLite file (created when missing)")
    where.add_argument("--database-url", help="postgres://...")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    configure(args)
    fill(args.records, args.seed)
    return measure(args.queries, args.seed)


if __name__ == "__main__":
    sys.exit(main())
