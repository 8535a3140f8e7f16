"""Demo readings and the signed release, made through the services (mibg.web.demo uses these).

The readings are constructed, not measured: the first, before the first void, is 0.15 mR/h per mCi at 1 m (a
child's self-shielding under the 0.22 mR/h per mCi of a point source, clinical-reference §2.2); they then fall
on an exponential to the last reading, 1.6 mR/h an hour before release, with a few per cent of meter scatter.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from mibg.web.courses.models import Course
from mibg.web.radiation import services

METER = "Ludlum 9-3 #4471"
FIRST_PER_MCI = Decimal("0.15")  # mR/h at 1 m per mCi administered
LAST_MR_PER_H = Decimal("1.6")
SCATTER = (Decimal("1.00"), Decimal("1.03"), Decimal("0.97"), Decimal("1.02"), Decimal("0.98"), Decimal("1.01"))
GIVEN_TO = "the mother (legal guardian)"


def _course(course: Course) -> Course:
    return Course.objects.select_related("patient").get(pk=course.pk)


def _times(start: datetime, until: datetime) -> list[datetime]:
    """2 h after the start of the infusion (before the first void), then every 24 h until ``until``."""
    times, hours = [], 2
    while start + timedelta(hours=hours) <= until:
        times.append(start + timedelta(hours=hours))
        hours = 24 if hours == 2 else hours + 24
    return times


def take_readings(physicist: Any, course: Course, times: list[datetime], last_at: datetime) -> None:
    """Readings at ``times`` on the demo curve, which reaches :data:`LAST_MR_PER_H` at ``last_at``."""
    administration = services.administration_of(course)
    assert administration is not None
    start = administration.started_at
    first = (administration.administered_mci * FIRST_PER_MCI).quantize(Decimal("0.1"))
    span = services.hours_after(start + timedelta(hours=2), last_at)
    ratio = float(LAST_MR_PER_H / first)
    for i, when in enumerate(times):
        fraction = float(services.hours_after(start + timedelta(hours=2), when) / span)
        value = LAST_MR_PER_H if when == last_at else (
            Decimal(str(float(first) * ratio**fraction)) * SCATTER[i % len(SCATTER)]).quantize(Decimal("0.1"))
        services.record_reading(physicist, _course(course), services.ReadingInput(
            when, value, None, i == 0, METER, timezone.localdate(start) + timedelta(days=200),
            physicist.signature_name()))


def readings_so_far(physicist: Any, course: Course) -> None:
    """An in-patient's readings up to now, on a curve that would reach 1.6 mR/h four days after the infusion."""
    administration = services.administration_of(course)
    assert administration is not None
    start = administration.started_at
    take_readings(physicist, course, _times(start, timezone.now()), start + timedelta(days=4))


def release(physicist: Any, course: Course, released_at: datetime) -> None:
    """Daily readings, the last one 1.6 mR/h an hour before ``released_at``, and the physicist's signed release."""
    administration = services.administration_of(course)
    assert administration is not None
    last_at = released_at - timedelta(hours=1)
    times = [t for t in _times(administration.started_at, last_at) if last_at - t >= timedelta(hours=6)] + [last_at]
    take_readings(physicist, course, times, last_at)
    fresh = _course(course)
    basis = services.compute_dosimetry(fresh).fingerprint
    services.release(physicist, physicist.signature_name(), fresh, fresh.version,
                     services.ReleaseInput(released_at, GIVEN_TO, basis))
