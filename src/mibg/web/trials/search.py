"""The most similar related trials (issue 13 §5), found with the database's own full-text engine and explained by
mibg.core.similarity.

Candidates come from the engine in two passes: first the specific phrases (each condition's whole name, the specific
words of the interventions' names) in the small ``facets`` field (conditions and interventions only), then, when
those give fewer than ``pool`` candidates, the eligibility terms in the whole ``body``. Each candidate is then scored and explained
by mibg.core.similarity; the engine's own rank (SQLite bm25, PostgreSQL ts_rank_cd) breaks ties.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.db import connection
from django.utils.translation import gettext as _

from mibg.core.errors import InputError
from mibg.core.similarity import Similarity, TrialFacts, facts, rank
from mibg.web.trials.models import RelatedTrial

POOL = 100
GENERAL_TERMS = 12
_SAFE = re.compile(r"[a-z0-9]+")


def _phrases(texts: list[str]) -> list[list[str]]:
    """Each text as a phrase of search tokens (letters and digits only; hyphenated words split), no duplicates."""
    seen: dict[tuple[str, ...], None] = {}
    for text in texts:
        tokens = tuple(t for t in _SAFE.findall(text.lower()) if len(t) >= 2)
        if tokens:
            seen.setdefault(tokens, None)
    return [list(p) for p in seen]


def _candidates(phrases: list[list[str]], pool: int, field: str) -> list[tuple[int, float]]:
    """(record id, engine rank: higher is better) of the records whose ``field`` (``facets``: conditions and
    interventions; ``body``: everything) holds any of the phrases."""
    if not phrases:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            query = f"{{{field}}} : (" + " OR ".join('"' + " ".join(p) + '"' for p in phrases) + ")"
            cursor.execute("SELECT rowid, bm25(trials_fts) FROM trials_fts WHERE trials_fts MATCH %s "
                           "ORDER BY bm25(trials_fts) LIMIT %s", [query, pool])
            return [(int(pk), -float(score)) for pk, score in cursor.fetchall()]
        column = {"facets": "facets", "body": "search"}[field]
        query = " | ".join("(" + " <-> ".join(p) + ")" for p in phrases)
        cursor.execute(f"SELECT id, ts_rank_cd({column}, q) AS r FROM trials_relatedtrial, to_tsquery('english', %s) q "
                       f"WHERE {column} @@ q ORDER BY r DESC LIMIT %s", [query, pool])
        return [(int(pk), float(score)) for pk, score in cursor.fetchall()]


def similar(target: TrialFacts, limit: int = 10, pool: int = POOL) -> list[Similarity]:
    specific, general = target.search_words()
    found = dict(_candidates(_phrases(specific), pool, "facets"))
    if len(found) < pool:
        for pk, score in _candidates(_phrases(general[:GENERAL_TERMS]), pool - len(found), "body"):
            found.setdefault(pk, score - 1000.0)  # after every record found by a specific phrase
    rows = RelatedTrial.objects.filter(id__in=list(found)).values_list("id", *RelatedTrial.FACT_FIELDS)
    return rank(target, ((RelatedTrial.facts_of(*row[1:]), found[row[0]]) for row in rows), limit)


@lru_cache(maxsize=4)
def _study_record_facts(path: str, modified: float) -> TrialFacts:
    from mibg.protocol.study_record import load_study_record

    return facts(load_study_record(path).model_dump(mode="json"))


def target_facts(nct_id: str) -> TrialFacts:
    """The facts of the protocol's own record (the imported study record, else the bundled one), or of an imported
    related record."""
    from mibg.protocol import load_protocol
    from mibg.protocol.study_record import BUNDLED_RECORD, stored_record_path

    wanted = nct_id.strip().upper()
    if wanted == load_protocol().protocol_id:
        path = stored_record_path()
        source = path if path.exists() else BUNDLED_RECORD
        return _study_record_facts(str(source), source.stat().st_mtime)  # read once per version of the file
    trial = RelatedTrial.objects.filter(nct_id=wanted).first()
    if trial is None:
        raise InputError("nct_id", _("%(value)s is neither this protocol's record nor an imported related record "
                                     "('mibg protocol import' stores related records)")
                                   % {"value": wanted or _("(empty)")})
    return trial.facts
