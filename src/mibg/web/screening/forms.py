"""The screening form: built from :mod:`spec`, read into a PatientSnapshot, errors put back on the inputs."""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from mibg.core.clinical_rows import is_clinical
from mibg.core.labs import LABS
from mibg.core.snapshot import PatientSnapshot
from mibg.web.forms import bool3_field, date_field, datetime_field, decimal_field
from mibg.web.screening.spec import GROUPS, SECTIONS, Group, Input

MAX_ROWS = 40


def _field(spec: Input) -> forms.Field:
    if spec.kind == "decimal":
        return decimal_field(spec.label, unit=spec.unit, help_text=spec.help)
    if spec.kind == "int":
        return forms.IntegerField(label=spec.label, required=False, help_text=spec.help)
    if spec.kind == "date":
        return date_field(spec.label, help_text=spec.help)
    if spec.kind == "datetime":
        return datetime_field(spec.label, help_text=spec.help)
    if spec.kind == "bool3":
        return bool3_field(spec.label)
    if spec.kind == "check":
        return forms.BooleanField(label=spec.label, required=False)
    if spec.kind == "choice":
        return forms.ChoiceField(label=spec.label, required=False, choices=[("", "—"), *spec.choices], help_text=spec.help)
    return forms.CharField(label=spec.label, required=False, help_text=spec.help)


def _key(group: Group, name: str, row: int | None = None) -> str:
    parts = [p for p in (group.path, None if row is None else str(row), name) if p]
    return ".".join(parts)


def _rows_key(group: Group) -> str:
    return f"{group.path}.rows"


def _recorded_key(group: Group) -> str:
    return f"{group.path}.recorded"


def with_more_rows(post: Any) -> Any:
    """The posted data with three more rows in the table whose "More rows" button was pressed."""
    data = post.copy()
    path = data.pop("add_rows", [""])[0]
    if any(g.repeated and g.path == path for g in GROUPS):
        key = f"{path}.rows"
        try:
            rows = int(data.get(key) or 0)
        except ValueError:
            rows = 0
        data[key] = str(min(MAX_ROWS, rows + 3))
    return data


def _get(data: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, (list, tuple)) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


