"""Related trials (issue 13 §5): other ClinicalTrials.gov API v2 records, imported with `mibg protocol import`.

Each record keeps the document as imported and the facts similarity compares (mibg.core.similarity), computed
once at import. The full-text index is the database's own: an SQLite FTS5 table ``trials_fts`` (rowid = the
record's id) or, on PostgreSQL, a generated ``search`` tsvector column with a GIN index (migration 0002). Neither
is a Django field; mibg.web.trials.search queries them.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from mibg.core.similarity import TrialFacts


class RelatedTrial(models.Model):
    nct_id = models.CharField("NCT number", max_length=11, unique=True)
    title = models.CharField(max_length=500)
    overall_status = models.CharField(max_length=40)
    phases = models.CharField(max_length=200, blank=True)  # space-separated API v2 phase codes
    conditions = models.TextField(blank=True)  # normalised names, one a line
    interventions = models.TextField(blank=True)  # normalised names, one a line
    intervention_words = models.TextField(blank=True)  # space-separated
    eligibility_terms = models.TextField(blank=True)  # space-separated
    body = models.TextField()  # what the full-text index holds
    document = models.TextField()  # the record as imported (JSON)
    source = models.CharField(max_length=300, blank=True)  # file (and line) it came from
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["nct_id"]

    def __str__(self) -> str:
        return f"{self.nct_id}: {self.title[:80]}"

    #: The fields :meth:`facts_of` reads, in order (a ``values_list`` of them skips building model instances).
    FACT_FIELDS = ("nct_id", "title", "conditions", "interventions", "intervention_words", "eligibility_terms", "phases")

    @staticmethod
    def facts_of(nct_id: str, title: str, conditions: str, interventions: str, intervention_words: str,
                 eligibility_terms: str, phases: str) -> TrialFacts:
        return TrialFacts(
            nct_id=nct_id, title=title,
            conditions=frozenset(line for line in conditions.splitlines() if line),
            interventions=frozenset(line for line in interventions.splitlines() if line),
            intervention_words=frozenset(intervention_words.split()),
            eligibility_terms=frozenset(eligibility_terms.split()),
            phases=frozenset(phases.split()))

    @property
    def facts(self) -> TrialFacts:
        return self.facts_of(*(getattr(self, name) for name in self.FACT_FIELDS))
