"""Storing related trials (issue 13 §5): every record validated first, then all stored in one transaction with
their full-text index rows and one audit record; nothing is stored when one record is bad."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from mibg.core.similarity import TrialFacts, facts
from mibg.web.audit.models import AuditEvent
from mibg.web.trials.models import RelatedTrial

BATCH = 1000


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def fields_of(document: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The stored fields of one (already validated) record."""
    f: TrialFacts = facts(document)
    section = document["protocolSection"]
    body = " ".join([f.title, *sorted(f.conditions), *sorted(f.interventions), *sorted(f.eligibility_terms)])
    return {
        "nct_id": f.nct_id, "title": f.title[:500],
        "overall_status": str((section.get("statusModule") or {}).get("overallStatus") or "")[:40],
        "phases": " ".join(sorted(f.phases))[:200],
        "conditions": "\n".join(sorted(f.conditions)), "interventions": "\n".join(sorted(f.interventions)),
        "intervention_words": " ".join(sorted(f.intervention_words)),
        "eligibility_terms": " ".join(sorted(f.eligibility_terms)), "body": body,
        "document": json.dumps(document, ensure_ascii=False, sort_keys=True), "source": source[:300],
    }


def _facets(row: Mapping[str, Any]) -> str:
    """The conditions and interventions (what PostgreSQL's generated ``facets`` column holds too)."""
    return " ".join((row["conditions"], row["interventions"], row["intervention_words"]))


def _index(rows: Sequence[tuple[int, str, str]]) -> None:
    """SQLite: (re)write the FTS5 rows of these records. PostgreSQL's generated column needs nothing."""
    if connection.vendor != "sqlite" or not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany("DELETE FROM trials_fts WHERE rowid = %s", [(row[0],) for row in rows])
        cursor.executemany("INSERT INTO trials_fts(rowid, facets, body) VALUES (%s, %s, %s)", list(rows))


def import_related(documents: Sequence[tuple[str, Mapping[str, Any]]], who: str = "system", what: str = "") -> ImportResult:
    """Store ``(source, document)`` pairs as related records (a record already stored is replaced)."""
    result = ImportResult()
    with transaction.atomic():
        for start in range(0, len(documents), BATCH):
            chunk = [fields_of(doc, source) for source, doc in documents[start:start + BATCH]]
            by_id = {row["nct_id"]: row for row in chunk}  # a record twice in one file: the last one counts
            existing = dict(RelatedTrial.objects.filter(nct_id__in=list(by_id)).values_list("nct_id", "id"))
            now = timezone.now()
            new = [RelatedTrial(imported_at=now, **row) for nct, row in by_id.items() if nct not in existing]
            RelatedTrial.objects.bulk_create(new, batch_size=BATCH)
            changed = []
            for nct, pk in existing.items():
                changed.append(RelatedTrial(id=pk, imported_at=now, **by_id[nct]))
            if changed:
                RelatedTrial.objects.bulk_update(changed, [k for k in chunk[0] if k != "nct_id"] + ["imported_at"],
                                                 batch_size=BATCH)
            ids = dict(RelatedTrial.objects.filter(nct_id__in=list(by_id)).values_list("nct_id", "id"))
            _index([(ids[nct], _facets(row), row["body"]) for nct, row in by_id.items()])
            result.created += [t.nct_id for t in new]
            result.updated += list(existing)
        AuditEvent(username=who, action=AuditEvent.CREATE, model=RelatedTrial._meta.label, object_repr="related trials",
                   note=(f"related trial records imported{(' from ' + what) if what else ''}: "
                         f"{len(result.created)} new, {len(result.updated)} replaced")[:2000]).save()
    return result
