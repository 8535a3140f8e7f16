"""Corrections of recorded steps (decisions.md A37).

A recorded time or value is never edited in place. A correction is a new entry that supersedes the old one,
with the reason, the user and the time (the new entry's ``recorded_by``/``recorded_at``); the old entry stays,
marked superseded, visible on the course page and in the audit trail. A signed record that the correction
changes needs signing again: the new entry starts without the old one's signature (the authorised user's
assay override, the review of a possible medical event).

:class:`Superseding` gives a model the link and the mark; its default manager shows the current entries only,
so every query that asks for "the" administration of a course keeps asking the same way, and ``history``
holds every entry.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_M = TypeVar("_M", bound=models.Model)


class CurrentManager(models.Manager[_M]):
    """Entries not superseded by a correction."""

    def get_queryset(self) -> models.QuerySet[_M]:
        return super().get_queryset().filter(superseded_at__isnull=True)


class Superseding(models.Model):
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by", help_text=gettext_lazy("the entry this one corrects (A37)"))
    correction_reason = models.TextField(blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = CurrentManager()
    history = models.Manager()

    class Meta:
        abstract = True

    @property
    def superseded(self) -> bool:
        return self.superseded_at is not None


class Corrects(models.Model):
    """For records that are voided rather than superseded (readings, labs): the link from the correction."""

    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by", help_text=gettext_lazy("the entry this one corrects (A37)"))
    correction_reason = models.TextField(blank=True)

    class Meta:
        abstract = True


def need_reason(reason: str) -> str:
    """The reason of a correction, trimmed; InputError naming ``reason`` when there is none."""
    from mibg.core.errors import InputError

    text = reason.strip()
    if not text:
        raise InputError("reason", _("give the reason for the correction (decisions.md A37)"))
    return text


def supersede(user: Any, old: Any, new: Any, reason: str) -> None:
    """Mark ``old`` superseded by ``new`` (its only change), in the audit trail (A37). Inside the transaction
    that creates ``new``."""
    from django.utils import timezone

    from mibg.web.audit.trail import field_values, log_changes
    from mibg.web.errors import Refused

    before = field_values(old)
    if type(old).history.filter(pk=old.pk, superseded_at__isnull=True).update(superseded_at=timezone.now()) != 1:
        raise Refused(_("This entry was corrected by someone else meanwhile: read the current entry and correct that."))
    old.refresh_from_db()
    log_changes(user, "void", old, old.course.patient, before, note=f"superseded by a correction: {reason}")