class ScreeningForm(forms.Form):
    """One input per snapshot value; repeated groups have their existing rows plus blank ones."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, snapshot: dict[str, Any] | None = None, groups: tuple[Group, ...] = GROUPS,
                 **kwargs: Any) -> None:
        """``snapshot``: the JSON-mode data to prefill from (on GET); rows are sized from it or from the POST.
        ``groups``: the groups the form asks (one section's, to save that section on its own; all by default)."""
        super().__init__(*args, **kwargs)
        snapshot = snapshot or {}
        self.groups = groups
        self.row_counts: dict[str, int] = {}
        for group in groups:
            if group.repeated:
                existing = len(_get(snapshot, group.path) or [])
                rows = self._posted_rows(group) if self.is_bound else existing + group.blank_rows
                self.row_counts[group.path] = rows
                self.fields[_rows_key(group)] = forms.IntegerField(widget=forms.HiddenInput, initial=rows)
                if group.none_means_unrecorded:
                    self.fields[_recorded_key(group)] = forms.BooleanField(
                        required=False, label=_("Recorded: every such therapy is listed (no rows means none)"),
                        initial=_get(snapshot, group.path) is not None)
                for row in range(rows):
                    for spec in group.inputs:
                        self.fields[_key(group, spec.name, row)] = _field(spec)
            else:
                for spec in group.inputs:
                    self.fields[_key(group, spec.name)] = _field(spec)
        if not self.is_bound:
            self.initial.update(_initial(snapshot, groups))
            if not _get(snapshot, "labs") and "labs" in self.row_counts:
                # An empty lab table starts with one row per test of the protocol, in its canonical unit (the
                # thyroid and blood-pressure rows of follow-up are not screening tests: mibg.core.clinical_rows).
                screening_tests = {k: d for k, d in LABS.items() if not is_clinical(k)}
                self._size_rows("labs", len(screening_tests) + 2)
                for row, (test, definition) in enumerate(screening_tests.items()):
                    self.initial[f"labs.{row}.test"] = test
                    self.initial[f"labs.{row}.unit"] = definition.display_unit

    def _size_rows(self, path: str, rows: int) -> None:
        group = next(g for g in self.groups if g.path == path)
        for row in range(self.row_counts[path], rows):
            for spec in group.inputs:
                self.fields[_key(group, spec.name, row)] = _field(spec)
        self.row_counts[path] = rows
        self.fields[_rows_key(group)].initial = rows

    def _posted_rows(self, group: Group) -> int:
        try:
            rows = int(self.data.get(_rows_key(group), "0"))
        except ValueError:
            rows = 0
        return max(0, min(MAX_ROWS, rows))

    # ---- layout for the template -------------------------------------------------------------------

    def sections(self) -> list[dict[str, Any]]:
        """The groups as the template lays them out (a card each), in the order of the form's sections."""
        out = []
        for group in self.groups:
            section: dict[str, Any] = {"group": group, "anchor": group.path or group.inputs[0].name, "rows": [], "fields": []}
            if group.repeated:
                section["rows_field"] = self[_rows_key(group)]
                if group.none_means_unrecorded:
                    section["recorded"] = self[_recorded_key(group)]
                for row in range(self.row_counts[group.path]):
                    fields = [self[_key(group, spec.name, row)] for spec in group.inputs]
                    anchor = f"{group.path}.{row}"
                    if group.path == "labs":
                        test = fields[0].value()
                        if test and not any(r.get("lab_anchor") == f"labs.{test}" for r in section["rows"]):
                            anchor = f"labs.{test}"
                    section["rows"].append({"anchor": anchor, "fields": fields, "lab_anchor": anchor})
            else:
                section["fields"] = [self[_key(group, spec.name)] for spec in group.inputs]
            out.append(section)
        return out

    def parts(self) -> list[dict[str, Any]]:
        """The form's sections (spec.SECTIONS) that it asks, each with its groups laid out (:meth:`sections`)."""
        laid = self.sections()
        # A section's own form says its errors that concern no input in the section (the whole form, at the top).
        errors = list(self.non_field_errors()) if self.is_bound and self.groups != GROUPS else []
        return [{"section": section, "groups": [g for g in laid if g["group"].section == section.key], "errors": errors}
                for section in SECTIONS if any(g["group"].section == section.key for g in laid)]

    # ---- reading ------------------------------------------------------------------------------------

    def snapshot_data(self, fixed: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
        """The snapshot as plain data from the cleaned form; empty objects and blank rows are left out.

        ``base``: the stored snapshot data a section's save is merged into: the values of the form's groups replace
        (or clear) theirs, everything else is kept as stored."""
        data: dict[str, Any] = {**copy.deepcopy(base or {}), **fixed}
        for group in self.groups if base is not None else ():
            _clear(data, group)
        cd = self.cleaned_data
        self._row_map: dict[str, list[int]] = {}
        for group in self.groups:
            if group.repeated:
                rows, kept = [], []
                for row in range(self.row_counts[group.path]):
                    values = {spec.name: _plain(cd.get(_key(group, spec.name, row)), spec) for spec in group.inputs}
                    if _filled(values, group):
                        rows.append({k: v for k, v in values.items() if v is not None})
                        kept.append(row)
                self._row_map[group.path] = kept
                unrecorded = group.none_means_unrecorded and not rows and not cd.get(_recorded_key(group))
                if rows or not (unrecorded or "." in group.path):
                    _set(data, group.path, rows)
                continue
            values = {spec.name: _plain(cd.get(_key(group, spec.name)), spec) for spec in group.inputs}
            present = {k: v for k, v in values.items() if v is not None} if _filled(values, group) else {}
            if not group.path:
                data.update(present)
            elif present:
                existing = _get(data, group.path) or {}
                _set(data, group.path, {**existing, **present})
        return data

    def to_snapshot(self, fixed: dict[str, Any], base: dict[str, Any] | None = None) -> PatientSnapshot | None:
        """The validated snapshot, or None with the model's errors put on the inputs they concern (``base``: a
        section's save, :meth:`snapshot_data`)."""
        data = self.snapshot_data(fixed, base)
        try:
            return PatientSnapshot.model_validate(data)
        except ValidationError as error:
            for item in error.errors():
                self._place_error(item)
            return None

    def _place_error(self, item: ErrorDetails) -> None:
        loc = [str(p) for p in item["loc"]]
        message = item["msg"].removeprefix("Value error, ")
        # List items are numbered among the rows kept (blank rows are skipped): map back to the form's row.
        for group_path, kept in getattr(self, "_row_map", {}).items():
            depth = len(group_path.split("."))
            if loc[:depth] == group_path.split(".") and len(loc) > depth and loc[depth].isdigit():
                index = int(loc[depth])
                if index < len(kept):
                    loc[depth] = str(kept[index])
        path = ".".join(loc)
        while path and path not in self.fields:
            inside = [name for name in self.fields if name.startswith(path + ".") and not name.endswith((".rows", ".recorded"))]
            if inside:
                # An error about a whole row goes on the input it names ("... not an accepted unit ..."), else the first.
                named = [name for name in inside if re.search(rf"\b{re.escape(name.rsplit('.', 1)[-1])}\b", message)]
                path = (named or inside)[0]
                break
            path = path.rpartition(".")[0]
        if path:
            self.add_error(path, message)
        else:
            self.add_error(None, f"{'.'.join(loc) or 'snapshot'}: {message}")


def _clear(data: dict[str, Any], group: Group) -> None:
    """Remove what ``group`` holds from the snapshot ``data`` (its inputs' values, or its list), in place."""
    if group.repeated:
        *parents, last = group.path.split(".")
        holder = _get(data, ".".join(parents)) if parents else data
        if isinstance(holder, dict):
            holder.pop(last, None)
            if parents and not holder:  # an object left empty is "not recorded", as the whole form leaves it
                _clear_path(data, ".".join(parents))
        return
    holder = _get(data, group.path) if group.path else data
    if not isinstance(holder, dict):
        return
    for spec in group.inputs:
        holder.pop(spec.name, None)
    if group.path and not holder:
        _clear_path(data, group.path)


def _clear_path(data: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    outer = _get(data, ".".join(parents)) if parents else data
    if isinstance(outer, dict):
        outer.pop(last, None)


def _filled(values: dict[str, Any], group: Group) -> bool:
    """Whether a person entered anything: an unticked checkbox, or a lab row's printed test and unit, is not."""
    specs = {spec.name: spec for spec in group.inputs}
    return any(v is not None and not specs[k].label_only and not (specs[k].kind == "check" and v is False)
               for k, v in values.items())


def _plain(value: Any, spec: Input) -> Any:
    """Form value -> JSON-ready snapshot value (decimals stay exact as text; times keep their offset)."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if spec.kind == "check":
        return bool(value)
    return value


def _initial(snapshot: dict[str, Any], groups: tuple[Group, ...] = GROUPS) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for group in groups:
        if group.repeated:
            for row, item in enumerate(_get(snapshot, group.path) or []):
                for spec in group.inputs:
                    initial[_key(group, spec.name, row)] = _initial_value(item.get(spec.name), spec)
        else:
            source = snapshot if not group.path else (_get(snapshot, group.path) or {})
            for spec in group.inputs:
                initial[_key(group, spec.name)] = _initial_value(source.get(spec.name), spec)
    return initial


def _initial_value(value: Any, spec: Input) -> Any:
    if value is None:
        return None
    if spec.kind == "bool3":
        return "yes" if value else "no"
    if spec.kind == "datetime" and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
