"""Form pieces shared by every page: exact decimals, time-zone-aware times, tri-state yes/no."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.utils.functional import (
        _StrOrPromise as Text,  # a label or help text: plain or marked for translation
    )


class DateTimeLocalInput(forms.DateTimeInput):
    """``<input type="datetime-local">`` in the clinic's time zone; seconds are kept when there are any."""

    input_type = "datetime-local"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, datetime):
            moment = timezone.localtime(value) if timezone.is_aware(value) else value
            return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")
        formatted: str | None = super().format_value(value)
        return formatted


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value: Any) -> str | None:
        return value.isoformat() if hasattr(value, "isoformat") else super().format_value(value)


class UnitDecimalField(forms.DecimalField):
    """A decimal field that names its unit (shown beside the input)."""

    unit: str = ""


def decimal_field(label: Text, *, required: bool = False, max_digits: int | None = None, decimal_places: int | None = None,
                  unit: str = "", help_text: Text = "") -> UnitDecimalField:
    """A decimal typed as text, kept exactly as typed (no browser rounding of a number input)."""
    field = UnitDecimalField(label=label, required=required, max_digits=max_digits, decimal_places=decimal_places,
                               help_text=help_text, widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    field.unit = unit
    return field


def set_choices(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    """Give the form's choice field ``name`` the choices of this record (e.g. the course's criteria)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    field.choices = choices


def set_unit(form: forms.Form, name: str, unit: str) -> None:
    """Name the unit of the form's decimal field ``name`` (one that follows the record, e.g. a preparation's)."""
    field = form.fields[name]
    if not isinstance(field, UnitDecimalField):
        raise TypeError(f"{name} is not a decimal field with a unit")
    field.unit = unit


#: Dates and times are read in ISO 8601 only (what the browser's date and datetime-local inputs send).
#: Django's defaults also read "03/04/2026" as 4 March (US order): in a clinic that writes 3 April the same
#: text would be a different day, so a slashed date is refused rather than guessed.
DATE_FORMATS = ["%Y-%m-%d"]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]


def _no_nul(value: Any) -> Any:
    # Django's CharField refuses NUL characters; its date fields would otherwise parse around them.
    if isinstance(value, str) and "\x00" in value:
        raise forms.ValidationError(_("Null characters are not allowed."), code="null_characters_not_allowed")
    return value


class IsoDateTimeField(forms.DateTimeField):
    def to_python(self, value: Any) -> Any:
        return super().to_python(_no_nul(value))


class IsoDateField(forms.DateField):
    def to_python(self, value: Any) -> Any:
        return super().to_python(_no_nul(value))


def _zone_words() -> str:
    """The site zone as the clinic reads it on a clock: ``site time, PST/PDT`` (winter and summer abbreviations);
    the help text is built once, so it names both rather than whichever applied when the server started."""
    from datetime import datetime

    zone = timezone.get_current_timezone()
    names = []
    for month in (1, 7):
        name = datetime(2026, month, 15, 12, tzinfo=zone).tzname() or timezone.get_current_timezone_name()
        if name not in names:
            names.append(name)
    return "site time, " + "/".join(names)


def datetime_field(label: Text, *, required: bool = False, help_text: Text = "") -> forms.DateTimeField:
    return IsoDateTimeField(label=label, required=required, widget=DateTimeLocalInput(attrs={"step": "1"}),
                            input_formats=DATETIME_FORMATS,
                            help_text=(help_text + " " if help_text else "") + f"({_zone_words()})")


def date_field(label: Text, *, required: bool = False, help_text: Text = "") -> forms.DateField:
    return IsoDateField(label=label, required=required, widget=DateInput(), input_formats=DATE_FORMATS, help_text=help_text)


BOOL3 = [("", "—"), ("yes", "yes"), ("no", "no")]


def bool3_field(label: Text) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, required=False, choices=BOOL3, empty_value=None,
                                  coerce=lambda raw: {"yes": True, "no": False}[raw])


class SafeForm(forms.Form):
    """Carries the one-time token and the version of the record the form was opened on."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False)
