"""Display helpers of the Charging Stations pages: the translated label of a live value, long
identifiers that may wrap between their words, and form fields whose choices need room.

The labels are looked up when the template renders, so a WebSocket consumer that renders under
``translation.override`` gets them in the page's language."""

from __future__ import annotations

import re

from django import forms, template
from django.db import models
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from chargepoints import choices

register = template.Library()

# A select in a configuration column (at least 280 px) shows about this many characters in full.
WIDE_CHOICE_CHARS = 26

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=_)")


def _choices_class(name: str) -> type[models.Choices]:
    cls = getattr(choices, name, None)
    if not (isinstance(cls, type) and issubclass(cls, models.Choices)):
        raise template.TemplateSyntaxError(f"chargepoints.choices has no choice list {name!r}")
    return cls


@register.filter
def choice_label(value: object, name: str) -> str:
    """``{{ live.iec_state|choice_label:"IecState" }}``: the translated label of a value of the
    choice list ``name`` in chargepoints/choices.py; a value the list does not know stays as it is,
    nothing (``""``/``None``) stays empty."""
    cls = _choices_class(name)
    if value is None or value == "":
        return ""
    try:
        return str(cls(value).label)
    except ValueError:
        return str(value)


@register.filter
def breakable(value: object) -> SafeString:
    """A protocol identifier ("OverCurrentFailure", "SEQUENCE_TIMEOUT") that may wrap between its
    words, never inside one."""
    parts = _CAMEL_BOUNDARY.split(str(value))
    return mark_safe("<wbr>".join(str(conditional_escape(part)) for part in parts))


@register.filter
def wide_choices(field: forms.BoundField) -> bool:
    """A select whose longest option would be cut off in one column of a form grid."""
    widget = field.field.widget
    if not isinstance(widget, forms.Select) or isinstance(widget, forms.SelectMultiple):
        return False
    return any(len(str(label)) > WIDE_CHOICE_CHARS for _value, label in getattr(field.field, "choices", ()))
