"""Writing the audit trail. Services call these inside the same transaction as the change they record; a record
written outside any transaction (a view of a patient's record) joins a group commit and the call returns once it is
committed (:mod:`mibg.web.audit.group`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from mibg.web.audit import group
from mibg.web.audit.models import AuditEvent

SKIPPED = {"id", "version"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):  # a result's stored shape (JSONField): JSON text, keys in order
        return json.dumps(value, sort_keys=True)
    return str(value)


def field_values(obj: models.Model) -> dict[str, str]:
    """Every stored field of ``obj`` as text (foreign keys by id). A model's derived fields (``AUDIT_DERIVED``: a
    result computed again from the others, such as a lab result's stored grade) are left out: their changes are
    audited where they are derived again."""
    values = {}
    derived = getattr(obj, "AUDIT_DERIVED", ())
    for f in obj._meta.concrete_fields:
        if f.name in SKIPPED or f.name in derived:
            continue
        values[f.attname] = _text(getattr(obj, f.attname))
    return values


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(f"{prefix}[{i}]", v, out)
    else:
        out[prefix] = "" if value is None else str(value)


def _json_paths(text: str) -> dict[str, str]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {"": text}
    out: dict[str, str] = {}
    _flatten("", data, out)
    return out


def _diff(before: Mapping[str, str], after: Mapping[str, str]) -> Iterable[tuple[str, str, str]]:
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, ""), after.get(name, "")
        if old == new:
            continue
        if name.endswith("_json"):
            # A JSON document (the screening snapshot) is recorded path by path, readable by a monitor.
            old_paths, new_paths = _json_paths(old), _json_paths(new)
            for path in sorted(set(old_paths) | set(new_paths)):
                if old_paths.get(path, "") != new_paths.get(path, ""):
                    yield f"{name}:{path}", old_paths.get(path, ""), new_paths.get(path, "")
        else:
            yield name, old, new


def _event(user: Any, action: str, obj: models.Model, patient: Any, **values: str) -> AuditEvent:
    return AuditEvent(
        user=user if getattr(user, "pk", None) else None,
        username=getattr(user, "username", "") or "system",
        action=action,
        model=obj._meta.label,
        object_id=str(obj.pk or ""),
        object_repr=str(obj)[:200],
        patient=patient,
        **values,
    )


def log_changes(user: Any, action: str, obj: models.Model, patient: Any, before: Mapping[str, str] | None = None,
                note: str = "") -> None:
    """Record a create (``before`` None), an update or a delete (after: nothing) field by field."""
    after = {} if action == AuditEvent.DELETE else field_values(obj)
    rows = [_event(user, action, obj, patient, field=name, old_value=old, new_value=new, note=note)
            for name, old, new in _diff(before or {}, after)]
    if not rows:
        rows = [_event(user, action, obj, patient, note=note or "no field changed")]
    group.write(rows)


def log_event(user: Any, action: str, obj: models.Model, patient: Any, *, field: str = "", old: str = "", new: str = "",
              note: str = "") -> None:
    """One record: a signature, a verification, an override, a step, a view."""
    group.write([_event(user, action, obj, patient, field=field, old_value=old, new_value=new, note=note)])


def log_view(user: Any, patient: Any, what: str) -> None:
    """Viewing a patient's record is recorded too."""
    group.write([_event(user, AuditEvent.VIEW, patient, patient, note=what)])


def log_download(user: Any, obj: Any, patient: Any, what: str, data: bytes) -> None:
    """Record a download: what, how many bytes and the SHA-256 of exactly what was handed out."""
    digest = hashlib.sha256(data).hexdigest()
    log_event(user, AuditEvent.EXPORT, obj, patient, note=f"{what} downloaded ({len(data)} bytes, SHA-256 {digest})")
